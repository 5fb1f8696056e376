"""Mimi's encoder as one streaming step whose state is explicit: what the compiled encoder is
built from (`mimi_compiled`).

transformers streams the encoder through Python objects: a padding cache for its causal
convolutions and a key/value cache for its transformer's sliding window. `EncoderStep` feeds the
model's own modules with stand-ins for both that take their contents from the step's inputs and
give the updated ones back as outputs, so that a graph with no Python in it can carry them from
one chunk to the next. The arithmetic is the model's own: on the test model every code of a
60 s streamed encode agreed with transformers' streaming.

Imports transformers: only compiling needs this module.
"""

from __future__ import annotations

import torch
from transformers.models.mimi.modeling_mimi import MimiConv1dPaddingCache


class _GivenPadding(MimiConv1dPaddingCache):
    """A padding cache whose contents are given, not kept from an earlier call. On the first
    chunk a replicate-padded layer pads with its input's first frame, as the library's own
    cache starts; `first` says which chunk this is."""

    def __init__(self, layout: list[tuple[int, str, int]], states: list, first: torch.Tensor):
        super().__init__(len(layout), *map(list, zip(*layout)))
        self.padding_cache = list(states)
        self.first = first

    def update(self, hidden_states: torch.Tensor, layer_idx: int) -> torch.Tensor:
        given = self.padding_cache[layer_idx]
        if self.per_layer_padding_mode[layer_idx] == "replicate":
            given = torch.where(self.first, hidden_states[..., :1].expand_as(given), given)
        padding = self.per_layer_padding[layer_idx]
        self.padding_cache[layer_idx] = hidden_states[..., hidden_states.shape[-1] - padding:]
        return given


class _GivenKeysValues:
    """The transformer's key/value cache, given: the last `window - 1` steps' keys and values
    of every layer (zeros before the first chunk, which the mask leaves out)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        self.keys, self.values = keys.unbind(0), values.unbind(0)
        self.new_keys, self.new_values = [None] * len(self.keys), [None] * len(self.keys)

    def update(self, keys, values, layer_idx, **_):
        kept = self.keys[layer_idx].shape[2]
        keys = torch.cat([self.keys[layer_idx], keys], 2)
        values = torch.cat([self.values[layer_idx], values], 2)
        self.new_keys[layer_idx] = keys[:, :, keys.shape[2] - kept:]
        self.new_values[layer_idx] = values[:, :, values.shape[2] - kept:]
        return keys, values


class EncoderStep(torch.nn.Module):
    """(audio [1, 1, whole frames], first chunk?, transformer steps before it, keys, values,
    padding states) -> (codes [1, codebooks, frames], keys, values, padding states)."""

    def __init__(self, model, codebooks: int):
        super().__init__()
        self.model, self.codebooks = model, codebooks
        seanet = model.encoder.encoder_seanet
        convs = [seanet.get_submodule(name) for name in seanet._conv1d_layer_names]
        convs.append(model.encoder.downsample)
        self.layout = [(int(conv.padding_total), conv.pad_mode, conv.in_channels)
                       for conv in convs]
        self.window = model.config.sliding_window

    def initial_state(self) -> list[torch.Tensor]:
        """Keys, values and padding states before the first chunk."""
        return [*_empty_keys_values(self.model.config, self.window),
                *(torch.zeros(1, channels, padding) for padding, _, channels in self.layout)]

    def forward(self, audio, first, start, keys, values, paddings):
        encoder = self.model.encoder
        padding = _GivenPadding(self.layout, paddings, first)
        hidden = encoder.encoder_seanet(audio, padding_cache=padding).transpose(1, 2)
        hidden, keys, values = _transformer_step(encoder.encoder_transformer, hidden, start,
                                                 keys, values, self.window)
        latents = encoder.downsample(hidden.transpose(1, 2), padding_cache=padding)
        codes = self.model.quantizer.encode(latents, self.codebooks).transpose(0, 1)
        # Copies, not views: a view of the audio would outlive the caller's buffer, and the
        # compiled code reads a strided input wrongly.
        return (codes, keys, values, [state.clone(memory_format=torch.contiguous_format)
                                      for state in padding.padding_cache])


class DecoderHead(torch.nn.Module):
    """Mimi's decoder up to its SEANet, as one streaming step: (codes [1, codebooks, frames],
    which of the codebooks are used, transformer steps before this chunk, the last latent frame
    before it, keys, values) -> (the transformer's output [1, channels, steps], the last latent
    frame, keys, values). The SEANet, which runs faster eagerly (`mimi_forms`), takes it from
    there. Every codebook count runs through the one graph: an unused codebook's rows add
    zeros, which leaves the latent as the library's decode of the used ones computes it."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.window = model.config.sliding_window

    def initial_state(self) -> list[torch.Tensor]:
        """The last latent frame, keys and values before the first chunk."""
        config = self.model.config
        return [torch.zeros(1, config.hidden_size, 1), *_empty_keys_values(config, self.window)]

    def forward(self, codes, used, start, last_latent, keys, values):
        decoder = self.model.decoder
        latent = _decode_codes(self.model.quantizer, codes, used)
        hidden = latent
        if decoder.upsample is not None:
            # The upsampling reads one latent frame back; before the first chunk that frame is
            # zeros, which add nothing, so the first chunk's output is that of no frame at all.
            steps = decoder.upsample.conv.stride[0]
            hidden = decoder.upsample(torch.cat([last_latent, latent], -1))[..., steps:]
        hidden, keys, values = _transformer_step(decoder.decoder_transformer,
                                                 hidden.transpose(1, 2), start, keys, values,
                                                 self.window)
        return (hidden.transpose(1, 2).contiguous(), latent[..., -1:].contiguous(), keys, values)


def _decode_codes(quantizer, codes, used):
    """transformers' MimiSplitResidualVectorQuantizer.decode of the `used` codebooks, in its
    order of sums, with the layers' own lookups and projections."""
    semantic = quantizer.num_semantic_quantizers
    parts = [(quantizer.semantic_residual_vector_quantizer, 0)]
    if codes.shape[1] > semantic:
        parts.append((quantizer.acoustic_residual_vector_quantizer, semantic))
    total = None
    for rvq, first in parts:
        summed = torch.full((), 0.0)
        for number, layer in enumerate(rvq.layers[:codes.shape[1] - first]):
            lookup = layer.decode(codes[:, first + number])
            summed = summed + torch.where(used[first + number], lookup, 0.0)
        if rvq.output_proj is not None:
            summed = rvq.output_proj(summed)
        total = summed if total is None else total + summed
    return total


def _empty_keys_values(config, window: int) -> list[torch.Tensor]:
    """The transformer's kept keys and values before the first chunk: zeros, masked out."""
    keys = torch.zeros(config.num_hidden_layers, 1, config.num_key_value_heads, window - 1,
                       config.head_dim)
    return [keys, keys.clone()]


def _transformer_step(transformer, hidden, start, keys, values, window: int):
    """`transformer`'s layers on `hidden` [1, steps, channels], which follow `start` steps, with
    the kept `keys` and `values` of the last `window - 1` steps: (output, keys, values)."""
    # The sliding-window causal mask over the kept steps and this chunk's, by absolute
    # position; kept steps before the first chunk have negative positions.
    past = keys.shape[3]
    query = torch.arange(hidden.shape[1]) + start
    key = torch.cat([torch.arange(-past, 0) + start, query])
    mask = ((key[None] <= query[:, None]) & (key[None] > query[:, None] - window)
            & (key[None] >= 0))[None, None]
    positions = transformer.rotary_emb(hidden, query[None])
    cache = _GivenKeysValues(keys, values)
    for layer in transformer.layers:
        hidden = layer(hidden, attention_mask=mask, cache=cache, position_embeddings=positions)
    return hidden, torch.stack(cache.new_keys), torch.stack(cache.new_values)
