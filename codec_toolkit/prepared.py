"""Files prepared once per machine and model (ONNX exports, compiled networks): where they are
kept, what keys them, how two processes share the work, and how a damaged one is found.

Each artifact has a manifest beside it (`NAME.json`): the key it was built for and the sha256
of its bytes. An artifact is used only when its manifest names the same key and the bytes
hash to the recorded digest; anything else (a truncated file, a foreign one, one from another
torch version or CPU) is rebuilt, never loaded.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import platform
import sys
import time
import typing as tp

from codec_toolkit.errors import program_name
from codec_toolkit.runtime import cache_dir


@functools.lru_cache(maxsize=None)
def machine() -> dict:
    """What a compiled artifact depends on besides its recipe: the CPU (its model and
    instruction-set flags: code built for AVX-512 must not run where there is none) and the
    torch build it links against."""
    import torch

    cpu, flags = platform.processor(), ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fo:
            for line in fo:
                name, _, value = line.partition(":")
                if name.strip() == "model name" and not cpu:
                    cpu = value.strip()
                elif name.strip() in ("flags", "Features") and not flags:
                    flags = " ".join(sorted(value.split()))
    except OSError:
        pass
    return {"arch": platform.machine(), "cpu": cpu,
            "cpu_flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
            "torch": torch.__version__, "torch_git": torch.version.git_version,
            "python": platform.python_version()}


def key_of(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fo:
        for block in iter(lambda: fo.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def file_digest(path: str) -> str:
    """sha256 of a model's weights file, once per process (about 0.1 s for 200 MB)."""
    return sha256_file(path)


def is_valid(path: str, parts: dict) -> bool:
    """True when `path` exists, its manifest names `parts` and its bytes hash as recorded."""
    try:
        with open(path + ".json", encoding="utf-8") as fo:
            manifest = json.load(fo)
        return (isinstance(manifest, dict) and manifest.get("key") == parts
                and manifest.get("bytes") == os.path.getsize(path)
                and manifest.get("sha256") == sha256_file(path))
    except (OSError, ValueError):
        return False


def artifact_path(kind: str, suffix: str, parts: dict) -> str:
    return os.path.join(cache_dir(), kind, f"{kind}-{key_of(parts)}{suffix}")


class PreparationFailed(Exception):
    """An earlier attempt to build this artifact failed; `prepared(retry=True)` tries again."""


def prepared(kind: str, suffix: str, parts: dict, build: tp.Callable[[str], None], what: str,
             retry: bool = True) -> str:
    """The path of the artifact `kind` keyed by `parts`, built by `build(path)` when missing or
    damaged, with one line on stderr saying so (`what`: what is built, and how long it takes).
    Concurrent callers on a cold cache wait for the first one's build. A build that fails
    leaves a note, so that later callers with `retry=False` do not pay for it again."""
    path = artifact_path(kind, suffix, parts)
    folder = os.path.dirname(path)
    if is_valid(path, parts):
        return path
    if not retry and os.path.exists(path + ".failed"):
        raise PreparationFailed(_read_note(path + ".failed"))
    os.makedirs(folder, exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_valid(path, parts):  # built by another process while this one waited
            return path
        damaged = os.path.exists(path) or os.path.exists(path + ".json")
        prog = program_name(os.path.basename(sys.argv[0]))
        print(f"{prog}: {f'{path} is damaged: ' if damaged else ''}preparing {what}",
              file=sys.stderr, flush=True)
        for stale in (path + ".json", path):  # the manifest first: it vouches for the bytes
            if os.path.exists(stale):
                os.unlink(stale)
        tmp = os.path.join(folder, f".{os.getpid()}-{os.path.basename(path)}")  # same suffix
        start = time.monotonic()
        try:
            try:
                build(tmp)
            except Exception as exc:
                with open(path + ".failed", "w", encoding="utf-8") as fo:
                    fo.write(f"{type(exc).__name__}: {exc}".splitlines()[0] + "\n")
                raise
            manifest = {"key": parts, "bytes": os.path.getsize(tmp), "sha256": sha256_file(tmp),
                        "seconds": round(time.monotonic() - start, 1)}
            with open(tmp + ".json", "w", encoding="utf-8") as fo:
                json.dump(manifest, fo, indent=1)
            os.replace(tmp, path)
            os.replace(tmp + ".json", path + ".json")
            if os.path.exists(path + ".failed"):
                os.unlink(path + ".failed")
        finally:
            for leftover in (tmp, tmp + ".json"):
                if os.path.exists(leftover):
                    os.unlink(leftover)
    _remove_superseded(folder, parts)  # a new recipe's first build is where they are left
    return path


# What an older recipe may have keyed differently besides its number.
RECIPE_FIELDS = ("recipe", "architecture")


def _remove_superseded(folder: str, parts: dict) -> None:
    """Removes the artifacts of an older recipe for the same model, part and machine: after an
    update of the toolkit nothing loads them again (50-150 MB each). Artifacts of another torch
    build or CPU stay: a cache shared by two machines or environments needs both."""
    if "recipe" not in parts:
        return
    same = {name: value for name, value in parts.items() if name not in RECIPE_FIELDS}
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".json")]
    except OSError:
        return
    for name in names:
        manifest = os.path.join(folder, name)
        try:
            with open(manifest, encoding="utf-8") as fo:
                key = json.load(fo).get("key")
            if not (isinstance(key, dict) and isinstance(key.get("recipe"), int)
                    and key["recipe"] < parts["recipe"]
                    and {n: v for n, v in key.items() if n not in RECIPE_FIELDS} == same):
                continue
            artifact = manifest[:-len(".json")]
            for stale in (manifest, artifact, artifact + ".failed", artifact + ".lock"):
                if os.path.exists(stale):
                    os.unlink(stale)
        except (OSError, ValueError, AttributeError):
            continue  # another process removed it first, or it is not a manifest of ours


def _read_note(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fo:
            return fo.readline().strip()
    except OSError:
        return "an earlier preparation failed"
