#!/usr/bin/env bats
# The optional neural codecs end to end with the real FFmpeg: .dac through the dac package's real
# loader (random-weight checkpoints in $HOME/.cache/descript/dac, written by the fixture: 16 kHz,
# and the default 44khz at 8 and 16 kbps),
# .semanticodec through a stand-in `semanticodec` module (the real one is not installable here).

# shellcheck disable=SC2154 # bats' run sets stderr
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  "$TEST_PYTHON" -c 'import dac' 2>/dev/null || skip "the optional DAC install is missing (make dac)"
  export DAC_HOME=$TEST_MODEL_CACHE/home
  # The default 44khz model at both bitrates: two checkpoints of ~300 MB (10 s), written once per
  # cache (the fixture skips those it has written).
  "$TEST_PYTHON" "$REPO_ROOT/tests/fixtures/make_model_cache.py" "$TEST_MODEL_CACHE" \
    --dac 44khz-8kbps,44khz-16kbps >/dev/null 2>&1 ||
    fail "cannot write the 44khz DAC checkpoints in $TEST_MODEL_CACHE"
  export CLIP44=$BATS_FILE_TMPDIR/mono44k.wav
  lavfi 'sine=frequency=440:sample_rate=44100:duration=1' "$CLIP44"
  export STANDIN=$BATS_FILE_TMPDIR/standin
  mkdir -p "$STANDIN/semanticodec"
  cp "$REPO_ROOT/tests/fixtures/semanticodec_standin.py" "$STANDIN/semanticodec/__init__.py"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# dac ARGS...: a command with the test weights' HOME and the 16 kHz model.
dac() {
  env HOME="$DAC_HOME" DAC_MODEL=16khz "$@"
}

# dac44 ARGS...: a command with the test weights' HOME and the default DAC_MODEL.
dac44() {
  env HOME="$DAC_HOME" "$@"
}

# --- .dac -----------------------------------------------------------------------------------

@test ".dac round trip restores the rate and duration and records the source rate" {
  run -0 --separate-stderr dac compress_audio.sh "$REF/stereo44k.mp3" out/clip.dac
  assert_equal "$stderr" ''
  run -0 info_of out/clip.dac
  assert_line container=dac
  assert_line source_rate=44100
  assert_line codebooks=12
  assert_line padding=1
  run -0 --separate-stderr dac decompress_audio.sh out/clip.dac out/back.wav
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/back.wav)" 44100
  assert_duration out/back.wav 1.0
}

@test "the default DAC_MODEL is 44khz 8kbps: 9 codebooks, and a 44.1 kHz clip comes back whole" {
  run -0 --separate-stderr dac44 compress_audio.sh "$CLIP44" out/clip.dac
  assert_equal "$stderr" ''
  run -0 info_of out/clip.dac
  assert_line codebooks=9
  assert_line frames=87 # 1 s at 86.1 frames a second, padded to a whole frame
  assert_line source_rate=44100
  run -0 --separate-stderr dac44 decompress_audio.sh out/clip.dac out/back.wav
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/back.wav)" 44100
  assert_equal "$(samples_of out/back.wav)" 44100
}

@test "DAC_BITRATE=16kbps records 18 codebooks, 9 codes a frame more than 8kbps, and decodes" {
  dac44 compress_audio.sh "$CLIP44" out/8kbps.dac
  run -0 --separate-stderr dac44 env DAC_BITRATE=16kbps compress_audio.sh "$CLIP44" out/16kbps.dac
  assert_equal "$stderr" ''
  run -0 info_of out/16kbps.dac
  assert_line codebooks=18
  assert_line frames=87
  # 9 codebooks more of 87 codes at 16 bits a code: 12.5 kbps more in the file (7.8 nominal)
  assert_equal "$(($(size_of out/16kbps.dac) - $(size_of out/8kbps.dac)))" $((9 * 87 * 2))
  run -0 --separate-stderr dac44 env DAC_BITRATE=16kbps decompress_audio.sh out/16kbps.dac \
    out/back.wav
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/back.wav)" 44100
  assert_equal "$(samples_of out/back.wav)" 44100
}

@test "DAC_CODEBOOKS keeps fewer codebooks: 16 bits a code, as the dac package stores them" {
  dac compress_audio.sh "$REF/mono24k.wav" out/all.dac
  run -0 dac env DAC_CODEBOOKS=2 compress_audio.sh "$REF/mono24k.wav" out/two.dac
  run -0 info_of out/two.dac
  assert_line codebooks=2
  assert_line frames=75 # 1.5 s at 50 frames a second, one window
  assert_equal "$(($(size_of out/all.dac) - $(size_of out/two.dac)))" $((10 * 75 * 2))
  run -0 dac decompress_audio.sh out/two.dac out/two.flac
  assert_duration out/two.flac 1.5
}

@test "the DAC knobs are validated with one line naming the variable" {
  run -5 --separate-stderr env DAC_MODEL=8khz compress_audio.sh "$REF/mono24k.wav" out/a.dac
  assert_equal "$stderr" 'compress_audio.sh: DAC_MODEL=8khz: expected 44khz, 24khz or 16khz'
  run -5 --separate-stderr env DAC_BITRATE=4kbps compress_audio.sh "$REF/mono24k.wav" out/a.dac
  assert_equal "$stderr" 'compress_audio.sh: DAC_BITRATE=4kbps: expected 8kbps or 16kbps'
  run -5 --separate-stderr env DAC_MODEL=24khz DAC_BITRATE=16kbps \
    compress_audio.sh "$REF/mono24k.wav" out/a.dac
  assert_equal "$stderr" \
    "compress_audio.sh: DAC_BITRATE=16kbps: DAC_MODEL=24khz has 8kbps only (16kbps is 44khz's)"
  local bad
  for bad in 0 13 x; do
    run -5 --separate-stderr dac env DAC_CODEBOOKS=$bad compress_audio.sh "$REF/mono24k.wav" \
      out/a.dac
    assert_equal "$stderr" "compress_audio.sh: DAC_CODEBOOKS=$bad: expected all or a whole number from 1 to 12 (DAC_MODEL=16khz 8kbps)"
  done
  assert_dir_empty out
}

@test "decoding with a model whose weights are missing exits 3 naming the file, no output" {
  dac compress_audio.sh "$REF/mono24k.wav" out/clip.dac
  # a HOME of its own: the test cache's may hold every model (make bench-settings writes them)
  mkdir home
  run -3 --separate-stderr env HOME="$PWD/home" DAC_MODEL=16khz decompress_audio.sh out/clip.dac \
    out/back.wav
  assert_regex "$stderr" "^decompress_audio\.sh: DAC weights $PWD/home/\.cache/descript/dac/weights_16khz_8kbps_0\.0\.5\.pth are not cached and cannot be downloaded .*python -m dac download"
  assert_file_not_exists out/back.wav
}

@test "a .dac batch with -j 2 writes the files the single-file form writes" {
  dac compress_audio.sh "$REF/mono48k.flac" out/mono48k-single.dac
  mkdir batch
  run -0 --separate-stderr dac compress_audio.sh -j 2 -c dac -o batch "$REF/mono48k.flac" \
    "$REF/aac44k.m4a" "$REF/mono8k.wav"
  cmp batch/mono48k.dac out/mono48k-single.dac
  run -0 --separate-stderr dac decompress_audio.sh -j 2 -o batch batch/*.dac
  assert_equal "$(rate_of batch/mono8k.wav)" 8000
  assert_duration batch/aac44k.wav 1.0 0.05 0.06
}

@test "a .dac file named .snac is refused by its content" {
  dac compress_audio.sh "$REF/mono24k.wav" out/clip.dac
  mv out/clip.dac out/clip.snac
  run -4 --separate-stderr decompress_audio.sh out/clip.snac out/back.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: out/clip.snac: the extension says .snac but the content is .dac'
}

# --- .semanticodec --------------------------------------------------------------------------

@test ".semanticodec round trip through the stand-in restores rate and duration" {
  run -0 --separate-stderr env PYTHONPATH="$STANDIN" compress_audio.sh "$REF/mono48k.flac" \
    out/clip.semanticodec
  assert_equal "$stderr" ''
  run -0 info_of out/clip.semanticodec
  assert_line container=semanticodec
  assert_line model=semanticodec-50-16384
  assert_line source_rate=48000
  # 1.5 s padded to 1.6 s is 40 token pairs of 14 bits: 140 bytes behind 37 of header and CRC
  assert_equal "$(size_of out/clip.semanticodec)" $((37 + 140))
  run -0 --separate-stderr env PYTHONPATH="$STANDIN" decompress_audio.sh out/clip.semanticodec \
    out/back.wav
  assert_equal "$(rate_of out/back.wav)" 48000
  assert_duration out/back.wav 1.5
}

@test "the SemantiCodec knobs pick the setting recorded in the file, and are validated" {
  run -0 env PYTHONPATH="$STANDIN" SEMANTICODEC_TOKEN_RATE=100 SEMANTICODEC_VOCAB=4096 \
    compress_audio.sh "$REF/mono24k.wav" out/clip.semanticodec
  run -0 info_of out/clip.semanticodec
  assert_line model=semanticodec-100-4096
  run -5 --separate-stderr env SEMANTICODEC_TOKEN_RATE=75 compress_audio.sh "$REF/mono24k.wav" \
    out/a.semanticodec
  assert_equal "$stderr" 'compress_audio.sh: SEMANTICODEC_TOKEN_RATE=75: expected 25, 50 or 100'
  run -5 --separate-stderr env SEMANTICODEC_VOCAB=1000 compress_audio.sh "$REF/mono24k.wav" \
    out/a.semanticodec
  assert_equal "$stderr" \
    'compress_audio.sh: SEMANTICODEC_VOCAB=1000: expected 4096, 8192, 16384 or 32768'
}

@test "without the semanticodec package, .semanticodec exits 3 with the install command" {
  run -3 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.semanticodec
  assert_equal "$stderr" 'compress_audio.sh: Python package missing: semanticodec; it is installed from its source repository: pip install git+https://github.com/haoheliu/SemantiCodec-inference.git'
  assert_dir_empty out
}
