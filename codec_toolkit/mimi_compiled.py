"""Mimi's encoder compiled ahead of time by AOTInductor: the streaming step of `mimi_graph`,
with its state carried from chunk to chunk by the caller.

Most of a short Mimi encode is spent before the model runs: importing transformers' Mimi module
(2.1 s: it pulls in torch._dynamo, torch.distributed and scipy) and loading the model (0.45 s).
A prepared package needs neither: it is keyed by the bytes of the model's files (config.json and
model.safetensors), not by the loaded model, and carries in its metadata the few facts an encode
needs. So a run that finds it only hashes the files and loads the package. The package holds
one codebook count (the quantizer's loop is unrolled); another count prepares its own.

torch is imported inside the functions that use it.
"""

from __future__ import annotations

import functools
import json
import math
import os
import typing as tp

import numpy as np

from codec_toolkit import aoti, prepared
from codec_toolkit.errors import BadValue, MissingPackage
from codec_toolkit.runtime import chunk_samples, knob, release_memory

# Of the compilation below, part of the cache key.
RECIPE = 1

WEIGHTS = "model.safetensors"


class MimiCompiledEncoder:
    """Samples -> codes through a prepared package; the interface of `MimiRunner.encode`."""

    def __init__(self, path: str, chunk_seconds: float | None = None):
        self.runner, self.facts = _loaded(path)
        self.frame = self.facts["frame"]
        self.chunk = max(1, chunk_samples(chunk_seconds, self.facts["sampling_rate"])
                         // self.frame)

    def encode(self, samples: np.ndarray, codebooks: int, progress=None) -> np.ndarray:
        """Samples [T] -> codes [codebooks, ceil(T / frame)], as `MimiRunner.encode`."""
        import torch

        assert codebooks == self.facts["codebooks"]
        frames = math.ceil(len(samples) / self.frame)
        state = [torch.zeros(shape) for shape in self.facts["state"]]
        parts = []
        with torch.inference_mode():
            for start in range(0, frames, self.chunk):
                stop = min(frames, start + self.chunk)
                piece = np.zeros((stop - start) * self.frame, dtype=np.float32)
                data = samples[start * self.frame: stop * self.frame]
                piece[:len(data)] = data
                inputs = [torch.from_numpy(piece)[None, None], torch.tensor(start == 0),
                          torch.tensor(start * self.facts["steps_per_frame"]), *state]
                codes, *state = self.runner.boxed_run(inputs)
                parts.append(codes[0].numpy())
                release_memory()
                if progress:
                    progress(min(len(samples), stop * self.frame) - start * self.frame)
        return np.concatenate(parts, axis=-1)


def model_files(model_id: str) -> tuple[str, str] | None:
    """The model's config.json and weights, from a local directory or the hub cache (never the
    network); None when either is not there (an unusual layout runs on the torch path)."""
    if os.path.isdir(model_id):
        found = tuple(os.path.join(model_id, name) for name in ("config.json", WEIGHTS))
        return found if all(map(os.path.isfile, found)) else None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = tuple(try_to_load_from_cache(model_id, name) for name in ("config.json", WEIGHTS))
    return found if all(isinstance(path, str) for path in found) else None


def package_key(files: tuple[str, str], codebooks: int) -> dict:
    return {"recipe": RECIPE, "part": "mimi-encoder", "machine": prepared.machine(),
            "config": prepared.file_digest(files[0]), "weights": prepared.file_digest(files[1]),
            "codebooks": codebooks}


def compiled_or_none(model_id: str, codebooks: int, backend: str, device: str,
                     chunk_seconds: float | None) -> MimiCompiledEncoder | None:
    """The compiled encoder when `backend` allows it and its package is prepared (built by an
    earlier run or `--prepare`), without importing transformers; else None."""
    if not wants_compiled(backend, device):
        return None
    try:
        return MimiCompiledEncoder(_prepared_package(model_id, codebooks), chunk_seconds)
    except LookupError:
        return None


@functools.lru_cache(maxsize=4)
def _prepared_package(model_id: str, codebooks: int) -> str:
    """The valid package's path, checked once per process (a batch encodes many files);
    LookupError, not cached, when there is none yet."""
    files = model_files(model_id)
    if files is None:
        raise LookupError(model_id)
    parts = package_key(files, codebooks)
    path = prepared.artifact_path("compiled", ".pt2", parts)
    if not prepared.is_valid(path, parts):
        raise LookupError(path)
    return path


@functools.lru_cache(maxsize=4)
def _loaded(path: str) -> tuple[tp.Any, dict]:
    """The package's runner and the facts compiled into it, loaded once per process."""
    runner = aoti.load(path)
    return runner, json.loads(runner.get_metadata()["toolkit"])


def compiled_for(model, model_id: str, codebooks: int, backend: str, device: str,
                 chunk_seconds: float | None) -> MimiCompiledEncoder | None:
    """The compiled encoder of the loaded `model`, prepared now if need be (with a line on
    stderr); None when `backend` does not ask for it, or under `auto` when it cannot be built
    (no compiler, a failed compilation, or model files this key cannot name): the torch path
    runs then, with the same codes."""
    if not wants_compiled(backend, device):
        return None
    try:
        return MimiCompiledEncoder(encoder_package(model, model_id, codebooks,
                                                   retry=backend == "compiled"), chunk_seconds)
    except ImportError as exc:
        if backend == "compiled":
            raise MissingPackage(f"MODEL_BACKEND=compiled needs the Python package "
                                 f"{exc.name}") from None
    except Exception as exc:  # noqa: BLE001 - auto goes on with torch, which works
        if backend == "compiled":
            raise aoti.failure(exc, "Mimi's encoder", "Mimi's compiled encoder") from None
    return None


def wants_compiled(backend: str, device: str) -> bool:
    if backend == "compiled" and device != "cpu":
        raise BadValue(f"{knob('MODEL_BACKEND', '--backend', backend)} runs Mimi on the CPU "
                       f"only, not on {knob('TORCH_DEVICE', '--device', device)} (use "
                       f"{knob('MODEL_BACKEND', '--backend', 'torch')} or auto)")
    return backend == "compiled" or (backend == "auto" and device == "cpu")


def prepare(model, model_id: str, codebooks: int) -> tuple[list[str], list[Exception]]:
    """Builds the encoder's package for `model` and `codebooks` now (for people who prepare
    machines): ([its path], []) or ([], [the reason it could not be built])."""
    most = model.config.num_quantizers
    if not 1 <= codebooks <= most:
        raise BadValue(f"{codebooks} codebooks asked for; Mimi model {model_id} has 1 to {most}")
    try:
        return [encoder_package(model, model_id, codebooks)], []
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, as every failure of a helper
        return [], [aoti.failure(exc, "Mimi's encoder", "Mimi's compiled encoder")]


def encoder_package(model, model_id: str, codebooks: int, retry: bool = True) -> str:
    """The path of the encoder's package for `model` (loaded from `model_id`) and `codebooks`,
    compiled when missing."""
    import torch

    files = model_files(model_id)
    if files is None:
        raise RuntimeError(f"{model_id} has no single {WEIGHTS} to key a compiled encoder by")
    parts = package_key(files, codebooks)
    return aoti.prepared_package(
        parts, lambda path: _compile(model, codebooks, path),
        f"the compiled Mimi encoder for this machine (AOTInductor, once per model, codebook "
        f"count and torch {torch.__version__}; 30 to 90 s)", retry)


def _compile(model, codebooks: int, path: str) -> None:
    import torch

    from codec_toolkit.mimi_graph import EncoderStep

    step = EncoderStep(model, codebooks).eval()
    state = step.initial_state()
    config = model.config
    frame = int(config.sampling_rate / config.frame_rate)
    chunk = max(1, chunk_samples(None, config.sampling_rate) // frame)
    # The chunk length is dynamic (one package serves --chunk-seconds and a short last chunk);
    # the example is the length nearly every call has, which inductor tunes its loops for.
    frames = torch.export.Dim("frames", min=1, max=1 << 20)
    args = (torch.zeros(1, 1, chunk * frame), torch.tensor(True), torch.tensor(0), state[0],
            state[1], state[2:])
    shapes = ({2: frames * frame}, None, None, None, None, [None] * len(state[2:]))
    facts = {"sampling_rate": config.sampling_rate, "frame": frame,
             "steps_per_frame": round(config.encodec_frame_rate / config.frame_rate),
             "codebook_size": config.codebook_size, "codebooks": codebooks,
             "state": [list(tensor.shape) for tensor in state]}
    aoti.compile_package(step, args, shapes, path, metadata={"toolkit": json.dumps(facts)})

