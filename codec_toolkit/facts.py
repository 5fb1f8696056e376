"""The facts shared with the shell front-ends, read from facts.tsv beside this module.

lib/facts.bash reads the same table, so the codec list, the containers' magic numbers and the
models' rates cannot drift between Bash and Python. Reading it costs well under a millisecond
and imports nothing else, so `--help` and `--info` stay light.
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class Codec:
    """One `codec` row: the extension, who runs it, and how its files are recognised."""

    ext: str
    runner: str  # "helper" (the Python helpers) or "shell" (the front-ends)
    magic: bytes | None  # None: headerless, known by extension only
    ncdc_id: int | None  # the codec byte of an NCDC container


def _rows(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8") as fo:
        return [line.split() for line in fo if line.strip() and not line.startswith("#")]


def _field(value: str) -> str | None:
    return None if value == "-" else value


_HERE = os.path.dirname(os.path.abspath(__file__))
_ROWS = _rows(os.path.join(_HERE, "facts.tsv"))

CODECS: tuple[Codec, ...] = tuple(
    Codec(ext, runner, None if _field(magic) is None else bytes.fromhex(magic),
          None if _field(ncdc) is None else int(ncdc))
    for kind, ext, runner, magic, ncdc in (r for r in _ROWS if r[0] == "codec"))

# (codec, magic, when) of files in a codec's earlier container: when is "always" or "named".
LEGACY: tuple[tuple[str, bytes, str], ...] = tuple(
    (ext, bytes.fromhex(magic), when) for kind, ext, magic, when in
    (r for r in _ROWS if r[0] == "legacy"))

# {codec: {setting or None: Hz}}
RATES: dict[str, dict[str | None, int]] = {}
for _kind, _codec, _setting, _hz in (r for r in _ROWS if r[0] == "rate"):
    RATES.setdefault(_codec, {})[_field(_setting)] = int(_hz)

# (lowest, highest) sample rate in Hz a container may record or an encoder take as a source rate.
SAMPLE_RATES: tuple[int, int] = next(
    (int(low), int(high)) for kind, low, high in (r for r in _ROWS if r[0] == "sample_rates"))

# ENCODEC_BITRATE's spellings ("1.5", "3", ...) and the codebooks each keeps.
ENCODEC_BITRATES: dict[str, int] = {
    kbps: int(books) for kind, kbps, books in (r for r in _ROWS if r[0] == "encodec_bitrate")}

# {(model, bitrate): (codebooks, release tag)} of the published DAC models.
DAC_MODELS: dict[tuple[str, str], tuple[int, str]] = {
    (model, bitrate): (int(books), tag)
    for kind, model, bitrate, books, tag in (r for r in _ROWS if r[0] == "dac_model")}


def version() -> str:
    """The toolkit's version, from the file VERSION at the top of the checkout (its one place)."""
    with open(os.path.join(_HERE, os.pardir, "VERSION"), encoding="utf-8") as fo:
        return fo.read().strip()


def codec(ext: str) -> Codec:
    """The `codec` row of `ext`."""
    return next(c for c in CODECS if c.ext == ext)


def rate(codec_name: str, setting: str | None = None) -> int:
    """The model rate of `codec_name` at knob value `setting` (None where it has one rate)."""
    return RATES[codec_name][setting]
