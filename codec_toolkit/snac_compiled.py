"""SNAC's encoder and decoder networks compiled ahead of time by torch's AOTInductor.

Inductor fuses each Snake activation (`x + sin(ax)^2 / a`, five passes over memory in the
eager graph) into one vectorised loop, and the compiled code calls no Python between layers.
The layers that compile poorly as they are (depthwise and transposed convolutions, and the
decoder's kernel-1 ones) are traced in the forms of `snac_forms`.
The weights are frozen into the package: oneDNN then keeps them in its own blocked layout
instead of reordering them on every call (without freezing, a package that takes the model's
weights at load time decoded 10 s in 2.7 s instead of 0.9 s). So a package is keyed by the
weights' bytes (copies of a model share one), the architecture, the torch build and the CPU.

torch and snac are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile

import numpy as np

from codec_toolkit import prepared, snac_graph
from codec_toolkit.snac_forms import fusable_forms

# Of the compilation below, part of the cache key. 4: snac_forms; 5: their upsampling product
# with the weights on the left; 6: loops that take the run's thread count (DYNAMIC_THREADS);
# 7: the forms' `stored` values (the same output, bit for bit, in less time); 8: the decoder's
# latent holds its head's context (snac_graph.run_decoder); the decoder's 9: its convolutions of
# kernel 1 as matrix products. Per network, so that the encoder's package, unchanged, is not
# compiled again.
RECIPE = {"encoder": 8, "decoder": 9}

# Inductor otherwise writes the compiling process's thread count into the code: compiled at one
# thread (`--prepare`, TORCH_THREADS' default) its loops never ran in parallel, and a decoder
# chunk at 2 threads took 1.33 s instead of 0.91; compiled at two, they used both cores under
# TORCH_THREADS=1. With this, OpenMP's count at run time (torch.set_num_threads) decides.
DYNAMIC_THREADS = {"cpp.dynamic_threads": True}


class SnacCompiled:
    """SNAC's two networks as AOTInductor packages; same interface as `SnacGraphs`."""

    def __init__(self, model, retry: bool = True, parts: tuple = snac_graph.PARTS):
        # The packages are checked now, so that a failure shows before any work; each is
        # loaded when first run.
        self.paths = {part: compiled_package(model, part, retry) for part in parts}
        self.runners = {}

    def _runner(self, part: str):
        import torch

        if part not in self.runners:
            # torch's own loader (aoti_load_package) first compiles test programs to check the
            # CPU's instruction sets, 11 s per process; the cache key has done that check.
            self.runners[part] = torch._C._aoti.AOTIModelPackageLoader(
                self.paths[part], "model", False, 1, -1)
            remove_unpacked(self.paths[part])
        return self.runners[part]

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Samples [T] -> latent [1, C, T / hop]."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(samples))[None, None]
            return self._runner("encoder").boxed_run([x])[0].numpy()

    def decode(self, latent: np.ndarray, noise: list[np.ndarray]) -> np.ndarray:
        """Latent [1, C, F] and one noise array per noise block -> samples [F x hop]."""
        import torch

        # The compiled code takes every input to be contiguous and reads a strided one wrongly,
        # without a word.
        inputs = [latent, *(n[None, None] for n in noise)]
        with torch.inference_mode():
            inputs = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
            return self._runner("decoder").boxed_run(inputs)[0][0, 0].numpy()


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


def compiled_package(model, part: str, retry: bool = True) -> str:
    """The path of `part`'s package for this model's architecture, compiled when missing."""
    import torch

    parts = {"recipe": RECIPE[part], "part": part, "machine": prepared.machine(),
             "weights": prepared.file_digest(model.toolkit_weights),
             "architecture": snac_graph.architecture(model, part)}
    if compiler() is None and not prepared.is_valid(
            prepared.artifact_path("compiled", ".pt2", parts), parts):
        raise RuntimeError("no C++ compiler (g++, or the one CXX names) to compile with")
    seconds = "30 to 90 s"
    return prepared.prepared(
        "compiled", ".pt2", parts, lambda path: _compile(model, part, path),
        f"the compiled SNAC {part} for this machine (AOTInductor, once per model and "
        f"torch {torch.__version__}; {seconds})", retry=retry)


def _compile(model, part: str, path: str) -> None:
    import torch
    import torch._inductor.config as inductor
    from torch._inductor.utils import fresh_cache

    module, args, _, shapes = snac_graph.part_graph(model, part)
    quiet = io.StringIO()
    # Inductor's working files (generated C++, objects, the weights as assembly: 60-170 MB a
    # network) are of no use once the package is written; by default they would stay in /tmp.
    scratch = tempfile.mkdtemp(prefix=".inductor-", dir=os.path.dirname(path))
    logging.disable(logging.WARNING)  # inductor's notes about CUDA are not for our users
    try:
        with snac_graph.tracing(model), fusable_forms(model, part), torch.no_grad(), \
                fresh_cache(dir=scratch), inductor.patch({"freezing": True, **DYNAMIC_THREADS}), \
                contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            exported = torch.export.export(module, args, dynamic_shapes=shapes)
            torch._inductor.aoti_compile_and_package(exported, package_path=path)
    except Exception as exc:  # noqa: BLE001 - the compiler's own words, in one line
        raise RuntimeError(compile_failure(str(exc), os.path.dirname(path))) from None
    finally:
        logging.disable(logging.NOTSET)
        shutil.rmtree(scratch, ignore_errors=True)


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
