"""Which engine runs SNAC's two networks: compiled (AOTInductor), onnx (ONNX Runtime) or torch.

`auto` on the CPU takes the first that works of compiled, onnx and torch; the codes are the
same whichever runs, and the audio differs by float rounding (about 1e-6 relative).
"""

from __future__ import annotations

import functools

from codec_toolkit import aoti
from codec_toolkit.errors import BadValue, CodecFailure, MissingPackage, first_line
from codec_toolkit.runtime import knob
from codec_toolkit.snac_graph import PARTS


def snac_graphs(model, backend: str, device: str, threads: int, parts: tuple = PARTS):
    """The compiled or ONNX graphs of `model`'s networks `parts` when `backend` asks for them or
    allows them ('auto', on the CPU), else None: the torch path. Only those networks are checked
    and prepared: an encode has no use for the decoder (hashing it cost a 32 kHz encode 0.17 s,
    and compiling it on first use as long as the encoder)."""
    if backend == "torch" or (backend == "auto" and device != "cpu"):
        return None
    if device != "cpu":  # both engines' artifacts are built for the CPU
        raise BadValue(f"{knob('MODEL_BACKEND', '--backend', backend)} runs SNAC on the CPU "
                       f"only, not on {knob('TORCH_DEVICE', '--device', device)} (use "
                       f"{knob('MODEL_BACKEND', '--backend', 'torch')} or auto)")
    if backend in ("auto", "compiled"):
        try:
            return _compiled_once(model, backend == "compiled", parts)
        except ImportError as exc:
            if backend == "compiled":
                raise MissingPackage(f"MODEL_BACKEND=compiled needs the Python package "
                                     f"{exc.name}") from None
        except Exception as exc:  # noqa: BLE001 - auto goes on to ONNX Runtime, then torch
            if backend == "compiled":
                raise aoti.failure(exc, "SNAC's networks", "SNAC's compiled networks") from None
    try:
        return _onnx_once(model, threads, parts)
    except ImportError as exc:
        if backend == "onnx":
            raise MissingPackage(f"MODEL_BACKEND=onnx needs the Python package {exc.name} "
                                 f"(pip install onnxruntime onnx onnxscript)") from None
    except Exception as exc:  # noqa: BLE001 - an export that fails leaves torch, which works
        if backend == "onnx":
            raise CodecFailure(f"cannot run SNAC under ONNX Runtime: {first_line(exc)}"
                               ) from None
    return None


def prepare(model) -> tuple[list[str], list[Exception]]:
    """Builds every artifact the backends can use for `model` now (for people who prepare
    machines). Returns what is ready and what failed: a compilation that fails does not stop
    the ONNX export, which `auto` then runs."""
    from codec_toolkit import snac_compiled, snac_onnx

    ready, failed = [], []
    if aoti.compiler() is not None:
        try:
            ready += [snac_compiled.compiled_package(model, part) for part in PARTS]
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line, as every failure of a helper
            failed.append(aoti.failure(exc, "SNAC's networks", "SNAC's compiled networks"))
    try:
        import onnxruntime  # noqa: F401 - only whether it is there
    except ImportError:
        return ready, failed
    try:
        ready += [snac_onnx.onnx_file(model, part) for part in PARTS]
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001
        failed.append(CodecFailure(f"cannot export SNAC's networks to ONNX: {first_line(exc)}"))
    return ready, failed


@functools.lru_cache(maxsize=4)
def _compiled_once(model, retry: bool, parts: tuple):
    from codec_toolkit.snac_compiled import SnacCompiled

    return SnacCompiled(model, retry, parts)


@functools.lru_cache(maxsize=4)
def _onnx_once(model, threads: int, parts: tuple):
    from codec_toolkit.snac_onnx import SnacGraphs

    return SnacGraphs(model, threads, parts)
