"""SNAC's encoder and decoder networks exported to ONNX and run by ONNX Runtime.

torch, snac and onnxruntime are imported inside the functions that use them.
"""

# `import snac` in here gets the pip package, not codec_toolkit/snac.py: imports are absolute,
# and only the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import math
import os
import sys

import numpy as np

from codec_toolkit.errors import CodecFailure, MissingPackage, first_line, program_name
from codec_toolkit.runtime import cache_dir


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


def _export_snac_part(model, part: str, path: str) -> None:
    """torch.onnx.export of SNAC's encoder or decoder with a dynamic time axis."""
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
            raise MissingPackage(f"MODEL_BACKEND=onnx needs the Python package {exc.name} "
                                    f"(pip install onnxruntime onnx onnxscript)") from None
    except Exception as exc:  # noqa: BLE001 - an export that fails leaves torch, which works
        if backend == "onnx":
            raise CodecFailure(f"cannot run SNAC under ONNX Runtime: {first_line(exc)}"
                               ) from None
    return None


@functools.lru_cache(maxsize=4)
def _snac_graphs_once(model, threads: int) -> SnacGraphs:
    return SnacGraphs(model, threads)
