# shellcheck shell=bash
# Batches (-o DIR INPUT...): the inputs, and with -R the files under the folders among them,
# become items; the file checks that need no process run here, for every item at once, and the
# rest go through the work queue (lib/queue.bash). One summary line ends the batch.

# shellcheck disable=SC2154 # file-wide: positional, jobs (parse_options), workdir (make_workdir)

# The status of an item that was skipped rather than failed: a walked file that is not input
# (not audio when compressing, not a container when restoring).
SKIPPED=200

# expand_items OPERAND...: the batch's items in item_in (the input) and item_out (its output);
# item_walked[K] is 1 for a file found by walking a folder. A folder's files mirror its tree
# under $outdir; a file given by name goes to $outdir/NAME.EXT.
# shellcheck disable=SC2154 # recursive is set by parse_options (lib/options.bash)
expand_items() {
  local operand file root name
  item_in=() item_out=() item_walked=()
  for operand in "$@"; do
    if ((recursive)) && [[ -d $operand ]]; then
      root=${operand%/}/
      while IFS= read -r -d '' file; do
        item_in+=("$file")
        batch_output name "${file#"$root"}"
        item_out+=("$name")
        item_walked+=(1)
      done < <(find "$root" -type f ! -name '.*' -print0 | LC_ALL=C sort -z)
    else
      item_in+=("$operand")
      batch_output name "${operand##*/}"
      item_out+=("$name")
      item_walked+=(0)
    fi
  done
  ((${#item_in[@]})) || die 4 "no input files under ${*}"
}

# batch_output VAR RELATIVE: where a batch writes the input at RELATIVE (a name, or a path under
# a walked folder), into VAR.
# shellcheck disable=SC2154 # outdir and batch_ext are set by parse_options (lib/options.bash)
batch_output() {
  local dir='' base=${2##*/}
  [[ $2 != */* ]] || dir=${2%/*}/
  printf -v "$1" '%s/%s%s.%s' "${outdir%/}" "$dir" "${base%.*}" "$batch_ext"
}

# check_batch: no two items may write the same output.
check_batch() {
  local k
  local -A seen=()
  for k in "${!item_out[@]}"; do
    [[ -z ${seen[${item_out[k]}]:-} ]] ||
      die 2 "${item_in[k]}: a second input would also write ${item_out[k]}"
    seen[${item_out[k]}]=1
  done
}

# screen_items: the items worth a process, in $queue. A missing, empty or unreadable input is
# reported and failed, an existing output with --skip-existing is skipped, without a process,
# directory or file each: a corpus of 100,000 names starts in seconds. Counts go to prefailed,
# skipped_existing.
# shellcheck disable=SC2154 # skip_existing is set by parse_options (lib/options.bash)
screen_items() {
  local k problem dirs=()
  local -A seen_dirs=()
  queue=() prefailed=0 skipped_existing=0
  for k in "${!item_in[@]}"; do
    if input_problem problem "${item_in[k]}"; then
      printf '%s: %s\n' "$PROG" "$problem" >&2
      prefailed=$((prefailed + 1))
    elif ((skip_existing)) && [[ -e ${item_out[k]} ]]; then
      skipped_existing=$((skipped_existing + 1))
    else
      queue+=("$k")
      [[ ${item_out[k]} != */*/* ]] || seen_dirs[${item_out[k]%/*}]=1
    fi
  done
  # A walked tree's folders, made in one process.
  dirs=("${!seen_dirs[@]}")
  ((${#dirs[@]} == 0)) || printf '%s\0' "${dirs[@]}" | xargs -0 mkdir -p -- ||
    die 7 "$outdir: cannot create the folders of the outputs"
}

# run_batch PREPARE FINISH HELPER_ARGS...: the whole batch, from the operands in $positional to
# the summary and the exit status (0, or 8 when an item failed).
run_batch() {
  local started=$EPOCHREALTIME
  expand_items "${positional[@]}"
  check_batch
  screen_items
  if ((${#queue[@]})); then
    run_queue "$jobs" "$@"
  fi
  finish_batch "$started"
}

# finish_batch STARTED: the summary line from $workdir/results (K STATUS MILLISECONDS per item
# that ended), then exit 8 if any item failed. An item that left no line (its worker was
# stopped) counts as failed.
finish_batch() {
  local k status ms total=${#item_in[@]} done=0 not_taken=0 audio_ms=0 elapsed_ms failed
  local skipped line why=
  if [[ -e $workdir/results ]]; then
    while IFS=$'\t' read -r k status ms; do
      case $status in
        0) done=$((done + 1)) audio_ms=$((audio_ms + ${ms:-0})) ;;
        "$SKIPPED") not_taken=$((not_taken + 1)) ;;
      esac
    done <"$workdir/results"
  fi
  skipped=$((skipped_existing + not_taken))
  failed=$((total - done - skipped))
  ((skipped_existing == 0)) || why+=", $skipped_existing already written"
  # NOT_INPUT is set by each command: "not audio", "not a container".
  ((not_taken == 0)) || why+=", $not_taken $NOT_INPUT"
  [[ -z $why ]] || why=" (${why#, })"
  elapsed_ms=$(elapsed_ms "$1")
  printf -v line '%d files: %d done, %d skipped%s, %d failed; %s of audio in %s' "$total" \
    "$done" "$skipped" "$why" "$failed" "$(span "$audio_ms")" \
    "$(span "$elapsed_ms")"
  ((audio_ms == 0 || elapsed_ms == 0)) || line+=$(speed "$audio_ms" "$elapsed_ms")
  # shellcheck disable=SC2154 # quiet is set by parse_options (lib/options.bash)
  ((quiet && failed == 0)) || printf '%s: %s\n' "$PROG" "$line" >&2
  ((failed == 0)) || exit 8
}

# elapsed_ms STARTED: milliseconds since STARTED (an $EPOCHREALTIME).
elapsed_ms() {
  local now=$EPOCHREALTIME
  echo $(((${now%.*} - ${1%.*}) * 1000 + (10#${now#*.} - 10#${1#*.}) / 1000))
}

# span MS: a duration for people: 4.2 s, 12 min 05 s, 3.41 h.
span() {
  local ms=$1
  if ((ms < 60000)); then
    printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
  elif ((ms < 3600000)); then
    printf '%d min %02d s' $((ms / 60000)) $((ms % 60000 / 1000))
  else
    printf '%d.%02d h' $((ms / 3600000)) $((ms % 3600000 / 36000))
  fi
}

# speed AUDIO_MS ELAPSED_MS: ", 7.3x real time".
speed() {
  local tenths=$(($1 * 10 / $2))
  printf ', %d.%dx real time' $((tenths / 10)) $((tenths % 10))
}

# list_name NAME: NAME as the last field of a line of a helper's batch list, where a tab or a
# newline would split it.
list_name() {
  local name=${1//$'\t'/\\t}
  printf '%s' "${name//$'\n'/\\n}"
}
