# Shared setup of the bats suites (tests/*.bats), loaded with `load 'test_helper/common-setup'`.
#
#   setup_file() { load 'test_helper/common-setup'; common_setup_file; }
#   setup()      { load 'test_helper/common-setup'; common_setup; }
#
# common_setup_file builds, once per .bats file, the random-weight model cache (TEST_MODEL_CACHE,
# see tests/fixtures/make_model_cache.py) and the reference inputs under $BATS_FILE_TMPDIR/ref
# (exported as REF); common_setup runs each test in its own $BATS_TEST_TMPDIR with an empty out/
# and its own empty TMPDIR, so a test can see what a run leaves behind.

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO_ROOT
# The scripts under test are run by name, as a user runs them, so messages say `compress_audio.sh:`.
PATH=$REPO_ROOT:$PATH

# Offline, random-weight checkpoints of the real architectures in the real cache layouts.
: "${TEST_MODEL_CACHE:=$REPO_ROOT/.cache/test-models}"
export TEST_MODEL_CACHE
export HF_HOME=$TEST_MODEL_CACHE/hf TORCH_HOME=$TEST_MODEL_CACHE/torch HF_HUB_OFFLINE=1
# ONNX exports of the test models (codec_toolkit.snac_onnx.SnacGraphs), made once per cache.
export XDG_CACHE_HOME=$TEST_MODEL_CACHE/xdg

# The Python of the toolkit, for the fixture script and `decode_ecdc.py --info`.
TEST_PYTHON=$REPO_ROOT/.venv/bin/python
[[ -x $TEST_PYTHON ]] || TEST_PYTHON=python3

# A user's own knobs must not leak into the tests: every test starts from the documented defaults.
unset PYTHON_BIN TORCH_THREADS TORCH_DEVICE MODEL_BACKEND ENCODEC_ENC ENCODEC_DEC \
  ENCODEC_BITRATE ENCODEC_LM SNAC_VARIANT SNAC_MODEL SNAC_SAMPLE_RATE MIMI_MODEL MIMI_CODEBOOKS \
  DAC_MODEL DAC_BITRATE DAC_CODEBOOKS SEMANTICODEC_TOKEN_RATE SEMANTICODEC_VOCAB \
  SEMANTICODEC_STANDIN_LOG \
  CODEC2_MODE OPUS_BITRATE \
  LPCNET_BIN NESC_ENC NESC_DEC NESC_ENC_ARGS NESC_DEC_ARGS FFMPEG FFPROBE C2ENC C2DEC \
  NEURAL_CODEC_DEBUG NEURAL_CODEC_PROG STUB_LOG STUB_MODE EXPECT_PCM_BYTES

common_setup_file() {
  "$TEST_PYTHON" "$REPO_ROOT/tests/fixtures/make_model_cache.py" "$TEST_MODEL_CACHE" >/dev/null 2>&1 ||
    fail "cannot build the model cache in $TEST_MODEL_CACHE (run: make test-models)"
  export REF=$BATS_FILE_TMPDIR/ref
  make_reference_inputs "$REF"
}

common_setup() {
  cd "$BATS_TEST_TMPDIR" || return
  mkdir out
  export TMPDIR=$BATS_TEST_TMPDIR/tmpdir
  mkdir "$TMPDIR"
}

# lavfi SPEC OUTPUT FFMPEG_ARGS...: a synthetic clip from FFmpeg's lavfi sources.
lavfi() {
  local spec=$1 output=$2
  shift 2
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "$spec" "$@" "$output" ||
    fail "ffmpeg could not build $output"
}

# make_reference_inputs DIR: the inputs every suite uses, made with the real FFmpeg.
#   mono24k.wav   1.5 s mono 24 kHz (EnCodec's and snac_24khz's own rate)
#   stereo44k.mp3 1 s stereo 44.1 kHz, two different tones
#   mono8k.wav    1.5 s mono 8 kHz (Codec2's rate)
#   mono48k.flac  1.5 s mono 48 kHz
#   aac44k.m4a    1 s mono 44.1 kHz AAC in MP4
make_reference_inputs() {
  local dir=$1
  mkdir -p "$dir"
  lavfi 'sine=frequency=440:sample_rate=24000:duration=1.5' "$dir/mono24k.wav"
  lavfi 'aevalsrc=0.5*sin(440*2*PI*t)|0.5*sin(660*2*PI*t):s=44100:d=1' "$dir/stereo44k.mp3" \
    -c:a libmp3lame -b:a 64k
  lavfi 'sine=frequency=300:sample_rate=8000:duration=1.5' "$dir/mono8k.wav"
  lavfi 'sine=frequency=500:sample_rate=48000:duration=1.5' "$dir/mono48k.flac"
  lavfi 'sine=frequency=700:sample_rate=44100:duration=1' "$dir/aac44k.m4a" -c:a aac
}

# rate_of FILE: sample rate of FILE's first audio stream.
rate_of() {
  ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "file:$1"
}

# channels_of FILE: channel count of FILE's first audio stream.
channels_of() {
  ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "file:$1"
}

# codec_name_of FILE: the codec of FILE's first audio stream (pcm_s16le, flac, mp3, vorbis, ...).
codec_name_of() {
  ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "file:$1"
}

# duration_of FILE: seconds of audio FFmpeg decodes from FILE (counted, not read from a header,
# so encoder padding in MP3 and AAC containers is measured as a player hears it).
duration_of() {
  local rate bytes
  rate=$(rate_of "$1") || return
  bytes=$(ffmpeg -nostdin -v error -i "file:$1" -map 0:a:0 -ac 1 -f s16le - | wc -c) || return
  awk -v bytes="$bytes" -v rate="$rate" 'BEGIN { printf "%.4f\n", bytes / 2 / rate }'
}

# size_of FILE: size in bytes.
size_of() {
  stat -c %s -- "$1"
}

# info_of FILE: the container's key=value fields (container=, model=, sample_rate=, ...).
info_of() {
  "$TEST_PYTHON" "$REPO_ROOT/decode_ecdc.py" --info "$1"
}

# assert_duration FILE EXPECTED [BELOW] [ABOVE]: FILE lasts EXPECTED seconds, or up to BELOW
# seconds less or ABOVE seconds more (default 0.05 each).
assert_duration() {
  local file=$1 expected=$2 below=${3:-0.05} above=${4:-0.05} actual
  actual=$(duration_of "$file") || fail "cannot measure the duration of $file"
  awk -v a="$actual" -v e="$expected" -v lo="$below" -v hi="$above" \
    'BEGIN { exit !(a >= e - lo - 1e-9 && a <= e + hi + 1e-9) }' ||
    batslib_print_kv_single 8 file "$file" expected "$expected s (-$below/+$above)" \
      actual "$actual s" | batslib_decorate 'duration out of range' | fail
}

# assert_dir_empty DIR: DIR has no entries, hidden ones included (no output, no staged leftover).
assert_dir_empty() {
  local entries
  entries=$(ls -A -- "$1")
  [[ -z $entries ]] ||
    batslib_print_kv_single_or_multi 9 directory "$1" entries "$entries" |
    batslib_decorate 'directory is not empty' | fail
}

# make_codec_stubs DIR: stand-ins for the external codecs that are not packaged, as DIR/lpcnet_demo,
# DIR/nesc_enc and DIR/nesc_dec. They honour the documented contract:
#   lpcnet_demo -encode IN.pcm OUT   lpcnet_demo -decode IN OUT.pcm   (16 kHz s16le mono raw)
#   nesc_enc IN.pcm OUT              nesc_dec IN OUT.pcm
# (the NESC ones also as --in/--input IN --out/--output OUT, for NESC_*_ARGS templates).
# Each appends its command line to $STUB_LOG. It "encodes" by keeping every other sample behind a
# 4-byte magic and "decodes" by repeating each kept sample, so a round trip keeps the duration.
# Anything off contract (argument order, a decoder input its encoder did not write, an encoder
# input whose size is not $EXPECT_PCM_BYTES within one 10 ms frame) logs a line starting
# `CONTRACT` and exits 65. STUB_MODE=fail makes it exit 9; STUB_MODE=silent makes it write nothing.
make_codec_stubs() {
  local dir=$1 name
  mkdir -p "$dir"
  cat >"$dir/lpcnet_demo" <<'PYTHON'
#!/usr/bin/env python3
import array
import os
import sys

MAGIC = b"STUB"
FRAME_BYTES = 320  # 10 ms of 16 kHz s16le mono
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]


def log(line):
    with open(os.environ.get("STUB_LOG", os.devnull), "a") as fo:
        fo.write(line + "\n")


def broken(why):
    log(f"CONTRACT {name}: {why}")
    sys.exit(65)


log(" ".join([name] + args))
if name == "lpcnet_demo":
    if len(args) != 3 or args[0] not in ("-encode", "-decode"):
        broken("expected -encode IN OUT or -decode IN OUT")
    encode, src, dst = args[0] == "-encode", args[1], args[2]
else:
    encode = name == "nesc_enc"
    flags = {"--in": "in", "--input": "in", "--out": "out", "--output": "out"}
    named, positional, words = {}, [], iter(args)
    for word in words:
        if word in flags:
            named[flags[word]] = next(words, None)
        else:
            positional.append(word)
    if named:
        if positional or None in named.values() or len(named) != 2:
            broken("expected --in IN --out OUT")
        src, dst = named["in"], named["out"]
    elif len(positional) == 2:
        src, dst = positional
    else:
        broken("expected IN OUT")

mode = os.environ.get("STUB_MODE", "ok")
if mode == "fail":
    sys.exit(9)
if mode == "silent":
    sys.exit(0)
if not os.path.isfile(src):
    broken(f"input {src} is not a file")
if not os.path.isdir(os.path.dirname(os.path.abspath(dst))):
    broken(f"the directory of output {dst} does not exist")
with open(src, "rb") as fo:
    data = fo.read()
if encode:
    expected = os.environ.get("EXPECT_PCM_BYTES")
    if len(data) % 2:
        broken(f"{len(data)} bytes is not whole s16le samples")
    if expected and abs(len(data) - int(expected)) > FRAME_BYTES:
        broken(f"{len(data)} bytes of PCM, expected {expected} within {FRAME_BYTES}")
    samples = array.array("h", data)
    payload = MAGIC + samples[::2].tobytes()
else:
    if not data.startswith(MAGIC):
        broken(f"input {src} was not written by the stand-in encoder")
    kept = array.array("h", data[len(MAGIC):])
    samples = array.array("h", (s for s in kept for _ in range(2)))
    payload = samples.tobytes()
with open(dst, "wb") as fo:
    fo.write(payload)
PYTHON
  for name in nesc_enc nesc_dec; do
    cp -- "$dir/lpcnet_demo" "$dir/$name"
  done
  chmod +x "$dir/lpcnet_demo" "$dir/nesc_enc" "$dir/nesc_dec"
}

# flip_byte FILE OFFSET: invert every bit of the byte at OFFSET, in place.
flip_byte() {
  local file=$1 offset=$2 byte
  byte=$(od -An -tu1 -j "$offset" -N1 -- "$file" | tr -d ' ')
  [[ -n $byte ]] || fail "$file has no byte at offset $offset"
  printf '%b' "\\$(printf '%03o' $((byte ^ 0xff)))" |
    dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# samples_of FILE: samples per channel FFmpeg decodes from FILE's first audio stream.
samples_of() {
  local bytes
  bytes=$(ffmpeg -nostdin -v error -i "file:$1" -map 0:a:0 -ac 1 -f s16le - | wc -c) || return
  echo $((bytes / 2))
}

# python_logger FILE: a PYTHON_BIN (./python-logger) that appends its arguments to FILE, one line
# a run, then runs the real one; prints its path.
python_logger() {
  cat >python-logger <<SH
#!/usr/bin/env bash
printf '%s\n' "\$*" >>'$1'
exec '$TEST_PYTHON' "\$@"
SH
  chmod +x python-logger
  echo "$PWD/python-logger"
}

# make_bare_python DIR: a Python without the toolkit's packages (a venv made without pip), as
# DIR/bin/python; for the "package missing" errors.
make_bare_python() {
  "$TEST_PYTHON" -m venv --without-pip "$1" >/dev/null 2>&1 || fail "cannot create a venv in $1"
}

# bin_without DIR PROGRAM...: DIR with links to the programs of /bin and /usr/bin except the
# PROGRAMs, for a PATH on which those alone are missing.
bin_without() {
  local dir=$1 program
  shift
  mkdir -p "$dir"
  ln -s /usr/bin/* "$dir"/ 2>/dev/null
  [[ /bin -ef /usr/bin ]] || ln -s /bin/* "$dir"/ 2>/dev/null
  for program in "$@"; do
    rm -f -- "${dir:?}/$program"
  done
  [[ -x $dir/bash && -x $dir/env ]] || fail "$dir lacks bash or env"
}

# as_nobody CMD...: CMD as user nobody, for permission checks that root's access would bypass.
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# require_nobody: skip the test unless as_nobody can run the scripts from the test directory;
# makes TMPDIR writable for nobody.
require_nobody() {
  ((EUID == 0)) || skip "needs root, to run the scripts as user nobody (root bypasses file modes)"
  command -v setpriv >/dev/null || skip "needs setpriv (util-linux) to switch to user nobody"
  id nobody >/dev/null 2>&1 || skip "there is no user nobody"
  # bats keeps its run directory private to its owner; nobody only needs to pass through it.
  chmod o+x "$BATS_RUN_TMPDIR"
  as_nobody test -r "$REPO_ROOT/compress_audio.sh" -a -x "$REPO_ROOT/decompress_audio.sh" \
    -a -r "$BATS_TEST_TMPDIR" -a -x "$BATS_TEST_TMPDIR" ||
    skip "user nobody cannot reach $REPO_ROOT or $BATS_TEST_TMPDIR"
  chmod 1777 "$TMPDIR"
}

# interrupt SIGNAL PATTERN AFTER CMD...: run CMD as a terminal runs a foreground job (its own
# process group, with SIGINT at its default; a script's background jobs start with it ignored),
# wait until one of its processes has PATTERN (a regex) in its command line, let it run AFTER
# more seconds, send SIGNAL to the whole group as Ctrl-C does, and wait for CMD to end.
# Sets status, output and stderr as `run --separate-stderr` does.
# shellcheck disable=SC2034 # status, output and stderr are for the calling test to read
interrupt() {
  local signal=$1 pattern=$2 after=$3 pid tries=0 code=0
  shift 3
  setsid env --default-signal=INT "$@" >"$BATS_TEST_TMPDIR/interrupt.out" \
    2>"$BATS_TEST_TMPDIR/interrupt.err" 3>&- &
  pid=$!
  until pgrep -s "$pid" -f -- "$pattern" >/dev/null; do
    if ((++tries > 600)) || ! kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || true
      wait "$pid" || code=$?
      fail "no process matching '$pattern' ran (exit $code: $(<"$BATS_TEST_TMPDIR/interrupt.err"))"
    fi
    sleep 0.05
  done
  sleep "$after"
  # setsid made CMD the leader of a group of its own: the signal reaches CMD and its children only.
  [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] || fail "$* is not in a group of its own"
  kill "-$signal" -- "-$pid"
  status=0
  wait "$pid" || status=$?
  output=$(<"$BATS_TEST_TMPDIR/interrupt.out") stderr=$(<"$BATS_TEST_TMPDIR/interrupt.err")
}

# assert_batch_summary LINE PROG TOTAL DONE SKIPPED FAILED: LINE is the summary a batch of TOTAL
# files ends with.
assert_batch_summary() {
  [[ $1 == "$2: $3 files: $4 done, $5 skipped"* && $1 == *", $6 failed; "*" of audio in "* ]] ||
    fail "expected the summary of $3 files ($4 done, $5 skipped, $6 failed), got: $1"
}

# assert_clean_batch PROG: stderr (of run --separate-stderr) is one line, the summary of a batch
# whose every file was done.
# shellcheck disable=SC2154 # stderr_lines is set by the caller's run --separate-stderr
assert_clean_batch() {
  local pattern="^$1: ([0-9]+) files: ([0-9]+) done, 0 skipped, 0 failed; "
  assert_equal "${#stderr_lines[@]}" 1
  [[ ${stderr_lines[0]} =~ $pattern && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] ||
    fail "expected the summary of a batch with every file done, got: ${stderr_lines[0]}"
}
