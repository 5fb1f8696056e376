"""SNAC's decoder from its first upsampling block on, in time-major layout ([batch, time,
channels]): the form the compiled decoder runs those layers in, built from the layers' own
parameters while the graph is traced (`snac_compiled`).

Channel-first, SNAC's activations are a few long rows: a matrix product over them has the few
channels as both of its small sides, which oneDNN and MKL run at half their rate (96 channels by
270,000 samples: 67 ms, against 38 ms time-major), and the loops inductor writes for the Snake
and the depthwise taps run along time. Time-major, every product is a tall one, the overlap-add
after an upsampling adds two contiguous slices, and the loops run along channels. In a
704-frame window of the 44.1 kHz decoder at 2 threads, its last block went 0.44 -> 0.31 s, all
four 2.03 -> 1.61 s (benchmarks/results.md, item 22).

Each form computes what its layer computes, up to float rounding (about 1e-7 relative). A layer
no form covers runs as itself, turned to channel-first and back.

torch and snac are imported inside the functions that use them.
"""

from __future__ import annotations

from codec_toolkit.snac_forms import stored


def first_block(layers: list) -> int | None:
    """The index of the decoder's first upsampling block in `layers`, where the time-major part
    starts; None when there is none."""
    from snac.layers import DecoderBlock

    return next((i for i, layer in enumerate(layers) if isinstance(layer, DecoderBlock)), None)


def decoder_tail(layers: list, x, noise: dict):
    """`layers` run one after another on x [B, C, T] (channel-first, as the decoder hands it
    on), time-major inside; `noise` holds each noise block's values [B, 1, T'] by block."""
    x = x.transpose(1, 2)
    for layer in layers:
        x = _run(layer, x, noise)
    return x.transpose(1, 2)


def _run(module, x, noise: dict):
    import torch
    from snac.layers import DecoderBlock, NoiseBlock, ResidualUnit, Snake1d

    if isinstance(module, (torch.nn.Sequential, DecoderBlock)):
        for layer in (module if isinstance(module, torch.nn.Sequential) else module.block):
            x = _run(layer, x, noise)
        return x
    if isinstance(module, ResidualUnit):
        y = _run(module.block, x, noise)
        pad = (x.shape[1] - y.shape[1]) // 2  # as the unit itself crops a shorter output
        return (x[:, pad:x.shape[1] - pad] if pad > 0 else x) + y
    if isinstance(module, Snake1d):
        alpha = module.alpha.reshape(1, 1, -1)
        return x + (alpha + 1e-9).reciprocal() * torch.sin(alpha * x).pow(2)
    if isinstance(module, NoiseBlock) and module in noise:
        return x + noise[module].transpose(1, 2) * _pointwise(module.linear, x)
    if isinstance(module, torch.nn.Tanh):
        return torch.tanh(x)
    form = _conv_form(module)
    if form:
        return form(module, x)
    return module(x.transpose(1, 2)).transpose(1, 2)  # as itself, channel-first


def _conv_form(module):
    import torch

    if isinstance(module, torch.nn.ConvTranspose1d):
        if (module.kernel_size[0] == 2 * module.stride[0] and module.groups == 1
                and module.dilation[0] == 1 and module.padding_mode == "zeros"):
            return _upsample
    elif (isinstance(module, torch.nn.Conv1d) and module.stride[0] == 1
          and module.padding_mode == "zeros" and isinstance(module.padding, tuple)):
        if module.groups == 1:
            return _pointwise if module.kernel_size[0] == 1 and module.padding == (0,) else _dense
        if module.groups == module.in_channels == module.out_channels:
            return _depthwise
    return None


def _pointwise(conv, x):
    """A convolution of kernel 1: one matrix product."""
    out = x @ conv.weight[:, :, 0].t()
    return out if conv.bias is None else out + conv.bias


def _depthwise(conv, x):
    """A depthwise convolution as a sum of shifted products along time, the taps added in
    order; inductor fuses it with the Snake after it into one loop."""
    import torch.nn.functional as F

    # [kernel, channels]: each tap's weights contiguous, or the loop reading them is not
    # vectorised (strided weights left the fused loops scalar, 4-6x slower).
    weight = conv.weight[:, 0, :].t().contiguous()
    dilation, pad = conv.dilation[0], conv.padding[0]
    length = x.shape[1] + 2 * pad - dilation * (weight.shape[0] - 1)
    padded = stored(F.pad(x, (0, 0, pad, pad)))  # stored: see snac_forms.depthwise_as_taps
    out = weight[0] * padded[:, :length]
    for tap in range(1, weight.shape[0]):
        start = tap * dilation
        out = out + weight[tap] * padded[:, start:start + length]
    return out if conv.bias is None else out + conv.bias


def _dense(conv, x):
    """A convolution of any kernel (the decoder's last, to one channel): one product gives every
    tap of every output channel at each step, and the taps' shifted columns add up."""
    import torch.nn.functional as F

    channels_out, channels_in, kernel = conv.weight.shape
    dilation, pad = conv.dilation[0], conv.padding[0]
    length = x.shape[1] + 2 * pad - dilation * (kernel - 1)
    weight = conv.weight.permute(1, 2, 0).reshape(channels_in, kernel * channels_out)
    taps = (F.pad(x, (0, 0, pad, pad)) @ weight).unflatten(2, (kernel, channels_out))
    out = taps[:, :length, 0]
    for tap in range(1, kernel):
        start = tap * dilation
        out = out + taps[:, start:start + length, tap]
    return out if conv.bias is None else out + conv.bias


def _upsample(conv, x):
    """A transposed convolution whose kernel is twice its stride: one product gives each input
    frame's 2 x stride taps, and output block t (stride steps) is the first half of frame t's
    taps plus the second half of frame t-1's."""
    import torch.nn.functional as F

    stride, pad, extra = conv.stride[0], conv.padding[0], conv.output_padding[0]
    channels_in, channels_out, kernel = conv.weight.shape
    batch, frames, _ = x.shape
    weight = conv.weight.permute(0, 2, 1).reshape(channels_in, kernel * channels_out)
    taps = (x @ weight).view(batch, frames, 2, stride, channels_out)
    blocks = F.pad(taps[:, :, 0], (0, 0, 0, 0, 0, 1)) + F.pad(taps[:, :, 1], (0, 0, 0, 0, 1, 0))
    full = blocks.reshape(batch, (frames + 1) * stride, channels_out)
    length = (frames - 1) * stride - 2 * pad + kernel + extra
    out = full[:, pad:pad + length]
    return out if conv.bias is None else out + conv.bias
