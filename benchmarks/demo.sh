#!/usr/bin/env bash
# Usage: benchmarks/demo.sh OUTDIR
#
# The job of `make demo`: synthesise a short speech clip (espeak-ng; an FFmpeg test tone if it
# is missing), compress and restore it with every codec, and print size, bitrate and time.
# A codec that cannot run here (weights not cached and no network, external binary missing)
# is reported as skipped with the toolkit's own one-line reason.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CODECS=(c2 opus ecdc snac mimi dac semanticodec lpcnet nesc)
TEXT="Ultra low bitrate codecs squeeze speech into about one kilobit per second. \
This sentence was compressed and restored by each of them."

make_clip() {
  if command -v espeak-ng >/dev/null; then
    espeak-ng -s 150 -w "$1" "$TEXT"
  else
    ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=220:duration=6" -ar 22050 "$1"
  fi
}

seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }

main() {
  local outdir=${1:?usage: demo.sh OUTDIR} clip duration codec start enc dec bytes
  mkdir -p "$outdir"
  clip=$outdir/speech.wav
  make_clip "$clip"
  duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
  printf 'Input: %s, %.2f s, %d bytes\n' "$clip" "$duration" "$(stat -c %s "$clip")"
  if [[ -z ${HF_HUB_OFFLINE:-} ]]; then
    echo "(With no network, looking for SNAC weights on the hub takes about 25 s before it gives up.)"
  fi
  printf '\n%-12s %8s %9s %10s %10s  %s\n' codec bytes kbps "encode s" "decode s" result
  for codec in "${CODECS[@]}"; do
    start=$(date +%s.%N)
    if ! "$ROOT/compress_audio.sh" -f "$clip" "$outdir/speech.$codec" 2>"$outdir/$codec.err"; then
      printf '%-12s %8s %9s %10s %10s  skipped: %s\n' "$codec" - - - - "$(tail -n 1 "$outdir/$codec.err")"
      continue
    fi
    enc=$(seconds_since "$start")
    start=$(date +%s.%N)
    "$ROOT/decompress_audio.sh" -f "$outdir/speech.$codec" "$outdir/speech.$codec.wav"
    dec=$(seconds_since "$start")
    bytes=$(stat -c %s "$outdir/speech.$codec")
    printf '%-12s %8d %9.2f %10s %10s  %s\n' "$codec" "$bytes" \
      "$(awk -v b="$bytes" -v d="$duration" 'BEGIN { print b * 8 / d / 1000 }')" \
      "$enc" "$dec" "$outdir/speech.$codec.wav"
  done
}

main "$@"
