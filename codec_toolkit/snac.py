"""SNAC (24/32/44 kHz): its loader, its chunked runner and its adapter into NCDC containers.

torch and snac are imported inside the functions that use them.
"""

# `import snac` in here gets the pip package, not this module: imports are absolute, and only
# the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import dataclasses
import functools
import math
import os
import typing as tp

import numpy as np

from codec_toolkit.errors import (BadInput, InvalidField, MissingDependency, RateMismatch,
                                  missing_package)
from codec_toolkit.legacy_snac import is_legacy_snac, read_legacy_snac
from codec_toolkit.ncdc import CODEC_NAMES, KNOWN_MODELS, CodesHeader, read_ncdc, write_ncdc
from codec_toolkit.runtime import (DecodeOptions, Decoded, EncodeOptions, chunk_samples,
                                   fold_weight_norm, from_hub, release_memory, trim)
from codec_toolkit.snac_backends import snac_graphs
from codec_toolkit.snac_graph import decoder_head, run_decoder


def load_snac(model_id: str, device: str = "cpu"):
    """The SNAC model `model_id`, loaded once per process, weight norm folded, on `device`."""
    return _load_snac_once(model_id).to(device)


@functools.lru_cache(maxsize=4)
def _load_snac_once(model_id: str):
    """SNAC.from_pretrained on a hub id or a local directory, with one-line errors."""
    try:
        from huggingface_hub.errors import LocalEntryNotFoundError
        from huggingface_hub.utils import logging as hub_logging
        from snac import SNAC
    except ImportError as exc:
        raise missing_package(exc) from None
    hub_logging.set_verbosity_error()  # the hub's retry chatter is not for our users
    if os.path.isdir(model_id):
        for name in ("config.json", "pytorch_model.bin"):
            if not os.path.isfile(os.path.join(model_id, name)):
                raise MissingDependency(f"SNAC model directory {model_id} has no {name}")
    model = from_hub(SNAC.from_pretrained, model_id, LocalEntryNotFoundError, "SNAC",
                     "SNAC_MODEL", "config.json and pytorch_model.bin")
    fold_weight_norm(model)
    model.toolkit_weights = _snac_weights_path(model_id)  # the ONNX cache key (SnacGraphs)
    return model


def _snac_weights_path(model_id: str) -> str:
    if os.path.isdir(model_id):
        return os.path.join(model_id, "pytorch_model.bin")
    from huggingface_hub import hf_hub_download

    return hf_hub_download(model_id, "pytorch_model.bin", local_files_only=True)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def counter_normal(key: int, start: int, count: int) -> np.ndarray:
    """Standard normal float32 values that are a pure function of (key, position), for positions
    start .. start+count-1: Box-Muller over two splitmix64 hashes of each position. Any segment
    of the stream comes out exactly, without generating what precedes it."""
    base = (np.arange(start, start + count, dtype=np.uint64) * np.uint64(2)
            + (np.uint64(key) << np.uint64(48)))
    u1 = ((_splitmix64(base) >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0 ** -53
    u2 = (_splitmix64(base + np.uint64(1)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


class SnacRunner:
    """SNAC encode and decode in chunks aligned to the model's largest stride and attention window,
    each run with enough context on both sides to cover the receptive field and then cropped.

    Codes equal those of `model.encode` on the whole file, and decoded audio that of a whole-file
    decode to float rounding (about 1e-6 relative: convolutions over other lengths sum in
    another order). Decoding needs one more thing: every
    decoder block adds noise, which `snac` draws from torch's global generator. Here the noise is
    `counter_normal(block, absolute position)`, so a decode is repeatable and a chunked decode
    equals a whole one; it is the same distribution (standard normal), so nothing else changes.
    """

    ENCODER_CONTEXT = 8192  # samples; the encoder's receptive field is about 5,000 each side
    # Latent frames. The decoder's reach is 9 to 12 frames each side (snac_24khz chunked against
    # whole: 12 gives float rounding, 8 does not); 16 keeps a margin. 32 made each window of a
    # 24 kHz decode 6 % longer for nothing; 32/44 kHz round it up to their attention unit.
    DECODER_CONTEXT = 16

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu",
                 graphs=None):
        self.model = model
        self.device = device
        self.graphs = graphs  # compiled or ONNX networks in torch's place (snac_backends)
        self.hop = int(model.hop_length)
        self.strides = list(model.vq_strides)
        self.unit = math.lcm(self.strides[0], model.attn_window_size or 1)  # latent frames
        samples = chunk_samples(chunk_seconds, int(model.sampling_rate))
        units = max(1, round(samples / self.hop / self.unit))
        self.chunk = units * self.unit
        # Local attention mixes whole windows, so an edge effect anywhere in a window reaches all
        # of it: the margins cover one window more than the convolutions' reach. The decoder's
        # attention comes after a head of a few frames' reach, which gets its own context
        # instead (snac_graph.run_decoder): its margins need cover only the layers after it.
        window = model.attn_window_size or 0
        encoder_frames = math.ceil(self.ENCODER_CONTEXT / self.hop) + window
        self.encoder_margin = math.ceil(encoder_frames / self.unit) * self.unit
        self.head = decoder_head(model)
        decoder_frames = self.DECODER_CONTEXT + (0 if self.head else window)
        self.decoder_margin = math.ceil(decoder_frames / self.unit) * self.unit
        self._noise_origin = 0  # latent frame at which the running decoder chunk starts
        self._install_positional_noise()

    def frames_for(self, samples: int) -> int:
        """Latent frames of an input of `samples` once padded as `SNAC.preprocess` pads it."""
        return math.ceil(samples / (self.hop * self.unit)) * self.unit

    def _spans(self, frames: int, margin: int) -> tp.Iterator[tuple[int, int, int, int]]:
        """(start, stop, lo, hi): frames [start, stop) computed over the window [lo, hi), which
        holds `margin` frames of context on each side that has any. Every window has the same
        length, a chunk and both margins, so the first and last keep up to a margin more: a call
        at a length the process has not run yet took 0.2 to 1.6 s more (oneDNN sets each
        convolution up again for the new shape; a longer window faults in fresh memory), and a
        60 s decode cut into first, middle and last chunks paid that three times."""
        size = self.chunk + 2 * margin
        start = 0
        while True:
            lo = max(0, start - margin)
            if frames - lo <= size:  # the rest, with its context, fits in one last window
                yield start, frames, max(0, frames - size), frames
                return
            stop = lo + size - margin
            yield start, stop, lo, lo + size
            start = stop

    def encode(self, samples: np.ndarray, progress=None) -> list[np.ndarray]:
        """Samples [T] -> codes, one int64 array per level."""
        import torch

        frames = self.frames_for(len(samples))
        levels: list[list[np.ndarray]] = [[] for _ in self.strides]
        for start, stop, lo, hi in self._spans(frames, self.encoder_margin):
            segment = np.zeros((hi - lo) * self.hop, dtype=np.float32)
            piece = samples[lo * self.hop: hi * self.hop]
            segment[: len(piece)] = piece
            with torch.inference_mode():
                if self.graphs:
                    z = torch.from_numpy(self.graphs.encode(segment))
                else:
                    z = self.model.encoder(torch.from_numpy(segment)[None, None].to(self.device))
                _, codes = self.model.quantizer(z[..., start - lo: stop - lo])
            for level, code in zip(levels, codes):
                level.append(code[0].cpu().numpy())
            release_memory()
            if progress:
                progress((stop - start) * self.hop)
        return [np.concatenate(level) for level in levels]

    def decode(self, codes: tp.Sequence[np.ndarray], progress=None) -> tp.Iterator[np.ndarray]:
        """Codes (one array per level) -> samples, chunk by chunk, padding included."""
        import torch

        frames = len(codes[0]) * self.strides[0]
        for start, stop, lo, hi in self._spans(frames, self.decoder_margin):
            with torch.inference_mode():
                z = self._latent(codes, frames, lo, hi)
                if self.graphs:
                    noise = [counter_normal(key, lo * scale, (hi - lo) * scale)
                             for key, scale in self.noise_blocks]
                    wav = self.graphs.decode(z.numpy(), noise)
                else:
                    self._noise_origin = lo
                    wav = run_decoder(self.model, z, self.head)[0, 0].cpu().numpy()
            release_memory()
            if progress:
                progress((stop - start) * self.hop)
            yield wav[(start - lo) * self.hop: (stop - lo) * self.hop]

    def _latent(self, codes: tp.Sequence[np.ndarray], frames: int, lo: int, hi: int):
        """The latent of frames [lo, hi) and the decoder head's reach on each side, which is
        zeros past the file's ends, as the head's zero padding has it in a whole-file decode."""
        import torch
        import torch.nn.functional as F

        reach = self.head[1] if self.head else 0
        step = self.strides[0]  # the coarsest level's: code windows start on its frames
        extra = math.ceil(reach / step) * step
        first, last = max(0, lo - extra), min(frames, hi + extra)
        window = [torch.from_numpy(np.ascontiguousarray(c[first // s: last // s]))[None]
                  .to(self.device) for c, s in zip(codes, self.strides)]
        z = self.model.quantizer.from_codes(window)  # frames [first, last)
        if not reach:
            return z
        z = F.pad(z, (extra - (lo - first), extra - (last - hi)))  # [lo - extra, hi + extra)
        return z[..., extra - reach: z.shape[-1] - (extra - reach)].contiguous()

    def _install_positional_noise(self) -> None:
        from snac.layers import DecoderBlock, NoiseBlock

        scale = 1
        self.noise_blocks: list[tuple[int, int]] = []  # (key, samples per latent frame)
        blocks = [m for m in self.model.decoder.modules() if isinstance(m, DecoderBlock)]
        for key, (block, rate) in enumerate(zip(blocks, self.model.decoder_rates)):
            scale *= rate  # samples per latent frame at this block's output
            for noise in (m for m in block.modules() if isinstance(m, NoiseBlock)):
                noise.forward = functools.partial(self._noisy, noise, key, scale)
                self.noise_blocks.append((key, scale))

    def _noisy(self, block, key: int, scale: int, x):
        import torch

        values = counter_normal(key, self._noise_origin * scale, x.shape[-1])
        noise = torch.from_numpy(values).to(device=x.device, dtype=x.dtype)[None, None]
        return x + noise * block.linear(x)


class SnacAdapter:
    """SNAC (24/32/44 kHz) into the NCDC container; legacy torch.save files are read too."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        model_id = opts.model or KNOWN_MODELS["snac"][0]
        model = load_snac(model_id, opts.device)
        if opts.sample_rate is not None and opts.sample_rate != model.sampling_rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, model {model_id} "
                               f"needs {model.sampling_rate} Hz (SNAC_SAMPLE_RATE)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        graphs = snac_graphs(model, opts.backend, opts.device, opts.threads, ("encoder",))
        runner = SnacRunner(model, opts.chunk_seconds, opts.device, graphs)
        codes = runner.encode(samples, opts.progress)
        header = CodesHeader("snac", model_id, int(model.sampling_rate),
                             opts.source_rate or int(model.sampling_rate), len(samples),
                             max(1, math.ceil(math.log2(model.codebook_size))))
        write_ncdc(out, header, codes)

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            if is_legacy_snac(fo.read(4)):
                meta, codes = read_legacy_snac(path)
            else:
                fo.seek(0)
                header, codes = read_ncdc(fo)
                if header.codec != "snac":
                    raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not "
                                   f"SNAC codes")
                meta = dataclasses.asdict(header)
        model_id = self._choose_model(meta.get("model"), opts)
        model = load_snac(model_id, opts.device)
        rate = int(model.sampling_rate)
        recorded_rate = meta.get("sample_rate")
        if recorded_rate is None and meta.get("model") is None:
            recorded_rate = opts.sample_rate  # the user's SNAC_SAMPLE_RATE for bare legacy files
        if recorded_rate is not None and recorded_rate != rate:
            raise BadInput(f"the file's codes are for {recorded_rate} Hz, model {model_id} "
                           f"runs at {rate} Hz")
        self._check_codes(codes, model, model_id)
        graphs = snac_graphs(model, opts.backend, opts.device, opts.threads, ("decoder",))
        runner = SnacRunner(model, opts.chunk_seconds, opts.device, graphs)
        held = len(codes[0]) * runner.strides[0] * runner.hop
        length = meta.get("length") or held
        if length > held:
            raise InvalidField(f"recorded length {length} exceeds the {held} samples the codes "
                               f"hold")
        chunks = trim(runner.decode(codes, opts.progress), length)
        return Decoded(chunks, length, rate, meta.get("source_rate") or rate)

    @staticmethod
    def _choose_model(recorded: str | None, opts: DecodeOptions) -> str:
        # A file never decides to load a model outside the known set: only the user does.
        if opts.model:
            return opts.model
        if recorded is None:
            return opts.default_model or KNOWN_MODELS["snac"][0]
        if recorded in KNOWN_MODELS["snac"]:
            return recorded
        raise BadInput(f"the file names SNAC model {recorded!r}, which is not a known model; "
                       f"set SNAC_MODEL to load it if you trust it")

    @staticmethod
    def _check_codes(codes: tp.Sequence[np.ndarray], model, model_id: str) -> None:
        strides = list(model.vq_strides)
        if len(codes) != len(strides):
            raise BadInput(f"the file has {len(codes)} code levels, model {model_id} has "
                           f"{len(strides)}")
        base = len(codes[0]) * strides[0]
        lcm = math.lcm(strides[0], model.attn_window_size or 1)
        if base % lcm or any(len(c) * s != base for c, s in zip(codes, strides)):
            raise BadInput(f"code counts per level {[len(c) for c in codes]} do not fit "
                           f"model {model_id}'s strides {strides}")
        if any(len(c) and (c.min() < 0 or c.max() >= model.codebook_size) for c in codes):
            raise BadInput(f"a code is outside model {model_id}'s codebook of "
                           f"{model.codebook_size}")
