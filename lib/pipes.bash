# shellcheck shell=bash
# Pipes in the single-file form: "-" as INPUT is standard input and as OUTPUT standard output.
# Standard input is spooled once into the work directory (so it costs as much disk as the input
# is long): ffprobe and FFmpeg each read the input, and the helpers seek in theirs, which a pipe
# cannot do. The result for standard output is finished in the work directory like any other
# and then copied out whole, so every format, WAV's length header included, is written as it
# is to a file.

# shellcheck disable=SC2154 # file-wide: workdir is made by make_workdir (lib/files.bash)

STDIN_SPOOL=''  # where standard input was spooled; die calls it "standard input" (lib/common.bash)
to_stdout=0     # 1: OUTPUT is "-", and $output a file in the work directory to copy out

# refuse_stdin_in_batch INPUT...: a batch reads named files only (standard input is one stream,
# and a batch names each output after its input).
refuse_stdin_in_batch() {
  local input
  for input in "$@"; do
    [[ $input != - ]] || die 2 "-: a batch cannot read standard input (use: $PROG - OUTPUT)"
  done
}

# open_operands INPUT OUTPUT EXT: $input and $output for the single-file form, "-" resolved: a
# spooled standard input, and a file in the work directory (named .EXT, the format FFmpeg and the
# encoders go by) for standard output. Needs $workdir.
open_operands() {
  input=$1 output=$2
  if [[ $output == - ]]; then
    # As gzip and zstd do: binary data garbles a terminal and helps nobody.
    [[ ! -t 1 ]] || die 7 "refusing to write binary data to a terminal (redirect the output)"
    output=$workdir/stdout.$3 to_stdout=1
  fi
  if [[ $input == - ]]; then
    [[ ! -t 0 ]] || die 2 "refusing to read binary data from a terminal (pipe the input in)"
    spool_stdin
  fi
}

# spool_stdin: standard input into $workdir/stdin, which becomes $input.
spool_stdin() {
  STDIN_SPOOL=$workdir/stdin input=$workdir/stdin
  if ! cat >"$STDIN_SPOOL" 2>"$workdir/stdin.log"; then
    # cat names the side that failed: a full disk is the work directory's, not the input's.
    if grep -q 'write error' "$workdir/stdin.log"; then
      die 7 "$workdir: cannot spool standard input: $(sed -n '$s/.*: //p' "$workdir/stdin.log")"
    fi
    die 4 "standard input: cannot be read: $(sed -n '$s/.*: //p' "$workdir/stdin.log")"
  fi
}

# finish_stdout: the finished $output copied to standard output, when OUTPUT is "-". A reader
# that stops early (| head) ends this quietly with 141, as any filter ends on SIGPIPE.
finish_stdout() {
  local status=0
  ((to_stdout)) || return 0
  cat -- "$output" 2>"$workdir/stdout.log" || status=$?
  ((status != 0)) || return 0
  # 141: cat was killed by SIGPIPE; "Broken pipe": it got EPIPE, SIGPIPE being ignored.
  if ((status == 141)) || grep -q 'Broken pipe' "$workdir/stdout.log"; then
    exit 141
  fi
  die 7 "standard output: cannot write: $(sed -n '$s/.*: //p' "$workdir/stdout.log")"
}

# naming_stdin CMD...: CMD, with a spooled standard input called "standard input" in what it
# says on stderr (a Python helper names the file it was given), as die does.
naming_stdin() {
  local pattern statuses
  if [[ -z $STDIN_SPOOL ]]; then
    "$@"
    return
  fi
  # shellcheck disable=SC2001 # one bracket expression escapes every character sed would read
  pattern=$(sed 's/[][\\.*^$|]/\\&/g' <<<"$STDIN_SPOOL")
  {
    "$@" 2>&1 >&3 3>&- | sed -u "s|$pattern|standard input|g" >&2
    statuses=("${PIPESTATUS[@]}")
  } 3>&1
  return "${statuses[0]}"
}
