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

The decoder becomes a plan (`seanet_plan`): a list of operations, plain data, and the tensors
they read (the weights in the forms' own layouts). The torch path runs the plan of the loaded
model; a compiled Mimi decoder (`mimi_compiled`) saves it once and runs it without transformers.

torch is imported inside the functions that use it.
"""

from __future__ import annotations

import typing as tp

# Transformer steps (25 Hz) of left context that each chunk's SEANet gets: more than its
# receptive field, so chunked audio matches a whole-file decode to float rounding.
CONTEXT_FRAMES = 16

Plan = tp.Tuple[list, dict]  # (operations, tensors by name)


def decode_seanet(decoder, hidden):
    """`decoder` (transformers' MimiDecoder) on `hidden` [1, C, F], as `decoder(hidden)`."""
    operations, tensors = _cached_plan(decoder)
    return run_plan(operations, tensors, hidden, decoder)


def seanet_plan(decoder) -> Plan:
    """`decoder`'s layers as operations (lists of strings and numbers) and the tensors they
    read. A layer no form covers is a "module" operation, which runs the layer itself."""
    tensors: dict = {}
    operations = [_operation(layer, f"layers.{number}", tensors)
                  for number, layer in enumerate(decoder.layers)]
    return operations, tensors


def stands_alone(operations: list) -> bool:
    """True when the plan runs without the model's modules (no "module" operation)."""
    return all(op[0] != "module" and (op[0] != "residual" or stands_alone(op[1]))
               for op in operations)


def run_plan(operations: list, tensors: dict, hidden, modules=None, owned: bool = False):
    """The plan on `hidden` [1, C, F]; `modules`: the decoder, for "module" operations;
    `owned`: no one else reads `hidden` afterwards, so the first operation may write over it."""
    for number, op in enumerate(operations):
        hidden = _step(op, tensors, hidden, modules, owned or number > 0)
    return hidden


class ChunkedSeanet:
    """The SEANet over a stream of the transformer's outputs, chunk by chunk: each chunk gets
    CONTEXT_FRAMES of the outputs before it, and gives back the samples of its own steps."""

    def __init__(self, run: tp.Callable, samples_per_frame: int, steps_per_frame: int):
        self.run = run
        self.frame, self.steps = samples_per_frame, steps_per_frame
        self.context = None

    def __call__(self, hidden):
        """Samples (numpy) of the transformer's output `hidden` [1, C, steps]."""
        import torch

        joined = hidden if self.context is None else torch.cat([self.context, hidden], -1)
        wav = self.run(joined)
        skip = 0 if self.context is None else self.context.shape[-1] * self.frame // self.steps
        self.context = joined[..., -CONTEXT_FRAMES:]
        return wav[0, 0, skip:].cpu().numpy()


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


def _operation(layer, name: str, tensors: dict) -> list:
    kind = type(layer).__name__
    if kind == "ELU":
        return ["elu", float(layer.alpha)]
    if kind == "MimiResnetBlock" and type(layer.shortcut).__name__ == "Identity":
        return ["residual", [_operation(part, f"{name}.block.{number}", tensors)
                             for number, part in enumerate(layer.block)]]
    conv = getattr(layer, "conv", None)
    if kind == "MimiConvTranspose1d" and _plain_upsampling(layer):
        stride = conv.stride[0]
        cin, cout, _ = conv.weight.shape
        # [2 * stride * cout, cin]: both halves' taps of every output channel in one product
        tensors[name] = conv.weight.permute(2, 1, 0).reshape(2 * stride * cout, cin).contiguous()
        return ["upsample", name, _bias(conv, name, tensors), stride, cout]
    if kind == "MimiConv1d" and _plain_causal(layer):
        cout, _, taps = conv.weight.shape
        dilation = conv.dilation[0]
        if taps == 1:
            tensors[name] = conv.weight[:, :, 0].contiguous()
            return ["matrix", name, _bias(conv, name, tensors)]
        if cout == 1:
            tensors[name] = conv.weight[0].t().contiguous()  # [taps, cin]
            return ["taps", name, _bias(conv, name, tensors), dilation]
        tensors[name] = conv.weight.detach()
        return ["conv", name, _bias(conv, name, tensors), dilation]
    return ["module", name]


def _bias(conv, name: str, tensors: dict) -> str | None:
    if conv.bias is None:
        return None
    tensors[name + ".bias"] = conv.bias.detach()
    return name + ".bias"


def _step(op: list, tensors: dict, hidden, modules, owned: bool):
    import torch
    import torch.nn.functional as F

    kind = op[0]
    if kind == "elu":
        return F.elu(hidden, op[1], inplace=owned)
    if kind == "residual":
        return run_plan(op[1], tensors, hidden, modules).add_(hidden)
    if kind == "module":
        return modules.get_submodule(op[1])(hidden)
    weight, bias = tensors[op[1]], tensors.get(op[2])
    frames = hidden.shape[-1]
    if kind == "upsample":
        # y[c, t*s + j] = b[c] + W[:, c, j] . x[:, t] + W[:, c, j + s] . x[:, t - 1]
        stride, cout = op[3], op[4]
        halves = (weight @ hidden[0]).view(2, stride, cout, frames).permute(0, 2, 3, 1)
        y = torch.empty(cout, frames, stride, dtype=hidden.dtype, device=hidden.device)
        if bias is None:
            y.copy_(halves[0])
        else:
            torch.add(halves[0], bias[:, None, None], out=y)
        y[:, 1:] += halves[1, :, :-1]
        return y.view(1, cout, frames * stride)
    if kind == "matrix":
        y = weight @ hidden[0]
        return (y if bias is None else y.add_(bias[:, None]))[None]
    dilation = op[3]
    if kind == "taps":
        taps = weight.shape[0]
        products = weight @ hidden[0]  # [taps, F]: each tap's product, summed shifted below
        y = products[-1].clone()
        for tap in range(taps - 1):
            shift = (taps - 1 - tap) * dilation
            y[shift:] += products[tap, :frames - shift]
        return (y if bias is None else y.add_(bias[0]))[None, None]
    reach = (weight.shape[-1] - 1) * dilation
    return F.conv1d(hidden, weight, bias, padding=reach, dilation=dilation)[..., :frames]


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


def _cached_plan(decoder) -> Plan:
    """`seanet_plan(decoder)`, kept on the decoder (not as parameters or buffers: state dicts
    stay the model's) until the model moves to another device or dtype."""
    weight = next(decoder.parameters())
    plan = decoder.__dict__.get("_toolkit_plan")
    if plan is None or plan[2] != (weight.device, weight.dtype):
        plan = (*seanet_plan(decoder), (weight.device, weight.dtype))
        decoder.__dict__["_toolkit_plan"] = plan
    return plan[0], plan[1]
