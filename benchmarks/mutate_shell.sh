#!/usr/bin/env bash
# Usage: benchmarks/mutate_shell.sh [-l | -n] [REGEX]
#
# Mutation testing of the shell front-ends: each mutant below is a one-line change to
# compress_audio.sh, decompress_audio.sh or lib/*.bash (a sed expression), applied to a scratch
# copy of the working tree, and the bats tests named for it are run there. A mutant is killed
# when those tests fail and survives when they pass. Prints one line per mutant and a count;
# `make mutate` runs it (not CI: each mutant pays its .bats file's setup_file).
#
#   -l      list the mutants and exit
#   -n      apply each mutant and check that it changes its file, but run no test
#   REGEX   run only the mutants whose description matches (grep -E)
#
# Environment: TEST_MODEL_CACHE (default: .cache/test-models of this checkout), as for the tests.
# Exit codes: 0 every mutant ran (killed or survived), 1 a mutant's sed changed nothing (the
#   list is stale), 2 usage.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
: "${TEST_MODEL_CACHE:=$ROOT/.cache/test-models}"
export TEST_MODEL_CACHE

# mutant FILE SED_EXPRESSION BATS_FILE TEST_REGEX DESCRIPTION: one entry of the list.
mutants=()
mutant() {
  mutants+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5")
}

# The issue's table (#18), then the error paths and promises of the README.
# shellcheck disable=SC2016 # the sed expressions hold the scripts' $ literally
define_mutants() {
  mutant lib/queue.bash 's/^    ask_helper "\$dir" || status=\$?$/    ask_helper "$dir" || status=0/' \
    batch_mode 'helper is killed' 'a batch marks an item its helper failed as done'
  mutant lib/queue.bash "/^  trap '\[\[ -z \$staged \]\] || rm -f -- \"\$staged\"' EXIT\$/d" \
    batch_mode 'FFmpeg fails writing one output' "a batch item's staged-file trap is gone"
  mutant lib/helpers.bash 's/--threads "\$TORCH_THREADS" --device "\$TORCH_DEVICE" --backend "\$MODEL_BACKEND"/--threads 1 --device "$TORCH_DEVICE" --backend auto/' \
    compress_audio 'reach the encoder helper' 'the knobs are hard-coded instead of passed'
  mutant lib/batch.bash 's/failed=\$((total - done - skipped))/failed=$((${#queue[@]} - done - not_taken))/' \
    batch_mode 'every input fails still exits 8' 'a batch forgets the inputs that failed the file checks'
  mutant lib/batch.bash 's/((failed == 0)) || exit 8/((failed == 0)) || exit 1/' \
    batch_mode 'text file among the inputs' 'a failed batch exits 1 instead of 8'
  mutant lib/queue.bash 's/^  wait "\$item_pid" || status=\$?$/  wait "$item_pid" || status=0/' \
    batch_mode 'text file among the inputs' 'a batch item that fails is recorded as done'
  mutant lib/helpers.bash 's/((!quiet)) || common+=(--quiet)/true/' \
    compress_audio 'progress bar on stderr' '-q no longer reaches the helper'
  mutant lib/knobs.bash 's/: "\${SNAC_MODEL:=hubertsiuzdak\/snac_\$SNAC_VARIANT}"/SNAC_MODEL=hubertsiuzdak\/snac_$SNAC_VARIANT/' \
    compress_audio 'override SNAC_VARIANT' 'SNAC_VARIANT overrides an explicit SNAC_MODEL'
  mutant lib/tools.bash 's/^    \[\[ -s \$4 \]\] || die 4 "\$1: contains no audio samples"$/    die 4 "$1: contains no audio samples"/' \
    compress_audio 'single-sample INPUT at 24 or 48' 'an input shorter than one sample at the codec rate is refused'
  mutant lib/tools.bash 's/^  \[\[ \$log != \*"No space left on device"\* \]\] || no_space/  true || no_space/' \
    compress_audio "FFmpeg's no space left" 'a full disk behind an FFmpeg exit 0 is taken as success'
  mutant lib/tools.bash 's/((status == 0)) || die 6 "\$program (set by \$var) failed/true || die 6 "$program (set by $var) failed/' \
    compress_audio 'LPCNET_BIN that fails exits 6' 'a failing external codec is taken as success'
  mutant lib/files.bash "/what='file is empty'/d" \
    compress_audio 'an empty INPUT is refused' 'an empty input is not refused up front'
  mutant lib/files.bash 's/\[\[ ! -e \$2 || \$3 == 1 \]\]/[[ ! -e $2 || 1 == 1 ]]/' \
    compress_audio 'existing OUTPUT is kept' 'an existing OUTPUT is replaced without -f'
  mutant lib/files.bash 's/\[\[ ! \$1 -ef \$2 \]\] || die 7/true || die 7/' \
    compress_audio 'OUTPUT that is INPUT itself' 'OUTPUT may be INPUT'
  mutant lib/files.bash 's/^  chmod "\$(printf/  : "$(printf/' \
    compress_audio 'permissions of a new file' "OUTPUT keeps mktemp's 0600"
  mutant lib/files.bash 's/^  rm -rf -- "\$workdir"$/  :/' \
    compress_audio 'a .snac compress leaves nothing in TMPDIR' 'the work directory is left behind'
  mutant lib/files.bash 's/^  exit "\$1"$/  exit 0/' \
    compress_audio 'SIGINT during a .snac compress exits 130' 'an interruption exits 0'
  mutant compress_audio.sh 's/(($(stat -c %s -- "\$2") > 7)) || die 4/true || die 4/' \
    compress_audio 'shorter than one Codec2 frame' 'a .c2 without a frame is written'
  mutant compress_audio.sh 's/\[\[ -s \$staged \]\] || die 6/true || die 6/' \
    compress_audio 'exits 0 without writing the .opus' 'an encoder that writes nothing gives an empty OUTPUT'
  mutant decompress_audio.sh 's/^    out_rate=48000$/    :/' \
    decompress_audio 'OUTPUT .opus is Opus' 'the Opus rate clamp is gone'
  mutant decompress_audio.sh 's/^  is_sample_rate "\$native_rate" ||$/  true ||/' \
    decompress_audio 'SOURCE_RATE tag is out of range' 'an Opus SOURCE_RATE tag is obeyed whatever it says'
  mutant decompress_audio.sh 's/\[\[ -z \$SNAC_MODEL_SET \]\] || helper_args+=(--model "\$SNAC_MODEL")/true/' \
    decompress_audio 'needs SNAC_MODEL' "the decoder never hears of the user's SNAC_MODEL"
  mutant decompress_audio.sh 's/^  \[\[ -z \$rate \]\] || is_sample_rate "\$rate" ||$/  true ||/' \
    decompress_audio 'a rate below 1000 Hz' '-r is not range-checked'
}

main() {
  define_mutants
  local list=0 dry=0 pattern='' entry file expr bats regex what killed=0 survived=0 log
  case ${1-} in
    -l) list=1 ;;
    -n) dry=1 pattern=${2-} ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; return ;;
    -*) echo "mutate_shell.sh: unknown option $1" >&2; return 2 ;;
    *) pattern=${1-} ;;
  esac
  if ((list)); then
    for entry in "${mutants[@]}"; do
      IFS=$'\t' read -r file expr bats regex what <<<"$entry"
      printf '%-22s %-18s %s\n' "$file" "$bats" "$what"
    done
    return
  fi
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/mutate_shell.XXXXXX")
  trap 'rm -rf -- "$scratch"' EXIT # global: the trap runs after main has returned
  # The working tree as git sees it (tracked and untracked files), and the venv by a link.
  (cd -- "$ROOT" && git ls-files -z -co --exclude-standard | tar -c --null -T - -f -) |
    tar -x -C "$scratch" -f -
  ln -s -- "$ROOT/.venv" "$scratch/.venv"
  for entry in "${mutants[@]}"; do
    IFS=$'\t' read -r file expr bats regex what <<<"$entry"
    [[ -z $pattern ]] || grep -Eq -- "$pattern" <<<"$what" || continue
    sed -e "$expr" -- "$ROOT/$file" >"$scratch/$file"
    if cmp -s -- "$ROOT/$file" "$scratch/$file"; then
      echo "mutate_shell.sh: the mutant '$what' changes nothing in $file (stale list)" >&2
      return 1
    fi
    if ((dry)); then
      printf 'applies   %-20s %s\n' "$file" "$what"
      cp -- "$ROOT/$file" "$scratch/$file"
      continue
    fi
    log=$scratch/${what//[^a-zA-Z0-9]/_}.log
    if (cd -- "$scratch" && bats -f "$regex" "tests/$bats.bats") >"$log" 2>&1; then
      printf 'survived  %-20s %s\n' "$file" "$what"
      survived=$((survived + 1))
    elif grep -q '^not ok' "$log"; then
      printf 'killed    %-20s %s\n' "$file" "$what"
      killed=$((killed + 1))
    else
      echo "mutate_shell.sh: no test of tests/$bats.bats matched '$regex'" >&2
      return 1
    fi
    cp -- "$ROOT/$file" "$scratch/$file"
  done
  ((dry)) || printf '%d killed, %d survived\n' "$killed" "$survived"
}

main "$@"
