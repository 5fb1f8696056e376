"""SNAC's encoder and decoder networks as standalone graphs, what the ONNX and compiled
backends build from: the decoder's noise becomes inputs (fed from `counter_normal`, as the torch
path draws it), and the time axis is dynamic in steps of the model's padding unit.

torch and snac are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

from codec_toolkit.runtime import CHUNK_SAMPLES

PARTS = ("encoder", "decoder")


def noise_scales(model) -> list[int]:
    """Samples per latent frame at each decoder block's output, one per noise block."""
    return [int(np.prod(model.decoder_rates[: i + 1])) for i in range(len(_noise_blocks(model)))]


def part_graph(model, part: str):
    """(module, example inputs, input names, dynamic shapes) of `part`; the module holds the
    model's own parameters, under the names `module.state_dict()` gives."""
    import torch

    hop = int(model.hop_length)
    unit = math.lcm(model.vq_strides[0], model.attn_window_size or 1)
    frames = torch.export.Dim("frames", min=1, max=1 << 20)
    # The example's length is the one inductor tunes its loops for: a chunk with its margins,
    # the length nearly every call has (an example of 16 frames made the decoder 25 % slower).
    n = (math.ceil(CHUNK_SAMPLES / hop / unit) + math.ceil(64 / unit)) * unit
    if part == "encoder":
        class Encoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = model.encoder

            def forward(self, x):
                return self.encoder(x)

        return (Encoder().eval(), (torch.zeros(1, 1, n * hop),), ["x"],
                {"x": {2: frames * (unit * hop)}})

    blocks, scales = _noise_blocks(model), noise_scales(model)

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = model.decoder

        def forward(self, z, *noise):
            for block, values in zip(blocks, noise):
                block.forward = functools.partial(_noise_from_input, block, values)
            return self.decoder(z)

    args = (torch.zeros(1, model.latent_dim, n), *(torch.zeros(1, 1, n * s) for s in scales))
    shapes = {"z": {2: frames * unit}, "noise": tuple({2: frames * (unit * s)} for s in scales)}
    return Decoder().eval(), args, ["z", *(f"n{i}" for i in range(len(scales)))], shapes


@contextlib.contextmanager
def tracing(model):
    """Puts back the noise blocks' own forward (SnacRunner's positional noise) after a trace,
    which replaces it by the noise inputs."""
    blocks = _noise_blocks(model)
    saved = [block.forward for block in blocks]
    try:
        yield
    finally:
        for block, forward in zip(blocks, saved):
            block.forward = forward


def architecture(model, part: str) -> str:
    """What a compiled `part` depends on of the model: its layers and parameter shapes (not the
    weights' values, which are loaded into it at run time)."""
    module = model.encoder if part == "encoder" else model.decoder
    shapes = [(name, tuple(p.shape)) for name, p in module.state_dict().items()]
    return f"{module!r}|{shapes}|{int(model.hop_length)}|{model.vq_strides}|" \
           f"{model.attn_window_size}"


def _noise_blocks(model) -> list:
    from snac.layers import NoiseBlock

    return [m for m in model.decoder.modules() if isinstance(m, NoiseBlock)]


def _noise_from_input(block, noise, x):
    return x + noise * block.linear(x)
