# shellcheck shell=bash
# The knobs both commands read, with their defaults, and validate_env, which checks every knob of
# the toolkit in either command, so a typo never passes silently. A knob only one command reads
# (ENCODEC_ENC, C2DEC, ...) has its default in that command.

if [[ -x $SCRIPT_DIR/.venv/bin/python ]]; then
  : "${PYTHON_BIN:=$SCRIPT_DIR/.venv/bin/python}"
fi
: "${PYTHON_BIN:=python3}" "${TORCH_THREADS:=1}" "${TORCH_DEVICE:=cpu}" "${MODEL_BACKEND:=auto}"
: "${ENCODEC_BITRATE:=1.5}" "${ENCODEC_LM:=0}" "${SNAC_VARIANT:=24khz}"
: "${MIMI_CODEBOOKS:=8}" "${DAC_MODEL:=44khz}" "${DAC_BITRATE:=8kbps}" "${DAC_CODEBOOKS:=all}"
: "${SEMANTICODEC_TOKEN_RATE:=50}" "${SEMANTICODEC_VOCAB:=16384}"
: "${CODEC2_MODE:=1200}" "${OPUS_BITRATE:=6}" "${LPCNET_BIN:=/opt/lpcnet/lpcnet_demo}"
: "${NESC_ENC_ARGS:=%i %o}" "${NESC_DEC_ARGS:=%i %o}" "${FFMPEG:=ffmpeg}" "${FFPROBE:=ffprobe}"

# join_or WORD...: the words as "a, b or c", for messages that list the allowed values.
join_or() {
  local list=$1
  shift
  while (($# > 1)); do
    list+=", $1"
    shift
  done
  (($# == 0)) || list+=" or $1"
  printf '%s\n' "$list"
}

# one_of VAR CHOICES: VAR's value is one of the blank-separated CHOICES, or die 5 listing them.
one_of() {
  local choice choices
  read -r -a choices <<<"$2"
  for choice in "${choices[@]}"; do
    [[ ${!1} != "$choice" ]] || return 0
  done
  die 5 "$1=${!1}: expected $(join_or "${choices[@]}")"
}

# validate_env: every knob, in a fixed order, so the first bad one is the one reported. The
# choices of the model knobs come from codec_toolkit/facts.tsv (lib/facts.bash).
validate_env() {
  local count var
  in_range "$TORCH_THREADS" 1 1024 ||
    die 5 "TORCH_THREADS=$TORCH_THREADS: expected a whole number from 1 to 1024"
  one_of ENCODEC_BITRATE "$ENCODEC_BITRATE_CHOICES"
  one_of TORCH_DEVICE 'cpu cuda auto'
  one_of MODEL_BACKEND 'auto compiled onnx torch'
  one_of ENCODEC_LM '0 1'
  [[ ! -v SNAC_MODEL || -n $SNAC_MODEL ]] ||
    die 5 "SNAC_MODEL is empty: expected a hub id or a local directory"
  one_of SNAC_VARIANT "${RATE_SETTINGS[snac]}"
  : "${SNAC_MODEL:=hubertsiuzdak/snac_$SNAC_VARIANT}"
  : "${SNAC_SAMPLE_RATE:=${MODEL_RATES[snac:$SNAC_VARIANT]}}"
  is_sample_rate "$SNAC_SAMPLE_RATE" ||
    die 5 "SNAC_SAMPLE_RATE=$SNAC_SAMPLE_RATE: expected a rate in Hz from $RATE_MIN to $RATE_MAX"
  [[ ! -v MIMI_MODEL || -n $MIMI_MODEL ]] ||
    die 5 "MIMI_MODEL is empty: expected a hub id or a local directory"
  : "${MIMI_MODEL:=kyutai/mimi}"
  in_range "$MIMI_CODEBOOKS" 1 32 ||
    die 5 "MIMI_CODEBOOKS=$MIMI_CODEBOOKS: expected a whole number from 1 to 32"
  one_of DAC_MODEL "${RATE_SETTINGS[dac]}"
  one_of DAC_BITRATE "$DAC_BITRATE_CHOICES"
  count=${DAC_MODEL_CODEBOOKS[$DAC_MODEL-$DAC_BITRATE]-}
  [[ -n $count ]] ||
    die 5 "DAC_BITRATE=$DAC_BITRATE: DAC_MODEL=$DAC_MODEL has 8kbps only (16kbps is 44khz's)"
  [[ $DAC_CODEBOOKS == all ]] || in_range "$DAC_CODEBOOKS" 1 "$count" ||
    die 5 "DAC_CODEBOOKS=$DAC_CODEBOOKS: expected all or a whole number from 1 to $count" \
      "(DAC_MODEL=$DAC_MODEL $DAC_BITRATE)"
  one_of SEMANTICODEC_TOKEN_RATE '25 50 100'
  one_of SEMANTICODEC_VOCAB '4096 8192 16384 32768'
  one_of CODEC2_MODE '3200 2400 1600 1400 1300 1200 700C'
  in_range "$OPUS_BITRATE" 1 512 ||
    die 5 "OPUS_BITRATE=$OPUS_BITRATE: expected whole kbps from 1 to 512"
  for var in NESC_ENC_ARGS NESC_DEC_ARGS; do
    [[ ${!var} == *%i* && ${!var} == *%o* ]] ||
      die 5 "$var=${!var}: must contain %i (input) and %o (output)"
  done
}
