"""Networks compiled ahead of time by torch's AOTInductor: how the toolkit compiles, loads and
cleans up after them, whichever codec they belong to (`snac_compiled`, `mimi_compiled`).

torch is imported inside the functions that use it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile

from codec_toolkit import prepared
from codec_toolkit.errors import CodecFailure, MissingDependency, first_line

# Inductor otherwise writes the compiling process's thread count into the code: compiled at one
# thread (`--prepare`, TORCH_THREADS' default) its loops never ran in parallel, and a decoder
# chunk at 2 threads took 1.33 s instead of 0.91; compiled at two, they used both cores under
# TORCH_THREADS=1. With this, OpenMP's count at run time (torch.set_num_threads) decides.
DYNAMIC_THREADS = {"cpp.dynamic_threads": True}


def failure(exc: Exception, networks: str, compiled: str) -> Exception:
    """The one-line error for `networks` that could not be compiled (exit 3: a missing
    compiler, or a compilation that failed before), or for the `compiled` ones that failed."""
    if isinstance(exc, prepared.PreparationFailed) or "compiler" in str(exc):
        return MissingDependency(f"cannot compile {networks}: {first_line(exc)}")
    return CodecFailure(f"cannot run {compiled}: {first_line(exc)}")


def prepared_package(parts: dict, build, what: str, retry: bool = True) -> str:
    """The path of the compiled package keyed by `parts`, built by `build(path)` when missing
    or damaged (`prepared.prepared`, saying `what` is prepared); without a compiler only a
    package already there will do."""
    if compiler() is None and not prepared.is_valid(
            prepared.artifact_path("compiled", ".pt2", parts), parts):
        raise RuntimeError("no C++ compiler (g++, or the one CXX names) to compile with")
    return prepared.prepared("compiled", ".pt2", parts, build, what, retry=retry)


def load(package: str):
    """The runner of `package`: `boxed_run` takes its inputs, all contiguous (the compiled code
    reads a strided input wrongly, without a word); `get_metadata` gives what was compiled in."""
    import torch

    # torch's own loader (aoti_load_package) first compiles test programs to check the CPU's
    # instruction sets, 11 s per process; the cache key has done that check.
    runner = torch._C._aoti.AOTIModelPackageLoader(package, "model", False, 1, -1)
    remove_unpacked(package)
    return runner


def compile_package(module, args, shapes, path: str, forms=contextlib.nullcontext(),
                    metadata: dict[str, str] | None = None) -> None:
    """Exports `module` on example `args` (`shapes`: the dynamic ones), inside `forms`, and
    compiles it into the package `path`, the weights frozen in, with `metadata` readable from
    the loaded runner (`get_metadata`)."""
    import torch
    import torch._inductor.config as inductor
    from torch._inductor.utils import fresh_cache

    quiet = io.StringIO()
    # Inductor's working files (generated C++, objects, the weights as assembly: 60-170 MB a
    # network) are of no use once the package is written; by default they would stay in /tmp.
    scratch = tempfile.mkdtemp(prefix=".inductor-", dir=os.path.dirname(path))
    configs = {"freezing": True, **DYNAMIC_THREADS}
    if metadata:
        configs["aot_inductor.metadata"] = metadata
    logging.disable(logging.WARNING)  # inductor's notes about CUDA are not for our users
    try:
        with forms, torch.no_grad(), fresh_cache(dir=scratch), inductor.patch(configs), \
                contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            exported = torch.export.export(module, args, dynamic_shapes=shapes)
            torch._inductor.aoti_compile_and_package(exported, package_path=path)
    except Exception as exc:  # noqa: BLE001 - the compiler's own words, in one line
        raise RuntimeError(compile_failure(str(exc), os.path.dirname(path))) from None
    finally:
        logging.disable(logging.NOTSET)
        shutil.rmtree(scratch, ignore_errors=True)


def remove_unpacked(package: str) -> None:
    """Deletes the copy of `package` that torch's loader has just unpacked and mapped.

    The loader unpacks into a folder of its own under /tmp (TMPDIR is not consulted) and
    removes it only in a destructor, which `exit_now` skips: every run left 80-220 MB behind
    (27 MB for a test model), which filled a CI machine's disk. The library is mapped by now,
    and a mapped file outlives its name, so the folder can go at once; the process's memory
    map names it, which no other process's folder can be mistaken for.
    """
    stem = os.path.splitext(os.path.basename(package))[0]
    try:
        with open("/proc/self/maps") as maps:
            mapped = {line.split(maxsplit=5)[-1] for line in maps if "/data/aotinductor/" in line}
    except OSError:  # no /proc: the folder stays, as torch leaves it
        return
    for path in mapped:
        unpacked = path.split("/data/aotinductor/")[0]  # <temporary folder>/.<pid>-<stem>
        if os.path.basename(unpacked).endswith("-" + stem):
            shutil.rmtree(os.path.dirname(unpacked), ignore_errors=True)


def compiler() -> str | None:
    """The C++ compiler inductor would use (CXX, else g++), if there is one."""
    return shutil.which(os.environ.get("CXX") or "g++")


def compile_failure(text: str, folder: str) -> str:
    """One line for a failed compilation. Inductor's message starts with "C++ compile error"
    and goes on with the command line and the compiler's output, where the cause is."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    head = lines[0] if lines else "compilation failed"
    if "No space left on device" in text:
        return (f"{head}: no space left on device (the compiler writes to {folder} and "
                f"{tempfile.gettempdir()})")
    output = lines[lines.index("Output:") + 1:] if "Output:" in lines else lines[1:]
    cause = next((line for line in output if "error" in line.lower()), None)
    return f"{head}: {cause[:200]}" if cause else head
