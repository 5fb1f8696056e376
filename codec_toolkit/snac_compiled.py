"""SNAC's encoder and decoder networks compiled ahead of time by torch's AOTInductor.

Inductor fuses each Snake activation (`x + sin(ax)^2 / a`, five passes over memory in the
eager graph) into one vectorised loop, and the compiled code calls no Python between layers.
The layers that compile poorly as they are (depthwise convolutions, and the decoder's head's
kernel-1 ones) are traced in the forms of `snac_forms`, the decoder's blocks in those of
`snac_time_major`.
The weights are frozen into the package: oneDNN then keeps them in its own blocked layout
instead of reordering them on every call (without freezing, a package that takes the model's
weights at load time decoded 10 s in 2.7 s instead of 0.9 s). So a package is keyed by the
weights' bytes (copies of a model share one), the architecture, the torch build and the CPU.

torch and snac are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib

import numpy as np

from codec_toolkit import aoti, prepared, snac_graph
from codec_toolkit.snac_forms import fusable_forms
from codec_toolkit.snac_time_major import decoder_tail

# Of the compilation below, part of the cache key. 4: snac_forms; 5: their upsampling product
# with the weights on the left; 6: loops that take the run's thread count (aoti.DYNAMIC_THREADS);
# 7: the forms' `stored` values (the same output, bit for bit, in less time); 8: the decoder's
# latent holds its head's context (snac_graph.run_decoder); the decoder's 9: its convolutions of
# kernel 1 as matrix products; 10: its blocks time-major (snac_time_major). Per network, so that
# the encoder's package, unchanged, is not compiled again.
RECIPE = {"encoder": 8, "decoder": 10}


class SnacCompiled:
    """SNAC's two networks as AOTInductor packages; same interface as `SnacGraphs`."""

    def __init__(self, model, retry: bool = True, parts: tuple = snac_graph.PARTS):
        # The packages are checked now, so that a failure shows before any work; each is
        # loaded when first run.
        self.paths = {part: compiled_package(model, part, retry) for part in parts}
        self.runners = {}

    def _runner(self, part: str):
        if part not in self.runners:
            self.runners[part] = aoti.load(self.paths[part])
        return self.runners[part]

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Samples [T] -> latent [1, C, T / hop]."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(samples))[None, None]
            return self._runner("encoder").boxed_run([x])[0].numpy()

    def decode(self, latent: np.ndarray, noise: list[np.ndarray]) -> np.ndarray:
        """Latent [1, C, F] and one noise array per noise block -> samples [F x hop]."""
        import torch

        inputs = [latent, *(n[None, None] for n in noise)]
        with torch.inference_mode():
            inputs = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
            return self._runner("decoder").boxed_run(inputs)[0][0, 0].numpy()


def compiled_package(model, part: str, retry: bool = True) -> str:
    """The path of `part`'s package for this model's architecture, compiled when missing."""
    import torch

    parts = {"recipe": RECIPE[part], "part": part, "machine": prepared.machine(),
             "weights": prepared.file_digest(model.toolkit_weights),
             "architecture": snac_graph.architecture(model, part)}
    return aoti.prepared_package(
        parts, lambda path: _compile(model, part, path),
        f"the compiled SNAC {part} for this machine (AOTInductor, once per model and "
        f"torch {torch.__version__}; 30 to 90 s)", retry)


def _compile(model, part: str, path: str) -> None:
    module, args, _, shapes = snac_graph.part_graph(model, part, decoder_tail)
    aoti.compile_package(module, args, shapes, path, _traced_forms(model, part))


@contextlib.contextmanager
def _traced_forms(model, part: str):
    with snac_graph.tracing(model), fusable_forms(model, part):
        yield
