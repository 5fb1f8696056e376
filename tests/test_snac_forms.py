"""The forms SNAC's layers take in the compiled networks (codec_toolkit.snac_forms) compute what
the layers compute, on the real architecture."""

from __future__ import annotations

import pytest
import torch

from codec_toolkit.snac_forms import depthwise_as_taps, fusable_forms, pointwise_as_matmul
from conftest import relative_error


@pytest.mark.parametrize("kernel, dilation, padding", [
    (7, 1, 3), (7, 3, 9), (7, 9, 27),  # SNAC's residual units
    (4, 2, 1),                         # a shorter output than input
])
def test_depthwise_convolution_as_shifted_products_equals_the_convolution(
        kernel, dilation, padding):
    torch.manual_seed(kernel * dilation)
    conv = torch.nn.Conv1d(12, 12, kernel, dilation=dilation, padding=padding, groups=12)
    x = torch.randn(2, 12, 50)
    with torch.no_grad():
        expected, got = conv(x), depthwise_as_taps(conv, x)
    assert got.shape == expected.shape
    assert relative_error(got, expected) < 1e-6


@pytest.mark.parametrize("bias", [True, False])  # a residual unit's last layer, a noise block's
def test_a_kernel_1_convolution_as_a_matrix_product_equals_the_convolution(bias):
    torch.manual_seed(bias)
    conv = torch.nn.Conv1d(12, 9, 1, bias=bias)
    x = torch.randn(2, 12, 50)
    with torch.no_grad():
        expected, got = conv(x), pointwise_as_matmul(conv, x)
    assert got.shape == expected.shape
    assert relative_error(got, expected) < 1e-6


def test_snac_in_these_forms_encodes_and_decodes_alike_and_gets_its_layers_back():
    from snac import SNAC

    model = SNAC(sampling_rate=24_000, encoder_dim=8, encoder_rates=[2, 4], decoder_dim=32,
                 decoder_rates=[4, 3], attn_window_size=None, codebook_size=16, codebook_dim=4,
                 vq_strides=[2, 1]).eval()
    audio = torch.randn(1, 1, 8 * 40)
    latent = torch.randn(1, model.latent_dim, 10)

    def run():
        torch.manual_seed(0)  # the decoder's noise blocks draw from torch's generator
        with torch.no_grad():
            return model.encoder(audio), model.decoder(latent)

    expected = run()
    with fusable_forms(model, "encoder"), fusable_forms(model, "decoder"):
        swapped = {part: [m for m in getattr(model, part).modules() if "forward" in m.__dict__]
                   for part in ("encoder", "decoder")}
        got = run()
    assert not any("forward" in m.__dict__ for m in model.modules())
    kernel_1 = [m for m in swapped["decoder"] if isinstance(m, torch.nn.Conv1d)
                and m.kernel_size == (1,)]
    # Each network: 6 residual units' depthwise layers and one more (the encoder's last layer,
    # the decoder's first); the decoder's 9 layers of kernel 1 (in 6 residual units, 2 noise
    # blocks, and after its first layer). The encoder's kernel-1 layers stay.
    assert len(swapped["encoder"]) == 6 + 1
    assert len(swapped["decoder"]) == 6 + 1 + len(kernel_1)
    assert len(kernel_1) == 6 + 2 + 1
    for part, (g, e) in enumerate(zip(got, expected)):
        assert relative_error(g, e) < 1e-6, ("encoder", "decoder")[part]
