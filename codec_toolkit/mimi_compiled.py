"""Mimi compiled ahead of time by AOTInductor: the encoder's streaming step and the decoder's
up to its SEANet (`mimi_graph`), with their state carried from chunk to chunk by the caller.
The decoder's SEANet runs eagerly (`mimi_forms`, faster than inductor's loops for it) from
its plan, saved once beside the package as a safetensors file: tensors and a JSON list of
operations, nothing that runs code when read.

Most of a short Mimi encode is spent before the model runs: importing transformers' Mimi module
(2.1 s: it pulls in torch._dynamo, torch.distributed and scipy) and loading the model (0.45 s).
A prepared package needs neither: it is keyed by the bytes of the model's files (config.json and
model.safetensors), not by the loaded model, and carries in its metadata the few facts an encode
needs. So a run that finds it only hashes the files and loads the package. The encoder's
package holds one codebook count (the quantizer's loop is unrolled); another count prepares its
own. The decoder's serves every count.

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
from codec_toolkit.mimi_forms import ChunkedSeanet, run_plan, seanet_plan, stands_alone
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


class MimiCompiledDecoder:
    """Codes -> samples through the prepared decoder package and SEANet plan; the interface of
    `MimiRunner.decode`."""

    def __init__(self, package: str, plan: str, chunk_seconds: float | None = None):
        self.runner, self.facts = _loaded(package)
        self.operations, self.tensors = _loaded_plan(plan)
        self.frame = self.facts["frame"]
        self.chunk = max(1, chunk_samples(chunk_seconds, self.facts["sampling_rate"])
                         // self.frame)

    def decode(self, codes: np.ndarray, progress=None) -> tp.Iterator[np.ndarray]:
        """Codes [K, F] -> samples, chunk by chunk (frame * F in all), as `MimiRunner.decode`."""
        import torch

        steps = self.facts["steps_per_frame"]
        seanet = ChunkedSeanet(lambda hidden: run_plan(self.operations, self.tensors, hidden),
                               self.frame, steps)
        most = self.facts["num_quantizers"]
        used = torch.arange(most) < len(codes)
        state = [torch.zeros(shape) for shape in self.facts["state"]]
        for start in range(0, codes.shape[-1], self.chunk):
            stop = min(codes.shape[-1], start + self.chunk)
            piece = torch.zeros(1, most, stop - start, dtype=torch.int64)
            piece[0, :len(codes)] = torch.from_numpy(codes[:, start:stop].astype(np.int64))
            with torch.inference_mode():
                hidden, *state = self.runner.boxed_run([piece, used, torch.tensor(start * steps),
                                                        *state])
                samples = seanet(hidden)
            release_memory()
            if progress:
                progress((stop - start) * self.frame)
            yield samples


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


def package_key(files: tuple[str, str], codebooks: int | None, part: str = "mimi-encoder"
                ) -> dict:
    """The key of `part`'s package (the encoder's for `codebooks`; the decoder's, for every
    count, with None)."""
    parts = {"recipe": RECIPE, "part": part, "machine": prepared.machine(),
             "config": prepared.file_digest(files[0]),
             "weights": prepared.file_digest(files[1])}
    return parts if codebooks is None else {**parts, "codebooks": codebooks}


def plan_key(files: tuple[str, str]) -> dict:
    """The key of the decoder's SEANet plan: data, the same on every machine."""
    return {"recipe": RECIPE, "part": "mimi-seanet", "config": prepared.file_digest(files[0]),
            "weights": prepared.file_digest(files[1])}


def compiled_or_none(model_id: str, codebooks: int, backend: str, device: str,
                     chunk_seconds: float | None) -> MimiCompiledEncoder | None:
    """The compiled encoder when `backend` allows it and its package is prepared (built by an
    earlier run or `--prepare`), without importing transformers; else None."""
    if not wants_compiled(backend, device):
        return None
    try:
        files = _files_of(model_id)
        return MimiCompiledEncoder(_valid(".pt2", package_key(files, codebooks)), chunk_seconds)
    except LookupError:
        return None


def decoder_or_none(model_id: str, backend: str, device: str, chunk_seconds: float | None
                    ) -> MimiCompiledDecoder | None:
    """The compiled decoder when `backend` allows it and it is prepared, without importing
    transformers; else None."""
    if not wants_compiled(backend, device):
        return None
    try:
        files = _files_of(model_id)
        return MimiCompiledDecoder(_valid(".pt2", package_key(files, None, "mimi-decoder")),
                                   _valid(".safetensors", plan_key(files)), chunk_seconds)
    except LookupError:
        return None


def _files_of(model_id: str) -> tuple[str, str]:
    files = model_files(model_id)
    if files is None:
        raise LookupError(model_id)
    return files


@functools.lru_cache(maxsize=8)
def _valid_once(suffix: str, key: str) -> str:
    parts = json.loads(key)
    path = prepared.artifact_path("compiled", suffix, parts)
    if not prepared.is_valid(path, parts):
        raise LookupError(path)
    return path


def _valid(suffix: str, parts: dict) -> str:
    """The valid artifact's path, checked once per process (a batch runs many files);
    LookupError, not cached, when there is none yet."""
    return _valid_once(suffix, json.dumps(parts, sort_keys=True))


@functools.lru_cache(maxsize=4)
def _loaded(path: str) -> tuple[tp.Any, dict]:
    """The package's runner and the facts compiled into it, loaded once per process."""
    runner = aoti.load(path)
    return runner, json.loads(runner.get_metadata()["toolkit"])


@functools.lru_cache(maxsize=2)
def _loaded_plan(path: str) -> tuple[list, dict]:
    """The SEANet plan's operations and tensors, read once per process."""
    from safetensors import safe_open

    with safe_open(path, "pt") as fo:
        operations = json.loads(fo.metadata()["operations"])
        return operations, {name: fo.get_tensor(name) for name in fo.keys()}


def compiled_for(model, model_id: str, codebooks: int, backend: str, device: str,
                 chunk_seconds: float | None) -> MimiCompiledEncoder | None:
    """The compiled encoder of the loaded `model`, prepared now if need be (with a line on
    stderr); None when `backend` does not ask for it, or under `auto` when it cannot be built
    (no compiler, a failed compilation, or model files this key cannot name): the torch path
    runs then, with the same codes."""
    if not wants_compiled(backend, device):
        return None
    return _built_or_none(lambda: MimiCompiledEncoder(
        encoder_package(model, model_id, codebooks, retry=backend == "compiled"),
        chunk_seconds), backend, "encoder")


def decoder_for(model, model_id: str, backend: str, device: str,
                chunk_seconds: float | None) -> MimiCompiledDecoder | None:
    """The compiled decoder of the loaded `model`, prepared now if need be, as `compiled_for`
    for the encoder; None when `backend` does not ask for it or under `auto` when it cannot be
    built (the torch path runs then)."""
    if not wants_compiled(backend, device):
        return None
    return _built_or_none(lambda: MimiCompiledDecoder(
        *decoder_files(model, model_id, retry=backend == "compiled"), chunk_seconds),
        backend, "decoder")


def _built_or_none(build: tp.Callable, backend: str, network: str):
    """`build()`; under `auto`, None when it fails (the torch path runs then, which works);
    under `compiled`, the failure as one line."""
    try:
        return build()
    except ImportError as exc:
        if backend == "compiled":
            raise MissingPackage(f"MODEL_BACKEND=compiled needs the Python package "
                                 f"{exc.name}") from None
    except Exception as exc:  # noqa: BLE001 - auto goes on with torch
        if backend == "compiled":
            raise _failure(exc, network) from None
    return None


def _failure(exc: Exception, network: str) -> Exception:
    return aoti.failure(exc, f"Mimi's {network}", f"Mimi's compiled {network}")


def wants_compiled(backend: str, device: str) -> bool:
    if backend == "compiled" and device != "cpu":
        raise BadValue(f"{knob('MODEL_BACKEND', '--backend', backend)} runs Mimi on the CPU "
                       f"only, not on {knob('TORCH_DEVICE', '--device', device)} (use "
                       f"{knob('MODEL_BACKEND', '--backend', 'torch')} or auto)")
    return backend == "compiled" or (backend == "auto" and device == "cpu")


def prepare(model, model_id: str, codebooks: int) -> tuple[list[str], list[Exception]]:
    """Builds the encoder's package for `model` and `codebooks` and the decoder's package and
    plan now (for people who prepare machines): (the packages ready, the reasons the others
    could not be built)."""
    most = model.config.num_quantizers
    if not 1 <= codebooks <= most:
        raise BadValue(f"{codebooks} codebooks asked for; Mimi model {model_id} has 1 to {most}")
    ready, failures = [], []
    for build, network in ((lambda: encoder_package(model, model_id, codebooks), "encoder"),
                           (lambda: decoder_files(model, model_id)[0], "decoder")):
        try:
            ready.append(build())
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line, as every failure of a helper
            failures.append(_failure(exc, network))
    return ready, failures


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



def decoder_files(model, model_id: str, retry: bool = True) -> tuple[str, str]:
    """The paths of the decoder's package and SEANet plan for `model` (loaded from
    `model_id`), built when missing."""
    import torch

    files = model_files(model_id)
    if files is None:
        raise RuntimeError(f"{model_id} has no single {WEIGHTS} to key a compiled decoder by")
    with torch.no_grad():
        operations, tensors = seanet_plan(model.decoder.decoder_seanet)
    if not stands_alone(operations):
        raise RuntimeError(f"Mimi model {model_id}'s SEANet decoder has a layer that runs only "
                           f"through transformers")
    package = aoti.prepared_package(
        package_key(files, None, "mimi-decoder"), lambda path: _compile_decoder(model, path),
        f"the compiled Mimi decoder for this machine (AOTInductor, once per model and torch "
        f"{torch.__version__}; 30 to 90 s)", retry)
    plan = prepared.prepared("compiled", ".safetensors", plan_key(files),
                             lambda path: _save_plan(operations, tensors, path),
                             "the SEANet plan of Mimi's decoder (once per model, 1 s)", retry)
    return package, plan


def _save_plan(operations: list, tensors: dict, path: str) -> None:
    from safetensors.torch import save_file

    save_file({name: tensor.contiguous() for name, tensor in tensors.items()}, path,
              metadata={"operations": json.dumps(operations)})


def _compile_decoder(model, path: str) -> None:
    import torch

    from codec_toolkit.mimi_graph import DecoderHead

    head = DecoderHead(model).eval()
    state = head.initial_state()
    config = model.config
    frame = int(config.sampling_rate / config.frame_rate)
    chunk = max(1, chunk_samples(None, config.sampling_rate) // frame)
    most = config.num_quantizers
    frames = torch.export.Dim("frames", min=1, max=1 << 20)
    args = (torch.zeros(1, most, chunk, dtype=torch.int64), torch.ones(most, dtype=torch.bool),
            torch.tensor(0), *state)
    shapes = ({2: frames}, None, None, None, None, None)
    facts = {"sampling_rate": config.sampling_rate, "frame": frame,
             "steps_per_frame": round(config.encodec_frame_rate / config.frame_rate),
             "codebook_size": config.codebook_size, "num_quantizers": most,
             "state": [list(tensor.shape) for tensor in state]}
    aoti.compile_package(head, args, shapes, path, metadata={"toolkit": json.dumps(facts)})
