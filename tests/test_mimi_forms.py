"""Mimi's SEANet decoder run through codec_toolkit.mimi_forms: the same audio as the decoder's
own forward, on the published architecture and on configurations the forms do not cover."""

from __future__ import annotations

import pytest

from codec_toolkit.mimi import load_mimi
from codec_toolkit.mimi_forms import decode_seanet, encoder_elus_in_place, seanet_plan
from conftest import relative_error

pytestmark = pytest.mark.usefixtures("model_cache")


def rewritten_layers(decoder) -> int:
    """Layers the plan runs as matrix products: upsampling, 1x1 and to-one-channel layers."""
    def count(operations):
        return sum(count(op[1]) if op[0] == "residual" else op[0] in ("upsample", "matrix", "taps")
                   for op in operations)

    return count(seanet_plan(decoder)[0])


def test_the_published_decoder_gives_its_own_audio_with_every_form_in_use():
    import torch

    decoder = load_mimi("kyutai/mimi").decoder.decoder_seanet
    hidden = torch.randn(1, decoder.layers[0].conv.in_channels, 40,
                         generator=torch.Generator().manual_seed(0))
    kept = hidden.clone()
    with torch.inference_mode():
        reference = decoder(hidden)
        audio = decode_seanet(decoder, hidden)
    assert audio.shape == reference.shape
    assert relative_error(audio, reference) < 1e-5
    assert torch.equal(hidden, kept)  # the caller's latent is read, never written
    # 4 upsampling layers, 4 1x1 convolutions, the last one to one channel.
    assert rewritten_layers(decoder) == 9


@pytest.mark.parametrize("changes, rewritten", [
    ({}, 7),
    ({"use_causal_conv": False}, 0),
    ({"trim_right_ratio": 0.5}, 4),  # upsampling trimmed on both sides: as it is
    ({"use_conv_shortcut": True, "audio_channels": 2}, 3),
    ({"pad_mode": "replicate"}, 3),
    ({"dilation_growth_rate": 2, "num_residual_layers": 2}, 10),
])
def test_any_configuration_gives_the_decoders_own_audio(changes, rewritten):
    import torch
    from transformers.models.mimi.configuration_mimi import MimiConfig
    from transformers.models.mimi.modeling_mimi import MimiDecoder

    torch.manual_seed(1)
    config = MimiConfig(**{"hidden_size": 32, "num_filters": 8, "upsampling_ratios": [5, 3, 2],
                           **changes})
    decoder = MimiDecoder(config).eval()
    hidden = torch.randn(1, 32, 23)
    with torch.inference_mode():
        reference = decoder(hidden)
        audio = decode_seanet(decoder, hidden)
    assert audio.shape == reference.shape
    assert relative_error(audio, reference) < 1e-5
    assert rewritten_layers(decoder) == rewritten


def test_the_encoders_in_place_elus_change_no_latent_streamed_or_whole():
    import copy

    import torch
    from transformers.models.mimi.configuration_mimi import MimiConfig
    from transformers.models.mimi.modeling_mimi import MimiConv1dPaddingCache, MimiEncoder

    torch.manual_seed(2)
    config = MimiConfig(hidden_size=32, num_filters=8, upsampling_ratios=[5, 3, 2],
                        dilation_growth_rate=2, num_residual_layers=2)
    plain = MimiEncoder(config).eval()
    in_place = copy.deepcopy(plain)
    encoder_elus_in_place(in_place)
    assert sum(getattr(m, "inplace", False) for m in in_place.modules()) == 10
    audio = torch.randn(1, 1, 30 * 4)
    kept = audio.clone()

    def streamed(encoder):
        convs = [encoder.get_submodule(name) for name in encoder._conv1d_layer_names]
        cache = MimiConv1dPaddingCache(len(convs), [int(c.padding_total) for c in convs],
                                       [c.pad_mode for c in convs], [c.in_channels for c in convs])
        return torch.cat([encoder(piece, padding_cache=cache) for piece in audio.split(30, -1)],
                         -1)

    with torch.inference_mode():
        assert torch.equal(in_place(audio), plain(audio))
        assert torch.equal(streamed(in_place), streamed(plain))
    assert torch.equal(audio, kept)


def test_a_decoder_moved_to_another_dtype_after_a_run_still_gives_its_own_audio():
    import torch
    from transformers.models.mimi.configuration_mimi import MimiConfig
    from transformers.models.mimi.modeling_mimi import MimiDecoder

    torch.manual_seed(3)
    decoder = MimiDecoder(MimiConfig(hidden_size=32, num_filters=8,
                                     upsampling_ratios=[5, 3, 2])).eval()
    hidden = torch.randn(1, 32, 23)
    with torch.inference_mode():
        decode_seanet(decoder, hidden)  # keeps float32 copies of weights in its forms
        decoder.double()
        audio = decode_seanet(decoder, hidden.double())
        reference = decoder(hidden.double())
    assert audio.dtype == torch.float64
    assert relative_error(audio, reference) < 1e-12
