#!/usr/bin/env bats
# "-" as INPUT (standard input, spooled into the work directory) and as OUTPUT (standard output)
# in the single-file form of both scripts: every pipe form of the README, a producer that dies
# mid-stream, a consumer that closes early, and the refusals (a terminal, a batch).

# bats' run sets stderr and stderr_lines; the bash -c scripts expand their own $1:
# shellcheck disable=SC2154,SC2016
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  export ENC=$BATS_FILE_TMPDIR/enc
  mkdir -p "$ENC"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/clip.snac"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/clip.c2"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.opus"
  # 20 s: more than a pipe's buffer, decoded or not, so an early close is felt.
  lavfi 'sine=frequency=440:sample_rate=24000:duration=20' "$BATS_FILE_TMPDIR/long.wav"
  compress_audio.sh "$BATS_FILE_TMPDIR/long.wav" "$ENC/long.c2"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# --- standard input --------------------------------------------------------------------------

@test "ffmpeg ... -f wav - | compress_audio.sh - OUTPUT.snac writes what a named input writes" {
  run -0 --separate-stderr bash -c 'ffmpeg -nostdin -v error -i "$1" -f wav - |
    compress_audio.sh - out/piped.snac' _ "$REF/mono24k.wav"
  refute_output
  assert_equal "$stderr" ''
  cmp out/piped.snac "$ENC/clip.snac"
  assert_dir_empty "$TMPDIR"
}

@test "a compressed INPUT - is recognised by its content: .snac, .c2 and .opus" {
  local ext
  for ext in snac c2 opus; do
    run -0 --separate-stderr bash -c 'cat "$1" | decompress_audio.sh - "$2"' _ \
      "$ENC/clip.$ext" "out/$ext.wav"
    assert_equal "$stderr" ''
    decompress_audio.sh "$ENC/clip.$ext" "out/$ext-named.wav"
    cmp "out/$ext.wav" "out/$ext-named.wav"
  done
  assert_dir_empty "$TMPDIR"
}

@test "a headerless .lpcnet on standard input is refused: only its name tells it (exit 4)" {
  printf 'STUB0123456789' >clip.lpcnet
  run -4 --separate-stderr bash -c 'decompress_audio.sh - out/x.wav <clip.lpcnet'
  assert_equal "$stderr" \
    'decompress_audio.sh: standard input: not a file this toolkit can decode (unknown format)'
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "an empty standard input is refused with exit 4" {
  run -4 --separate-stderr bash -c 'compress_audio.sh - out/x.c2 </dev/null'
  assert_equal "$stderr" 'compress_audio.sh: standard input: file is empty'
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "standard input with an existing OUTPUT is still refused without -f (exit 7)" {
  printf 'keep' >out/x.c2
  run -7 --separate-stderr bash -c 'compress_audio.sh - out/x.c2 <"$1"' _ "$REF/mono8k.wav"
  assert_equal "$stderr" 'compress_audio.sh: out/x.c2: already exists (use -f to replace it)'
  assert_equal "$(<out/x.c2)" keep
}

# --- standard output -------------------------------------------------------------------------

@test "compress_audio.sh -c snac INPUT - writes the container to standard output" {
  run -0 --separate-stderr bash -c 'compress_audio.sh -c snac "$1" - >out/stdout.snac' _ \
    "$REF/mono24k.wav"
  assert_equal "$stderr" ''
  cmp out/stdout.snac "$ENC/clip.snac"
  assert_dir_empty "$TMPDIR"
}

@test "OUTPUT - without -c is a usage error for compress_audio.sh (exit 2)" {
  run -2 --separate-stderr compress_audio.sh "$REF/mono24k.wav" -
  assert_equal "$stderr" \
    'compress_audio.sh: -: standard output has no extension; name the codec with -c EXT'
  refute_output
}

@test "decompress_audio.sh FILE - writes a WAV whose header gives the true length" {
  run -0 --separate-stderr bash -c 'decompress_audio.sh "$1" - >out/stdout.wav' _ \
    "$ENC/clip.snac"
  assert_equal "$stderr" ''
  decompress_audio.sh "$ENC/clip.snac" out/named.wav
  cmp out/stdout.wav out/named.wav
  # The RIFF size field is the file's size less 8: the length is in the header, not unknown.
  assert_equal "$(od -An -tu4 -j4 -N4 out/stdout.wav | tr -d ' ')" \
    "$(($(size_of out/stdout.wav) - 8))"
  assert_dir_empty "$TMPDIR"
}

@test "decompress_audio.sh -c flac FILE - writes FLAC to standard output" {
  run -0 --separate-stderr bash -c 'decompress_audio.sh -c flac "$1" - >out/x.flac' _ \
    "$ENC/clip.opus"
  assert_equal "$stderr" ''
  assert_equal "$(codec_name_of out/x.flac)" flac
  assert_equal "$(rate_of out/x.flac)" 48000
}

@test "- - pipes a compress into a decompress with no file between" {
  run -0 --separate-stderr bash -c 'compress_audio.sh -c c2 - - <"$1" |
    decompress_audio.sh - - >out/round.wav' _ "$REF/mono8k.wav"
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/round.wav)" 8000
  assert_duration out/round.wav 1.5 0.04 0.001
  assert_dir_empty "$TMPDIR"
}

# --- broken pipes ----------------------------------------------------------------------------

@test "a producer killed mid-stream leaves the audio that arrived, and no temporary file" {
  # 30000 bytes: the WAV header and 0.62 s of 24 kHz samples, then the producer is killed.
  run -0 --separate-stderr bash -c '{ head -c 30000 "$1"; kill -KILL $BASHPID; } |
    compress_audio.sh - out/cut.c2' _ "$BATS_FILE_TMPDIR/long.wav"
  assert_equal "$stderr" ''
  decompress_audio.sh out/cut.c2 out/cut.wav
  assert_duration out/cut.wav 0.6 0.04 0.05
  assert_dir_empty "$TMPDIR"
}

@test "a producer killed inside the header is one line of error (exit 4), no traceback" {
  run -4 --separate-stderr bash -c '{ head -c 20 "$1"; kill -KILL $BASHPID; } |
    compress_audio.sh - out/cut.snac' _ "$REF/mono24k.wav"
  assert_equal "$stderr" 'compress_audio.sh: standard input: not a media file FFmpeg can read'
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
  run -4 --separate-stderr bash -c 'head -c 40 "$1" | decompress_audio.sh - out/x.wav' _ \
    "$ENC/clip.opus"
  assert_equal "$stderr" 'decompress_audio.sh: standard input: not a valid Ogg file'
  assert_dir_empty "$TMPDIR"
}

@test "a truncated .snac on standard input is one line of error (exit 4), no traceback" {
  run -4 --separate-stderr bash -c 'head -c 60 "$1" | decompress_audio.sh - out/x.wav' _ \
    "$ENC/clip.snac"
  assert_equal "${#stderr_lines[@]}" 1
  # The helper names its input too: as "standard input", not by the spooled file's name.
  assert_regex "$stderr" '^decompress_audio\.sh: standard input: '
  refute_regex "$stderr" 'Traceback'
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a consumer that closes early (| head -c 100) ends decompress quietly, no temporary file" {
  local trap
  # SIGPIPE at its default, and ignored (as some parents leave it): quiet either way.
  for trap in '' "trap '' PIPE;"; do
    run -0 --separate-stderr bash -c "$trap"' decompress_audio.sh "$1" - 2>err |
      head -c 100 | wc -c; echo "status ${PIPESTATUS[0]}"' _ "$ENC/long.c2"
    assert_line --index 0 100
    assert_line --index 1 'status 141'
    assert_equal "$(<err)" ''
    assert_dir_empty "$TMPDIR"
  done
}

@test "a consumer that closes early ends compress quietly, no temporary file" {
  local trap
  # 64 kbps: 160 kB of Opus, more than a pipe holds.
  for trap in '' "trap '' PIPE;"; do
    run -0 --separate-stderr bash -c "$trap"' OPUS_BITRATE=64 compress_audio.sh -c opus "$1" - \
      2>err | head -c 100 | wc -c; echo "status ${PIPESTATUS[0]}"' _ "$BATS_FILE_TMPDIR/long.wav"
    assert_line --index 0 100
    assert_line --index 1 'status 141'
    assert_equal "$(<err)" ''
    assert_dir_empty "$TMPDIR"
  done
}

# --- refusals --------------------------------------------------------------------------------

@test "binary OUTPUT - on a terminal is refused (exit 7), by both scripts" {
  run -7 script -qec "compress_audio.sh -c c2 '$REF/mono8k.wav' -" /dev/null
  assert_output --partial 'compress_audio.sh: refusing to write binary data to a terminal'
  run -7 script -qec "decompress_audio.sh '$ENC/clip.c2' -" /dev/null
  assert_output --partial 'decompress_audio.sh: refusing to write binary data to a terminal'
  assert_dir_empty "$TMPDIR"
}

@test "INPUT - on a terminal is refused (exit 2)" {
  run -2 script -qec "compress_audio.sh - '$BATS_TEST_TMPDIR/out/x.c2'" /dev/null
  assert_output --partial 'compress_audio.sh: refusing to read binary data from a terminal'
  assert_dir_empty out
}

@test "- in a batch, once or twice, is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -c c2 -o out "$REF/mono8k.wav" - </dev/null
  assert_equal "$stderr" \
    'compress_audio.sh: -: a batch cannot read standard input (use: compress_audio.sh - OUTPUT)'
  run -2 --separate-stderr compress_audio.sh -c c2 -o out - - </dev/null
  assert_equal "$stderr" \
    'compress_audio.sh: -: a batch cannot read standard input (use: compress_audio.sh - OUTPUT)'
  run -2 --separate-stderr decompress_audio.sh -o out - </dev/null
  assert_equal "$stderr" \
    'decompress_audio.sh: -: a batch cannot read standard input (use: decompress_audio.sh - OUTPUT)'
  assert_dir_empty out
}
