"""Codes out and in, for ML users: a container's codes as a NumPy .npz of plain arrays, and a
container built back from such an .npz (the codes a language model produced).

The .npz holds, for every codec:
  codec        0-d str: ecdc, snac, mimi, dac or semanticodec (the container's extension)
  model        0-d str: the model the codes are for (hub id, encodec_24khz, DAC's 44khz-8kbps,
               SemantiCodec's semanticodec-50-16384)
  sample_rate  0-d int: the model's rate, Hz
  source_rate  0-d int: the rate of the audio that was compressed, Hz (restored on decode;
               absent only for .ecdc files of the encodec package, which record none)
  samples      0-d int: the audio's length in samples at sample_rate
and its codes, int64:
  snac                 level_0, level_1, ... [T_i]: coarsest first, T_i = T_0 * 2**i
  mimi, ecdc           codes [codebooks, frames]
  dac                  codes [codebooks, frames]; [channels, codebooks, frames] for a file of
                       more than one channel (the dac package keeps stereo)
  semanticodec         codes [2, frames]: semantic tokens, then acoustic tokens
plus what rebuilds the container exactly: ecdc's lm (0-d bool: entropy-coded with the LM), dac's
chunk_length, padding (0-d bool), input_db (0-d float32) and original_length (samples at
source_rate, as the dac package records it). Strings are 0-d unicode arrays, so
np.load(path, allow_pickle=False) reads everything; this module never unpickles.

Every array of an .npz to import is checked before a container is written: each error is one
line naming the array. Nothing here imports torch, except an LM-coded .ecdc, whose codes only
encodec's language model can code or decode.
"""

from __future__ import annotations

import dataclasses
import io
import math
import typing as tp
import zipfile

import numpy as np

from codec_toolkit import facts
from codec_toolkit.binary import MAX_SAMPLES
from codec_toolkit.dac_file import DacFile, read_dac, write_dac
from codec_toolkit.ecdc import (ECDC_BITS, ECDC_CODEBOOKS, ECDC_FRAME, ECDC_MODEL, ECDC_RATE,
                                EcdcHeader, read_ecdc_header, read_ecdc_packed,
                                write_ecdc_header, write_ecdc_packed)
from codec_toolkit.errors import BadInput
from codec_toolkit.legacy_snac import is_legacy_snac, read_legacy_snac
from codec_toolkit.ncdc import KNOWN_MODELS, CodesHeader, read_ncdc, write_ncdc
from codec_toolkit.semanticodec import (SEMANTICODEC_ACOUSTIC_VOCAB, SEMANTICODEC_RATE,
                                        semanticodec_tokens)

CODES_CODECS = ("ecdc", "snac", "mimi", "dac", "semanticodec")
MIN_RATE, MAX_RATE = 1_000, 384_000  # the rates -r accepts
NPZ_MAGIC = b"PK\x03\x04"  # a zip file's


@dataclasses.dataclass(frozen=True)
class SnacShape:
    """A published SNAC model's geometry (its config.json), so codes are checked without it."""

    rate: int
    hop: int  # samples per finest latent frame
    strides: tuple[int, ...]  # vq_strides: latent frames per code, coarsest level first
    unit: int  # latent frames SNAC pads to: lcm(strides[0], attn_window_size)

    def coarse_codes(self, samples: int) -> int:
        """Codes at level_0 for `samples` once padded as SNAC.preprocess pads them."""
        return math.ceil(samples / (self.hop * self.unit)) * self.unit // self.strides[0]


SNAC_SHAPES = {
    "hubertsiuzdak/snac_24khz": SnacShape(24_000, 512, (4, 2, 1), 4),
    "hubertsiuzdak/snac_32khz": SnacShape(32_000, 384, (8, 4, 2, 1), 32),
    "hubertsiuzdak/snac_44khz": SnacShape(44_100, 384, (8, 4, 2, 1), 32),
}
SNAC_CODEBOOK = 4096
MIMI_CODEBOOK, MIMI_CODEBOOKS, MIMI_RATE, MIMI_FRAME = 2048, 32, 24_000, 1920  # kyutai/mimi
ECDC_CODEBOOK = 1 << ECDC_BITS
DAC_CODEBOOK = 1024
DAC_HOPS = {"44khz": 512, "24khz": 320, "16khz": 320}  # the published models' hop lengths
# DAC models by the name the .npz gives them: "44khz-8kbps" -> (model, bitrate)
DAC_NAMES = {f"{model}-{bitrate}": (model, bitrate) for model, bitrate in facts.DAC_MODELS}


@dataclasses.dataclass
class ExportOptions:
    """What a container does not say and the user does: as for decoding (decode_ecdc.py)."""

    default_model: str | None = None  # SNAC: the model of legacy files that record none
    sample_rate: int | None = None  # SNAC: the rate of such files
    dac_model: str = "44khz"  # DAC: .dac files do not record their model
    dac_bitrate: str = "8kbps"


def export_codes(path: str, kind: str, opts: ExportOptions) -> dict[str, np.ndarray]:
    """The arrays of the .npz for container `path` of kind `kind` (as sniff_container names
    it). Reads the container only, except an LM-coded .ecdc (the LM decodes its codes)."""
    with open(path, "rb") as fo:
        if kind == "ecdc":
            return _ecdc_arrays(fo)
        if kind == "dac":
            return _dac_arrays(read_dac(fo), opts)
        if kind == "snac-legacy" or is_legacy_snac(fo.read(4)):
            return _legacy_arrays(path, opts)
        fo.seek(0)
        header, codes = read_ncdc(fo)
    arrays = _meta(header.codec, header.model, header.sample_rate, header.source_rate,
                   header.length)
    if header.codec == "snac":
        arrays.update(_levels(codes))
    else:
        if any(len(c) != len(codes[0]) for c in codes):
            raise BadInput(f"the file's {header.codec} codebooks have unequal lengths")
        arrays["codes"] = np.stack(codes).astype(np.int64)
    return arrays


def save_codes(arrays: dict[str, np.ndarray]) -> bytes:
    """The .npz file of `arrays`, compressed (int64 codes shrink to about their bits)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def load_codes(path: str) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path`, read without pickle: an object array is refused."""
    try:
        with open(path, "rb") as fo:
            if fo.read(4) != NPZ_MAGIC:
                raise BadInput(f"{path}: not an .npz file (no zip signature)")
        npz = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, zipfile.BadZipFile, EOFError):
        raise BadInput(f"{path}: not a valid .npz file") from None
    arrays = {}
    with npz:
        for name in npz.files:
            try:
                arrays[name] = npz[name]
            except ValueError:
                raise BadInput(f"array {name}: holds Python objects, which are refused (an .npz "
                               f"of codes needs no pickle)") from None
            except (OSError, zipfile.BadZipFile, EOFError):
                raise BadInput(f"array {name}: corrupt or truncated") from None
    return arrays


def build_container(arrays: dict[str, np.ndarray], out: tp.BinaryIO, codec: str | None = None,
                    trusted_model: str | None = None) -> str:
    """Check `arrays` (from load_codes) and write their container to `out`; returns the codec.
    `codec`: the one the output asks for, which the .npz must hold. `trusted_model`: a model
    outside the known set that the user vouches for (SNAC_MODEL, MIMI_MODEL)."""
    name = _text(arrays, "codec")
    if name not in CODES_CODECS:
        raise BadInput(f"array codec: {name!r} is not one of {', '.join(CODES_CODECS)}")
    if codec is not None and codec != name:
        raise BadInput(f"array codec: the codes are for .{name}, the output is .{codec}")
    model = _text(arrays, "model")
    expected = {"codec", "model", "sample_rate", "source_rate", "samples"} | _OWN_ARRAYS[name](
        arrays)
    for extra in sorted(set(arrays) - expected):
        raise BadInput(f"array {extra}: not an array of .{name} codes (expected "
                       f"{', '.join(sorted(expected))})")
    _WRITERS[name](arrays, model, out, trusted_model)
    return name


# ---------------------------------------------------------------------------------------------
# Export, one container at a time.

def _meta(codec: str, model: str, sample_rate: int, source_rate: int | None,
          samples: int) -> dict[str, np.ndarray]:
    arrays = {"codec": np.array(codec), "model": np.array(model),
              "sample_rate": np.array(sample_rate, dtype=np.int64)}
    if source_rate is not None:
        arrays["source_rate"] = np.array(source_rate, dtype=np.int64)
    arrays["samples"] = np.array(samples, dtype=np.int64)
    return arrays


def _levels(codes: tp.Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"level_{i}": np.asarray(c, dtype=np.int64) for i, c in enumerate(codes)}


def _ecdc_arrays(fo: tp.BinaryIO) -> dict[str, np.ndarray]:
    header = read_ecdc_header(fo)
    if header.use_lm:
        from codec_toolkit.encodec import _read_ecdc_lm, load_encodec, load_encodec_lm

        codes = _read_ecdc_lm(fo, load_encodec_lm(load_encodec()), header).numpy()
    else:
        codes = read_ecdc_packed(fo, header)
    arrays = _meta("ecdc", header.model, ECDC_RATE, header.source_rate, header.length)
    arrays["codes"] = np.asarray(codes, dtype=np.int64)
    arrays["lm"] = np.array(header.use_lm)
    return arrays


def _dac_arrays(dac: DacFile, opts: ExportOptions) -> dict[str, np.ndarray]:
    rate = facts.rate("dac", opts.dac_model)
    samples = max(1, round(dac.original_length * rate / dac.sample_rate))
    arrays = _meta("dac", f"{opts.dac_model}-{opts.dac_bitrate}", rate, dac.sample_rate, samples)
    codes = dac.codes.astype(np.int64)
    arrays["codes"] = codes[0] if dac.channels == 1 else codes
    arrays.update(chunk_length=np.array(dac.chunk_length, dtype=np.int64),
                  padding=np.array(dac.padding), input_db=np.array(dac.input_db, np.float32),
                  original_length=np.array(dac.original_length, dtype=np.int64))
    return arrays


def _legacy_arrays(path: str, opts: ExportOptions) -> dict[str, np.ndarray]:
    # What the file leaves out is what decoding would assume: the user's SNAC knobs.
    meta, codes = read_legacy_snac(path)
    model = meta["model"] or opts.default_model or KNOWN_MODELS["snac"][0]
    shape = SNAC_SHAPES.get(model)
    rate = meta["sample_rate"] or opts.sample_rate or (shape.rate if shape else None)
    length = meta["length"]
    if length is None and shape is not None:
        length = len(codes[0]) * shape.strides[0] * shape.hop
    if rate is None or length is None:
        raise BadInput(f"the legacy file records no rate or length, and model {model!r} is not "
                       f"a known one to take them from")
    arrays = _meta("snac", model, rate, meta["source_rate"] or rate, length)
    arrays.update(_levels(codes))
    return arrays


# ---------------------------------------------------------------------------------------------
# Import: every array checked, one line naming it for each failure, then the container.

def _array(arrays: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in arrays:
        raise BadInput(f"array {name}: missing")
    return arrays[name]


def _text(arrays: dict[str, np.ndarray], name: str) -> str:
    value = _array(arrays, name)
    if value.shape != () or value.dtype.kind != "U" or not 1 <= len(str(value)) <= 255:
        raise BadInput(f"array {name}: expected a 0-d string of 1 to 255 characters, found "
                       f"{value.dtype} of shape {list(value.shape)}")
    return str(value)


def _integer(arrays: dict[str, np.ndarray], name: str, low: int, high: int) -> int:
    value = _array(arrays, name)
    if value.shape != () or value.dtype.kind not in "iu":
        raise BadInput(f"array {name}: expected a 0-d integer, found {value.dtype} of shape "
                       f"{list(value.shape)}")
    if not low <= int(value) <= high:
        raise BadInput(f"array {name}: {int(value)} is out of range {low}..{high}")
    return int(value)


def _flag(arrays: dict[str, np.ndarray], name: str, default: bool | None = None) -> bool:
    if name not in arrays and default is not None:
        return default
    value = _array(arrays, name)
    if value.shape != () or value.dtype.kind not in "biu" or int(value) not in (0, 1):
        raise BadInput(f"array {name}: expected a 0-d bool (or 0/1)")
    return bool(value)


def _codes(arrays: dict[str, np.ndarray], name: str, ndims: tuple[int, ...],
           limit: int) -> np.ndarray:
    """Integer array `name` of one of `ndims` dimensions, no axis empty, every code in
    0..limit-1, as int64."""
    value = _array(arrays, name)
    if value.dtype.kind not in "iu":
        raise BadInput(f"array {name}: expected integers, found {value.dtype}")
    if value.ndim not in ndims or 0 in value.shape:
        raise BadInput(f"array {name}: expected {' or '.join(f'{n}-D' for n in ndims)} with no "
                       f"empty axis, found shape {list(value.shape)}")
    _below(name, value, limit)
    return value.astype(np.int64)


def _below(name: str, codes: np.ndarray, limit: int) -> None:
    bad = (codes < 0) | (codes >= limit)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise BadInput(f"array {name}: code {codes[where]} at {list(where)} is outside "
                       f"0..{limit - 1}")


def _rates(arrays: dict[str, np.ndarray], model_rate: int | None,
           source_optional: bool = False) -> tuple[int, int | None]:
    rate = _integer(arrays, "sample_rate", MIN_RATE, MAX_RATE)
    if model_rate is not None and rate != model_rate:
        raise BadInput(f"array sample_rate: {rate} Hz, the model runs at {model_rate} Hz")
    source = None if source_optional and "source_rate" not in arrays else _integer(
        arrays, "source_rate", MIN_RATE, MAX_RATE)
    return rate, source


def _choose_model(codec: str, model: str, known: tp.Iterable[str], trusted: str | None,
                  knob: str | None) -> bool:
    """Whether `model` is a known one; refuses an unknown one the user did not name."""
    if model in known:
        return True
    if knob is not None and model == trusted:
        return False
    hint = f"; set {knob} to it if you trust it" if knob else ""
    raise BadInput(f"array model: {model[:80]!r} is not a known {codec} model{hint}")


def _frames_fit(name: str, frames: int, samples: int, wanted: int) -> None:
    if frames != wanted:
        raise BadInput(f"array {name}: {frames} frames, but samples {samples} needs {wanted}")


def _snac_levels(arrays: dict[str, np.ndarray]) -> set[str]:
    return {k for k in arrays if k.startswith("level_")}


def _write_snac(arrays, model, out, trusted) -> None:
    known = _choose_model("SNAC", model, KNOWN_MODELS["snac"], trusted, "SNAC_MODEL")
    shape = SNAC_SHAPES[model] if known else None
    rate, source = _rates(arrays, shape.rate if shape else None)
    samples = _integer(arrays, "samples", 1, MAX_SAMPLES)
    names = sorted(_snac_levels(arrays), key=lambda k: (len(k), k))
    count = len(shape.strides) if shape else len(names)
    if names != [f"level_{i}" for i in range(count)] or count not in (3, 4):
        raise BadInput(f"arrays level_*: found {names or 'none'}, expected level_0 to "
                       f"level_{count - 1}" + ("" if shape else " (3 or 4 levels)"))
    levels = [_codes(arrays, n, (1,), SNAC_CODEBOOK) for n in names]
    for i, level in enumerate(levels[1:], 1):
        if len(level) != len(levels[0]) << i:
            raise BadInput(f"array level_{i}: {len(level)} codes, expected {len(levels[0]) << i}"
                           f" (levels go 1:2:4:8, level_0 has {len(levels[0])})")
    if shape:
        _frames_fit("level_0", len(levels[0]), samples, shape.coarse_codes(samples))
    write_ncdc(out, CodesHeader("snac", model, rate, source, samples,
                                SNAC_CODEBOOK.bit_length() - 1), levels)


def _write_mimi(arrays, model, out, trusted) -> None:
    _choose_model("Mimi", model, KNOWN_MODELS["mimi"], trusted, "MIMI_MODEL")
    rate, source = _rates(arrays, MIMI_RATE)
    samples = _integer(arrays, "samples", 1, MAX_SAMPLES)
    codes = _codes(arrays, "codes", (2,), MIMI_CODEBOOK)
    if codes.shape[0] > MIMI_CODEBOOKS:
        raise BadInput(f"array codes: {codes.shape[0]} codebooks, Mimi has 1 to {MIMI_CODEBOOKS}")
    _frames_fit("codes", codes.shape[1], samples, math.ceil(samples / MIMI_FRAME))
    write_ncdc(out, CodesHeader("mimi", model, rate, source, samples,
                                MIMI_CODEBOOK.bit_length() - 1), list(codes))


def _write_semanticodec(arrays, model, out, trusted) -> None:
    # Only the published settings: the name picks the constructor's arguments.
    _choose_model("SemantiCodec", model, KNOWN_MODELS["semanticodec"], None, None)
    token_rate, vocab = (int(v) for v in model.split("-")[1:])
    rate, source = _rates(arrays, SEMANTICODEC_RATE)
    samples = _integer(arrays, "samples", 1, MAX_SAMPLES)
    codes = _codes(arrays, "codes", (2,), 1 << 31)  # each row has its own range, below
    if codes.shape[0] != 2:
        raise BadInput(f"array codes: {codes.shape[0]} rows, expected 2 (semantic, acoustic)")
    _below("codes (row 0, semantic)", codes[0], vocab)
    _below("codes (row 1, acoustic)", codes[1], SEMANTICODEC_ACOUSTIC_VOCAB)
    _frames_fit("codes", codes.shape[1], samples, semanticodec_tokens(samples, token_rate))
    bits = math.ceil(math.log2(max(vocab, SEMANTICODEC_ACOUSTIC_VOCAB)))
    write_ncdc(out, CodesHeader("semanticodec", model, rate, source, samples, bits), list(codes))


def _write_ecdc(arrays, model, out, trusted) -> None:
    _choose_model("EnCodec", model, (ECDC_MODEL,), None, None)
    _, source = _rates(arrays, ECDC_RATE, source_optional=True)
    samples = _integer(arrays, "samples", 1, MAX_SAMPLES)
    codes = _codes(arrays, "codes", (2,), ECDC_CODEBOOK)
    if codes.shape[0] not in ECDC_CODEBOOKS.values():
        raise BadInput(f"array codes: {codes.shape[0]} codebooks, EnCodec has "
                       f"{', '.join(map(str, ECDC_CODEBOOKS.values()))}")
    _frames_fit("codes", codes.shape[1], samples, math.ceil(samples / ECDC_FRAME))
    use_lm = _flag(arrays, "lm", default=False)
    write_ecdc_header(out, EcdcHeader(samples, codes.shape[0], use_lm, source))
    if not use_lm:
        write_ecdc_packed(out, codes)
        return
    import torch

    from codec_toolkit.encodec import _write_ecdc_lm, load_encodec, load_encodec_lm

    _write_ecdc_lm(out, load_encodec_lm(load_encodec()), torch.from_numpy(codes))


def _write_dac(arrays, model, out, trusted) -> None:
    _choose_model("DAC", model, DAC_NAMES, None, None)
    dac_model, bitrate = DAC_NAMES[model]
    rate, source = _rates(arrays, facts.rate("dac", dac_model))
    samples = _integer(arrays, "samples", 1, MAX_SAMPLES)
    codes = _codes(arrays, "codes", (2, 3), DAC_CODEBOOK)
    codes = codes[None] if codes.ndim == 2 else codes
    books = facts.DAC_MODELS[(dac_model, bitrate)][0]
    if codes.shape[1] > books:
        raise BadInput(f"array codes: {codes.shape[1]} codebooks, DAC {model} has 1 to {books}")
    frames = codes.shape[2]
    chunk_length = _integer(arrays, "chunk_length", 1, frames)
    padding = _flag(arrays, "padding")
    original_length = _integer(arrays, "original_length", 1, MAX_SAMPLES)
    if samples != max(1, round(original_length * rate / source)):
        raise BadInput(f"array samples: {samples}, but original_length {original_length} at "
                       f"{source} Hz is {max(1, round(original_length * rate / source))} at "
                       f"{rate} Hz")
    hop = DAC_HOPS[dac_model]
    # One window, padding on: the frames cover the samples (give or take the rounding
    # between rates); windows with padding off overlap, and the decoder checks those.
    if padding and (chunk_length != frames or not (frames - 1) * hop - 1 < samples
                    <= frames * hop + 1):
        raise BadInput(f"array codes: {frames} frames in chunks of {chunk_length} do not fit "
                       f"samples {samples} (padding on: one chunk of ceil(samples / {hop}))")
    input_db = _array(arrays, "input_db")
    if input_db.shape != () or input_db.dtype.kind != "f" or not -200 <= input_db <= 200:
        raise BadInput("array input_db: expected a 0-d float from -200 to 200 (LUFS)")
    write_dac(out, DacFile(codes=codes, chunk_length=chunk_length,
                           original_length=original_length, input_db=float(input_db),
                           sample_rate=source, padding=padding))


_WRITERS = {"snac": _write_snac, "mimi": _write_mimi, "semanticodec": _write_semanticodec,
            "ecdc": _write_ecdc, "dac": _write_dac}
# The arrays each codec has besides the common five.
_OWN_ARRAYS: dict[str, tp.Callable[[dict], set[str]]] = {
    "snac": _snac_levels,
    "mimi": lambda arrays: {"codes"},
    "semanticodec": lambda arrays: {"codes"},
    "ecdc": lambda arrays: {"codes", "lm"},
    "dac": lambda arrays: {"codes", "chunk_length", "padding", "input_db", "original_length"},
}
