# shellcheck shell=bash
# The shell library both commands source: each file below has one job, and they load in this
# order (die first; the facts before the knobs that check against them). Expects SCRIPT_DIR, the
# toolkit's directory, and `set -euo pipefail`.

# shellcheck source=lib/common.bash
source "$SCRIPT_DIR/lib/common.bash"
# shellcheck source=lib/facts.bash
source "$SCRIPT_DIR/lib/facts.bash"
# shellcheck source=lib/knobs.bash
source "$SCRIPT_DIR/lib/knobs.bash"
# shellcheck source=lib/options.bash
source "$SCRIPT_DIR/lib/options.bash"
# shellcheck source=lib/version.bash
source "$SCRIPT_DIR/lib/version.bash"
# shellcheck source=lib/files.bash
source "$SCRIPT_DIR/lib/files.bash"
# shellcheck source=lib/tools.bash
source "$SCRIPT_DIR/lib/tools.bash"
# shellcheck source=lib/helpers.bash
source "$SCRIPT_DIR/lib/helpers.bash"
# shellcheck source=lib/batch.bash
source "$SCRIPT_DIR/lib/batch.bash"
# shellcheck source=lib/queue.bash
source "$SCRIPT_DIR/lib/queue.bash"
# shellcheck source=lib/pipes.bash
source "$SCRIPT_DIR/lib/pipes.bash"
# shellcheck source=lib/info.bash
source "$SCRIPT_DIR/lib/info.bash"
