# shellcheck shell=bash
# The work queue of a batch. JOBS workers each take the next item when they are free, so a long
# file holds one worker while the others go on. An item is converted when its worker takes it and
# its work files are removed when it ends, so temporary disk follows the workers' current files,
# not the corpus. A worker that meets an item of a neural codec starts its Python helper once and
# keeps it (and its model) for the rest of the batch, one request line and one reply line per
# item over two FIFOs.

# shellcheck disable=SC2154 # file-wide: workdir (make_workdir), queue (screen_items)

# run_queue JOBS PREPARE FINISH HELPER ARGS...: every item of $queue through its worker: PREPARE K
# (checks, conversion, and the encoding of the shell codecs); when it wrote a request, the helper
# HELPER ARGS...; then FINISH K. Each appends "K STATUS MILLISECONDS" to $workdir/results.
run_queue() {
  local jobs=$1 w
  shift
  : >"$workdir/results"
  for ((w = 1; w <= jobs; w++)); do
    queue_worker "$w" "$@" &
  done
  if show_progress; then
    progress_until_done
  else
    wait || true
  fi
}

# queue_worker W PREPARE FINISH HELPER ARGS...: worker W's loop. It ignores SIGINT: the command's
# trap stops it with SIGTERM, and it then stops its item and its helper.
queue_worker() {
  local worker=$1 prepare=$2 finish=$3 n=-1 k item_pid='' helper_pid='' helper_failed=0
  local to_helper from_helper
  local helper=("${@:4}")
  trap '' INT
  trap 'stop_worker; exit 143' TERM
  while claim_next n; do
    k=${queue[n]}
    run_item "$k" "$prepare" "$finish"
  done
  stop_helper
}

# claim_next VAR: the next unclaimed position of $queue after VAR's, into VAR; false when none is
# left. A claim is a file made with O_EXCL (noclobber): atomic between workers, and no process.
claim_next() {
  local -n position=$1
  set -C
  while ((++position < ${#queue[@]})); do
    if { : >"$workdir/claim.$position"; } 2>/dev/null; then
      set +C
      return 0
    fi
  done
  set +C
  return 1
}

# run_item K PREPARE FINISH: one item in its own work directory, $workdir/K, removed after.
run_item() {
  local k=$1 dir=$workdir/$1 status=0 ms=''
  mkdir "$dir"
  item_phase "$dir" "$2" "$k"
  if ((status == 0)) && [[ -e $dir/request ]]; then
    ask_helper "$dir" || status=$?
    ((status != 0)) || item_phase "$dir" "$3" "$k"
  fi
  [[ ! -e $dir/ms ]] || read -r ms <"$dir/ms"
  printf '%s\t%s\t%s\n' "$k" "$status" "$ms" >>"$workdir/results"
  rm -rf -- "$dir"
}

# item_phase DIR FUNCTION K: FUNCTION K in a process of its own working in DIR; its exit status
# goes to $status, and a staged output of a failed phase is removed. In the background, so that
# the worker's TERM trap can run while it waits; and never called in a condition, which would
# switch off `set -e` in the process it starts.
item_phase() {
  item_body "$@" &
  item_pid=$!
  wait "$item_pid" || status=$?
}

# item_body DIR FUNCTION K: the process of item_phase.
item_body() {
  workdir=$1 staged=''
  trap '[[ -z $staged ]] || rm -f -- "$staged"' EXIT
  trap 'exit 143' TERM
  "$2" "$3"
}

# ask_helper DIR: DIR/request through this worker's helper; its reply's extra fields go to
# DIR/reply. The helper reports a failure itself; its status is the item's.
ask_helper() {
  local request reply code extra='' input_name
  # A helper that could not run (a missing package, a bad PYTHON_BIN: exit 3 or 5) said why
  # once; the worker's other items fail with its status, without a line each.
  ((helper_failed == 0)) || return "$helper_failed"
  [[ -n $helper_pid ]] || start_helper
  IFS= read -r request <"$1/request"
  input_name=${item_in[k]}
  printf '%s\n' "$request" >&"$to_helper"
  if ! read_reply reply; then
    code=0
    # 2>/dev/null: bash's own "Killed" line; ours below says which file it was on.
    wait "$helper_pid" 2>/dev/null || code=$?
    helper_pid=''
    exec {to_helper}>&- {from_helper}<&-
    ((code != 0)) || code=1
    # 3 and 5: the helper could not run, and said why; the next item would fail the same way.
    if [[ $code == [35] ]]; then
      helper_failed=$code
    else # killed (the OOM killer, say) or crashed: this item fails, the next gets a new helper
      printf '%s: %s: the Python helper stopped (exit status %d)\n' "$PROG" "$input_name" \
        "$code" >&2
    fi
    return "$code"
  fi
  IFS=$'\t' read -r code extra <<<"$reply"
  printf '%s\n' "$extra" >"$1/reply"
  return "$code"
}

# read_reply VAR: the helper's next line into VAR; false when the helper died first. Read with
# a timeout, so that a helper that died (a missing package, a crash) is noticed; a read that
# times out keeps what it had read of the line, so the pieces are joined.
read_reply() {
  local -n line=$1
  local piece status
  line=''
  while :; do
    status=0
    IFS= read -r -t 1 piece <&"$from_helper" || status=$?
    line+=$piece
    ((status != 0)) || return 0
    ((status > 128)) && kill -0 "$helper_pid" 2>/dev/null || return 1
  done
}

# start_helper: this worker's helper, reading requests from one FIFO and answering on another;
# both are opened read-write, which never blocks, whatever the helper does first.
start_helper() {
  local in=$workdir/helper.$worker.in out=$workdir/helper.$worker.out
  rm -f -- "$in" "$out"
  mkfifo -- "$in" "$out"
  # exec: the helper replaces the subshell, so a TERM reaches it.
  # shellcheck disable=SC2154 # helper_cmd is set by helper_command (lib/helpers.bash)
  (helper_command "${helper[@]}" --batch "$in" && exec "${helper_cmd[@]}" >"$out") &
  helper_pid=$!
  exec {to_helper}<>"$in" {from_helper}<>"$out"
}

# stop_helper: the end of the requests; the helper finishes and exits.
stop_helper() {
  [[ -n $helper_pid ]] || return 0
  exec {to_helper}>&- {from_helper}<&-
  # Every reply is in: how the helper ends no longer matters (nor bash's "Killed" line for it).
  wait "$helper_pid" 2>/dev/null || true
  helper_pid=''
}

# stop_worker: on TERM, the current item (and what it runs) and the helper are stopped.
stop_worker() {
  local pids=("$item_pid" "$helper_pid")
  [[ -z $item_pid ]] || pkill -TERM -P "$item_pid" 2>/dev/null || true
  # shellcheck disable=SC2068 # empty entries vanish
  kill -TERM ${pids[@]} 2>/dev/null || true
  wait || true
}

# show_progress: a progress line goes to stderr when it is a terminal and -q was not given.
# shellcheck disable=SC2154 # quiet is set by parse_options (lib/options.bash)
show_progress() { [[ -t 2 ]] && ((!quiet)); }

# progress_until_done: while the workers run, one line with the files done, the audio so far
# and an estimate of the time left, redrawn every second; erased at the end.
progress_until_done() {
  local started=$EPOCHREALTIME lines count elapsed eta
  while [[ -n $(jobs -rp) ]]; do
    sleep 1
    mapfile -t lines <"$workdir/results"
    count=${#lines[@]}
    elapsed=$(elapsed_ms "$started")
    eta=''
    ((count == 0)) || eta=", about $(span $((elapsed * (${#queue[@]} - count) / count))) left"
    printf '\r\033[K%s: %d of %d files%s' "$PROG" "$count" "${#queue[@]}" "$eta" >&2
  done
  printf '\r\033[K' >&2
  wait || true
}
