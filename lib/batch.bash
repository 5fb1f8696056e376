# shellcheck shell=bash
# Batches (-o DIR INPUT...): every input is an item with a work directory of its own; the items
# of the neural codecs go to helpers that each load the model once.

# run_items JOBS FUNCTION ARGS... calls `FUNCTION I ARG` for each ARG (I counts from 1),
# at most JOBS at a time, each in a subshell with its own $workdir/I; the exit status of each
# lands in $workdir/I/status, and a staged output of a failed item is removed. An input that
# fails the file checks is reported and counted in $prefailed, with no process, directory or
# file for it: a corpus of 100,000 names starts in seconds.
run_items() {
  local jobs=$1 fn=$2 i=0 running=0 arg problem args runnable=()
  shift 2
  prefailed=0
  for arg in "$@"; do
    i=$((i + 1))
    if input_problem problem "$arg"; then
      printf '%s: %s\n' "$PROG" "$problem" >&2
      prefailed=$((prefailed + 1))
    else
      runnable+=("$i")
    fi
  done
  ((${#runnable[@]})) || return 0
  # One mkdir for all the work directories, not one process per item.
  printf '%s\n' "${runnable[@]}" | (cd -- "$workdir" && xargs mkdir --)
  args=("$@")
  for i in "${runnable[@]}"; do
    # A counter, not `jobs | wc -l`: two processes per item add up over a corpus.
    if ((running >= jobs)); then
      wait -n || true
      running=$((running - 1))
    fi
    run_item "$i" "$fn" "${args[i - 1]}" &
    running=$((running + 1))
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

# batch_output VAR INPUT: where a batch writes INPUT's result, into VAR (no subshell).
# shellcheck disable=SC2154 # outdir and batch_ext are set by parse_options (lib/options.bash)
batch_output() {
  local base=${2##*/}
  printf -v "$1" '%s/%s.%s' "$outdir" "${base%.*}" "$batch_ext"
}

# check_batch INPUT...: the batch's names must not collide.
check_batch() {
  local input name
  local -A seen=()
  for input in "$@"; do
    batch_output name "$input"
    [[ -z ${seen[$name]:-} ]] || die 2 "$input: a second input would also write $name"
    seen[$name]=1
  done
}

# run_neural_batch HELPER ARGS...: the items that queued $workdir/I/item, split over $jobs
# helpers that each load the model once.
run_neural_batch() {
  local item line k=0 lists=()
  for item in "$workdir"/*/item; do
    [[ -e $item ]] || continue
    IFS= read -r line <"$item"
    printf '%s\n' "$line" >>"$workdir/list.$((k % jobs))"
    k=$((k + 1))
  done
  for ((k = 0; k < jobs; k++)); do
    [[ ! -e $workdir/list.$k ]] || lists+=("$workdir/list.$k")
  done
  for item in "${lists[@]}"; do
    # exec: the worker is the helper itself, so cleanup's TERM reaches it. SIGINT is ignored
    # there: a Ctrl-C to the group would otherwise race that TERM (our INT trap gives background
    # jobs the default disposition back); cleanup stops the workers.
    # shellcheck disable=SC2154 # helper_cmd is set by helper_command (lib/helpers.bash)
    (helper_command "$@" --batch "$item" && trap '' INT && exec "${helper_cmd[@]}" >"$item.out") &
  done
  wait || true
}

# finish_batch COUNT: exit 0 when all COUNT items succeeded, else 8 with a count. An item that
# left no status (its subshell was killed) counts as failed.
finish_batch() {
  local dir status failed=${prefailed:-0}
  for dir in "$workdir"/[0-9]*/; do
    [[ -e $dir ]] || continue
    status=
    [[ ! -e $dir/status ]] || read -r status <"$dir/status" || true
    [[ $status == 0 ]] || failed=$((failed + 1))
  done
  ((failed == 0)) || die 8 "$failed of $1 files failed"
}
