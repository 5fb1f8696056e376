#!/usr/bin/env bats
# compare_audio.sh ORIGINAL RESTORED [CONTAINER]: scores that behave (maxima for a copy, the
# real codecs in the order a listener hears them, delays removed, noise low), the picture, and
# one-line errors with the documented exit codes. Needs `make quality`'s packages and espeak-ng.

# shellcheck disable=SC2154 # bats' run sets output, status and stderr
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  command -v espeak-ng >/dev/null || skip "needs espeak-ng for a speech clip (make test installs it)"
  export SPEECH=$BATS_FILE_TMPDIR/speech
  mkdir -p "$SPEECH"
  espeak-ng -s 150 -w "$SPEECH/clip.wav" "Ultra low bitrate codecs squeeze speech into about \
one kilobit per second. This sentence was compressed and restored by each of them."
  OPUS_BITRATE=12 compress_audio.sh "$SPEECH/clip.wav" "$SPEECH/opus12.opus"
  OPUS_BITRATE=6 compress_audio.sh "$SPEECH/clip.wav" "$SPEECH/opus6.opus"
  CODEC2_MODE=700C compress_audio.sh "$SPEECH/clip.wav" "$SPEECH/c700.c2"
  local name
  for name in opus12.opus opus6.opus c700.c2; do
    decompress_audio.sh "$SPEECH/$name" "$SPEECH/$name.wav"
  done
  # ViSQOL takes 5 s a comparison; the tests that are about it turn it back on.
  export VISQOL=0
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# score KEY: the value of KEY in the JSON object of $output ("None" for null).
score() {
  "$TEST_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$output" "$1"
}

# assert_near A B [TOLERANCE]: the numbers A and B are within TOLERANCE (default 0.001).
assert_near() {
  local tolerance=${3:-0.001}
  awk -v a="$1" -v b="$2" -v t="$tolerance" 'BEGIN { exit !(a - b <= t && b - a <= t) }' ||
    fail "expected $1 within $tolerance of $2"
}

# assert_above A B: the number A is greater than B.
assert_above() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }' || fail "expected $1 > $2"
}

@test "--help prints the usage, the keys and the exit codes" {
  run -0 compare_audio.sh --help
  assert_line --partial 'Usage: compare_audio.sh [--json] [--png FILE] [--] ORIGINAL RESTORED'
  assert_output --partial 'pesq_wb, pesq_nb'
  assert_output --partial 'Exit codes:'
}

@test "--version prints the toolkit's version" {
  run -0 compare_audio.sh --version
  assert_output "compare_audio.sh $(<"$REPO_ROOT/VERSION")"
}

@test "a file against itself gets the metric maxima" {
  VISQOL=1 run -0 --separate-stderr compare_audio.sh --json "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "$stderr" ''
  assert_near "$(score pesq_wb)" 4.644
  assert_near "$(score pesq_nb)" 4.549
  assert_equal "$(score stoi)" 1.0
  assert_equal "$(score estoi)" 1.0
  assert_above "$(score si_sdr)" 100
  assert_equal "$(score mel_distance)" 0.0
  assert_equal "$(score lag_ms)" 0.0
  assert_above "$(score visqol)" 4.4
}

@test "the text form prints one line per key, and why a score is missing" {
  run -0 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "${#lines[@]}" 9
  assert_line --index 0 'pesq_wb      4.644'
  assert_line --index 4 'visqol       -  (not computed (VISQOL=0))'
  assert_line --index 7 'kbps         -  (no CONTAINER given)'
}

@test "on the test speech Opus 12 kbps beats Opus 6 kbps, which beats Codec2 700C, for PESQ-WB and STOI" {
  local name key
  declare -A pesq stoi
  for name in opus12.opus opus6.opus c700.c2; do
    run -0 compare_audio.sh --json "$SPEECH/clip.wav" "$SPEECH/$name.wav" "$SPEECH/$name"
    # shellcheck disable=SC2034 # read through the nameref below
    pesq[$name]=$(score pesq_wb) stoi[$name]=$(score stoi)
  done
  for key in pesq stoi; do
    declare -n of=$key
    assert_above "${of[opus12.opus]}" "${of[opus6.opus]}"
    assert_above "${of[opus6.opus]}" "${of[c700.c2]}"
  done
}

@test "VISQOL=1 ranks the three codecs the same way" {
  local name previous=6
  for name in opus12.opus opus6.opus c700.c2; do
    VISQOL=1 run -0 compare_audio.sh --json "$SPEECH/clip.wav" "$SPEECH/$name.wav"
    assert_above "$previous" "$(score visqol)"
    previous=$(score visqol)
  done
}

@test "a copy delayed by 30 ms is aligned, scores as the copy and reports the lag" {
  # 30 ms at the clip's 22.05 kHz is not a whole number of samples at 16 kHz: the alignment is
  # to the nearest sample, so SI-SDR, which sees the fraction, is high but not a copy's.
  ffmpeg -nostdin -v error -i "$SPEECH/clip.wav" -af adelay=30 delayed.wav
  run -0 compare_audio.sh --json "$SPEECH/clip.wav" delayed.wav
  assert_equal "$(score lag_ms)" 30.0
  assert_near "$(score pesq_wb)" 4.644 0.01
  assert_above "$(score stoi)" 0.999
  assert_above "$(score si_sdr)" 10
}

@test "a copy at 44.1 kHz, 16-bit and 0.3 s shorter is handled" {
  ffmpeg -nostdin -v error -i "$SPEECH/clip.wav" -ar 44100 -c:a pcm_s16le -af areverse,atrim=start=0.3,areverse other.wav
  run -0 compare_audio.sh --json "$SPEECH/clip.wav" other.wav
  assert_equal "$(score lag_ms)" 0.0
  assert_above "$(score pesq_wb)" 4.0
  assert_above "$(score stoi)" 0.95
}

@test "white noise scores low" {
  lavfi 'anoisesrc=color=white:amplitude=0.3:sample_rate=22050' noise.wav \
    -t "$(duration_of "$SPEECH/clip.wav")"
  run -0 compare_audio.sh --json "$SPEECH/clip.wav" noise.wav
  assert_above 1.3 "$(score pesq_wb)"
  # STOI's clipping step leaves unrelated signals near 0.4; ESTOI near 0.
  assert_above 0.5 "$(score stoi)"
  assert_above 0.1 "$(score estoi)"
  assert_above 0 "$(score si_sdr)"
}

@test "with a container the real bitrate is reported" {
  run -0 compare_audio.sh --json "$SPEECH/clip.wav" "$SPEECH/opus6.opus.wav" "$SPEECH/opus6.opus"
  assert_equal "$(score kbps)" "$(decompress_audio.sh --info "$SPEECH/opus6.opus" | sed -n "s/^kbps=//p")"
}

@test "--png draws the spectrograms into a PNG" {
  run -0 compare_audio.sh --png out/c2.png "$SPEECH/clip.wav" "$SPEECH/c700.c2.wav" "$SPEECH/c700.c2"
  assert_equal "$(od -An -tx1 -N4 out/c2.png | tr -d ' ')" 89504e47
  assert_dir_empty "$TMPDIR"
}

@test "a silent original has no PESQ, says why, and exits 0" {
  lavfi 'anullsrc=r=16000:cl=mono' silent.wav -t "$(duration_of "$SPEECH/clip.wav")"
  run -0 --separate-stderr compare_audio.sh --json silent.wav "$SPEECH/clip.wav"
  assert_equal "$(score pesq_wb)" None
  assert_equal "$(score stoi)" None
  assert_output --partial '"pesq_wb": "the original is silent: PESQ is undefined"'
  assert_equal "$stderr" ''
}

@test "a silent restored file has no scores but the mel distance, says why, and exits 0" {
  lavfi 'anullsrc=r=16000:cl=mono' silent.wav -t "$(duration_of "$SPEECH/clip.wav")"
  run -0 --separate-stderr compare_audio.sh --json "$SPEECH/clip.wav" silent.wav
  assert_equal "$(score pesq_wb)" None
  assert_output --partial '"pesq_wb": "the restored file is silent: PESQ cannot score it"'
  assert_above "$(score mel_distance)" 0.1
  assert_equal "$stderr" ''
}

@test "a clip too short for PESQ and STOI gives nulls with the reasons, and exits 0" {
  ffmpeg -nostdin -v error -i "$SPEECH/clip.wav" -ss 1 -t 0.1 short.wav
  VISQOL=1 run -0 --separate-stderr compare_audio.sh --json short.wav short.wav
  assert_output --partial '"pesq_wb": "too short for PESQ (it needs 0.25 s or more)"'
  assert_output --partial '"stoi": "too little speech for STOI'
  assert_output --partial '"visqol": "ViSQOL failed on this pair: '
  assert_above "$(score si_sdr)" 100
  assert_equal "$stderr" ''
}

@test "a missing input is exit 4, named" {
  run -4 --separate-stderr compare_audio.sh missing.wav "$SPEECH/clip.wav"
  assert_equal "$stderr" 'compare_audio.sh: missing.wav: no such file'
  assert_output ''
}

@test "an empty input is exit 4" {
  touch empty.wav
  run -4 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" empty.wav
  assert_equal "$stderr" 'compare_audio.sh: empty.wav: file is empty'
}

@test "an input that is not audio is exit 4" {
  echo 'not audio' >text.wav
  run -4 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" text.wav
  assert_equal "$stderr" 'compare_audio.sh: text.wav: not a media file FFmpeg can read'
}

@test "a CONTAINER the toolkit cannot read is exit 4" {
  run -4 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "${#stderr_lines[@]}" 1
  assert_equal "$stderr" "compare_audio.sh: $SPEECH/clip.wav: not a file this toolkit can decode (unknown format)"
}

@test "lengths further apart than alignment can fix are exit 4" {
  ffmpeg -nostdin -v error -i "$SPEECH/clip.wav" -t 2 short.wav
  run -4 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" short.wav
  assert_equal "${#stderr_lines[@]}" 1
  assert_regex "$stderr" '^compare_audio.sh: RESTORED is [0-9.]+ s shorter than ORIGINAL, more than alignment can fix \(1 s\)'
}

@test "a missing score package is exit 3 naming make quality" {
  PYTHONPATH=$REPO_ROOT/tests/fixtures/hide-packages HIDDEN_PACKAGES=pesq \
    run -3 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "$stderr" 'compare_audio.sh: Python package missing: pesq (run: make quality)'
  assert_output ''
}

@test "a missing ViSQOL is a null with the reason, not an error" {
  PYTHONPATH=$REPO_ROOT/tests/fixtures/hide-packages HIDDEN_PACKAGES=visqol VISQOL=1 \
    run -0 compare_audio.sh --json "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "$(score visqol)" None
  assert_output --partial '"visqol": "Python package missing: visqol (run: make quality)"'
}

@test "bad usage is exit 2, a bad VISQOL exit 5" {
  run -2 --separate-stderr compare_audio.sh "$SPEECH/clip.wav"
  assert_equal "$stderr" 'compare_audio.sh: expected ORIGINAL RESTORED [CONTAINER] (see --help)'
  run -2 --separate-stderr compare_audio.sh --bogus a b
  assert_equal "$stderr" 'compare_audio.sh: unknown option: --bogus (see --help)'
  VISQOL=2 run -5 --separate-stderr compare_audio.sh "$SPEECH/clip.wav" "$SPEECH/clip.wav"
  assert_equal "$stderr" 'compare_audio.sh: VISQOL=2: expected 0 or 1'
}
