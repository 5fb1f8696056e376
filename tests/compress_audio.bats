#!/usr/bin/env bats
# compress_audio.sh: options, errors and every codec end to end with the real FFmpeg, Codec2 and
# model classes (random-weight checkpoints), plus stand-ins for the unpackaged LPCNet and NESC.

# shellcheck disable=SC2154,SC2030,SC2031 # bats' run sets stderr and stderr_lines, and status
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  export BARE_PYTHON=$BATS_FILE_TMPDIR/bare/bin/python
  make_bare_python "$BATS_FILE_TMPDIR/bare"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# --- help and usage -------------------------------------------------------------------------

@test "-h prints the usage on stdout and exits 0" {
  run -0 --separate-stderr compress_audio.sh -h
  assert_line --index 0 'Usage: compress_audio.sh [-f] [-q] [--] INPUT OUTPUT'
  assert_line '  -f, --force         replace OUTPUT if it already exists'
  assert_line --partial 'SNAC_VARIANT      24khz, 32khz or 44khz'
  assert_line --partial 'Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing dependency'
  assert_equal "$stderr" ''
}

@test "--help prints the same usage as -h" {
  run -0 --separate-stderr compress_audio.sh -h
  local short=$output
  run -0 --separate-stderr compress_audio.sh --help
  assert_output "$short"
  assert_line --index 0 'Usage: compress_audio.sh [-f] [-q] [--] INPUT OUTPUT'
  assert_equal "$stderr" ''
}

@test "no arguments is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh
  assert_equal "$stderr" 'compress_audio.sh: expected INPUT and OUTPUT (see --help)'
  refute_output
}

@test "an INPUT without an OUTPUT is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh "$REF/mono24k.wav"
  assert_equal "$stderr" 'compress_audio.sh: expected INPUT and OUTPUT (see --help)'
  refute_output
}

@test "an unknown option is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh --fast "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: unknown option: --fast (see --help)'
  refute_output
  assert_dir_empty out
}

@test "an OUTPUT extension that names no codec is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.mp3
  assert_equal "$stderr" \
    'compress_audio.sh: out/clip.mp3: unknown extension; supported: .ecdc .snac .mimi .dac .semanticodec .c2 .opus .lpcnet .nesc'
  refute_output
  assert_dir_empty out
}

@test "-- ends the options, so names starting with a dash are files" {
  cp "$REF/mono24k.wav" ./-clip.wav
  run -0 --separate-stderr compress_audio.sh -- -clip.wav -clip.c2
  refute_output
  assert_equal "$stderr" ''
  assert_file_exists ./-clip.c2
}

@test "file names with spaces and colons are taken literally" {
  cp "$REF/mono24k.wav" 'take 1: intro.wav'
  run -0 --separate-stderr compress_audio.sh 'take 1: intro.wav' 'out/take 1: intro.opus'
  refute_output
  assert_file_exists 'out/take 1: intro.opus'
  assert_equal "$(codec_name_of 'out/take 1: intro.opus')" opus
}

# --- bad input (exit 4) ---------------------------------------------------------------------

@test "a missing INPUT is refused with exit 4" {
  run -4 --separate-stderr compress_audio.sh missing.wav out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: missing.wav: no such file'
  refute_output
  assert_dir_empty out
}

@test "a directory as INPUT is refused with exit 4" {
  mkdir clips
  run -4 --separate-stderr compress_audio.sh clips out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: clips: is a directory'
  refute_output
  assert_dir_empty out
}

@test "an empty INPUT is refused with exit 4" {
  touch empty.wav
  run -4 --separate-stderr compress_audio.sh empty.wav out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: empty.wav: file is empty'
  refute_output
  assert_dir_empty out
}

@test "a text file as INPUT is refused with exit 4" {
  echo 'not audio at all' >notes.txt
  run -4 --separate-stderr compress_audio.sh notes.txt out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: notes.txt: not a media file FFmpeg can read'
  refute_output
  assert_dir_empty out
}

@test "a media file without an audio stream is refused with exit 4" {
  lavfi 'color=c=red:s=16x16' picture.png -frames:v 1
  run -4 --separate-stderr compress_audio.sh picture.png out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: picture.png: has no audio stream'
  refute_output
  assert_dir_empty out
}

@test "a WAV with no samples is refused with exit 4" {
  lavfi 'sine=sample_rate=24000' silent.wav -t 0
  run -4 --separate-stderr compress_audio.sh silent.wav out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: silent.wav: contains no audio samples'
  refute_output
  assert_dir_empty out
}

# --- OUTPUT refused (exit 7) ----------------------------------------------------------------

@test "an existing OUTPUT is kept, byte for byte, without -f (exit 7)" {
  printf 'keep me' >out/clip.c2
  run -7 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: out/clip.c2: already exists (use -f to replace it)'
  refute_output
  assert_equal "$(cat out/clip.c2)" 'keep me'
  assert_equal "$(ls -A out)" clip.c2
}

@test "-f and --force replace an existing OUTPUT" {
  printf 'old' >out/short.c2
  printf 'old' >out/long.c2
  run -0 --separate-stderr compress_audio.sh -f "$REF/mono24k.wav" out/short.c2
  refute_output
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/long.c2 --force
  refute_output
  assert_equal "$(size_of out/short.c2)" 229
  assert_files_equal out/short.c2 out/long.c2
}

@test "OUTPUT that is INPUT itself is refused with exit 7" {
  cp "$REF/mono24k.wav" clip.c2
  cp clip.c2 original
  run -7 --separate-stderr compress_audio.sh -f clip.c2 ./clip.c2
  assert_equal "$stderr" 'compress_audio.sh: ./clip.c2: OUTPUT is the same file as INPUT'
  refute_output
  assert_files_equal clip.c2 original
}

@test "OUTPUT in a directory that does not exist is refused with exit 7" {
  run -7 --separate-stderr compress_audio.sh "$REF/mono24k.wav" nowhere/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: nowhere/clip.c2: directory nowhere does not exist'
  refute_output
  assert_dir_not_exists nowhere
}

@test "OUTPUT that is a directory is refused with exit 7, even with -f" {
  mkdir out/clip.c2
  run -7 --separate-stderr compress_audio.sh -f "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: out/clip.c2: is a directory'
  refute_output
  assert_dir_exists out/clip.c2
}

# --- bad knob values (exit 5), nothing written ----------------------------------------------

@test "TORCH_THREADS=0 is refused with exit 5" {
  run -5 --separate-stderr env TORCH_THREADS=0 compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: TORCH_THREADS=0: expected a whole number from 1 to 1024'
  refute_output
  assert_dir_empty out
}

@test "ENCODEC_BITRATE=2 is refused with exit 5" {
  run -5 --separate-stderr env ENCODEC_BITRATE=2 compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: ENCODEC_BITRATE=2: expected 1.5, 3, 6, 12 or 24'
  refute_output
  assert_dir_empty out
}

@test "ENCODEC_LM=yes is refused with exit 5" {
  run -5 --separate-stderr env ENCODEC_LM=yes compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: ENCODEC_LM=yes: expected 0 or 1'
  refute_output
  assert_dir_empty out
}

@test "SNAC_VARIANT=16khz is refused with exit 5" {
  run -5 --separate-stderr env SNAC_VARIANT=16khz compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: SNAC_VARIANT=16khz: expected 24khz, 32khz or 44khz'
  refute_output
  assert_dir_empty out
}

@test "SNAC_SAMPLE_RATE=abc is refused with exit 5" {
  run -5 --separate-stderr env SNAC_SAMPLE_RATE=abc compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" \
    'compress_audio.sh: SNAC_SAMPLE_RATE=abc: expected a rate in Hz from 1000 to 384000'
  refute_output
  assert_dir_empty out
}

@test "SNAC_SAMPLE_RATE that differs from the model's rate is refused with exit 5" {
  run -5 --separate-stderr env SNAC_SAMPLE_RATE=16000 \
    compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: the input is at 16000 Hz, model hubertsiuzdak/snac_24khz needs 24000 Hz (SNAC_SAMPLE_RATE)'
  refute_output
  assert_dir_empty out
}

@test "CODEC2_MODE=999 is refused with exit 5" {
  run -5 --separate-stderr env CODEC2_MODE=999 compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" \
    'compress_audio.sh: CODEC2_MODE=999: expected 3200, 2400, 1600, 1400, 1300, 1200 or 700C'
  refute_output
  assert_dir_empty out
}

@test "OPUS_BITRATE=0 is refused with exit 5" {
  run -5 --separate-stderr env OPUS_BITRATE=0 compress_audio.sh "$REF/mono24k.wav" out/clip.opus
  assert_equal "$stderr" 'compress_audio.sh: OPUS_BITRATE=0: expected whole kbps from 1 to 512'
  refute_output
  assert_dir_empty out
}

@test "NESC_ENC_ARGS without %o is refused with exit 5" {
  run -5 --separate-stderr env NESC_ENC_ARGS='--in %i' \
    compress_audio.sh "$REF/mono24k.wav" out/clip.nesc
  assert_equal "$stderr" 'compress_audio.sh: NESC_ENC_ARGS=--in %i: must contain %i (input) and %o (output)'
  refute_output
  assert_dir_empty out
}

@test "a bad knob is refused even when the chosen codec does not use it" {
  run -5 --separate-stderr env ENCODEC_BITRATE=2 compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: ENCODEC_BITRATE=2: expected 1.5, 3, 6, 12 or 24'
  refute_output
  assert_dir_empty out
}

@test "PYTHON_BIN that is not an executable is refused with exit 5" {
  run -5 --separate-stderr env PYTHON_BIN=/nonexistent/python \
    compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  assert_equal "$stderr" 'compress_audio.sh: PYTHON_BIN=/nonexistent/python: not an executable'
  refute_output
  assert_dir_empty out
}

# --- missing dependencies (exit 3) ----------------------------------------------------------

@test "FFMPEG=/nonexistent is a missing dependency (exit 3)" {
  run -3 --separate-stderr env FFMPEG=/nonexistent compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" \
    'compress_audio.sh: /nonexistent not found (set by FFMPEG); install it or point FFMPEG at it'
  refute_output
  assert_dir_empty out
}

@test "an FFPROBE that is not on PATH is a missing dependency (exit 3)" {
  run -3 --separate-stderr env FFPROBE=no-such-ffprobe \
    compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" \
    'compress_audio.sh: no-such-ffprobe not found; install it or point FFPROBE at it'
  refute_output
  assert_dir_empty out
}

@test "C2ENC=/nonexistent is a missing dependency (exit 3)" {
  run -3 --separate-stderr env C2ENC=/nonexistent compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" \
    'compress_audio.sh: /nonexistent not found (set by C2ENC); install it or point C2ENC at it'
  refute_output
  assert_dir_empty out
}

@test "a SNAC model missing from the Hugging Face cache exits 3 naming the model" {
  mkdir empty-hf
  run -3 --separate-stderr env HF_HOME="$PWD/empty-hf" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: SNAC model hubertsiuzdak/snac_24khz is not in the Hugging Face cache and cannot be downloaded (LocalEntryNotFoundError); run once with network access to cache it, or set SNAC_MODEL to a local directory with config.json and pytorch_model.bin'
  refute_regex "$stderr" 'Traceback'
  refute_output
  assert_dir_empty out
}

@test "EnCodec weights missing from the torch hub cache exit 3 naming the checkpoint" {
  # A proxy that refuses every connection keeps the attempted download off the network.
  local where=$PWD/empty-torch/hub/checkpoints/encodec_24khz-d7cc33bc.th
  mkdir empty-torch
  run -3 --separate-stderr env TORCH_HOME="$PWD/empty-torch" \
    https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  refute_output
  refute_regex "$stderr" 'Traceback'
  assert_equal "${#stderr_lines[@]}" 1
  assert_equal "${stderr_lines[0]%% (<*}" \
    "compress_audio.sh: EnCodec weights encodec_24khz-d7cc33bc.th are not in the torch hub cache ($where) and cannot be downloaded"
  assert_regex "${stderr_lines[0]}" '\); run once with network access to cache them$'
  assert_dir_empty out
}

@test "SNAC_MODEL naming a directory without config.json exits 3" {
  mkdir model
  run -3 --separate-stderr env SNAC_MODEL=model compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: SNAC model directory model has no config.json'
  refute_output
  assert_dir_empty out
}

# --- .ecdc ----------------------------------------------------------------------------------

@test ".ecdc is EnCodec at 1.5 kbps by default and records the source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  refute_output
  assert_equal "$stderr" ''
  run -0 info_of out/clip.ecdc
  assert_output "$(printf '%s\n' container=ecdc codec=encodec model=encodec_24khz sample_rate=24000 \
    source_rate=24000 samples=36000 duration=1.500 codebooks=2 "bytes=$(size_of out/clip.ecdc)" \
    kbps=1.93 lm=0)"
}

@test "ENCODEC_BITRATE=6 writes 8 codebooks, over three times the size of 1.5 kbps" {
  run -0 compress_audio.sh "$REF/mono24k.wav" out/low.ecdc
  run -0 --separate-stderr env ENCODEC_BITRATE=6 compress_audio.sh "$REF/mono24k.wav" out/high.ecdc
  refute_output
  run -0 info_of out/high.ecdc
  assert_line codebooks=8
  assert [ "$(size_of out/high.ecdc)" -gt "$((3 * $(size_of out/low.ecdc)))" ]
}

@test "ENCODEC_LM=1 writes an entropy-coded .ecdc no larger than the plain one" {
  run -0 compress_audio.sh "$REF/mono24k.wav" out/plain.ecdc
  run -0 --separate-stderr env ENCODEC_LM=1 compress_audio.sh "$REF/mono24k.wav" out/lm.ecdc
  refute_output
  run -0 info_of out/lm.ecdc
  assert_line lm=1
  assert_line codebooks=2
  assert [ "$(size_of out/lm.ecdc)" -le "$(size_of out/plain.ecdc)" ]
}

@test ".ecdc of an 8 kHz WAV records 8000 as the source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono8k.wav" out/clip.ecdc
  refute_output
  run -0 info_of out/clip.ecdc
  assert_line source_rate=8000
  assert_line samples=36000
}

@test "a WAV's source rate is read from its header, without running ffprobe" {
  run -0 --separate-stderr env FFPROBE=false compress_audio.sh "$REF/mono8k.wav" out/clip.ecdc
  refute_output
  run -0 info_of out/clip.ecdc
  assert_line source_rate=8000
}

@test "any other input's source rate comes from ffprobe" {
  run -4 --separate-stderr env FFPROBE=false compress_audio.sh "$REF/aac44k.m4a" out/clip.ecdc
  assert_equal "$stderr" "compress_audio.sh: $REF/aac44k.m4a: not a media file FFmpeg can read"
  assert_dir_empty out
}

@test ".ecdc of an M4A (AAC) records its 44.1 kHz source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/aac44k.m4a" out/clip.ecdc
  refute_output
  run -0 info_of out/clip.ecdc
  assert_line source_rate=44100
}

# --- .snac ----------------------------------------------------------------------------------

@test ".snac is snac_24khz by default and records the source rate and length" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  refute_output
  assert_equal "$stderr" ''
  run -0 info_of out/clip.snac
  assert_output "$(printf '%s\n' container=snac codec=snac model=hubertsiuzdak/snac_24khz \
    sample_rate=24000 source_rate=24000 samples=36000 duration=1.500 levels=3 \
    "bytes=$(size_of out/clip.snac)" kbps=1.23 bits=12)"
}

@test ".snac of a stereo 44.1 kHz MP3 is downmixed and records 44100 as the source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/stereo44k.mp3" out/clip.snac
  refute_output
  run -0 info_of out/clip.snac
  assert_line sample_rate=24000
  assert_line source_rate=44100
  assert_line samples=24000
}

@test "SNAC_VARIANT=32khz writes a 32 kHz container that restores the source rate" {
  run -0 --separate-stderr env SNAC_VARIANT=32khz compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  refute_output
  run -0 info_of out/clip.snac
  assert_line model=hubertsiuzdak/snac_32khz
  assert_line sample_rate=32000
  assert_line source_rate=24000
  assert_line samples=48000
  assert_line levels=4
  run -0 --separate-stderr decompress_audio.sh out/clip.snac out/clip.wav
  assert_equal "$(rate_of out/clip.wav)" 24000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

@test "SNAC_MODEL and SNAC_SAMPLE_RATE named explicitly override SNAC_VARIANT" {
  run -0 --separate-stderr env SNAC_VARIANT=44khz SNAC_MODEL=hubertsiuzdak/snac_32khz \
    SNAC_SAMPLE_RATE=32000 compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" ''
  run -0 info_of out/clip.snac
  assert_line model=hubertsiuzdak/snac_32khz
  assert_line sample_rate=32000
  assert_line samples=48000
}

@test "SNAC_VARIANT=44khz writes a 44.1 kHz container" {
  run -0 --separate-stderr env SNAC_VARIANT=44khz compress_audio.sh "$REF/stereo44k.mp3" out/clip.snac
  refute_output
  run -0 info_of out/clip.snac
  assert_line model=hubertsiuzdak/snac_44khz
  assert_line sample_rate=44100
  assert_line samples=44100
  assert_line levels=4
}

# --- .mimi ----------------------------------------------------------------------------------

@test ".mimi keeps 8 codebooks by default and records the source rate and length" {
  run -0 --separate-stderr compress_audio.sh "$REF/stereo44k.mp3" out/clip.mimi
  refute_output
  assert_equal "$stderr" ''
  run -0 info_of out/clip.mimi
  assert_output "$(printf '%s\n' container=mimi codec=mimi model=kyutai/mimi sample_rate=24000 \
    source_rate=44100 samples=24000 duration=1.000 codebooks=8 levels=8 \
    "bytes=$(size_of out/clip.mimi)" kbps=1.63 bits=11)"
}

@test "MIMI_CODEBOOKS sets the codebooks kept: 11 bits each per 80 ms frame" {
  local count
  # 1.5 s is 19 frames; the file is 29 bytes of header and CRC, 4 a codebook, then the codes.
  local -A size=([1]=$((29 + 4 + (19 * 11 + 7) / 8)) [4]=$((29 + 16 + (19 * 44 + 7) / 8))
    [32]=$((29 + 128 + 19 * 352 / 8)))
  for count in 1 4 32; do
    # Torch: with each count, auto would prepare a compiled encoder of its own (40-60 s).
    run -0 --separate-stderr env MIMI_CODEBOOKS=$count MODEL_BACKEND=torch compress_audio.sh \
      "$REF/mono24k.wav" "out/$count.mimi"
    assert_equal "$count: $(size_of "out/$count.mimi")" "$count: ${size[$count]}"
    run -0 info_of "out/$count.mimi"
    assert_line "levels=$count"
  done
}

@test "SNAC_MODEL may be a local directory holding a snapshot" {
  cp -rL "$HF_HOME"/hub/models--hubertsiuzdak--snac_24khz/snapshots/* "$PWD/my-snac"
  run -0 --separate-stderr env SNAC_MODEL="$PWD/my-snac" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  refute_output
  run -0 info_of out/clip.snac
  assert_line "model=$PWD/my-snac"
  assert_line sample_rate=24000
  run -0 --separate-stderr env SNAC_MODEL="$PWD/my-snac" decompress_audio.sh out/clip.snac out/clip.wav
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

# --- .c2 ------------------------------------------------------------------------------------

@test ".c2 is Codec2 1200 with its header by default" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(od -An -tx1 -N3 out/clip.c2 | tr -d ' ')" c0dec2
  # 1.5 s is 37 whole 40 ms frames of 48 bits (6 bytes), after the 7-byte header.
  assert_equal "$(size_of out/clip.c2)" $((7 + 37 * 6))
}

@test "each CODEC2_MODE writes its own bit rate" {
  # 1.5 s: 75 frames of 20 ms at 3200/2400, else 37 frames of 40 ms; bytes per frame are the
  # mode's bits per frame rounded up to whole bytes; then Codec2's 7-byte header.
  local mode expected
  local -A sizes=([3200]=$((75 * 8)) [2400]=$((75 * 6)) [1600]=$((37 * 8)) [1400]=$((37 * 7))
    [1300]=$((37 * 7)) [1200]=$((37 * 6)) [700C]=$((37 * 4)))
  for mode in 3200 2400 1600 1400 1300 1200 700C; do
    run -0 --separate-stderr env CODEC2_MODE="$mode" \
      compress_audio.sh "$REF/mono24k.wav" "out/$mode.c2"
    refute_output
    expected=$((7 + sizes[$mode]))
    assert_equal "$mode: $(size_of "out/$mode.c2")" "$mode: $expected"
  done
  assert [ "$(size_of out/3200.c2)" -gt "$(size_of out/2400.c2)" ]
  assert [ "$(size_of out/1200.c2)" -gt "$(size_of out/700C.c2)" ]
}

@test ".c2 of a 1 s stereo MP3 holds 1 s of Codec2" {
  run -0 --separate-stderr compress_audio.sh "$REF/stereo44k.mp3" out/clip.c2
  refute_output
  assert_equal "$(size_of out/clip.c2)" $((7 + 25 * 6))
}

@test "an upper-case .C2 OUTPUT is a Codec2 file with its header" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/CLIP.C2
  refute_output
  assert_equal "$(od -An -tx1 -N3 out/CLIP.C2 | tr -d ' ')" c0dec2
  assert_equal "$(size_of out/CLIP.C2)" 229
}

# --- .opus ----------------------------------------------------------------------------------

@test ".opus is Ogg Opus tagged with the source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono48k.flac" out/clip.opus
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(codec_name_of out/clip.opus)" opus
  assert_equal "$(channels_of out/clip.opus)" 1
  run -0 ffprobe -v error -show_entries stream_tags=SOURCE_RATE -of csv=p=0 out/clip.opus
  assert_output 48000
}

@test ".opus of an M4A records its 44.1 kHz source rate" {
  run -0 --separate-stderr compress_audio.sh "$REF/aac44k.m4a" out/clip.opus
  refute_output
  run -0 ffprobe -v error -show_entries stream_tags=SOURCE_RATE -of csv=p=0 out/clip.opus
  assert_output 44100
}

@test "OPUS_BITRATE=24 writes over twice the size of the 6 kbps default" {
  run -0 compress_audio.sh "$REF/mono48k.flac" out/low.opus
  run -0 --separate-stderr env OPUS_BITRATE=24 compress_audio.sh "$REF/mono48k.flac" out/high.opus
  refute_output
  assert [ "$(size_of out/high.opus)" -gt "$((2 * $(size_of out/low.opus)))" ]
}

# --- .lpcnet and .nesc through stand-ins ----------------------------------------------------

@test ".lpcnet hands lpcnet_demo -encode the whole clip as 16 kHz PCM" {
  make_codec_stubs bin
  run -0 --separate-stderr env LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_LOG="$PWD/stub.log" \
    EXPECT_PCM_BYTES=$((2 * 16000 * 3 / 2)) compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  refute_output
  assert_equal "$stderr" ''
  assert_file_exists out/clip.lpcnet
  run -0 cat stub.log
  assert_equal "${#lines[@]}" 1
  # The output is staged under a hidden name beside OUTPUT and renamed on success.
  assert_line --regexp '^lpcnet_demo -encode /[^ ]+/in\.pcm out/\.clip\.lpcnet\.[^ /]+\.lpcnet$'
  refute_line --partial CONTRACT
}

@test ".nesc runs NESC_ENC on the 16 kHz PCM with the default \"%i %o\"" {
  make_codec_stubs bin
  run -0 --separate-stderr env NESC_ENC="$PWD/bin/nesc_enc" STUB_LOG="$PWD/stub.log" \
    EXPECT_PCM_BYTES=$((2 * 16000 * 3 / 2)) compress_audio.sh "$REF/mono24k.wav" out/clip.nesc
  refute_output
  assert_file_exists out/clip.nesc
  run -0 cat stub.log
  assert_line --regexp '^nesc_enc /[^ ]+/in\.pcm out/\.clip\.nesc\.[^ /]+\.nesc$'
  refute_line --partial CONTRACT
}

@test "NESC_ENC_ARGS places %i and %o among extra words" {
  make_codec_stubs bin
  run -0 --separate-stderr env NESC_ENC="$PWD/bin/nesc_enc" STUB_LOG="$PWD/stub.log" \
    NESC_ENC_ARGS='--output %o --input %i' EXPECT_PCM_BYTES=$((2 * 16000))  \
    compress_audio.sh "$REF/stereo44k.mp3" out/clip.nesc
  refute_output
  assert_file_exists out/clip.nesc
  run -0 cat stub.log
  assert_line --regexp '^nesc_enc --output out/\.clip\.nesc\.[^ /]+\.nesc --input /[^ ]+/in\.pcm$'
  refute_line --partial CONTRACT
}

@test "a missing LPCNET_BIN exits 3 naming the binary and the variable" {
  run -3 --separate-stderr env LPCNET_BIN="$PWD/nowhere/lpcnet_demo" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  assert_equal "$stderr" "compress_audio.sh: $PWD/nowhere/lpcnet_demo not found (set by LPCNET_BIN); install it or point LPCNET_BIN at it"
  refute_output
  assert_dir_empty out
}

@test "an LPCNET_BIN that is not executable exits 3" {
  make_codec_stubs bin
  chmod -x bin/lpcnet_demo
  run -3 --separate-stderr env LPCNET_BIN="$PWD/bin/lpcnet_demo" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  assert_equal "$stderr" "compress_audio.sh: $PWD/bin/lpcnet_demo is not executable (set by LPCNET_BIN)"
  refute_output
  assert_dir_empty out
}

@test "an LPCNET_BIN that fails exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  run -6 --separate-stderr env LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_MODE=fail \
    compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  assert_equal "$stderr" "compress_audio.sh: $PWD/bin/lpcnet_demo (set by LPCNET_BIN) failed with exit status 9"
  refute_output
  assert_dir_empty out
}

@test "an LPCNET_BIN that writes nothing exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  run -6 --separate-stderr env LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_MODE=silent \
    compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  assert_equal "$stderr" "compress_audio.sh: $PWD/bin/lpcnet_demo (set by LPCNET_BIN) wrote no output"
  refute_output
  assert_dir_empty out
}

@test "a missing NESC_ENC exits 3 naming the binary and the variable" {
  run -3 --separate-stderr env NESC_ENC="$PWD/nowhere/nesc_enc" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.nesc
  assert_equal "$stderr" "compress_audio.sh: $PWD/nowhere/nesc_enc not found (set by NESC_ENC); install it or point NESC_ENC at it"
  refute_output
  assert_dir_empty out
}

@test "a NESC_ENC that fails exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  run -6 --separate-stderr env NESC_ENC="$PWD/bin/nesc_enc" STUB_MODE=fail \
    compress_audio.sh "$REF/mono24k.wav" out/clip.nesc
  assert_equal "$stderr" "compress_audio.sh: $PWD/bin/nesc_enc (set by NESC_ENC) failed with exit status 9"
  refute_output
  assert_dir_empty out
}

# --- housekeeping ---------------------------------------------------------------------------

@test "no temporary files are left in TMPDIR after a success or a failure" {
  make_codec_stubs bin
  mkdir tmp
  run -0 env TMPDIR="$PWD/tmp" compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  run -6 env TMPDIR="$PWD/tmp" LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_MODE=fail \
    compress_audio.sh "$REF/mono24k.wav" out/clip.lpcnet
  assert_dir_empty tmp
  assert_equal "$(ls -A out)" clip.c2
}

@test "OUTPUT gets the permissions of a new file under the umask" {
  umask 022
  run -0 compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_file_permission 644 out/clip.c2
}

# --- robustness (issue 4): bad and unusual INPUTs -------------------------------------------

@test "a WAV cut inside its header is refused with exit 4, leaving nothing behind" {
  head -c 30 "$REF/mono24k.wav" >cut.wav
  run -4 --separate-stderr compress_audio.sh cut.wav out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: cut.wav: not a media file FFmpeg can read'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a WAV with a header and no data is refused with exit 4 by every codec but .opus" {
  local ext
  lavfi 'anullsrc=r=24000:cl=mono' nodata.wav -t 0
  for ext in ecdc snac c2 lpcnet nesc; do
    run --separate-stderr compress_audio.sh nodata.wav "out/clip.$ext"
    assert_equal "$ext: $status" "$ext: 4"
    assert_equal "$stderr" 'compress_audio.sh: nodata.wav: contains no audio samples'
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a WAV with a header and no data is refused with exit 4 by .opus too" {
  lavfi 'anullsrc=r=24000:cl=mono' nodata.wav -t 0
  run -4 --separate-stderr compress_audio.sh nodata.wav out/clip.opus
  assert_equal "$stderr" 'compress_audio.sh: nodata.wav: contains no audio samples'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a single-sample INPUT comes back from .snac as one sample" {
  lavfi 'sine=sample_rate=24000:duration=1' one.wav -af atrim=end_sample=1
  assert_equal "$(samples_of one.wav)" 1
  run -0 --separate-stderr compress_audio.sh one.wav out/one.snac
  refute_output
  assert_equal "$stderr" ''
  run -0 --separate-stderr decompress_audio.sh out/one.snac out/one.wav
  assert_equal "$(rate_of out/one.wav)" 24000
  assert_equal "$(samples_of out/one.wav)" 1
}

@test "a single-sample INPUT at 24 or 48 kHz compresses to .opus and comes back at its rate" {
  local rate
  # One sample at 24 kHz is 2/3 of one at Opus's 16 kHz: padded to one, not taken for empty.
  for rate in 24000 48000; do
    lavfi "sine=sample_rate=$rate:duration=1" "$rate.wav" -af atrim=end_sample=1
    run -0 --separate-stderr compress_audio.sh "$rate.wav" "out/$rate.opus"
    refute_output
    assert_equal "$stderr" ''
    run -0 --separate-stderr decompress_audio.sh "out/$rate.opus" "out/$rate.wav"
    assert_equal "$(rate_of "out/$rate.wav")" "$rate"
  done
}

@test "a single 48 kHz sample, half of one at the models' rate, compresses to .snac and .ecdc" {
  local ext
  lavfi 'sine=sample_rate=48000:duration=1' one.wav -af atrim=end_sample=1
  for ext in snac ecdc; do
    run -0 --separate-stderr compress_audio.sh one.wav "out/one.$ext"
    assert_equal "$stderr" ''
    run -0 info_of "out/one.$ext"
    assert_line samples=1
    assert_line source_rate=48000
  done
}

@test "an INPUT shorter than one Codec2 frame is refused with exit 4, leaving nothing" {
  lavfi 'sine=sample_rate=8000:duration=0.01' short.wav
  run -4 --separate-stderr compress_audio.sh short.wav out/short.c2
  refute_output
  assert_equal "$stderr" 'compress_audio.sh: short.wav: shorter than one Codec2 frame'
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "pure silence compresses to .ecdc and .snac and decodes back to its duration" {
  local ext
  lavfi 'anullsrc=r=24000:cl=mono' silence.wav -t 1.5
  for ext in ecdc snac; do
    run -0 --separate-stderr compress_audio.sh silence.wav "out/silence.$ext"
    refute_output
    assert_equal "$stderr" ''
    run -0 --separate-stderr decompress_audio.sh "out/silence.$ext" "out/$ext.wav"
    refute_output
    assert_equal "$(rate_of "out/$ext.wav")" 24000
    assert_duration "out/$ext.wav" 1.5
  done
}

@test "very loud, clipped audio compresses to .ecdc" {
  lavfi 'aevalsrc=8*sin(440*2*PI*t):s=24000:d=1.5' loud.wav -c:a pcm_s16le
  run -0 --separate-stderr compress_audio.sh loud.wav out/loud.ecdc
  refute_output
  assert_equal "$stderr" ''
  run -0 info_of out/loud.ecdc
  assert_line samples=36000
}

@test "a 32-bit float WAV beyond full scale compresses to .snac and .c2" {
  lavfi 'aevalsrc=8*sin(440*2*PI*t):s=24000:d=1.5' float.wav -c:a pcm_f32le
  assert_equal "$(codec_name_of float.wav)" pcm_f32le
  run -0 --separate-stderr compress_audio.sh float.wav out/float.snac
  refute_output
  assert_equal "$stderr" ''
  run -0 info_of out/float.snac
  assert_line samples=36000
  run -0 --separate-stderr compress_audio.sh float.wav out/float.c2
  refute_output
  assert_equal "$(size_of out/float.c2)" $((7 + 37 * 6))
}

@test "an 8-channel 96 kHz WAV is downmixed and comes back mono at 96000 Hz" {
  local ext
  lavfi 'sine=frequency=440:sample_rate=96000:duration=1' eight.wav \
    -af 'pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0' -c:a pcm_s24le
  assert_equal "$(channels_of eight.wav)" 8
  for ext in snac opus; do
    run -0 --separate-stderr compress_audio.sh eight.wav "out/eight.$ext"
    refute_output
    assert_equal "$stderr" ''
    run -0 --separate-stderr decompress_audio.sh "out/eight.$ext" "out/$ext.wav"
    assert_equal "$ext: $(rate_of "out/$ext.wav") Hz, $(channels_of "out/$ext.wav") channel" \
      "$ext: 96000 Hz, 1 channel"
    assert_duration "out/$ext.wav" 1
  done
}

@test "names with a leading dash, spaces and unicode are taken literally by .snac" {
  cp "$REF/mono24k.wav" './-é 音.wav'
  run -0 --separate-stderr compress_audio.sh -- '-é 音.wav' 'out/-é 音 take.snac'
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(ls -A out)" '-é 音 take.snac'
  run -0 info_of 'out/-é 音 take.snac'
  assert_line samples=36000
}

@test "an OUTPUT without an extension, or with an empty one, is a usage error (exit 2)" {
  local name
  for name in out/clip out/clip. out/clip.snac.bak; do
    run --separate-stderr compress_audio.sh "$REF/mono24k.wav" "$name"
    assert_equal "$name: $status" "$name: 2"
    assert_equal "$stderr" \
      "compress_audio.sh: $name: unknown extension; supported: .ecdc .snac .mimi .dac .semanticodec .c2 .opus .lpcnet .nesc"
    refute_output
  done
  assert_dir_empty out
}

@test "an unreadable INPUT is refused with exit 4" {
  require_nobody
  cp "$REF/mono24k.wav" private.wav
  chmod 600 private.wav
  run -4 --separate-stderr as_nobody compress_audio.sh private.wav out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: private.wav: permission denied'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "OUTPUT in a read-only directory is refused with exit 7" {
  require_nobody
  mkdir locked
  chmod 555 locked
  run -7 --separate-stderr as_nobody compress_audio.sh "$REF/mono24k.wav" locked/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: locked/clip.c2: directory locked is not writable'
  refute_output
  assert_dir_empty locked
  assert_dir_empty "$TMPDIR"
}

@test "a TMPDIR that does not exist is refused with exit 7 in one line" {
  run -7 --separate-stderr env TMPDIR="$PWD/nowhere" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" "compress_audio.sh: cannot create a temporary directory in $PWD/nowhere"
  refute_output
  assert_dir_empty out
}

# --- robustness (issue 4): missing dependencies and bad knobs -------------------------------

@test "ffmpeg missing from PATH is a missing dependency (exit 3)" {
  bin_without bin ffmpeg
  run -3 --separate-stderr env PATH="$REPO_ROOT:$PWD/bin" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: ffmpeg not found; install it or point FFMPEG at it'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a Python without the toolkit's packages exits 3 naming the package" {
  local ext
  for ext in ecdc snac; do
    run --separate-stderr env PYTHON_BIN="$BARE_PYTHON" \
      compress_audio.sh "$REF/mono24k.wav" "out/clip.$ext"
    assert_equal "$ext: $status" "$ext: 3"
    assert_equal "$stderr" 'compress_audio.sh: Python package missing: numpy (run: make setup)'
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "TORCH_THREADS, TORCH_DEVICE and MODEL_BACKEND reach the encoder helper unchanged" {
  local python backend
  python=$(python_logger "$PWD/python.log")
  for backend in torch onnx compiled; do
    run -0 --separate-stderr env PYTHON_BIN="$python" TORCH_THREADS=2 TORCH_DEVICE=auto \
      MODEL_BACKEND="$backend" compress_audio.sh "$REF/mono24k.wav" "out/$backend.snac"
    assert_equal "$stderr" ''
    run -0 info_of "out/$backend.snac"
    assert_line samples=36000
  done
  run -0 cat python.log
  assert_equal "${#lines[@]}" 3
  assert_line --index 0 --regexp '/encode_ecdc\.py --threads 2 --device auto --backend torch '
  assert_line --index 1 --regexp '/encode_ecdc\.py --threads 2 --device auto --backend onnx '
  assert_line --index 2 --regexp '/encode_ecdc\.py --threads 2 --device auto --backend compiled '
  # Every backend gives the same codes.
  cmp out/torch.snac out/onnx.snac
  cmp out/torch.snac out/compiled.snac
}

@test "on a terminal a .snac compress shows a progress bar on stderr, and -q silences it" {
  # script gives the command a terminal; a terminal of 0 columns would get an empty bar.
  run -0 script -qec "stty cols 80 rows 24; compress_audio.sh '$REF/mono24k.wav' out/bar.snac" \
    /dev/null
  assert_output --regexp '\| 0\.00/36\.0k \[.*sample/s\]'
  assert_file_exists out/bar.snac
  run -0 script -qec "stty cols 80 rows 24; compress_audio.sh -q '$REF/mono24k.wav' out/q.snac" \
    /dev/null
  assert_output ''
  assert_files_equal out/q.snac out/bar.snac
}

@test "on a terminal a .snac batch shows its progress line, and -q silences it" {
  run -0 script -qec "stty cols 80 rows 24; compress_audio.sh -c snac -o out \
    '$REF/mono24k.wav' '$REF/mono8k.wav'" /dev/null
  assert_output --regexp 'compress_audio\.sh: [0-9] of 2 files'
  assert_output --partial 'compress_audio.sh: 2 files: 2 done, 0 skipped, 0 failed; '
  run -0 script -qec "stty cols 80 rows 24; compress_audio.sh -fq -c snac -o out \
    '$REF/mono24k.wav' '$REF/mono8k.wav'" /dev/null
  assert_output ''
}

@test "TORCH_DEVICE=cuda without a GPU is a missing dependency (exit 3)" {
  ! nvidia-smi -L >/dev/null 2>&1 || skip "a GPU is visible here"
  run -3 --separate-stderr env TORCH_DEVICE=cuda compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: TORCH_DEVICE=cuda, but torch sees no CUDA GPU'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "TORCH_DEVICE=gpu is refused with exit 5" {
  run -5 --separate-stderr env TORCH_DEVICE=gpu compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: TORCH_DEVICE=gpu: expected cpu, cuda or auto'
  refute_output
  assert_dir_empty out
}

@test "MODEL_BACKEND=tensorrt is refused with exit 5" {
  run -5 --separate-stderr env MODEL_BACKEND=tensorrt \
    compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: MODEL_BACKEND=tensorrt: expected auto, compiled, onnx or torch'
  refute_output
  assert_dir_empty out
}

@test "an empty SNAC_MODEL is refused with exit 5" {
  run -5 --separate-stderr env SNAC_MODEL= compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$stderr" 'compress_audio.sh: SNAC_MODEL is empty: expected a hub id or a local directory'
  refute_output
  assert_dir_empty out
}

@test "NESC_DEC_ARGS without %i is refused with exit 5, even when compressing" {
  run -5 --separate-stderr env NESC_DEC_ARGS='%o' compress_audio.sh "$REF/mono24k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: NESC_DEC_ARGS=%o: must contain %i (input) and %o (output)'
  refute_output
  assert_dir_empty out
}

@test "ENCODEC_ENC naming no file is refused with exit 5" {
  run -5 --separate-stderr env ENCODEC_ENC="$PWD/nowhere.py" \
    compress_audio.sh "$REF/mono24k.wav" out/clip.ecdc
  assert_equal "$stderr" \
    "compress_audio.sh: helper $PWD/nowhere.py not found (check ENCODEC_ENC / ENCODEC_DEC)"
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "knob values just outside their ranges are refused with exit 5" {
  local knob
  local -A expected=(
    [TORCH_THREADS]='expected a whole number from 1 to 1024'
    [TORCH_DEVICE]='expected cpu, cuda or auto'
    [MODEL_BACKEND]='expected auto, compiled, onnx or torch'
    [ENCODEC_BITRATE]='expected 1.5, 3, 6, 12 or 24'
    [ENCODEC_LM]='expected 0 or 1'
    [SNAC_VARIANT]='expected 24khz, 32khz or 44khz'
    [SNAC_SAMPLE_RATE]='expected a rate in Hz from 1000 to 384000'
    [MIMI_CODEBOOKS]='expected a whole number from 1 to 32'
    [CODEC2_MODE]='expected 3200, 2400, 1600, 1400, 1300, 1200 or 700C'
    [OPUS_BITRATE]='expected whole kbps from 1 to 512'
    [NESC_ENC_ARGS]='must contain %i (input) and %o (output)'
  )
  for knob in TORCH_THREADS=1025 TORCH_THREADS=-1 TORCH_THREADS=1.5 'TORCH_DEVICE= cpu' \
    MODEL_BACKEND=ONNX ENCODEC_BITRATE=1.50 ENCODEC_BITRATE=48 ENCODEC_LM=2 SNAC_VARIANT=24KHZ \
    SNAC_SAMPLE_RATE=999 SNAC_SAMPLE_RATE=384001 MIMI_CODEBOOKS=0 MIMI_CODEBOOKS=33 \
    MIMI_CODEBOOKS=8.5 CODEC2_MODE=700c CODEC2_MODE=450 \
    OPUS_BITRATE=513 OPUS_BITRATE=6k 'NESC_ENC_ARGS=-i %I -o %O' 'NESC_ENC_ARGS=%o'; do
    run --separate-stderr env "$knob" compress_audio.sh "$REF/mono24k.wav" out/clip.opus
    assert_equal "$knob: $status" "$knob: 5"
    assert_equal "$stderr" "compress_audio.sh: $knob: ${expected[${knob%%=*}]}"
    refute_output
  done
  assert_dir_empty out
}

# --- robustness (issue 4): OUTPUT safety ----------------------------------------------------

# fails_keeping_output CODE EXT INPUT [VAR=VALUE...]: compressing INPUT to an existing out/clip.EXT
# with the VARs set fails with CODE under -f, and fails without -f; either way OUTPUT keeps its
# exact bytes, nothing is staged beside it and nothing is left in TMPDIR.
fails_keeping_output() {
  local code=$1 ext=$2 input=$3 force
  shift 3
  for force in -f ''; do
    cp "$REF/mono8k.wav" "out/clip.$ext"
    run --separate-stderr env "$@" compress_audio.sh $force -- "$input" "out/clip.$ext"
    if [[ -n $force ]]; then
      assert_equal "-f $input to .$ext: $status" "-f $input to .$ext: $code"
    else
      assert [ "$status" -ne 0 ]
    fi
    assert_regex "$stderr" '^compress_audio\.sh: [^'$'\n'']+$'
    refute_output
    cmp -- "$REF/mono8k.wav" "out/clip.$ext" || fail "-f $input to .$ext changed OUTPUT"
    assert_equal "$(ls -A out)" "clip.$ext"
    assert_dir_empty "$TMPDIR"
    rm -- "out/clip.$ext"
  done
}

@test "every kind of failure keeps an existing OUTPUT byte for byte, with or without -f" {
  make_codec_stubs bin
  mkdir clips empty-hf
  touch empty.wav
  echo 'not audio at all' >notes.txt
  lavfi 'anullsrc=r=24000:cl=mono' nodata.wav -t 0
  fails_keeping_output 4 c2 missing.wav
  fails_keeping_output 4 c2 clips
  fails_keeping_output 4 ecdc empty.wav
  fails_keeping_output 4 snac notes.txt
  fails_keeping_output 4 ecdc nodata.wav
  fails_keeping_output 5 snac "$REF/mono24k.wav" SNAC_VARIANT=16khz
  fails_keeping_output 3 c2 "$REF/mono24k.wav" FFMPEG=/nonexistent
  fails_keeping_output 6 c2 "$REF/mono24k.wav" C2ENC=false
  fails_keeping_output 6 lpcnet "$REF/mono24k.wav" LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_MODE=fail
  fails_keeping_output 3 snac "$REF/mono24k.wav" PYTHON_BIN="$BARE_PYTHON"
  fails_keeping_output 3 snac "$REF/mono24k.wav" HF_HOME="$PWD/empty-hf"
}

@test "SIGINT during a .snac compress exits 130 and leaves nothing behind" {
  lavfi 'sine=frequency=220:sample_rate=16000:duration=20' long.wav
  # Two seconds into the helper, past its imports: the model is loading or running.
  interrupt INT encode_ecdc.py 2 env SNAC_VARIANT=32khz compress_audio.sh long.wav out/long.snac
  assert_equal "$status" 130
  assert_equal "$stderr" 'compress_audio.sh: interrupted'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "SIGTERM during a .snac compress with -f exits 143 and keeps the old OUTPUT" {
  lavfi 'sine=frequency=220:sample_rate=16000:duration=20' long.wav
  cp "$REF/mono8k.wav" out/long.snac
  interrupt TERM encode_ecdc.py 2 \
    env SNAC_VARIANT=32khz compress_audio.sh -f long.wav out/long.snac
  assert_equal "$status" 143
  assert_equal "$stderr" 'compress_audio.sh: interrupted'
  refute_output
  cmp "$REF/mono8k.wav" out/long.snac
  assert_equal "$(ls -A out)" long.snac
  assert_dir_empty "$TMPDIR"
}

@test "SIGINT while the Python helper is starting is one line, not a traceback" {
  interrupt INT encode_ecdc.py 0 compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  assert_equal "$status" 130
  assert_equal "$stderr" 'compress_audio.sh: interrupted'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a .snac compress leaves nothing in TMPDIR" {
  run -0 --separate-stderr compress_audio.sh "$REF/mono24k.wav" out/clip.snac
  refute_output
  assert_dir_empty "$TMPDIR"
}

# --- robustness (issue 4): determinism and concurrency --------------------------------------

@test "the same INPUT and settings give byte-identical .ecdc, .snac, .c2 and .opus" {
  local ext
  for ext in ecdc snac c2 opus; do
    run -0 compress_audio.sh "$REF/stereo44k.mp3" "out/first.$ext"
    run -0 compress_audio.sh "$REF/stereo44k.mp3" "out/second.$ext"
    cmp "out/first.$ext" "out/second.$ext" || fail ".$ext differs between two runs"
  done
}

@test "8 concurrent .snac runs into one directory succeed, equal sequential runs and decode" {
  # Not `i`: bats' run sets a global i.
  local clip rates=(8000 11025 16000 22050 24000 32000 44100 48000) pids=() failed=''
  mkdir in seq
  for clip in {0..7}; do
    lavfi "sine=frequency=$((300 + 50 * clip)):sample_rate=${rates[clip]}" "in/clip $clip.wav" \
      -t "0.$((3 + clip % 5))"
  done
  for clip in {0..7}; do
    compress_audio.sh "in/clip $clip.wav" "out/clip $clip.snac" \
      >"stdout.$clip" 2>"stderr.$clip" 3>&- &
    pids+=($!)
  done
  for clip in {0..7}; do
    wait "${pids[clip]}" || failed+=" clip $clip (exit $?)"
  done
  assert_equal "failed:$failed" 'failed:'
  assert_equal "$(cat stdout.* stderr.*)" ''
  for clip in {0..7}; do
    run -0 compress_audio.sh "in/clip $clip.wav" "seq/clip $clip.snac"
    cmp "out/clip $clip.snac" "seq/clip $clip.snac" ||
      fail "clip $clip: concurrent and sequential runs differ"
  done
  # One batch decodes them all: a model load per file would cost more than the encoding.
  mkdir dec
  run -0 --separate-stderr decompress_audio.sh -o dec -- out/*.snac
  refute_output
  for clip in {0..7}; do
    assert_equal "clip $clip: $(rate_of "dec/clip $clip.wav")" "clip $clip: ${rates[clip]}"
    assert_duration "dec/clip $clip.wav" "$(duration_of "in/clip $clip.wav")"
  done
  assert_equal "$(find out -mindepth 1 | wc -l)" 8
}

@test "a TMPDIR on a full disk is reported as no space left on device (exit 7)" {
  [[ $(id -u) == 0 ]] || skip 'mounting a small tmpfs needs root'
  mkdir full
  mount -t tmpfs -o size=128k tmpfs full || skip 'cannot mount a tmpfs here'
  run --separate-stderr env TMPDIR="$PWD/full" compress_audio.sh "$REF/mono48k.flac" out/a.snac
  local leftovers
  leftovers=$(ls -A full)
  umount full
  assert_equal "$status" 7
  assert_equal "$stderr" \
    "compress_audio.sh: $REF/mono48k.flac: no space left on device in $PWD/full (TMPDIR)"
  assert_equal "$leftovers" ''
  assert_dir_empty out
}

@test "an FFmpeg that exits 0 without writing the .opus is a codec failure (exit 6), no OUTPUT" {
  cat >silent-ffmpeg <<'SH'
#!/usr/bin/env bash
[[ " $* " == *" libopus "* ]] && exit 0
exec ffmpeg "$@"
SH
  chmod +x silent-ffmpeg
  run -6 --separate-stderr env FFMPEG="$PWD/silent-ffmpeg" compress_audio.sh "$REF/mono24k.wav" \
    out/clip.opus
  assert_equal "$stderr" 'compress_audio.sh: the opus encoder wrote nothing'
  refute_output
  assert_dir_empty out
}

@test "FFmpeg's no space left on device is exit 7 even when FFmpeg itself exits 0" {
  mkdir bin
  cat >bin/ffmpeg <<'STUB'
#!/usr/bin/env bash
echo 'Error writing trailer: No space left on device' >&2
exit 0
STUB
  chmod +x bin/ffmpeg
  run -7 --separate-stderr env FFMPEG="$PWD/bin/ffmpeg" compress_audio.sh "$REF/mono24k.wav" \
    out/a.opus
  assert_equal "$stderr" \
    "compress_audio.sh: $REF/mono24k.wav: no space left on device in ${TMPDIR%/} (TMPDIR)"
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "an input whose sample rate no container may record is refused with exit 4, naming it" {
  lavfi 'sine=frequency=100:sample_rate=800:duration=1' slow.wav
  run -4 --separate-stderr compress_audio.sh slow.wav out/slow.opus
  assert_equal "$stderr" \
    'compress_audio.sh: slow.wav: sample rate 800 Hz is outside 1000 to 384000 Hz'
  assert_dir_empty out
}
