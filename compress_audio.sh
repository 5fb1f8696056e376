#!/usr/bin/env bash
# Usage: compress_audio.sh [-f] [-q] [--] INPUT OUTPUT
#        compress_audio.sh [-f] [-q] [-j N] -c EXT -o DIR [--] INPUT...
#
# Compress any audio FFmpeg can read into a low-bitrate codec chosen by OUTPUT's extension:
#   .ecdc    EnCodec 24 kHz, 1.5-24 kbps         .snac    SNAC 24/32/44 kHz, 0.98-2.6 kbps
#   .c2      Codec2 8 kHz, 0.7-3.2 kbps          .opus    Opus in Ogg, 6 kbps by default
#   .lpcnet  LPCNet 1.6 kbps (external binary)   .nesc    NESC (external binaries)
#   .mimi    Mimi 24 kHz, 0.55 kbps at 4 codebooks, 1.1 kbps at 8 (transformers)
#   .dac     DAC 44.1/24/16 kHz, 0.5-24 kbps by model and codebooks (optional: make dac)
#   .semanticodec  SemantiCodec 16 kHz, 0.31-1.40 kbps (optional, experimental: see README)
# INPUT is downmixed to mono and resampled to the codec's rate; its sample rate is recorded
# (.ecdc, .snac, .mimi, .dac, .semanticodec, .opus) so decompress_audio.sh can restore it.
#
# The second form compresses many inputs into DIR as NAME.EXT, loading each model once per
# worker; a failing input is reported and skipped, and the exit code is then 8.
#
# Options:
#   -f, --force         replace OUTPUT if it already exists
#   -c, --codec EXT     codec of a batch: ecdc, snac, mimi, dac, semanticodec, c2, opus,
#                       lpcnet or nesc
#   -o, --output-dir D  directory a batch writes into (must exist)
#   -j, --jobs N        worker processes for a batch (default: 1)
#   -q, --quiet         no progress bars (there are none when stderr is not a terminal)
#   -h, --help          show this help and exit
#
# Environment:
#   PYTHON_BIN        Python with the toolkit's packages (default: .venv/bin/python beside
#                     this script if present, else python3)
#   TORCH_THREADS     CPU threads for the neural codecs (default: 1)
#   TORCH_DEVICE      cpu, cuda or auto (cuda when a GPU is visible) (default: cpu)
#   MODEL_BACKEND     what runs SNAC's networks: onnx (ONNX Runtime, about twice as fast on
#                     the CPU), torch, or auto: onnx where installed and on the CPU (default: auto)
#   ENCODEC_ENC       encoder helper (default: encode_ecdc.py beside this script)
#   ENCODEC_BITRATE   EnCodec kbps: 1.5, 3, 6, 12 or 24 (default: 1.5)
#   ENCODEC_LM        1: entropy-code EnCodec with its language model; 0: plain (default: 0)
#   SNAC_VARIANT      24khz, 32khz or 44khz; sets SNAC_MODEL and SNAC_SAMPLE_RATE (default: 24khz)
#   SNAC_MODEL        SNAC hub id or local directory (default: hubertsiuzdak/snac_24khz)
#   SNAC_SAMPLE_RATE  rate INPUT is resampled to for SNAC (default: 24000)
#   MIMI_MODEL        Mimi hub id or local directory (default: kyutai/mimi)
#   MIMI_CODEBOOKS    Mimi codebooks kept, 1 to 32; each adds 137.5 bps (default: 8)
#   DAC_MODEL         DAC model: 44khz, 24khz or 16khz (default: 44khz)
#   DAC_BITRATE       8kbps, or 16kbps for the 44khz model (default: 8kbps)
#   DAC_CODEBOOKS     DAC codebooks kept, from 1 to the model's 9 (44khz), 18 (44khz 16kbps),
#                     32 (24khz) or 12 (16khz), or all; each adds 0.5-0.86 kbps (default: all)
#   SEMANTICODEC_TOKEN_RATE  SemantiCodec tokens per second: 25, 50 or 100 (default: 50)
#   SEMANTICODEC_VOCAB       its semantic vocabulary: 4096, 8192, 16384 or 32768 (default: 16384)
#   CODEC2_MODE       3200, 2400, 1600, 1400, 1300, 1200 or 700C (default: 1200)
#   OPUS_BITRATE      Opus kbps, 1 to 512 (default: 6)
#   LPCNET_BIN        LPCNet's lpcnet_demo (default: /opt/lpcnet/lpcnet_demo)
#   NESC_ENC          NESC encoder (default: /opt/nesc/nesc_enc)
#   NESC_ENC_ARGS     its arguments; %i is the 16 kHz PCM input, %o the output (default: "%i %o")
#   FFMPEG, FFPROBE, C2ENC   programs to run (default: ffmpeg, ffprobe, c2enc)
#
# Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing dependency, 4 bad or corrupt input,
#   5 bad environment value, 6 codec failure, 7 output refused or not writable,
#   8 some files of a batch failed, 130 interrupted.
set -euo pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

# Knobs shared with decompress_audio.sh, which sources this file for them and the helpers below.
# SNAC_MODEL_SET and MIMI_MODEL_SET remember whether the user named a model: only then may a
# decoder load a model that a file names but that is outside the known set.
# shellcheck disable=SC2034 # read by decompress_audio.sh
SNAC_MODEL_SET=${SNAC_MODEL:+1} MIMI_MODEL_SET=${MIMI_MODEL:+1}
if [[ -x $SCRIPT_DIR/.venv/bin/python ]]; then
  : "${PYTHON_BIN:=$SCRIPT_DIR/.venv/bin/python}"
fi
: "${PYTHON_BIN:=python3}" "${TORCH_THREADS:=1}" "${TORCH_DEVICE:=cpu}" "${MODEL_BACKEND:=auto}"
: "${ENCODEC_ENC:=$SCRIPT_DIR/encode_ecdc.py}" "${ENCODEC_DEC:=$SCRIPT_DIR/decode_ecdc.py}"
: "${ENCODEC_BITRATE:=1.5}" "${ENCODEC_LM:=0}" "${SNAC_VARIANT:=24khz}"
: "${MIMI_CODEBOOKS:=8}" "${DAC_MODEL:=44khz}" "${DAC_BITRATE:=8kbps}" "${DAC_CODEBOOKS:=all}"
: "${SEMANTICODEC_TOKEN_RATE:=50}" "${SEMANTICODEC_VOCAB:=16384}"
: "${CODEC2_MODE:=1200}" "${OPUS_BITRATE:=6}"
: "${LPCNET_BIN:=/opt/lpcnet/lpcnet_demo}" "${NESC_ENC:=/opt/nesc/nesc_enc}"
: "${NESC_DEC:=/opt/nesc/nesc_dec}" "${NESC_ENC_ARGS:=%i %o}" "${NESC_DEC_ARGS:=%i %o}"
: "${FFMPEG:=ffmpeg}" "${FFPROBE:=ffprobe}" "${C2ENC:=c2enc}" "${C2DEC:=c2dec}"
CODEC_EXTENSIONS=(.ecdc .snac .mimi .dac .semanticodec .c2 .opus .lpcnet .nesc)

die() {
  local code=$1
  shift
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit "$code"
}

# The header comment of the running script is its help text.
usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
  exit 0
}

is_uint() { [[ $1 =~ ^[0-9]{1,9}$ ]]; }

# in_range VALUE MIN MAX: VALUE is a whole number from MIN to MAX.
in_range() { is_uint "$1" && ((10#$1 >= $2 && 10#$1 <= $3)); }

snac_variant_rate() {
  case $1 in
    24khz) echo 24000 ;;
    32khz) echo 32000 ;;
    44khz) echo 44100 ;;
    *) return 1 ;;
  esac
}

# dac_codebooks MODEL BITRATE: the number of codebooks of a published DAC model.
dac_codebooks() {
  case $1-$2 in
    44khz-8kbps) echo 9 ;;
    44khz-16kbps) echo 18 ;;
    24khz-8kbps) echo 32 ;;
    16khz-8kbps) echo 12 ;;
    *) return 1 ;;
  esac
}

validate_env() {
  local rate count
  in_range "$TORCH_THREADS" 1 1024 ||
    die 5 "TORCH_THREADS=$TORCH_THREADS: expected a whole number from 1 to 1024"
  case $ENCODEC_BITRATE in 1.5 | 3 | 6 | 12 | 24) ;; *)
    die 5 "ENCODEC_BITRATE=$ENCODEC_BITRATE: expected 1.5, 3, 6, 12 or 24" ;;
  esac
  case $TORCH_DEVICE in cpu | cuda | auto) ;; *)
    die 5 "TORCH_DEVICE=$TORCH_DEVICE: expected cpu, cuda or auto" ;;
  esac
  case $MODEL_BACKEND in auto | onnx | torch) ;; *)
    die 5 "MODEL_BACKEND=$MODEL_BACKEND: expected auto, onnx or torch" ;;
  esac
  [[ $ENCODEC_LM == [01] ]] || die 5 "ENCODEC_LM=$ENCODEC_LM: expected 0 or 1"
  [[ ! -v SNAC_MODEL || -n $SNAC_MODEL ]] ||
    die 5 "SNAC_MODEL is empty: expected a hub id or a local directory"
  rate=$(snac_variant_rate "$SNAC_VARIANT") ||
    die 5 "SNAC_VARIANT=$SNAC_VARIANT: expected 24khz, 32khz or 44khz"
  : "${SNAC_MODEL:=hubertsiuzdak/snac_$SNAC_VARIANT}" "${SNAC_SAMPLE_RATE:=$rate}"
  in_range "$SNAC_SAMPLE_RATE" 1000 384000 ||
    die 5 "SNAC_SAMPLE_RATE=$SNAC_SAMPLE_RATE: expected a rate in Hz from 1000 to 384000"
  [[ ! -v MIMI_MODEL || -n $MIMI_MODEL ]] ||
    die 5 "MIMI_MODEL is empty: expected a hub id or a local directory"
  : "${MIMI_MODEL:=kyutai/mimi}"
  in_range "$MIMI_CODEBOOKS" 1 32 ||
    die 5 "MIMI_CODEBOOKS=$MIMI_CODEBOOKS: expected a whole number from 1 to 32"
  case $DAC_MODEL in 44khz | 24khz | 16khz) ;; *)
    die 5 "DAC_MODEL=$DAC_MODEL: expected 44khz, 24khz or 16khz" ;;
  esac
  case $DAC_BITRATE in 8kbps | 16kbps) ;; *)
    die 5 "DAC_BITRATE=$DAC_BITRATE: expected 8kbps or 16kbps" ;;
  esac
  count=$(dac_codebooks "$DAC_MODEL" "$DAC_BITRATE") ||
    die 5 "DAC_BITRATE=$DAC_BITRATE: DAC_MODEL=$DAC_MODEL has 8kbps only (16kbps is 44khz's)"
  [[ $DAC_CODEBOOKS == all ]] || in_range "$DAC_CODEBOOKS" 1 "$count" ||
    die 5 "DAC_CODEBOOKS=$DAC_CODEBOOKS: expected all or a whole number from 1 to $count" \
      "(DAC_MODEL=$DAC_MODEL $DAC_BITRATE)"
  case $SEMANTICODEC_TOKEN_RATE in 25 | 50 | 100) ;; *)
    die 5 "SEMANTICODEC_TOKEN_RATE=$SEMANTICODEC_TOKEN_RATE: expected 25, 50 or 100" ;;
  esac
  case $SEMANTICODEC_VOCAB in 4096 | 8192 | 16384 | 32768) ;; *)
    die 5 "SEMANTICODEC_VOCAB=$SEMANTICODEC_VOCAB: expected 4096, 8192, 16384 or 32768" ;;
  esac
  case $CODEC2_MODE in 3200 | 2400 | 1600 | 1400 | 1300 | 1200 | 700C) ;; *)
    die 5 "CODEC2_MODE=$CODEC2_MODE: expected 3200, 2400, 1600, 1400, 1300, 1200 or 700C" ;;
  esac
  in_range "$OPUS_BITRATE" 1 512 ||
    die 5 "OPUS_BITRATE=$OPUS_BITRATE: expected whole kbps from 1 to 512"
  local var
  for var in NESC_ENC_ARGS NESC_DEC_ARGS; do
    [[ ${!var} == *%i* && ${!var} == *%o* ]] ||
      die 5 "$var=${!var}: must contain %i (input) and %o (output)"
  done
}

# require_tool VAR PROGRAM: PROGRAM (named by variable VAR) must be runnable.
require_tool() {
  if [[ $2 == */* ]]; then
    [[ -e $2 ]] || die 3 "$2 not found (set by $1); install it or point $1 at it"
    [[ -f $2 && -x $2 ]] || die 3 "$2 is not executable (set by $1)"
  else
    command -v -- "$2" >/dev/null || die 3 "$2 not found; install it or point $1 at it"
  fi
}

check_input() {
  [[ -e $1 ]] || die 4 "$1: no such file"
  [[ ! -d $1 ]] || die 4 "$1: is a directory"
  [[ -r $1 ]] || die 4 "$1: permission denied"
  [[ -s $1 ]] || die 4 "$1: file is empty"
}

# check_output INPUT OUTPUT FORCE
check_output() {
  local dir
  dir=$(dirname -- "$2")
  [[ -d $dir ]] || die 7 "$2: directory $dir does not exist"
  [[ ! -d $2 ]] || die 7 "$2: is a directory"
  [[ ! $1 -ef $2 ]] || die 7 "$2: OUTPUT is the same file as INPUT"
  [[ ! -e $2 || $3 == 1 ]] || die 7 "$2: already exists (use -f to replace it)"
  [[ -w $dir ]] || die 7 "$2: directory $dir is not writable"
}

make_workdir() {
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/${PROG%.sh}.XXXXXX" 2>/dev/null) ||
    die 7 "cannot create a temporary directory in ${TMPDIR:-/tmp}"
  # The traps may run while stderr is redirected to a program's log (see run_ffmpeg).
  exec {stderr_fd}>&2
  trap cleanup EXIT
  trap 'interrupted 130' INT
  trap 'interrupted 143' TERM
}

interrupted() {
  printf '%s: interrupted\n' "$PROG" >&"${stderr_fd:-2}"
  exit "$1"
}

# Background workers of a batch ignore SIGINT (no job control), so they are stopped here.
cleanup() {
  local pids
  trap '' INT TERM
  pids=$(jobs -p)
  if [[ -n $pids ]]; then
    # shellcheck disable=SC2086 # one pid per word
    kill -TERM $pids 2>/dev/null || true
    wait || true
  fi
  rm -rf -- "$workdir"
  [[ -z ${staged:-} ]] || rm -f -- "$staged"
}

# The result is written to a hidden name beside OUTPUT (same extension, so tools that pick their
# format from the name see the right one) and renamed into place only on success.
stage_output() {
  local name=${1##*/} ext=${1##*.}
  staged=$(mktemp --suffix=".${ext,,}" "$(dirname -- "$1")/.${name:0:100}.XXXXXX") ||
    die 7 "$1: cannot create a file in $(dirname -- "$1")"
  chmod "$(printf '%o' $((0666 & ~0$(umask))))" "$staged"
}

commit_output() {
  mv -f -- "$staged" "$1" || die 7 "$1: cannot write"
  staged=
}

# run_ffmpeg EXIT_CODE WHAT FFMPEG_ARGS...: on failure, die naming WHAT with FFmpeg's last word.
run_ffmpeg() {
  local code=$1 what=$2
  shift 2
  # In braces, so that bash's own "Terminated" for a killed FFmpeg goes to the log too.
  { "$FFMPEG" -nostdin -hide_banner -loglevel error -y "$@"; } 2>"$workdir/ffmpeg.log" ||
    die "$code" "$what: FFmpeg failed: $(tail -n 1 "$workdir/ffmpeg.log")"
}

# probe_rate FILE: sample rate of FILE's first audio stream.
probe_rate() {
  local rate
  rate=$("$FFPROBE" -v error -select_streams a:0 -show_entries stream=sample_rate \
    -of csv=p=0 "file:$1" 2>/dev/null) || die 4 "$1: not a media file FFmpeg can read"
  rate=${rate%%[!0-9]*}
  [[ -n $rate ]] || die 4 "$1: has no audio stream"
  echo "$rate"
}

# to_pcm INPUT RATE FORMAT OUT: headerless mono PCM (s16le or f32le) at RATE.
to_pcm() {
  run_ffmpeg 4 "$1" -i "file:$1" -map 0:a:0 -vn -ac 1 -ar "$2" -f "$3" "file:$4"
  [[ -s $4 ]] || die 4 "$1: contains no audio samples"
}

# helper_command SCRIPT ARGS...: the command line of a Python helper, in helper_cmd.
helper_command() {
  local script=$1
  shift
  if [[ $PYTHON_BIN == */* ]]; then
    [[ -x $PYTHON_BIN && ! -d $PYTHON_BIN ]] || die 5 "PYTHON_BIN=$PYTHON_BIN: not an executable"
  else
    command -v -- "$PYTHON_BIN" >/dev/null ||
      die 3 "$PYTHON_BIN not found; run 'make setup' or set PYTHON_BIN"
  fi
  [[ -f $script ]] || die 5 "helper $script not found (check ENCODEC_ENC / ENCODEC_DEC)"
  local common=(--threads "$TORCH_THREADS" --device "$TORCH_DEVICE" --backend "$MODEL_BACKEND")
  ((!quiet)) || common+=(--quiet)
  # TMPDIR: whatever the libraries leave there (ONNX Runtime's telemetry writes .ses on import)
  # goes with the work directory.
  helper_cmd=(env "NEURAL_CODEC_PROG=$PROG" "TMPDIR=$workdir" "$PYTHON_BIN" "$script"
    "${common[@]}" "$@")
}

# run_helper SCRIPT ARGS...: a Python helper; it reports its own errors in our voice, but
# leaves an interruption to us.
run_helper() {
  local status=0
  helper_command "$@"
  "${helper_cmd[@]}" || status=$?
  case $status in
    0) ;;
    130 | 143) [[ $BASHPID != "$$" ]] || interrupted "$status"; exit "$status" ;;
    *) exit "$status" ;;
  esac
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

# codec_of FILE: the codec its extension names, if any.
codec_of() {
  local ext=${1##*.}
  ext=${ext,,}
  [[ $1 == *.* && " ${CODEC_EXTENSIONS[*]} " == *" .$ext "* ]] || return 1
  echo "$ext"
}

# Batches: run_items JOBS FUNCTION ARGS... calls `FUNCTION I ARG` for each ARG (I counts from 1),
# at most JOBS at a time, each in a subshell with its own $workdir/I; the exit status of each
# lands in $workdir/I/status, and a staged output of a failed item is removed.
run_items() {
  local jobs=$1 fn=$2 i=0 arg
  shift 2
  for arg in "$@"; do
    i=$((i + 1))
    mkdir "$workdir/$i"
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    run_item "$i" "$fn" "$arg" &
  done
  wait
}

# run_item I FUNCTION ARG: the body of one background item of run_items.
run_item() {
  workdir=$workdir/$1 staged=''
  trap 'echo $? >"$workdir/status"; [[ -z $staged ]] || rm -f -- "$staged"' EXIT
  trap 'exit 143' TERM
  "$2" "$1" "$3"
}

# list_name NAME: NAME as the last field of a line of a helper's batch list, where a tab or a
# newline would split it.
list_name() {
  local name=${1//$'\t'/\\t}
  printf '%s' "${name//$'\n'/\\n}"
}

# batch_output INPUT: where a batch writes INPUT's result.
batch_output() {
  local name=${1##*/}
  printf '%s/%s.%s\n' "$outdir" "${name%.*}" "$batch_ext"
}

# check_batch INPUT...: the batch's names must not collide.
check_batch() {
  local input seen=" " name
  for input in "$@"; do
    name=$(batch_output "$input")
    [[ $seen != *" $name "* ]] || die 2 "$input: a second input would also write $name"
    seen+="$name "
  done
}

# run_neural_batch HELPER ARGS...: the items that queued $workdir/I/item, split over $jobs
# helpers that each load the model once.
run_neural_batch() {
  local item k=0 lists=()
  for item in "$workdir"/*/item; do
    [[ -e $item ]] || continue
    cat -- "$item" >>"$workdir/list.$((k % jobs))"
    k=$((k + 1))
  done
  for ((k = 0; k < jobs; k++)); do
    [[ ! -e $workdir/list.$k ]] || lists+=("$workdir/list.$k")
  done
  for item in "${lists[@]}"; do
    # exec: the worker is the helper itself, so cleanup's TERM reaches it.
    (helper_command "$@" --batch "$item" && exec "${helper_cmd[@]}" >"$item.out") &
  done
  wait || true
}

# finish_batch COUNT: exit 0 when all COUNT items succeeded, else 8 with a count.
finish_batch() {
  local failed
  failed=$(grep -Lx 0 "$workdir"/*/status 2>/dev/null | wc -l)
  ((failed == 0)) || die 8 "$failed of $1 files failed"
}

# Codecs: encode_EXT SOURCE_RATE STAGED writes STAGED from $input, working in $workdir.

dac_rate() {
  case $1 in
    44khz) echo 44100 ;;
    24khz) echo 24000 ;;
    16khz) echo 16000 ;;
  esac
}

# neural_args CODEC: the encoder helper's arguments and the model's rate, in helper_args and
# model_rate; fails for codecs that are not neural.
neural_args() {
  case $1 in
    ecdc)
      model_rate=24000
      helper_args=(--codec ecdc --bitrate "$ENCODEC_BITRATE")
      [[ $ENCODEC_LM == 0 ]] || helper_args+=(--lm)
      ;;
    snac)
      model_rate=$SNAC_SAMPLE_RATE
      helper_args=(--codec snac --model "$SNAC_MODEL")
      ;;
    mimi)
      model_rate=24000
      helper_args=(--codec mimi --model "$MIMI_MODEL" --codebooks "$((10#$MIMI_CODEBOOKS))")
      ;;
    dac)
      model_rate=$(dac_rate "$DAC_MODEL")
      helper_args=(--codec dac --dac-model "$DAC_MODEL" --dac-bitrate "$DAC_BITRATE")
      [[ $DAC_CODEBOOKS == all ]] || helper_args+=(--codebooks "$((10#$DAC_CODEBOOKS))")
      ;;
    semanticodec)
      model_rate=16000
      helper_args=(--codec semanticodec --token-rate "$SEMANTICODEC_TOKEN_RATE"
        --vocab-size "$SEMANTICODEC_VOCAB")
      ;;
    *) return 1 ;;
  esac
  helper_args+=(--raw --sample-rate "$model_rate")
}

# encode_neural CODEC SOURCE_RATE STAGED: the helper writes into $workdir, never beside OUTPUT,
# so nothing of it can be left there.
encode_neural() {
  neural_args "$1"
  to_pcm "$input" "$model_rate" f32le "$workdir/in.f32"
  run_helper "$ENCODEC_ENC" "${helper_args[@]}" --source-rate "$2" -- "$workdir/in.f32" \
    "$workdir/encoded"
  cp -- "$workdir/encoded" "$3"
}

encode_ecdc() { encode_neural ecdc "$@"; }
encode_snac() { encode_neural snac "$@"; }
encode_mimi() { encode_neural mimi "$@"; }
encode_dac() { encode_neural dac "$@"; }
encode_semanticodec() { encode_neural semanticodec "$@"; }

encode_c2() {
  to_pcm "$input" 8000 s16le "$workdir/in.raw"
  # c2enc writes Codec2's header (magic, mode) only when the output name ends in .c2.
  run_binary C2ENC "$C2ENC" "$2" "$CODEC2_MODE" "$workdir/in.raw" "$2"
  # A 7-byte header and no frame: nothing c2dec could decode.
  (($(stat -c %s -- "$2") > 7)) || die 4 "$input: shorter than one Codec2 frame"
}

encode_opus() {
  # Through PCM, so an input without samples is refused like everywhere else (FFmpeg would
  # write an Ogg it cannot read back). SOURCE_RATE is a Vorbis comment, so decoding can restore
  # the original rate.
  to_pcm "$input" 16000 s16le "$workdir/in.raw"
  run_ffmpeg 6 "$input" -f s16le -ar 16000 -ac 1 -i "file:$workdir/in.raw" -c:a libopus \
    -b:a "${OPUS_BITRATE}k" -application voip -metadata "SOURCE_RATE=$1" -fflags +bitexact \
    -flags:a +bitexact -f ogg "file:$2"
}

encode_lpcnet() {
  to_pcm "$input" 16000 s16le "$workdir/in.pcm"
  run_binary LPCNET_BIN "$LPCNET_BIN" "$2" -encode "$workdir/in.pcm" "$2"
}

encode_nesc() {
  to_pcm "$input" 16000 s16le "$workdir/in.pcm"
  expand_args "$NESC_ENC_ARGS" "$workdir/in.pcm" "$2"
  run_binary NESC_ENC "$NESC_ENC" "$2" "${expanded[@]}"
}

# compress_item I INPUT: one input of a batch. Neural codecs only convert it and queue it for
# run_neural_batch; the others encode it here.
compress_item() {
  local output source_rate
  input=$2
  output=$(batch_output "$input")
  check_input "$input"
  check_output "$input" "$output" "$force"
  source_rate=$(probe_rate "$input")
  if neural_args "$codec"; then
    to_pcm "$input" "$model_rate" f32le "$workdir/in.f32"
    printf '%s\t%s\t%s\t%s\n' "$workdir/in.f32" "$workdir/encoded" "$source_rate" \
      "$(list_name "$input")" \
      >"$workdir/item"
    printf '%s\n' "$output" >"$workdir/destination"
  else
    stage_output "$output"
    "encode_$codec" "$source_rate" "$staged"
    commit_output "$output"
  fi
}

compress_batch() {
  local dir
  check_batch "$@"
  run_items "$jobs" compress_item "$@"
  if neural_args "$codec"; then
    run_neural_batch "$ENCODEC_ENC" "${helper_args[@]}"
    for dir in "$workdir"/*/; do
      [[ -e $dir/item ]] || continue
      if [[ -s $dir/encoded ]]; then
        stage_output "$(<"$dir/destination")"
        cp -- "$dir/encoded" "$staged"
        commit_output "$(<"$dir/destination")"
      else
        echo 1 >"$dir/status"
      fi
    done
  fi
  finish_batch "$#"
}

# parse_options ARGS...: the options both scripts share; the rest in $positional.
parse_options() {
  force=0 quiet=0 jobs=1 outdir='' batch_ext='' rate='' positional=()
  while (($#)); do
    case $1 in
      -h | --help) usage ;;
      -f | --force) force=1 ;;
      -q | --quiet) quiet=1 ;;
      -c | --codec | -o | --output-dir | -j | --jobs | -r | --rate)
        if (($# < 2)); then
          case $1 in
            -c | --codec) die 2 "$1 needs a codec extension" ;;
            -o | --output-dir) die 2 "$1 needs a directory" ;;
            -j | --jobs) die 2 "$1 needs a number of jobs" ;;
            *) die 2 "$1 needs a sample rate in Hz" ;;
          esac
        fi
        case $1 in
          -c | --codec) batch_ext=${2#.} ;;
          -o | --output-dir) outdir=$2 ;;
          -j | --jobs) jobs=$2 ;;
          *) [[ $PROG == decompress_audio.sh ]] || die 2 "unknown option: $1 (see --help)"
            rate=$2 ;;
        esac
        shift
        ;;
      --) shift; positional+=("$@"); break ;;
      -?*) die 2 "unknown option: $1 (see --help)" ;;
      *) positional+=("$1") ;;
    esac
    shift
  done
  in_range "$jobs" 1 256 || die 2 "--jobs $jobs: expected a whole number from 1 to 256"
  if [[ -n $outdir || -n $batch_ext ]]; then
    [[ -n $outdir ]] || die 2 "a batch needs -o DIR"
    [[ -d $outdir ]] || die 7 "$outdir: output directory does not exist"
    ((${#positional[@]} >= 1)) || die 2 "expected at least one INPUT (see --help)"
  else
    ((${#positional[@]} == 2)) || die 2 "expected INPUT and OUTPUT (see --help)"
  fi
}

main() {
  local output source_rate
  parse_options "$@"
  if [[ -n $outdir ]]; then
    [[ -n $batch_ext ]] || die 2 "a batch needs -c EXT"
    codec=$(codec_of "x.$batch_ext") ||
      die 2 "-c $batch_ext: unknown codec; supported: ${CODEC_EXTENSIONS[*]}"
  else
    output=${positional[1]}
    codec=$(codec_of "$output") ||
      die 2 "$output: unknown extension; supported: ${CODEC_EXTENSIONS[*]}"
  fi
  validate_env
  require_tool FFMPEG "$FFMPEG"
  require_tool FFPROBE "$FFPROBE"
  if [[ -n $outdir ]]; then
    make_workdir
    compress_batch "${positional[@]}"
    return
  fi
  input=${positional[0]}
  check_input "$input"
  check_output "$input" "$output" "$force"
  make_workdir
  source_rate=$(probe_rate "$input")
  stage_output "$output"
  "encode_$codec" "$source_rate" "$staged"
  [[ -s $staged ]] || die 6 "the $codec encoder wrote nothing"
  commit_output "$output"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
