#!/usr/bin/env bats
# Batches over corpora: folders walked with -R into a mirrored tree, --skip-existing to finish a
# stopped batch, the work queue (each input converted only when a worker takes it), the summary
# line and the progress line; with the real FFmpeg, Codec2 and model classes.

# shellcheck disable=SC2154 # bats' run sets status, stderr and stderr_lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  # A corpus tree: two folders, a file at the top, a text file and a hidden file among them.
  export CORPUS=$BATS_FILE_TMPDIR/corpus
  mkdir -p "$CORPUS/talks/day 1" "$CORPUS/memos"
  cp "$REF/mono24k.wav" "$CORPUS/talks/day 1/opening.wav"
  cp "$REF/stereo44k.mp3" "$CORPUS/talks/closing.mp3"
  cp "$REF/mono8k.wav" "$CORPUS/memos/call.wav"
  cp "$REF/mono48k.flac" "$CORPUS/intro.flac"
  echo 'speaker notes' >"$CORPUS/memos/notes.txt"
  cp "$REF/mono8k.wav" "$CORPUS/memos/.call.wav.partial"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# tree DIR: the files under DIR, relative and sorted.
tree() { (cd "$1" && find . -type f | LC_ALL=C sort); }

@test "-R mirrors a folder's tree under -o DIR and skips what is not audio, saying so" {
  run -0 --separate-stderr compress_audio.sh -R -c c2 -o out/corpus "$CORPUS"
  refute_output
  assert_equal "$(tree out/corpus)" \
    $'./intro.c2\n./memos/call.c2\n./talks/closing.c2\n./talks/day 1/opening.c2'
  assert_equal "${#stderr_lines[@]}" 1
  assert_batch_summary "${stderr_lines[0]}" compress_audio.sh 5 4 1 0
  [[ ${stderr_lines[0]} == *'1 skipped (1 not audio)'* ]]
  # Each output is the single-file form's.
  compress_audio.sh "$CORPUS/talks/day 1/opening.wav" single.c2
  assert_files_equal 'out/corpus/talks/day 1/opening.c2' single.c2
}

@test "a named input that is not audio still fails a -R batch (exit 8)" {
  echo 'not audio' >readme.txt
  run -8 --separate-stderr compress_audio.sh -R -c c2 -o out "$CORPUS/memos" readme.txt
  assert_equal "${stderr_lines[0]}" 'compress_audio.sh: readme.txt: not a media file FFmpeg can read'
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 3 1 1 1
}

@test "decompress -R restores a tree of containers and skips files that are not containers" {
  compress_audio.sh -R -c snac -o snac "$CORPUS" 2>/dev/null
  cp "$CORPUS/memos/notes.txt" snac/memos/
  run -0 --separate-stderr decompress_audio.sh -R -j 2 -o restored snac
  assert_equal "$(tree restored)" \
    $'./intro.wav\n./memos/call.wav\n./talks/closing.wav\n./talks/day 1/opening.wav'
  assert_equal "$(rate_of restored/intro.wav)" 48000
  [[ ${stderr_lines[0]} == *'1 skipped (1 not a container)'* ]]
  assert_batch_summary "${stderr_lines[0]}" decompress_audio.sh 5 4 1 0
}

@test "--skip-existing finishes a stopped batch: what was written stays, the rest is done (exit 0)" {
  run -0 compress_audio.sh -c snac -o out "$REF/mono24k.wav" "$REF/mono48k.flac" \
    "$REF/stereo44k.mp3"
  cp out/mono48k.snac whole.snac
  rm out/mono24k.snac out/stereo44k.snac
  printf 'stale' >out/mono48k.snac
  run -0 --separate-stderr compress_audio.sh --skip-existing -c snac -o out "$REF/mono24k.wav" \
    "$REF/mono48k.flac" "$REF/stereo44k.mp3"
  assert_batch_summary "${stderr_lines[0]}" compress_audio.sh 3 2 1 0
  [[ ${stderr_lines[0]} == *'1 skipped (1 already written)'* ]]
  assert_equal "$(cat out/mono48k.snac)" stale
  assert_equal "$(LC_ALL=C ls out)" $'mono24k.snac\nmono48k.snac\nstereo44k.snac'
}

@test "--skip-existing with -f, or without a batch, is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -f --skip-existing -c c2 -o out "$REF/mono8k.wav"
  assert_equal "$stderr" 'compress_audio.sh: --force and --skip-existing contradict each other'
  run -2 --separate-stderr decompress_audio.sh --skip-existing in.snac out.wav
  assert_equal "$stderr" \
    "decompress_audio.sh: -R and --skip-existing go with a batch's -o DIR"
}

# An FFmpeg that records, each time it runs, how many converted inputs the work files hold.
counting_ffmpeg() {
  mkdir -p bin
  cat >bin/ffmpeg <<STUB
#!/usr/bin/env bash
find "\$TMPDIR" -name in.f32 | wc -l >>"$PWD/converted.log"
exec ffmpeg "\$@"
STUB
  chmod +x bin/ffmpeg
}

@test "a batch converts each input when a worker takes it, so work files hold at most -j inputs" {
  local i most
  for i in 1 2 3 4 5 6; do cp "$REF/mono24k.wav" "clip$i.wav"; done
  counting_ffmpeg
  run -0 env FFMPEG="$PWD/bin/ffmpeg" compress_audio.sh -j 2 -c snac -o out clip?.wav
  assert_equal "$(wc -l <converted.log)" 6
  most=$(sort -n converted.log | tail -n 1)
  ((most <= 2)) || fail "$most converted inputs were waiting at once"
  assert_dir_empty "$TMPDIR"
}

@test "the summary counts the audio done and the speed against real time" {
  run -0 --separate-stderr compress_audio.sh -c opus -o out "$REF/mono24k.wav" \
    "$REF/mono48k.flac" "$REF/aac44k.m4a"
  [[ ${stderr_lines[0]} =~ ^compress_audio\.sh:\ 3\ files:\ 3\ done,\ 0\ skipped,\ 0\ failed\;\ 4\.0\ s\ of\ audio\ in\ [0-9.]+\ s,\ [0-9.]+x\ real\ time$ ]] ||
    fail "unexpected summary: ${stderr_lines[0]}"
}

@test "-q keeps a successful batch silent; a failing one still ends with its summary" {
  run -0 --separate-stderr compress_audio.sh -q -c c2 -o out "$REF/mono8k.wav"
  assert_equal "$stderr" ''
  run -8 --separate-stderr compress_audio.sh -q -c c2 -o out2 "$REF/mono8k.wav" missing.wav
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 2 1 0 1
}

@test "on a terminal a batch shows how many files are done and the time left" {
  mkdir -p bin
  printf '#!/usr/bin/env bash\nsleep 1.2\nexec ffmpeg "$@"\n' >bin/ffmpeg
  chmod +x bin/ffmpeg
  run -0 script -qec "env FFMPEG=$PWD/bin/ffmpeg compress_audio.sh -c c2 -o out \
    $REF/mono8k.wav $REF/mono24k.wav $REF/mono48k.flac" /dev/null
  assert_output --partial 'compress_audio.sh: 1 of 3 files, about '
  assert_output --partial ' left'
  assert_output --partial 'compress_audio.sh: 3 files: 3 done, 0 skipped, 0 failed; '
}

@test "a batch whose helper cannot start says why once and fails every file (exit 8)" {
  run -8 --separate-stderr env PYTHON_BIN=python-that-is-not-here compress_audio.sh -c snac \
    -o out "$REF/mono24k.wav" "$REF/mono48k.flac" "$REF/mono8k.wav"
  assert_equal "${#stderr_lines[@]}" 2
  assert_equal "${stderr_lines[0]}" \
    "compress_audio.sh: python-that-is-not-here not found; run 'make setup' or set PYTHON_BIN"
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 3 0 0 3
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "--codes -R exports a tree of containers as a tree of .npz" {
  compress_audio.sh -R -c snac -o snac "$CORPUS" 2>/dev/null
  run -0 --separate-stderr decompress_audio.sh --codes -R -j 2 -o codes snac
  assert_equal "$(tree codes)" \
    $'./intro.npz\n./memos/call.npz\n./talks/closing.npz\n./talks/day 1/opening.npz'
  assert_clean_batch decompress_audio.sh
  run -0 "$TEST_PYTHON" -c 'import numpy as np, sys
arrays = np.load(sys.argv[1], allow_pickle=False)
print(arrays["codec"], arrays["samples"], sorted(arrays.files))' codes/intro.npz
  assert_output "snac 36000 ['codec', 'level_0', 'level_1', 'level_2', 'model', 'sample_rate', 'samples', 'source_rate']"
}

# A PYTHON_BIN that plays a batch helper whose replies come in two pieces, 1.5 s apart: the
# workers wait for a reply with a 1 s timeout, and must join what each wait read.
slow_replying_python() {
  mkdir -p bin
  cat >bin/python <<'STUB'
#!/usr/bin/env bash
while [[ $1 != --batch ]]; do shift; done
while IFS=$'\t' read -r input output rest; do
  printf 'stand-in container\n' >"$output"
  printf '0\t'
  sleep 1.5
  printf '1000\n'
done <"$2"
STUB
  chmod +x bin/python
}

@test "a helper's reply that arrives in pieces is read whole" {
  slow_replying_python
  run -0 --separate-stderr env PYTHON_BIN="$PWD/bin/python" compress_audio.sh -c snac -o out \
    "$REF/mono24k.wav" "$REF/mono8k.wav"
  assert_equal "$(cat out/mono24k.snac)" 'stand-in container'
  assert_batch_summary "${stderr_lines[0]}" compress_audio.sh 2 2 0 0
  [[ ${stderr_lines[0]} == *'; 3.0 s of audio in '* ]]
}
