# shellcheck shell=bash
# shellcheck disable=SC2154 # workdir is made by make_workdir (lib/files.bash)
# The external programs: FFmpeg and the codec binaries, each named by a knob (FFMPEG, C2ENC, ...).

# require_tool VAR PROGRAM: PROGRAM (named by variable VAR) must be runnable.
require_tool() {
  if [[ $2 == */* ]]; then
    [[ -e $2 ]] || die 3 "$2 not found (set by $1); install it or point $1 at it"
    [[ -f $2 && -x $2 ]] || die 3 "$2 is not executable (set by $1)"
  else
    command -v -- "$2" >/dev/null || die 3 "$2 not found; install it or point $1 at it"
  fi
}

# run_ffmpeg EXIT_CODE WHAT FFMPEG_ARGS...: on failure, die naming WHAT with FFmpeg's last word;
# a full disk is exit 7, naming where FFmpeg was writing (its last argument).
run_ffmpeg() {
  local code=$1 what=$2 log status=0
  shift 2
  # The log is kept in memory: on a full disk a log file would be empty. In braces, so that
  # bash's own "Terminated" for a killed FFmpeg goes to the log too; FFmpeg's stdout stays ours.
  { log=$({ "$FFMPEG" -nostdin -hide_banner -loglevel error -y "$@" 3>&-; } 2>&1 >&3); } 3>&1 ||
    status=$?
  # FFmpeg can exit 0 after a write failed with ENOSPC, leaving a truncated file.
  [[ $log != *"No space left on device"* ]] || no_space "$what" "${*: -1}"
  ((status == 0)) || die "$code" "$what: FFmpeg failed: ${log##*$'\n'}"
}

# no_space WHAT FILE: die 7, naming the directory of FILE that ran out of space.
no_space() {
  local file=${2#file:} dir
  if [[ $file == "$workdir"/* ]]; then
    dir="${workdir%/*} (TMPDIR)"
  else
    dir=$(dirname -- "$file")
  fi
  die 7 "$1: no space left on device in $dir"
}

# wav_rate FILE: the sample rate in a RIFF/WAVE header whose first chunk is "fmt ", the usual
# layout; fails for anything else, and for a file shorter than the 44 bytes of the smallest
# such header (ffprobe then says what is wrong with it). Reading the header spares ffprobe's
# 0.2 s on most inputs.
wav_rate() {
  local h
  h=$(od -An -v -tx1 -N44 -- "$1" 2>/dev/null) || return 1
  h=${h//[$' \n']/}
  [[ ${#h} -eq 88 && $h == 52494646????????57415645666d7420* ]] || return 1
  echo "$((16#${h:54:2}${h:52:2}${h:50:2}${h:48:2}))"
}

# probe_rate FILE: sample rate of FILE's first audio stream.
probe_rate() {
  local rate
  rate=$(wav_rate "$1") ||
    rate=$("$FFPROBE" -v error -select_streams a:0 -show_entries stream=sample_rate \
      -of csv=p=0 "file:$1" 2>/dev/null) || die 4 "$1: not a media file FFmpeg can read"
  rate=${rate%%[!0-9]*}
  [[ -n $rate ]] || die 4 "$1: has no audio stream"
  # The containers record it, and their readers refuse what no audio file plausibly has.
  is_sample_rate "$rate" ||
    die 4 "$1: sample rate $rate Hz is outside $RATE_MIN to $RATE_MAX Hz"
  echo "$rate"
}

# to_pcm INPUT RATE FORMAT OUT: headerless mono PCM (s16le or f32le) at RATE; its file, rate
# and sample size in last_pcm, for pcm_ms. An input with samples that come to less than one at
# RATE (one sample at 24 kHz is 2/3 of one at 16 kHz) is padded to one sample rather than
# refused as empty.
to_pcm() {
  run_ffmpeg 4 "$1" -i "file:$1" -map 0:a:0 -vn -ac 1 -ar "$2" -f "$3" "file:$4"
  if [[ ! -s $4 ]]; then
    # At its own rate, any sample the input holds comes out.
    run_ffmpeg 4 "$1" -i "file:$1" -map 0:a:0 -vn -ac 1 -f s16le "file:$4"
    [[ -s $4 ]] || die 4 "$1: contains no audio samples"
    run_ffmpeg 4 "$1" -i "file:$1" -map 0:a:0 -vn -ac 1 -af "aresample=$2,apad=whole_len=1" \
      -ar "$2" -f "$3" "file:$4"
  fi
  # shellcheck disable=SC2034 # read by the batch items: pcm_ms "${last_pcm[@]}"
  last_pcm=("$4" "$2" "${3//[!0-9]/}")
}

# pcm_ms FILE RATE BITS: the length of headerless mono PCM in milliseconds.
pcm_ms() {
  local size
  size=$(stat -c %s -- "$1")
  echo $((size * 8000 / ($2 * $3)))
}

# run_binary VAR PROGRAM PRODUCT ARGS...: an external codec that must write PRODUCT.
run_binary() {
  local var=$1 program=$2 product=$3 status=0
  shift 3
  require_tool "$var" "$program"
  { "$program" "$@"; } >"$workdir/${var}.log" 2>&1 || status=$?
  ((status == 0)) || die 6 "$program (set by $var) failed with exit status $status"
  [[ -s $product ]] || die 6 "$program (set by $var) wrote no output"
}

# expand_args TEMPLATE IN OUT: TEMPLATE's words with %i and %o replaced, in array $expanded.
expand_args() {
  local word words
  expanded=()
  read -r -a words <<<"$1"
  for word in "${words[@]}"; do
    # Through placeholders, so a %o inside the input's own name stays as it is.
    word=${word//"%i"/$'\x01'}
    word=${word//"%o"/$'\x02'}
    word=${word//$'\x01'/$2}
    expanded+=("${word//$'\x02'/$3}")
  done
}
