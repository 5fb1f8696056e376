"""Legacy .snac files: a torch.save'd list of code tensors, or a dict holding them plus metadata.

Read with torch.load(weights_only=True), which refuses to build anything but tensors and plain
values, then checked field by field. torch is imported only when a file is read, so recognising
one (`is_legacy_snac`) stays light.
"""

from __future__ import annotations

import typing as tp
import warnings

import numpy as np

from codec_toolkit import facts
from codec_toolkit.binary import MAX_RATE, MAX_SAMPLES, MIN_RATE
from codec_toolkit.errors import ContainerError, InvalidField

# torch.save's default (zip) format, and its legacy format (a raw pickle's protocol byte).
LEGACY_MAGICS = tuple(magic for codec, magic, _ in facts.LEGACY if codec == "snac")


def is_legacy_snac(head: bytes) -> bool:
    """Whether a file's first bytes are those of a torch.save file."""
    return any(head.startswith(magic) for magic in LEGACY_MAGICS)


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


def _legacy_int(value: tp.Any, name: str, lower: int, upper: int) -> int | None:
    import torch

    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = int(value.item())
    if type(value) is not int:
        raise InvalidField(f"legacy field {name} is invalid")
    if not lower <= value <= upper:
        raise InvalidField(f"legacy field {name} {value} is out of range {lower}..{upper}")
    return value


def _safe_loader_reason(exc: Exception) -> str:
    """The useful line of a weights_only failure: the forbidden global, when it names one."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line for line in lines if "Unsupported global" in line or "GLOBAL" in line]
    reason = (named or lines or [type(exc).__name__])[0]
    return reason[:160]


def read_legacy_snac(file: str | tp.BinaryIO) -> tuple[dict, list[np.ndarray]]:
    """Read a torch.save'd .snac (a path or a binary file) safely: weights_only refuses any code
    object, then every field is checked. Returns (metadata with keys model/sample_rate/
    source_rate/length, possibly None, codes as 1-D int64 arrays)."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on odd pickle protocols
            obj = torch.load(file, map_location="cpu", weights_only=True)
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
        for field, lower, upper in (("sample_rate", MIN_RATE, MAX_RATE),
                                    ("source_rate", MIN_RATE, MAX_RATE),
                                    ("length", 1, MAX_SAMPLES)):
            meta[field] = _legacy_int(_legacy_field(obj, field), field, lower, upper)
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


def info_fields(fo: tp.BinaryIO) -> dict[str, tp.Any]:
    """A legacy .snac file's fields for `decode_ecdc.py --info`: those it records (a bare list
    of codes records none), samples at its sample_rate."""
    meta, codes = read_legacy_snac(fo)
    fields = {"container": "snac-legacy", "codec": "snac", "model": meta["model"],
              "sample_rate": meta["sample_rate"], "source_rate": meta["source_rate"],
              "samples": meta["length"], "levels": len(codes), "length": meta["length"]}
    if meta["length"] and meta["sample_rate"]:
        fields["duration"] = meta["length"] / meta["sample_rate"]
    return {key: value for key, value in fields.items() if value is not None}
