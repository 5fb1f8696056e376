"""Descript's DAC: its loader, its chunked runner (with the loudness measurement DAC's encoder
and decoder rely on) and its adapter into .dac files.

torch, dac, pyloudnorm and scipy are imported inside the functions that use them.
"""

# `import dac` in here gets the pip package, not this module: imports are absolute, and only
# the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import functools
import math
import os
import typing as tp
import warnings

import numpy as np

from codec_toolkit import facts
from codec_toolkit.dac_file import DAC_MAX_CODEBOOKS, DacFile, read_dac, write_dac
from codec_toolkit.errors import (BadInput, BadValue, CodecFailure, MissingDependency,
                                  MissingPackage, RateMismatch, first_line)
from codec_toolkit.runtime import (DecodeOptions, Decoded, EncodeOptions, chunk_samples,
                                   release_memory)

DAC_MODELS = facts.RATES["dac"]  # DAC_MODEL: its sample rate
# dac.utils' "latest" release tag of each model and bitrate
DAC_TAGS = {model: tag for model, (_, tag) in facts.DAC_MODELS.items()}


def dac_weights_path(model_type: str, bitrate: str) -> str:
    """Where dac.utils.download keeps a model's weights."""
    tag = DAC_TAGS[(model_type, bitrate)]
    return os.path.join(os.path.expanduser("~"), ".cache", "descript", "dac",
                        f"weights_{model_type}_{bitrate}_{tag}.pth")


def load_dac(model_type: str, bitrate: str, device: str = "cpu"):
    """Descript's DAC `model_type` at `bitrate` through dac.utils.load_model, once per process."""
    return _load_dac_once(model_type, bitrate).to(device)


@functools.lru_cache(maxsize=2)
def _load_dac_once(model_type: str, bitrate: str):
    if (model_type, bitrate) not in DAC_TAGS:
        raise BadValue(f"DAC model {model_type} has no {bitrate} version (16kbps exists for "
                       f"44khz only)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import dac.utils
    except ImportError as exc:
        package = (exc.name or "dac").split(".")[0]
        raise MissingPackage(f"Python package missing: {package}; .dac needs the optional DAC "
                             f"install (run: make dac)") from None
    path = dac_weights_path(model_type, bitrate)
    cached = os.path.exists(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = dac.utils.load_model(model_type=model_type, model_bitrate=bitrate)
    except Exception as exc:  # noqa: BLE001 - the package raises anything from requests to pickle
        if not cached:
            raise MissingDependency(
                f"DAC weights {path} are not cached and cannot be downloaded "
                f"({first_line(exc)}); run 'python -m dac download --model_type {model_type} "
                f"--model_bitrate {bitrate}' with network access, or copy the file there") from None
        raise CodecFailure(f"cannot load DAC weights {path}: {first_line(exc)}") from None
    if (int(model.sample_rate) != DAC_MODELS[model_type]
            or not 1 <= model.n_codebooks <= DAC_MAX_CODEBOOKS
            or not 2 <= model.codebook_size <= 1 << 16):
        raise CodecFailure(f"DAC weights {path} are not a {model_type} model this toolkit can "
                           f"run (rate {model.sample_rate}, {model.n_codebooks} codebooks of "
                           f"{model.codebook_size})")
    return model.eval()


class LoudnessMeter:
    """Integrated loudness (ITU-R BS.1770) of a mono signal fed in pieces, as audiotools
    measures it for DAC: K-weighting with the filter state carried across pieces, 400 ms blocks
    every 100 ms kept as per-step energies, then the absolute and relative gates. The whole
    signal is never held."""

    BLOCK_SECONDS = 0.4
    FLOOR = -70.0  # audiotools' MIN_LOUDNESS

    def __init__(self, rate: int):
        from pyloudnorm import Meter  # the filter coefficients audiotools takes from it

        self.rate = rate
        self.kernel = int(self.BLOCK_SECONDS * rate)
        self.stride = int(self.BLOCK_SECONDS * rate * 0.25)
        if self.kernel % self.stride:
            raise CodecFailure(f"loudness blocks do not fit {rate} Hz")
        self.stages = [(f.b, f.a, f.passband_gain, np.zeros(max(len(f.a), len(f.b)) - 1))
                       for f in Meter(rate)._filters.values()]
        self.steps: list[np.ndarray] = []
        self.partial = 0.0  # energy of the step being filled
        self.filled = 0  # samples in it
        self.count = 0

    def feed(self, samples: np.ndarray) -> None:
        from scipy.signal import lfilter

        weighted = np.asarray(samples, dtype=np.float64)
        for i, (b, a, gain, state) in enumerate(self.stages):
            weighted, state = lfilter(b, a, weighted, zi=state)
            weighted = weighted * gain
            self.stages[i] = (b, a, gain, state)
        energy = weighted * weighted
        self.count += len(energy)
        head = min(self.stride - self.filled, len(energy))
        self.partial += energy[:head].sum()
        self.filled += head
        energy = energy[head:]
        if self.filled == self.stride:
            whole = len(energy) // self.stride * self.stride
            self.steps += [np.array([self.partial]), energy[:whole].reshape(-1, self.stride).sum(1)]
            self.partial, self.filled = energy[whole:].sum(), len(energy) - whole

    def result(self) -> float:
        if self.count < self.rate // 2:  # audiotools pads inputs shorter than 0.5 s
            self.feed(np.zeros(int((0.5 - self.count / self.rate) * self.rate)))
        frames = math.ceil((max(self.count, self.kernel) - self.kernel) / self.stride) + 1
        per_block = self.kernel // self.stride
        steps = np.concatenate(self.steps + [np.array([self.partial])])
        steps = np.pad(steps, (0, max(0, frames + per_block - 1 - len(steps))))
        z = np.convolve(steps, np.ones(per_block), "valid")[:frames] / (self.BLOCK_SECONDS
                                                                         * self.rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = -0.691 + 10 * np.log10(z)
            gated = z[level > -70.0]
            relative = -0.691 + 10 * np.log10(gated.mean()) - 10 if gated.size else -np.inf
            kept = z[(level > -70.0) & (level > relative)]
            loudness = -0.691 + 10 * np.log10(kept.mean()) if kept.size else -np.inf
        return max(float(loudness), self.FLOOR)


def loudness_gain(target_db, measured_db):
    """audiotools' normalize(): the float32 factor taking `measured_db` to `target_db`."""
    import torch

    target = torch.as_tensor(target_db)
    measured = torch.as_tensor(measured_db, dtype=torch.float32)
    return torch.exp((target - measured) * (np.log(10) / 20))


class DacRunner:
    """DAC's own chunked mode (CodecMixin.compress/decompress), fed from a file span by span:
    the input is measured for loudness in a first pass, then encoded window by window with the
    convolutions' padding off; decoded audio goes to a spool file while its loudness is
    measured, and comes back at the input's loudness. Codes equal the package's for the same
    input loudness; memory stays that of one window."""

    # Audio per window. Each window's codes overlap the next by the model's margins (2 x 0.33 s
    # at 16 kHz) and the last window is coded whole, so short windows cost bits: at 5 s, the
    # window of `python -m dac encode`, 4-8 % more codes than the audio needs; at 10 s 2-4 %, and
    # inputs up to 10 s take one call with no overlap at all.
    WINDOW_SECONDS = 10.0
    NORMALIZE_DB = -16  # the loudness the encoder sees

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        self.model, self.device = model, device
        self.rate = int(model.sample_rate)
        self.hop = int(model.hop_length)
        self.seconds = chunk_seconds or self.WINDOW_SECONDS
        self.window = math.ceil(self.seconds * self.rate / self.hop) * self.hop
        self.advance = model.get_output_length(self.window)
        if self.advance < self.hop:  # the window must outgrow the margins on both sides
            raise BadValue(f"--chunk-seconds {self.seconds:g} is too short for DAC: windows "
                           f"need more than {2 * model.delay / self.rate:.2f} s")
        self.read_samples = chunk_samples(None, self.rate)

    def encode(self, samples, codebooks: int, source_rate: int, progress=None) -> DacFile:
        import torch

        total = len(samples)
        meter, peak = LoudnessMeter(self.rate), 0.0
        for lo in range(0, total, self.read_samples):
            piece = np.asarray(samples[lo: lo + self.read_samples], dtype=np.float32)
            meter.feed(piece)
            peak = max(peak, float(np.abs(piece).max()))
        input_db = np.float32(meter.result())
        gain = loudness_gain(self.NORMALIZE_DB, [input_db])
        loudest = torch.tensor([peak], dtype=torch.float32) * gain
        peak_gain = 1.0 / loudest if loudest > 1.0 else torch.ones(1)

        def normalized(lo: int, hi: int) -> torch.Tensor:
            # the input between lo and hi, zeros outside, scaled as CodecMixin.compress does
            window = np.zeros(hi - lo, dtype=np.float32)
            inside = np.asarray(samples[max(lo, 0): min(hi, total)], dtype=np.float32)
            window[max(lo, 0) - lo: max(lo, 0) - lo + len(inside)] = inside
            return (torch.from_numpy(window) * gain) * peak_gain

        model, codes = self.model, []
        padding = total / self.rate <= self.seconds  # short inputs: one call, padding on
        try:
            model.padding = padding
            with torch.inference_mode():
                starts = [0] if padding else range(0, total, self.advance)
                for start in starts:
                    x = normalized(0, total) if padding else normalized(
                        start - model.delay, start - model.delay + self.window)
                    x = model.preprocess(x[None, None].to(self.device), self.rate)
                    chunk = model.encode(x, codebooks)[1]
                    codes.append(chunk[0].cpu().numpy().astype(np.uint16))
                    release_memory()
                    if progress is not None:
                        progress(total if padding else min(self.advance, total - start))
        finally:
            model.padding = True
        original_length = round(total * source_rate / self.rate)
        return DacFile(codes=np.concatenate(codes, axis=-1)[None], chunk_length=codes[0].shape[-1],
                       original_length=max(1, original_length), input_db=float(input_db),
                       sample_rate=source_rate, padding=padding)

    def decode(self, dac: DacFile, length: int, progress=None) -> tp.Iterator[np.ndarray]:
        """`length` samples at the model's rate, the channels averaged."""
        import tempfile

        import torch

        model, frames, step = self.model, dac.codes.shape[-1], dac.chunk_length
        meters = [LoudnessMeter(self.rate) for _ in range(dac.channels)]
        sizes, held = [], 0
        with tempfile.TemporaryFile() as spool:
            try:
                model.padding = dac.padding
                with torch.inference_mode():
                    for start in range(0, frames, step):
                        codes = dac.codes[..., start: start + step].astype(np.int64)
                        try:
                            latent = model.quantizer.from_codes(
                                torch.from_numpy(codes).to(self.device))[0]
                            audio = model.decode(latent)
                        except RuntimeError as exc:  # e.g. chunks too short for unpadded layers
                            raise BadInput(f"the codes cannot be decoded in chunks of "
                                           f"{step} frames ({first_line(exc)})") from None
                        audio = audio[:, 0].cpu().numpy()
                        if start == 0:
                            self._check_length(len(audio[0]) * math.ceil(frames / step), length,
                                               len(audio[0]), dac)
                        for meter, channel in zip(meters, audio):
                            meter.feed(channel)
                        spool.write(np.ascontiguousarray(audio, dtype="<f4").tobytes())
                        sizes.append(audio.shape[1])
                        held += audio.shape[1]
                        release_memory()
                        if progress is not None:  # counted at the file's rate, like its length
                            progress(round(audio.shape[1] * dac.sample_rate / self.rate))
            finally:
                model.padding = True
            self._check_length(held, length, sizes[0], dac)
            gain = loudness_gain(np.float32(dac.input_db), [m.result() for m in meters]).numpy()
            spool.seek(0)
            out = 0
            for size in sizes:
                block = np.frombuffer(spool.read(4 * size * dac.channels), dtype="<f4")
                block = (block.reshape(dac.channels, size) * gain[:, None]).mean(axis=0)
                block = block[: max(0, length - out)]
                out += len(block)
                if len(block):
                    yield block.astype(np.float32)
            if out < length:  # a sample or two lost to rounding between rates
                yield np.zeros(length - out, dtype=np.float32)

    def _check_length(self, held: int, length: int, chunk: int, dac: DacFile) -> None:
        slack = self.hop + (0 if dac.padding else chunk)
        if not length - self.hop <= held <= length + slack:
            raise BadInput(f"the codes decode to {held / self.rate:.2f} s with this DAC model, "
                           f"but the file records {length / self.rate:.2f} s: it was encoded "
                           f"with another model (set DAC_MODEL and DAC_BITRATE to the encoder's)")


class DacAdapter:
    """Descript's DAC into the dac package's own .dac format. A .dac file does not name its
    model: the user's DAC_MODEL and DAC_BITRATE decide, as with `python -m dac decode`."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        model = load_dac(opts.dac_model, opts.dac_bitrate, opts.device)
        rate = int(model.sample_rate)
        if opts.sample_rate is not None and opts.sample_rate != rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, DAC model "
                               f"{opts.dac_model} needs {rate} Hz")
        codebooks = model.n_codebooks if opts.codebooks is None else opts.codebooks
        if not 1 <= codebooks <= model.n_codebooks:
            raise BadValue(f"{codebooks} codebooks asked for; DAC model {opts.dac_model} "
                           f"{opts.dac_bitrate} has 1 to {model.n_codebooks} (DAC_CODEBOOKS)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        runner = DacRunner(model, opts.chunk_seconds, opts.device)
        write_dac(out, runner.encode(samples, codebooks, opts.source_rate or rate, opts.progress))

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            dac = read_dac(fo)
        model = load_dac(opts.dac_model, opts.dac_bitrate, opts.device)
        name = f"{opts.dac_model} {opts.dac_bitrate}"
        if dac.codes.shape[1] > model.n_codebooks:
            raise BadInput(f"the file has {dac.codes.shape[1]} codebooks, DAC model {name} has "
                           f"{model.n_codebooks} (set DAC_MODEL and DAC_BITRATE to the "
                           f"encoder's)")
        if dac.codes.max() >= model.codebook_size:
            raise BadInput(f"a code is outside DAC model {name}'s codebook of "
                           f"{model.codebook_size}")
        rate = int(model.sample_rate)
        length = max(1, round(dac.original_length * rate / dac.sample_rate))
        runner = DacRunner(model, device=opts.device)
        return Decoded(runner.decode(dac, length, opts.progress), length, rate, dac.sample_rate)
