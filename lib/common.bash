# shellcheck shell=bash
# The voice of both commands (die, usage) and the small tests they share.

PROG=${0##*/}

# die CODE MESSAGE...: "PROG: MESSAGE" on one line to stderr, then exit CODE. A spooled standard
# input (lib/pipes.bash) is called what it is, not by its temporary name.
die() {
  local code=$1 message
  shift
  message=$*
  [[ -z ${STDIN_SPOOL:-} ]] || message=${message//"$STDIN_SPOOL"/standard input}
  printf '%s: %s\n' "$PROG" "$message" >&2
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
