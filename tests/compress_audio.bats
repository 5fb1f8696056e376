#!/usr/bin/env bats
# compress_audio.sh: options, errors and every codec end to end with the real FFmpeg, Codec2 and
# model classes (random-weight checkpoints), plus stand-ins for the unpackaged LPCNet and NESC.

# shellcheck disable=SC2154 # bats' run sets stderr and stderr_lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
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
    'compress_audio.sh: out/clip.mp3: unknown extension; supported: .ecdc .snac .c2 .opus .lpcnet .nesc'
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
  assert_equal "$stderr" 'compress_audio.sh: SNAC_SAMPLE_RATE=16000 does not match model hubertsiuzdak/snac_24khz, which runs at 24000 Hz'
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
  assert_equal "${#stderr_lines[@]}" 2
  assert_equal "${stderr_lines[0]}" \
    "compress_audio.sh: downloading encodec_24khz-d7cc33bc.th to $where"
  assert_equal "${stderr_lines[1]%% (<*}" \
    "compress_audio.sh: EnCodec weights encodec_24khz-d7cc33bc.th are not in the torch hub cache ($where) and cannot be downloaded"
  assert_regex "${stderr_lines[1]}" '\); run once with network access to cache them$'
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
  assert_output "$(printf '%s\n' container=ecdc model=encodec_24khz sample_rate=24000 \
    source_rate=24000 samples=36000 codebooks=2 lm=0)"
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
  assert_output "$(printf '%s\n' container=snac model=hubertsiuzdak/snac_24khz \
    sample_rate=24000 source_rate=24000 samples=36000 levels=3 bits=12)"
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

@test "SNAC_VARIANT=44khz writes a 44.1 kHz container" {
  run -0 --separate-stderr env SNAC_VARIANT=44khz compress_audio.sh "$REF/stereo44k.mp3" out/clip.snac
  refute_output
  run -0 info_of out/clip.snac
  assert_line model=hubertsiuzdak/snac_44khz
  assert_line sample_rate=44100
  assert_line samples=44100
  assert_line levels=4
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
