# shellcheck shell=bash
# The command line both commands share: -h, -f, -q, a batch's -c/-o/-j, then the operands.

# parse_options ARGS...: the shared options into force, quiet, jobs, outdir and batch_ext, the
# operands into $positional. Any other option goes to the command's own_option OPTION [VALUE],
# which sets what it sets and returns 0 when the option is its own (every such option takes
# VALUE, and dies without it), or returns 1, and the option is refused as unknown.
# shellcheck disable=SC2034 # force and quiet are read by the commands and lib/helpers.bash
parse_options() {
  force=0 quiet=0 jobs=1 outdir='' batch_ext='' positional=()
  while (($#)); do
    case $1 in
      -h | --help) usage ;;
      -f | --force) force=1 ;;
      -q | --quiet) quiet=1 ;;
      -c | --codec | -o | --output-dir | -j | --jobs)
        if (($# < 2)); then
          case $1 in
            -c | --codec) die 2 "$1 needs a codec extension" ;;
            -o | --output-dir) die 2 "$1 needs a directory" ;;
            *) die 2 "$1 needs a number of jobs" ;;
          esac
        fi
        case $1 in
          -c | --codec) batch_ext=${2#.} ;;
          -o | --output-dir) outdir=$2 ;;
          *) jobs=$2 ;;
        esac
        shift
        ;;
      --) shift; positional+=("$@"); break ;;
      -?*) own_option "${@:1:2}" || die 2 "unknown option: $1 (see --help)"; shift ;;
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
