"""NCDC, the toolkit's own container of codes: .snac, .mimi and .semanticodec files."""

from __future__ import annotations

import dataclasses
import io
import math
import struct
import typing as tp
import zlib

import numpy as np

from codec_toolkit import facts
from codec_toolkit.binary import (MAX_SAMPLES, check_rate, pack_bits, rate_problem, read_exactly,
                                  unpack_bits)
from codec_toolkit.errors import (BadMagic, ChecksumMismatch, InvalidField, TruncatedStream,
                                  UnsupportedVersion)

# NCDC: the container of .snac, .mimi and .semanticodec files.
#
#   offset  size     field
#   0       4        magic b"NCDC"
#   4       1        version, 1
#   5       1        codec, 1 = SNAC, 2 = Mimi, 3 = SemantiCodec
#   6       1        model: 0 = named below, 1.. = index into KNOWN_MODELS[codec]
#   7       1 + N    (model 0 only) name length N, then N bytes of UTF-8
#   .       4        model sample rate, Hz (uint32)
#   .       4        source sample rate, Hz, of the file that was compressed (uint32)
#   .       8        length in samples at the model rate, before padding (uint64)
#   .       1        bits per code, 1..32
#   .       1        number of levels (SNAC), codebooks (Mimi) or token streams (SemantiCodec:
#                    semantic, acoustic) L, 1..32
#   .       4 x L    codes per level (uint32 each)
#   .       ...      all codes, level after level, packed at `bits` bits LSB first, zero-padded
#                    to a whole byte
#   end-4   4        CRC-32 (zlib) of every byte before it
# All integers are big-endian.

_NCDC_CODECS = [c for c in facts.CODECS if c.ncdc_id is not None]
NCDC_MAGIC = _NCDC_CODECS[0].magic  # b"NCDC": every codec it holds shares it
NCDC_VERSION = 1
CODEC_IDS = {c.ext: c.ncdc_id for c in _NCDC_CODECS}  # the codec byte
CODEC_NAMES = {"snac": "SNAC", "mimi": "Mimi", "semanticodec": "SemantiCodec"}
SEMANTICODEC_TOKEN_RATES = (25, 50, 100)
SEMANTICODEC_VOCAB_SIZES = (4096, 8192, 16384, 32768)
SEMANTICODEC_DEFAULTS = (50, 16384)  # 0.68 kbps
# The model byte is an index into these tuples: entries may be added at the end, never moved.
KNOWN_MODELS = {
    "snac": ("hubertsiuzdak/snac_24khz", "hubertsiuzdak/snac_32khz", "hubertsiuzdak/snac_44khz"),
    "mimi": ("kyutai/mimi",),
    # SemantiCodec's published settings, by token rate and semantic vocabulary size
    "semanticodec": tuple(f"semanticodec-{rate}-{vocab}" for rate in SEMANTICODEC_TOKEN_RATES
                          for vocab in SEMANTICODEC_VOCAB_SIZES),
}
_NCDC_START = struct.Struct("!4sBBB")
_NCDC_RATES = struct.Struct("!IIQBB")
_NCDC_CRC = struct.Struct("!I")
MAX_LEVELS = 32  # Mimi's 32 codebooks; SNAC has 3 or 4 levels


@dataclasses.dataclass
class CodesHeader:
    """What a codes container records besides the codes themselves."""

    codec: str
    model: str
    sample_rate: int
    source_rate: int
    length: int
    bits: int


def _rates(sample_rate: int, source_rate: int) -> tuple[tuple[str, int], ...]:
    return ("model sample rate", sample_rate), ("source sample rate", source_rate)


def write_ncdc(fo: tp.BinaryIO, header: CodesHeader, codes: tp.Sequence[np.ndarray]) -> None:
    """Write `codes` (one 1-D integer array per level) in the NCDC layout."""
    if header.codec not in CODEC_IDS:
        raise ValueError(f"unknown codec {header.codec!r}")
    if not 1 <= len(codes) <= MAX_LEVELS:
        raise ValueError(f"{len(codes)} levels, expected 1 to {MAX_LEVELS}")
    for name, rate in _rates(header.sample_rate, header.source_rate):
        problem = rate_problem(name, rate)
        if problem:
            raise ValueError(problem)
    known = KNOWN_MODELS[header.codec]
    out = bytearray()
    if header.model in known:
        out += _NCDC_START.pack(NCDC_MAGIC, NCDC_VERSION, CODEC_IDS[header.codec],
                                known.index(header.model) + 1)
    else:
        name = header.model.encode("utf-8")
        if not 1 <= len(name) <= 255:
            raise ValueError("model name must be 1 to 255 bytes of UTF-8")
        out += _NCDC_START.pack(NCDC_MAGIC, NCDC_VERSION, CODEC_IDS[header.codec], 0)
        out += bytes([len(name)]) + name
    out += _NCDC_RATES.pack(header.sample_rate, header.source_rate, header.length,
                            header.bits, len(codes))
    flat = [np.asarray(level, dtype=np.int64).reshape(-1) for level in codes]
    for level in flat:
        if level.size and (level.min() < 0 or level.max() >= 1 << header.bits):
            raise ValueError(f"a code does not fit in {header.bits} bits")
        out += struct.pack("!I", level.size)
    out += pack_bits(np.concatenate(flat), header.bits)
    out += _NCDC_CRC.pack(zlib.crc32(out))
    fo.write(out)


def read_ncdc(fo: tp.BinaryIO) -> tuple[CodesHeader, list[np.ndarray]]:
    """Read an NCDC container; every field is checked before any model is involved."""
    data = fo.read()
    view = io.BytesIO(data)
    magic, version, codec_id, model_id = _NCDC_START.unpack(
        read_exactly(view, _NCDC_START.size, "header"))
    if magic != NCDC_MAGIC:
        raise BadMagic("not an NCDC (.snac) container: bad magic")
    if version != NCDC_VERSION:
        raise UnsupportedVersion(f"container version {version} is not supported "
                                 f"(this toolkit reads version {NCDC_VERSION})")
    codecs = {v: k for k, v in CODEC_IDS.items()}
    if codec_id not in codecs:
        raise InvalidField(f"unknown codec id {codec_id}")
    codec = codecs[codec_id]
    if len(data) < _NCDC_CRC.size or zlib.crc32(data[:-4]) != _NCDC_CRC.unpack(data[-4:])[0]:
        # Checked before the other fields so that a flipped bit reads as what it is.
        if len(data) < _NCDC_START.size + _NCDC_RATES.size + _NCDC_CRC.size:
            raise TruncatedStream("file ends inside the header")
        raise ChecksumMismatch("checksum mismatch: the file is corrupt or truncated")
    if model_id == 0:
        (name_length,) = read_exactly(view, 1, "model name")
        try:
            model = read_exactly(view, name_length, "model name").decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidField("model name is not UTF-8") from None
        if not model or model in KNOWN_MODELS[codec]:
            raise InvalidField("model name field is invalid")
    elif model_id <= len(KNOWN_MODELS[codec]):
        model = KNOWN_MODELS[codec][model_id - 1]
    else:
        raise InvalidField(f"unknown model id {model_id}")
    sample_rate, source_rate, length, bits, levels = _NCDC_RATES.unpack(
        read_exactly(view, _NCDC_RATES.size, "header"))
    for name, rate in _rates(sample_rate, source_rate):
        check_rate(name, rate)
    if not 1 <= length <= MAX_SAMPLES:
        raise InvalidField(f"length {length} samples is out of range")
    if not 1 <= bits <= 32:
        raise InvalidField(f"bits per code {bits} is out of range 1..32")
    if not 1 <= levels <= MAX_LEVELS:
        raise InvalidField(f"level count {levels} is out of range 1..{MAX_LEVELS}")
    counts = struct.unpack(f"!{levels}I", read_exactly(view, 4 * levels, "level table"))
    payload = data[view.tell():-_NCDC_CRC.size]
    expected = math.ceil(sum(counts) * bits / 8)
    if len(payload) != expected:
        raise InvalidField(f"payload is {len(payload)} bytes, the level table says {expected}")
    flat = unpack_bits(payload, bits, sum(counts))
    codes = np.split(flat, np.cumsum(counts)[:-1])
    header = CodesHeader(codec, model, sample_rate, source_rate, length, bits)
    return header, list(codes)


# What each codec calls its code streams, in `info_fields`.
_COUNT_NAMES = {"snac": "levels", "mimi": "codebooks", "semanticodec": "streams"}


def info_fields(fo: tp.BinaryIO) -> dict[str, tp.Any]:
    """An NCDC file's fields for `decode_ecdc.py --info`, read and checked as for decoding:
    samples are at the model's sample_rate; "levels" counts the code streams of every codec."""
    header, codes = read_ncdc(fo)
    fields: dict[str, tp.Any] = {
        "container": header.codec, "codec": header.codec, "model": header.model,
        "sample_rate": header.sample_rate, "source_rate": header.source_rate,
        "samples": header.length, "duration": header.length / header.sample_rate,
        _COUNT_NAMES[header.codec]: len(codes), "levels": len(codes), "bits": header.bits}
    if header.codec == "semanticodec" and header.model in KNOWN_MODELS["semanticodec"]:
        fields["token_rate"], fields["vocab_size"] = map(int, header.model.split("-")[1:])
    return fields
