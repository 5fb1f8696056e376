"""Whole-process timing, as a user meets each side: wall clock of a fresh process per operation.

plain    the package's README use as a script (benchmarks/plain/): Python start, imports, model
         load, WAV read, the whole-file call, codes written with torch.save (EnCodec: its .ecdc)
toolkit  compress_audio.sh -y IN.wav OUT.EXT and decompress_audio.sh -y OUT.EXT OUT.wav

Each side decodes its own encoding. Both run with the caller's environment (model caches,
HF_HUB_OFFLINE, HOME) and OMP_NUM_THREADS=THREADS; the toolkit gets TORCH_THREADS=THREADS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from codec_toolkit.runtime import cache_dir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PLAIN = os.path.join(HERE, "plain")
ENCODEC_KBPS = "1.5"  # the toolkit's default ENCODEC_BITRATE, passed to the plain side too


def run_timed(argv: list[str], env: dict, timeout: float) -> dict:
    """{"seconds": wall clock} of one process, or {"error": why}."""
    start = time.perf_counter()
    try:
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:g} s"}
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["killed"])[-1]
        return {"error": f"exit {run.returncode}: {last[:60]}"}
    return {"seconds": seconds}


def best_of(repeats: int, argv: list[str], env: dict, timeout: float) -> dict:
    """The fastest of `repeats` runs; the first failure instead, if any."""
    best: dict = {"seconds": float("inf")}
    for _ in range(repeats):
        result = run_timed(argv, env, timeout)
        if "error" in result:
            return result
        best = min(best, result, key=lambda r: r["seconds"])
    return best


def side_env(side: str, model_id: str | None, threads: int) -> dict:
    """The caller's environment with the thread knobs; for the toolkit, SNAC's variant."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if side == "toolkit":
        env["TORCH_THREADS"] = str(threads)
        if model_id and "snac" in model_id:
            env["SNAC_VARIANT"] = model_id.rsplit("_", 1)[-1]  # hubertsiuzdak/snac_32khz: 32khz
    return env


def plain_argv(codec: tuple, op: str, threads: int, source: str, target: str) -> list[str]:
    container, model_id, _ = codec
    if container == "ecdc":  # as `encodec -b 1.5 IN.wav OUT.ecdc` / `encodec IN.ecdc OUT.wav`
        script = os.path.join(PLAIN, "readme_encodec.py")
        bandwidth = ["-b", ENCODEC_KBPS] if op == "encode" else []
        return [sys.executable, script, *bandwidth, source, target]
    script = os.path.join(PLAIN, f"readme_{container}.py")
    return [sys.executable, script, op, model_id, str(threads), source, target]


def toolkit_argv(op: str, source: str, target: str) -> list[str]:
    command = "compress_audio.sh" if op == "encode" else "decompress_audio.sh"
    return [os.path.join(ROOT, command), "-y", source, target]


def plain_files(codec: tuple, work: str, stem: str) -> tuple[str, str]:
    """Where the plain side keeps its codes and restored audio."""
    codes = ".ecdc" if codec[0] == "ecdc" else ".pt"
    return os.path.join(work, f"{stem}-plain{codes}"), os.path.join(work, f"{stem}-plain.wav")


def toolkit_files(codec: tuple, work: str, stem: str) -> tuple[str, str]:
    return (os.path.join(work, f"{stem}-toolkit.{codec[0]}"),
            os.path.join(work, f"{stem}-toolkit.wav"))


def round_trip(side: str, codec: tuple, wav: str, work: str, stem: str, threads: int,
               repeats: int, timeout: float) -> dict:
    """{"encode": result, "decode": result} of one side on `wav`; decode reads the encode's
    file, so a failed encode fails the decode too."""
    env = side_env(side, codec[1], threads)
    codes, restored = (plain_files if side == "plain" else toolkit_files)(codec, work, stem)
    results = {}
    for op, source, target in (("encode", wav, codes), ("decode", codes, restored)):
        argv = (plain_argv(codec, op, threads, source, target) if side == "plain"
                else toolkit_argv(op, source, target))
        results[op] = best_of(repeats, argv, env, timeout)
    return results


def disk_mb(path: str) -> float:
    """Disk usage of a tree in MB, as `du` counts it (allocated blocks)."""
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            stat = os.lstat(os.path.join(folder, name))
            total += stat.st_blocks * 512
    return total / 1e6


def prepare_available(env: dict) -> bool:
    """Whether encode_ecdc.py has --prepare (the explicit preparation of compiled models)."""
    run = subprocess.run([sys.executable, os.path.join(ROOT, "encode_ecdc.py"), "--help"],
                         env=env, capture_output=True, text=True)
    return "--prepare" in run.stdout


def prepare(model_id: str, threads: int, timeout: float) -> dict:
    """{"seconds", "mb"}: wall clock of `encode_ecdc.py --prepare --model MODEL_ID` and what it
    added to the toolkit's cache, or {"error": "not available"} where there is no --prepare."""
    env = side_env("toolkit", model_id, threads)
    if not prepare_available(env):
        return {"error": "not available"}
    before = disk_mb(cache_dir())
    made_before = set(manifests())
    argv = [sys.executable, os.path.join(ROOT, "encode_ecdc.py"), "--prepare", "--model", model_id]
    result = run_timed(argv, env, timeout)
    if "seconds" in result:
        result["mb"] = disk_mb(cache_dir()) - before
        compiled = [m for path, m in manifests().items()
                    if path not in made_before and "/compiled/" in path]
        result["compiled_s"] = sum(m["seconds"] for m in compiled)
        result["compiled_mb"] = sum(m["bytes"] for m in compiled) / 1e6
    return result


def manifests() -> dict:
    """{path: manifest} of every prepared artifact in the toolkit's cache."""
    import glob
    import json

    found = {}
    for path in glob.glob(os.path.join(cache_dir(), "*", "*.json")):
        with open(path, encoding="utf-8") as fo:
            found[path] = json.load(fo)
    return found


def time_codec(codec: tuple, wav: str, warmup_wav: str, work: str, stem: str, threads: int,
               repeats: int, timeout: float) -> dict:
    """{"plain": round trip, "toolkit": round trip} of one codec on `wav`.

    Each side first runs once untimed on `warmup_wav`: the page cache then holds both sides'
    weights and code, and whatever first-use preparation the toolkit still does on its own
    (ONNX export, compilation) is out of the timed runs."""
    results = {}
    for side in ("plain", "toolkit"):
        round_trip(side, codec, warmup_wav, work, f"{stem}-warmup", threads, 1, timeout)
        results[side] = round_trip(side, codec, wav, work, stem, threads, repeats, timeout)
    return results
