#!/usr/bin/env bats
# decompress_audio.sh --info [--json] FILE...: a key=value block (or a JSON object) for every
# container the toolkit reads, including the encodec and dac packages' own files and a legacy
# torch.save .snac, without loading a model; corrupt files exit 4 and the others still print.

# shellcheck disable=SC2154,SC2016 # bats' run sets output and lines; python -c scripts are Python
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  export ENC=$BATS_FILE_TMPDIR/enc
  mkdir -p "$ENC"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.ecdc"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.snac"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.mimi"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/clip.opus"
  compress_audio.sh "$REF/mono8k.wav" "$ENC/clip.c2"
  # A file of the encodec package itself (encodec.compress), and a legacy torch.save .snac.
  "$TEST_PYTHON" - "$ENC" <<'PYTHON'
import sys
import warnings

import torch
from encodec import EncodecModel
from encodec.compress import compress

warnings.simplefilter("ignore")
enc = sys.argv[1]
model = EncodecModel.encodec_model_24khz()
model.set_target_bandwidth(6.0)
with open(f"{enc}/package.ecdc", "wb") as fo:
    fo.write(compress(model, torch.zeros(1, 24000)))
codes = [torch.randint(0, 4096, (1, n)) for n in (3, 6, 12)]
torch.save({"codes": codes, "length": 6144, "model": "hubertsiuzdak/snac_24khz",
            "sample_rate": 24000}, f"{enc}/legacy.snac")
PYTHON
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# field KEY: the value of KEY in $output (the last run's blocks), first match.
field() {
  sed -n "s/^$1=//p" <<<"$output" | head -n 1
}

# --- the Python containers -------------------------------------------------------------------

@test "--info on a .snac prints one block, file= first, with duration, bytes and kbps" {
  run -0 --separate-stderr decompress_audio.sh --info "$ENC/clip.snac"
  assert_equal "$stderr" ''
  assert_line --index 0 "file=$ENC/clip.snac"
  assert_line container=snac
  assert_line codec=snac
  assert_line model=hubertsiuzdak/snac_24khz
  assert_line sample_rate=24000
  assert_line source_rate=48000
  assert_line samples=36000
  assert_line levels=3
  assert_line duration=1.500
  assert_line "bytes=$(size_of "$ENC/clip.snac")"
  assert_equal "$(field kbps)" \
    "$(awk -v b="$(size_of "$ENC/clip.snac")" 'BEGIN { printf "%.2f", b * 8 / 1.5 / 1000 }')"
}

@test "--info on our .ecdc and on the encodec package's own .ecdc" {
  run -0 --separate-stderr decompress_audio.sh --info "$ENC/clip.ecdc" "$ENC/package.ecdc"
  assert_equal "$stderr" ''
  assert_line "file=$ENC/clip.ecdc"
  assert_line "file=$ENC/package.ecdc"
  assert_line codec=encodec
  assert_line codebooks=2
  # The package's file: 1 s at 6 kbps, 8 codebooks; its rate is the model's.
  assert_line codebooks=8
  assert_line duration=1.000
  assert_line source_rate=24000
}

@test "--info on a legacy torch.save .snac and a .mimi" {
  run -0 --separate-stderr decompress_audio.sh --info "$ENC/legacy.snac" "$ENC/clip.mimi"
  assert_equal "$stderr" ''
  assert_line container=snac-legacy
  assert_line levels=3
  assert_line container=mimi
  assert_line model=kyutai/mimi
  assert_line levels=8
  assert_line duration=1.500
}

@test "--info on our .dac and on the dac package's own .dac" {
  "$TEST_PYTHON" -c 'import dac' 2>/dev/null || skip "the optional DAC install is missing"
  local home=$TEST_MODEL_CACHE/home
  env HOME="$home" DAC_MODEL=16khz compress_audio.sh "$REF/mono48k.flac" ours.dac
  env HOME="$home" PYTHONPATH="$REPO_ROOT" "$TEST_PYTHON" - <<'PYTHON'
import warnings

import torch
from audiotools import AudioSignal

from codec_toolkit.dac import load_dac

warnings.simplefilter("ignore")
model = load_dac("16khz", "8kbps")
model.compress(AudioSignal(torch.zeros(1, 1, 32000), 16000)).save("theirs.dac")
PYTHON
  run -0 --separate-stderr decompress_audio.sh --info ours.dac theirs.dac
  assert_equal "$stderr" ''
  assert_line file=ours.dac
  assert_line file=theirs.dac
  assert_line container=dac
  assert_line source_rate=48000
  assert_line duration=1.500
  assert_line source_rate=16000
  assert_line duration=2.000
}

@test "--info on a .semanticodec (written through the stand-in package)" {
  mkdir -p standin/semanticodec
  cp "$REPO_ROOT/tests/fixtures/semanticodec_standin.py" standin/semanticodec/__init__.py
  env PYTHONPATH="$PWD/standin" compress_audio.sh "$REF/mono48k.flac" clip.semanticodec
  run -0 --separate-stderr decompress_audio.sh --info clip.semanticodec
  assert_equal "$stderr" ''
  assert_line container=semanticodec
  assert_line model=semanticodec-50-16384
  assert_line source_rate=48000
  assert_line bytes=177
}

# --- the shell's containers ------------------------------------------------------------------

@test "--info on a .c2 gives the mode and the duration c2dec decodes, in every mode" {
  local mode
  for mode in 3200 2400 1600 1400 1300 1200 700C; do
    CODEC2_MODE=$mode compress_audio.sh -f "$REF/mono24k.wav" "out/$mode.c2"
    decompress_audio.sh "out/$mode.c2" "out/$mode.wav"
    run -0 --separate-stderr decompress_audio.sh --info "out/$mode.c2"
    assert_equal "$stderr" ''
    assert_line container=c2
    assert_line codec=codec2
    assert_line "mode=$mode"
    assert_line sample_rate=8000
    assert_line "samples=$(samples_of "out/$mode.wav")"
    assert_line "bytes=$(size_of "out/$mode.c2")"
  done
}

@test "--info on an .opus gives the SOURCE_RATE tag and ffprobe's duration" {
  run -0 --separate-stderr decompress_audio.sh --info "$ENC/clip.opus"
  assert_equal "$stderr" ''
  assert_line container=opus
  assert_line sample_rate=48000
  assert_line source_rate=48000
  assert_regex "$(field duration)" '^1\.5[0-9][0-9]$'
  assert_line "bytes=$(size_of "$ENC/clip.opus")"
}

@test "--info on .lpcnet and .nesc goes by size and says what is assumed or unknown" {
  head -c 800 /dev/zero >clip.lpcnet
  head -c 500 /dev/zero >clip.nesc
  run -0 --separate-stderr decompress_audio.sh --info clip.lpcnet clip.nesc
  assert_equal "$stderr" ''
  assert_line container=lpcnet
  assert_line frames=100
  assert_line duration=4.000
  assert_line kbps=1.60
  assert_line 'assumed=1.6 kbps: 8 bytes per 40 ms frame'
  assert_line container=nesc
  assert_line bytes=500
  assert_line unknown=source_rate,samples,duration,kbps
}

# --- blocks, corrupt files and JSON ----------------------------------------------------------

@test "--info separates the blocks of several files by one blank line" {
  run -0 --separate-stderr decompress_audio.sh --info "$ENC/clip.c2" "$ENC/clip.opus"
  local blank
  blank=$(grep -c '^$' <<<"$output")
  assert_equal "$blank" 1
  assert_equal "$(grep -c '^file=' <<<"$output")" 2
}

@test "corrupt and unknown files exit 4 with one line each, and the others still print" {
  printf 'not audio at all' >junk.snac
  head -c 20 "$ENC/clip.snac" >short.snac
  head -c 5 "$ENC/clip.c2" >short.c2
  cp "$ENC/clip.c2" badmode.c2
  printf '\x63' | dd of=badmode.c2 bs=1 seek=5 conv=notrunc status=none
  : >empty.ecdc
  run -4 --separate-stderr decompress_audio.sh --info junk.snac "$ENC/clip.c2" short.snac \
    short.c2 badmode.c2 empty.ecdc missing.opus "$ENC/clip.snac"
  assert_equal "${#stderr_lines[@]}" 6
  assert_equal "${stderr_lines[0]}" \
    'decompress_audio.sh: junk.snac: not a file this toolkit can decode (unknown format)'
  assert_regex "${stderr_lines[1]}" '^decompress_audio\.sh: short\.snac: '
  assert_equal "${stderr_lines[2]}" 'decompress_audio.sh: short.c2: shorter than a Codec2 header'
  assert_equal "${stderr_lines[3]}" 'decompress_audio.sh: badmode.c2: unknown Codec2 mode byte 99'
  assert_equal "${stderr_lines[4]}" 'decompress_audio.sh: empty.ecdc: file is empty'
  assert_equal "${stderr_lines[5]}" 'decompress_audio.sh: missing.opus: no such file'
  refute_regex "$stderr" 'Traceback'
  assert_equal "$(grep -c '^file=' <<<"$output")" 2
  assert_line "file=$ENC/clip.c2"
  assert_line "file=$ENC/clip.snac"
}

@test "--info --json prints one parseable JSON object a file, numbers as numbers" {
  cp "$ENC/clip.c2" $'odd "name"\\\twith tab.c2'
  run -0 --separate-stderr decompress_audio.sh --json --info "$ENC/clip.snac" \
    $'odd "name"\\\twith tab.c2' "$ENC/clip.opus"
  assert_equal "$stderr" ''
  assert_equal "${#lines[@]}" 3
  run -0 "$TEST_PYTHON" -c '
import json, sys
rows = [json.loads(line) for line in sys.argv[1].splitlines()]
snac, c2, opus = rows
assert snac["container"] == "snac" and snac["samples"] == 36000, snac
assert isinstance(snac["kbps"], float) and snac["duration"] == 1.5, snac
assert c2["file"] == "odd \"name\"\\\twith tab.c2" and c2["mode"] == "1200", c2
assert isinstance(c2["bytes"], int) and isinstance(opus["source_rate"], int), opus
print("ok")' "$output"
  assert_output ok
}

@test "--info - describes standard input, by content" {
  run -0 --separate-stderr bash -c 'decompress_audio.sh --info - <"$1"' _ "$ENC/clip.snac"
  assert_equal "$stderr" ''
  assert_line --index 0 file=-
  assert_line container=snac
  assert_line "bytes=$(size_of "$ENC/clip.snac")"
  assert_dir_empty "$TMPDIR"
}

@test "--json without --info, and --info without a FILE, are usage errors (exit 2)" {
  run -2 --separate-stderr decompress_audio.sh --json "$ENC/clip.c2" out/x.wav
  assert_equal "$stderr" 'decompress_audio.sh: --json goes with --info (see --help)'
  run -2 --separate-stderr decompress_audio.sh --info
  assert_equal "$stderr" 'decompress_audio.sh: --info needs at least one FILE (see --help)'
}

@test "--info on .c2 and .opus needs no Python packages" {
  make_bare_python bare
  run -0 --separate-stderr env PYTHON_BIN="$PWD/bare/bin/python" decompress_audio.sh --info \
    "$ENC/clip.c2" "$ENC/clip.opus"
  assert_equal "$stderr" ''
  assert_equal "$(grep -c '^file=' <<<"$output")" 2
  assert_dir_empty "$TMPDIR"
}

@test "--info refuses an .opus whose SOURCE_RATE tag is no plausible rate, as decoding does" {
  lavfi 'sine=sample_rate=16000:duration=1' bad.opus -c:a libopus -b:a 16k \
    -metadata SOURCE_RATE=1
  run -4 --separate-stderr decompress_audio.sh --info bad.opus
  assert_equal "$stderr" \
    'decompress_audio.sh: bad.opus: SOURCE_RATE tag 1 is not a sample rate from 1000 to 384000 Hz'
}
