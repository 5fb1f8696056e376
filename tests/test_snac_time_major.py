"""The compiled SNAC decoder's time-major forms (codec_toolkit.snac_time_major) compute what the
layers compute, channel-first, on the real architecture."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from codec_toolkit import snac_graph
from codec_toolkit.snac_time_major import decoder_tail
from conftest import relative_error


def time_major(layer, x, noise=None):
    """`layer` through the tail, on a channel-first x, back channel-first."""
    with torch.no_grad():
        return decoder_tail([layer], x, noise or {})


def assert_time_major_is_the_layer(layer, x):
    with torch.no_grad():
        expected = layer(x)
    got = time_major(layer, x)
    assert got.shape == expected.shape
    assert relative_error(got, expected) < 1e-6


@pytest.mark.parametrize("stride", [2, 3, 4, 8])
def test_upsampling_time_major_equals_snacs_transposed_convolution(stride):
    torch.manual_seed(stride)
    # SNAC's decoder blocks: kernel 2 x stride, padding ceil(stride / 2), output padding stride % 2
    conv = torch.nn.ConvTranspose1d(6, 5, 2 * stride, stride, padding=math.ceil(stride / 2),
                                    output_padding=stride % 2)
    assert_time_major_is_the_layer(conv, torch.randn(2, 6, 37))


@pytest.mark.parametrize("conv", [
    torch.nn.Conv1d(12, 12, 7, padding=3, groups=12),                # residual units' taps
    torch.nn.Conv1d(12, 12, 7, dilation=9, padding=27, groups=12),
    torch.nn.Conv1d(12, 12, 4, dilation=2, padding=1, groups=12),    # a shorter output
    torch.nn.Conv1d(12, 9, 1),                                       # a residual unit's last
    torch.nn.Conv1d(12, 9, 1, bias=False),                           # a noise block's
    torch.nn.Conv1d(12, 1, 7, padding=3),                            # the decoder's last
    torch.nn.Conv1d(12, 3, 5, dilation=2, padding=1),
    torch.nn.Conv1d(12, 12, 3, stride=2, padding=1),                 # no form: runs as itself
], ids=lambda conv: repr(conv))
def test_convolutions_time_major_equal_the_convolution(conv):
    torch.manual_seed(conv.kernel_size[0])
    assert_time_major_is_the_layer(conv, torch.randn(2, 12, 50))


def test_a_noise_block_time_major_takes_its_noise_from_the_inputs():
    from snac.layers import NoiseBlock

    torch.manual_seed(0)
    block, x, values = NoiseBlock(8), torch.randn(1, 8, 30), torch.randn(1, 1, 30)
    with torch.no_grad():
        expected = x + values * block.linear(x)
    assert relative_error(time_major(block, x, {block: values}), expected) < 1e-6


@pytest.mark.parametrize("attention", [None, 4])
def test_the_decoder_with_its_tail_time_major_decodes_as_snacs_decoder(attention):
    from snac import SNAC

    torch.manual_seed(0)
    model = SNAC(sampling_rate=24_000, encoder_dim=8, encoder_rates=[2, 4],
                 decoder_dim=128 if attention else 32, decoder_rates=[4, 3],
                 attn_window_size=attention, codebook_size=16, codebook_dim=4,
                 vq_strides=[2, 1]).eval()
    for snake in (m for m in model.modules() if hasattr(m, "alpha")):
        snake.alpha.data.uniform_(0.5, 1.5)  # not all ones, which would hide a wrong axis
    head = snac_graph.decoder_head(model)
    frames = 16
    z = torch.randn(1, model.latent_dim, frames + 2 * (head[1] if head else 0))
    noise = dict(zip(snac_graph._noise_blocks(model),
                     (torch.randn(1, 1, frames * s) for s in snac_graph.noise_scales(model))))
    with snac_graph.tracing(model), torch.no_grad():
        for block, values in noise.items():
            block.forward = functools.partial(snac_graph._noise_from_input, block, values)
        expected = snac_graph.run_decoder(model, z, head)
        got = snac_graph.run_decoder(model, z, head, functools.partial(decoder_tail, noise=noise))
    assert got.shape == expected.shape == (1, 1, frames * math.prod(model.decoder_rates))
    assert relative_error(got, expected) < 1e-6
