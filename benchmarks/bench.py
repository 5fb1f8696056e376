#!/usr/bin/env python3
"""Benchmark: the toolkit's model calls against plain `snac` / `encodec` package calls.

  bench.py [--short S] [--long S] [--codecs LIST] [--threads N] [--batch N] [--out FILE]

Every figure comes from the same run on the same synthetic speech-like signal. Each cell is a
fresh child process (so peak RSS is that operation's own), timing only the model call:
  plain    SNAC: model.encode / model.decode on the whole input; EnCodec: model.encode / decode
  toolkit  neural_codec's runners: chunked, weight norm folded, ONNX Runtime for SNAC (auto)
Real-time factor (RTF) = seconds of compute per second of audio. The batch row compresses N
clips of 3 s to .snac with a shell loop of single-file runs and with one batch run (-j 2).
Writes a Markdown table to --out (default benchmarks/results.md) and prints it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CODECS = {
    "encodec": ("ecdc", None, 24000),
    "snac24": ("snac", "hubertsiuzdak/snac_24khz", 24000),
    "snac32": ("snac", "hubertsiuzdak/snac_32khz", 32000),
    "snac44": ("snac", "hubertsiuzdak/snac_44khz", 44100),
}


def speechlike(seconds: float, rate: int) -> np.ndarray:
    """A deterministic stand-in for speech: a gliding harmonic source under a syllable-rate
    envelope, plus a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    noise = np.random.default_rng(0).standard_normal(len(t))
    return (0.08 * envelope * voice + 0.005 * noise).astype(np.float32)


def child(spec: dict) -> dict:
    """One measurement, in this process: returns seconds, peak RSS and bytes."""
    import torch

    import neural_codec as nc

    torch.set_num_threads(spec["threads"])
    container, model_id, rate = CODECS[spec["codec"]]
    samples = speechlike(spec["seconds"], rate)
    opts = dict(threads=spec["threads"], backend="auto")
    buffer = io.BytesIO()
    warmup = samples[: rate // 2]
    if container == "ecdc":
        model = plain_encodec() if spec["impl"] == "plain" else nc.load_encodec(1.5)
        runner = nc.EncodecRunner(nc.load_encodec(1.5))
        codes = runner.encode(samples) if spec["op"] == "decode" else None
        with torch.inference_mode():  # first calls set up kernels: not what is measured
            model.decode(model.encode(torch.from_numpy(warmup)[None, None]))
        start = time.perf_counter()
        if spec["impl"] == "plain":
            with torch.inference_mode():
                if spec["op"] == "encode":
                    [(codes, _)] = model.encode(torch.from_numpy(samples)[None, None])
                    torch.save(codes, buffer)
                else:
                    model.decode([(codes[None], None)])
        elif spec["op"] == "encode":
            nc.EncodecAdapter().encode(samples, buffer, nc.EncodeOptions(source_rate=rate,
                                                                         **opts))
        else:
            for _ in runner.decode(codes):
                pass
    else:
        toolkit = nc.load_snac(model_id)
        graphs = nc.snac_graphs(toolkit, "auto", "cpu", spec["threads"])
        runner = nc.SnacRunner(toolkit, graphs=graphs)
        codes = runner.encode(samples) if spec["op"] == "decode" else None
        if spec["impl"] == "plain":
            from snac import SNAC

            model = SNAC.from_pretrained(model_id)
            with torch.inference_mode():
                model.decode(model.encode(torch.from_numpy(warmup)[None, None]))
        else:
            list(runner.decode(runner.encode(warmup)))
        start = time.perf_counter()
        if spec["impl"] == "plain":
            with torch.inference_mode():
                if spec["op"] == "encode":
                    torch.save(model.encode(torch.from_numpy(samples)[None, None]), buffer)
                else:
                    model.decode([torch.from_numpy(c)[None] for c in codes])
        elif spec["op"] == "encode":
            nc.SnacAdapter().encode(samples, buffer, nc.EncodeOptions(
                source_rate=rate, model=model_id, **opts))
        else:
            for _ in runner.decode(codes):
                pass
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss, "bytes": len(buffer.getvalue()) or None}


def plain_encodec():
    """The encodec package's own 24 kHz model, as its CLI loads it."""
    import warnings

    from encodec import EncodecModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = EncodecModel.encodec_model_24khz()
    model.set_target_bandwidth(1.5)
    return model


def measure(spec: dict, timeout: float) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]))
    try:
        run = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:g} s"}
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["killed"])[-1]
        return {"error": f"exit {run.returncode}: {last[:60]}"}
    return json.loads(run.stdout.strip().splitlines()[-1])


def batch_speedup(count: int) -> tuple[float, float]:
    """Seconds for `count` 3 s clips: a loop of single-file runs, and one batch with -j 2."""
    import soundfile

    with tempfile.TemporaryDirectory() as work:
        inputs = []
        for i in range(count):
            path = os.path.join(work, f"clip{i:03d}.wav")
            soundfile.write(path, speechlike(3.0 + i / 100, 16000), 16000)
            inputs.append(path)
        os.mkdir(os.path.join(work, "loop"))
        os.mkdir(os.path.join(work, "batch"))
        start = time.perf_counter()
        for path in inputs:
            out = os.path.join(work, "loop", os.path.basename(path)[:-4] + ".snac")
            subprocess.run([os.path.join(ROOT, "compress_audio.sh"), path, out], check=True)
        loop = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([os.path.join(ROOT, "compress_audio.sh"), "-j", "2", "-c", "snac", "-o",
                        os.path.join(work, "batch"), *inputs], check=True)
        batch = time.perf_counter() - start
        for path in inputs:
            name = os.path.basename(path)[:-4] + ".snac"
            with open(os.path.join(work, "loop", name), "rb") as a, \
                    open(os.path.join(work, "batch", name), "rb") as b:
                if a.read() != b.read():
                    raise SystemExit(f"batch and loop outputs differ for {name}")
    return loop, batch


def cell(result: dict, seconds: float) -> str:
    if result.get("error") == "not run":
        return "not run (see --plain-long)"
    if "error" in result:
        return f"failed ({result['error']})"
    return f"{result['seconds']:.2f} s (RTF {result['seconds'] / seconds:.3f}), {result['rss_mb']:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--short", type=float, default=10.0, help="short input, seconds")
    parser.add_argument("--long", type=float, default=120.0, help="long input, seconds")
    parser.add_argument("--codecs", default=",".join(CODECS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="clips in the batch row (0: skip)")
    parser.add_argument("--plain-long", action="store_true",
                        help="also run the plain packages on the long input (memory grows "
                        "with it: about 25 MB per second of SNAC audio)")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results.md"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    lines = [f"Threads: {args.threads}. Each cell: model-call time (RTF), peak RSS of the "
             f"process. Produced by `benchmarks/bench.py --short {args.short:g} --long "
             f"{args.long:g} --threads {args.threads}`.", "",
             "| codec | input | op | plain package | toolkit | speed-up | bytes plain / toolkit |",
             "|---|---|---|---|---|---|---|"]
    for name in args.codecs.split(","):
        for seconds in (args.short, args.long):
            for op in ("encode", "decode"):
                results = {}
                for impl in ("plain", "toolkit"):
                    if impl == "plain" and seconds == args.long and not args.plain_long:
                        results[impl] = {"error": "not run"}
                        continue
                    results[impl] = measure({"codec": name, "seconds": seconds, "op": op,
                                             "impl": impl, "threads": args.threads},
                                            args.timeout)
                plain, ours = results["plain"], results["toolkit"]
                ratio = (f"{plain['seconds'] / ours['seconds']:.2f}x"
                         if "seconds" in plain and "seconds" in ours else "-")
                sizes = (f"{plain.get('bytes') or '-'} / {ours.get('bytes') or '-'}"
                         if op == "encode" else "")
                lines.append(f"| {name} | {seconds:g} s | {op} | {cell(plain, seconds)} | "
                             f"{cell(ours, seconds)} | {ratio} | {sizes} |")
                print(lines[-1], flush=True)
    if args.batch:
        loop, batch = batch_speedup(args.batch)
        lines += ["", f"Batch: {args.batch} clips of 3 s to .snac (24 kHz): shell loop of "
                  f"single-file runs {loop:.1f} s, one batch run with -j 2 {batch:.1f} s: "
                  f"{loop / batch:.1f}x faster, identical files."]
        print(lines[-1])
    with open(args.out, "w") as fo:
        fo.write("# Benchmark results\n\n" + "\n".join(lines) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
