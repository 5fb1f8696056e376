# shellcheck shell=bash
# decompress_audio.sh --info FILE...: what each file holds, read from its header without loading
# a model. The Python helpers' containers are read by decode_ecdc.py --info, whose key=value
# lines pass through as they are; .c2, .opus and the headerless .lpcnet/.nesc are read here.
# Whatever a reader leaves out of duration, bytes and kbps is worked out from the rest.

# shellcheck disable=SC2154 # file-wide: ENCODEC_DEC is set by decompress_audio.sh

# Codec2's mode byte (header offset 5) as "BYTE MODE BITS_PER_FRAME FRAME_MS", from codec2.h;
# each frame is stored padded to whole bytes.
C2_MODES='0 3200 64 20
1 2400 48 20
2 1600 64 40
3 1400 56 40
4 1300 52 40
5 1200 48 40
8 700C 28 40'

# The keys whose values are text even when they look like numbers (Codec2's mode 1200, say).
INFO_TEXT_KEYS=' file container codec model mode version assumed unknown '

# describe_files JSON FILE...: a block for each FILE (key=value lines, blocks apart by a blank
# line), or with JSON=1 one JSON object a line. A FILE that cannot be read is reported on stderr
# and the others are still described; exits 0, or the last failure's status (4: bad input).
describe_files() {
  local json=$1 file fields status=0 code printed=0
  shift
  (($#)) || die 2 "--info needs at least one FILE (see --help)"
  validate_env
  make_workdir
  # A reader that stops early (| head) ends this quietly, and the EXIT trap still cleans up.
  trap 'exit 141' PIPE
  for file in "$@"; do
    code=0
    fields=$(describe_file "$file") || code=$?
    if ((code != 0)); then
      status=$code
      continue
    fi
    if ((json)); then
      emit "$(json_object "$fields")"
    else
      ((!printed)) || emit ''
      emit "$fields"
    fi
    printed=1
  done
  exit "$status"
}

# emit TEXT: TEXT and a newline on standard output; a closed pipe ends the command quietly.
emit() { printf '%s\n' "$1" 2>/dev/null || exit 141; }

# describe_file FILE: FILE's key=value lines, file= first; dies (in its subshell) on a bad FILE.
# FILE "-" is standard input, spooled (lib/pipes.bash).
describe_file() {
  local file=$1 kind fields
  printf 'file=%s\n' "$file"
  if [[ $file == - ]]; then
    [[ ! -t 0 ]] || die 2 "refusing to read binary data from a terminal (pipe the input in)"
    spool_stdin
    file=$input
  fi
  # errexit does not reach into $(...) run as the left of ||: each failure exits explicitly.
  check_input "$file"
  kind=$(container_of "$file") || exit
  if runs_in_helper "$kind"; then
    fields=$(run_helper "$ENCODEC_DEC" --info -- "$file") || exit
    # After container=, where the helper does not say it itself.
    if [[ -z $(field_of codec "$fields") ]]; then
      fields=$(sed "1a codec=${kind/#ecdc/encodec}" <<<"$fields")
    fi
  else
    fields=$("info_$kind" "$file") || exit
  fi
  complete_fields "$fields" "$(stat -c %s -- "$file")"
}

# complete_fields FIELDS BYTES: FIELDS followed by duration, bytes and kbps where FIELDS lacks
# them. samples= counts at sample_rate= (the model's), or at source_rate= where a container has
# no model rate (.dac).
complete_fields() {
  local fields=$1 bytes=$2 samples rate duration
  printf '%s\n' "$fields"
  samples=$(field_of samples "$fields")
  rate=$(field_of sample_rate "$fields")
  : "${rate:=$(field_of source_rate "$fields")}"
  duration=$(field_of duration "$fields")
  if [[ -z $duration && -n $samples && -n $rate ]] && ((rate > 0)); then
    duration=$(awk -v n="$samples" -v r="$rate" 'BEGIN { printf "%.3f", n / r }')
    printf 'duration=%s\n' "$duration"
  fi
  [[ -n $(field_of bytes "$fields") ]] || printf 'bytes=%s\n' "$bytes"
  if [[ -z $(field_of kbps "$fields") && -n $duration ]]; then
    awk -v b="$bytes" -v d="$duration" 'BEGIN { if (d > 0) printf "kbps=%.2f\n", b * 8 / d / 1000 }'
  fi
}

# field_of KEY FIELDS: the value of KEY's line in FIELDS, if any.
field_of() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }

# info_c2 FILE: Codec2's 7-byte header (magic c0 de c2, version major and minor, mode, flags)
# and the frames after it.
info_c2() {
  local header mode bits ms frame_bytes frames
  read -r -a header <<<"$(od -An -tu1 -N7 -- "$1")"
  ((${#header[@]} == 7)) || die 4 "$1: shorter than a Codec2 header"
  read -r mode bits ms < <(awk -v b="${header[5]}" '$1 == b { print $2, $3, $4 }' <<<"$C2_MODES") ||
    true
  [[ -n $mode ]] || die 4 "$1: unknown Codec2 mode byte ${header[5]}"
  frame_bytes=$(((bits + 7) / 8))
  frames=$((($(stat -c %s -- "$1") - 7) / frame_bytes))
  ((frames > 0)) || die 4 "$1: holds no Codec2 frames"
  printf '%s\n' container=c2 codec=codec2 "version=${header[3]}.${header[4]}" "mode=$mode" \
    sample_rate=8000 "frames=$frames" "samples=$((frames * ms * 8))"
}

# info_opus FILE: what ffprobe says of an Ogg Opus file; the source rate is its SOURCE_RATE tag.
info_opus() {
  local probe duration source_rate
  require_tool FFPROBE "$FFPROBE"
  probe=$("$FFPROBE" -v error -select_streams a:0 -show_entries \
    format=duration:stream_tags=SOURCE_RATE -of default=nw=1 "file:$1" 2>/dev/null) ||
    die 4 "$1: not a valid Ogg file"
  duration=$(field_of duration "$probe")
  [[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || die 4 "$1: not a valid Ogg file (no duration)"
  source_rate=$(field_of TAG:SOURCE_RATE "$probe")
  # As decoding does (decode_opus): a tag that is no plausible rate is a bad field.
  [[ -z $source_rate ]] || is_sample_rate "$source_rate" ||
    die 4 "$1: SOURCE_RATE tag $source_rate is not a sample rate from $RATE_MIN to $RATE_MAX Hz"
  printf '%s\n' container=opus codec=opus sample_rate=48000
  [[ -z $source_rate ]] || printf 'source_rate=%s\n' "$source_rate"
  awk -v d="$duration" 'BEGIN { printf "duration=%.3f\n", d }'
}

# info_lpcnet FILE: headerless, so only the size is known; the duration assumes LPCNet's
# 1.6 kbps stream (8 bytes for each 40 ms frame at 16 kHz).
info_lpcnet() {
  local frames=$(($(stat -c %s -- "$1") / 8))
  printf '%s\n' container=lpcnet codec=lpcnet sample_rate=16000 "frames=$frames" \
    "samples=$((frames * 640))" 'assumed=1.6 kbps: 8 bytes per 40 ms frame' \
    'unknown=source_rate'
}

# info_nesc FILE: headerless and of no fixed rate: only the size is known.
info_nesc() {
  printf '%s\n' container=nesc codec=nesc sample_rate=16000 \
    'unknown=source_rate,samples,duration,kbps'
}

# json_object FIELDS: FIELDS' key=value lines as one JSON object, numbers as numbers.
json_object() {
  local line key value object=''
  while IFS= read -r line; do
    key=${line%%=*} value=${line#*=}
    if [[ $INFO_TEXT_KEYS == *" $key "* || ! $value =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ ]]; then
      value=$(json_string "$value")
    fi
    object+="${object:+, }$(json_string "$key"): $value"
  done <<<"$1"
  printf '{%s}\n' "$object"
}

# json_string TEXT: TEXT as a JSON string, quotes, backslashes and control characters escaped.
json_string() {
  local text=$1 code char
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  text=${text//$'\n'/\\n}
  text=${text//$'\t'/\\t}
  text=${text//$'\r'/\\r}
  if [[ $text == *[[:cntrl:]]* ]]; then
    for ((code = 1; code < 32; code++)); do
      printf -v char '%b' "\\x$(printf '%02x' "$code")"
      [[ $text != *"$char"* ]] || text=${text//"$char"/$(printf '\\u%04x' "$code")}
    done
  fi
  printf '"%s"' "$text"
}
