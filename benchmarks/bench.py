#!/usr/bin/env python3
"""Benchmark: the toolkit's model calls against plain `snac` / `encodec` / `transformers` calls.

  bench.py [--short S] [--long S] [--codecs LIST] [--threads N] [--batch N] [--out FILE]

Every figure comes from the same run on the same synthetic speech-like signal. Each cell is a
fresh child process (so peak RSS is that operation's own), timing only the model call:
  plain    SNAC: model.encode / model.decode on the whole input; EnCodec: model.encode / decode;
           Mimi: transformers' MimiModel.encode (8 codebooks) / decode on the whole input
  toolkit  codec_toolkit's runners: chunked, weight norm folded, ONNX Runtime for SNAC (auto)
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
import signal
import subprocess
import sys
import tempfile
import time
import typing as tp

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CODECS = {
    "encodec": ("ecdc", None, 24000),
    "snac24": ("snac", "hubertsiuzdak/snac_24khz", 24000),
    "snac32": ("snac", "hubertsiuzdak/snac_32khz", 32000),
    "snac44": ("snac", "hubertsiuzdak/snac_44khz", 44100),
    "mimi": ("mimi", "kyutai/mimi", 24000),
}


def speechlike(seconds: float, rate: int, block_seconds: float = 60.0) -> tp.Iterator[np.ndarray]:
    """A deterministic stand-in for speech, in blocks: a gliding harmonic source under a
    syllable-rate envelope, plus a little noise. Made block by block so that an hour of it
    costs the benchmark no more memory than a minute."""
    rng = np.random.default_rng(0)
    total, block, done, phase0 = int(seconds * rate), int(block_seconds * rate), 0, 0.0
    while done < total:
        t = (done + np.arange(min(block, total - done))) / rate
        f0 = 120 + 30 * np.sin(2 * np.pi * 0.3 * t)
        phase = phase0 + 2 * np.pi * np.cumsum(f0) / rate
        phase0 = float(phase[-1])
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
        yield (0.08 * envelope * voice + 0.005 * rng.standard_normal(len(t))).astype(np.float32)
        done += len(t)


def write_input(path: str, seconds: float, rate: int) -> None:
    """Raw float32 mono, the form compress_audio.sh hands to the helpers."""
    with open(path, "wb") as fo:
        for block in speechlike(seconds, rate):
            fo.write(block.astype("<f4").tobytes())


def child(spec: dict) -> dict:
    """One measurement, in this process: returns seconds, peak RSS and bytes.

    The input is the raw file of `spec["input"]`: memory-mapped for the toolkit (as the helpers
    do), read whole for the plain packages (as their APIs need). Decoding reads the toolkit's
    container, so both sides decode the same codes."""
    import torch

    from codec_toolkit.audio import read_raw_audio
    from codec_toolkit.ecdc import read_ecdc_header, read_ecdc_packed
    from codec_toolkit.encodec import EncodecAdapter, load_encodec
    from codec_toolkit.mimi import MimiAdapter, load_mimi
    from codec_toolkit.ncdc import read_ncdc
    from codec_toolkit.runtime import DecodeOptions, EncodeOptions
    from codec_toolkit.snac import SnacAdapter, SnacRunner, load_snac
    from codec_toolkit.snac_onnx import snac_graphs

    torch.set_num_threads(spec["threads"])
    container, model_id, rate = CODECS[spec["codec"]]
    plain = spec["impl"] == "plain"
    opts = dict(threads=spec["threads"], backend="auto")
    warmup = next(speechlike(0.5, rate))
    if spec["op"] == "encode":
        samples = np.fromfile(spec["input"], "<f4") if plain else read_raw_audio(spec["input"])
    buffer = io.BytesIO()
    if container == "ecdc":
        model = plain_encodec() if plain else load_encodec(1.5)
        with torch.inference_mode():  # first calls set up kernels: not what is measured
            model.decode(model.encode(torch.from_numpy(warmup)[None, None]))
        if spec["op"] == "decode" and plain:
            with open(spec["container"], "rb") as fo:
                codes = torch.from_numpy(read_ecdc_packed(fo, read_ecdc_header(fo)))
        start = time.perf_counter()
        if spec["op"] == "encode" and plain:
            with torch.inference_mode():
                [(codes, _)] = model.encode(torch.from_numpy(samples)[None, None])
                torch.save(codes, buffer)
        elif spec["op"] == "encode":
            with open(spec["container"], "wb") as fo:
                EncodecAdapter().encode(samples, fo, EncodeOptions(source_rate=rate, **opts))
        elif plain:
            with torch.inference_mode():
                model.decode([(codes[None], None)])
        else:
            for _ in EncodecAdapter().decode(spec["container"], DecodeOptions(**opts)).chunks:
                pass
    elif container == "mimi":
        model = plain_mimi() if plain else load_mimi(model_id)
        with torch.inference_mode():
            model.decode(model.encode(torch.from_numpy(warmup)[None, None],
                                      num_quantizers=8).audio_codes)
        if spec["op"] == "decode" and plain:
            with open(spec["container"], "rb") as fo:
                codes = torch.from_numpy(np.stack(read_ncdc(fo)[1]).astype(np.int64))[None]
        start = time.perf_counter()
        if spec["op"] == "encode" and plain:
            with torch.inference_mode():
                torch.save(model.encode(torch.from_numpy(samples)[None, None],
                                        num_quantizers=8).audio_codes, buffer)
        elif spec["op"] == "encode":
            with open(spec["container"], "wb") as fo:
                MimiAdapter().encode(samples, fo, EncodeOptions(source_rate=rate, **opts))
        elif plain:
            with torch.inference_mode():
                model.decode(codes)
        else:
            for _ in MimiAdapter().decode(spec["container"], DecodeOptions(**opts)).chunks:
                pass
    else:
        if plain:
            from snac import SNAC

            model = SNAC.from_pretrained(model_id)
            with torch.inference_mode():
                model.decode(model.encode(torch.from_numpy(warmup)[None, None]))
            if spec["op"] == "decode":
                with open(spec["container"], "rb") as fo:
                    codes = [torch.from_numpy(c.astype(np.int64))[None]
                             for c in read_ncdc(fo)[1]]
        else:
            toolkit = load_snac(model_id)
            graphs = snac_graphs(toolkit, "auto", "cpu", spec["threads"])
            runner = SnacRunner(toolkit, graphs=graphs)
            list(runner.decode(runner.encode(warmup)))
        start = time.perf_counter()
        if spec["op"] == "encode" and plain:
            with torch.inference_mode():
                torch.save(model.encode(torch.from_numpy(samples)[None, None]), buffer)
        elif spec["op"] == "encode":
            with open(spec["container"], "wb") as fo:
                SnacAdapter().encode(samples, fo, EncodeOptions(model=model_id, **opts))
        elif plain:
            with torch.inference_mode():
                model.decode(codes)
        else:
            for _ in SnacAdapter().decode(spec["container"], DecodeOptions(**opts)).chunks:
                pass
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = len(buffer.getvalue()) or (os.path.getsize(spec["container"])
                                       if spec["op"] == "encode" and not plain else None)
    return {"seconds": seconds, "rss_mb": rss, "bytes": size}


def plain_encodec():
    """The encodec package's own 24 kHz model, as its CLI loads it."""
    import warnings

    from encodec import EncodecModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = EncodecModel.encodec_model_24khz()
    model.set_target_bandwidth(1.5)
    return model


def plain_mimi():
    """transformers' MimiModel, as its documentation loads it."""
    from transformers import MimiModel

    return MimiModel.from_pretrained("kyutai/mimi").eval()


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
            soundfile.write(path, np.concatenate(list(speechlike(3.0 + i / 100, 16000))), 16000)
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
    return (f"{result['seconds']:.2f} s (RTF {result['seconds'] / seconds:.3f}), "
            f"{result['rss_mb']:.0f} MB")


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
             f"process (which loaded the model and warmed up both networks on 0.5 s first, "
             f"so the figure bounds what a compress or decompress alone needs). Produced by "
             f"`benchmarks/bench.py --short {args.short:g} --long {args.long:g} "
             f"--threads {args.threads}`.", "",
             "| codec | input | op | plain package | toolkit | speed-up | bytes plain / toolkit |",
             "|---|---|---|---|---|---|---|"]
    # SIGTERM as SystemExit, so that the inputs (635 MB for an hour at 44.1 kHz) and running
    # children go with an interrupted run as with a finished one.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        for name in args.codecs.split(","):
            rate = CODECS[name][2]
            for seconds in (args.short, args.long):
                source = os.path.join(work, f"{rate}-{seconds:g}.f32")
                if not os.path.exists(source):
                    write_input(source, seconds, rate)
                container = os.path.join(work, f"{name}-{seconds:g}.{CODECS[name][0]}")
                for op in ("encode", "decode"):
                    results = {}
                    for impl in ("toolkit", "plain") if op == "encode" else ("plain", "toolkit"):
                        if impl == "plain" and seconds == args.long and not args.plain_long:
                            results[impl] = {"error": "not run"}
                            continue
                        results[impl] = measure({"codec": name, "seconds": seconds, "op": op,
                                                 "impl": impl, "threads": args.threads,
                                                 "input": source, "container": container},
                                                args.timeout)
                    plain, ours = results["plain"], results["toolkit"]
                    ratio = (f"{plain['seconds'] / ours['seconds']:.2f}x"
                             if "seconds" in plain and "seconds" in ours else "-")
                    sizes = (f"{plain.get('bytes') or '-'} / {ours.get('bytes') or '-'}"
                             if op == "encode" else "")
                    lines.append(f"| {name} | {seconds:g} s | {op} | {cell(plain, seconds)} | "
                                 f"{cell(ours, seconds)} | {ratio} | {sizes} |")
                    print(lines[-1], flush=True)
                if os.path.exists(container):
                    os.remove(container)
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
