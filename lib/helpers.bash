# shellcheck shell=bash
# The Python helpers (encode_ecdc.py, decode_ecdc.py), run with the knobs both commands share.

# helper_command SCRIPT ARGS...: the command line of a Python helper, in helper_cmd.
# shellcheck disable=SC2154 # quiet is set by parse_options (lib/options.bash)
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
  naming_stdin "${helper_cmd[@]}" || status=$?
  case $status in
    0) ;;
    130 | 143) [[ $BASHPID != "$$" ]] || interrupted "$status"; exit "$status" ;;
    *) exit "$status" ;;
  esac
}
