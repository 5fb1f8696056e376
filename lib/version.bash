# shellcheck shell=bash
# --version: the toolkit's version, from the VERSION file (its one place), and with -v what a
# bug report needs besides: the versions of the Python, its packages and FFmpeg found.

# The distributions --version -v reports, as "NAME DISTRIBUTION" (DAC's import name is not its
# distribution's).
VERSION_PACKAGES='torch torch
torchaudio torchaudio
encodec encodec
snac snac
transformers transformers
onnxruntime onnxruntime
dac descript-audio-codec
numpy numpy'

# print_version VERBOSE: "PROG VERSION", then with VERBOSE=1 one "NAME VERSION" (or "NAME not
# found") a line; a missing piece is reported, never fatal. Exits 0.
print_version() {
  local version
  version=$(<"$SCRIPT_DIR/VERSION") || die 1 "$SCRIPT_DIR/VERSION: cannot read the version"
  printf '%s %s\n' "$PROG" "$version"
  if (($1)); then
    python_versions
    ffmpeg_version
  fi
  exit 0
}

# python_versions: PYTHON_BIN's version and its packages'. The packages are looked up in their
# metadata, not imported, so this is instant and works where an import would fail.
python_versions() {
  local names
  mapfile -t names < <(cut -d ' ' -f 1 <<<"$VERSION_PACKAGES")
  # shellcheck disable=SC2016 # the snippet is Python, expanded by Python
  "$PYTHON_BIN" - "$VERSION_PACKAGES" 2>/dev/null <<'PYTHON' ||
import sys
from importlib import metadata

print("python", sys.version.split()[0])
for line in sys.argv[1].splitlines():
    name, distribution = line.split()
    try:
        print(name, metadata.version(distribution))
    except metadata.PackageNotFoundError:
        print(name, "not found")
PYTHON
    printf '%s not found\n' python "${names[@]}"
}

# ffmpeg_version: "ffmpeg VERSION", the third word of the first line of `$FFMPEG -version`.
ffmpeg_version() {
  local line words
  line=$("$FFMPEG" -version 2>/dev/null | head -n 1) || true
  read -r -a words <<<"$line"
  if [[ ${words[1]-} == version ]]; then
    printf 'ffmpeg %s\n' "${words[2]}"
  else
    printf 'ffmpeg not found\n'
  fi
}
