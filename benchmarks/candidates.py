#!/usr/bin/env python3
"""The speed-ups tried for SNAC on the CPU, each measured on its own, one after another.

  candidates.py [--seconds S] [--threads N] [--repeats R] [--model ID]

Every row encodes and decodes the same S seconds of synthetic speech with snac_24khz (the test
model's random weights: speed does not depend on the weights' values) and reports the best of R
runs, after one warm-up run. Each row adds one change to the one above it, except the last two,
which are alternatives to it: what codec_toolkit keeps is inference_mode, folded weight norm
and ONNX Runtime (`MODEL_BACKEND=auto`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import speechlike  # noqa: E402


def best_of(repeats: int, run) -> float:
    run()  # warm-up: first calls set up kernels and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="hubertsiuzdak/snac_24khz")
    args = parser.parse_args(argv)
    # As bench.py's children: OpenMP's own pool must match, or torch runs some ops wider.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    from snac import SNAC

    from codec_toolkit.errors import first_line
    from codec_toolkit.runtime import fold_weight_norm
    from codec_toolkit.snac import SnacRunner, load_snac
    from codec_toolkit.snac_backends import snac_graphs

    torch.set_num_threads(args.threads)
    rate = SNAC.from_pretrained(args.model).sampling_rate
    samples = np.concatenate(list(speechlike(args.seconds, rate)))
    x = torch.from_numpy(samples)[None, None]
    rows = []

    def row(name: str, model, context=contextlib.nullcontext, encode=None, decode=None):
        with context():
            codes = model.encode(x)
        encode = encode or (lambda: model.encode(x))
        decode = decode or (lambda: model.decode(codes))

        def timed(fn):
            def run():
                with context():
                    fn()
            return best_of(args.repeats, run)

        rows.append((name, timed(encode), timed(decode)))
        print(f"{name}: encode {rows[-1][1]:.2f} s, decode {rows[-1][2]:.2f} s", flush=True)

    plain = SNAC.from_pretrained(args.model).eval()
    row("plain package call (autograd on)", plain)
    row("+ torch.inference_mode", plain, torch.inference_mode)
    folded = SNAC.from_pretrained(args.model).eval()
    fold_weight_norm(folded)
    row("+ weight norm folded once", folded, torch.inference_mode)

    try:
        compiled = SNAC.from_pretrained(args.model).eval()
        fold_weight_norm(compiled)
        compiled.encoder = torch.compile(compiled.encoder)
        compiled.decoder = torch.compile(compiled.decoder)
        start = time.perf_counter()
        with torch.inference_mode():
            compiled.decode(compiled.encode(x))
        print(f"torch.compile: first call (compilation) {time.perf_counter() - start:.1f} s",
              flush=True)
        row("  alternative: + torch.compile (inductor)", compiled, torch.inference_mode)
    except Exception as exc:  # noqa: BLE001 - a candidate that fails is reported, not fatal
        rows.append(("  alternative: + torch.compile (inductor)", None, None))
        print(f"torch.compile failed: {type(exc).__name__}: {first_line(exc)}", flush=True)

    toolkit = load_snac(args.model)
    graphs = snac_graphs(toolkit, "onnx", "cpu", args.threads)
    runner = SnacRunner(toolkit, graphs=graphs)
    codes = runner.encode(samples)
    row("  alternative: ONNX Runtime, chunked (shipped)", folded, torch.inference_mode,
        encode=lambda: runner.encode(samples), decode=lambda: list(runner.decode(codes)))

    base = rows[0]
    print(f"\nsnac {args.model}, {args.seconds:g} s, {args.threads} thread(s), best of "
          f"{args.repeats}\n\n| candidate | encode s | decode s | encode x | decode x |\n"
          f"|---|---|---|---|---|")
    for name, enc, dec in rows:
        if enc is None:
            print(f"| {name} | failed | failed | - | - |")
        else:
            print(f"| {name} | {enc:.2f} | {dec:.2f} | {base[1] / enc:.2f} | "
                  f"{base[2] / dec:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
