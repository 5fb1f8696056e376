#!/usr/bin/env bats
# The option syntax both scripts share (GNU getopt: combined flags, --name=value, options after
# operands, --), -y, and --version with and without -v.

# shellcheck disable=SC2154 # bats' run sets stderr and stderr_lines
bats_require_minimum_version 1.5.0

setup_file() {
  load 'test_helper/common-setup'
  common_setup_file
}

setup() {
  load 'test_helper/common-setup'
  common_setup
}

# --- GNU syntax ------------------------------------------------------------------------------

@test "combined short flags -fq replace an existing OUTPUT quietly" {
  printf 'old' >out/clip.c2
  run -0 --separate-stderr compress_audio.sh -fq "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" ''
  assert_equal "$(od -An -tx1 -N3 out/clip.c2 | tr -d ' ')" c0dec2
}

@test "-y replaces an existing OUTPUT as -f does, on both scripts" {
  printf 'old' >out/clip.c2
  run -0 --separate-stderr compress_audio.sh -y "$REF/mono8k.wav" out/clip.c2
  assert_equal "$(od -An -tx1 -N3 out/clip.c2 | tr -d ' ')" c0dec2
  printf 'old' >out/clip.wav
  run -0 --separate-stderr decompress_audio.sh -y out/clip.c2 out/clip.wav
  assert_equal "$(rate_of out/clip.wav)" 8000
}

@test "without -f or -y an existing OUTPUT is still refused (exit 7)" {
  printf 'old' >out/clip.c2
  run -7 --separate-stderr compress_audio.sh "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: out/clip.c2: already exists (use -f to replace it)'
}

@test "--jobs=2 and --jobs 2, --codec=c2 and --output-dir=DIR are all accepted" {
  mkdir a b
  run -0 --separate-stderr compress_audio.sh --jobs=2 --codec=c2 --output-dir=a \
    "$REF/mono8k.wav" "$REF/mono24k.wav"
  run -0 --separate-stderr compress_audio.sh --jobs 2 --codec c2 --output-dir b \
    "$REF/mono8k.wav" "$REF/mono24k.wav"
  cmp a/mono8k.c2 b/mono8k.c2
  cmp a/mono24k.c2 b/mono24k.c2
}

@test "-j2 and -oDIR attach their values" {
  run -0 --separate-stderr compress_audio.sh -j2 -cc2 -oout "$REF/mono8k.wav"
  assert_file_exists out/mono8k.c2
}

@test "--jobs=0 is refused with the same message as -j 0 (exit 2)" {
  run -2 --separate-stderr compress_audio.sh --jobs=0 -c c2 -o out "$REF/mono8k.wav"
  assert_equal "$stderr" 'compress_audio.sh: --jobs 0: expected a whole number from 1 to 256'
}

@test "options after the operands still count" {
  printf 'old' >out/clip.c2
  run -0 --separate-stderr compress_audio.sh "$REF/mono8k.wav" out/clip.c2 -f
  assert_equal "$(od -An -tx1 -N3 out/clip.c2 | tr -d ' ')" c0dec2
  run -0 --separate-stderr decompress_audio.sh out/clip.c2 out/clip.wav --rate=16000
  assert_equal "$(rate_of out/clip.wav)" 16000
}

@test "-- ends the options: a later -f is an operand" {
  run -2 --separate-stderr compress_audio.sh -- "$REF/mono8k.wav" out/clip.c2 -f
  assert_equal "$stderr" 'compress_audio.sh: expected INPUT and OUTPUT (see --help)'
  assert_dir_empty out
}

@test "an unknown flag inside a combination is named alone (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -fx "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: unknown option: -x (see --help)'
  refute_output
}

@test "a value given to a flag that takes none is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh --force=yes "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: --force takes no value (see --help)'
}

@test "an option missing its value names what it needs, short or long (exit 2)" {
  run -2 --separate-stderr compress_audio.sh "$REF/mono8k.wav" out/clip.c2 -r
  assert_equal "$stderr" 'compress_audio.sh: -r needs a sample rate in Hz'
  run -2 --separate-stderr decompress_audio.sh x.c2 out/x.wav --rate
  assert_equal "$stderr" 'decompress_audio.sh: --rate needs a sample rate in Hz'
  run -2 --separate-stderr compress_audio.sh "$REF/mono8k.wav" --jobs
  assert_equal "$stderr" 'compress_audio.sh: --jobs needs a number of jobs'
  run -2 --separate-stderr compress_audio.sh "$REF/mono8k.wav" -o
  assert_equal "$stderr" 'compress_audio.sh: -o needs a directory'
}

@test "compress_audio.sh refuses -r with a value as unknown (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -r 16000 "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: unknown option: -r (see --help)'
}

@test "-c that disagrees with OUTPUT's extension is a usage error (exit 2)" {
  run -2 --separate-stderr compress_audio.sh -c snac "$REF/mono8k.wav" out/clip.c2
  assert_equal "$stderr" 'compress_audio.sh: out/clip.c2: the extension says .c2 but -c says .snac'
  run -2 --separate-stderr decompress_audio.sh -c flac x.c2 out/x.wav
  assert_equal "$stderr" 'decompress_audio.sh: out/x.wav: the extension says .wav but -c says .flac'
  assert_dir_empty out
}

@test "-c that agrees with OUTPUT's extension is accepted in the single-file form" {
  run -0 --separate-stderr compress_audio.sh -c c2 "$REF/mono8k.wav" out/clip.c2
  run -0 --separate-stderr decompress_audio.sh -c flac out/clip.c2 out/clip.flac
  assert_equal "$(codec_name_of out/clip.flac)" flac
}

# --- --version -------------------------------------------------------------------------------

@test "--version prints the VERSION file's version on both scripts" {
  local version
  version=$(<"$REPO_ROOT/VERSION")
  run -0 --separate-stderr compress_audio.sh --version
  assert_output "compress_audio.sh $version"
  assert_equal "$stderr" ''
  run -0 --separate-stderr decompress_audio.sh --version
  assert_output "decompress_audio.sh $version"
}

@test "--version -v and -v --version also list Python, the codec packages and FFmpeg" {
  local order
  run -0 --separate-stderr compress_audio.sh --version -v
  assert_equal "$stderr" ''
  assert_line --index 0 "compress_audio.sh $(<"$REPO_ROOT/VERSION")"
  assert_line --index 1 --regexp '^python 3\.[0-9]+\.[0-9]+'
  assert_line --regexp '^torch [0-9]'
  assert_line --regexp '^numpy [0-9]'
  assert_line --regexp '^ffmpeg [0-9n]'
  order=$(printf '%s\n' "${lines[@]}" | cut -d ' ' -f 1 | tr '\n' ' ')
  assert_equal "$order" "compress_audio.sh python torch torchaudio encodec snac transformers \
onnxruntime dac numpy ffmpeg "
  run -0 --separate-stderr decompress_audio.sh -v --version
  assert_equal "${#lines[@]}" 11
}

@test "--version -v says 'not found' for a missing Python, package or FFmpeg, and exits 0" {
  make_bare_python bare
  run -0 --separate-stderr env PYTHON_BIN="$PWD/bare/bin/python" FFMPEG=no-such-ffmpeg \
    compress_audio.sh --version --verbose
  assert_equal "$stderr" ''
  assert_line --regexp '^python 3\.'
  assert_line 'torch not found'
  assert_line 'dac not found'
  assert_line 'ffmpeg not found'
  run -0 --separate-stderr env PYTHON_BIN=/nonexistent/python decompress_audio.sh --version -v
  assert_line 'python not found'
  assert_line 'snac not found'
}

@test "-v without --version changes nothing" {
  run -0 --separate-stderr compress_audio.sh -v "$REF/mono8k.wav" out/clip.c2
  refute_output
  assert_equal "$stderr" ''
}
