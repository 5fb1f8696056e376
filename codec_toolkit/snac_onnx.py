"""SNAC's encoder and decoder networks exported to ONNX and run by ONNX Runtime.

torch, snac and onnxruntime are imported inside the functions that use them.
"""

# `import snac` in here gets the pip package, not codec_toolkit/snac.py: imports are absolute,
# and only the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import contextlib
import io

import numpy as np

from codec_toolkit import prepared, snac_graph


class SnacGraphs:
    """SNAC's encoder and decoder networks run by ONNX Runtime, which runs them about twice as
    fast as torch on the CPU (most of torch's time goes to the Snake activations, which it runs
    as separate passes over memory). Each network is exported once per model and cached; the
    decoder's noise becomes inputs, fed from `counter_normal` like the torch path.
    Results differ from torch's by float rounding (about 1e-6 relative)."""

    VERSION = 2  # of the export recipe below, part of the cache key. 2: run_decoder's context

    def __init__(self, model, threads: int, parts: tuple = snac_graph.PARTS):
        import onnxruntime

        self.options = onnxruntime.SessionOptions()
        self.options.intra_op_num_threads = threads
        self.options.inter_op_num_threads = 1
        self.options.log_severity_level = 3
        # No arena: memory goes back after each chunk. With it, a 1-hour snac_32khz encode grew
        # to 3.4 GB (1.9 GB after one minute); shrinking it after each run still grew.
        self.options.enable_cpu_mem_arena = False
        self.paths = {part: onnx_file(model, part) for part in parts}
        self.sessions = {}  # each made when first run

    def _session(self, part: str):
        import onnxruntime

        if part not in self.sessions:
            self.sessions[part] = onnxruntime.InferenceSession(
                self.paths[part], self.options, providers=["CPUExecutionProvider"])
        return self.sessions[part]

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Samples [T] -> latent [1, C, T / hop]."""
        return self._session("encoder").run(None, {"x": samples[None, None]})[0]

    def decode(self, latent: np.ndarray, noise: list[np.ndarray]) -> np.ndarray:
        """Latent [1, C, F] and one noise array per noise block -> samples [F x hop]."""
        feeds = {"z": latent, **{f"n{i}": n[None, None] for i, n in enumerate(noise)}}
        return self._session("decoder").run(None, feeds)[0][0, 0]


def onnx_file(model, part: str) -> str:
    """The path of `part`'s ONNX export for this model, exported when missing. The export holds
    the weights, so the key has their digest."""
    import onnxruntime
    import torch

    parts = {"recipe": SnacGraphs.VERSION, "part": part,
             "weights": prepared.file_digest(model.toolkit_weights),
             "torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
    return prepared.prepared("onnx", ".onnx", parts, lambda path: _export(model, part, path),
                             f"the ONNX {part} of this SNAC model (once per model; 10 to 30 s)")


def _export(model, part: str, path: str) -> None:
    """torch.onnx.export of SNAC's encoder or decoder with a dynamic time axis."""
    import logging

    import torch

    graph, args, names, shapes = snac_graph.part_graph(model, part)
    global _SDPA
    sdpa = _SDPA = _SDPA or torch.nn.functional.scaled_dot_product_attention
    quiet = io.StringIO()
    try:
        # The exporter handles attention on 4-D tensors only; snac's windows make them 5-D.
        torch.nn.functional.scaled_dot_product_attention = _sdpa_4d
        logging.disable(logging.WARNING)
        with snac_graph.tracing(model), contextlib.redirect_stdout(quiet), \
                contextlib.redirect_stderr(quiet):
            torch.onnx.export(graph, args, path, dynamo=True, dynamic_shapes=shapes,
                              input_names=names, output_names=["out"], optimize=True,
                              external_data=False)
    finally:
        torch.nn.functional.scaled_dot_product_attention = sdpa
        logging.disable(logging.NOTSET)


_SDPA = None  # torch's scaled_dot_product_attention, kept by the first _export_snac_part


def _sdpa_4d(q, k, v, *args, **kwargs):
    """scaled_dot_product_attention over [..., n, d] with the leading dims folded into one."""
    sdpa = _SDPA
    shape = q.shape
    out = sdpa(q.reshape(shape[0], -1, *shape[-2:]), k.reshape(shape[0], -1, *k.shape[-2:]),
               v.reshape(shape[0], -1, *v.shape[-2:]), *args, **kwargs)
    return out.reshape(*shape[:-1], out.shape[-1])
