"""ECDC, encodec's own container of .ecdc files, written byte for byte as encodec writes it.

The entropy-coded payload needs encodec's language model, so it lives with the codec
(codec_toolkit.encodec); this module holds the header and the plain bit-packed payload.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
import typing as tp

import numpy as np

from codec_toolkit import facts
from codec_toolkit.binary import (MAX_SAMPLES, check_rate, pack_bits, rate_problem, read_exactly,
                                  unpack_bits)
from codec_toolkit.errors import BadMagic, InvalidField, TruncatedStream, UnsupportedVersion

# ECDC: encodec's container. magic b"ECDC", version 0, uint32 JSON length, JSON metadata
# {"m": model, "al": samples, "nc": codebooks, "lm": bool} (+ our "sr"), then the codes frame by
# frame, codebook within frame, 10 bits each LSB first, or arithmetic-coded with the LM.

ECDC_MAGIC = facts.codec("ecdc").magic
_ECDC_HEADER = struct.Struct("!4sBI")
ECDC_MODEL = "encodec_24khz"
ECDC_RATE = facts.rate("ecdc")  # ECDC_MODEL's, at which "al" counts samples
# ENCODEC_BITRATE in kbps -> codebooks kept; float keys, as EncodeOptions.bitrate holds them
ECDC_CODEBOOKS = {float(kbps): books for kbps, books in facts.ENCODEC_BITRATES.items()}
ECDC_FRAME = 320  # samples per code frame at 24 kHz (75 Hz)
ECDC_BITS = 10
_SR_FIELD = "source sample rate (sr)"  # how messages name our "sr" key


@dataclasses.dataclass
class EcdcHeader:
    length: int
    codebooks: int
    use_lm: bool
    source_rate: int | None = None
    model: str = ECDC_MODEL

    @property
    def frames(self) -> int:
        return math.ceil(self.length / ECDC_FRAME)


def write_ecdc_header(fo: tp.BinaryIO, header: EcdcHeader) -> None:
    meta: dict[str, tp.Any] = {"m": header.model, "al": header.length,
                               "nc": header.codebooks, "lm": header.use_lm}
    if header.source_rate is not None:
        problem = rate_problem(_SR_FIELD, header.source_rate)
        if problem:
            raise ValueError(problem)
        meta["sr"] = header.source_rate
    # Same spelling as encodec's json.dumps(metadata), so files compare byte for byte.
    meta_bytes = json.dumps(meta).encode("utf-8")
    fo.write(_ECDC_HEADER.pack(ECDC_MAGIC, 0, len(meta_bytes)) + meta_bytes)


def read_ecdc_header(fo: tp.BinaryIO) -> EcdcHeader:
    magic, version, size = _ECDC_HEADER.unpack(read_exactly(fo, _ECDC_HEADER.size, "header"))
    if magic != ECDC_MAGIC:
        raise BadMagic("not an EnCodec (.ecdc) file: bad magic")
    if version != 0:
        raise UnsupportedVersion(f".ecdc version {version} is not supported")
    if size > 4096:
        raise InvalidField(f"JSON header of {size} bytes is implausibly large")
    try:
        meta = json.loads(read_exactly(fo, size, "JSON header").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidField("JSON header is not valid JSON") from None
    if not isinstance(meta, dict):
        raise InvalidField("JSON header is not an object")
    model, length, codebooks, use_lm = (meta.get(k) for k in ("m", "al", "nc", "lm"))
    source_rate = meta.get("sr")
    if model != ECDC_MODEL:
        raise InvalidField(f"model {model!r} is not supported (only {ECDC_MODEL})")
    if type(length) is not int or not 1 <= length <= MAX_SAMPLES:
        raise InvalidField(f"audio length {length!r} is invalid")
    if type(codebooks) is not int or codebooks not in ECDC_CODEBOOKS.values():
        raise InvalidField(f"codebook count {codebooks!r} is invalid")
    if type(use_lm) is not bool:
        raise InvalidField(f"lm flag {use_lm!r} is invalid")
    if source_rate is not None:
        if type(source_rate) is not int:
            raise InvalidField(f"{_SR_FIELD} {source_rate!r} is not a whole number of Hz")
        check_rate(_SR_FIELD, source_rate)
    return EcdcHeader(length, codebooks, use_lm, source_rate, model)


def info_fields(fo: tp.BinaryIO) -> dict[str, tp.Any]:
    """An .ecdc file's fields for `decode_ecdc.py --info`: the header, and the size of a plain
    payload checked (an entropy-coded one needs the LM). Files without "sr" (encodec's own)
    were compressed from 24 kHz audio."""
    header = read_ecdc_header(fo)
    if not header.use_lm:
        read_ecdc_packed(fo, header)
    return {"container": "ecdc", "codec": "encodec", "model": header.model,
            "sample_rate": ECDC_RATE, "source_rate": header.source_rate or ECDC_RATE,
            "samples": header.length, "duration": header.length / ECDC_RATE,
            "codebooks": header.codebooks, "lm": int(header.use_lm)}


def write_ecdc_packed(fo: tp.BinaryIO, codes: np.ndarray) -> None:
    """Codes [K, F] in encodec's plain mode: frame after frame, 10 bits each."""
    fo.write(pack_bits(np.asarray(codes).T.reshape(-1), ECDC_BITS))


def read_ecdc_packed(fo: tp.BinaryIO, header: EcdcHeader) -> np.ndarray:
    """Inverse of `write_ecdc_packed`: codes [K, F]."""
    count = header.frames * header.codebooks
    data = fo.read()
    if len(data) != math.ceil(count * ECDC_BITS / 8):
        if len(data) * 8 < count * ECDC_BITS:
            raise TruncatedStream(f"codes end early: expected {math.ceil(count * ECDC_BITS / 8)} "
                                  f"bytes, found {len(data)}")
        raise InvalidField(f"{len(data)} bytes of codes where the header implies "
                           f"{math.ceil(count * ECDC_BITS / 8)}")
    return unpack_bits(data, ECDC_BITS, count).reshape(header.frames, header.codebooks).T
