#!/usr/bin/env bash
# Usage: benchmarks/settings.sh [SECONDS [EXT...]]
#
# Size and wall time of every codec setting on one speech clip of SECONDS (default 10):
# each CODEC2_MODE, a few OPUS_BITRATEs, each ENCODEC_BITRATE, each SNAC_VARIANT, Mimi at
# 4, 8 and 32 codebooks, and each DAC model whose weights are cached (all codebooks, and 44khz
# at 2), through
# compress_audio.sh and decompress_audio.sh as a user runs them (times include FFmpeg and, for
# the neural codecs, starting Python and loading the model). Prints a Markdown table.
# The neural codecs need their models cached: `make bench-settings` uses the test models.
# EXT... limits the table to those codecs (c2 opus ecdc snac mimi dac).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
TEXT="Ultra low bitrate codecs squeeze speech into about one kilobit per second, \
and this sentence, read slowly and twice, gives them ten seconds of speech to work on."

seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }

# measure LABEL EXT [VAR=VALUE]: one table row for the setting.
measure() {
  local label=$1 ext=$2 start enc dec bytes
  shift 2
  start=$(date +%s.%N)
  env "$@" "$ROOT/compress_audio.sh" -q -f "$clip" "$work/clip.$ext"
  enc=$(seconds_since "$start")
  start=$(date +%s.%N)
  env "$@" "$ROOT/decompress_audio.sh" -q -f "$work/clip.$ext" "$work/clip.$ext.wav"
  dec=$(seconds_since "$start")
  bytes=$(stat -c %s "$work/clip.$ext")
  printf '| %s | %d | %.2f | %s | %s |\n' "$label" "$bytes" \
    "$(awk -v b="$bytes" -v d="$seconds" 'BEGIN { print b * 8 / d / 1000 }')" "$enc" "$dec"
}

# wanted EXT: the table includes codec EXT.
wanted() { [[ -z ${only[*]} || " ${only[*]} " == *" $1 "* ]]; }

# dac_cached TYPE BITRATE: the dac package imports and the model's weights are cached.
dac_cached() {
  "${PYTHON_BIN:-$ROOT/.venv/bin/python}" -c 'import dac' 2>/dev/null &&
    compgen -G "$HOME/.cache/descript/dac/weights_$1_$2_*.pth" >/dev/null
}

main() {
  local mode rate variant count model
  seconds=${1:-10}
  only=("${@:2}")
  work=$(mktemp -d)
  trap 'rm -rf -- "$work"' EXIT
  clip=$work/speech.wav
  # espeak-ng's speech, cut or padded with silence to exactly SECONDS.
  espeak-ng -s 120 -w "$work/tts.wav" "$TEXT $TEXT"
  ffmpeg -nostdin -v error -i "$work/tts.wav" -af "apad=whole_dur=$seconds" -t "$seconds" "$clip"
  printf 'Clip: %s s of espeak-ng speech at %s Hz.\n\n' "$seconds" \
    "$(ffprobe -v error -show_entries stream=sample_rate -of csv=p=0 "$clip")"
  printf '| setting | bytes | kbps | compress s | decompress s |\n|---|---|---|---|---|\n'
  if wanted c2; then
    for mode in 3200 2400 1600 1400 1300 1200 700C; do
      measure ".c2 CODEC2_MODE=$mode" c2 "CODEC2_MODE=$mode"
    done
  fi
  if wanted opus; then
    for rate in 6 12; do
      measure ".opus OPUS_BITRATE=$rate" opus "OPUS_BITRATE=$rate"
    done
  fi
  if wanted ecdc; then
    for rate in 1.5 3 6 12 24; do
      measure ".ecdc ENCODEC_BITRATE=$rate" ecdc "ENCODEC_BITRATE=$rate"
    done
  fi
  if wanted snac; then
    for variant in 24khz 32khz 44khz; do
      measure ".snac SNAC_VARIANT=$variant" snac "SNAC_VARIANT=$variant"
    done
  fi
  if wanted mimi; then
    for count in 4 8 32; do
      measure ".mimi MIMI_CODEBOOKS=$count" mimi "MIMI_CODEBOOKS=$count"
    done
  fi
  if wanted dac; then
    for model in 16khz-8kbps 24khz-8kbps 44khz-8kbps 44khz-16kbps; do
      dac_cached "${model%-*}" "${model#*-}" || continue
      measure ".dac DAC_MODEL=${model%-*} DAC_BITRATE=${model#*-}" dac "DAC_MODEL=${model%-*}" \
        "DAC_BITRATE=${model#*-}"
    done
    ! dac_cached 44khz 8kbps ||
      measure ".dac DAC_MODEL=44khz DAC_CODEBOOKS=2" dac DAC_MODEL=44khz DAC_CODEBOOKS=2
  fi
}

main "$@"
