#!/usr/bin/env bash
# Usage: decompress_audio.sh [-f] [-q] [-r HZ] [--] INPUT OUTPUT
#        decompress_audio.sh [-f] [-q] [-r HZ] [-c EXT] [--] INPUT|- OUTPUT|-
#        decompress_audio.sh [-f|--skip-existing] [-q] [-r HZ] [-R] [-j N] -o DIR [-c EXT] [--]
#                            INPUT...
#        decompress_audio.sh --codes [-f] [-q] [--] INPUT OUTPUT.npz
#        decompress_audio.sh --codes [-f] [-q] [-R] [-j N] -o DIR [--] INPUT...
#        decompress_audio.sh --info [--json] [--] FILE...
#        decompress_audio.sh --version [-v]
#
# Restore audio compressed by compress_audio.sh. INPUT is recognised by its first bytes:
# .ecdc (EnCodec, also files of the encodec package), .snac (ours, or a legacy torch.save file),
# .mimi, .dac (also files of the dac package), .semanticodec, .c2 (Codec2 header), .opus (Ogg);
# headerless .lpcnet and .nesc by their extension.
# OUTPUT's extension picks the audio format: .wav .flac .mp3 .ogg .opus .m4a .aac .aiff.
# The audio has its original duration and, where the file records it (.ecdc, .snac, .mimi, .dac,
# .semanticodec, .opus), its original sample rate; otherwise the codec's own rate (8000 for .c2,
# 16000 for .lpcnet/.nesc).
#
# INPUT "-" reads standard input (spooled to the work directory first; recognised by content, so
# not .lpcnet or .nesc) and OUTPUT "-" writes standard output in the format -c names (default:
# wav); -c with a named OUTPUT must agree with its extension.
#
# The batch form restores many inputs into DIR as NAME.EXT (EXT: wav unless -c says; with -R,
# folders too, their trees mirrored), -j workers each taking the next file and loading each
# model once; a failing input is reported and skipped, and the exit code is 8. A summary line
# ends it.
#
# --codes writes the codes of INPUT (.ecdc, .snac, .mimi, .dac, .semanticodec) as a NumPy .npz
# instead of audio (a batch writes DIR/NAME.npz): one integer array per SNAC level or a
# [codebooks, frames] array, plus codec, model and rates; the README, "Codes for ML users",
# lists them. No model is loaded, except the LM of an LM-coded .ecdc.
#
# --info prints what each FILE holds without loading a model: a block of key=value lines per
# file (file=, container=, codec=, model=, sample_rate=, source_rate=, samples=, duration=,
# codebooks= or levels=, bytes=, kbps=, as far as the container says), or with --json one JSON
# object a line (FILE "-": standard input). A FILE it cannot read is reported, the others are
# printed, and the exit code is 4.
#
# Options (GNU syntax: -fq, --jobs=4 or --jobs 4, options after the operands; -- ends them):
#   -r, --rate HZ       sample rate of OUTPUT (default: as above)
#   -f, --force         replace OUTPUT if it already exists
#   -y                  the same as -f (FFmpeg's spelling)
#   -c, --codec EXT     audio format of OUTPUT "-" or of a batch's outputs (default: wav)
#   -o, --output-dir D  directory a batch writes into (created when missing)
#   -R, --recursive     folders among a batch's inputs are walked; outputs mirror their trees
#       --skip-existing a batch skips inputs whose output exists (to finish a stopped batch)
#   -j, --jobs N        worker processes for a batch (default: 1)
#   -q, --quiet         no progress (there is none when stderr is not a terminal), and no
#                       summary line after a batch in which nothing failed
#   --codes             write the codes as .npz instead of decoding (see above)
#   --info              describe each FILE instead of decoding it; --json: as JSON Lines
#   -h, --help          show this help and exit
#   --version           show the toolkit's version and exit; with -v (--verbose) also those
#                       of Python, its codec packages and FFmpeg, for bug reports
#
# Environment:
#   PYTHON_BIN        Python with the toolkit's packages (default: .venv/bin/python beside
#                     this script if present, else python3)
#   TORCH_THREADS     CPU threads for the neural codecs (default: 1)
#   TORCH_DEVICE      cpu, cuda or auto (cuda when a GPU is visible) (default: cpu)
#   MODEL_BACKEND     what runs SNAC's networks and Mimi's: compiled, onnx (SNAC only), torch
#                     or auto (default: auto)
#   ENCODEC_DEC       decoder helper (default: decode_ecdc.py beside this script)
#   SNAC_MODEL        decode .snac with this model (hub id or local directory) instead of the
#                     one the file records; needed for files that name a model outside the
#                     known snac_24khz/32khz/44khz set, and for legacy files that name none
#   SNAC_VARIANT      24khz, 32khz or 44khz: the model for legacy files that name none (default: 24khz)
#   SNAC_SAMPLE_RATE  sample rate of such legacy files (default: the variant's)
#   MIMI_MODEL        decode .mimi with this model instead of the one the file records; needed
#                     for files that name a model other than kyutai/mimi
#   DAC_MODEL, DAC_BITRATE   the DAC model a .dac file is decoded with: .dac files do not
#                     record it, so these must match the encoder's (default: 44khz, 8kbps)
#   LPCNET_BIN        LPCNet's lpcnet_demo (default: /opt/lpcnet/lpcnet_demo)
#   NESC_DEC          NESC decoder (default: /opt/nesc/nesc_dec)
#   NESC_DEC_ARGS     its arguments; %i is the .nesc input, %o the 16 kHz PCM output (default: "%i %o")
#   FFMPEG, FFPROBE, C2DEC   programs to run (default: ffmpeg, ffprobe, c2dec)
#   The other knobs of compress_audio.sh are validated too, so a typo never passes silently.
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
# MIMI_MODEL_SET remember whether the user named a model (validate_env defaults them): only then
# may the decoder load a model that a file names but that is outside the known set.
SNAC_MODEL_SET=${SNAC_MODEL:+1} MIMI_MODEL_SET=${MIMI_MODEL:+1}
: "${ENCODEC_DEC:=$SCRIPT_DIR/decode_ecdc.py}" "${C2DEC:=c2dec}" "${NESC_DEC:=/opt/nesc/nesc_dec}"
OUTPUT_EXTENSIONS=(.wav .flac .mp3 .ogg .opus .m4a .aac .aiff)
# A walked file that is no container, in a batch's summary.
NOT_INPUT='not a container'

# Codecs: decode_CODEC sets decoded (FFmpeg input arguments) and native_rate from $input, and
# either decoded_ms (the length) or decoded_pcm (a PCM file to measure it from); the codecs of
# the Python helpers (facts.tsv's runner) all go through decode_neural.

# decoder_args: the decoder helper's SNAC options, in helper_args.
decoder_args() {
  helper_args=(--default-model "$SNAC_MODEL" --sample-rate "$SNAC_SAMPLE_RATE")
  [[ -z $SNAC_MODEL_SET ]] || helper_args+=(--model "$SNAC_MODEL")
  [[ -z $MIMI_MODEL_SET ]] || helper_args+=(--mimi-model "$MIMI_MODEL")
  helper_args+=(--dac-model "$DAC_MODEL" --dac-bitrate "$DAC_BITRATE")
}

# The helper answers with the source rate the WAV is rendered at, as a batch's worker does: no
# second Python process for --info (0.1 s of every decode).
decode_neural() {
  decoder_args
  run_helper "$ENCODEC_DEC" "${helper_args[@]}" --reply "$workdir/reply" -- "$input" \
    "$workdir/decoded.wav"
  IFS=$'\t' read -r native_rate decoded_ms <"$workdir/reply"
  decoded=(-i "file:$workdir/decoded.wav")
}

decode_c2() {
  (($(stat -c %s -- "$input") > 7)) || die 4 "$input: holds no Codec2 frames"
  # c2dec reads the mode from the header only when the input name ends in .c2.
  ln -s -- "$(realpath -- "$input")" "$workdir/in.c2"
  run_binary C2DEC "$C2DEC" "$workdir/out.raw" "$CODEC2_MODE" "$workdir/in.c2" "$workdir/out.raw"
  native_rate=8000
  pcm_input "$workdir/out.raw" 8000
}

# An .opus without a SOURCE_RATE tag (not written by compress_audio.sh) decodes at Opus's 48 kHz;
# a tag that is no plausible rate (facts.tsv's sample_rates) is a bad field, as in the containers.
# Its length comes from the same probe, for a batch's summary.
decode_opus() {
  local probe line tag='' seconds=0.0
  probe=$("$FFPROBE" -v error -select_streams a:0 -show_entries \
    stream_tags=SOURCE_RATE:format=duration -of default=nw=1 "file:$input" 2>/dev/null) ||
    die 4 "$input: not a valid Ogg file"
  while IFS= read -r line; do
    case $line in
      TAG:SOURCE_RATE=*) tag=${line#*=} ;;
      duration=*) seconds=${line#*=} ;;
    esac
  done <<<"$probe"
  [[ $seconds =~ ^[0-9]+\.[0-9]+$ ]] || seconds=0.0
  decoded_ms=$((10#${seconds%.*} * 1000 + 10#$(printf '%.3s' "${seconds#*.}000")))
  native_rate=${tag:-48000}
  is_sample_rate "$native_rate" ||
    die 4 "$input: SOURCE_RATE tag $tag is not a sample rate from $RATE_MIN to $RATE_MAX Hz"
  decoded=(-i "file:$input")
}

decode_lpcnet() {
  run_binary LPCNET_BIN "$LPCNET_BIN" "$workdir/out.pcm" -decode "$input" "$workdir/out.pcm"
  native_rate=16000
  pcm_input "$workdir/out.pcm" 16000
}

decode_nesc() {
  expand_args "$NESC_DEC_ARGS" "$input" "$workdir/out.pcm"
  run_binary NESC_DEC "$NESC_DEC" "$workdir/out.pcm" "${expanded[@]}"
  native_rate=16000
  pcm_input "$workdir/out.pcm" 16000
}

# pcm_input FILE RATE: decoded is the headerless s16le mono PCM FILE at RATE, whose length
# decoded_ms is measured from when a batch asks.
pcm_input() {
  decoded=(-f s16le -ar "$2" -ac 1 -i "file:$1") decoded_pcm=("$1" "$2")
}

# decode CODEC: $input through its codec's decoder.
decode() {
  if runs_in_helper "$1"; then
    decode_neural
  else
    "decode_$1"
  fi
}

# render OUTPUT: $decoded as OUTPUT's format at the --rate or the recorded rate.
render() {
  local ext=${1##*.} out_rate=${rate:-$native_rate}
  # Opus only runs at 8, 12, 16, 24 and 48 kHz.
  if [[ ${ext,,} == opus && ! $out_rate =~ ^(8000|12000|16000|24000|48000)$ ]]; then
    out_rate=48000
  fi
  stage_output "$1"
  run_ffmpeg 6 "$1" "${decoded[@]}" -ac 1 -ar "$out_rate" -fflags +bitexact \
    -flags:a +bitexact "file:$staged"
  commit_output "$1"
}

# export_codes INPUT OUTPUT: INPUT's codes into OUTPUT (.npz), staged beside it.
export_codes() {
  local kind
  kind=$(container_of "$1")
  runs_in_helper "$kind" || no_codes "$1" "$kind"
  decoder_args
  run_helper "$ENCODEC_DEC" "${helper_args[@]}" --codes -- "$1" "$workdir/codes.npz"
  place_file "$workdir/codes.npz" "$2"
}

# no_codes FILE KIND: die, FILE being a container of codec KIND, which has no codes to export.
no_codes() {
  die 4 "$1: .$2 holds no codes to export (only .ecdc, .snac, .mimi, .dac, .semanticodec)"
}

# pick_codes_format: --codes writes .npz: OUTPUT must say so, and a batch's -c may only.
pick_codes_format() {
  [[ -z $rate ]] || die 2 "--rate does not go with --codes"
  [[ -z $batch_ext || ${batch_ext,,} == npz ]] || die 2 "-c $batch_ext: --codes writes .npz"
  batch_ext=npz
  [[ -n $outdir || ${positional[1]} == - || ${positional[1],,} == *.npz ]] ||
    die 2 "${positional[1]}: --codes writes a NumPy .npz; name OUTPUT .npz"
}

# check_output_format OUTPUT
check_output_format() {
  local ext=.${1##*.}
  [[ $1 == *.* && " ${OUTPUT_EXTENSIONS[*]} " == *" ${ext,,} "* ]] ||
    die 2 "$1: unknown audio extension; supported: ${OUTPUT_EXTENSIONS[*]}"
}

# decompress_item K: item K of a batch, in its own work directory. The helpers' containers stop
# at the request for the worker's helper (decompress_finish renders its WAV); the others are
# decoded here. A walked file that is no container is skipped, not failed.
decompress_item() {
  local kind target product decoded_ms='' decoded_pcm=()
  input=${item_in[$1]} output=${item_out[$1]}
  check_output "$input" "$output" "$force"
  if ((item_walked[$1])); then
    kind=$(container_of "$input" 2>/dev/null) || exit "$SKIPPED"
  else
    kind=$(container_of "$input")
  fi
  if ((codes)); then
    runs_in_helper "$kind" || no_codes "$input" "$kind"
  fi
  if runs_in_helper "$kind"; then
    # Through a link of a plain name: the request is a tab-separated line.
    if [[ $input == /* ]]; then target=$input; else target=$PWD/$input; fi
    ln -s -- "$target" "$workdir/input"
    product=decoded.wav
    ((!codes)) || product=codes.npz
    printf '%s\t%s\t%s\n' "$workdir/input" "$workdir/$product" "$(list_name "$input")" \
      >"$workdir/request"
    return
  fi
  "decode_$kind"
  render "$output"
  # The audio's length, for the summary: .opus's probe gave it; the others' PCM is measured.
  [[ -n $decoded_ms ]] || decoded_ms=$(pcm_ms "${decoded_pcm[@]}" 16)
  echo "$decoded_ms" >"$workdir/ms"
}

# decompress_finish K: the helper's WAV of item K rendered as its output, at the source rate
# the helper read from the container; or with --codes, its .npz put in place.
decompress_finish() {
  local ms
  if ((codes)); then
    IFS= read -r ms <"$workdir/reply"
    place_file "$workdir/codes.npz" "${item_out[$1]}"
  else
    IFS=$'\t' read -r native_rate ms <"$workdir/reply"
    decoded=(-i "file:$workdir/decoded.wav")
    render "${item_out[$1]}"
  fi
  echo "$ms" >"$workdir/ms"
}

# own_option OPTION VALUE: parse_options' hook for this command's own options.
OWN_SHORT=r: OWN_LONG=rate:,info,json,codes
own_option() {
  case $1 in
    -r | --rate) rate=$2 ;;
    --info) info=1 ;;
    --json) json=1 ;;
    --codes) codes=1 ;;
    *) return 1 ;;
  esac
}

# pick_format: the audio format, from -c (default wav) for a batch or OUTPUT "-", else from
# OUTPUT's extension, with which a -c must agree.
pick_format() {
  local ext
  if [[ -n $outdir || -n $batch_ext || ${positional[1]} == - ]]; then
    batch_ext=${batch_ext:-wav}
    [[ " ${OUTPUT_EXTENSIONS[*]} " == *" .${batch_ext,,} "* ]] ||
      die 2 "-c $batch_ext: unknown audio format; supported: ${OUTPUT_EXTENSIONS[*]}"
  fi
  [[ -z $outdir && ${positional[1]} != - ]] || return 0
  check_output_format "${positional[1]}"
  ext=${positional[1]##*.}
  [[ -z $batch_ext || ${ext,,} == "${batch_ext,,}" ]] ||
    die 2 "${positional[1]}: the extension says .$ext but -c says .$batch_ext"
}

main() {
  local kind
  rate='' info=0 json=0 codes=0 # through own_option
  parse_options "$@"
  if ((info)); then
    describe_files "$json" "${positional[@]}"
  fi
  ((!json)) || die 2 "--json goes with --info (see --help)"
  check_operands
  [[ -z $rate ]] || is_sample_rate "$rate" ||
    die 2 "--rate $rate: expected a sample rate in Hz from $RATE_MIN to $RATE_MAX"
  if ((codes)); then pick_codes_format; else pick_format; fi
  validate_env
  require_tool FFMPEG "$FFMPEG"
  require_tool FFPROBE "$FFPROBE"
  if [[ -n $outdir ]]; then
    make_workdir
    decoder_args
    # With --codes the workers' helpers export the codes instead of decoding.
    ((!codes)) || helper_args+=(--codes)
    run_batch decompress_item decompress_finish "$ENCODEC_DEC" "${helper_args[@]}"
    return
  fi
  make_workdir
  open_operands "${positional[@]}" "$batch_ext"
  check_input "$input"
  check_output "$input" "$output" "$force"
  if ((codes)); then
    export_codes "$input" "$output"
  else
    kind=$(container_of "$input")
    decode "$kind"
    render "$output"
  fi
  finish_stdout
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
