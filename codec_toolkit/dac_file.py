"""The .dac container, the dac package's own format, read without unpickling code."""

from __future__ import annotations

import dataclasses
import io
import pickle
import typing as tp

import numpy as np

from codec_toolkit import facts
from codec_toolkit.binary import MAX_RATE, MAX_SAMPLES, MIN_RATE
from codec_toolkit.errors import (BadMagic, ContainerError, InvalidField, TruncatedStream,
                                  UnsupportedVersion)

# .dac: the dac package's own format, numpy.save of one dict:
#   {"codes": uint16 [channels, codebooks, frames],
#    "metadata": {"input_db": float32 [1], "original_length": int, "sample_rate": int,
#                 "chunk_length": int, "channels": int, "padding": bool, "dac_version": "1.0.0"}}
# sample_rate and original_length are the original audio's; codes come in chunks of chunk_length
# frames, each decoded on its own (with the convolutions' padding off when `padding` is False).
# numpy stores the dict as a pickle, and the package loads it with allow_pickle=True, which runs
# whatever a crafted file asks for. We write the same bytes, and read them with an unpickler
# that can build nothing but numpy arrays, dtypes and plain values.

DAC_MAGIC = facts.codec("dac").magic  # numpy.save's
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
    if not MIN_RATE <= dac.sample_rate <= MAX_RATE:  # what read_dac would refuse
        raise ValueError(f"sample_rate {dac.sample_rate} is out of range {MIN_RATE}..{MAX_RATE}")
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


def info_fields(fo: tp.BinaryIO) -> dict[str, tp.Any]:
    """A .dac file's fields for `decode_ecdc.py --info`. The file records neither its model nor
    the model's rate: samples are the original audio's, at source_rate."""
    dac = read_dac(fo)
    return {"container": "dac", "codec": "dac", "source_rate": dac.sample_rate,
            "samples": dac.original_length, "duration": dac.original_length / dac.sample_rate,
            "codebooks": int(dac.codes.shape[1]), "channels": dac.channels,
            "frames": int(dac.codes.shape[2]), "chunk_length": dac.chunk_length,
            "padding": int(dac.padding), "input_db": dac.input_db}


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
                   sample_rate=_dac_int(meta, "sample_rate", MIN_RATE, MAX_RATE),
                   padding=bool(meta["padding"]))
