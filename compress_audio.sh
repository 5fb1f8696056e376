#!/usr/bin/env bash
# Usage: compress_audio.sh [-f] [-q] [--] INPUT OUTPUT
#        compress_audio.sh [-f] [-q] -c EXT [--] INPUT|- OUTPUT|-
#        compress_audio.sh [-f|--skip-existing] [-q] [-R] [-j N] -c EXT -o DIR [--] INPUT...
#        compress_audio.sh [-f] [-q] [--] CODES.npz OUTPUT
#        compress_audio.sh --version [-v]
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
# An INPUT named .npz holding codes (what a language model produced; arrays as in the README,
# "Codes for ML users") is built into OUTPUT's container instead: .ecdc, .snac, .mimi, .dac or
# .semanticodec, which must be the codec the .npz names. Every array is checked (exit 4).
#
# INPUT "-" reads standard input (spooled to the work directory first) and OUTPUT "-" writes
# standard output, whose codec -c names; -c with a named OUTPUT must agree with its extension.
#
# The batch form compresses many inputs into DIR as NAME.EXT (with -R, folders too, their
# trees mirrored), -j workers each taking the next file and loading each model once; a failing
# input is reported and skipped, and the exit code is then 8. A summary line ends it.
#
# Options (GNU syntax: -fq, --jobs=4 or --jobs 4, options after the operands; -- ends them):
#   -f, --force         replace OUTPUT if it already exists
#   -y                  the same as -f (FFmpeg's spelling)
#   -c, --codec EXT     codec of OUTPUT "-" or of a batch: ecdc, snac, mimi, dac, semanticodec,
#                       c2, opus, lpcnet or nesc
#   -o, --output-dir D  directory a batch writes into (created when missing)
#   -R, --recursive     folders among a batch's inputs are walked; outputs mirror their trees
#       --skip-existing a batch skips inputs whose output exists (to finish a stopped batch)
#   -j, --jobs N        worker processes for a batch (default: 1)
#   -q, --quiet         no progress (there is none when stderr is not a terminal), and no
#                       summary line after a batch in which nothing failed
#   -h, --help          show this help and exit
#   --version           show the toolkit's version and exit; with -v (--verbose) also those
#                       of Python, its codec packages and FFmpeg, for bug reports
#
# Environment:
#   PYTHON_BIN        Python with the toolkit's packages (default: .venv/bin/python beside
#                     this script if present, else python3)
#   TORCH_THREADS     CPU threads for the neural codecs (default: 1)
#   TORCH_DEVICE      cpu, cuda or auto (cuda when a GPU is visible) (default: cpu)
#   MODEL_BACKEND     what runs SNAC's networks and Mimi's: compiled (AOTInductor, prepared
#                     once per machine), onnx (ONNX Runtime, SNAC only), torch, or auto: on
#                     the CPU the first of these that works (default: auto)
#   ENCODEC_ENC       encoder helper (default: encode_ecdc.py beside this script)
#   ENCODEC_BITRATE   EnCodec kbps: 1.5, 3, 6, 12 or 24 (default: 1.5)
#   ENCODEC_LM        1: entropy-code EnCodec with its language model; 0: plain (default: 0)
#   SNAC_VARIANT      24khz, 32khz or 44khz; sets SNAC_MODEL and SNAC_SAMPLE_RATE (default: 24khz)
#   SNAC_MODEL        SNAC hub id or local directory (default: hubertsiuzdak/snac_24khz); for an
#                     .npz of codes, vouches for the model it names when that is not a known one
#   SNAC_SAMPLE_RATE  rate INPUT is resampled to for SNAC (default: 24000)
#   MIMI_MODEL        Mimi hub id or local directory (default: kyutai/mimi); vouches as SNAC_MODEL
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

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# An argument for source: without one, bash takes seconds over a command line of 100,000 names.
# shellcheck source=lib/toolkit.bash
source "$SCRIPT_DIR/lib/toolkit.bash" "$SCRIPT_DIR"

# The knobs only this command reads; the shared ones are in lib/knobs.bash. SNAC_MODEL_SET and
# MIMI_MODEL_SET remember whether the user named a model: only then may an .npz of codes name
# one outside the known set (as decompress_audio.sh decodes such files).
SNAC_MODEL_SET=${SNAC_MODEL:+1} MIMI_MODEL_SET=${MIMI_MODEL:+1}
: "${ENCODEC_ENC:=$SCRIPT_DIR/encode_ecdc.py}" "${C2ENC:=c2enc}" "${NESC_ENC:=/opt/nesc/nesc_enc}"
# A walked file that FFprobe cannot read, in a batch's summary.
NOT_INPUT='not audio'
helper_args=()

# Codecs: encode_CODEC SOURCE_RATE STAGED writes STAGED from $input, working in $workdir; the
# codecs of the Python helpers (facts.tsv's runner) all go through encode_neural.

# neural_args CODEC: the encoder helper's arguments and the model's rate, in helper_args and
# model_rate.
neural_args() {
  case $1 in
    ecdc)
      model_rate=${MODEL_RATES[ecdc]}
      helper_args=(--codec ecdc --bitrate "$ENCODEC_BITRATE")
      [[ $ENCODEC_LM == 0 ]] || helper_args+=(--lm)
      ;;
    snac)
      model_rate=$SNAC_SAMPLE_RATE
      helper_args=(--codec snac --model "$SNAC_MODEL")
      ;;
    mimi)
      model_rate=${MODEL_RATES[mimi]}
      helper_args=(--codec mimi --model "$MIMI_MODEL" --codebooks "$((10#$MIMI_CODEBOOKS))")
      ;;
    dac)
      model_rate=${MODEL_RATES[dac:$DAC_MODEL]}
      helper_args=(--codec dac --dac-model "$DAC_MODEL" --dac-bitrate "$DAC_BITRATE")
      [[ $DAC_CODEBOOKS == all ]] || helper_args+=(--codebooks "$((10#$DAC_CODEBOOKS))")
      ;;
    semanticodec)
      model_rate=${MODEL_RATES[semanticodec]}
      helper_args=(--codec semanticodec --token-rate "$SEMANTICODEC_TOKEN_RATE"
        --vocab-size "$SEMANTICODEC_VOCAB")
      ;;
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
  copy_file "$workdir/encoded" "$3" "$output"
}

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

# is_codes_input INPUT: INPUT is an .npz of codes: named .npz, and a zip as every .npz is.
is_codes_input() {
  local ext=${1##*.} head
  [[ $1 == *.* && ${ext,,} == npz ]] || return 1
  head=$(od -An -tx1 -N4 -- "$1" | tr -d ' \n')
  [[ $head == 504b0304 ]] || die 4 "$1: not an .npz file (no zip signature)"
}

# build_from_codes STAGED: the container of $codec from the .npz of codes $input. No model
# runs, except EnCodec's language model for an .npz whose lm is true.
build_from_codes() {
  local args=(--from-codes --codec "$codec")
  runs_in_helper "$codec" || die 2 "$output: .$codec holds no codes; an .npz of codes builds" \
    ".ecdc, .snac, .mimi, .dac or .semanticodec"
  [[ $codec != snac || -z $SNAC_MODEL_SET ]] || args+=(--model "$SNAC_MODEL")
  [[ $codec != mimi || -z $MIMI_MODEL_SET ]] || args+=(--model "$MIMI_MODEL")
  run_helper "$ENCODEC_ENC" "${args[@]}" -- "$input" "$workdir/encoded"
  copy_file "$workdir/encoded" "$1" "$output"
}

# encode CODEC SOURCE_RATE STAGED: one input through its codec's encoder.
encode() {
  if runs_in_helper "$1"; then
    encode_neural "$@"
  else
    "encode_$1" "${@:2}"
  fi
}

# compress_item K: item K of a batch, in its own work directory. The helpers' codecs stop at
# the request for the worker's helper (compress_finish puts its result in place); the others
# encode here. A walked file FFprobe cannot read is skipped, not failed.
compress_item() {
  local source_rate
  input=${item_in[$1]} output=${item_out[$1]}
  check_output "$input" "$output" "$force"
  if ((item_walked[$1])); then
    source_rate=$(probe_rate "$input" 2>/dev/null) || exit "$SKIPPED"
  else
    source_rate=$(probe_rate "$input")
  fi
  if runs_in_helper "$codec"; then
    neural_args "$codec"
    to_pcm "$input" "$model_rate" f32le "$workdir/in.f32"
    printf '%s\t%s\t%s\t%s\n' "$workdir/in.f32" "$workdir/encoded" "$source_rate" \
      "$(list_name "$input")" >"$workdir/request"
  else
    stage_output "$output"
    "encode_$codec" "$source_rate" "$staged"
    commit_output "$output"
  fi
  pcm_ms "${last_pcm[@]}" >"$workdir/ms"
}

# compress_finish K: the helper's container for item K, staged beside its output and renamed.
compress_finish() {
  place_file "$workdir/encoded" "${item_out[$1]}"
}

# This command has no options of its own, but getopt is told of decompress_audio.sh's -r
# (--rate) so that a -r with nothing after it is told that it lacks a rate, as it always was,
# before own_option refuses it as unknown.
OWN_SHORT=r: OWN_LONG=rate:
own_option() { return 1; }

# pick_codec: the codec that -c or OUTPUT's extension names (they must agree when both do).
pick_codec() {
  local named
  if [[ -n $batch_ext ]]; then
    codec=$(codec_of "x.$batch_ext") ||
      die 2 "-c $batch_ext: unknown codec; supported: ${CODEC_EXTENSIONS[*]}"
  fi
  if [[ -n $outdir ]]; then
    [[ -n $batch_ext ]] || die 2 "a batch needs -c EXT"
  elif [[ ${positional[1]} == - ]]; then
    [[ -n $batch_ext ]] || die 2 "-: standard output has no extension; name the codec with -c EXT"
  else
    named=$(codec_of "${positional[1]}") ||
      die 2 "${positional[1]}: unknown extension; supported: ${CODEC_EXTENSIONS[*]}"
    [[ -z $batch_ext || $named == "$codec" ]] ||
      die 2 "${positional[1]}: the extension says .$named but -c says .$codec"
    codec=$named
  fi
}

main() {
  local source_rate
  parse_options "$@"
  check_operands
  pick_codec
  validate_env
  require_tool FFMPEG "$FFMPEG"
  require_tool FFPROBE "$FFPROBE"
  if [[ -n $outdir ]]; then
    make_workdir
    ! runs_in_helper "$codec" || neural_args "$codec"
    run_batch compress_item compress_finish "$ENCODEC_ENC" "${helper_args[@]}"
    return
  fi
  make_workdir
  open_operands "${positional[@]}" "$codec"
  check_input "$input"
  check_output "$input" "$output" "$force"
  if is_codes_input "$input"; then
    stage_output "$output"
    build_from_codes "$staged"
  else
    source_rate=$(probe_rate "$input")
    stage_output "$output"
    encode "$codec" "$source_rate" "$staged"
  fi
  [[ -s $staged ]] || die 6 "the $codec encoder wrote nothing"
  commit_output "$output"
  finish_stdout
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
