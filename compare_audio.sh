#!/usr/bin/env bash
# Usage: compare_audio.sh [--json] [--png FILE] [--] ORIGINAL RESTORED [CONTAINER]
#        compare_audio.sh --version [-v]
#
# Score RESTORED (what decompress_audio.sh wrote) against ORIGINAL. Both may be anything FFmpeg
# reads; each is made mono at 16 kHz (PESQ-WB, STOI, ESTOI, ViSQOL, SI-SDR, mel distance) and
# 8 kHz (PESQ-NB). A codec's delay is found by cross-correlation, removed and reported (lag_ms),
# and RESTORED is cut or padded with silence to ORIGINAL's length. With CONTAINER (the
# compressed file) its real bitrate is reported too, and the codec named in the picture.
#
# Prints one "key value" line per score: pesq_wb, pesq_nb (MOS-LQO, up to 4.64 and 4.55), stoi,
# estoi (0 to 1), visqol (speech mode, 1 to 5), si_sdr (dB), mel_distance (mean absolute log10
# mel difference, 0 for a copy), kbps, lag_ms. A score that cannot be given is "-" with the
# reason (a silent ORIGINAL has no PESQ, STOI, ViSQOL or SI-SDR).
#
# Options:
#   --json          one JSON object with those keys (null where a score cannot be given) and
#                   "reasons", which says why for each null
#   --png FILE      also draw the two spectrograms and their difference on one colour scale
#                   (replaces FILE)
#   -h, --help      show this help and exit
#   --version       show the toolkit's version and exit; with -v also its packages'
#
# Environment:
#   PYTHON_BIN      Python with the toolkit's and `make quality`'s packages (default:
#                   .venv/bin/python beside this script if present, else python3)
#   VISQOL          1: compute ViSQOL (about 5 s for 10 s of audio); 0: leave it null (default: 1)
#   SCORE_HELPER    the scores' Python helper (default: score_audio.py beside this script)
#   FFMPEG, FFPROBE programs to run (default: ffmpeg, ffprobe)
#
# Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing dependency (the scores' packages:
#   make quality), 4 bad input (missing, empty, not audio, lengths too far apart), 5 bad
#   environment value, 7 FILE of --png not writable, 130 interrupted.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/toolkit.bash
source "$SCRIPT_DIR/lib/toolkit.bash" "$SCRIPT_DIR"

: "${VISQOL:=1}" "${SCORE_HELPER:=$SCRIPT_DIR/score_audio.py}"

# parse_args ARGS...: the options into json and png, the operands into $positional.
parse_args() {
  local version=0 verbose=0
  json=0 png='' positional=()
  while (($#)); do
    case $1 in
      -h | --help) usage ;;
      --version) version=1 ;;
      -v | --verbose) verbose=1 ;;
      --json) json=1 ;;
      --png) (($# > 1)) || die 2 "--png needs a FILE"; png=$2; shift ;;
      --png=*) png=${1#--png=} ;;
      --) shift; positional+=("$@"); break ;;
      -?*) die 2 "unknown option: $1 (see --help)" ;;
      *) positional+=("$1") ;;
    esac
    shift
  done
  ((!version)) || print_version "$verbose"
  ((${#positional[@]} == 2 || ${#positional[@]} == 3)) ||
    die 2 "expected ORIGINAL RESTORED [CONTAINER] (see --help)"
}

# container_args CONTAINER: the scorer's --codec and --kbps, from decompress_audio.sh --info.
container_args() {
  local info codec detail kbps
  info=$("$SCRIPT_DIR/decompress_audio.sh" --info -- "$1" 2>"$workdir/info.err") ||
    die 4 "$(sed 's/^[^:]*: //' "$workdir/info.err" | tail -n 1)"
  codec=$(sed -n 's/^codec=//p' <<<"$info")
  detail=$(sed -n -e 's/^mode=//p' -e 's/^model=//p' <<<"$info" | head -n 1)
  kbps=$(sed -n 's/^kbps=//p' <<<"$info")
  scorer_args+=(--codec "$codec${detail:+ $detail}")
  [[ -z $kbps ]] || scorer_args+=(--kbps "$kbps")
}

# to_scorer_pcm FILE NAME: FILE as float PCM at 16 and 8 kHz, workdir/NAME.16k and NAME.8k.
to_scorer_pcm() {
  probe_rate "$1" >/dev/null
  to_pcm "$1" 16000 f32le "$workdir/$2.16k"
  to_pcm "$1" 8000 f32le "$workdir/$2.8k"
}

main() {
  local file
  parse_args "$@"
  one_of VISQOL '0 1'
  require_tool FFMPEG "$FFMPEG"
  require_tool FFPROBE "$FFPROBE"
  for file in "${positional[@]}"; do
    check_input "$file"
  done
  if [[ -n $png ]]; then
    [[ -d $(dirname -- "$png") ]] || die 7 "$png: directory $(dirname -- "$png") does not exist"
    [[ ! -d $png ]] || die 7 "$png: is a directory"
  fi
  if [[ $PYTHON_BIN == */* ]]; then
    [[ -x $PYTHON_BIN && ! -d $PYTHON_BIN ]] || die 5 "PYTHON_BIN=$PYTHON_BIN: not an executable"
  else
    require_tool PYTHON_BIN "$PYTHON_BIN"
  fi
  make_workdir
  to_scorer_pcm "${positional[0]}" original
  to_scorer_pcm "${positional[1]}" restored
  scorer_args=(--names "${positional[0]##*/}" "${positional[1]##*/}")
  [[ -z ${positional[2]-} ]] || container_args "${positional[2]}"
  ((!json)) || scorer_args+=(--json)
  ((VISQOL)) || scorer_args+=(--no-visqol)
  [[ -z $png ]] || scorer_args+=(--png "$workdir/picture.png")
  env "NEURAL_CODEC_PROG=$PROG" "TMPDIR=$workdir" "$PYTHON_BIN" "$SCORE_HELPER" \
    "${scorer_args[@]}" -- "$workdir/original.16k" "$workdir/restored.16k" \
    "$workdir/original.8k" "$workdir/restored.8k"
  [[ -z $png ]] || place_file "$workdir/picture.png" "$png"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
