"""What every codec's run shares: options, devices, hub loading, chunk sizes, memory.

torch is imported inside the functions that use it, so the option parsing of `--help` stays light.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import sys
import typing as tp

import numpy as np

from codec_toolkit import facts
from codec_toolkit.errors import BadValue, CodecFailure, MissingDependency, first_line
from codec_toolkit.ncdc import SEMANTICODEC_DEFAULTS


# What a helper hands a codec's adapter, and what a decode hands back.

@dataclasses.dataclass
class RunOptions:
    device: str = "cpu"
    backend: str = "torch"  # SNAC's networks and Mimi's: torch, compiled, onnx or auto
    threads: int = 1
    chunk_seconds: float | None = None  # None: CHUNK_SAMPLES at the model's rate
    progress: tp.Callable[[int], None] | None = None  # called with samples done


@dataclasses.dataclass
class EncodeOptions(RunOptions):
    source_rate: int = 0  # the original file's rate, recorded for decoding (0: the model's)
    bitrate: float = 1.5  # EnCodec
    use_lm: bool = False  # EnCodec
    model: str | None = None  # SNAC or Mimi
    sample_rate: int | None = None  # the rate the input is at; must be the model's
    codebooks: int | None = None  # Mimi (default 8) or DAC (default: all of the model's)
    dac_model: str = "44khz"
    dac_bitrate: str = "8kbps"
    token_rate: int = SEMANTICODEC_DEFAULTS[0]  # SemantiCodec
    vocab_size: int = SEMANTICODEC_DEFAULTS[1]


@dataclasses.dataclass
class DecodeOptions(RunOptions):
    model: str | None = None  # SNAC: the user's explicit choice (SNAC_MODEL), if any
    sample_rate: int | None = None  # SNAC: the rate for legacy files that do not record it
    default_model: str | None = None  # SNAC: the model for legacy files that do not record one
    mimi_model: str | None = None  # Mimi: the user's explicit choice (MIMI_MODEL), if any
    dac_model: str = "44khz"  # DAC: .dac files do not record their model
    dac_bitrate: str = "8kbps"


@dataclasses.dataclass
class Decoded:
    chunks: tp.Iterator[np.ndarray]  # float32 samples at `sample_rate`, `length` in all
    length: int
    sample_rate: int
    source_rate: int


# ---------------------------------------------------------------------------------------------
# torch and the models: loaded through the packages' own loaders, so caches and offline mode
# behave as usual.

def configure_torch(threads: int) -> None:
    import torch

    configure_allocator()
    torch.set_num_threads(threads)


def configure_allocator() -> None:
    """Serve every allocation from glibc's heap, never from a fresh mmap. Activations of a
    chunk are tens of MB, above glibc's mmap threshold: each one was mapped and zero-filled
    page by page, then unmapped, so page faults took more time than the arithmetic (a 1x1
    convolution over 10 s at 64 channels: 56 ms, 15 ms from the heap). `release_memory` gives
    the heap back after each chunk, which keeps memory bounded all the same."""
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_MAX, 0)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)  # trimmed after each chunk instead, not per free


M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's malloc.h


def resolve_device(name: str) -> str:
    """'cpu', 'cuda' or 'auto' (cuda when torch sees a GPU) -> a torch device name."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise MissingDependency(f"{knob('TORCH_DEVICE', '--device', 'cuda')}, but torch sees "
                                f"no CUDA GPU")
    return name


def knob(variable: str, option: str, value: str) -> str:
    """A setting as the user gave it: the front-ends' environment variable, or the helper's
    own option when it runs on its own."""
    return f"{variable}={value}" if os.environ.get("NEURAL_CODEC_PROG") else f"{option} {value}"


def from_hub(from_pretrained, model_id: str, not_cached: type[Exception], name: str,
             knob: str, files: str):
    """`from_pretrained(model_id)` from the hub cache first, so a cached model costs no network
    round trip, then as the package would (downloading it); failures as one-line errors that
    name the model and the knob that picks another."""
    try:
        try:
            return from_pretrained(model_id, local_files_only=True)
        except not_cached:
            if os.path.isdir(model_id):
                raise
            return from_pretrained(model_id)
    except (OSError, ValueError) as exc:
        if os.path.isdir(model_id):
            raise CodecFailure(f"cannot load {name} model from {model_id}: "
                               f"{first_line(exc)}") from None
        raise MissingDependency(
            f"{name} model {model_id} is not in the Hugging Face cache and cannot be downloaded "
            f"({type(exc).__name__}); run once with network access to cache it, or set "
            f"{knob} to a local directory with {files}") from None
    except (TypeError, RuntimeError, KeyError, AttributeError) as exc:
        raise CodecFailure(f"cannot load {name} model {model_id}: {first_line(exc)}") from None


def fold_weight_norm(model) -> None:
    """Replace weight-norm parametrisations by the weights they compute, once after loading,
    instead of recomputing them on every forward call. The outputs do not change."""
    import torch
    from torch.nn.utils import parametrize

    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):  # snac's parametrizations
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        elif hasattr(module, "weight_g"):  # encodec's older weight_norm hook
            torch.nn.utils.remove_weight_norm(module)


def cache_dir() -> str:
    """Where derived files (ONNX exports) are kept: $XDG_CACHE_HOME/neural-codec-toolkit."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neural-codec-toolkit")


# ---------------------------------------------------------------------------------------------
# Running the models in chunks: memory stays bounded however long the input, and the results
# match whole-file calls (SNAC's codes exactly; EnCodec's LSTMs see a left context instead of
# the whole past, see EncodecRunner).

# Audio per model call, by default: 10 s at 24 kHz. A count of samples rather than seconds,
# because activations grow with samples: at 44.1 kHz, 10 s chunks took a SNAC run past 2 GB.
CHUNK_SAMPLES = 240_000


def chunk_samples(chunk_seconds: float | None, rate: int) -> int:
    """Samples per model call at `rate`: `chunk_seconds` of them, or CHUNK_SAMPLES."""
    return round(chunk_seconds * rate) if chunk_seconds else CHUNK_SAMPLES


@functools.lru_cache(maxsize=None)
def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # not glibc
        return None


def release_memory() -> None:
    """Give the C heap's free pages back every TRIM_EVERY chunks. Without it, glibc's heap
    fragments over thousands of chunk-sized allocations: a 1-hour SNAC encode grew by 0.7 GB.
    Not after every chunk: the next chunk then faults all its pages in again (60 s of
    snac_24khz decoded in 8.90 s with a trim per chunk, 7.69 s without)."""
    global _chunks_since_trim
    _chunks_since_trim += 1
    trim = _libc_function("malloc_trim")
    if trim is not None and _chunks_since_trim >= TRIM_EVERY:
        trim(0)
        _chunks_since_trim = 0


TRIM_EVERY = 8
_chunks_since_trim = 0


def trim(chunks: tp.Iterable[np.ndarray], length: int) -> tp.Iterator[np.ndarray]:
    """The first `length` samples of a stream of chunks."""
    for chunk in chunks:
        if length <= 0:
            return
        yield chunk[:length]
        length -= len(chunk)


# ---------------------------------------------------------------------------------------------
# Command-line options of both helpers.

def add_run_arguments(parser) -> None:
    """The options both helpers share: threads, device, chunking, progress."""
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch CPU threads (default: 1)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where the model runs (default: cpu)")
    parser.add_argument("--backend", choices=("auto", "compiled", "onnx", "torch"),
                        default="auto", help="what runs SNAC's networks and Mimi's: "
                        "compiled (AOTInductor), onnx (ONNX Runtime, SNAC only), torch, or the "
                        "first of these that works (auto, the default)")
    parser.add_argument("--chunk-seconds", type=float, metavar="S",
                        help="audio per model call; bounds memory, not the result (default: "
                        f"{CHUNK_SAMPLES:,} samples: 10 s at 24 kHz, 5.4 s at 44.1 kHz)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar (there is none when stderr is not a terminal)")


def add_dac_arguments(parser) -> None:
    """DAC's model choice, which both helpers need: .dac files do not record it."""
    bitrates = tuple(dict.fromkeys(bitrate for _, bitrate in facts.DAC_MODELS))  # 8kbps first
    parser.add_argument("--dac-model", choices=sorted(facts.RATES["dac"]), default="44khz",
                        help="DAC: model type (default: %(default)s)")
    parser.add_argument("--dac-bitrate", choices=bitrates, default="8kbps",
                        help="DAC: model bitrate; 16kbps exists for 44khz only "
                        "(default: %(default)s)")


def wants_progress(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


def run_options(args, total_samples: int | None) -> dict:
    """RunOptions fields from parsed `add_run_arguments` options; checks their values."""
    if args.threads < 1:
        raise BadValue(f"--threads must be at least 1, got {args.threads}")
    if args.chunk_seconds is not None and not 0.1 <= args.chunk_seconds <= 3600:
        raise BadValue(f"--chunk-seconds must be from 0.1 to 3600, got {args.chunk_seconds:g}")
    configure_torch(args.threads)
    progress = None
    if total_samples and wants_progress(args):
        from tqdm import tqdm

        bar = tqdm(total=total_samples, unit="sample", unit_scale=True, leave=False,
                   file=sys.stderr)
        progress = bar.update
    return {"device": resolve_device(args.device), "backend": args.backend,
            "threads": args.threads, "chunk_seconds": args.chunk_seconds, "progress": progress}
