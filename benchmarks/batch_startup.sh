#!/usr/bin/env bash
# Usage: benchmarks/batch_startup.sh [N...]
#
# Start-up cost of a batch: `compress_audio.sh -c opus -o DIR` and `decompress_audio.sh -o DIR`
# over N inputs that do not exist, so the time is the front-end's own (option parsing, name
# checks, the per-input work before any encoding), not FFmpeg's or a model's. Prints one line
# per command and N (default: 1000 10000 100000). Names are short numbers, so that 100,000 of
# them fit the kernel's limit on a command line.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
mkdir "$work/out"
cd "$work"

sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000 100000)
for n in "${sizes[@]}"; do
  mapfile -t names < <(seq 1 "$n")
  for script in compress_audio.sh decompress_audio.sh; do
    args=(-o out)
    [[ $script == decompress_audio.sh ]] || args+=(-c opus)
    start=$EPOCHREALTIME
    status=0
    "$ROOT/$script" "${args[@]}" "${names[@]}" 2>stderr.txt || status=$?
    end=$EPOCHREALTIME
    printf '%-20s %7d inputs  %7.2f s  exit %d  %s\n' "$script" "$n" \
      "$(bc <<<"$end - $start")" "$status" "$(tail -n 1 stderr.txt)"
  done
done
