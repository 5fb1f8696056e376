"""Shared codec layer of the toolkit: errors, bit packing, containers, model loading, codec registry.

Importing this module is cheap: torch, snac and encodec are imported inside the functions that need
them, so `--help` and header inspection (`decode_ecdc.py --info`) never pay for them.

Containers
  .ecdc  encodec's own format (encodec/binary.py + compress.py), byte for byte. We add the source
         sample rate as an extra "sr" key in the JSON header, which encodec's reader ignores.
  .snac  our NCDC container (layout in its section below), or a legacy torch.save file.
  .mimi, .semanticodec  the same NCDC container, with their codec ids.
  .dac   the dac package's own numpy.save format, read without unpickling anything but numpy
         arrays and plain values.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import functools
import io
import json
import math
import os
import pickle
import signal
import struct
import sys
import threading
import typing as tp
import warnings
import zlib

import numpy as np

# Exit codes shared with the shell front-ends (README, "Exit codes").
EXIT_USAGE = 2
EXIT_MISSING_DEPENDENCY = 3
EXIT_BAD_INPUT = 4
EXIT_BAD_VALUE = 5
EXIT_CODEC_FAILURE = 6
EXIT_OUTPUT = 7
EXIT_BATCH = 8  # some files of a batch failed; each was reported


class ToolkitError(Exception):
    """An error reported to the user as one line, with a documented exit code."""

    exit_code = 1


class UsageError(ToolkitError):
    exit_code = EXIT_USAGE


class MissingDependency(ToolkitError):
    exit_code = EXIT_MISSING_DEPENDENCY


class BadInput(ToolkitError):
    exit_code = EXIT_BAD_INPUT


class BadValue(ToolkitError):
    exit_code = EXIT_BAD_VALUE


class CodecFailure(ToolkitError):
    exit_code = EXIT_CODEC_FAILURE


class RateMismatch(BadValue):
    """The input's sample rate is not the model's: the caller's setting, or the file's."""


class OutputError(ToolkitError):
    exit_code = EXIT_OUTPUT


class ContainerError(BadInput):
    """A container that cannot be read: the base of the specific failures below."""


class BadMagic(ContainerError):
    pass


class UnsupportedVersion(ContainerError):
    pass


class TruncatedStream(ContainerError):
    pass


class ChecksumMismatch(ContainerError):
    pass


class InvalidField(ContainerError):
    pass


# ---------------------------------------------------------------------------------------------
# Bit packing, least significant bit first: the order of encodec's BitPacker, so .ecdc payloads
# written here are byte-identical to the package's, and one pair serves both containers.

def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Pack non-negative integers below 2**bits into ceil(len * bits / 8) bytes."""
    values = np.asarray(values, dtype=np.uint64).reshape(-1)
    shifts = np.arange(bits, dtype=np.uint64)
    bit_matrix = ((values[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bit_matrix.reshape(-1), bitorder="little").tobytes()


def unpack_bits(data: bytes, bits: int, count: int) -> np.ndarray:
    """Inverse of `pack_bits`: the first `count` values, as int64. Raises TruncatedStream."""
    if len(data) * 8 < count * bits:
        raise TruncatedStream(f"codes end early: {count} codes of {bits} bits need "
                              f"{math.ceil(count * bits / 8)} bytes, found {len(data)}")
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    bit_matrix = flat[: count * bits].reshape(count, bits).astype(np.int64)
    return bit_matrix @ (np.int64(1) << np.arange(bits, dtype=np.int64))


def _read_exactly(fo: tp.BinaryIO, size: int, what: str) -> bytes:
    data = fo.read(size)
    if len(data) != size:
        raise TruncatedStream(f"file ends inside the {what}")
    return data


# ---------------------------------------------------------------------------------------------
# NCDC: the container of .snac and .mimi files.
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

NCDC_MAGIC = b"NCDC"
NCDC_VERSION = 1
CODEC_IDS = {"snac": 1, "mimi": 2, "semanticodec": 3}
CODEC_NAMES = {"snac": "SNAC", "mimi": "Mimi", "semanticodec": "SemantiCodec"}
SEMANTICODEC_TOKEN_RATES = (25, 50, 100)
SEMANTICODEC_VOCAB_SIZES = (4096, 8192, 16384, 32768)
SEMANTICODEC_DEFAULTS = (50, 16384)  # 0.68 kbps
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
MAX_RATE = 1_000_000
MAX_SAMPLES = 1 << 40


@dataclasses.dataclass
class CodesHeader:
    """What a codes container records besides the codes themselves."""

    codec: str
    model: str
    sample_rate: int
    source_rate: int
    length: int
    bits: int


def write_ncdc(fo: tp.BinaryIO, header: CodesHeader, codes: tp.Sequence[np.ndarray]) -> None:
    """Write `codes` (one 1-D integer array per level) in the NCDC layout."""
    if header.codec not in CODEC_IDS:
        raise ValueError(f"unknown codec {header.codec!r}")
    if not 1 <= len(codes) <= MAX_LEVELS:
        raise ValueError(f"{len(codes)} levels, expected 1 to {MAX_LEVELS}")
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
        _read_exactly(view, _NCDC_START.size, "header"))
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
        (name_length,) = _read_exactly(view, 1, "model name")
        try:
            model = _read_exactly(view, name_length, "model name").decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidField("model name is not UTF-8") from None
        if not model or model in KNOWN_MODELS[codec]:
            raise InvalidField("model name field is invalid")
    elif model_id <= len(KNOWN_MODELS[codec]):
        model = KNOWN_MODELS[codec][model_id - 1]
    else:
        raise InvalidField(f"unknown model id {model_id}")
    sample_rate, source_rate, length, bits, levels = _NCDC_RATES.unpack(
        _read_exactly(view, _NCDC_RATES.size, "header"))
    for name, rate in (("model sample rate", sample_rate), ("source sample rate", source_rate)):
        if not 1 <= rate <= MAX_RATE:
            raise InvalidField(f"{name} {rate} Hz is out of range")
    if not 1 <= length <= MAX_SAMPLES:
        raise InvalidField(f"length {length} samples is out of range")
    if not 1 <= bits <= 32:
        raise InvalidField(f"bits per code {bits} is out of range 1..32")
    if not 1 <= levels <= MAX_LEVELS:
        raise InvalidField(f"level count {levels} is out of range 1..{MAX_LEVELS}")
    counts = struct.unpack(f"!{levels}I", _read_exactly(view, 4 * levels, "level table"))
    payload = data[view.tell():-_NCDC_CRC.size]
    expected = math.ceil(sum(counts) * bits / 8)
    if len(payload) != expected:
        raise InvalidField(f"payload is {len(payload)} bytes, the level table says {expected}")
    flat = unpack_bits(payload, bits, sum(counts))
    codes = np.split(flat, np.cumsum(counts)[:-1])
    header = CodesHeader(codec, model, sample_rate, source_rate, length, bits)
    return header, list(codes)


# ---------------------------------------------------------------------------------------------
# ECDC: encodec's container. magic b"ECDC", version 0, uint32 JSON length, JSON metadata
# {"m": model, "al": samples, "nc": codebooks, "lm": bool} (+ our "sr"), then the codes frame by
# frame, codebook within frame, 10 bits each LSB first, or arithmetic-coded with the LM.

ECDC_MAGIC = b"ECDC"
_ECDC_HEADER = struct.Struct("!4sBI")
ECDC_MODEL = "encodec_24khz"
ECDC_CODEBOOKS = {1.5: 2, 3.0: 4, 6.0: 8, 12.0: 16, 24.0: 32}
ECDC_FRAME = 320  # samples per code frame at 24 kHz (75 Hz)
ECDC_BITS = 10


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
        meta["sr"] = header.source_rate
    # Same spelling as encodec's json.dumps(metadata), so files compare byte for byte.
    meta_bytes = json.dumps(meta).encode("utf-8")
    fo.write(_ECDC_HEADER.pack(ECDC_MAGIC, 0, len(meta_bytes)) + meta_bytes)


def read_ecdc_header(fo: tp.BinaryIO) -> EcdcHeader:
    magic, version, size = _ECDC_HEADER.unpack(_read_exactly(fo, _ECDC_HEADER.size, "header"))
    if magic != ECDC_MAGIC:
        raise BadMagic("not an EnCodec (.ecdc) file: bad magic")
    if version != 0:
        raise UnsupportedVersion(f".ecdc version {version} is not supported")
    if size > 4096:
        raise InvalidField(f"JSON header of {size} bytes is implausibly large")
    try:
        meta = json.loads(_read_exactly(fo, size, "JSON header").decode("utf-8"))
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
    if source_rate is not None and (type(source_rate) is not int
                                    or not 1 <= source_rate <= MAX_RATE):
        raise InvalidField(f"source sample rate {source_rate!r} is invalid")
    return EcdcHeader(length, codebooks, use_lm, source_rate, model)


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


# ---------------------------------------------------------------------------------------------
# Sniffing: which container a file holds, from its first bytes.

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format
PICKLE_PROTO = 0x80  # torch.save's legacy format and raw pickles


def sniff_container(head: bytes) -> str | None:
    """'ecdc', 'snac', 'mimi' or 'semanticodec' (NCDC), 'dac' (numpy.save), 'snac-legacy'
    (torch.save), or None, from a file's first bytes (at least 6 of them for NCDC's codec byte)."""
    if head.startswith(ECDC_MAGIC):
        return "ecdc"
    if head.startswith(NCDC_MAGIC):
        # An unknown codec byte reads as SNAC, whose reader then names the bad field.
        codec = {v: k for k, v in CODEC_IDS.items()}.get(head[5] if len(head) > 5 else 0)
        return codec or "snac"
    if head.startswith(DAC_MAGIC):
        return "dac"
    if head.startswith(ZIP_MAGIC) or head[:1] == bytes([PICKLE_PROTO]):
        return "snac-legacy"
    return None


# ---------------------------------------------------------------------------------------------
# Legacy .snac: a torch.save'd list of code tensors, or a dict holding them plus metadata.

_LEGACY_KEYS = {
    "codes": ("codes", "snac_codes"),
    "model": ("model", "model_name", "snac_model"),
    "sample_rate": ("sample_rate", "sampling_rate", "model_sample_rate"),
    "source_rate": ("source_rate", "original_sample_rate", "orig_sr", "input_sample_rate"),
    "length": ("length", "original_length", "num_samples", "audio_length"),
}


LEGACY_MAX_LEVELS = 16


def _legacy_field(obj: dict, field: str) -> tp.Any:
    found = [obj[k] for k in _LEGACY_KEYS[field] if k in obj]
    return found[0] if found else None


def _legacy_int(value: tp.Any, name: str, upper: int) -> int | None:
    import torch

    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = int(value.item())
    if type(value) is not int or not 1 <= value <= upper:
        raise InvalidField(f"legacy field {name} is invalid")
    return value


def _safe_loader_reason(exc: Exception) -> str:
    """The useful line of a weights_only failure: the forbidden global, when it names one."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line for line in lines if "Unsupported global" in line or "GLOBAL" in line]
    reason = (named or lines or [type(exc).__name__])[0]
    return reason[:160]


def read_legacy_snac(path: str) -> tuple[dict, list[np.ndarray]]:
    """Read a torch.save'd .snac safely: weights_only refuses any code object, then every field
    is checked. Returns (metadata with keys model/sample_rate/source_rate/length, possibly None,
    codes as 1-D int64 arrays)."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on odd pickle protocols
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever the safe loader trips on, the file is bad
        raise ContainerError(f"not a valid legacy .snac file (refused by the safe loader: "
                             f"{_safe_loader_reason(exc)})") from None
    meta: dict[str, tp.Any] = dict.fromkeys(("model", "sample_rate", "source_rate", "length"))
    if isinstance(obj, dict):
        unknown = [k for k in obj if not any(k in keys for keys in _LEGACY_KEYS.values())]
        if unknown or _legacy_field(obj, "codes") is None:
            raise InvalidField("legacy .snac dict must hold 'codes' and only known fields")
        model = _legacy_field(obj, "model")
        if model is not None and (not isinstance(model, str) or not 0 < len(model) <= 255):
            raise InvalidField("legacy field model is invalid")
        meta["model"] = model
        meta["sample_rate"] = _legacy_int(_legacy_field(obj, "sample_rate"), "sample_rate",
                                          MAX_RATE)
        meta["source_rate"] = _legacy_int(_legacy_field(obj, "source_rate"), "source_rate",
                                          MAX_RATE)
        meta["length"] = _legacy_int(_legacy_field(obj, "length"), "length", MAX_SAMPLES)
        obj = _legacy_field(obj, "codes")
    if not isinstance(obj, (list, tuple)) or not 1 <= len(obj) <= LEGACY_MAX_LEVELS:
        raise InvalidField(f"legacy .snac codes must be a list of 1 to {LEGACY_MAX_LEVELS} "
                           f"tensors")
    codes = []
    for level in obj:
        if (not isinstance(level, torch.Tensor) or level.is_floating_point()
                or level.is_complex() or level.dtype == torch.bool or level.numel() == 0
                or level.dim() > 3 or any(n != 1 for n in level.shape[:-1])):
            raise InvalidField("legacy .snac codes must be non-empty integer tensors [1, T]")
        codes.append(level.reshape(-1).to(torch.int64).numpy())
    return meta, codes


# ---------------------------------------------------------------------------------------------
# .dac: the dac package's own format, numpy.save of one dict:
#   {"codes": uint16 [channels, codebooks, frames],
#    "metadata": {"input_db": float32 [1], "original_length": int, "sample_rate": int,
#                 "chunk_length": int, "channels": int, "padding": bool, "dac_version": "1.0.0"}}
# sample_rate and original_length are the original audio's; codes come in chunks of chunk_length
# frames, each decoded on its own (with the convolutions' padding off when `padding` is False).
# numpy stores the dict as a pickle, and the package loads it with allow_pickle=True, which runs
# whatever a crafted file asks for. We write the same bytes, and read them with an unpickler
# that can build nothing but numpy arrays, dtypes and plain values.

DAC_MAGIC = b"\x93NUMPY"
DAC_VERSION = "1.0.0"
_DAC_META_KEYS = ("input_db", "original_length", "sample_rate", "chunk_length", "channels",
                  "padding", "dac_version")
DAC_MAX_CHANNELS = 64
DAC_MAX_CODEBOOKS = 64


@dataclasses.dataclass
class DacFile:
    """A .dac file's content."""

    codes: np.ndarray  # integer [channels, codebooks, frames]
    chunk_length: int  # frames per chunk
    original_length: int  # samples at sample_rate
    input_db: float  # loudness of the input (LUFS); decoding restores it
    sample_rate: int  # the original audio's rate
    padding: bool  # False: chunks were encoded with the convolutions' padding off

    @property
    def channels(self) -> int:
        return int(self.codes.shape[0])


def write_dac(fo: tp.BinaryIO, dac: DacFile) -> None:
    """Write `dac` as DACFile.save does, byte for byte."""
    artifacts = {
        "codes": np.ascontiguousarray(dac.codes, dtype=np.uint16),
        "metadata": {
            "input_db": np.array([dac.input_db], dtype=np.float32),
            "original_length": int(dac.original_length),
            "sample_rate": int(dac.sample_rate),
            "chunk_length": int(dac.chunk_length),
            "channels": dac.channels,
            "padding": bool(dac.padding),
            "dac_version": DAC_VERSION,
        },
    }
    np.save(fo, artifacts, allow_pickle=True)


def _numpy_internals() -> dict:
    core = getattr(np, "_core", None) or np.core
    return {"_reconstruct": core.multiarray._reconstruct, "scalar": core.multiarray.scalar,
            "ndarray": np.ndarray, "dtype": np.dtype}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Builds numpy arrays, dtypes, numpy scalars and plain values; any other class or
    function a pickle names is refused before it exists."""

    _ALLOWED = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> tp.Any:
        if (module, name) not in self._ALLOWED:
            shown = f"{module}.{name}".encode("ascii", "replace").decode()[:80]
            raise InvalidField(f"refused: the file asks to run {shown}, which a .dac file never "
                               f"needs")
        return _empty_array if name == "_reconstruct" else _numpy_internals()[name]


def _empty_array(cls, shape, dtype):
    # numpy's pickles create an empty array and fill it from their state; anything else
    # (another class, a huge shape) is not a numpy pickle.
    if cls is not np.ndarray or tuple(shape) != (0,):
        raise InvalidField("the file's pickle builds an array in a way numpy never writes")
    return _numpy_internals()["_reconstruct"](np.ndarray, (0,), dtype)


def _dac_int(meta: dict, key: str, low: int, high: int) -> int:
    value = meta[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidField(f"{key} is {type(value).__name__}, expected an integer")
    if not low <= int(value) <= high:
        raise InvalidField(f"{key} {int(value)} is out of range {low}..{high}")
    return int(value)


def read_dac(fo: tp.BinaryIO) -> DacFile:
    """Read a .dac file; every field is checked before any model is involved."""
    data = fo.read()
    if not data.startswith(DAC_MAGIC):
        raise BadMagic("not a .dac file: bad magic")
    view = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(view)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(view)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(view)
        else:
            raise UnsupportedVersion(f"numpy file version {version} is not one DAC writes")
    except ContainerError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy's header parser raises all kinds
        raise InvalidField(f"bad numpy header ({type(exc).__name__})") from None
    if dtype != np.dtype(object) or shape != ():
        raise InvalidField(f"holds a {dtype} array of shape {shape}, not the dict of a .dac file")
    try:
        holder = _NumpyOnlyUnpickler(view).load()
    except ContainerError:
        raise
    except EOFError:
        raise TruncatedStream("file ends inside the codes") from None
    except Exception as exc:  # noqa: BLE001 - any failure of a crafted pickle is bad input
        raise InvalidField(f"unreadable content ({type(exc).__name__})") from None
    if not isinstance(holder, np.ndarray) or holder.dtype != object or holder.shape != ():
        raise InvalidField("does not hold the dict of a .dac file")
    artifacts = holder[()]
    if not isinstance(artifacts, dict) or set(artifacts) != {"codes", "metadata"}:
        raise InvalidField("expected the keys codes and metadata")
    meta = artifacts["metadata"]
    if not isinstance(meta, dict) or set(meta) != set(_DAC_META_KEYS):
        found = sorted(map(str, meta)) if isinstance(meta, dict) else type(meta).__name__
        raise InvalidField(f"metadata keys {found}, expected {sorted(_DAC_META_KEYS)}")
    if not isinstance(meta["dac_version"], str) or meta["dac_version"] != DAC_VERSION:
        raise UnsupportedVersion(f"dac_version {str(meta['dac_version'])[:20]!r} is not "
                                 f"{DAC_VERSION}")
    codes = artifacts["codes"]
    if (not isinstance(codes, np.ndarray) or codes.dtype.kind not in "ui" or codes.ndim != 3
            or not 1 <= codes.shape[0] <= DAC_MAX_CHANNELS
            or not 1 <= codes.shape[1] <= DAC_MAX_CODEBOOKS or codes.shape[2] < 1):
        raise InvalidField("codes must be integers [channels, codebooks, frames], with 1 to "
                           f"{DAC_MAX_CHANNELS} channels, 1 to {DAC_MAX_CODEBOOKS} codebooks and "
                           f"at least one frame")
    if codes.dtype.kind == "i" and codes.min() < 0:
        raise InvalidField("a code is negative")
    if _dac_int(meta, "channels", 1, DAC_MAX_CHANNELS) != codes.shape[0]:
        raise InvalidField(f"channels {meta['channels']} but codes for {codes.shape[0]}")
    input_db = meta["input_db"]
    input_db = np.asarray(input_db).reshape(-1) if not isinstance(input_db, bool) else None
    if (input_db is None or input_db.size != 1 or input_db.dtype.kind not in "fiu"
            or not -200 <= float(input_db[0]) <= 200):
        raise InvalidField("input_db must be one loudness value from -200 to 200")
    if not isinstance(meta["padding"], (bool, np.bool_)):
        raise InvalidField("padding must be true or false")
    return DacFile(codes=codes, chunk_length=_dac_int(meta, "chunk_length", 1, codes.shape[2]),
                   original_length=_dac_int(meta, "original_length", 1, MAX_SAMPLES),
                   input_db=float(input_db[0]),
                   sample_rate=_dac_int(meta, "sample_rate", 1, MAX_RATE),
                   padding=bool(meta["padding"]))


# ---------------------------------------------------------------------------------------------
# Audio files (the shell front-ends hand us mono WAV at the model's rate).

def read_audio(path: str, expected_rate: int) -> np.ndarray:
    """Mono float32 samples [T] of a WAV/FLAC file that must already be at `expected_rate`."""
    import soundfile

    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadInput(f"{path}: cannot read audio ({exc})") from None
    if rate != expected_rate:
        raise BadInput(f"{path}: sample rate is {rate} Hz, the model needs {expected_rate} Hz "
                       f"(convert it first, as compress_audio.sh does)")
    if samples.shape[0] == 0:
        raise BadInput(f"{path}: contains no audio samples")
    return samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]


class RawAudio:
    """Mono float32 samples of a headerless little-endian file, read span by span as a chunked
    run slices them: an hour of input costs no memory. (A memory map would keep every page it
    touched resident, 635 MB for an hour at 44.1 kHz.)"""

    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115 - lives as long as the object
        self._length = os.fstat(self._file.fileno()).st_size // 4

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RawAudio takes contiguous slices only")
        start, stop, _ = index.indices(self._length)
        count = max(0, stop - start)
        data = os.pread(self._file.fileno(), 4 * count, 4 * start)
        if len(data) != 4 * count:
            raise BadInput(f"{self.path}: shrank while being read")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def __del__(self) -> None:
        if hasattr(self, "_file"):
            self._file.close()


def read_raw_audio(path: str) -> RawAudio:
    """Mono float32 samples [T] of a headerless float32 little-endian file."""
    try:
        if os.path.getsize(path) < 4:
            raise BadInput(f"{path}: contains no audio samples")
        return RawAudio(path)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None


# A canonical 44-byte header of a mono 32-bit float WAV: written here rather than by libsndfile,
# whose PEAK chunk holds the time of writing and would make equal decodes differ in bytes.
_WAV_FLOAT_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def write_audio(path: str, chunks: tp.Iterable[np.ndarray], rate: int, length: int) -> None:
    """Write `length` mono float32 samples, arriving in chunks, as a 32-bit float WAV."""
    data_bytes = 4 * length
    if data_bytes + 36 > 0xFFFFFFFF:
        raise OutputError(f"{path}: {length} samples do not fit a WAV file (4 GiB at most)")
    with atomic_output(path) as out:
        out.write(_WAV_FLOAT_HEADER.pack(b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 3, 1,
                                         rate, 4 * rate, 4, 32, b"data", data_bytes))
        written = 0
        for chunk in chunks:
            out.write(np.asarray(chunk, dtype="<f4").tobytes())
            written += len(chunk)
        if written != length:
            raise CodecFailure(f"decoder produced {written} samples, expected {length}")


@contextlib.contextmanager
def atomic_output(path: str) -> tp.Iterator[tp.BinaryIO]:
    """A file to write `path` through: a temporary name beside it, renamed into place when the
    block completes and removed when it fails, so `path` is never seen half-written."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fo:
            yield fo
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------------------------------------
# Models: loaded through the packages' own loaders, so caches and offline mode behave as usual.

def configure_torch(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def load_snac(model_id: str, device: str = "cpu"):
    """The SNAC model `model_id`, loaded once per process, weight norm folded, on `device`."""
    return _load_snac_once(model_id).to(device)


@functools.lru_cache(maxsize=4)
def _load_snac_once(model_id: str):
    """SNAC.from_pretrained on a hub id or a local directory, with one-line errors."""
    try:
        from huggingface_hub.errors import LocalEntryNotFoundError
        from huggingface_hub.utils import logging as hub_logging
        from snac import SNAC
    except ImportError as exc:
        raise MissingDependency(f"Python package missing: {exc.name} (run: make setup)") from None
    hub_logging.set_verbosity_error()  # the hub's retry chatter is not for our users
    if os.path.isdir(model_id):
        for name in ("config.json", "pytorch_model.bin"):
            if not os.path.isfile(os.path.join(model_id, name)):
                raise MissingDependency(f"SNAC model directory {model_id} has no {name}")
    model = _from_hub(SNAC.from_pretrained, model_id, LocalEntryNotFoundError, "SNAC",
                      "SNAC_MODEL", "config.json and pytorch_model.bin")
    fold_weight_norm(model)
    model.toolkit_weights = _snac_weights_path(model_id)  # the ONNX cache key (SnacGraphs)
    return model


def _from_hub(from_pretrained, model_id: str, not_cached: type[Exception], name: str,
              knob: str, files: str):
    """`from_pretrained(model_id)` from the hub cache first, so a cached model costs no network
    round trip, then as the package would (downloading it); failures as one-line errors that
    name the model and the knob that picks another."""
    try:
        try:
            return from_pretrained(model_id, local_files_only=True)
        except not_cached:
            if os.path.isdir(model_id):
                raise
            return from_pretrained(model_id)
    except (OSError, ValueError) as exc:
        if os.path.isdir(model_id):
            raise CodecFailure(f"cannot load {name} model from {model_id}: "
                               f"{_first_line(exc)}") from None
        raise MissingDependency(
            f"{name} model {model_id} is not in the Hugging Face cache and cannot be downloaded "
            f"({type(exc).__name__}); run once with network access to cache it, or set "
            f"{knob} to a local directory with {files}") from None
    except (TypeError, RuntimeError, KeyError, AttributeError) as exc:
        raise CodecFailure(f"cannot load {name} model {model_id}: {_first_line(exc)}") from None


def _snac_weights_path(model_id: str) -> str:
    if os.path.isdir(model_id):
        return os.path.join(model_id, "pytorch_model.bin")
    from huggingface_hub import hf_hub_download

    return hf_hub_download(model_id, "pytorch_model.bin", local_files_only=True)


def load_mimi(model_id: str, device: str = "cpu"):
    """Kyutai's Mimi `model_id` through transformers, loaded once per process, on `device`."""
    return _load_mimi_once(model_id).to(device)


@functools.lru_cache(maxsize=2)
def _load_mimi_once(model_id: str):
    """MimiModel.from_pretrained on a hub id or a local directory, cache first, as for SNAC."""
    try:
        from huggingface_hub.utils import logging as hub_logging
        from transformers import MimiModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise MissingDependency(f"Python package missing: {exc.name} (run: make setup)") from None
    hub_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()  # "Loading weights" bars are not for our users
    if os.path.isdir(model_id) and not os.path.isfile(os.path.join(model_id, "config.json")):
        raise MissingDependency(f"Mimi model directory {model_id} has no config.json")
    # transformers reports a model missing from the cache as a plain OSError.
    model = _from_hub(MimiModel.from_pretrained, model_id, OSError, "Mimi", "MIMI_MODEL",
                      "config.json and the weights")
    config = model.config
    if (model.encoder is None or model.decoder is None or not config.use_causal_conv
            or not 1 <= config.num_quantizers <= MAX_LEVELS
            or not 2 <= config.codebook_size <= 1 << 32
            or config.sampling_rate % config.frame_rate):
        raise CodecFailure(f"Mimi model {model_id} has a configuration this toolkit cannot run "
                           f"(it needs a causal encoder and decoder, 1 to {MAX_LEVELS} "
                           f"codebooks and a whole number of samples per frame)")
    fold_weight_norm(model)
    return model.eval()


DAC_MODELS = {"44khz": 44100, "24khz": 24000, "16khz": 16000}  # DAC_MODEL: its sample rate
DAC_TAGS = {("44khz", "8kbps"): "0.0.1", ("24khz", "8kbps"): "0.0.4",
            ("16khz", "8kbps"): "0.0.5", ("44khz", "16kbps"): "1.0.0"}  # dac.utils' "latest"


def dac_weights_path(model_type: str, bitrate: str) -> str:
    """Where dac.utils.download keeps a model's weights."""
    tag = DAC_TAGS[(model_type, bitrate)]
    return os.path.join(os.path.expanduser("~"), ".cache", "descript", "dac",
                        f"weights_{model_type}_{bitrate}_{tag}.pth")


def load_dac(model_type: str, bitrate: str, device: str = "cpu"):
    """Descript's DAC `model_type` at `bitrate` through dac.utils.load_model, once per process."""
    return _load_dac_once(model_type, bitrate).to(device)


@functools.lru_cache(maxsize=2)
def _load_dac_once(model_type: str, bitrate: str):
    if (model_type, bitrate) not in DAC_TAGS:
        raise BadValue(f"DAC model {model_type} has no {bitrate} version (16kbps exists for "
                       f"44khz only)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import dac.utils
    except ImportError as exc:
        raise MissingDependency(f"Python package missing: {exc.name}; .dac needs the optional "
                                f"DAC install (run: make dac)") from None
    path = dac_weights_path(model_type, bitrate)
    cached = os.path.exists(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = dac.utils.load_model(model_type=model_type, model_bitrate=bitrate)
    except Exception as exc:  # noqa: BLE001 - the package raises anything from requests to pickle
        if not cached:
            raise MissingDependency(
                f"DAC weights {path} are not cached and cannot be downloaded "
                f"({_first_line(exc)}); run 'python -m dac download --model_type {model_type} "
                f"--model_bitrate {bitrate}' with network access, or copy the file there") from None
        raise CodecFailure(f"cannot load DAC weights {path}: {_first_line(exc)}") from None
    if (int(model.sample_rate) != DAC_MODELS[model_type]
            or not 1 <= model.n_codebooks <= DAC_MAX_CODEBOOKS
            or not 2 <= model.codebook_size <= 1 << 16):
        raise CodecFailure(f"DAC weights {path} are not a {model_type} model this toolkit can "
                           f"run (rate {model.sample_rate}, {model.n_codebooks} codebooks of "
                           f"{model.codebook_size})")
    return model.eval()


SEMANTICODEC_RATE = 16_000
SEMANTICODEC_ACOUSTIC_VOCAB = 8192  # the acoustic codebook of every published setting
SEMANTICODEC_INSTALL = "pip install git+https://github.com/haoheliu/SemantiCodec-inference.git"


def load_semanticodec(token_rate: int, vocab_size: int, device: str = "cpu"):
    """SemantiCodec at one of its published settings, through its own constructor (which
    fetches the weights from the Hugging Face hub into the hub's cache), once per process."""
    return _load_semanticodec_once(token_rate, vocab_size, device)


@functools.lru_cache(maxsize=2)
def _load_semanticodec_once(token_rate: int, vocab_size: int, device: str):
    if token_rate not in SEMANTICODEC_TOKEN_RATES or vocab_size not in SEMANTICODEC_VOCAB_SIZES:
        raise BadValue(f"SemantiCodec has no setting with {token_rate} tokens/s and a "
                       f"vocabulary of {vocab_size}")
    try:
        from semanticodec import SemantiCodec
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] != "semanticodec":
            raise MissingDependency(f"Python package missing: {exc.name} (needed by "
                                    f"semanticodec)") from None
        raise MissingDependency(f"Python package missing: semanticodec; it is installed from "
                                f"its source repository: {SEMANTICODEC_INSTALL}") from None
    import torch
    from huggingface_hub import constants

    try:
        # Its constructor prints progress on stdout, which carries our batch replies.
        with contextlib.redirect_stdout(io.StringIO()):
            codec = SemantiCodec(token_rate=token_rate, semantic_vocab_size=vocab_size,
                                 cache_path=constants.HF_HUB_CACHE)
    except Exception as exc:  # noqa: BLE001 - a research package: anything can come out
        raise CodecFailure(f"cannot load SemantiCodec ({token_rate} tokens/s, vocabulary "
                           f"{vocab_size}): {_first_line(exc)}") from None
    # It picks CUDA by itself when there is one; TORCH_DEVICE decides here.
    codec.device = torch.device(device)
    for part in ("encoder", "decoder"):
        if isinstance(getattr(codec, part, None), torch.nn.Module):
            setattr(codec, part, getattr(codec, part).to(device))
    return codec


def semanticodec_tokens(length: int, token_rate: int) -> int:
    """Token pairs SemantiCodec's encoder returns for `length` samples: it pads the audio to a
    whole 0.16 s patch, 8 pairs per patch at 100 tokens/s."""
    seconds = length / SEMANTICODEC_RATE
    seconds += 0.16 - seconds % 0.16
    return math.ceil(8 * seconds / 0.16 / (100 / token_rate))


ENCODEC_CHECKPOINTS = {"model": "encodec_24khz-d7cc33bc.th", "lm": "encodec_lm_24khz-1608e3c0.th"}
ENCODEC_URL = "https://dl.fbaipublicfiles.com/encodec/v0/"


def _ensure_encodec_checkpoint(name: str) -> None:
    """Put an EnCodec checkpoint in the torch hub cache, where encodec's loader looks first.

    Downloading here rather than inside encodec lets us say what happens on one line and turn a
    failed download into an error that names the file."""
    import torch

    where = os.path.join(torch.hub.get_dir(), "checkpoints", name)
    if os.path.exists(where):
        return
    if sys.stderr.isatty():
        print(f"{program_name(os.path.basename(sys.argv[0]))}: downloading {name} to {where}",
              file=sys.stderr)
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        torch.hub.download_url_to_file(ENCODEC_URL + name, where,
                                       hash_prefix=name.rsplit("-", 1)[1].split(".")[0],
                                       progress=sys.stderr.isatty())
    except (OSError, RuntimeError) as exc:
        raise MissingDependency(f"EnCodec weights {name} are not in the torch hub cache "
                                f"({where}) and cannot be downloaded ({_first_line(exc)}); "
                                f"run once with network access to cache them") from None


def load_encodec(bitrate: float | None = None, device: str = "cpu"):
    """encodec's pretrained 24 kHz model through its own loader (torch hub cache), loaded once
    per process, weight norm folded, on `device`."""
    model = _load_encodec_once().to(device)
    if bitrate is not None:
        model.set_target_bandwidth(bitrate)
    return model


@functools.lru_cache(maxsize=1)
def _load_encodec_once():
    try:
        with warnings.catch_warnings():
            # encodec calls torch's deprecated weight_norm; the warning says nothing to users.
            warnings.simplefilter("ignore", FutureWarning)
            from encodec import EncodecModel
    except ImportError as exc:
        raise MissingDependency(f"Python package missing: {exc.name} (run: make setup)") from None
    _ensure_encodec_checkpoint(ENCODEC_CHECKPOINTS["model"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            model = EncodecModel.encodec_model_24khz()
    except (OSError, RuntimeError, KeyError) as exc:
        raise CodecFailure(f"cannot load EnCodec weights {ENCODEC_CHECKPOINTS['model']}: "
                           f"{_first_line(exc)}") from None
    fold_weight_norm(model)
    return model


@functools.lru_cache(maxsize=1)
def load_encodec_lm(model):
    """encodec's entropy-coding language model, through its own loader."""
    _ensure_encodec_checkpoint(ENCODEC_CHECKPOINTS["lm"])
    try:
        return model.get_lm_model()
    except (OSError, RuntimeError, KeyError) as exc:
        raise CodecFailure(f"cannot load EnCodec LM weights {ENCODEC_CHECKPOINTS['lm']}: "
                           f"{_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Running the models in chunks: memory stays bounded however long the input, and the results
# match whole-file calls (SNAC's codes exactly; EnCodec's LSTMs see a left context instead of
# the whole past, see EncodecRunner).

# Audio per model call, by default: 10 s at 24 kHz. A count of samples rather than seconds,
# because activations grow with samples: at 44.1 kHz, 10 s chunks took a SNAC run past 2 GB.
CHUNK_SAMPLES = 240_000


def chunk_samples(chunk_seconds: float | None, rate: int) -> int:
    """Samples per model call at `rate`: `chunk_seconds` of them, or CHUNK_SAMPLES."""
    return round(chunk_seconds * rate) if chunk_seconds else CHUNK_SAMPLES


@functools.lru_cache(maxsize=None)
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_memory() -> None:
    """Give the C heap's free pages back after a chunk. Without it, glibc's heap fragments over
    thousands of chunk-sized allocations: a 1-hour SNAC encode grew by 0.7 GB."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def fold_weight_norm(model) -> None:
    """Replace weight-norm parametrisations by the weights they compute, once after loading,
    instead of recomputing them on every forward call. The outputs do not change."""
    import torch
    from torch.nn.utils import parametrize

    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):  # snac's parametrizations
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        elif hasattr(module, "weight_g"):  # encodec's older weight_norm hook
            torch.nn.utils.remove_weight_norm(module)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def counter_normal(key: int, start: int, count: int) -> np.ndarray:
    """Standard normal float32 values that are a pure function of (key, position), for positions
    start .. start+count-1: Box-Muller over two splitmix64 hashes of each position. Any segment
    of the stream comes out exactly, without generating what precedes it."""
    base = (np.arange(start, start + count, dtype=np.uint64) * np.uint64(2)
            + (np.uint64(key) << np.uint64(48)))
    u1 = ((_splitmix64(base) >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0 ** -53
    u2 = (_splitmix64(base + np.uint64(1)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


class SnacRunner:
    """SNAC encode and decode in chunks aligned to the model's largest stride and attention window,
    each run with enough context on both sides to cover the receptive field and then cropped.

    Codes equal those of `model.encode` on the whole file, and decoded audio that of a whole-file
    decode to float rounding (about 1e-6 relative: convolutions over other lengths sum in
    another order). Decoding needs one more thing: every
    decoder block adds noise, which `snac` draws from torch's global generator. Here the noise is
    `counter_normal(block, absolute position)`, so a decode is repeatable and a chunked decode
    equals a whole one; it is the same distribution (standard normal), so nothing else changes.
    """

    ENCODER_CONTEXT = 8192  # samples; the encoder's receptive field is about 5,000 each side
    DECODER_CONTEXT = 32  # latent frames; the decoder's is about 16 each side

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu",
                 graphs: SnacGraphs | None = None):
        self.model = model
        self.device = device
        self.graphs = graphs  # ONNX Runtime in place of torch for the two networks, if given
        self.hop = int(model.hop_length)
        self.strides = list(model.vq_strides)
        self.unit = math.lcm(self.strides[0], model.attn_window_size or 1)  # latent frames
        samples = chunk_samples(chunk_seconds, int(model.sampling_rate))
        units = max(1, round(samples / self.hop / self.unit))
        self.chunk = units * self.unit
        # Local attention mixes whole windows, so an edge effect anywhere in a window reaches all
        # of it: the margins cover one window more than the convolutions' reach.
        window = model.attn_window_size or 0
        encoder_frames = math.ceil(self.ENCODER_CONTEXT / self.hop) + window
        self.encoder_margin = math.ceil(encoder_frames / self.unit) * self.unit
        self.decoder_margin = math.ceil((self.DECODER_CONTEXT + window) / self.unit) * self.unit
        self._noise_origin = 0  # latent frame at which the running decoder chunk starts
        self._install_positional_noise()

    def frames_for(self, samples: int) -> int:
        """Latent frames of an input of `samples` once padded as `SNAC.preprocess` pads it."""
        return math.ceil(samples / (self.hop * self.unit)) * self.unit

    def _spans(self, frames: int, margin: int) -> tp.Iterator[tuple[int, int, int, int]]:
        for start in range(0, frames, self.chunk):
            stop = min(frames, start + self.chunk)
            yield start, stop, max(0, start - margin), min(frames, stop + margin)

    def encode(self, samples: np.ndarray, progress=None) -> list[np.ndarray]:
        """Samples [T] -> codes, one int64 array per level."""
        import torch

        frames = self.frames_for(len(samples))
        levels: list[list[np.ndarray]] = [[] for _ in self.strides]
        for start, stop, lo, hi in self._spans(frames, self.encoder_margin):
            segment = np.zeros((hi - lo) * self.hop, dtype=np.float32)
            piece = samples[lo * self.hop: hi * self.hop]
            segment[: len(piece)] = piece
            with torch.inference_mode():
                if self.graphs:
                    z = torch.from_numpy(self.graphs.encode(segment))
                else:
                    z = self.model.encoder(torch.from_numpy(segment)[None, None].to(self.device))
                _, codes = self.model.quantizer(z[..., start - lo: stop - lo])
            for level, code in zip(levels, codes):
                level.append(code[0].cpu().numpy())
            release_memory()
            if progress:
                progress((stop - start) * self.hop)
        return [np.concatenate(level) for level in levels]

    def decode(self, codes: tp.Sequence[np.ndarray], progress=None) -> tp.Iterator[np.ndarray]:
        """Codes (one array per level) -> samples, chunk by chunk, padding included."""
        import torch

        frames = len(codes[0]) * self.strides[0]
        for start, stop, lo, hi in self._spans(frames, self.decoder_margin):
            window = [torch.from_numpy(np.ascontiguousarray(c[lo // s: hi // s]))[None]
                      .to(self.device) for c, s in zip(codes, self.strides)]
            with torch.inference_mode():
                z = self.model.quantizer.from_codes(window)
                if self.graphs:
                    noise = [counter_normal(key, lo * scale, (hi - lo) * scale)
                             for key, scale in self.noise_blocks]
                    wav = self.graphs.decode(z.numpy(), noise)
                else:
                    self._noise_origin = lo
                    wav = self.model.decoder(z)[0, 0].cpu().numpy()
            release_memory()
            if progress:
                progress((stop - start) * self.hop)
            yield wav[(start - lo) * self.hop: (stop - lo) * self.hop]

    def _install_positional_noise(self) -> None:
        from snac.layers import DecoderBlock, NoiseBlock

        scale = 1
        self.noise_blocks: list[tuple[int, int]] = []  # (key, samples per latent frame)
        blocks = [m for m in self.model.decoder.modules() if isinstance(m, DecoderBlock)]
        for key, (block, rate) in enumerate(zip(blocks, self.model.decoder_rates)):
            scale *= rate  # samples per latent frame at this block's output
            for noise in (m for m in block.modules() if isinstance(m, NoiseBlock)):
                noise.forward = functools.partial(self._noisy, noise, key, scale)
                self.noise_blocks.append((key, scale))

    def _noisy(self, block, key: int, scale: int, x):
        import torch

        values = counter_normal(key, self._noise_origin * scale, x.shape[-1])
        noise = torch.from_numpy(values).to(device=x.device, dtype=x.dtype)[None, None]
        return x + noise * block.linear(x)


class SnacGraphs:
    """SNAC's encoder and decoder networks run by ONNX Runtime, which runs them about twice as
    fast as torch on the CPU (most of torch's time goes to the Snake activations, which it runs
    as separate passes over memory). Each network is exported once per model and cached; the
    decoder's noise becomes inputs, fed from `counter_normal` like the torch path.
    Results differ from torch's by float rounding (about 1e-6 relative)."""

    VERSION = 1  # of the export recipe below: part of the cache key

    def __init__(self, model, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No arena: memory goes back after each chunk. With it, a 1-hour snac_32khz encode grew
        # to 3.4 GB (1.9 GB after one minute); shrinking it after each run still grew.
        options.enable_cpu_mem_arena = False
        self.sessions = {}
        for part in ("encoder", "decoder"):
            path = self._cached_export(model, part)
            self.sessions[part] = onnxruntime.InferenceSession(
                path, options, providers=["CPUExecutionProvider"])

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Samples [T] -> latent [1, C, T / hop]."""
        return self.sessions["encoder"].run(None, {"x": samples[None, None]})[0]

    def decode(self, latent: np.ndarray, noise: list[np.ndarray]) -> np.ndarray:
        """Latent [1, C, F] and one noise array per noise block -> samples [F x hop]."""
        feeds = {"z": latent, **{f"n{i}": n[None, None] for i, n in enumerate(noise)}}
        return self.sessions["decoder"].run(None, feeds)[0][0, 0]

    @classmethod
    def _cached_export(cls, model, part: str) -> str:
        import hashlib

        import onnxruntime
        import torch

        weights = model.toolkit_weights
        stat = os.stat(weights)
        key = hashlib.sha256(
            f"{cls.VERSION}|{os.path.realpath(weights)}|{stat.st_size}|{stat.st_mtime_ns}|"
            f"{torch.__version__}|{onnxruntime.__version__}".encode()).hexdigest()[:24]
        path = os.path.join(cache_dir(), "onnx", f"snac-{key}-{part}.onnx")
        if os.path.exists(path):
            return path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # One export at a time: concurrent runs on a cold cache wait for the first one.
        with open(os.path.join(os.path.dirname(path), ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(path):
                if sys.stderr.isatty():
                    print(f"{program_name(os.path.basename(sys.argv[0]))}: preparing the ONNX "
                          f"{part} of this SNAC model (once)", file=sys.stderr)
                tmp = f"{path}.{os.getpid()}.tmp"
                try:
                    _export_snac_part(model, part, tmp)
                    os.replace(tmp, path)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
        return path


def cache_dir() -> str:
    """Where derived files (ONNX exports) are kept: $XDG_CACHE_HOME/neural-codec-toolkit."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neural-codec-toolkit")


def _export_snac_part(model, part: str, path: str) -> None:
    """torch.onnx.export of SNAC's encoder or decoder with a dynamic time axis."""
    import contextlib
    import logging

    import torch
    from snac.layers import NoiseBlock

    hop = int(model.hop_length)
    unit = math.lcm(model.vq_strides[0], model.attn_window_size or 1)
    frames = torch.export.Dim("frames", min=1, max=1 << 20)
    noise_blocks = [m for m in model.decoder.modules() if isinstance(m, NoiseBlock)]
    scales = [int(np.prod(model.decoder_rates[: i + 1])) for i in range(len(noise_blocks))]

    class Encoder(torch.nn.Module):
        def forward(self, x):
            return model.encoder(x)

    class Decoder(torch.nn.Module):
        def forward(self, z, *noise):
            for block, values in zip(noise_blocks, noise):
                block.forward = functools.partial(_noise_from_input, block, values)
            return model.decoder(z)

    if part == "encoder":
        graph, args = Encoder(), (torch.zeros(1, 1, 4 * unit * hop),)
        names, shapes = ["x"], {"x": {2: frames * (unit * hop)}}
    else:
        args = (torch.zeros(1, model.latent_dim, 4 * unit),
                *(torch.zeros(1, 1, 4 * unit * s) for s in scales))
        graph = Decoder()
        names = ["z", *(f"n{i}" for i in range(len(scales)))]
        shapes = {"z": {2: frames * unit}, "noise": tuple({2: frames * unit * s} for s in scales)}
    global _SDPA
    saved = [block.forward for block in noise_blocks]
    sdpa = _SDPA = _SDPA or torch.nn.functional.scaled_dot_product_attention
    quiet = io.StringIO()
    try:
        # The exporter handles attention on 4-D tensors only; snac's windows make them 5-D.
        torch.nn.functional.scaled_dot_product_attention = _sdpa_4d
        logging.disable(logging.WARNING)
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            torch.onnx.export(graph.eval(), args, path, dynamo=True, dynamic_shapes=shapes,
                              input_names=names, output_names=["out"], optimize=True,
                              external_data=False)
    finally:
        torch.nn.functional.scaled_dot_product_attention = sdpa
        logging.disable(logging.NOTSET)
        for block, forward in zip(noise_blocks, saved):
            block.forward = forward


def _noise_from_input(block, noise, x):
    return x + noise * block.linear(x)


_SDPA = None  # torch's scaled_dot_product_attention, kept by the first _export_snac_part


def _sdpa_4d(q, k, v, *args, **kwargs):
    """scaled_dot_product_attention over [..., n, d] with the leading dims folded into one."""
    sdpa = _SDPA
    shape = q.shape
    out = sdpa(q.reshape(shape[0], -1, *shape[-2:]), k.reshape(shape[0], -1, *k.shape[-2:]),
               v.reshape(shape[0], -1, *v.shape[-2:]), *args, **kwargs)
    return out.reshape(*shape[:-1], out.shape[-1])


def snac_graphs(model, backend: str, device: str, threads: int) -> SnacGraphs | None:
    """ONNX Runtime graphs for `model` when `backend` asks for them ('onnx') or allows them
    ('auto': on the CPU, when onnxruntime is installed and the export works), else None."""
    if backend == "torch" or (backend == "auto" and device != "cpu"):
        return None
    try:
        return _snac_graphs_once(model, threads)
    except ImportError as exc:
        if backend == "onnx":
            raise MissingDependency(f"MODEL_BACKEND=onnx needs the Python package {exc.name} "
                                    f"(pip install onnxruntime onnx onnxscript)") from None
    except Exception as exc:  # noqa: BLE001 - an export that fails leaves torch, which works
        if backend == "onnx":
            raise CodecFailure(f"cannot run SNAC under ONNX Runtime: {_first_line(exc)}"
                               ) from None
    return None


@functools.lru_cache(maxsize=4)
def _snac_graphs_once(model, threads: int) -> SnacGraphs:
    return SnacGraphs(model, threads)


class EncodecRunner:
    """EnCodec 24 kHz in chunks of whole 320-sample frames. The model is causal, so a chunk needs
    only past context, but its LSTMs carry state over the whole past: each chunk starts them
    afresh CONTEXT_FRAMES before its first frame. Inputs up to one chunk run whole, exactly as
    the package runs them; longer ones agree with a whole-file run to the figures in the README."""

    FRAME = ECDC_FRAME
    CONTEXT_FRAMES = 150  # 2 s

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        self.model = model
        self.device = device
        samples = chunk_samples(chunk_seconds, EncodecAdapter.sample_rate)
        self.chunk = max(1, round(samples / self.FRAME))

    def _spans(self, frames: int) -> tp.Iterator[tuple[int, int, int]]:
        for start in range(0, frames, self.chunk):
            yield start, min(frames, start + self.chunk), max(0, start - self.CONTEXT_FRAMES)

    def encode(self, samples: np.ndarray, progress=None):
        """Samples [T] -> codes [K, F] (torch, int64)."""
        import torch

        frames = math.ceil(len(samples) / self.FRAME)
        parts = []
        for start, stop, lo in self._spans(frames):
            piece = np.array(samples[lo * self.FRAME: stop * self.FRAME], dtype=np.float32)
            x = torch.from_numpy(piece)[None, None].to(self.device)
            with torch.inference_mode():
                [(codes, _scale)] = self.model.encode(x)
            parts.append(codes[0, :, start - lo:].cpu())
            release_memory()
            if progress:
                progress((stop - start) * self.FRAME)
        return torch.cat(parts, dim=-1)

    def decode(self, codes, progress=None) -> tp.Iterator[np.ndarray]:
        """Codes [K, F] -> samples, chunk by chunk."""
        import torch

        for start, stop, lo in self._spans(codes.shape[-1]):
            with torch.inference_mode():
                wav = self.model.decode([(codes[None, :, lo:stop].to(self.device), None)])
            release_memory()
            if progress:
                progress((stop - start) * self.FRAME)
            yield wav[0, 0, (start - lo) * self.FRAME:].cpu().numpy()


class MimiRunner:
    """Mimi in chunks of whole frames, through the library's own streaming state. The encoder is
    causal: its convolutions keep their padding cache and its transformer a key/value cache of
    the sliding window, so chunked codes are those of a whole-file encode of the input padded
    with silence to whole frames, up to float rounding in deep residual codebooks (unpadded,
    the library pads the last partial frame its own way, so that frame's codes can differ too).
    The decoder's
    transformer streams the same way; its convolutions, which have no cache in transformers,
    get CONTEXT_FRAMES of the transformer's past output, more than their receptive field, so
    chunked audio matches a whole-file decode to float rounding."""

    CONTEXT_FRAMES = 16  # transformer steps (25 Hz) of left context for the decoder's convolutions

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        config = model.config
        self.model = model
        self.device = device
        self.frame = int(config.sampling_rate / config.frame_rate)  # 1920 at 24 kHz
        self.chunk = max(1, chunk_samples(chunk_seconds, config.sampling_rate) // self.frame)
        self.upsample = int(round(config.encodec_frame_rate / config.frame_rate))

    def encode(self, samples: np.ndarray, codebooks: int, progress=None) -> np.ndarray:
        """Samples [T] -> codes [codebooks, ceil(T / frame)]: the end is padded with silence to
        a whole frame, as the model itself pads."""
        import torch

        frames = math.ceil(len(samples) / self.frame)
        encoder_cache = padding_cache = None
        parts = []
        for start in range(0, frames, self.chunk):
            stop = min(frames, start + self.chunk)
            piece = np.zeros((stop - start) * self.frame, dtype=np.float32)
            data = samples[start * self.frame: stop * self.frame]
            piece[:len(data)] = data
            x = torch.from_numpy(piece)[None, None].to(self.device)
            with torch.inference_mode():
                out = self.model.encode(x, num_quantizers=codebooks, encoder_cache=encoder_cache,
                                        padding_cache=padding_cache, use_streaming=True,
                                        return_dict=True)
            encoder_cache, padding_cache = out.encoder_cache, out.padding_cache
            parts.append(out.audio_codes[0].cpu().numpy())
            release_memory()
            if progress:
                progress(min(len(samples), stop * self.frame) - start * self.frame)
        return np.concatenate(parts, axis=-1)

    def decode(self, codes: np.ndarray, progress=None) -> tp.Iterator[np.ndarray]:
        """Codes [K, F] -> samples, chunk by chunk (frame * F in all)."""
        import torch

        decoder = self.model.decoder
        cache = last_latent = context = None
        for start in range(0, codes.shape[-1], self.chunk):
            stop = min(codes.shape[-1], start + self.chunk)
            piece = torch.from_numpy(np.ascontiguousarray(codes[:, start:stop], dtype=np.int64))
            with torch.inference_mode():
                latent = self.model.quantizer.decode(piece[None].to(self.device))
                # The upsampling convolution reads one latent frame back.
                if decoder.upsample is None:
                    hidden = latent
                else:
                    joined = latent if last_latent is None else torch.cat([last_latent, latent],
                                                                          -1)
                    hidden = decoder.upsample(joined)
                    if last_latent is not None:
                        hidden = hidden[..., self.upsample:]
                    last_latent = latent[..., -1:]
                out = decoder.decoder_transformer(hidden.transpose(1, 2), cache=cache,
                                                  use_cache=True, return_dict=True)
                cache = out.cache
                hidden = out.last_hidden_state.transpose(1, 2)
                joined = hidden if context is None else torch.cat([context, hidden], -1)
                wav = decoder.decoder_seanet(joined)
                skip = 0 if context is None else context.shape[-1] * self.frame // self.upsample
                context = joined[..., -self.CONTEXT_FRAMES:]
                samples = wav[0, 0, skip:].cpu().numpy()
            release_memory()
            if progress:
                progress((stop - start) * self.frame)
            yield samples


class LoudnessMeter:
    """Integrated loudness (ITU-R BS.1770) of a mono signal fed in pieces, as audiotools
    measures it for DAC: K-weighting with the filter state carried across pieces, 400 ms blocks
    every 100 ms kept as per-step energies, then the absolute and relative gates. The whole
    signal is never held."""

    BLOCK_SECONDS = 0.4
    FLOOR = -70.0  # audiotools' MIN_LOUDNESS

    def __init__(self, rate: int):
        from pyloudnorm import Meter  # the filter coefficients audiotools takes from it

        self.rate = rate
        self.kernel = int(self.BLOCK_SECONDS * rate)
        self.stride = int(self.BLOCK_SECONDS * rate * 0.25)
        if self.kernel % self.stride:
            raise CodecFailure(f"loudness blocks do not fit {rate} Hz")
        self.stages = [(f.b, f.a, f.passband_gain, np.zeros(max(len(f.a), len(f.b)) - 1))
                       for f in Meter(rate)._filters.values()]
        self.steps: list[np.ndarray] = []
        self.partial = 0.0  # energy of the step being filled
        self.filled = 0  # samples in it
        self.count = 0

    def feed(self, samples: np.ndarray) -> None:
        from scipy.signal import lfilter

        weighted = np.asarray(samples, dtype=np.float64)
        for i, (b, a, gain, state) in enumerate(self.stages):
            weighted, state = lfilter(b, a, weighted, zi=state)
            weighted = weighted * gain
            self.stages[i] = (b, a, gain, state)
        energy = weighted * weighted
        self.count += len(energy)
        head = min(self.stride - self.filled, len(energy))
        self.partial += energy[:head].sum()
        self.filled += head
        energy = energy[head:]
        if self.filled == self.stride:
            whole = len(energy) // self.stride * self.stride
            self.steps += [np.array([self.partial]), energy[:whole].reshape(-1, self.stride).sum(1)]
            self.partial, self.filled = energy[whole:].sum(), len(energy) - whole

    def result(self) -> float:
        if self.count < self.rate // 2:  # audiotools pads inputs shorter than 0.5 s
            self.feed(np.zeros(int((0.5 - self.count / self.rate) * self.rate)))
        frames = math.ceil((max(self.count, self.kernel) - self.kernel) / self.stride) + 1
        per_block = self.kernel // self.stride
        steps = np.concatenate(self.steps + [np.array([self.partial])])
        steps = np.pad(steps, (0, max(0, frames + per_block - 1 - len(steps))))
        z = np.convolve(steps, np.ones(per_block), "valid")[:frames] / (self.BLOCK_SECONDS
                                                                         * self.rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = -0.691 + 10 * np.log10(z)
            gated = z[level > -70.0]
            relative = -0.691 + 10 * np.log10(gated.mean()) - 10 if gated.size else -np.inf
            kept = z[(level > -70.0) & (level > relative)]
            loudness = -0.691 + 10 * np.log10(kept.mean()) if kept.size else -np.inf
        return max(float(loudness), self.FLOOR)


def loudness_gain(target_db, measured_db):
    """audiotools' normalize(): the float32 factor taking `measured_db` to `target_db`."""
    import torch

    target = torch.as_tensor(target_db)
    measured = torch.as_tensor(measured_db, dtype=torch.float32)
    return torch.exp((target - measured) * (np.log(10) / 20))


class DacRunner:
    """DAC's own chunked mode (CodecMixin.compress/decompress), fed from a file span by span:
    the input is measured for loudness in a first pass, then encoded window by window with the
    convolutions' padding off; decoded audio goes to a spool file while its loudness is
    measured, and comes back at the input's loudness. Codes equal the package's for the same
    input loudness; memory stays that of one window."""

    # Audio per window. Each window's codes overlap the next by the model's margins (2 x 0.33 s
    # at 16 kHz) and the last window is coded whole, so short windows cost bits: at 5 s, the
    # window of `python -m dac encode`, 4-8 % more codes than the audio needs; at 10 s 2-4 %, and
    # inputs up to 10 s take one call with no overlap at all.
    WINDOW_SECONDS = 10.0
    NORMALIZE_DB = -16  # the loudness the encoder sees

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        self.model, self.device = model, device
        self.rate = int(model.sample_rate)
        self.hop = int(model.hop_length)
        self.seconds = chunk_seconds or self.WINDOW_SECONDS
        self.window = math.ceil(self.seconds * self.rate / self.hop) * self.hop
        self.advance = model.get_output_length(self.window)
        if self.advance < self.hop:  # the window must outgrow the margins on both sides
            raise BadValue(f"--chunk-seconds {self.seconds:g} is too short for DAC: windows "
                           f"need more than {2 * model.delay / self.rate:.2f} s")
        self.read_samples = chunk_samples(None, self.rate)

    def encode(self, samples, codebooks: int, source_rate: int, progress=None) -> DacFile:
        import torch

        total = len(samples)
        meter, peak = LoudnessMeter(self.rate), 0.0
        for lo in range(0, total, self.read_samples):
            piece = np.asarray(samples[lo: lo + self.read_samples], dtype=np.float32)
            meter.feed(piece)
            peak = max(peak, float(np.abs(piece).max()))
        input_db = np.float32(meter.result())
        gain = loudness_gain(self.NORMALIZE_DB, [input_db])
        loudest = torch.tensor([peak], dtype=torch.float32) * gain
        peak_gain = 1.0 / loudest if loudest > 1.0 else torch.ones(1)

        def normalized(lo: int, hi: int) -> torch.Tensor:
            # the input between lo and hi, zeros outside, scaled as CodecMixin.compress does
            window = np.zeros(hi - lo, dtype=np.float32)
            inside = np.asarray(samples[max(lo, 0): min(hi, total)], dtype=np.float32)
            window[max(lo, 0) - lo: max(lo, 0) - lo + len(inside)] = inside
            return (torch.from_numpy(window) * gain) * peak_gain

        model, codes = self.model, []
        padding = total / self.rate <= self.seconds  # short inputs: one call, padding on
        try:
            model.padding = padding
            with torch.inference_mode():
                starts = [0] if padding else range(0, total, self.advance)
                for start in starts:
                    x = normalized(0, total) if padding else normalized(
                        start - model.delay, start - model.delay + self.window)
                    x = model.preprocess(x[None, None].to(self.device), self.rate)
                    chunk = model.encode(x, codebooks)[1]
                    codes.append(chunk[0].cpu().numpy().astype(np.uint16))
                    release_memory()
                    if progress is not None:
                        progress(total if padding else min(self.advance, total - start))
        finally:
            model.padding = True
        original_length = round(total * source_rate / self.rate)
        return DacFile(codes=np.concatenate(codes, axis=-1)[None], chunk_length=codes[0].shape[-1],
                       original_length=max(1, original_length), input_db=float(input_db),
                       sample_rate=source_rate, padding=padding)

    def decode(self, dac: DacFile, length: int, progress=None) -> tp.Iterator[np.ndarray]:
        """`length` samples at the model's rate, the channels averaged."""
        import tempfile

        import torch

        model, frames, step = self.model, dac.codes.shape[-1], dac.chunk_length
        meters = [LoudnessMeter(self.rate) for _ in range(dac.channels)]
        sizes, held = [], 0
        with tempfile.TemporaryFile() as spool:
            try:
                model.padding = dac.padding
                with torch.inference_mode():
                    for start in range(0, frames, step):
                        codes = dac.codes[..., start: start + step].astype(np.int64)
                        try:
                            latent = model.quantizer.from_codes(
                                torch.from_numpy(codes).to(self.device))[0]
                            audio = model.decode(latent)
                        except RuntimeError as exc:  # e.g. chunks too short for unpadded layers
                            raise BadInput(f"the codes cannot be decoded in chunks of "
                                           f"{step} frames ({_first_line(exc)})") from None
                        audio = audio[:, 0].cpu().numpy()
                        if start == 0:
                            self._check_length(len(audio[0]) * math.ceil(frames / step), length,
                                               len(audio[0]), dac)
                        for meter, channel in zip(meters, audio):
                            meter.feed(channel)
                        spool.write(np.ascontiguousarray(audio, dtype="<f4").tobytes())
                        sizes.append(audio.shape[1])
                        held += audio.shape[1]
                        release_memory()
                        if progress is not None:  # counted at the file's rate, like its length
                            progress(round(audio.shape[1] * dac.sample_rate / self.rate))
            finally:
                model.padding = True
            self._check_length(held, length, sizes[0], dac)
            gain = loudness_gain(np.float32(dac.input_db), [m.result() for m in meters]).numpy()
            spool.seek(0)
            out = 0
            for size in sizes:
                block = np.frombuffer(spool.read(4 * size * dac.channels), dtype="<f4")
                block = (block.reshape(dac.channels, size) * gain[:, None]).mean(axis=0)
                block = block[: max(0, length - out)]
                out += len(block)
                if len(block):
                    yield block.astype(np.float32)
            if out < length:  # a sample or two lost to rounding between rates
                yield np.zeros(length - out, dtype=np.float32)

    def _check_length(self, held: int, length: int, chunk: int, dac: DacFile) -> None:
        slack = self.hop + (0 if dac.padding else chunk)
        if not length - self.hop <= held <= length + slack:
            raise BadInput(f"the codes decode to {held / self.rate:.2f} s with this DAC model, "
                           f"but the file records {length / self.rate:.2f} s: it was encoded "
                           f"with another model (set DAC_MODEL and DAC_BITRATE to the encoder's)")


def trim(chunks: tp.Iterable[np.ndarray], length: int) -> tp.Iterator[np.ndarray]:
    """The first `length` samples of a stream of chunks."""
    for chunk in chunks:
        if length <= 0:
            return
        yield chunk[:length]
        length -= len(chunk)


# ---------------------------------------------------------------------------------------------
# Codec adapters: one per codec, one interface, one registry.

@dataclasses.dataclass
class RunOptions:
    device: str = "cpu"
    backend: str = "torch"  # SNAC's networks: torch, onnx (ONNX Runtime) or auto
    threads: int = 1
    chunk_seconds: float | None = None  # None: CHUNK_SAMPLES at the model's rate
    progress: tp.Callable[[int], None] | None = None  # called with samples done


@dataclasses.dataclass
class EncodeOptions(RunOptions):
    source_rate: int = 0  # the original file's rate, recorded for decoding (0: the model's)
    bitrate: float = 1.5  # EnCodec
    use_lm: bool = False  # EnCodec
    model: str | None = None  # SNAC or Mimi
    sample_rate: int | None = None  # the rate the input is at; must be the model's
    codebooks: int | None = None  # Mimi (default 8) or DAC (default: all of the model's)
    dac_model: str = "44khz"
    dac_bitrate: str = "8kbps"
    token_rate: int = SEMANTICODEC_DEFAULTS[0]  # SemantiCodec
    vocab_size: int = SEMANTICODEC_DEFAULTS[1]


@dataclasses.dataclass
class DecodeOptions(RunOptions):
    model: str | None = None  # SNAC: the user's explicit choice (SNAC_MODEL), if any
    sample_rate: int | None = None  # SNAC: the rate for legacy files that do not record it
    default_model: str | None = None  # SNAC: the model for legacy files that do not record one
    mimi_model: str | None = None  # Mimi: the user's explicit choice (MIMI_MODEL), if any
    dac_model: str = "44khz"  # DAC: .dac files do not record their model
    dac_bitrate: str = "8kbps"


@dataclasses.dataclass
class Decoded:
    chunks: tp.Iterator[np.ndarray]  # float32 samples at `sample_rate`, `length` in all
    length: int
    sample_rate: int
    source_rate: int


class EncodecAdapter:
    """Meta EnCodec 24 kHz into encodec's own .ecdc format."""

    sample_rate = 24_000

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        import torch

        if opts.bitrate not in ECDC_CODEBOOKS:
            raise BadValue(f"EnCodec bitrate {opts.bitrate} is not one of 1.5, 3, 6, 12, 24")
        if opts.sample_rate not in (None, self.sample_rate):
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, EnCodec needs "
                               f"{self.sample_rate} Hz")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        model = load_encodec(opts.bitrate, opts.device)
        lm = load_encodec_lm(model) if opts.use_lm else None
        codes = EncodecRunner(model, opts.chunk_seconds, opts.device).encode(samples,
                                                                            opts.progress)
        header = EcdcHeader(len(samples), codes.shape[0], opts.use_lm,
                            opts.source_rate or self.sample_rate)
        write_ecdc_header(out, header)
        if lm is None:
            write_ecdc_packed(out, codes.numpy())
        else:
            _write_ecdc_lm(out, lm, codes)

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        import torch

        with open(path, "rb") as fo:
            header = read_ecdc_header(fo)
            if header.use_lm:
                model = load_encodec(device=opts.device)
                codes = _read_ecdc_lm(fo, load_encodec_lm(model), header)
            else:
                codes = torch.from_numpy(read_ecdc_packed(fo, header))
                model = load_encodec(device=opts.device)
        chunks = EncodecRunner(model, opts.chunk_seconds, opts.device).decode(codes, opts.progress)
        return Decoded(trim(chunks, header.length), header.length, self.sample_rate,
                       header.source_rate or self.sample_rate)


def _write_ecdc_lm(fo: tp.BinaryIO, lm, codes) -> None:
    """Arithmetic-code codes [K, F] with encodec's LM, exactly as encodec.compress does."""
    import torch
    from encodec.quantization.ac import ArithmeticCoder, build_stable_quantized_cdf

    coder = ArithmeticCoder(fo)
    states, offset = None, 0
    step_input = torch.zeros(1, codes.shape[0], 1, dtype=torch.long)
    with torch.inference_mode():
        for t in range(codes.shape[1]):
            probas, states, offset = lm(step_input, states, offset)
            step_input = 1 + codes[None, :, t:t + 1]
            for k, value in enumerate(codes[:, t].tolist()):
                cdf = build_stable_quantized_cdf(probas[0, :, k, 0], coder.total_range_bits,
                                                 check=False)
                coder.push(value, cdf)
    coder.flush()


def _read_ecdc_lm(fo: tp.BinaryIO, lm, header: EcdcHeader):
    """Inverse of `_write_ecdc_lm`: codes [K, F]."""
    import torch
    from encodec.quantization.ac import ArithmeticDecoder, build_stable_quantized_cdf

    payload = fo.read()
    if header.frames * header.codebooks > 64 * 8 * len(payload) + 64:
        # Even the LM's most likely symbol costs more than 1/64 bit: such a length is corrupt,
        # and believing it would keep the decoder busy for hours.
        raise InvalidField(f"length {header.length} is implausible for {len(payload)} bytes "
                           f"of entropy-coded codes")
    decoder = ArithmeticDecoder(io.BytesIO(payload))
    codes = torch.zeros(header.codebooks, header.frames, dtype=torch.long)
    states, offset = None, 0
    step_input = torch.zeros(1, header.codebooks, 1, dtype=torch.long)
    with torch.inference_mode():
        for t in range(header.frames):
            probas, states, offset = lm(step_input, states, offset)
            for k in range(header.codebooks):
                cdf = build_stable_quantized_cdf(probas[0, :, k, 0], decoder.total_range_bits,
                                                 check=False)
                try:
                    code = decoder.pull(cdf)
                except (RuntimeError, AssertionError, RecursionError):
                    raise ContainerError("entropy-coded codes are corrupt") from None
                if code is None:
                    raise TruncatedStream("entropy-coded codes end early")
                codes[k, t] = code
            step_input = 1 + codes[None, :, t:t + 1]
    return codes


class SnacAdapter:
    """SNAC (24/32/44 kHz) into the NCDC container; legacy torch.save files are read too."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        import torch

        model_id = opts.model or KNOWN_MODELS["snac"][0]
        model = load_snac(model_id, opts.device)
        if opts.sample_rate is not None and opts.sample_rate != model.sampling_rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, model {model_id} "
                               f"needs {model.sampling_rate} Hz (SNAC_SAMPLE_RATE)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        graphs = snac_graphs(model, opts.backend, opts.device, opts.threads)
        runner = SnacRunner(model, opts.chunk_seconds, opts.device, graphs)
        codes = runner.encode(samples, opts.progress)
        header = CodesHeader("snac", model_id, int(model.sampling_rate),
                             opts.source_rate or int(model.sampling_rate), len(samples),
                             max(1, math.ceil(math.log2(model.codebook_size))))
        write_ncdc(out, header, codes)

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            if sniff_container(fo.read(4)) == "snac-legacy":
                meta, codes = read_legacy_snac(path)
            else:
                fo.seek(0)
                header, codes = read_ncdc(fo)
                if header.codec != "snac":
                    raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not "
                                   f"SNAC codes")
                meta = dataclasses.asdict(header)
        model_id = self._choose_model(meta.get("model"), opts)
        model = load_snac(model_id, opts.device)
        rate = int(model.sampling_rate)
        recorded_rate = meta.get("sample_rate")
        if recorded_rate is None and meta.get("model") is None:
            recorded_rate = opts.sample_rate  # the user's SNAC_SAMPLE_RATE for bare legacy files
        if recorded_rate is not None and recorded_rate != rate:
            raise BadInput(f"the file's codes are for {recorded_rate} Hz, model {model_id} "
                           f"runs at {rate} Hz")
        self._check_codes(codes, model, model_id)
        graphs = snac_graphs(model, opts.backend, opts.device, opts.threads)
        runner = SnacRunner(model, opts.chunk_seconds, opts.device, graphs)
        held = len(codes[0]) * runner.strides[0] * runner.hop
        length = meta.get("length") or held
        if length > held:
            raise InvalidField(f"recorded length {length} exceeds the {held} samples the codes "
                               f"hold")
        chunks = trim(runner.decode(codes, opts.progress), length)
        return Decoded(chunks, length, rate, meta.get("source_rate") or rate)

    @staticmethod
    def _choose_model(recorded: str | None, opts: DecodeOptions) -> str:
        # A file never decides to load a model outside the known set: only the user does.
        if opts.model:
            return opts.model
        if recorded is None:
            return opts.default_model or KNOWN_MODELS["snac"][0]
        if recorded in KNOWN_MODELS["snac"]:
            return recorded
        raise BadInput(f"the file names SNAC model {recorded!r}, which is not a known model; "
                       f"set SNAC_MODEL to load it if you trust it")

    @staticmethod
    def _check_codes(codes: tp.Sequence[np.ndarray], model, model_id: str) -> None:
        strides = list(model.vq_strides)
        if len(codes) != len(strides):
            raise BadInput(f"the file has {len(codes)} code levels, model {model_id} has "
                           f"{len(strides)}")
        base = len(codes[0]) * strides[0]
        lcm = math.lcm(strides[0], model.attn_window_size or 1)
        if base % lcm or any(len(c) * s != base for c, s in zip(codes, strides)):
            raise BadInput(f"code counts per level {[len(c) for c in codes]} do not fit "
                           f"model {model_id}'s strides {strides}")
        if any(len(c) and (c.min() < 0 or c.max() >= model.codebook_size) for c in codes):
            raise BadInput(f"a code is outside model {model_id}'s codebook of "
                           f"{model.codebook_size}")


MIMI_CODEBOOKS = 8  # 1.1 kbps


class MimiAdapter:
    """Kyutai's Mimi (transformers' MimiModel) into the NCDC container."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        model_id = opts.model or KNOWN_MODELS["mimi"][0]
        model = load_mimi(model_id, opts.device)
        config = model.config
        if opts.sample_rate is not None and opts.sample_rate != config.sampling_rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, Mimi model {model_id} "
                               f"needs {config.sampling_rate} Hz")
        codebooks = MIMI_CODEBOOKS if opts.codebooks is None else opts.codebooks
        if not 1 <= codebooks <= config.num_quantizers:
            raise BadValue(f"{codebooks} codebooks asked for; Mimi model {model_id} has "
                           f"1 to {config.num_quantizers} (MIMI_CODEBOOKS)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        codes = MimiRunner(model, opts.chunk_seconds, opts.device).encode(
            samples, codebooks, opts.progress)
        header = CodesHeader("mimi", model_id, config.sampling_rate,
                             opts.source_rate or config.sampling_rate, len(samples),
                             max(1, math.ceil(math.log2(config.codebook_size))))
        write_ncdc(out, header, list(codes))

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            header, codes = read_ncdc(fo)
        if header.codec != "mimi":
            raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not Mimi codes")
        # A file never decides to load a model outside the known set: only the user does.
        model_id = opts.mimi_model or header.model
        if model_id not in KNOWN_MODELS["mimi"] and not opts.mimi_model:
            raise BadInput(f"the file names Mimi model {header.model!r}, which is not a known "
                           f"model; set MIMI_MODEL to load it if you trust it")
        model = load_mimi(model_id, opts.device)
        config = model.config
        if header.sample_rate != config.sampling_rate:
            raise BadInput(f"the file's codes are for {header.sample_rate} Hz, Mimi model "
                           f"{model_id} runs at {config.sampling_rate} Hz")
        if len(codes) > config.num_quantizers:
            raise BadInput(f"the file has {len(codes)} codebooks, Mimi model {model_id} has "
                           f"{config.num_quantizers}")
        if any(len(c) != len(codes[0]) for c in codes):
            raise BadInput(f"codebooks of unequal lengths {sorted({len(c) for c in codes})}")
        if any(len(c) and c.max() >= config.codebook_size for c in codes):
            raise BadInput(f"a code is outside Mimi model {model_id}'s codebook of "
                           f"{config.codebook_size}")
        runner = MimiRunner(model, opts.chunk_seconds, opts.device)
        held = len(codes[0]) * runner.frame
        if not held - runner.frame < header.length <= held:
            raise InvalidField(f"recorded length {header.length} does not fit the "
                               f"{len(codes[0])} frames of codes")
        chunks = trim(runner.decode(np.stack(codes), opts.progress), header.length)
        return Decoded(chunks, header.length, config.sampling_rate,
                       header.source_rate or config.sampling_rate)


class DacAdapter:
    """Descript's DAC into the dac package's own .dac format. A .dac file does not name its
    model: the user's DAC_MODEL and DAC_BITRATE decide, as with `python -m dac decode`."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        model = load_dac(opts.dac_model, opts.dac_bitrate, opts.device)
        rate = int(model.sample_rate)
        if opts.sample_rate is not None and opts.sample_rate != rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, DAC model "
                               f"{opts.dac_model} needs {rate} Hz")
        codebooks = model.n_codebooks if opts.codebooks is None else opts.codebooks
        if not 1 <= codebooks <= model.n_codebooks:
            raise BadValue(f"{codebooks} codebooks asked for; DAC model {opts.dac_model} "
                           f"{opts.dac_bitrate} has 1 to {model.n_codebooks} (DAC_CODEBOOKS)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        runner = DacRunner(model, opts.chunk_seconds, opts.device)
        write_dac(out, runner.encode(samples, codebooks, opts.source_rate or rate, opts.progress))

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            dac = read_dac(fo)
        model = load_dac(opts.dac_model, opts.dac_bitrate, opts.device)
        name = f"{opts.dac_model} {opts.dac_bitrate}"
        if dac.codes.shape[1] > model.n_codebooks:
            raise BadInput(f"the file has {dac.codes.shape[1]} codebooks, DAC model {name} has "
                           f"{model.n_codebooks} (set DAC_MODEL and DAC_BITRATE to the "
                           f"encoder's)")
        if dac.codes.max() >= model.codebook_size:
            raise BadInput(f"a code is outside DAC model {name}'s codebook of "
                           f"{model.codebook_size}")
        rate = int(model.sample_rate)
        length = max(1, round(dac.original_length * rate / dac.sample_rate))
        runner = DacRunner(model, device=opts.device)
        return Decoded(runner.decode(dac, length, opts.progress), length, rate, dac.sample_rate)


class SemantiCodecAdapter:
    """SemantiCodec (16 kHz, semantic + acoustic token pairs) into the NCDC container; the
    model name records the setting, e.g. semanticodec-50-16384. Experimental: the real package
    was not run here (see README)."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        import tempfile

        import torch

        if opts.sample_rate is not None and opts.sample_rate != SEMANTICODEC_RATE:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, SemantiCodec needs "
                               f"{SEMANTICODEC_RATE} Hz")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        codec = load_semanticodec(opts.token_rate, opts.vocab_size, opts.device)
        # Its encoder reads a file: one whole-file call (its own 10.24 s segmentation inside).
        with tempfile.TemporaryDirectory(prefix="semanticodec-") as work:
            wav = os.path.join(work, "input.wav")
            write_audio(wav, [np.asarray(samples[:], dtype=np.float32)], SEMANTICODEC_RATE,
                        len(samples))
            with torch.inference_mode():
                tokens = codec.encode(wav)
        tokens = self._as_array(tokens, "encoder")
        expected = semanticodec_tokens(len(samples), opts.token_rate)
        if tokens.shape[1] != expected:
            raise CodecFailure(f"SemantiCodec returned {tokens.shape[1]} token pairs for "
                               f"{len(samples)} samples, expected {expected}")
        self._check_range(tokens, opts.vocab_size, CodecFailure)
        bits = math.ceil(math.log2(max(opts.vocab_size, SEMANTICODEC_ACOUSTIC_VOCAB)))
        header = CodesHeader("semanticodec", f"semanticodec-{opts.token_rate}-{opts.vocab_size}",
                             SEMANTICODEC_RATE, opts.source_rate or SEMANTICODEC_RATE,
                             len(samples), bits)
        write_ncdc(out, header, [tokens[0, :, 0], tokens[0, :, 1]])

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        import torch

        with open(path, "rb") as fo:
            header, codes = read_ncdc(fo)
        if header.codec != "semanticodec":
            raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not SemantiCodec "
                           f"tokens")
        # Only the published settings: the name picks the constructor's arguments, nothing else.
        if header.model not in KNOWN_MODELS["semanticodec"]:
            raise BadInput(f"the file names SemantiCodec setting {header.model[:60]!r}, which "
                           f"is not one of the published ones")
        token_rate, vocab_size = (int(v) for v in header.model.split("-")[1:])
        if header.sample_rate != SEMANTICODEC_RATE:
            raise BadInput(f"the file's tokens are for {header.sample_rate} Hz, SemantiCodec "
                           f"runs at {SEMANTICODEC_RATE} Hz")
        if len(codes) != 2 or len(codes[0]) != len(codes[1]):
            raise BadInput("expected two token streams (semantic, acoustic) of equal length")
        if len(codes[0]) != semanticodec_tokens(header.length, token_rate):
            raise InvalidField(f"{len(codes[0])} token pairs do not fit the recorded length of "
                               f"{header.length} samples")
        tokens = np.stack(codes, axis=-1)[None]
        self._check_range(tokens, vocab_size, BadInput)
        codec = load_semanticodec(token_rate, vocab_size, opts.device)
        with torch.inference_mode():
            waveform = codec.decode(torch.from_numpy(tokens).to(opts.device))
        waveform = np.asarray(waveform.cpu() if hasattr(waveform, "cpu") else waveform,
                              dtype=np.float32).reshape(-1)[: header.length]
        waveform = np.pad(waveform, (0, header.length - len(waveform)))
        return Decoded(iter([waveform]), header.length, SEMANTICODEC_RATE,
                       header.source_rate or SEMANTICODEC_RATE)

    @staticmethod
    def _as_array(tokens, what: str) -> np.ndarray:
        tokens = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens)
        if tokens.ndim != 3 or tokens.shape[0] != 1 or tokens.shape[2] != 2 \
                or tokens.dtype.kind not in "iu":
            raise CodecFailure(f"SemantiCodec's {what} returned tokens of shape "
                               f"{tokens.shape} ({tokens.dtype}), expected [1, T, 2] integers")
        return tokens.astype(np.int64)

    @staticmethod
    def _check_range(tokens: np.ndarray, vocab_size: int, error: type[ToolkitError]) -> None:
        if tokens.size and (tokens.min() < 0 or tokens[..., 0].max() >= vocab_size
                            or tokens[..., 1].max() >= SEMANTICODEC_ACOUSTIC_VOCAB):
            raise error(f"a token is outside SemantiCodec's vocabularies ({vocab_size} "
                        f"semantic, {SEMANTICODEC_ACOUSTIC_VOCAB} acoustic)")


CODECS: dict[str, tp.Any] = {
    "ecdc": EncodecAdapter,
    "snac": SnacAdapter,
    "mimi": MimiAdapter,
    "dac": DacAdapter,
    "semanticodec": SemantiCodecAdapter,
}


def get_codec(name: str):
    """The adapter registered under `name` (one of CODECS)."""
    return CODECS[name]()


def fail(prog: str, exc: ToolkitError) -> int:
    """Print `prog: message` on one line and return the error's exit code."""
    print(f"{prog}: {exc}", file=sys.stderr)
    return exc.exit_code


def program_name(default: str) -> str:
    """The name errors are reported under: the shell front-end that called us, if any."""
    return os.environ.get("NEURAL_CODEC_PROG") or default


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` through `atomic_output`."""
    with atomic_output(path) as fo:
        fo.write(data)


def resolve_device(name: str) -> str:
    """'cpu', 'cuda' or 'auto' (cuda when torch sees a GPU) -> a torch device name."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        knob = "TORCH_DEVICE=cuda" if os.environ.get("NEURAL_CODEC_PROG") else "--device cuda"
        raise MissingDependency(f"{knob}, but torch sees no CUDA GPU")
    return name


def add_run_arguments(parser) -> None:
    """The options both helpers share: threads, device, chunking, progress."""
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch CPU threads (default: 1)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where the model runs (default: cpu)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="what runs SNAC's networks: ONNX Runtime (onnx), torch, or onnx "
                        "where it is installed and works (auto, the default)")
    parser.add_argument("--chunk-seconds", type=float, metavar="S",
                        help="audio per model call; bounds memory, not the result (default: "
                        f"{CHUNK_SAMPLES:,} samples: 10 s at 24 kHz, 5.4 s at 44.1 kHz)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar (there is none when stderr is not a terminal)")


def add_dac_arguments(parser) -> None:
    """DAC's model choice, which both helpers need: .dac files do not record it."""
    parser.add_argument("--dac-model", choices=sorted(DAC_MODELS), default="44khz",
                        help="DAC: model type (default: %(default)s)")
    parser.add_argument("--dac-bitrate", choices=("8kbps", "16kbps"), default="8kbps",
                        help="DAC: model bitrate; 16kbps exists for 44khz only "
                        "(default: %(default)s)")


def wants_progress(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


def run_options(args, total_samples: int | None) -> dict:
    """RunOptions fields from parsed `add_run_arguments` options; checks their values."""
    if args.threads < 1:
        raise BadValue(f"--threads must be at least 1, got {args.threads}")
    if args.chunk_seconds is not None and not 0.1 <= args.chunk_seconds <= 3600:
        raise BadValue(f"--chunk-seconds must be from 0.1 to 3600, got {args.chunk_seconds:g}")
    configure_torch(args.threads)
    progress = None
    if total_samples and wants_progress(args):
        from tqdm import tqdm

        bar = tqdm(total=total_samples, unit="sample", unit_scale=True, leave=False,
                   file=sys.stderr)
        progress = bar.update
    return {"device": resolve_device(args.device), "backend": args.backend,
            "threads": args.threads, "chunk_seconds": args.chunk_seconds, "progress": progress}


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that `finally` blocks remove temporary files."""

    def __init__(self, exit_code: int) -> None:
        super().__init__()
        self.exit_code = exit_code


def run_batch(prog: str, list_path: str, one: tp.Callable[[list[str]], None],
              progress: bool = False) -> int:
    """Run `one` on the tab-separated fields of each line of `list_path` (the last field names
    the file in messages). A failing file is reported and skipped; the rest still run."""
    try:
        with open(list_path, encoding="utf-8") as fo:
            lines = [line.rstrip("\n").split("\t") for line in fo if line.strip()]
    except OSError as exc:
        raise BadInput(f"{list_path}: cannot read ({exc.strerror or exc})") from None
    failed = 0
    if progress:
        from tqdm import tqdm

        lines = tqdm(lines, unit="file", leave=False, file=sys.stderr)
    for fields in lines:
        try:
            one(fields)
        except ToolkitError as exc:
            print(f"{prog}: {fields[-1]}: {_without_paths(str(exc), fields[:-1])}",
                  file=sys.stderr)
            failed += 1
        except Exception as exc:  # noqa: BLE001 - one file's bug must not end the batch
            if os.environ.get("NEURAL_CODEC_DEBUG"):
                raise
            print(f"{prog}: {fields[-1]}: internal error: {type(exc).__name__}: "
                  f"{_first_line(exc)}", file=sys.stderr)
            failed += 1
    return EXIT_BATCH if failed else 0


def _without_paths(message: str, paths: list[str]) -> str:
    """`message` without a leading "PATH: " of the item's own files: the line names the file
    once, by the name the user gave."""
    for path in paths:
        if path and message.startswith(path + ": "):
            return message[len(path) + 2:]
    return message


def _raise_interrupt(signum: int, frame: tp.Any) -> None:
    caller = frame
    while caller is not None:
        if caller.f_code.co_name == "__del__":
            # Raised inside a finalizer, the exception would be printed as "Exception ignored"
            # and dropped: deliver the signal again once the finalizer has returned.
            threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
            return
        caller = caller.f_back
    # A second SIGTERM must not break off the cleanup that this one starts.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(128 + signum)


def _exit_at_once(signum: int, frame: tp.Any) -> None:
    os._exit(128 + signum)


def run_cli(prog: str, body: tp.Callable[[], int]) -> int:
    """Run a helper's body with the toolkit's error voice: one line, a documented exit code.
    Unexpected exceptions are bugs: one line too, with the traceback behind NEURAL_CODEC_DEBUG=1."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return body()
    except ToolkitError as exc:
        return fail(prog, exc)
    except KeyboardInterrupt as exc:
        if not os.environ.get("NEURAL_CODEC_PROG"):  # the front-ends say it themselves
            print(f"{prog}: interrupted", file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a CLI
        if os.environ.get("NEURAL_CODEC_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(exc).__name__}: {_first_line(exc)} "
              f"(set NEURAL_CODEC_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
    finally:
        # Everything is written or cleaned up by now: a SIGTERM while the interpreter shuts
        # down (atexit hooks, finalizers) ends the process with its code, without a traceback.
        signal.signal(signal.SIGTERM, _exit_at_once)
