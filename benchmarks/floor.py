#!/usr/bin/env python3
"""The compute floor of each codec: its model call's FLOPs at this machine's matmul rate.

  floor.py --threads N --seconds S CODEC...

Prints one JSON object: {"gflops": measured float32 matmul rate, "counted_seconds": C,
"flops": {CODEC: {"encode": F, "decode": F}}}, F for S seconds of audio. The rate is the best of
5 square `torch.mm` of 4096 at N threads; the FLOPs are counted by torch's FlopCounterMode on
C = COUNT_SECONDS (or S when shorter) and scaled to S. No runtime does the model's arithmetic
faster than FLOPs / rate, so a time over this floor says how much room is left.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench import CODECS  # noqa: E402

MATMUL_SIZE = 4096
# Counted on 10 s and scaled: cheap, and within Mimi's 250-frame attention window, so its
# attention counts as the windowed (linear) cost the streaming toolkit pays, not a whole-file
# square.
COUNT_SECONDS = 10.0


def matmul_gflops(repeats: int = 5) -> float:
    """Best of `repeats` float32 [4096, 4096] @ [4096, 4096], in GFLOP/s."""
    import torch

    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    torch.mm(a, b)  # first call: thread pool and allocator set-up, not the rate
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * MATMUL_SIZE ** 3 / best / 1e9


def count_flops(call) -> int:
    """FLOPs of `call()`, matmuls and convolutions as FlopCounterMode counts them."""
    import torch
    from torch.utils import flop_counter

    # torch's CPU attention kernel is not in the counter's table; it costs what flash does.
    def cpu_attention(query, key, value, *args, out_shape=None, **kwargs) -> int:
        return flop_counter.sdpa_flop_count(query, key, value)

    mapping = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: cpu_attention}
    with torch.no_grad(), flop_counter.FlopCounterMode(display=False,
                                                       custom_mapping=mapping) as counter:
        call()
    return counter.get_total_flops()


def codec_calls(name: str, device: str):
    """(rate, encode, decode) of the codec's plain model on `device`: encode takes [1, 1, T]
    audio, decode what encode returned. SNAC: its encoder and decoder networks only."""
    container, model_id, rate = CODECS[name]
    if container == "snac":
        from snac import SNAC

        model = SNAC.from_pretrained(model_id).eval().to(device)
        return rate, lambda x: model.encoder(model.preprocess(x)), model.decoder
    if container == "mimi":
        from transformers import MimiModel

        model = MimiModel.from_pretrained(model_id).eval().to(device)
        return (rate, lambda x: model.encode(x, num_quantizers=8).audio_codes,
                lambda codes: model.decode(codes).audio_values)
    import warnings

    from encodec import EncodecModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = EncodecModel.encodec_model_24khz()
    model.set_target_bandwidth(1.5)
    model = model.to(device)
    return rate, model.encode, model.decode


def model_flops(name: str, seconds: float, device: str) -> dict:
    """{"encode": F, "decode": F} for `seconds` of audio, counted on `device`."""
    import torch

    rate, encode, decode = codec_calls(name, device)
    x = torch.zeros(1, 1, int(seconds * rate), device=device)
    with torch.no_grad():
        encoded = encode(x)
    return {"encode": count_flops(lambda: encode(x)),
            "decode": count_flops(lambda: decode(encoded))}


def scaled_flops(name: str, seconds: float, counted: float) -> dict:
    """model_flops on `counted` seconds, scaled to `seconds`. EnCodec is counted on the meta
    device (no arithmetic; its LSTMs split into matmuls the counter sees, where the CPU's fused
    LSTM kernel is not counted at all); the others on the CPU: on meta SNAC's convolutions
    counted half of what they do on the CPU (48 of 98 GFLOP for 10 s of snac_24khz decoding),
    and Mimi asks for a value (.item())."""
    device = "meta" if CODECS[name][0] == "ecdc" else "cpu"
    flops = model_flops(name, counted, device)
    return {op: count * seconds / counted for op, count in flops.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("codecs", nargs="+", choices=list(CODECS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rate = matmul_gflops()  # first, before the models take memory and caches
    counted = min(COUNT_SECONDS, args.seconds)
    flops = {name: scaled_flops(name, args.seconds, counted) for name in args.codecs}
    print(json.dumps({"gflops": rate, "counted_seconds": counted, "flops": flops}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
