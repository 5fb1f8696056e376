# shellcheck shell=bash
# The command line both commands share, in GNU syntax through util-linux getopt (combined flags
# -fq, --jobs=4 or --jobs 4, options after operands, -- ends the options): -h, -f/-y, -q, -v,
# --version, -c/-o/-j, then the operands.

# The shared options, as getopt spells them; a command adds its own in OWN_SHORT and OWN_LONG
# (set before parse_options runs) and handles them in its own_option hook.
SHARED_SHORT=hfyqvRc:o:j:
SHARED_LONG=help,force,quiet,verbose,version,recursive,skip-existing,codec:,output-dir:,jobs:

# parse_options ARGS...: the shared options into force, quiet, jobs, outdir and batch_ext (-c,
# which the single-file form reads too), the operands into $positional; --version prints the
# versions and exits. Any other option goes to the command's own_option OPTION VALUE (VALUE is
# empty for an option without one), which returns 0 when the option is its own, or 1, and the
# option is refused as unknown.
# shellcheck disable=SC2034 # force and quiet are read by the commands and lib/helpers.bash
parse_options() {
  local normal option value version=0 verbose=0
  force=0 quiet=0 jobs=1 outdir='' batch_ext='' positional=() recursive=0 skip_existing=0
  normal=$(gnu_getopt -q "$@") || option_error "$@"
  eval set -- "$normal"
  while [[ $1 != -- ]]; do
    option=$1 value=''
    if takes_value "$option"; then
      value=$2
      shift
    fi
    shift
    case $option in
      -h | --help) usage ;;
      -f | -y | --force) force=1 ;;
      -q | --quiet) quiet=1 ;;
      -R | --recursive) recursive=1 ;;
      --skip-existing) skip_existing=1 ;;
      -v | --verbose) verbose=1 ;;
      --version) version=1 ;;
      -c | --codec) batch_ext=${value#.} ;;
      -o | --output-dir) outdir=$value ;;
      -j | --jobs) jobs=$value ;;
      *) own_option "$option" "$value" || die 2 "unknown option: $option (see --help)" ;;
    esac
  done
  shift
  positional=("$@")
  # After the whole line, so that -v counts on either side of --version.
  ((!version)) || print_version "$verbose"
}

# gnu_getopt [-q] ARGS...: getopt's normalised command line (options first, each value a word
# of its own, then --, then the operands), in the C locale so that its complaints can be read.
# POSIXLY_CORRECT would stop it at the first operand.
gnu_getopt() {
  local quiet=()
  if [[ ${1-} == -q ]]; then
    quiet=(-q)
    shift
  fi
  env -u POSIXLY_CORRECT LC_ALL=C getopt "${quiet[@]}" -n "$PROG" -o "$SHARED_SHORT${OWN_SHORT-}" \
    -l "$SHARED_LONG${OWN_LONG:+,$OWN_LONG}" -- "$@"
}

# takes_value OPTION: OPTION (as getopt prints it: -x or --name) is followed by a value.
takes_value() {
  case $1 in
    --*) [[ ,$SHARED_LONG,${OWN_LONG-}, == *",${1#--}:,"* ]] ;;
    *) [[ $SHARED_SHORT${OWN_SHORT-} == *"${1#-}:"* ]] ;;
  esac
}

# option_error ARGS...: getopt's first complaint about ARGS in this toolkit's words; exits 2.
option_error() {
  local line option
  command -v getopt >/dev/null || die 3 "getopt not found; install util-linux"
  line=$(gnu_getopt "$@" 2>&1 >/dev/null | head -n 1) || true
  option=${line#*\'}
  option=${option%%\'*}
  case $line in
    *"invalid option -- "*) die 2 "unknown option: -$option (see --help)" ;;
    *"unrecognized option "*) die 2 "unknown option: $option (see --help)" ;;
    *"requires an argument -- "*) die 2 "-$option needs $(value_name "$option")" ;;
    *"requires an argument"*) die 2 "$option needs $(value_name "${option#--}")" ;;
    *"allow an argument"*) die 2 "$option takes no value (see --help)" ;;
    *"is ambiguous"*) die 2 "$option is ambiguous: ${line#*possibilities: } (see --help)" ;;
    *) die 2 "${line#"$PROG: "} (see --help)" ;;
  esac
}

# value_name OPTION: what OPTION (a short letter or a long name) needs, for option_error.
value_name() {
  case $1 in
    c | codec) echo 'a codec extension' ;;
    o | output-dir) echo 'a directory' ;;
    j | jobs) echo 'a number of jobs' ;;
    r | rate) echo 'a sample rate in Hz' ;;
    *) echo 'a value' ;;
  esac
}

# check_operands: the operands the form asks for. -o makes a batch; without it, -c goes with the
# single-file form (INPUT OUTPUT) only.
check_operands() {
  in_range "$jobs" 1 256 || die 2 "--jobs $jobs: expected a whole number from 1 to 256"
  if [[ -n $outdir ]]; then
    ((${#positional[@]} >= 1)) || die 2 "expected at least one INPUT (see --help)"
    ((!force || !skip_existing)) || die 2 "--force and --skip-existing contradict each other"
    refuse_stdin_in_batch "${positional[@]}"
    # As the dac CLI does; a path that cannot be a directory is refused.
    [[ -d $outdir ]] || mkdir -p -- "$outdir" 2>/dev/null ||
      die 7 "$outdir: cannot create the output directory"
  else
    [[ -z $batch_ext || ${#positional[@]} == 2 ]] || die 2 "a batch needs -o DIR"
    ((!recursive && !skip_existing)) || die 2 "-R and --skip-existing go with a batch's -o DIR"
    ((${#positional[@]} == 2)) || die 2 "expected INPUT and OUTPUT (see --help)"
  fi
}
