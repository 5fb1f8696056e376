#!/usr/bin/env bash
# Usage: benchmarks/output_hashes.sh OUTDIR
#
# Proof for refactors: runs a fixed set of commands (every codec and the settings the tests
# cover, single files and batches, the helpers' --info and every script's --help) on fixed
# synthetic inputs with the random-weight test models, and prints one line per result:
# `NAME SHA256`. Run it before and after a change and diff the two listings; a refactor that
# changes no behaviour changes no line. Needs `make test-models` (and `make dac` for .dac).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PY=$ROOT/.venv/bin/python
CACHE=${TEST_MODEL_CACHE:-$ROOT/.cache/test-models}
export HF_HOME=$CACHE/hf TORCH_HOME=$CACHE/torch XDG_CACHE_HOME=$CACHE/xdg HF_HUB_OFFLINE=1
export HOME=$CACHE/home
PATH=$ROOT:$PATH

die() {
  printf 'output_hashes.sh: %s\n' "$*" >&2
  exit 1
}

# record NAME FILE: one line of the listing.
record() { printf '%s %s\n' "$1" "$(sha256sum <"$2" | cut -d' ' -f1)"; }

# run_and_record NAME COMMAND...: the command's stdout and exit status as one result.
run_and_record() {
  local name=$1 status=0
  shift
  "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || status=$?
  echo "exit=$status" >>"$work/$name.stdout"
  record "$name" "$work/$name.stdout"
  record "$name.stderr" "$work/$name.stderr"
}

# roundtrip NAME EXT INPUT [VAR=VALUE...]: compress INPUT to NAME.EXT with the knobs, restore it
# to WAV and to 16 kHz FLAC, and record the three files and the container's --info.
roundtrip() {
  local name=$1 ext=$2 input=$3
  shift 3
  env "$@" compress_audio.sh -q "$input" "$work/$name.$ext" ||
    die "$name: compress failed"
  record "$name.$ext" "$work/$name.$ext"
  env "$@" decompress_audio.sh -q "$work/$name.$ext" "$work/$name.wav" ||
    die "$name: decompress failed"
  record "$name.wav" "$work/$name.wav"
  env "$@" decompress_audio.sh -q -r 16000 "$work/$name.$ext" "$work/$name.flac" ||
    die "$name: decompress to FLAC failed"
  record "$name.flac" "$work/$name.flac"
  case $ext in
    ecdc | snac | mimi | dac | semanticodec)
      run_and_record "$name.info" "$PY" "$ROOT/decode_ecdc.py" --info "$work/$name.$ext" ;;
  esac
}

main() {
  local outdir=${1:?usage: output_hashes.sh OUTDIR} clip stereo script ext
  work=$outdir
  mkdir -p "$work"
  "$PY" "$ROOT/tests/fixtures/make_model_cache.py" "$CACHE" >/dev/null
  clip=$work/clip.wav stereo=$work/stereo.mp3
  # A chirp with a few partials: fixed, and busy enough to use many codes.
  ffmpeg -nostdin -v error -y -f lavfi \
    -i 'aevalsrc=0.3*sin(2*PI*(200+300*t)*t)+0.1*sin(2*PI*1300*t)*sin(2*PI*3*t):s=22050:d=3.2' \
    "$clip"
  ffmpeg -nostdin -v error -y -f lavfi \
    -i 'aevalsrc=0.4*sin(440*2*PI*t)|0.4*sin(660*2*PI*t):s=44100:d=1.3' -c:a libmp3lame \
    -b:a 64k "$stereo"
  for script in compress_audio.sh decompress_audio.sh encode_ecdc.py decode_ecdc.py; do
    run_and_record "help.$script" "$ROOT/$script" --help
  done

  roundtrip ecdc-1.5 ecdc "$clip"
  roundtrip ecdc-6 ecdc "$clip" ENCODEC_BITRATE=6
  roundtrip ecdc-24 ecdc "$stereo" ENCODEC_BITRATE=24
  roundtrip ecdc-lm ecdc "$clip" ENCODEC_LM=1
  roundtrip snac-24 snac "$clip"
  roundtrip snac-24-torch snac "$clip" MODEL_BACKEND=torch
  roundtrip snac-32 snac "$clip" SNAC_VARIANT=32khz
  roundtrip snac-44 snac "$stereo" SNAC_VARIANT=44khz
  roundtrip mimi-8 mimi "$clip"
  roundtrip mimi-4 mimi "$stereo" MIMI_CODEBOOKS=4
  roundtrip c2-1200 c2 "$clip"
  roundtrip c2-700C c2 "$clip" CODEC2_MODE=700C
  roundtrip c2-3200 c2 "$stereo" CODEC2_MODE=3200
  roundtrip opus-6 opus "$clip"
  roundtrip opus-12 opus "$stereo" OPUS_BITRATE=12
  if "$PY" -c 'import dac' 2>/dev/null; then
    "$PY" "$ROOT/tests/fixtures/make_model_cache.py" "$CACHE" --dac 16khz-8kbps >/dev/null
    roundtrip dac-16 dac "$clip" DAC_MODEL=16khz
    roundtrip dac-16-2 dac "$stereo" DAC_MODEL=16khz DAC_CODEBOOKS=2
  fi
  mkdir -p "$work/standin/semanticodec"
  cp "$ROOT/tests/fixtures/semanticodec_standin.py" "$work/standin/semanticodec/__init__.py"
  roundtrip semanticodec semanticodec "$clip" PYTHONPATH="$work/standin"

  # Chunked runs through the helper itself: 1 s windows over the 3.2 s clip.
  ffmpeg -nostdin -v error -y -i "$clip" -ar 24000 "$work/clip24.wav"
  "$PY" "$ROOT/encode_ecdc.py" -q --chunk-seconds 1 "$work/clip24.wav" "$work/chunked.snac"
  record chunked.snac "$work/chunked.snac"
  "$PY" "$ROOT/decode_ecdc.py" -q --chunk-seconds 1 "$work/chunked.snac" "$work/chunked.wav"
  record chunked.wav "$work/chunked.wav"

  # Batches, two workers, then restored as a batch into FLAC.
  for ext in snac ecdc mimi c2 opus; do
    mkdir -p "$work/batch-$ext" "$work/restored-$ext"
    compress_audio.sh -q -j 2 -c "$ext" -o "$work/batch-$ext" "$clip" "$stereo"
    decompress_audio.sh -q -j 2 -c flac -o "$work/restored-$ext" "$work/batch-$ext"/*
    for name in clip stereo; do
      record "batch.$name.$ext" "$work/batch-$ext/$name.$ext"
      record "batch.$name.$ext.flac" "$work/restored-$ext/$name.flac"
    done
  done
}

main "$@"
