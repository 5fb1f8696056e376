"""Mimi's SEANet decoder run layer by layer in eager torch, with the layers that oneDNN runs
slowly at audio rate recomputed as matrix products. Each form computes what the layer computes
up to float rounding; a layer whose configuration a form does not cover runs as it is.
Only the decoder: the encoder's codes are a promise, and float order can flip a near tie, so
the encoder only gets its activations computed in place (`encoder_elus_in_place`), which
changes no value.

- Upsampling (transposed convolutions whose kernel is twice their stride, trimmed causally):
  one matrix product with the weights on the left and an overlap-add of its two halves.
  oneDNN's transposed convolution plus the copy after it took 1.3-1.5x as long.
- 1x1 convolutions: a plain matrix product; oneDNN ran the 32 -> 64 channel one at audio
  rate at 25 GFLOP/s, and their causal padding of nothing copied the input first.
- Convolutions to one channel (the last layer): one product per tap, summed shifted.
- Other causal convolutions: padded by the convolution itself and trimmed, instead of a
  padded copy of the input.
- Activations (ELU) and residual sums written over an input no one reads again: no fresh
  buffer of 30-60 MB to allocate and fault in per layer.

torch is imported inside the functions that use it.
"""

from __future__ import annotations


def decode_seanet(decoder, hidden):
    """`decoder` (transformers' MimiDecoder) on `hidden` [1, C, F], as `decoder(hidden)`."""
    for number, layer in enumerate(decoder.layers):
        hidden = _run(layer, hidden, owned=number > 0)
    return hidden


def encoder_elus_in_place(encoder) -> None:
    """Makes the ELUs of `encoder` (transformers' MimiEncoder) that follow a layer whose output
    nothing else reads compute in place: all but the first of each residual block, whose input
    is also the block's residual. Their outputs do not change; the codes stay the same bit for
    bit (a 60 s encode 0.15-0.3 s faster here). The padding caches of streaming hold slices
    of convolutions' inputs, which no in-place ELU writes over."""
    for number, layer in enumerate(encoder.layers):
        if type(layer).__name__ == "ELU" and number > 0:
            layer.inplace = True
        elif type(layer).__name__ == "MimiResnetBlock":
            for part in layer.block[1:]:
                if type(part).__name__ == "ELU":
                    part.inplace = True


def _run(layer, hidden, owned: bool):
    """`layer` on `hidden`; `owned`: no one else reads `hidden` afterwards."""
    import torch

    kind = type(layer).__name__
    if kind == "ELU" and owned:
        return torch.nn.functional.elu(hidden, layer.alpha, inplace=True)
    if kind == "MimiResnetBlock" and type(layer.shortcut).__name__ == "Identity":
        residual = hidden
        for number, part in enumerate(layer.block):
            hidden = _run(part, hidden, owned=number > 0)
        return hidden.add_(residual)
    if kind == "MimiConvTranspose1d" and _plain_upsampling(layer):
        return _upsample(layer, hidden)
    if kind == "MimiConv1d" and _plain_causal(layer):
        return _causal_conv(layer, hidden)
    return layer(hidden)


def _plain_upsampling(layer) -> bool:
    conv = layer.conv
    stride = conv.stride[0]
    return (conv.groups == 1 and conv.kernel_size[0] == 2 * stride and conv.padding[0] == 0
            and conv.dilation[0] == 1 and conv.output_padding[0] == 0
            and layer.padding_left == 0 and layer.padding_right == stride)


def _plain_causal(layer) -> bool:
    conv = layer.conv
    return (layer.causal and conv.stride[0] == 1 and conv.groups == 1 and conv.padding[0] == 0
            and conv.padding_mode == "zeros" and layer.pad_mode == "constant")


def _upsample(layer, x):
    """y[c, t*s + j] = b[c] + W[:, c, j] . x[:, t] + W[:, c, j + s] . x[:, t - 1]."""
    import torch

    conv = layer.conv
    stride = conv.stride[0]
    cin, cout, _ = conv.weight.shape
    frames = x.shape[-1]
    left = _cached(layer, "_toolkit_left", lambda weight: weight.permute(2, 1, 0).reshape(
        2 * stride * cout, cin).contiguous())
    halves = (left @ x[0]).view(2, stride, cout, frames).permute(0, 2, 3, 1)  # [2, c, t, j]
    y = torch.empty(cout, frames, stride, dtype=x.dtype, device=x.device)
    if conv.bias is None:
        y.copy_(halves[0])
    else:
        torch.add(halves[0], conv.bias[:, None, None], out=y)
    y[:, 1:] += halves[1, :, :-1]
    return y.view(1, cout, frames * stride)


def _causal_conv(layer, x):
    import torch.nn.functional as F

    conv = layer.conv
    weight, bias = conv.weight, conv.bias
    cout, cin, taps = weight.shape
    reach = (taps - 1) * conv.dilation[0]
    frames = x.shape[-1]
    if taps == 1:
        y = _cached(layer, "_toolkit_matrix", lambda w: w[:, :, 0].contiguous()) @ x[0]
        return (y if bias is None else y.add_(bias[:, None]))[None]
    if cout == 1:
        rows = _cached(layer, "_toolkit_taps", lambda w: w[0].t().contiguous())  # [taps, cin]
        products = rows @ x[0]  # [taps, F]: each tap's product, summed shifted below
        y = products[-1].clone()
        for tap in range(taps - 1):
            shift = reach - tap * conv.dilation[0]
            y[shift:] += products[tap, :frames - shift]
        return (y if bias is None else y.add_(bias[0]))[None, None]
    return F.conv1d(x, weight, bias, padding=reach, dilation=conv.dilation[0])[..., :frames]


def _cached(layer, name: str, make):
    """`make(layer.conv.weight)`, kept on the layer (not as a parameter or buffer: state dicts
    stay the model's) until the model moves to another device or dtype."""
    weight = layer.conv.weight
    value = layer.__dict__.get(name)
    if value is None or (value.device, value.dtype) != (weight.device, weight.dtype):
        value = make(weight)
        layer.__dict__[name] = value
    return value
