"""EnCodec 24 kHz: its loader, its chunked runner and its adapter into .ecdc files, with the
language model's arithmetic coding of the entropy-coded mode.

torch and encodec are imported inside the functions that use them.
"""

# `import encodec` in here gets the pip package, not this module: imports are absolute, and only
# the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import functools
import io
import math
import os
import sys
import typing as tp
import warnings

import numpy as np

from codec_toolkit import facts
from codec_toolkit.ecdc import (ECDC_CODEBOOKS, ECDC_FRAME, ECDC_RATE, EcdcHeader,
                                read_ecdc_header, read_ecdc_packed, write_ecdc_header,
                                write_ecdc_packed)
from codec_toolkit.errors import (BadInput, BadValue, CodecFailure, ContainerError,
                                  InvalidField, MissingDependency, RateMismatch, TruncatedStream,
                                  first_line, missing_package, program_name)
from codec_toolkit.runtime import (DecodeOptions, Decoded, EncodeOptions, chunk_samples,
                                   fold_weight_norm, release_memory, trim)

ENCODEC_CHECKPOINTS = {"model": "encodec_24khz-d7cc33bc.th", "lm": "encodec_lm_24khz-1608e3c0.th"}
ENCODEC_URL = "https://dl.fbaipublicfiles.com/encodec/v0/"


def _ensure_encodec_checkpoint(name: str) -> None:
    """Put an EnCodec checkpoint in the torch hub cache, where encodec's loader looks first.

    Downloading here rather than inside encodec lets us say what happens on one line and turn a
    failed download into an error that names the file."""
    import torch

    where = os.path.join(torch.hub.get_dir(), "checkpoints", name)
    if os.path.exists(where):
        return
    if sys.stderr.isatty():
        print(f"{program_name(os.path.basename(sys.argv[0]))}: downloading {name} to {where}",
              file=sys.stderr)
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        torch.hub.download_url_to_file(ENCODEC_URL + name, where,
                                       hash_prefix=name.rsplit("-", 1)[1].split(".")[0],
                                       progress=sys.stderr.isatty())
    except (OSError, RuntimeError) as exc:
        raise MissingDependency(f"EnCodec weights {name} are not in the torch hub cache "
                                f"({where}) and cannot be downloaded ({first_line(exc)}); "
                                f"run once with network access to cache them") from None


def load_encodec(bitrate: float | None = None, device: str = "cpu"):
    """encodec's pretrained 24 kHz model through its own loader (torch hub cache), loaded once
    per process, weight norm folded, on `device`."""
    model = _load_encodec_once().to(device)
    if bitrate is not None:
        model.set_target_bandwidth(bitrate)
    return model


@functools.lru_cache(maxsize=1)
def _load_encodec_once():
    try:
        with warnings.catch_warnings():
            # encodec calls torch's deprecated weight_norm; the warning says nothing to users.
            warnings.simplefilter("ignore", FutureWarning)
            from encodec import EncodecModel
    except ImportError as exc:
        raise missing_package(exc) from None
    _ensure_encodec_checkpoint(ENCODEC_CHECKPOINTS["model"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            model = EncodecModel.encodec_model_24khz()
    except (OSError, RuntimeError, KeyError) as exc:
        raise CodecFailure(f"cannot load EnCodec weights {ENCODEC_CHECKPOINTS['model']}: "
                           f"{first_line(exc)}") from None
    fold_weight_norm(model)
    skip_empty_padding(model)
    return model


def skip_empty_padding(model) -> int:
    """Let the convolutions that pad by nothing (kernel 1, stride 1: half of SEANet's) run on
    their input as it is: encodec's padding step copies the whole tensor even then, 5-8 % of a
    model call. The outputs do not change. Returns how many convolutions were changed."""
    from encodec.modules.conv import SConv1d

    changed = 0
    for module in model.modules():
        if not isinstance(module, SConv1d):
            continue
        conv = module.conv.conv  # SConv1d > NormConv1d > nn.Conv1d
        if conv.stride[0] == 1 and (conv.kernel_size[0] - 1) * conv.dilation[0] == 0:
            module.forward = module.conv.forward  # the padding and extra padding are both 0
            changed += 1
    return changed


@functools.lru_cache(maxsize=1)
def load_encodec_lm(model):
    """encodec's entropy-coding language model, through its own loader."""
    _ensure_encodec_checkpoint(ENCODEC_CHECKPOINTS["lm"])
    try:
        return model.get_lm_model()
    except (OSError, RuntimeError, KeyError) as exc:
        raise CodecFailure(f"cannot load EnCodec LM weights {ENCODEC_CHECKPOINTS['lm']}: "
                           f"{first_line(exc)}") from None


class EncodecRunner:
    """EnCodec 24 kHz in chunks of whole 320-sample frames. The model is causal, so a chunk needs
    only past context, but its LSTMs carry state over the whole past: each chunk starts them
    afresh CONTEXT_FRAMES before its first frame. Inputs up to one chunk run whole, exactly as
    the package runs them; longer ones agree with a whole-file run to the figures in the README."""

    FRAME = ECDC_FRAME
    CONTEXT_FRAMES = 150  # 2 s

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        self.model = model
        self.device = device
        samples = chunk_samples(chunk_seconds, ECDC_RATE)
        self.chunk = max(1, round(samples / self.FRAME))

    def _spans(self, frames: int) -> tp.Iterator[tuple[int, int, int]]:
        for start in range(0, frames, self.chunk):
            yield start, min(frames, start + self.chunk), max(0, start - self.CONTEXT_FRAMES)

    def encode(self, samples: np.ndarray, progress=None):
        """Samples [T] -> codes [K, F] (torch, int64)."""
        import torch

        frames = math.ceil(len(samples) / self.FRAME)
        parts = []
        for start, stop, lo in self._spans(frames):
            piece = np.array(samples[lo * self.FRAME: stop * self.FRAME], dtype=np.float32)
            x = torch.from_numpy(piece)[None, None].to(self.device)
            with torch.inference_mode():
                [(codes, _scale)] = self.model.encode(x)
            parts.append(codes[0, :, start - lo:].cpu())
            release_memory()
            if progress:
                progress((stop - start) * self.FRAME)
        return torch.cat(parts, dim=-1)

    def decode(self, codes, progress=None) -> tp.Iterator[np.ndarray]:
        """Codes [K, F] -> samples, chunk by chunk."""
        import torch

        for start, stop, lo in self._spans(codes.shape[-1]):
            with torch.inference_mode():
                wav = self.model.decode([(codes[None, :, lo:stop].to(self.device), None)])
            release_memory()
            if progress:
                progress((stop - start) * self.FRAME)
            yield wav[0, 0, (start - lo) * self.FRAME:].cpu().numpy()


class EncodecAdapter:
    """Meta EnCodec 24 kHz into encodec's own .ecdc format."""

    sample_rate = ECDC_RATE

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        if opts.bitrate not in ECDC_CODEBOOKS:
            raise BadValue(f"EnCodec bitrate {opts.bitrate} is not one of "
                           f"{', '.join(facts.ENCODEC_BITRATES)}")
        if opts.sample_rate not in (None, self.sample_rate):
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, EnCodec needs "
                               f"{self.sample_rate} Hz")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        model = load_encodec(opts.bitrate, opts.device)
        lm = load_encodec_lm(model) if opts.use_lm else None
        codes = EncodecRunner(model, opts.chunk_seconds, opts.device).encode(samples,
                                                                            opts.progress)
        header = EcdcHeader(len(samples), codes.shape[0], opts.use_lm,
                            opts.source_rate or self.sample_rate)
        write_ecdc_header(out, header)
        if lm is None:
            write_ecdc_packed(out, codes.numpy())
        else:
            _write_ecdc_lm(out, lm, codes)

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        import torch

        with open(path, "rb") as fo:
            header = read_ecdc_header(fo)
            if header.use_lm:
                model = load_encodec(device=opts.device)
                codes = _read_ecdc_lm(fo, load_encodec_lm(model), header)
            else:
                codes = torch.from_numpy(read_ecdc_packed(fo, header))
                model = load_encodec(device=opts.device)
        chunks = EncodecRunner(model, opts.chunk_seconds, opts.device).decode(codes, opts.progress)
        return Decoded(trim(chunks, header.length), header.length, self.sample_rate,
                       header.source_rate or self.sample_rate)


def _write_ecdc_lm(fo: tp.BinaryIO, lm, codes) -> None:
    """Arithmetic-code codes [K, F] with encodec's LM, exactly as encodec.compress does."""
    import torch
    from encodec.quantization.ac import ArithmeticCoder, build_stable_quantized_cdf

    coder = ArithmeticCoder(fo)
    states, offset = None, 0
    step_input = torch.zeros(1, codes.shape[0], 1, dtype=torch.long)
    with torch.inference_mode():
        for t in range(codes.shape[1]):
            probas, states, offset = lm(step_input, states, offset)
            step_input = 1 + codes[None, :, t:t + 1]
            for k, value in enumerate(codes[:, t].tolist()):
                cdf = build_stable_quantized_cdf(probas[0, :, k, 0], coder.total_range_bits,
                                                 check=False)
                coder.push(value, cdf)
    coder.flush()


def _read_ecdc_lm(fo: tp.BinaryIO, lm, header: EcdcHeader):
    """Inverse of `_write_ecdc_lm`: codes [K, F]."""
    import torch
    from encodec.quantization.ac import ArithmeticDecoder, build_stable_quantized_cdf

    payload = fo.read()
    if header.frames * header.codebooks > 64 * 8 * len(payload) + 64:
        # Even the LM's most likely symbol costs more than 1/64 bit: such a length is corrupt,
        # and believing it would keep the decoder busy for hours.
        raise InvalidField(f"length {header.length} is implausible for {len(payload)} bytes "
                           f"of entropy-coded codes")
    decoder = ArithmeticDecoder(io.BytesIO(payload))
    codes = torch.zeros(header.codebooks, header.frames, dtype=torch.long)
    states, offset = None, 0
    step_input = torch.zeros(1, header.codebooks, 1, dtype=torch.long)
    with torch.inference_mode():
        for t in range(header.frames):
            probas, states, offset = lm(step_input, states, offset)
            for k in range(header.codebooks):
                cdf = build_stable_quantized_cdf(probas[0, :, k, 0], decoder.total_range_bits,
                                                 check=False)
                try:
                    code = decoder.pull(cdf)
                except (RuntimeError, AssertionError, RecursionError):
                    raise ContainerError("entropy-coded codes are corrupt") from None
                if code is None:
                    raise TruncatedStream("entropy-coded codes end early")
                codes[k, t] = code
            step_input = 1 + codes[None, :, t:t + 1]
    return codes
