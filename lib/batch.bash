# shellcheck shell=bash
# Batches (-o DIR INPUT...): every input is an item with a work directory of its own; the items
# of the neural codecs go to helpers that each load the model once.

# run_items JOBS FUNCTION ARGS... calls `FUNCTION I ARG` for each ARG (I counts from 1),
# at most JOBS at a time, each in a subshell with its own $workdir/I; the exit status of each
# lands in $workdir/I/status, and a staged output of a failed item is removed.
run_items() {
  local jobs=$1 fn=$2 i=0 arg
  shift 2
  for arg in "$@"; do
    i=$((i + 1))
    mkdir "$workdir/$i"
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    run_item "$i" "$fn" "$arg" &
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

# batch_output INPUT: where a batch writes INPUT's result.
# shellcheck disable=SC2154 # outdir and batch_ext are set by parse_options (lib/options.bash)
batch_output() {
  local name=${1##*/}
  printf '%s/%s.%s\n' "$outdir" "${name%.*}" "$batch_ext"
}

# check_batch INPUT...: the batch's names must not collide.
check_batch() {
  local input seen=" " name
  for input in "$@"; do
    name=$(batch_output "$input")
    [[ $seen != *" $name "* ]] || die 2 "$input: a second input would also write $name"
    seen+="$name "
  done
}

# run_neural_batch HELPER ARGS...: the items that queued $workdir/I/item, split over $jobs
# helpers that each load the model once.
run_neural_batch() {
  local item k=0 lists=()
  for item in "$workdir"/*/item; do
    [[ -e $item ]] || continue
    cat -- "$item" >>"$workdir/list.$((k % jobs))"
    k=$((k + 1))
  done
  for ((k = 0; k < jobs; k++)); do
    [[ ! -e $workdir/list.$k ]] || lists+=("$workdir/list.$k")
  done
  for item in "${lists[@]}"; do
    # exec: the worker is the helper itself, so cleanup's TERM reaches it.
    # shellcheck disable=SC2154 # helper_cmd is set by helper_command (lib/helpers.bash)
    (helper_command "$@" --batch "$item" && exec "${helper_cmd[@]}" >"$item.out") &
  done
  wait || true
}

# finish_batch COUNT: exit 0 when all COUNT items succeeded, else 8 with a count.
finish_batch() {
  local failed
  failed=$(grep -Lx 0 "$workdir"/*/status 2>/dev/null | wc -l)
  ((failed == 0)) || die 8 "$failed of $1 files failed"
}
