"""SNAC's layers in forms that AOTInductor compiles into faster code, swapped in while a graph
is traced for `snac_compiled` and put back afterwards. Each computes what the layer computes,
up to float rounding (about 1e-7 relative); eager torch runs the layers as they are, since
there these forms are slower.

- Depthwise convolutions (the 7-tap ones of every residual unit) as a sum of shifted products:
  inductor fuses that with the bias and the Snake that follows into one pass over memory,
  where oneDNN's depthwise convolution and the Snake took two.
- The decoder's convolutions of kernel 1 as matrix products: oneDNN ran them on SNAC's
  channel-first activations at a third of the rate (at 64 channels over a 10 s chunk, 57 ms
  each against 20 ms). Not in the encoder, whose package stays bit for bit what it was (its
  codes are a promise, and there the change gained 2.5 %, within this machine's noise).

The decoder's blocks, where most of its work is, take other forms still: `snac_time_major`.

Where inductor would recompute a value at every read, the forms make it store the value once
(`stored`).

torch is imported inside the functions that use it.
"""

from __future__ import annotations

import contextlib
import functools


@contextlib.contextmanager
def fusable_forms(model, part: str):
    """Runs the layers of `model`'s network `part` ("encoder" or "decoder") that have a form
    below in that form until the block ends."""
    swaps = [(m, form) for m in getattr(model, part).modules()
             for form in (_form_of(m, part),) if form]
    saved = [module.__dict__.get("forward") for module, _ in swaps]
    for module, form in swaps:
        module.forward = functools.partial(form, module)
    try:
        yield
    finally:
        for (module, _), forward in zip(swaps, saved):
            if forward is None:
                del module.forward  # the class's own again
            else:
                module.forward = forward


def _form_of(module, part: str):
    import torch

    if isinstance(module, torch.nn.Conv1d):
        if (part == "decoder" and module.kernel_size[0] == 1 and module.groups == 1
                and module.stride[0] == 1 and module.padding in ((0,), "valid")):
            return pointwise_as_matmul
        if (module.groups > 1 and module.groups == module.in_channels == module.out_channels
                and module.stride[0] == 1 and module.padding_mode == "zeros"
                and isinstance(module.padding, tuple)):
            return depthwise_as_taps
    return None


def depthwise_as_taps(conv, x):
    """`conv(x)` for a depthwise convolution of stride 1: each tap scales the input shifted by
    its offset, and the taps add up in order."""
    import torch.nn.functional as F

    weight = conv.weight  # [channels, 1, kernel], after weight norm's hook
    dilation, pad = conv.dilation[0], conv.padding[0]
    kernel = weight.shape[-1]
    length = x.shape[-1] + 2 * pad - dilation * (kernel - 1)
    # Stored, or inductor may compute the Snake before this convolution once per tap (it
    # keeps a function of few inputs inline however often it is read): in 4 of the snac24
    # decoder's 12 residual units 8 sines per value instead of 2; a 10 s chunk took 0.93 s
    # instead of 0.84, an encoder chunk 0.59 s instead of 0.44.
    padded = stored(F.pad(x, (pad, pad)))
    out = weight[:, 0, 0, None] * padded[..., :length]
    for tap in range(1, kernel):
        start = tap * dilation
        out = out + weight[:, 0, tap, None] * padded[..., start:start + length]
    return out if conv.bias is None else out + conv.bias[:, None]


def pointwise_as_matmul(conv, x):
    """`conv(x)` for a convolution of kernel 1: a batched matrix product with the weights on the
    left (a plain one, freezing turns into a linear layer on x.t() and copies x both ways)."""
    import torch

    weight = conv.weight[None, :, :, 0]  # [1, out, in], after weight norm's hook
    out = torch.bmm(weight.expand(x.shape[0], -1, -1), x)
    return out if conv.bias is None else out + conv.bias[:, None]


def stored(x):
    """`x` itself, which inductor must write to memory once: it lowers `as_strided` only on a
    stored tensor. Same sizes, strides and offset (inductor would take a missing offset for
    0), so the same values."""
    return x.as_strided(x.shape, x.stride(), x.storage_offset())
