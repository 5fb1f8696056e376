# shellcheck shell=bash
# The codec facts, read once at start-up from codec_toolkit/facts.tsv, which the Python helpers
# read too (codec_toolkit/facts.py); the table's comments say what each row means. Also the
# questions asked of them: which codec a file's name (codec_of) or content (container_of) says,
# and who runs a codec (runs_in_helper).

# shellcheck disable=SC2034 # file-wide: the facts below are read in lib/knobs.bash and the commands

CODEC_EXTENSIONS=()                  # every codec as .EXT, in the table's order
declare -gA CODEC_RUNNER=()          # [CODEC]: helper (the Python helpers) or shell
declare -gA CODEC_MAGIC=()           # [CODEC]: its files' first bytes in hex; none: headerless
declare -gA NCDC_ID=()               # [CODEC]: its codec byte in an NCDC container, in hex
NCDC_ID_OFFSET=5                     # where that byte is
MAGIC_BYTES=0                        # the longest magic number's length in bytes
LEGACY_CONTAINERS=()                 # "CODEC MAGIC WHEN" of a codec's earlier containers
declare -gA MODEL_RATES=()           # [CODEC] or [CODEC:SETTING]: its model's rate in Hz
declare -gA RATE_SETTINGS=()         # [CODEC]: the SETTINGs of its rate rows, in order
ENCODEC_BITRATE_CHOICES=             # the encodec_bitrate rows' KBPS, in order
DAC_BITRATE_CHOICES=                 # the dac_model rows' BITRATEs, each once, in order
declare -gA DAC_MODEL_CODEBOOKS=()   # [MODEL-BITRATE]: a published DAC model's codebooks
RATE_MIN=0 RATE_MAX=0                 # the sample rates a container may record, in Hz

# read_facts FILE: FILE's rows into the variables above, in pure Bash (it runs at every start).
# The lists of choices are blank-separated words.
read_facts() {
  local kind a b c d
  [[ -r $1 ]] || die 1 "$1: cannot read the codec facts"
  while read -r kind a b c d; do
    case $kind in
      codec)
        CODEC_EXTENSIONS+=(".$a")
        CODEC_RUNNER[$a]=$b
        if [[ $c != - ]]; then
          CODEC_MAGIC[$a]=$c
          ((${#c} / 2 <= MAGIC_BYTES)) || MAGIC_BYTES=$((${#c} / 2))
        fi
        [[ $d == - ]] || printf -v "NCDC_ID[$a]" '%02x' "$d"
        ;;
      legacy) LEGACY_CONTAINERS+=("$a $b $c") ;;
      rate)
        if [[ $b == - ]]; then
          MODEL_RATES[$a]=$c
        else
          MODEL_RATES[$a:$b]=$c
          add_word "RATE_SETTINGS[$a]" "$b"
        fi
        ;;
      encodec_bitrate) add_word ENCODEC_BITRATE_CHOICES "$a" ;;
      sample_rates) RATE_MIN=$a RATE_MAX=$b ;;
      dac_model)
        DAC_MODEL_CODEBOOKS[$a-$b]=$c
        add_word DAC_BITRATE_CHOICES "$b"
        ;;
    esac
  done <"$1"
}

# add_word VAR WORD: WORD at the end of the blank-separated list in VAR, unless it is there.
add_word() {
  [[ " ${!1-} " == *" $2 "* ]] || printf -v "$1" '%s' "${!1:+${!1} }$2"
}

# is_sample_rate VALUE: a whole number of Hz that a container may record (facts.tsv's
# sample_rates), the range the toolkit accepts for any rate.
is_sample_rate() { in_range "$1" "$RATE_MIN" "$RATE_MAX"; }

# codec_of FILE: the codec its extension names, if any.
codec_of() {
  local ext=${1##*.}
  ext=${ext,,}
  [[ $1 == *.* && " ${CODEC_EXTENSIONS[*]} " == *" .$ext "* ]] || return 1
  echo "$ext"
}

# container_of FILE: the codec FILE holds, from its first bytes (the magic numbers of facts.tsv),
# or else its extension for the headerless streams. Dies when the two disagree.
container_of() {
  local head named content='' codec magic id byte when row
  head=$(od -An -tx1 -N"$MAGIC_BYTES" -- "$1" | tr -d ' \n')
  named=$(codec_of "$1") || named=
  for codec in "${CODEC_EXTENSIONS[@]#.}"; do
    magic=${CODEC_MAGIC[$codec]-}
    [[ -n $magic && $head == "$magic"* ]] || continue
    id=${NCDC_ID[$codec]-}
    # The NCDC codec byte, read once (od complains, on stderr, of a file that ends before it).
    if [[ -n $id && ! -v byte ]]; then
      byte=$(od -An -tx1 -j"$NCDC_ID_OFFSET" -N1 -- "$1" | tr -d ' \n') || true
    fi
    if [[ -z $id || $byte == "$id" ]]; then
      content=$codec
      break
    fi
    # A codec byte that no codec has reads as the container's first codec (snac), whose reader
    # then names the bad field.
    : "${content:=$codec}"
  done
  for row in "${LEGACY_CONTAINERS[@]}"; do
    read -r codec magic when <<<"$row"
    # "named": the magic alone is too common to claim a file whose name does not say CODEC.
    if [[ -z $content && $head == "$magic"* && ($when == always || $named == "$codec") ]]; then
      content=$codec
    fi
  done
  if [[ -n $named && -z ${CODEC_MAGIC[$named]-} ]]; then
    echo "$named" # no magic: trust the name
    return
  fi
  [[ -n $content ]] || die 4 "$1: not a file this toolkit can decode (unknown format)"
  [[ -z $named || $named == "$content" ]] ||
    die 4 "$1: the extension says .$named but the content is .$content"
  echo "$content"
}

# runs_in_helper CODEC: CODEC is run by the Python helpers (encode_ecdc.py, decode_ecdc.py).
runs_in_helper() { [[ ${CODEC_RUNNER[$1]} == helper ]]; }

read_facts "$SCRIPT_DIR/codec_toolkit/facts.tsv"
