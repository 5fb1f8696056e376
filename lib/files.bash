# shellcheck shell=bash
# Files: INPUT and OUTPUT checked before any work, one work directory removed by a trap on
# EXIT, and results staged beside OUTPUT and renamed into place only on success.

# input_problem VAR FILE: true, with the message in VAR, when FILE cannot be an input. Builtins
# only, so a batch checks a corpus of names without a process per name.
input_problem() {
  local what
  if [[ ! -e $2 ]]; then what='no such file'
  elif [[ -d $2 ]]; then what='is a directory'
  elif [[ ! -r $2 ]]; then what='permission denied'
  elif [[ ! -s $2 ]]; then what='file is empty'
  else return 1
  fi
  printf -v "$1" '%s: %s' "$2" "$what"
}

check_input() {
  local problem
  ! input_problem problem "$1" || die 4 "$problem"
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

# The workers of a batch ignore SIGINT (lib/batch.bash), so they are stopped here.
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

# place_file FILE OUTPUT: a finished FILE of the work directory copied to a name staged beside
# OUTPUT, then renamed into place.
place_file() {
  stage_output "$2"
  copy_file "$1" "$staged" "$2"
  commit_output "$2"
}

# copy_file FILE STAGED OUTPUT: FILE copied to STAGED, the staged name of OUTPUT; a copy that
# fails (a full disk) is exit 7, naming OUTPUT and the reason.
copy_file() {
  local reason
  reason=$(cp -- "$1" "$2" 2>&1) || die 7 "$3: cannot write (${reason##*: })"
}
