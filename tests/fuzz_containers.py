#!/usr/bin/env python3
"""Mutation fuzzer for the decoders: every mutant must decode, or be rejected as bad input (exit 4).

  fuzz_containers.py [--count N] [--seed S] [--timeout SECONDS]

Seeds are short valid files made with the real model classes (random-weight checkpoints from
tests/fixtures/make_model_cache.py, through HF_HOME/TORCH_HOME): .snac and .mimi (NCDC), legacy
torch.save .snac, plain and entropy-coded .ecdc, and .dac when the dac package is installed and
the 16 kHz test weights are under $HOME (decoded with --dac-model 16khz). Mutations: bit flips, truncations, insertions, deletions,
header field overwrites, and for NCDC the same with the CRC recomputed so that the field checks
behind it are reached. Each mutant runs through decode_ecdc.main in this process (models load
once), bounded by SIGALRM. Outcomes: `decoded`, `rejected 4` (exit 4, one line on stderr, no
output file: the README's code for bad or corrupt input), or `other: ...` (any other exit code,
traceback, internal error, hang, partial output): the only failure. Prints the count per
outcome; exits 1 if any mutant was `other`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import random
import signal
import sys
import tempfile
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import decode_ecdc  # noqa: E402
import neural_codec as nc  # noqa: E402
from codec_toolkit.dac import dac_weights_path  # noqa: E402
from codec_toolkit.errors import EXIT_BAD_INPUT  # noqa: E402
from codec_toolkit.ncdc import read_ncdc  # noqa: E402
from codec_toolkit.runtime import EncodeOptions, configure_torch  # noqa: E402

# A corrupt container is bad input; a codec failure (6) would blame the codec for the file.
DOCUMENTED_FAILURES = {EXIT_BAD_INPUT}


class Hang(Exception):
    pass


def make_seeds(workdir: str) -> dict[str, bytes]:
    """Valid files of every container kind, from 0.4 s of noise."""
    import torch

    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(9600)).astype(np.float32)
    seeds = {}
    for name, codec, opts in (
            ("snac", "snac", EncodeOptions(source_rate=44100)),
            ("mimi", "mimi", EncodeOptions(source_rate=22050, codebooks=8)),
            ("ecdc", "ecdc", EncodeOptions(source_rate=16000, bitrate=3.0)),
            ("ecdc-lm", "ecdc", EncodeOptions(source_rate=16000, bitrate=1.5, use_lm=True))):
        buffer = io.BytesIO()
        nc.get_codec(codec).encode(samples, buffer, opts)
        seeds[name] = buffer.getvalue()
    if dac_available():
        buffer = io.BytesIO()
        nc.get_codec("dac").encode(samples[:6400], buffer,
                                   EncodeOptions(source_rate=44100, dac_model="16khz"))
        seeds["dac"] = buffer.getvalue()
    header, codes = read_ncdc(io.BytesIO(seeds["snac"]))
    legacy = os.path.join(workdir, "legacy.snac")
    torch.save({"codes": [torch.from_numpy(c)[None] for c in codes], "length": header.length,
                "model": header.model, "sample_rate": header.sample_rate}, legacy)
    with open(legacy, "rb") as fo:
        seeds["snac-legacy"] = fo.read()
    return seeds


def dac_available() -> bool:
    import importlib.util

    return (importlib.util.find_spec("dac") is not None
            and os.path.exists(dac_weights_path("16khz", "8kbps")))


def mutate(data: bytes, rng: random.Random, is_ncdc: bool) -> tuple[str, bytes]:
    """One random mutation of `data`, and its kind."""
    buf = bytearray(data)
    kind = rng.choice(["flip", "truncate", "insert", "delete", "field"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(buf))
            buf[pos] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[rng.randrange(len(buf)):]
    elif kind == "insert":
        pos = rng.randrange(len(buf) + 1)
        buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
    elif kind == "delete":
        pos = rng.randrange(len(buf))
        del buf[pos:pos + rng.randint(1, 16)]
    else:  # overwrite a header byte range with an extreme or random value
        pos = rng.randrange(min(len(buf), 64))
        width = rng.choice([1, 2, 4, 8])
        buf[pos:pos + width] = rng.choice([b"\x00", b"\xff", b"\x7f", b"\x80",
                                           rng.randbytes(1)]) * width
    if is_ncdc and len(buf) > 4 and rng.random() < 0.5:
        buf[-4:] = zlib.crc32(bytes(buf[:-4])).to_bytes(4, "big")
        kind += "+crc"
    return kind, bytes(buf)


def run_one(path: str, out: str, timeout: float) -> str:
    """Decode `path` once; the outcome as a label."""
    stderr = io.StringIO()

    def on_alarm(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stderr(stderr):
            code = decode_ecdc.main(["--dac-model", "16khz", path, out])
    except Hang:
        return f"other: no answer within {timeout:g} s"
    except BaseException as exc:  # noqa: BLE001 - anything escaping main is a finding
        return f"other: {type(exc).__name__} escaped: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    message = stderr.getvalue()
    if code == 0:
        return "decoded" if os.path.exists(out) else "other: exit 0 without output"
    if os.path.exists(out):
        return f"other: exit {code} left a partial output"
    if "Traceback" in message or message.count("\n") != 1:
        return f"other: exit {code} with a message of {message.count(chr(10))} lines"
    if code not in DOCUMENTED_FAILURES:
        return f"other: exit {code}: {message.strip()}"
    return f"rejected {code}"


def fuzz(count: int, seed: int, timeout: float, verbose: bool = False) -> collections.Counter:
    rng = random.Random(seed)
    outcomes: collections.Counter = collections.Counter()
    configure_torch(1)
    with tempfile.TemporaryDirectory() as workdir:
        seeds = make_seeds(workdir)
        names = sorted(seeds)
        for i in range(count):
            name = names[i % len(names)]
            kind, data = mutate(seeds[name], rng, name in ("snac", "mimi"))
            path = os.path.join(workdir, f"mutant-{i}")
            out = os.path.join(workdir, f"mutant-{i}.wav")
            with open(path, "wb") as fo:
                fo.write(data)
            outcome = run_one(path, out, timeout)
            outcomes[outcome] += 1
            if verbose or outcome.startswith("other"):
                print(f"mutant {i} ({name}, {kind}): {outcome}", file=sys.stderr)
            for leftover in (path, out):
                if os.path.exists(leftover):
                    os.unlink(leftover)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    outcomes = fuzz(args.count, args.seed, args.timeout, args.verbose)
    for outcome, n in sorted(outcomes.items()):
        print(f"{n:6d}  {outcome}")
    return 1 if any(o.startswith("other") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
