#!/usr/bin/env bash
# Usage: benchmarks/quality_report.sh OUT [CLIPS_DIR]
#
# The job of `make bench-quality`: every codec setting that runs here, on each clip of
# CLIPS_DIR (every file FFmpeg reads; default: a sentence of espeak-ng speech), compressed and
# restored as a user does and scored by compare_audio.sh. Writes into OUT: table.md and
# table.csv (codec, setting, kbps, the scores, encode and decode real-time factor, means over
# the clips), rate_quality.png, clips/NAME/ (the original, each restored version and its
# spectrograms) and index.html, a page to listen and look side by side (relative links only).
# A setting that cannot run here is listed with the toolkit's one-line reason.
#
# Environment:
#   QUALITY_SETTINGS  blank-separated EXT:KNOB=VALUE words to run instead of the default list
#                     (e.g. "c2:CODEC2_MODE=700C opus:OPUS_BITRATE=6"); EXT alone takes the
#                     codec's defaults
#   QUALITY_WEIGHTS   "test" marks the neural codecs' rows as random-weight test models whose
#                     scores are noise (`make bench-quality` sets it); default: the weights in
#                     the caches, named by their hashes either way
#   VISQOL            0 leaves ViSQOL out (5 s a setting and clip) (default: 1)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PROG=${0##*/}
TEXT="Ultra low bitrate codecs squeeze speech into about one kilobit per second. \
This sentence was compressed and restored by each of them."
DEFAULT_SETTINGS='c2:CODEC2_MODE=3200 c2:CODEC2_MODE=2400 c2:CODEC2_MODE=1600
c2:CODEC2_MODE=1300 c2:CODEC2_MODE=1200 c2:CODEC2_MODE=700C
opus:OPUS_BITRATE=6 opus:OPUS_BITRATE=8 opus:OPUS_BITRATE=12 opus:OPUS_BITRATE=16
ecdc:ENCODEC_BITRATE=1.5 ecdc:ENCODEC_BITRATE=6 snac:SNAC_VARIANT=24khz mimi:MIMI_CODEBOOKS=8
dac:DAC_MODEL=16khz semanticodec lpcnet nesc'
: "${QUALITY_SETTINGS:=$DEFAULT_SETTINGS}" "${QUALITY_WEIGHTS:=}"
: "${PYTHON_BIN:=$ROOT/.venv/bin/python}"

die() {
  printf '%s: %s\n' "$PROG" "${*:2}" >&2
  exit "$1"
}

# seconds_since START [DIGITS]: seconds from START (date +%s.%N) to now.
seconds_since() {
  awk -v s="$1" -v e="$(date +%s.%N)" -v d="${2:-3}" 'BEGIN { printf "%.*f", d, e - s }'
}

# default_clip DIR: espeak-ng's reading of TEXT, as DIR/speech.wav.
default_clip() {
  command -v espeak-ng >/dev/null ||
    die 3 "espeak-ng not found: install it (make demo does) or give your own clips (CLIPS=dir)"
  mkdir -p "$1"
  espeak-ng -s 150 -w "$1/speech.wav" "$TEXT"
}

# model_hashes: "codec<TAB>file<TAB>sha256" for each neural model file in the caches the
# codecs read, so the report says which weights it used.
model_hashes() {
  local hf=${HF_HOME:-$HOME/.cache/huggingface}/hub torch=${TORCH_HOME:-$HOME/.cache/torch} file
  local -A files=(
    [ecdc]="$torch/hub/checkpoints/encodec_24khz-*.th"
    [snac]="$hf/models--hubertsiuzdak--snac_24khz/snapshots/*/*.bin"
    [mimi]="$hf/models--kyutai--mimi/snapshots/*/model.safetensors"
    [dac]="$HOME/.cache/descript/dac/weights_16khz_8kbps_*.pth")
  for codec in "${!files[@]}"; do
    for file in ${files[$codec]}; do # the pattern is the point
      [[ -f $file ]] || continue
      printf '%s\t%s\t%s\n' "$codec" "${file##*/}" "$(sha256sum <"$file" | cut -c 1-16)"
    done
  done
}

# run_setting CLIP NAME SETTING: compress, restore and score CLIP with SETTING (EXT:KNOB=VALUE),
# one line of rows.tsv, or one of skipped.tsv with the reason.
run_setting() {
  local clip=$1 name=$2 ext=${3%%:*} knob=${3#*:} slug start enc dec scores
  [[ $3 == *:* ]] || knob=''
  slug=$ext${knob:+-${knob#*=}}
  local dir=$OUT/clips/$name
  start=$(date +%s.%N)
  if ! env ${knob:+"$knob"} "$ROOT/compress_audio.sh" -q -f "$clip" "$dir/$slug.$ext" \
    2>"$work/err"; then
    printf '%s\t%s\t%s\n' "$ext" "$knob" "$(tail -n 1 "$work/err")" >>"$OUT/skipped.tsv"
    return
  fi
  enc=$(seconds_since "$start")
  start=$(date +%s.%N)
  env ${knob:+"$knob"} "$ROOT/decompress_audio.sh" -q -f "$dir/$slug.$ext" "$dir/$slug.flac"
  dec=$(seconds_since "$start")
  scores=$("$ROOT/compare_audio.sh" --json --png "$dir/$slug.png" "$clip" "$dir/$slug.flac" \
    "$dir/$slug.$ext")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ext" "$knob" "$enc" "$dec" "$slug" "$scores" \
    >>"$OUT/rows.tsv"
  printf '%s: %s %s done\n' "$PROG" "$name" "$3" >&2
}

main() {
  local clips_dir=${2-} clip name setting start settings
  OUT=${1:?usage: quality_report.sh OUT [CLIPS_DIR]}
  start=$(date +%s.%N)
  "$PYTHON_BIN" -c 'import pesq, pystoi, matplotlib' 2>/dev/null ||
    die 3 "the quality packages do not import in $PYTHON_BIN (run: make quality)"
  work=$(mktemp -d)
  trap 'rm -rf -- "$work"' EXIT
  if [[ -z $clips_dir ]]; then
    clips_dir=$work/clips
    default_clip "$clips_dir"
  fi
  [[ -d $clips_dir ]] || die 4 "$clips_dir: not a directory of clips"
  mkdir -p "$OUT"
  rm -rf -- "$OUT/clips" "$OUT/rows.tsv" "$OUT/skipped.tsv"
  model_hashes >"$OUT/weights.tsv"
  read -r -a settings <<<"${QUALITY_SETTINGS//$'\n'/ }"
  for clip in "$clips_dir"/*; do
    [[ -f $clip ]] || continue
    name=${clip##*/}
    name=${name%.*}
    mkdir -p "$OUT/clips/$name"
    ffmpeg -nostdin -v error -y -i "$clip" -map 0:a:0 "$OUT/clips/$name/original.flac" ||
      die 4 "$clip: not audio FFmpeg can read"
    printf '%s\t%s\n' "$name" "$(ffprobe -v error -show_entries format=duration -of csv=p=0 \
      "$OUT/clips/$name/original.flac")" >>"$work/durations.tsv"
    for setting in "${settings[@]}"; do
      run_setting "$clip" "$name" "$setting"
    done
  done
  [[ -s $work/durations.tsv ]] || die 4 "$clips_dir: no clips in it"
  "$PYTHON_BIN" "$ROOT/benchmarks/quality_page.py" "$OUT" --durations "$work/durations.tsv" \
    --seconds "$(seconds_since "$start" 0)" ${QUALITY_WEIGHTS:+--weights "$QUALITY_WEIGHTS"}
  printf '%s: wrote %s/index.html in %s s\n' "$PROG" "$OUT" "$(seconds_since "$start" 0)" >&2
}

main "$@"
