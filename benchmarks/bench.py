#!/usr/bin/env python3
"""Benchmark: the toolkit against the plain `snac` / `encodec` / `transformers` packages.

  bench.py [--process-seconds S] [--repeats N] [--no-process] [--short S] [--long S]
           [--codecs LIST] [--threads N] [--batch N] [--out FILE]

Every figure comes from the same run on the same synthetic speech-like signal. Two tables:

Whole process (issue 17; --no-process skips it), on --process-seconds of input: the wall clock of
  a user's fresh process on each side (benchmarks/process.py: the packages' README use as
  scripts in benchmarks/plain/, against compress_audio.sh / decompress_audio.sh), next to the
  model call at the same length and the compute floor (benchmarks/floor.py: the model call's
  FLOPs at this machine's measured matmul rate).
Model calls, on --short and --long (0: skipped): each cell a fresh child process (so peak RSS is
  that operation's own), timing only the model call:
  plain    SNAC: model.encode / model.decode on the whole input; EnCodec: model.encode / decode;
           Mimi: transformers' MimiModel.encode (8 codebooks) / decode on the whole input
  toolkit  codec_toolkit's runners: chunked, weight norm folded, ONNX Runtime for SNAC (auto)
Real-time factor (RTF) = seconds of compute per second of audio. The batch row compresses N
clips of 3 s to .snac with a shell loop of single-file runs and with one batch run (-j 2).

The defaults are the issue's run, about half an hour on two cores: 60 s, threads 2, all five
codecs, no --long (`--long 3600` adds the hour, toolkit only unless --plain-long). Writes
Markdown to --out (default benchmarks/speed.md, generated: benchmarks/results.md is written by
hand) and prints the rows as they come.
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


def write_wav(path: str, seconds: float, rate: int) -> None:
    """16-bit PCM mono WAV, the form a user hands either side in the whole-process table."""
    import soundfile

    with soundfile.SoundFile(path, "w", rate, 1, "PCM_16") as fo:
        for block in speechlike(seconds, rate):
            fo.write(block)


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
    from codec_toolkit.runtime import DecodeOptions, EncodeOptions, configure_torch
    from codec_toolkit.snac import SnacAdapter, SnacRunner, load_snac
    from codec_toolkit.snac_backends import snac_graphs

    container, model_id, rate = CODECS[spec["codec"]]
    plain = spec["impl"] == "plain"
    if plain:
        torch.set_num_threads(spec["threads"])
    else:
        configure_torch(spec["threads"])  # as the helpers do: threads and the allocator
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


def speedup(plain: dict, ours: dict) -> str:
    if "seconds" in plain and "seconds" in ours:
        return f"{plain['seconds'] / ours['seconds']:.2f}x"
    return "-"


def model_calls(name: str, seconds: float, args: argparse.Namespace, work: str,
                plain: bool = True) -> dict:
    """{op: {impl: result}} of the model-call measurement of one codec on `seconds` of input.
    Decoding reads the toolkit's container, so the toolkit encodes first."""
    rate = CODECS[name][2]
    source = os.path.join(work, f"{rate}-{seconds:g}.f32")
    if not os.path.exists(source):
        write_input(source, seconds, rate)
    container = os.path.join(work, f"{name}-{seconds:g}.{CODECS[name][0]}")
    results: dict = {}
    for op in ("encode", "decode"):
        results[op] = {}
        for impl in ("toolkit", "plain") if op == "encode" else ("plain", "toolkit"):
            if impl == "plain" and not plain:
                results[op][impl] = {"error": "not run"}
                continue
            results[op][impl] = measure({"codec": name, "seconds": seconds, "op": op,
                                         "impl": impl, "threads": args.threads, "input": source,
                                         "container": container}, args.timeout)
    if os.path.exists(container):
        os.remove(container)
    return results


def model_call_section(args: argparse.Namespace, codecs: list[str], work: str,
                       calls: dict) -> list[str]:
    """The model-call table on --short and --long; fills `calls[(codec, seconds)]`."""
    lengths = [s for s in dict.fromkeys((args.short, args.long)) if s > 0]
    lines = [f"Threads: {args.threads}. Each cell: model-call time (RTF), peak RSS of the "
             f"process (which loaded the model and warmed up both networks on 0.5 s first, "
             f"so the figure bounds what a compress or decompress alone needs). Produced by "
             f"`benchmarks/bench.py --short {args.short:g} --long {args.long:g} "
             f"--threads {args.threads}`.", "",
             "| codec | input | op | plain package | toolkit | speed-up | bytes plain / toolkit |",
             "|---|---|---|---|---|---|---|"]
    for name in codecs:
        for seconds in lengths:
            plain = seconds != args.long or seconds == args.short or args.plain_long
            calls[(name, seconds)] = results = model_calls(name, seconds, args, work, plain)
            for op in ("encode", "decode"):
                plain_result, ours = results[op]["plain"], results[op]["toolkit"]
                sizes = (f"{plain_result.get('bytes') or '-'} / {ours.get('bytes') or '-'}"
                         if op == "encode" else "")
                lines.append(f"| {name} | {seconds:g} s | {op} | {cell(plain_result, seconds)} | "
                             f"{cell(ours, seconds)} | {speedup(plain_result, ours)} | {sizes} |")
                print(lines[-1], flush=True)
    return lines


def compute_floor(args: argparse.Namespace, codecs: list[str]) -> dict:
    """floor.py's {"gflops", "flops"}, in a child at --threads threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "floor.py"),
                          "--threads", str(args.threads), "--seconds", str(args.process_seconds),
                          *codecs], env=env, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def seconds_cell(result: dict) -> str:
    return f"{result['seconds']:.2f} s" if "seconds" in result else f"failed ({result['error']})"


def over_floor(result: dict, floor: float) -> str:
    return f"{result['seconds'] / floor:.1f}x" if "seconds" in result else "-"


def preparation_cell(result: dict | None) -> str:
    if result is None:
        return "-"  # nothing to prepare: EnCodec runs in torch
    if "seconds" in result:
        return (f"{result['seconds']:.1f} s, {result['mb']:.0f} MB (compiled networks: "
                f"{result['compiled_s']:.1f} s, {result['compiled_mb']:.0f} MB)")
    return result["error"] if result["error"] == "not available" else f"failed ({result['error']})"


def process_rows(name: str, timed: dict, calls: dict, prepared: dict | None, flops: dict,
                 gflops: float) -> list[str]:
    """The whole-process table's two rows (encode, decode) of one codec."""
    rows = []
    for op in ("encode", "decode"):
        plain, ours = timed["plain"][op], timed["toolkit"][op]
        plain_call, our_call = calls[op]["plain"], calls[op]["toolkit"]
        floor = flops[op] / (gflops * 1e9)
        preparation = preparation_cell(prepared) if op == "encode" else ""
        rows.append(f"| {name} | {op} | {seconds_cell(plain)} | {seconds_cell(ours)} | "
                    f"{speedup(plain, ours)} | {seconds_cell(plain_call)} | "
                    f"{seconds_cell(our_call)} | {speedup(plain_call, our_call)} | "
                    f"{floor:.2f} s | {over_floor(ours, floor)}, {over_floor(our_call, floor)} | "
                    f"{preparation} |")
        print(rows[-1], flush=True)
    return rows


def process_caption(args: argparse.Namespace, floor: dict) -> str:
    return (f"{args.process_seconds:g} s of speech-like input (16-bit mono WAV at the model's "
            f"rate), threads {args.threads}, best of {args.repeats}. Whole process: wall clock "
            f"of a fresh process per operation, each side decoding its own codes. Plain: "
            f"benchmarks/plain/, the package's README use (EnCodec: the steps of its "
            f"`encodec -b 1.5` command with soundfile, as the command's torchaudio.load needs "
            f"torchcodec). Toolkit: `TORCH_THREADS={args.threads} compress_audio.sh -y`, "
            f"`decompress_audio.sh -y`. Each side first ran once untimed on 1 s, so the "
            f"toolkit's remaining first-use preparation is excluded. Model call: measured as in "
            f"the table below, on the same input. Compute floor: the model call's FLOPs "
            f"(FlopCounterMode on {floor['counted_seconds']:g} s, scaled) at the measured "
            f"float32 matmul rate, "
            f"{floor['gflops']:.0f} GFLOP/s (best of 5 `torch.mm` of 4096 x 4096, "
            f"{args.threads} threads). Preparation: `encode_ecdc.py --prepare --model ID`, run "
            f"first, before anything else here used the model, and what it added to "
            f"$XDG_CACHE_HOME/neural-codec-toolkit: the compiled networks and the ONNX exports "
            f"(SNAC's fallback; Mimi's networks are compiled only, its decoder's SEANet plan "
            f"counted with them); in brackets the compiled networks' own share, from their "
            f"manifests." + (" Caches were cold: a fresh XDG_CACHE_HOME and inductor cache "
                             "(TORCHINDUCTOR_CACHE_DIR) for this run." if args.cold else
                             " Caches were the caller's (--warm-cache)."))


def preparations(args: argparse.Namespace, codecs: list[str]) -> dict:
    """{codec: process.prepare's result} of the SNAC codecs and Mimi, the others None."""
    import process

    return {name: process.prepare(CODECS[name][1], args.threads, args.timeout)
            if CODECS[name][0] in ("snac", "mimi") else None for name in codecs}


def process_section(args: argparse.Namespace, codecs: list[str], work: str, calls: dict,
                    prepared: dict) -> list[str]:
    """The whole-process table: each codec timed by process.py, beside its model calls on the
    same input (from the model-call table when it measured that length), its floor and its
    preparation."""
    import process

    floor = compute_floor(args, codecs)
    lines = ["| codec | op | plain whole process | toolkit whole process | speed-up | "
             "plain model call | toolkit model call | speed-up | compute floor | "
             "toolkit / floor (process, model call) | preparation (s, MB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for name in codecs:
        codec, seconds = CODECS[name], args.process_seconds
        wav, warmup = (os.path.join(work, f"{name}-{s:g}.wav") for s in (seconds, 1.0))
        write_wav(wav, seconds, codec[2])
        write_wav(warmup, 1.0, codec[2])
        timed = process.time_codec(codec, wav, warmup, work, name, args.threads, args.repeats,
                                   args.timeout)
        call = calls.get((name, seconds))
        if call is None or call["encode"]["plain"].get("error") == "not run":
            call = calls[(name, seconds)] = model_calls(name, seconds, args, work)
        lines += process_rows(name, timed, call, prepared[name], floor["flops"][name],
                              floor["gflops"])
    return lines + ["", process_caption(args, floor)]


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--process-seconds", type=float, default=60.0,
                        help="input of the whole-process table, seconds (default: 60)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="whole-process runs per cell, the best kept (default: 1)")
    parser.add_argument("--no-process", dest="process", action="store_false",
                        help="skip the whole-process table")
    parser.add_argument("--short", type=float, default=60.0,
                        help="model-call input, seconds; 0: none (default: 60, the "
                        "whole-process length, whose model calls it then also gives)")
    parser.add_argument("--long", type=float, default=0.0,
                        help="long model-call input, seconds; 0: none (default), e.g. 3600")
    parser.add_argument("--codecs", default=",".join(CODECS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="clips in the batch row (0: skip)")
    parser.add_argument("--plain-long", action="store_true",
                        help="also run the plain packages on the long input (memory grows "
                        "with it: about 25 MB per second of SNAC audio)")
    parser.add_argument("--warm-cache", dest="cold", action="store_false",
                        help="keep the caller's XDG_CACHE_HOME and inductor cache (default: "
                        "fresh ones, so that the preparation is timed from scratch)")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "speed.md"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    codecs = args.codecs.split(",")
    unknown = [name for name in codecs if name not in CODECS]
    if unknown:
        raise SystemExit(f"bench.py: unknown codec {unknown[0]} (known: {', '.join(CODECS)})")
    # SIGTERM as SystemExit, so that the inputs (635 MB for an hour at 44.1 kHz) and running
    # children go with an interrupted run as with a finished one.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    calls: dict = {}
    sections = []
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        if args.cold:  # every child inherits these
            os.environ["XDG_CACHE_HOME"] = os.path.join(work, "xdg")
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(work, "inductor")
        # Preparation first: the model calls' children would otherwise prepare on first use.
        prepared = preparations(args, codecs) if args.process else {}
        sections.append(("Model calls", model_call_section(args, codecs, work, calls)))
        if args.process:
            sections.insert(0, ("Whole process (issue 17)",
                                process_section(args, codecs, work, calls, prepared)))
    if args.batch:
        loop, batch = batch_speedup(args.batch)
        sections[-1][1].extend(["", f"Batch: {args.batch} clips of 3 s to .snac (24 kHz): shell "
                                f"loop of single-file runs {loop:.1f} s, one batch run with -j 2 "
                                f"{batch:.1f} s: {loop / batch:.1f}x faster, identical files."])
        print(sections[-1][1][-1])
    write_report(args.out, sections)
    print(f"written to {args.out}")
    return 0


def write_report(path: str, sections: list[tuple[str, list[str]]]) -> None:
    text = ["# Speed", "", "Generated by `make bench` (benchmarks/bench.py); a new run replaces "
            "it. Measured figures with their discussion: benchmarks/results.md."]
    for title, lines in sections:
        text += ["", f"## {title}", "", *lines]
    with open(path, "w") as fo:
        fo.write("\n".join(text) + "\n")


if __name__ == "__main__":
    sys.exit(main())
