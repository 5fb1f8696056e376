#!/usr/bin/env bats
# decompress_audio.sh: options, content sniffing, corrupt inputs and the restored audio (duration,
# sample rate, format) for every codec, with the real FFmpeg, Codec2 and model classes
# (random-weight checkpoints), plus stand-ins for the unpackaged LPCNet and NESC.

# shellcheck disable=SC2154,SC2030,SC2031 # bats' run sets stderr and stderr_lines; each @test exports its own stand-ins
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  # Compressed fixtures, each made once by compress_audio.sh itself.
  export ENC=$BATS_FILE_TMPDIR/enc
  mkdir -p "$ENC"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/clip.ecdc"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/clip.snac"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/clip.c2"
  CODEC2_MODE=3200 compress_audio.sh "$REF/mono24k.wav" "$ENC/3200.c2"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.opus"
  compress_audio.sh "$REF/aac44k.m4a" "$ENC/m4a.opus"
  compress_audio.sh "$REF/stereo44k.mp3" "$ENC/mp3.ecdc"
  compress_audio.sh "$REF/mono8k.wav" "$ENC/8k.snac"
  compress_audio.sh "$REF/stereo44k.mp3" "$ENC/clip.mimi"
  ENCODEC_LM=1 compress_audio.sh "$REF/mono24k.wav" "$ENC/lm.ecdc"
  export BARE_PYTHON=$BATS_FILE_TMPDIR/bare/bin/python
  make_bare_python "$BATS_FILE_TMPDIR/bare"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# --- help and usage -------------------------------------------------------------------------

@test "-h prints the usage on stdout and exits 0" {
  run -0 --separate-stderr decompress_audio.sh -h
  assert_line --index 0 'Usage: decompress_audio.sh [-f] [-q] [-r HZ] [--] INPUT OUTPUT'
  assert_line '  -r, --rate HZ       sample rate of OUTPUT (default: as above)'
  assert_line --partial 'Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing dependency'
  assert_equal "$stderr" ''
}

@test "--help prints the same usage as -h" {
  run -0 --separate-stderr decompress_audio.sh -h
  local short=$output
  run -0 --separate-stderr decompress_audio.sh --help
  assert_output "$short"
  assert_equal "$stderr" ''
}

@test "no arguments is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh
  assert_equal "$stderr" 'decompress_audio.sh: expected INPUT and OUTPUT (see --help)'
  refute_output
}

@test "an unknown option is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh -x "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: unknown option: -x (see --help)'
  refute_output
  assert_dir_empty out
}

@test "an OUTPUT extension that is not an audio format is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh "$ENC/clip.c2" out/clip.c2
  assert_equal "$stderr" 'decompress_audio.sh: out/clip.c2: unknown audio extension; supported: .wav .flac .mp3 .ogg .opus .m4a .aac .aiff'
  refute_output
  assert_dir_empty out
}

@test "-r without a rate is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh "$ENC/clip.c2" out/clip.wav -r
  assert_equal "$stderr" 'decompress_audio.sh: -r needs a sample rate in Hz'
  refute_output
  assert_dir_empty out
}

@test "a rate below 1000 Hz is a usage error (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh --rate 999 "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: --rate 999: expected a sample rate in Hz from 1000 to 384000'
  refute_output
  assert_dir_empty out
}

# --- bad input (exit 4) ---------------------------------------------------------------------

@test "a missing INPUT is refused with exit 4" {
  run -4 --separate-stderr decompress_audio.sh missing.snac out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: missing.snac: no such file'
  refute_output
  assert_dir_empty out
}

@test "a directory as INPUT is refused with exit 4" {
  mkdir clip.snac
  run -4 --separate-stderr decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.snac: is a directory'
  refute_output
  assert_dir_empty out
}

@test "an empty INPUT is refused with exit 4" {
  touch clip.ecdc
  run -4 --separate-stderr decompress_audio.sh clip.ecdc out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.ecdc: file is empty'
  refute_output
  assert_dir_empty out
}

@test "a file of no known format is refused with exit 4" {
  echo 'just some text' >notes.txt
  run -4 --separate-stderr decompress_audio.sh notes.txt out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: notes.txt: not a file this toolkit can decode (unknown format)'
  refute_output
  assert_dir_empty out
}

@test "a .ecdc renamed .snac is refused by its content (exit 4)" {
  cp "$ENC/clip.ecdc" clip.snac
  run -4 --separate-stderr decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: clip.snac: the extension says .snac but the content is .ecdc'
  refute_output
  assert_dir_empty out
}

@test "a .snac renamed .ecdc is refused by its content (exit 4)" {
  cp "$ENC/clip.snac" clip.ecdc
  run -4 --separate-stderr decompress_audio.sh clip.ecdc out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: clip.ecdc: the extension says .ecdc but the content is .snac'
  refute_output
  assert_dir_empty out
}

@test "a .mimi renamed .snac is refused by its content (exit 4)" {
  cp "$ENC/clip.mimi" clip.snac
  run -4 --separate-stderr decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: clip.snac: the extension says .snac but the content is .mimi'
  refute_output
  assert_dir_empty out
}

@test "a .ecdc renamed .bin is recognised by its content and decodes" {
  cp "$ENC/clip.ecdc" clip.bin
  run -0 --separate-stderr decompress_audio.sh clip.bin out/clip.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/clip.wav)" 24000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

@test "a .snac with a flipped byte fails its checksum (exit 4)" {
  cp "$ENC/clip.snac" clip.snac
  flip_byte clip.snac $(($(size_of clip.snac) / 2))
  run -4 --separate-stderr decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.snac: checksum mismatch: the file is corrupt or truncated'
  refute_output
  assert_dir_empty out
}

@test "a .snac whose source rate field says 1 Hz is refused with exit 4, leaving no OUTPUT" {
  local rate
  for rate in 1 1000000; do
    # The NCDC source rate is the uint32 at offset 11 (a known model's header); the CRC-32 over
    # every byte before it is made right again, so the field check itself is what refuses it.
    "$TEST_PYTHON" -c 'import struct, sys, zlib
data = bytearray(open(sys.argv[1], "rb").read()[:-4])
struct.pack_into("!I", data, 11, int(sys.argv[2]))
open(sys.argv[3], "wb").write(data + struct.pack("!I", zlib.crc32(data)))' \
      "$ENC/clip.snac" "$rate" bad.snac
    run -4 --separate-stderr decompress_audio.sh bad.snac out/clip.wav
    assert_equal "$stderr" "decompress_audio.sh: bad.snac: source sample rate $rate Hz is out of range 1000..384000 Hz"
    refute_output
    assert_dir_empty out
  done
}

@test "a .mimi with a flipped byte fails its checksum (exit 4)" {
  cp "$ENC/clip.mimi" clip.mimi
  flip_byte clip.mimi $(($(size_of clip.mimi) / 2))
  run -4 --separate-stderr decompress_audio.sh clip.mimi out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.mimi: checksum mismatch: the file is corrupt or truncated'
  refute_output
  assert_dir_empty out
}

@test "a .ecdc cut short inside its codes is refused with exit 4" {
  # 1.5 s at 75 frames/s is 113 frames of 2 codebooks x 10 bits: 283 bytes of codes.
  head -c -50 "$ENC/clip.ecdc" >clip.ecdc
  run -4 --separate-stderr decompress_audio.sh clip.ecdc out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.ecdc: codes end early: expected 283 bytes, found 233'
  refute_regex "$stderr" 'Traceback'
  refute_output
  assert_dir_empty out
}

@test "a .ecdc cut short inside its header is refused with exit 4" {
  head -c 20 "$ENC/clip.ecdc" >clip.ecdc
  run -4 --separate-stderr decompress_audio.sh clip.ecdc out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.ecdc: file ends inside the JSON header'
  refute_output
  assert_dir_empty out
}

@test "an entropy-coded .ecdc cut short is refused with exit 4" {
  head -c -40 "$ENC/lm.ecdc" >clip.ecdc
  run -4 --separate-stderr decompress_audio.sh clip.ecdc out/clip.wav
  assert_regex "$stderr" '^decompress_audio\.sh: clip\.ecdc: entropy-coded codes (end early|are corrupt)$'
  refute_output
  assert_dir_empty out
}

@test "a .snac naming a model outside the known set needs SNAC_MODEL (exit 4)" {
  cp -rL "$HF_HOME"/hub/models--hubertsiuzdak--snac_24khz/snapshots/* "$PWD/my-snac"
  run -0 env SNAC_MODEL="$PWD/my-snac" compress_audio.sh "$REF/mono24k.wav" clip.snac
  run -4 --separate-stderr decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: clip.snac: the file names SNAC model '$PWD/my-snac', which is not a known model; set SNAC_MODEL to load it if you trust it"
  refute_output
  assert_dir_empty out
  run -0 --separate-stderr env SNAC_MODEL="$PWD/my-snac" decompress_audio.sh clip.snac out/clip.wav
  assert_equal "$stderr" ''
  assert_duration out/clip.wav 1.5
}

@test "a .mimi naming a model outside the known set needs MIMI_MODEL (exit 4)" {
  ln -s "$(echo "$HF_HOME"/hub/models--kyutai--mimi/snapshots/*)" my-mimi
  run -0 env MIMI_MODEL="$PWD/my-mimi" MIMI_CODEBOOKS=2 compress_audio.sh "$REF/mono24k.wav" \
    clip.mimi
  run -4 --separate-stderr decompress_audio.sh clip.mimi out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: clip.mimi: the file names Mimi model '$PWD/my-mimi', which is not a known model; set MIMI_MODEL to load it if you trust it"
  refute_output
  assert_dir_empty out
  run -0 env MIMI_MODEL="$PWD/my-mimi" decompress_audio.sh clip.mimi out/clip.wav
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

# --- OUTPUT refused (exit 7) ----------------------------------------------------------------

@test "an existing OUTPUT is kept, byte for byte, without -f (exit 7)" {
  printf 'keep me' >out/clip.wav
  run -7 --separate-stderr decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: out/clip.wav: already exists (use -f to replace it)'
  refute_output
  assert_equal "$(cat out/clip.wav)" 'keep me'
  assert_equal "$(ls -A out)" clip.wav
}

@test "-f replaces an existing OUTPUT" {
  printf 'old' >out/clip.wav
  run -0 --separate-stderr decompress_audio.sh -f "$ENC/clip.c2" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 8000
}

@test "OUTPUT that is INPUT itself is refused with exit 7" {
  cp "$ENC/clip.ecdc" clip.wav
  run -7 --separate-stderr decompress_audio.sh -f clip.wav clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: clip.wav: OUTPUT is the same file as INPUT'
  refute_output
  assert_files_equal clip.wav "$ENC/clip.ecdc"
}

@test "OUTPUT in a directory that does not exist is refused with exit 7" {
  run -7 --separate-stderr decompress_audio.sh "$ENC/clip.c2" nowhere/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: nowhere/clip.wav: directory nowhere does not exist'
  refute_output
  assert_dir_not_exists nowhere
}

# --- bad knob values (exit 5) ---------------------------------------------------------------

@test "TORCH_THREADS, TORCH_DEVICE and MODEL_BACKEND reach the decoder helper unchanged" {
  local python
  python=$(python_logger "$PWD/python.log")
  run -0 --separate-stderr env PYTHON_BIN="$python" TORCH_THREADS=2 TORCH_DEVICE=auto \
    MODEL_BACKEND=onnx decompress_audio.sh "$ENC/clip.snac" out/onnx.wav
  run -0 --separate-stderr env PYTHON_BIN="$python" TORCH_THREADS=3 TORCH_DEVICE=auto \
    MODEL_BACKEND=torch decompress_audio.sh "$ENC/clip.snac" out/torch.wav
  assert_duration out/torch.wav 1.5
  # One helper process a run.
  run -0 cat python.log
  assert_equal "${#lines[@]}" 2
  assert_line --index 0 --regexp '/decode_ecdc\.py --threads 2 --device auto --backend onnx '
  assert_line --index 1 --regexp '/decode_ecdc\.py --threads 3 --device auto --backend torch '
}

@test "the knobs of compress_audio.sh are validated too: CODEC2_MODE=999 exits 5" {
  run -5 --separate-stderr env CODEC2_MODE=999 decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: CODEC2_MODE=999: expected 3200, 2400, 1600, 1400, 1300, 1200 or 700C'
  refute_output
  assert_dir_empty out
}

@test "NESC_DEC_ARGS without %i is refused with exit 5" {
  printf 'STUB' >clip.nesc
  run -5 --separate-stderr env NESC_DEC_ARGS='-o %o' decompress_audio.sh clip.nesc out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: NESC_DEC_ARGS=-o %o: must contain %i (input) and %o (output)'
  refute_output
  assert_dir_empty out
}

# --- missing dependencies (exit 3) ----------------------------------------------------------

@test "FFMPEG=/nonexistent is a missing dependency (exit 3)" {
  run -3 --separate-stderr env FFMPEG=/nonexistent decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: /nonexistent not found (set by FFMPEG); install it or point FFMPEG at it'
  refute_output
  assert_dir_empty out
}

@test "C2DEC=/nonexistent is a missing dependency (exit 3)" {
  run -3 --separate-stderr env C2DEC=/nonexistent decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: /nonexistent not found (set by C2DEC); install it or point C2DEC at it'
  refute_output
  assert_dir_empty out
}

@test "FFPROBE=/nonexistent is a missing dependency when decoding .opus (exit 3)" {
  run -3 --separate-stderr env FFPROBE=/nonexistent decompress_audio.sh "$ENC/clip.opus" out/clip.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: /nonexistent not found (set by FFPROBE); install it or point FFPROBE at it'
  refute_output
  assert_dir_empty out
}

@test "a SNAC model missing from the Hugging Face cache exits 3 naming the model" {
  mkdir empty-hf
  run -3 --separate-stderr env HF_HOME="$PWD/empty-hf" \
    decompress_audio.sh "$ENC/clip.snac" out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: SNAC model hubertsiuzdak/snac_24khz is not in the Hugging Face cache and cannot be downloaded (LocalEntryNotFoundError); run once with network access to cache it, or set SNAC_MODEL to a local directory with config.json and pytorch_model.bin'
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
    decompress_audio.sh "$ENC/clip.ecdc" out/clip.wav
  refute_output
  refute_regex "$stderr" 'Traceback'
  assert_equal "${stderr_lines[-1]%% (<*}" \
    "decompress_audio.sh: EnCodec weights encodec_24khz-d7cc33bc.th are not in the torch hub cache ($where) and cannot be downloaded"
  assert_dir_empty out
}

# --- restored audio: .ecdc and .snac --------------------------------------------------------

@test ".ecdc restores a mono 24 kHz WAV of the original duration" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.ecdc" out/clip.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(codec_name_of out/clip.wav)" pcm_s16le
  assert_equal "$(rate_of out/clip.wav)" 24000
  assert_equal "$(channels_of out/clip.wav)" 1
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

@test ".ecdc of a stereo 44.1 kHz MP3 comes back mono at 44.1 kHz" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/mp3.ecdc" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 44100
  assert_equal "$(channels_of out/clip.wav)" 1
  assert_duration out/clip.wav "$(duration_of "$REF/stereo44k.mp3")"
}

@test "decoding one container starts one helper process, which reports the source rate itself" {
  local python
  python=$(python_logger "$PWD/python.log")
  run -0 --separate-stderr env PYTHON_BIN="$python" decompress_audio.sh "$ENC/mp3.ecdc" out/clip.wav
  assert_equal "$(rate_of out/clip.wav)" 44100
  run -0 cat python.log
  assert_equal "${#lines[@]}" 1
  assert_line --index 0 --regexp '/decode_ecdc\.py .*--reply .*/mp3\.ecdc '
}

@test "an entropy-coded .ecdc (ENCODEC_LM=1) decodes to the same audio as the plain one" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/lm.ecdc" out/lm.wav
  refute_output
  run -0 decompress_audio.sh "$ENC/clip.ecdc" out/plain.wav
  assert_duration out/lm.wav "$(duration_of "$REF/mono24k.wav")"
  assert_files_equal out/lm.wav out/plain.wav
}

@test ".snac restores the original duration and rate, the same bytes every time" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.snac" out/first.flac
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/first.flac)" 24000
  assert_duration out/first.flac "$(duration_of "$REF/mono24k.wav")"
  run -0 decompress_audio.sh "$ENC/clip.snac" out/second.flac
  assert_files_equal out/first.flac out/second.flac
}

@test ".mimi of a stereo 44.1 kHz MP3 comes back mono at 44.1 kHz, the same bytes every time" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.mimi" out/first.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/first.wav)" 44100
  assert_equal "$(channels_of out/first.wav)" 1
  assert_duration out/first.wav "$(duration_of "$REF/stereo44k.mp3")"
  run -0 decompress_audio.sh "$ENC/clip.mimi" out/second.wav
  assert_files_equal out/first.wav out/second.wav
}

@test ".snac of an 8 kHz WAV comes back at 8 kHz" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/8k.snac" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 8000
  assert_duration out/clip.wav "$(duration_of "$REF/mono8k.wav")"
}

# legacy_snac NCDC OUT [dict|list]: the codes of NCDC saved as older tools saved .snac files,
# with torch.save: a dict holding them with the rates and length, or a bare list of tensors [1, T].
legacy_snac() {
  "$TEST_PYTHON" - "$@" <<'PYTHON'
import sys

import torch

sys.path.insert(0, __import__("os").environ["REPO_ROOT"])
from codec_toolkit.ncdc import read_ncdc

source, target, kind = sys.argv[1:4]
with open(source, "rb") as fo:
    header, codes = read_ncdc(fo)
tensors = [torch.from_numpy(c)[None] for c in codes]
if kind == "dict":
    torch.save({"codes": tensors, "model": header.model, "sample_rate": header.sample_rate,
                "source_rate": header.source_rate, "length": header.length}, target)
else:
    torch.save(tensors, target)
PYTHON
}

@test "a legacy torch.save .snac decodes like the NCDC file it was made from" {
  legacy_snac "$ENC/8k.snac" legacy.snac dict
  run -0 --separate-stderr decompress_audio.sh legacy.snac out/legacy.wav
  assert_equal "$stderr" ''
  decompress_audio.sh "$ENC/8k.snac" out/ncdc.wav
  assert_files_equal out/legacy.wav out/ncdc.wav
}

@test "a legacy .snac that names no model decodes with SNAC_VARIANT's model at its rate" {
  legacy_snac "$ENC/clip.snac" bare.snac list
  run -0 --separate-stderr decompress_audio.sh bare.snac out/bare.wav
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/bare.wav)" 24000
  # The codes cover whole 2048-sample frames: 1.5 s is 36000 samples, padded to 36864.
  assert_equal "$(samples_of out/bare.wav)" 36864
  # The same codes are not snac_32khz's (4 levels): refused as bad input, naming the model.
  run -4 --separate-stderr env SNAC_VARIANT=32khz decompress_audio.sh bare.snac out/32k.wav
  assert_regex "$stderr" '^decompress_audio\.sh: .*3 code levels, model hubertsiuzdak/snac_32khz has 4'
  assert_file_not_exists out/32k.wav
}

@test "an internal error of a helper exits 1 in one line, with the traceback under NEURAL_CODEC_DEBUG=1" {
  # A decoder helper (ENCODEC_DEC) with a bug, through the toolkit's own CLI runner.
  cat >buggy_decoder.py <<PYTHON
import sys
sys.path.insert(0, "$REPO_ROOT")
import neural_codec
from codec_toolkit.errors import program_name


def body():
    raise RuntimeError("a bug in the decoder")


sys.exit(neural_codec.run_cli(program_name("decode_ecdc.py"), body))
PYTHON
  run -1 --separate-stderr env ENCODEC_DEC="$PWD/buggy_decoder.py" decompress_audio.sh \
    "$ENC/clip.snac" out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: internal error: RuntimeError: a bug in the decoder (set NEURAL_CODEC_DEBUG=1 for a traceback)'
  run -1 --separate-stderr env ENCODEC_DEC="$PWD/buggy_decoder.py" NEURAL_CODEC_DEBUG=1 \
    decompress_audio.sh "$ENC/clip.snac" out/clip.wav
  assert_equal "${stderr_lines[0]}" 'Traceback (most recent call last):'
  assert_equal "${stderr_lines[-1]}" 'RuntimeError: a bug in the decoder'
  refute_output
  assert_dir_empty out
}

@test "-r 16000 overrides the recorded sample rate" {
  run -0 --separate-stderr decompress_audio.sh -r 16000 "$ENC/clip.ecdc" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 16000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
}

# --- restored audio: .c2 and .opus ----------------------------------------------------------

@test ".c2 decodes at 8 kHz, at most one 40 ms frame short" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/clip.wav)" 8000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")" 0.04 0.001
}

@test ".c2 decodes with the mode in its header, whatever CODEC2_MODE says" {
  run -0 --separate-stderr env CODEC2_MODE=700C decompress_audio.sh "$ENC/3200.c2" out/clip.wav
  refute_output
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")" 0.04 0.001
}

@test "--rate 16000 resamples .c2 to 16 kHz" {
  run -0 --separate-stderr decompress_audio.sh --rate 16000 "$ENC/clip.c2" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 16000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")" 0.04 0.001
}

@test ".opus restores the source rate from its SOURCE_RATE tag" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.opus" out/clip.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/clip.wav)" 48000
  assert_duration out/clip.wav "$(duration_of "$REF/mono48k.flac")"
}

@test ".opus of an M4A comes back at 44.1 kHz with the M4A's duration" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/m4a.opus" out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 44100
  assert_duration out/clip.wav "$(duration_of "$REF/aac44k.m4a")"
}

@test "an Ogg Opus without a SOURCE_RATE tag decodes at 48 kHz" {
  lavfi 'sine=sample_rate=16000:duration=1' plain.opus -c:a libopus -b:a 16k
  run -0 --separate-stderr decompress_audio.sh plain.opus out/clip.wav
  refute_output
  assert_equal "$(rate_of out/clip.wav)" 48000
  assert_duration out/clip.wav 1
}

@test "an .opus whose SOURCE_RATE tag is out of range or no number is refused with exit 4" {
  local tag
  for tag in 1 999 384001 1000000 44.1k; do
    lavfi 'sine=sample_rate=16000:duration=1' bad.opus -c:a libopus -b:a 16k \
      -metadata "SOURCE_RATE=$tag"
    run -4 --separate-stderr decompress_audio.sh bad.opus out/clip.wav
    assert_equal "$stderr" "decompress_audio.sh: bad.opus: SOURCE_RATE tag $tag is not a sample rate from 1000 to 384000 Hz"
    refute_output
    assert_dir_empty out
  done
}

# --- OUTPUT formats -------------------------------------------------------------------------

# opus_input_rate FILE: the rate Opus encoded FILE at, from its OpusHead (FFmpeg reports every
# Opus stream at the 48 kHz it decodes to).
opus_input_rate() {
  local offset
  offset=$(grep -obUa OpusHead -- "$1" | head -n 1 | cut -d: -f1)
  [[ -n $offset ]] || fail "$1 has no OpusHead"
  od -An -tu4 -j "$((offset + 12))" -N4 -- "$1" | tr -d ' '
}

@test "OUTPUT .opus is Opus at a recorded rate Opus runs at, else at 48 kHz" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.snac" out/24k.opus
  assert_equal "$(codec_name_of out/24k.opus)" opus
  assert_equal "$(opus_input_rate out/24k.opus)" 24000
  run -0 --separate-stderr decompress_audio.sh "$ENC/8k.snac" out/8k.opus
  assert_equal "$(opus_input_rate out/8k.opus)" 8000
  # 44.1 kHz is no Opus rate: clamped to 48 kHz rather than refused.
  run -0 --separate-stderr decompress_audio.sh "$ENC/mp3.ecdc" out/44k.opus
  assert_equal "$stderr" ''
  assert_equal "$(opus_input_rate out/44k.opus)" 48000
  assert_duration out/44k.opus "$(duration_of "$REF/stereo44k.mp3")"
  run -0 --separate-stderr decompress_audio.sh -r 44100 "$ENC/clip.snac" out/r.opus
  assert_equal "$(opus_input_rate out/r.opus)" 48000
}

@test "OUTPUT .m4a and .aac are AAC and .aiff is AIFF, at the original rate" {
  local ext
  for ext in m4a aac aiff; do
    run -0 --separate-stderr decompress_audio.sh "$ENC/mp3.ecdc" "out/clip.$ext"
    refute_output
    assert_equal "$stderr" ''
    assert_equal "$(rate_of "out/clip.$ext")" 44100
    assert_equal "$(channels_of "out/clip.$ext")" 1
  done
  assert_equal "$(codec_name_of out/clip.m4a)" aac
  assert_equal "$(codec_name_of out/clip.aac)" aac
  assert_equal "$(codec_name_of out/clip.aiff)" pcm_s16be
  assert_duration out/clip.aiff "$(duration_of "$REF/stereo44k.mp3")"
}

@test "OUTPUT .flac is FLAC at the original rate" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.opus" out/clip.flac
  refute_output
  assert_equal "$(codec_name_of out/clip.flac)" flac
  assert_equal "$(rate_of out/clip.flac)" 48000
  assert_duration out/clip.flac "$(duration_of "$REF/mono48k.flac")"
}

@test "OUTPUT .mp3 is MP3 at the original rate" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/clip.opus" out/clip.mp3
  refute_output
  assert_equal "$(codec_name_of out/clip.mp3)" mp3
  assert_equal "$(rate_of out/clip.mp3)" 48000
  assert_duration out/clip.mp3 "$(duration_of "$REF/mono48k.flac")"
}

@test "OUTPUT .ogg is Ogg Vorbis at the original rate" {
  run -0 --separate-stderr decompress_audio.sh "$ENC/mp3.ecdc" out/clip.ogg
  refute_output
  assert_equal "$(codec_name_of out/clip.ogg)" vorbis
  assert_equal "$(rate_of out/clip.ogg)" 44100
  assert_duration out/clip.ogg "$(duration_of "$REF/stereo44k.mp3")"
}

# --- .lpcnet and .nesc through stand-ins ----------------------------------------------------

@test ".lpcnet round trips through lpcnet_demo and comes back at 16 kHz" {
  make_codec_stubs bin
  export LPCNET_BIN=$PWD/bin/lpcnet_demo STUB_LOG=$PWD/stub.log
  run -0 env EXPECT_PCM_BYTES=$((2 * 16000 * 3 / 2)) \
    compress_audio.sh "$REF/mono24k.wav" clip.lpcnet
  run -0 --separate-stderr decompress_audio.sh clip.lpcnet out/clip.wav
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(rate_of out/clip.wav)" 16000
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
  run -0 cat stub.log
  assert_equal "${#lines[@]}" 2
  assert_line --index 1 --regexp '^lpcnet_demo -decode clip\.lpcnet /[^ ]+/out\.pcm$'
  refute_line --partial CONTRACT
}

@test ".nesc round trips through NESC_ENC and NESC_DEC with the default \"%i %o\"" {
  make_codec_stubs bin
  export NESC_ENC=$PWD/bin/nesc_enc NESC_DEC=$PWD/bin/nesc_dec STUB_LOG=$PWD/stub.log
  run -0 env EXPECT_PCM_BYTES=$((2 * 16000)) compress_audio.sh "$REF/stereo44k.mp3" clip.nesc
  run -0 --separate-stderr decompress_audio.sh clip.nesc out/clip.flac
  refute_output
  assert_equal "$(rate_of out/clip.flac)" 16000
  assert_duration out/clip.flac "$(duration_of "$REF/stereo44k.mp3")"
  run -0 cat stub.log
  assert_line --index 1 --regexp '^nesc_dec clip\.nesc /[^ ]+/out\.pcm$'
  refute_line --partial CONTRACT
}

@test "NESC_DEC_ARGS places %i and %o among extra words" {
  make_codec_stubs bin
  export NESC_ENC=$PWD/bin/nesc_enc NESC_DEC=$PWD/bin/nesc_dec STUB_LOG=$PWD/stub.log
  run -0 compress_audio.sh "$REF/mono24k.wav" clip.nesc
  run -0 --separate-stderr env NESC_DEC_ARGS='--in %i --out %o' \
    decompress_audio.sh clip.nesc out/clip.wav
  refute_output
  assert_duration out/clip.wav "$(duration_of "$REF/mono24k.wav")"
  run -0 cat stub.log
  assert_line --index 1 --regexp '^nesc_dec --in clip\.nesc --out /[^ ]+/out\.pcm$'
  refute_line --partial CONTRACT
}

@test "a .nesc whose name contains %o reaches NESC_DEC intact" {
  make_codec_stubs bin
  export NESC_ENC=$PWD/bin/nesc_enc NESC_DEC=$PWD/bin/nesc_dec STUB_LOG=$PWD/stub.log
  run -0 compress_audio.sh "$REF/mono24k.wav" '100%off.nesc'
  run -0 --separate-stderr decompress_audio.sh '100%off.nesc' out/clip.wav
  refute_output
  run -0 cat stub.log
  assert_line --index 1 --regexp '^nesc_dec 100%off\.nesc /[^ ]+/out\.pcm$'
}

@test "a missing NESC_DEC exits 3 naming the binary and the variable" {
  printf 'STUB' >clip.nesc
  run -3 --separate-stderr env NESC_DEC="$PWD/nowhere/nesc_dec" \
    decompress_audio.sh clip.nesc out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/nowhere/nesc_dec not found (set by NESC_DEC); install it or point NESC_DEC at it"
  refute_output
  assert_dir_empty out
}

@test "a NESC_DEC that is not executable exits 3" {
  make_codec_stubs bin
  chmod -x bin/nesc_dec
  printf 'STUB' >clip.nesc
  run -3 --separate-stderr env NESC_DEC="$PWD/bin/nesc_dec" \
    decompress_audio.sh clip.nesc out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/bin/nesc_dec is not executable (set by NESC_DEC)"
  refute_output
  assert_dir_empty out
}

@test "a NESC_DEC that fails exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  printf 'STUB' >clip.nesc
  run -6 --separate-stderr env NESC_DEC="$PWD/bin/nesc_dec" STUB_MODE=fail \
    decompress_audio.sh clip.nesc out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/bin/nesc_dec (set by NESC_DEC) failed with exit status 9"
  refute_output
  assert_dir_empty out
}

@test "a NESC_DEC that writes nothing exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  printf 'STUB' >clip.nesc
  run -6 --separate-stderr env NESC_DEC="$PWD/bin/nesc_dec" STUB_MODE=silent \
    decompress_audio.sh clip.nesc out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/bin/nesc_dec (set by NESC_DEC) wrote no output"
  refute_output
  assert_dir_empty out
}

@test "a missing LPCNET_BIN exits 3 naming the binary and the variable" {
  printf 'STUB' >clip.lpcnet
  run -3 --separate-stderr env LPCNET_BIN="$PWD/nowhere/lpcnet_demo" \
    decompress_audio.sh clip.lpcnet out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/nowhere/lpcnet_demo not found (set by LPCNET_BIN); install it or point LPCNET_BIN at it"
  refute_output
  assert_dir_empty out
}

@test "an LPCNET_BIN that fails to decode exits 6 and leaves no OUTPUT" {
  make_codec_stubs bin
  printf 'STUB' >clip.lpcnet
  run -6 --separate-stderr env LPCNET_BIN="$PWD/bin/lpcnet_demo" STUB_MODE=fail \
    decompress_audio.sh clip.lpcnet out/clip.wav
  assert_equal "$stderr" "decompress_audio.sh: $PWD/bin/lpcnet_demo (set by LPCNET_BIN) failed with exit status 9"
  refute_output
  assert_dir_empty out
}

# --- housekeeping ---------------------------------------------------------------------------

@test "no temporary files are left in TMPDIR after a success or a failure" {
  mkdir tmp
  run -0 env TMPDIR="$PWD/tmp" decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  cp "$ENC/clip.snac" clip.snac
  flip_byte clip.snac 40
  run -4 env TMPDIR="$PWD/tmp" decompress_audio.sh clip.snac out/bad.wav
  assert_dir_empty tmp
  assert_equal "$(ls -A out)" clip.wav
}

# --- robustness (issue 4): bad and unusual INPUTs -------------------------------------------

@test "an audio file that is no container of the toolkit is refused with exit 4" {
  local name
  for name in clip.bin clip.c2; do
    cp "$REF/mono24k.wav" "$name"
    run --separate-stderr decompress_audio.sh "$name" out/clip.wav
    assert_equal "$name: $status" "$name: 4"
    assert_equal "$stderr" \
      "decompress_audio.sh: $name: not a file this toolkit can decode (unknown format)"
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "an unreadable INPUT is refused with exit 4" {
  require_nobody
  cp "$ENC/clip.c2" private.c2
  chmod 600 private.c2
  run -4 --separate-stderr as_nobody decompress_audio.sh private.c2 out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: private.c2: permission denied'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "OUTPUT in a read-only directory is refused with exit 7" {
  require_nobody
  mkdir locked
  chmod 555 locked
  run -7 --separate-stderr as_nobody decompress_audio.sh "$ENC/clip.c2" locked/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: locked/clip.wav: directory locked is not writable'
  refute_output
  assert_dir_empty locked
  assert_dir_empty "$TMPDIR"
}

@test "names with spaces and unicode are taken literally by .snac" {
  cp "$ENC/clip.snac" 'é 音.snac'
  run -0 --separate-stderr decompress_audio.sh 'é 音.snac' 'out/é 音 take.wav'
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(ls -A out)" 'é 音 take.wav'
  assert_duration 'out/é 音 take.wav' "$(duration_of "$REF/mono24k.wav")"
}

@test "-- lets a .c2 and an .opus named with a leading dash decode" {
  local ext
  for ext in c2 opus; do
    cp "$ENC/clip.$ext" "./-clip.$ext"
    run -0 --separate-stderr decompress_audio.sh -- "-clip.$ext" "-$ext.wav"
    refute_output
    assert_equal "$stderr" ''
    assert_file_exists "./-$ext.wav"
  done
}

@test "-- lets a .snac and a .ecdc named with a leading dash decode" {
  local ext
  for ext in snac ecdc; do
    cp "$ENC/clip.$ext" "./-clip.$ext"
    run -0 --separate-stderr decompress_audio.sh -- "-clip.$ext" "-$ext.wav"
    refute_output
    assert_equal "$stderr" ''
    assert_duration "./-$ext.wav" "$(duration_of "$REF/mono24k.wav")"
  done
}

# --- robustness (issue 4): missing dependencies and bad knobs -------------------------------

@test "ffmpeg missing from PATH is a missing dependency (exit 3)" {
  bin_without bin ffmpeg
  run -3 --separate-stderr env PATH="$REPO_ROOT:$PWD/bin" \
    decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$stderr" 'decompress_audio.sh: ffmpeg not found; install it or point FFMPEG at it'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a Python without the toolkit's packages exits 3 naming the package" {
  local ext
  for ext in snac ecdc; do
    run --separate-stderr env PYTHON_BIN="$BARE_PYTHON" \
      decompress_audio.sh "$ENC/clip.$ext" out/clip.wav
    assert_equal "$ext: $status" "$ext: 3"
    assert_equal "$stderr" 'decompress_audio.sh: Python package missing: numpy (run: make setup)'
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a Python without torch exits 3 naming it, for every codec of the helpers" {
  local ext
  # The toolkit's Python with torch hidden (tests/fixtures/hide-packages/sitecustomize.py), as
  # PYTHON_BIN=python3 is where `make setup` was not run.
  export PYTHONPATH=$REPO_ROOT/tests/fixtures/hide-packages HIDDEN_PACKAGES=torch
  for ext in snac ecdc mimi; do
    run --separate-stderr env PYTHON_BIN="$TEST_PYTHON" \
      decompress_audio.sh "$ENC/clip.$ext" out/clip.wav
    assert_equal "$ext: $status" "$ext: 3"
    assert_equal "$stderr" 'decompress_audio.sh: Python package missing: torch (run: make setup)'
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "a bad value of any knob is refused with exit 5, leaving nothing behind" {
  local knob
  local -A expected=(
    [TORCH_THREADS=0]='TORCH_THREADS=0: expected a whole number from 1 to 1024'
    [TORCH_DEVICE=gpu]='TORCH_DEVICE=gpu: expected cpu, cuda or auto'
    [MODEL_BACKEND=tensorrt]='MODEL_BACKEND=tensorrt: expected auto, compiled, onnx or torch'
    [ENCODEC_BITRATE=2]='ENCODEC_BITRATE=2: expected 1.5, 3, 6, 12 or 24'
    [ENCODEC_LM=yes]='ENCODEC_LM=yes: expected 0 or 1'
    [SNAC_VARIANT=16khz]='SNAC_VARIANT=16khz: expected 24khz, 32khz or 44khz'
    [SNAC_MODEL=]='SNAC_MODEL is empty: expected a hub id or a local directory'
    [SNAC_SAMPLE_RATE=abc]='SNAC_SAMPLE_RATE=abc: expected a rate in Hz from 1000 to 384000'
    [MIMI_MODEL=]='MIMI_MODEL is empty: expected a hub id or a local directory'
    [MIMI_CODEBOOKS=33]='MIMI_CODEBOOKS=33: expected a whole number from 1 to 32'
    [OPUS_BITRATE=0]='OPUS_BITRATE=0: expected whole kbps from 1 to 512'
    [NESC_ENC_ARGS=%i]='NESC_ENC_ARGS=%i: must contain %i (input) and %o (output)'
    [PYTHON_BIN=/nonexistent/python]='PYTHON_BIN=/nonexistent/python: not an executable'
    [ENCODEC_DEC=/nonexistent.py]='helper /nonexistent.py not found (check ENCODEC_ENC / ENCODEC_DEC)'
  )
  for knob in "${!expected[@]}"; do
    run --separate-stderr env "$knob" decompress_audio.sh "$ENC/clip.snac" out/clip.wav
    assert_equal "$knob: $status" "$knob: 5"
    assert_equal "$stderr" "decompress_audio.sh: ${expected[$knob]}"
    refute_output
  done
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

# --- robustness (issue 4): OUTPUT safety ----------------------------------------------------

# fails_keeping_output CODE INPUT [VAR=VALUE...]: decoding INPUT to an existing out/clip.wav with
# the VARs set fails with CODE under -f, and fails without -f; either way OUTPUT keeps its exact
# bytes, nothing is staged beside it and nothing is left in TMPDIR.
fails_keeping_output() {
  local code=$1 input=$2 force
  shift 2
  for force in -f ''; do
    cp "$REF/mono8k.wav" out/clip.wav
    run --separate-stderr env "$@" decompress_audio.sh $force -- "$input" out/clip.wav
    if [[ -n $force ]]; then
      assert_equal "-f $input $*: $status" "-f $input $*: $code"
    else
      assert [ "$status" -ne 0 ]
    fi
    assert_regex "$stderr" '^decompress_audio\.sh: [^'$'\n'']+$'
    refute_output
    cmp -- "$REF/mono8k.wav" out/clip.wav || fail "-f $input $* changed OUTPUT"
    assert_equal "$(ls -A out)" clip.wav
    assert_dir_empty "$TMPDIR"
    rm out/clip.wav
  done
}

@test "every kind of failure keeps an existing OUTPUT byte for byte, with or without -f" {
  mkdir dir.snac empty-hf
  touch empty.ecdc
  echo 'just some text' >notes.txt
  cp "$ENC/clip.snac" corrupt.snac
  flip_byte corrupt.snac 40
  cp "$ENC/clip.ecdc" renamed.snac
  fails_keeping_output 4 missing.snac
  fails_keeping_output 4 dir.snac
  fails_keeping_output 4 empty.ecdc
  fails_keeping_output 4 notes.txt
  fails_keeping_output 4 corrupt.snac
  fails_keeping_output 4 renamed.snac
  fails_keeping_output 5 "$ENC/clip.c2" TORCH_THREADS=0
  fails_keeping_output 3 "$ENC/clip.c2" FFMPEG=/nonexistent
  fails_keeping_output 6 "$ENC/clip.c2" C2DEC=false
  # FFmpeg fails while it renders into the staged OUTPUT.
  fails_keeping_output 6 "$ENC/clip.c2" FFMPEG=false
  fails_keeping_output 3 "$ENC/clip.snac" PYTHON_BIN="$BARE_PYTHON"
  fails_keeping_output 3 "$ENC/clip.snac" HF_HOME="$PWD/empty-hf"
}

# make_slow_ffmpeg FILE: a stand-in FFmpeg that writes part of its output (its last argument,
# file:PATH) and then hangs, for a run to be interrupted half-way through writing OUTPUT.
make_slow_ffmpeg() {
  cat >"$1" <<'SH'
#!/usr/bin/env bash
out=${*: -1}
printf 'partial' >"${out#file:}"
exec sleep 60
SH
  chmod +x "$1"
}

@test "SIGINT while OUTPUT is being written exits 130 and removes the partial file" {
  make_slow_ffmpeg slow-ffmpeg
  interrupt INT 'sleep 60' 0 \
    env FFMPEG="$PWD/slow-ffmpeg" decompress_audio.sh "$ENC/clip.c2" out/clip.wav
  assert_equal "$status" 130
  refute_regex "$stderr" 'Traceback'
  refute_output
  assert_dir_empty out
  assert_dir_empty "$TMPDIR"
}

@test "SIGTERM while OUTPUT is being replaced with -f exits 143 and keeps the old OUTPUT" {
  make_slow_ffmpeg slow-ffmpeg
  cp "$REF/mono8k.wav" out/clip.wav
  interrupt TERM 'sleep 60' 0 \
    env FFMPEG="$PWD/slow-ffmpeg" decompress_audio.sh -f "$ENC/clip.c2" out/clip.wav
  assert_equal "$status" 143
  refute_regex "$stderr" 'Traceback'
  refute_output
  cmp "$REF/mono8k.wav" out/clip.wav
  assert_equal "$(ls -A out)" clip.wav
  assert_dir_empty "$TMPDIR"
}

@test "an interrupted decompress says so in one line of its own" {
  local signal
  make_slow_ffmpeg slow-ffmpeg
  for signal in INT TERM; do
    interrupt "$signal" 'sleep 60' 0 \
      env FFMPEG="$PWD/slow-ffmpeg" decompress_audio.sh "$ENC/clip.c2" out/clip.wav
    assert_equal "$signal: $stderr" "$signal: decompress_audio.sh: interrupted"
  done
}

# --- robustness (issue 4): determinism ------------------------------------------------------

@test "decoding the same file twice gives byte-identical WAVs for every codec" {
  local ext
  # .snac: ".snac restores the original duration and rate, the same bytes every time".
  for ext in ecdc c2 opus; do
    run -0 decompress_audio.sh "$ENC/clip.$ext" "out/$ext-first.wav"
    run -0 decompress_audio.sh "$ENC/clip.$ext" "out/$ext-second.wav"
    cmp "out/$ext-first.wav" "out/$ext-second.wav" || fail ".$ext decodes differently twice"
  done
}
