#!/usr/bin/env bats
# The batch form of both scripts (`-c EXT -o DIR [-j N] INPUT...`): names, failures and exit 8,
# byte-identity with the single-file form, option errors, and one helper per worker, with the
# real FFmpeg, Codec2 and model classes (random-weight checkpoints).

# shellcheck disable=SC2154 # bats' run sets stderr and stderr_lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  # Six short clips of mixed formats, rates and channel counts, with distinct names.
  export CLIPS=$BATS_FILE_TMPDIR/clips
  mkdir -p "$CLIPS"
  cp "$REF"/{mono24k.wav,stereo44k.mp3,mono8k.wav,mono48k.flac,aac44k.m4a} "$CLIPS/"
  lavfi 'sine=frequency=350:sample_rate=16000:duration=0.8' "$CLIPS/voice memo.ogg" -c:a libvorbis
  # Inputs of the decompress batches, one per codec (two .snac), by the single-file form.
  export ENC=$BATS_FILE_TMPDIR/enc
  mkdir -p "$ENC"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/speech.snac"
  compress_audio.sh "$REF/mono8k.wav" "$ENC/phone.snac"
  compress_audio.sh "$REF/stereo44k.mp3" "$ENC/music.ecdc"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/radio.c2"
  compress_audio.sh "$REF/aac44k.m4a" "$ENC/memo.opus"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# batch_names EXT INPUT...: the names a batch writes for INPUT..., sorted.
batch_names() {
  local ext=$1 path name
  shift
  for path in "$@"; do
    name=${path##*/}
    printf '%s.%s\n' "${name%.*}" "$ext"
  done | LC_ALL=C sort
}

# assert_batch_matches_single_files CODEC INPUT...: a batch with -j 2 writes, for each INPUT, the
# bytes that the single-file form writes.
assert_batch_matches_single_files() {
  local codec=$1 input name
  shift
  mkdir batch single
  run -0 --separate-stderr compress_audio.sh -c "$codec" -o batch -j 2 "$@"
  refute_output
  assert_clean_batch compress_audio.sh
  assert_equal "$(LC_ALL=C ls -A batch)" "$(batch_names "$codec" "$@")"
  for input in "$@"; do
    name=${input##*/}
    name=${name%.*}.$codec
    compress_audio.sh "$input" "single/$name"
    assert_files_equal "batch/$name" "single/$name"
  done
}

# --- compress_audio.sh -c EXT -o DIR --------------------------------------------------------

@test "-c snac -o DIR -j 2 writes DIR/NAME.snac for each input, each restoring its duration" {
  run -0 --separate-stderr compress_audio.sh -c snac -o out -j 2 "$CLIPS"/*
  refute_output
  assert_clean_batch compress_audio.sh
  assert_equal "$(LC_ALL=C ls -A out)" "$(batch_names snac "$CLIPS"/*)"

  mkdir restored
  run -0 --separate-stderr decompress_audio.sh -o restored -j 2 out/*.snac
  local clip name
  for clip in "$CLIPS"/*; do
    name=${clip##*/}
    name=${name%.*}
    assert_equal "$(rate_of "restored/$name.wav")" "$(rate_of "$clip")"
    assert_duration "restored/$name.wav" "$(duration_of "$clip")"
  done
}

@test "a text file among the inputs is reported on one line and skipped; the others complete (exit 8)" {
  echo 'not audio at all' >notes.txt
  run -8 --separate-stderr compress_audio.sh -c snac -o out -j 2 \
    "$CLIPS/mono24k.wav" notes.txt "$CLIPS/stereo44k.mp3" "$CLIPS/mono48k.flac"
  refute_output
  assert_equal "${#stderr_lines[@]}" 2
  assert_equal "${stderr_lines[0]}" 'compress_audio.sh: notes.txt: not a media file FFmpeg can read'
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 4 3 0 1
  # Nothing for the text file, no staged leftovers, and each other output a whole container.
  assert_equal "$(LC_ALL=C ls -A out)" $'mono24k.snac\nmono48k.snac\nstereo44k.snac'
  run -0 info_of out/mono24k.snac
  assert_line source_rate=24000
  assert_line samples=36000
  run -0 info_of out/mono48k.snac
  assert_line source_rate=48000
  assert_line samples=36000
  run -0 info_of out/stereo44k.snac
  assert_line source_rate=44100
}

@test "a .snac batch writes the same bytes as the single-file form" {
  assert_batch_matches_single_files snac "$CLIPS/stereo44k.mp3" "$CLIPS/aac44k.m4a" \
    "$CLIPS/voice memo.ogg"
}

@test "a .mimi batch writes the same bytes as the single-file form" {
  assert_batch_matches_single_files mimi "$CLIPS/stereo44k.mp3" "$CLIPS/voice memo.ogg"
}

@test "a .ecdc batch writes the same bytes as the single-file form" {
  assert_batch_matches_single_files ecdc "$CLIPS/mono8k.wav" "$CLIPS/mono48k.flac" \
    "$CLIPS/stereo44k.mp3"
}

@test "a .c2 batch writes the same bytes as the single-file form" {
  assert_batch_matches_single_files c2 "$CLIPS"/*
}

@test "an .opus batch writes the same bytes as the single-file form" {
  assert_batch_matches_single_files opus "$CLIPS"/*
}

@test "a SNAC batch of six inputs with -j 2 starts the encoder helper twice, not once per file" {
  local python
  python=$(python_logger "$PWD/python.log")
  run -0 --separate-stderr env PYTHON_BIN="$python" compress_audio.sh -c snac -o out -j 2 \
    "$CLIPS"/*
  assert_equal "$(LC_ALL=C ls -A out)" "$(batch_names snac "$CLIPS"/*)"
  run -0 cat python.log
  assert_equal "${#lines[@]}" 2
  assert_line --index 0 --regexp '/encode_ecdc\.py .*--batch '
  assert_line --index 1 --regexp '/encode_ecdc\.py .*--batch '
}

@test "a compress batch whose helper is killed fails that file only: the next gets a new helper" {
  # A PYTHON_BIN that runs the real helper on the first request of its --batch list only, then is
  # killed, as the OOM killer would kill it.
  cat >dying-python <<SH
#!/usr/bin/env bash
args=("\$@")
for i in "\${!args[@]}"; do
  if [[ \${args[i]} == --batch ]]; then
    head -n 1 "\${args[i + 1]}" >"\$TMPDIR/first"
    args[i + 1]=\$TMPDIR/first
  fi
done
'$TEST_PYTHON' "\${args[@]}"
sleep 2
kill -KILL \$\$
SH
  chmod +x dying-python
  run -8 --separate-stderr env PYTHON_BIN="$PWD/dying-python" compress_audio.sh -c snac -o out \
    "$CLIPS/mono24k.wav" "$CLIPS/mono8k.wav" "$CLIPS/mono48k.flac"
  refute_output
  assert_equal "${stderr_lines[0]}" \
    "compress_audio.sh: $CLIPS/mono8k.wav: the Python helper stopped (exit status 137)"
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 3 2 0 1
  assert_equal "$(LC_ALL=C ls -A out)" $'mono24k.snac\nmono48k.snac'
  assert_dir_empty "$TMPDIR"
}

@test "two inputs that would write the same output are a usage error (exit 2)" {
  mkdir other
  cp "$CLIPS/mono48k.flac" other/mono24k.flac
  run -2 --separate-stderr compress_audio.sh -c snac -o out "$CLIPS/mono24k.wav" other/mono24k.flac
  assert_equal "$stderr" \
    'compress_audio.sh: other/mono24k.flac: a second input would also write out/mono24k.snac'
  refute_output
  assert_dir_empty out
}

@test "-o naming a directory that does not exist creates it, parents included" {
  run -0 --separate-stderr compress_audio.sh -c c2 -o new/nested "$CLIPS/mono24k.wav"
  assert_file_exists new/nested/mono24k.c2
}

@test "-o naming a path that cannot be a directory is refused with exit 7" {
  touch plain
  run -7 --separate-stderr compress_audio.sh -c snac -o plain/sub "$CLIPS/mono24k.wav"
  assert_equal "$stderr" 'compress_audio.sh: plain/sub: cannot create the output directory'
  refute_output
}

@test "-c naming no codec is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -c mp3 -o out "$CLIPS/mono24k.wav"
  assert_equal "$stderr" \
    'compress_audio.sh: -c mp3: unknown codec; supported: .ecdc .snac .mimi .dac .semanticodec .c2 .opus .lpcnet .nesc'
  refute_output
  assert_dir_empty out
}

@test "-j 0, -j 257 and -j two are usage errors (exit 2)" {
  local jobs
  for jobs in 0 257 two; do
    run -2 --separate-stderr compress_audio.sh -c c2 -o out -j "$jobs" "$CLIPS/mono24k.wav"
    assert_equal "$stderr" "compress_audio.sh: --jobs $jobs: expected a whole number from 1 to 256"
    refute_output
  done
  assert_dir_empty out
}

@test "-c without -o, and -o without -c, are usage errors (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -c snac "$CLIPS/mono24k.wav"
  assert_equal "$stderr" 'compress_audio.sh: a batch needs -o DIR'
  run -2 --separate-stderr compress_audio.sh -o out "$CLIPS/mono24k.wav"
  assert_equal "$stderr" 'compress_audio.sh: a batch needs -c EXT'
  refute_output
  assert_dir_empty out
}

@test "existing outputs are reported and skipped without -f, keeping their bytes (exit 8)" {
  printf 'keep me' >out/mono24k.snac
  run -8 --separate-stderr compress_audio.sh -c snac -o out "$CLIPS/mono24k.wav" \
    "$CLIPS/mono48k.flac"
  refute_output
  assert_equal "${#stderr_lines[@]}" 2
  assert_equal "${stderr_lines[0]}" \
    'compress_audio.sh: out/mono24k.snac: already exists (use -f to replace it)'
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 2 1 0 1
  assert_equal "$(cat out/mono24k.snac)" 'keep me'
  assert_equal "$(LC_ALL=C ls -A out)" $'mono24k.snac\nmono48k.snac'
  run -0 info_of out/mono48k.snac
  assert_line source_rate=48000
}

@test "-f replaces existing outputs in a batch" {
  printf 'old' >out/mono24k.snac
  printf 'old' >out/mono8k.c2
  run -0 --separate-stderr compress_audio.sh -f -c snac -o out "$CLIPS/mono24k.wav"
  refute_output
  assert_clean_batch compress_audio.sh
  run -0 info_of out/mono24k.snac
  assert_line samples=36000
  run -0 --separate-stderr compress_audio.sh --force -c c2 -o out "$CLIPS/mono8k.wav"
  assert_equal "$(od -An -tx1 -N3 out/mono8k.c2 | tr -d ' ')" c0dec2
  assert_equal "$(LC_ALL=C ls -A out)" $'mono24k.snac\nmono8k.c2'
}

@test "the single-file form still refuses three arguments (exit 2)" {
  run -2 --separate-stderr compress_audio.sh "$CLIPS/mono24k.wav" "$CLIPS/mono8k.wav" out/x.c2
  assert_equal "$stderr" 'compress_audio.sh: expected INPUT and OUTPUT (see --help)'
  refute_output
  run -2 --separate-stderr decompress_audio.sh "$ENC/radio.c2" "$ENC/memo.opus" out/x.wav
  assert_equal "$stderr" 'decompress_audio.sh: expected INPUT and OUTPUT (see --help)'
  refute_output
  assert_dir_empty out
}

@test "an input whose name holds a newline does not stop the other inputs of its worker" {
  cp "$CLIPS/mono8k.wav" $'two\nlines.wav'
  run -0 --separate-stderr compress_audio.sh -c snac -o out -j 1 "$CLIPS/mono24k.wav" \
    $'two\nlines.wav' "$CLIPS/aac44k.m4a"
  assert_clean_batch compress_audio.sh
  assert_file_exists out/aac44k.snac
  assert_file_exists $'out/two\nlines.snac'
}

@test "SIGINT during a -j 2 batch stops its workers and leaves no output or temporary file" {
  local i
  for i in 1 2 3 4; do
    lavfi "sine=frequency=$((200 + 50 * i)):sample_rate=16000:duration=12" "long$i.wav"
  done
  # Two seconds into the helpers: both workers are loading the model or encoding.
  interrupt INT encode_ecdc.py 2 \
    env SNAC_VARIANT=32khz compress_audio.sh -j 2 -c snac -o out long1.wav long2.wav long3.wav long4.wav
  assert_equal "$status" 130
  assert_equal "$stderr" 'compress_audio.sh: interrupted'
  refute_output
  # The workers ignore SIGINT (background jobs without job control): the script must stop them.
  run ! pgrep -f "encode_ecdc.py.*--batch $TMPDIR/"
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

# --- decompress_audio.sh -o DIR [-c EXT] ----------------------------------------------------

@test "a decompress batch restores .snac, .ecdc, .c2 and .opus as DIR/NAME.wav at their rates" {
  run -0 --separate-stderr decompress_audio.sh -o out -j 2 "$ENC"/*
  refute_output
  assert_clean_batch decompress_audio.sh
  assert_equal "$(LC_ALL=C ls -A out)" "$(batch_names wav "$ENC"/*)"
  local file
  for file in out/*.wav; do
    assert_equal "$(codec_name_of "$file")" pcm_s16le
    assert_equal "$(channels_of "$file")" 1
  done
  assert_equal "$(rate_of out/speech.wav)" 48000
  assert_duration out/speech.wav "$(duration_of "$REF/mono48k.flac")"
  assert_equal "$(rate_of out/phone.wav)" 8000
  assert_duration out/phone.wav "$(duration_of "$REF/mono8k.wav")"
  assert_equal "$(rate_of out/music.wav)" 44100
  assert_duration out/music.wav "$(duration_of "$REF/stereo44k.mp3")"
  assert_equal "$(rate_of out/radio.wav)" 8000 # Codec2 records no rate
  assert_duration out/radio.wav "$(duration_of "$REF/mono24k.wav")" 0.04 0.001
  assert_equal "$(rate_of out/memo.wav)" 44100
  assert_duration out/memo.wav "$(duration_of "$REF/aac44k.m4a")"
}

@test "a decompress batch with -c flac writes FLAC at each source rate" {
  run -0 --separate-stderr decompress_audio.sh -c flac -o out "$ENC/speech.snac" \
    "$ENC/music.ecdc" "$ENC/radio.c2"
  refute_output
  assert_clean_batch decompress_audio.sh
  assert_equal "$(LC_ALL=C ls -A out)" $'music.flac\nradio.flac\nspeech.flac'
  local file
  for file in out/*.flac; do
    assert_equal "$(codec_name_of "$file")" flac
  done
  assert_equal "$(rate_of out/speech.flac)" 48000
  assert_duration out/speech.flac "$(duration_of "$REF/mono48k.flac")"
  assert_equal "$(rate_of out/music.flac)" 44100
  assert_duration out/music.flac "$(duration_of "$REF/stereo44k.mp3")"
  assert_equal "$(rate_of out/radio.flac)" 8000
  assert_duration out/radio.flac "$(duration_of "$REF/mono24k.wav")" 0.04 0.001
}

@test "a decompress batch gives the bytes of the single-file form" {
  mkdir single
  # -j 1: one helper decodes both, so nothing may carry over from one file to the next.
  run -0 --separate-stderr decompress_audio.sh -o out -j 1 "$ENC/speech.snac" "$ENC/music.ecdc"
  refute_output
  local name
  for name in speech music; do
    decompress_audio.sh "$ENC/$name".* "single/$name.wav"
    assert_files_equal "out/$name.wav" "single/$name.wav"
  done
}

@test "a decompress batch with -j 2 starts the decoder helper twice, not once per file" {
  local python
  python=$(python_logger "$PWD/python.log")
  run -0 --separate-stderr env PYTHON_BIN="$python" decompress_audio.sh -o out -j 2 "$ENC"/*
  assert_equal "$(LC_ALL=C ls -A out)" "$(batch_names wav "$ENC"/*)"
  run -0 cat python.log
  assert_equal "${#lines[@]}" 2
  assert_line --index 0 --regexp '/decode_ecdc\.py .*--batch '
  assert_line --index 1 --regexp '/decode_ecdc\.py .*--batch '
}

@test "a corrupt .snac in a decompress batch is skipped with exit 8; the others are restored" {
  cp "$ENC/speech.snac" bad.snac
  flip_byte bad.snac 20
  run -8 --separate-stderr decompress_audio.sh -o out -j 2 "$ENC/phone.snac" bad.snac \
    "$ENC/music.ecdc" "$ENC/radio.c2"
  refute_output
  assert_equal "${#stderr_lines[@]}" 2
  assert_regex "${stderr_lines[0]}" '^decompress_audio\.sh: bad\.snac: .*checksum mismatch'
  assert_batch_summary "${stderr_lines[1]}" decompress_audio.sh 4 3 0 1
  assert_equal "$(LC_ALL=C ls -A out)" $'music.wav\nphone.wav\nradio.wav'
  assert_duration out/phone.wav "$(duration_of "$REF/mono8k.wav")"
  assert_duration out/music.wav "$(duration_of "$REF/stereo44k.mp3")"
}

@test "a corrupt .snac in a decompress batch is reported on a line that names it once" {
  cp "$ENC/speech.snac" bad.snac
  flip_byte bad.snac 20
  run -8 --separate-stderr decompress_audio.sh -o out bad.snac "$ENC/phone.snac"
  assert_equal "${stderr_lines[0]}" \
    'decompress_audio.sh: bad.snac: checksum mismatch: the file is corrupt or truncated'
}

@test "existing decompress outputs are skipped without -f (exit 8) and replaced with -f" {
  printf 'keep me' >out/radio.wav
  printf 'keep me' >out/phone.wav
  run -8 --separate-stderr decompress_audio.sh -o out "$ENC/radio.c2" "$ENC/phone.snac" \
    "$ENC/speech.snac"
  refute_output
  assert_equal "${#stderr_lines[@]}" 3
  assert_equal "${stderr_lines[0]}" \
    'decompress_audio.sh: out/radio.wav: already exists (use -f to replace it)'
  assert_equal "${stderr_lines[1]}" \
    'decompress_audio.sh: out/phone.wav: already exists (use -f to replace it)'
  assert_batch_summary "${stderr_lines[2]}" decompress_audio.sh 3 1 0 2
  assert_equal "$(cat out/radio.wav)" 'keep me'
  assert_equal "$(cat out/phone.wav)" 'keep me'
  assert_duration out/speech.wav "$(duration_of "$REF/mono48k.flac")"
  run -0 --separate-stderr decompress_audio.sh -f -o out "$ENC/radio.c2" "$ENC/phone.snac"
  refute_output
  assert_clean_batch decompress_audio.sh
  assert_equal "$(rate_of out/radio.wav)" 8000
  assert_duration out/phone.wav "$(duration_of "$REF/mono8k.wav")"
}

@test "a decompress batch whose FFmpeg fails writing one output leaves no staged file of it" {
  # An FFMPEG that writes part of speech.wav's staged file and fails; every other call is real.
  cat >failing-ffmpeg <<'SH'
#!/usr/bin/env bash
last=${*: -1}
if [[ $last == file:*/.speech.wav.* ]]; then
  printf 'RIFF' >"${last#file:}"
  echo 'Error writing trailer: Input/output error' >&2
  exit 1
fi
exec ffmpeg "$@"
SH
  chmod +x failing-ffmpeg
  run -8 --separate-stderr env FFMPEG="$PWD/failing-ffmpeg" decompress_audio.sh -o out \
    "$ENC/speech.snac" "$ENC/phone.snac"
  refute_output
  assert_equal "${stderr_lines[0]}" \
    'decompress_audio.sh: out/speech.wav: FFmpeg failed: Error writing trailer: Input/output error'
  assert_batch_summary "${stderr_lines[1]}" decompress_audio.sh 2 1 0 1
  assert_equal "$(LC_ALL=C ls -A out)" 'phone.wav'
}

@test "a decompress batch of .c2 and .opus only, with no neural input, exits 0" {
  run -0 --separate-stderr decompress_audio.sh -o out "$ENC/radio.c2" "$ENC/memo.opus"
  refute_output
  assert_clean_batch decompress_audio.sh
  assert_equal "$(LC_ALL=C ls -A out)" $'memo.wav\nradio.wav'
}

@test "a failing decompress batch without a neural item still exits 8 with the count" {
  printf 'keep me' >out/radio.wav
  run -8 --separate-stderr decompress_audio.sh -o out "$ENC/radio.c2" "$ENC/memo.opus"
  assert_batch_summary "${stderr_lines[1]}" decompress_audio.sh 2 1 0 1
}

@test "two decompress inputs that would write the same output are a usage error (exit 2)" {
  cp "$ENC/music.ecdc" speech.ecdc
  run -2 --separate-stderr decompress_audio.sh -o out "$ENC/speech.snac" speech.ecdc
  assert_equal "$stderr" \
    'decompress_audio.sh: speech.ecdc: a second input would also write out/speech.wav'
  refute_output
  assert_dir_empty out
}

@test "decompress -o naming a directory that does not exist creates it" {
  run -0 --separate-stderr decompress_audio.sh -o restored "$ENC/radio.c2"
  assert_file_exists restored/radio.wav
}

@test "decompress -c naming no audio format is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh -c xyz -o out "$ENC/radio.c2"
  assert_equal "${#stderr_lines[@]}" 1
  assert_regex "$stderr" '^decompress_audio\.sh: .*xyz.*; supported: \.wav \.flac \.mp3 \.ogg \.opus \.m4a \.aac \.aiff$'
  refute_output
  assert_dir_empty out
}

@test "decompress -c naming no audio format is reported as the -c value, not a made-up file" {
  run -2 --separate-stderr decompress_audio.sh -c xyz -o out "$ENC/radio.c2"
  refute_regex "$stderr" 'x\.xyz'
  assert_regex "$stderr" '^decompress_audio\.sh: -c xyz: '
}

@test "a batch in which every input fails still exits 8 and says how many failed" {
  run -8 --separate-stderr compress_audio.sh -c opus -o out missing-1.wav missing-2.wav \
    missing-3.wav
  refute_output
  assert_equal "${#stderr_lines[@]}" 4
  assert_equal "${stderr_lines[0]}" 'compress_audio.sh: missing-1.wav: no such file'
  assert_batch_summary "${stderr_lines[3]}" compress_audio.sh 3 0 0 3
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "rerunning a finished batch without -f fails every item with exit 8 and the count" {
  run -0 compress_audio.sh -c opus -o out "$CLIPS/mono24k.wav" "$CLIPS/mono8k.wav"
  run -8 --separate-stderr compress_audio.sh -c opus -o out "$CLIPS/mono24k.wav" \
    "$CLIPS/mono8k.wav"
  assert_batch_summary "${stderr_lines[2]}" compress_audio.sh 2 0 0 2
  run -0 compress_audio.sh -c snac -o out "$CLIPS/mono24k.wav"
  run -8 --separate-stderr compress_audio.sh -c snac -o out "$CLIPS/mono24k.wav"
  assert_batch_summary "${stderr_lines[1]}" compress_audio.sh 1 0 0 1
}

@test "a decompress batch in which every input fails exits 8 and says how many failed" {
  echo 'not a container' >a.snac
  run -8 --separate-stderr decompress_audio.sh -o out a.snac missing.ecdc
  refute_output
  assert_batch_summary "${stderr_lines[-1]}" decompress_audio.sh 2 0 0 2
  assert_dir_empty out
}

@test "a neural batch whose output directory is full reports each file and exits 8" {
  [[ $(id -u) == 0 ]] || skip 'mounting a small tmpfs needs root'
  mkdir full
  mount -t tmpfs -o size=64k tmpfs full || skip 'cannot mount a tmpfs here'
  cat /dev/zero >full/filler 2>/dev/null || true
  run --separate-stderr compress_audio.sh -c snac -o full "$CLIPS/mono24k.wav" \
    "$CLIPS/mono48k.flac"
  local leftovers
  leftovers=$(find full -name '.*' | wc -l)
  umount full
  assert_equal "$status" 8
  assert_equal "$leftovers" 0
  assert_batch_summary "${stderr_lines[-1]}" compress_audio.sh 2 0 0 2
  assert_equal "${stderr_lines[0]}" \
    'compress_audio.sh: full/mono24k.snac: cannot write (No space left on device)'
}
