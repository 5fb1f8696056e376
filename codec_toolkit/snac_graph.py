"""SNAC's encoder and decoder networks as standalone graphs, what the ONNX and compiled
backends build from: the decoder's noise becomes inputs (fed from `counter_normal`, as the torch
path draws it), and the time axis is dynamic in steps of the model's padding unit. A decoder with
local attention takes its head's context on each side as well (`run_decoder`).

torch and snac are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

from codec_toolkit.runtime import CHUNK_SAMPLES
from codec_toolkit.snac_time_major import first_block

PARTS = ("encoder", "decoder")


def noise_scales(model) -> list[int]:
    """Samples per latent frame at each decoder block's output, one per noise block."""
    return [int(np.prod(model.decoder_rates[: i + 1])) for i in range(len(_noise_blocks(model)))]


def part_graph(model, part: str, tail=None):
    """(module, example inputs, input names, dynamic shapes) of `part`; the module holds the
    model's own parameters, under the names `module.state_dict()` gives. `tail` runs the
    decoder from its first upsampling block on (`run_decoder`)."""
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
    head = decoder_head(model)
    reach = head[1] if head else 0

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = model.decoder

        def forward(self, z, *noise):
            by_block = dict(zip(blocks, noise))
            for block, values in by_block.items():
                block.forward = functools.partial(_noise_from_input, block, values)
            return run_decoder(model, z, head,
                               tail and functools.partial(tail, noise=by_block))

    args = (torch.zeros(1, model.latent_dim, n + 2 * reach),
            *(torch.zeros(1, 1, n * s) for s in scales))
    shapes = {"z": {2: frames * unit + 2 * reach},
              "noise": tuple({2: frames * (unit * s)} for s in scales)}
    return Decoder().eval(), args, ["z", *(f"n{i}" for i in range(len(scales)))], shapes


def decoder_head(model) -> tuple[int, int] | None:
    """(layers, reach) of the decoder's head, the layers before its local attention: how many
    there are and how many latent frames their convolutions reach on each side. None without
    attention, or where a convolution of the head does not pad by its reach."""
    import torch
    from snac.attention import LocalMHA

    layers = list(model.decoder.model)
    index = next((i for i, layer in enumerate(layers) if isinstance(layer, LocalMHA)), None)
    if index is None:
        return None
    convs = [m for layer in layers[:index] for m in layer.modules()
             if isinstance(m, torch.nn.Conv1d)]
    reaches = [conv.dilation[0] * (conv.kernel_size[0] - 1) // 2 for conv in convs]
    if any(conv.stride[0] != 1 or conv.padding != (reach,) for conv, reach in zip(convs, reaches)):
        return None
    return index, sum(reaches)


def run_decoder(model, z, head: tuple[int, int] | None, tail=None):
    """`model.decoder` on a latent that holds the head's reach of context on each side (zeros
    past the file's ends), cut off once the head has used it. Local attention mixes whole
    windows, so without that context the first and last window of a chunk would be off, and a
    chunk's margins would need a window more (64 latent frames a side instead of 32).
    `tail(layers, x)`, when given, runs the layers from the first upsampling block on
    (`snac_time_major.decoder_tail`, in the compiled decoder)."""
    if not head and not tail:
        return model.decoder(z)
    layers = list(model.decoder.model)
    start = first_block(layers) if tail else None
    x = z
    for i, layer in enumerate(layers):
        if head and i == head[0]:
            x = x[..., head[1]:x.shape[-1] - head[1]]
        if i == start:
            return tail(layers[i:], x)
        x = layer(x)
    return x


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
