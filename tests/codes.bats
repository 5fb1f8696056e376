#!/usr/bin/env bats
# Codes for ML users through the commands: decompress_audio.sh --codes (one file and a batch)
# writes .npz, compress_audio.sh CODES.npz OUTPUT builds the container back, and
# decompress_audio.sh turns it into audio; exit codes and messages of the misuses. Real FFmpeg
# and model classes (random-weight checkpoints).

# shellcheck disable=SC2154 # bats' run sets stderr and stderr_lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
  export ENC=$BATS_FILE_TMPDIR/enc
  mkdir -p "$ENC"
  compress_audio.sh "$REF/mono48k.flac" "$ENC/speech.snac"
  compress_audio.sh "$REF/mono24k.wav" "$ENC/radio.mimi"
  compress_audio.sh "$REF/stereo44k.mp3" "$ENC/music.ecdc"
  compress_audio.sh "$REF/mono8k.wav" "$ENC/phone.c2"
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# npz_field NPZ NAME: array NAME of NPZ, printed by numpy, read without pickle.
npz_field() {
  "$TEST_PYTHON" -c 'import sys, numpy as np
with np.load(sys.argv[1], allow_pickle=False) as d: print(d[sys.argv[2]].tolist())' "$1" "$2"
}

@test "--codes INPUT OUTPUT.npz writes the levels and metadata of a .snac" {
  run -0 --separate-stderr decompress_audio.sh --codes "$ENC/speech.snac" out/speech.npz
  refute_output
  assert_equal "$stderr" ''
  assert_equal "$(npz_field out/speech.npz codec)" snac
  assert_equal "$(npz_field out/speech.npz model)" hubertsiuzdak/snac_24khz
  assert_equal "$(npz_field out/speech.npz source_rate)" 48000
  assert_equal "$(npz_field out/speech.npz samples)" 36000
  run -0 npz_field out/speech.npz 'level_2'
}

@test "an exported .snac, .mimi and .ecdc build back into byte-identical containers" {
  local name
  for name in speech.snac radio.mimi music.ecdc; do
    decompress_audio.sh --codes "$ENC/$name" "out/$name.npz"
    run -0 --separate-stderr compress_audio.sh "out/$name.npz" "out/$name"
    refute_output
    assert_files_equal "out/$name" "$ENC/$name"
  done
}

@test "codes built from an .npz decompress to a WAV of the original duration and rate" {
  decompress_audio.sh --codes "$ENC/radio.mimi" out/radio.npz
  compress_audio.sh out/radio.npz out/built.mimi
  run -0 --separate-stderr decompress_audio.sh out/built.mimi out/built.wav
  assert_equal "$(rate_of out/built.wav)" 24000
  assert_duration out/built.wav 1.5
}

@test "--codes -o DIR writes DIR/NAME.npz for each input, with -j 2" {
  run -0 --separate-stderr decompress_audio.sh --codes -j 2 -o out "$ENC/speech.snac" \
    "$ENC/radio.mimi" "$ENC/music.ecdc"
  refute_output
  assert_clean_batch decompress_audio.sh
  assert_equal "$(LC_ALL=C ls -A out)" "$(printf '%s\n' music.npz radio.npz speech.npz)"
  assert_equal "$(npz_field out/music.npz codec)" ecdc
}

@test "--codes batch: a file without codes fails alone, exit 8, the others are written" {
  run -8 --separate-stderr decompress_audio.sh --codes -o out "$ENC/phone.c2" "$ENC/speech.snac"
  local expected="decompress_audio.sh: $ENC/phone.c2: .c2 holds no codes to"
  expected+=" export (only .ecdc, .snac, .mimi, .dac, .semanticodec)"
  assert_equal "${stderr_lines[0]}" "$expected"
  assert_batch_summary "${stderr_lines[1]}" decompress_audio.sh 2 1 0 1
  assert_file_exists out/speech.npz
  assert_file_not_exists out/phone.npz
}

@test "--codes into an OUTPUT not named .npz is a usage error, exit 2" {
  run -2 --separate-stderr decompress_audio.sh --codes "$ENC/speech.snac" out/speech.wav
  assert_equal "$stderr" \
    'decompress_audio.sh: out/speech.wav: --codes writes a NumPy .npz; name OUTPUT .npz'
  assert_dir_empty out
}

@test "--codes with -r is a usage error, exit 2" {
  run -2 --separate-stderr decompress_audio.sh --codes -r 16000 "$ENC/speech.snac" out/x.npz
  assert_equal "$stderr" 'decompress_audio.sh: --rate does not go with --codes'
}

@test "an .npz of codes into another codec's container is refused, exit 4, nothing written" {
  decompress_audio.sh --codes "$ENC/speech.snac" out/speech.npz
  run -4 --separate-stderr compress_audio.sh out/speech.npz out/speech.mimi
  local expected="compress_audio.sh: out/speech.npz: array codec: the codes are for"
  expected+=" .snac, the output is .mimi"
  assert_equal "$stderr" "$expected"
  assert_file_not_exists out/speech.mimi
  assert_equal "$(ls -A out)" speech.npz
}

@test "an .npz of codes into a codec without codes is a usage error, exit 2" {
  decompress_audio.sh --codes "$ENC/speech.snac" out/speech.npz
  run -2 --separate-stderr compress_audio.sh out/speech.npz out/speech.c2
  local expected="compress_audio.sh: out/speech.c2: .c2 holds no codes; an .npz of codes"
  expected+=" builds .ecdc, .snac, .mimi, .dac or .semanticodec"
  assert_equal "$stderr" "$expected"
}

@test "a file named .npz that is not a zip is refused, exit 4" {
  printf 'not a zip' >fake.npz
  run -4 --separate-stderr compress_audio.sh fake.npz out/x.snac
  assert_equal "$stderr" 'compress_audio.sh: fake.npz: not an .npz file (no zip signature)'
  assert_dir_empty out
}

@test "an .npz naming an unknown SNAC model needs SNAC_MODEL to vouch for it" {
  decompress_audio.sh --codes "$ENC/speech.snac" out/speech.npz
  "$TEST_PYTHON" -c 'import numpy as np
d = dict(np.load("out/speech.npz", allow_pickle=False)); d["model"] = np.array("my/snac")
np.savez("mine.npz", **d)'
  run -4 --separate-stderr compress_audio.sh mine.npz out/mine.snac
  local expected="compress_audio.sh: mine.npz: array model: 'my/snac' is not a known"
  expected+=" SNAC model; set SNAC_MODEL to it if you trust it"
  assert_equal "$stderr" "$expected"
  SNAC_MODEL=my/snac run -0 compress_audio.sh mine.npz out/mine.snac
  assert_file_exists out/mine.snac
}

@test "an existing OUTPUT .npz is kept without -f, exit 7" {
  touch out/speech.npz
  run -7 --separate-stderr decompress_audio.sh --codes "$ENC/speech.snac" out/speech.npz
  assert_equal "$stderr" \
    'decompress_audio.sh: out/speech.npz: already exists (use -f to replace it)'
  run -0 decompress_audio.sh -f --codes "$ENC/speech.snac" out/speech.npz
}
