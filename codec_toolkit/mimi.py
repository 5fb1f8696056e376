"""Kyutai's Mimi (transformers' MimiModel): its loader, its streaming chunked runner and its
adapter into NCDC containers.

torch and transformers are imported inside the functions that use them.
"""

from __future__ import annotations

import functools
import math
import os
import typing as tp

import numpy as np

from codec_toolkit import mimi_compiled
from codec_toolkit.errors import (BadInput, BadValue, CodecFailure, InvalidField,
                                  MissingDependency, RateMismatch, missing_package)
from codec_toolkit.mimi_forms import ChunkedSeanet, decode_seanet, encoder_elus_in_place
from codec_toolkit.ncdc import (CODEC_NAMES, KNOWN_MODELS, MAX_LEVELS, CodesHeader, read_ncdc,
                                write_ncdc)
from codec_toolkit.runtime import (DecodeOptions, Decoded, EncodeOptions, chunk_samples,
                                   fold_weight_norm, from_hub, release_memory, trim)


def load_mimi(model_id: str, device: str = "cpu"):
    """Kyutai's Mimi `model_id` through transformers, loaded once per process, on `device`."""
    return _load_mimi_once(model_id).to(device)


@functools.lru_cache(maxsize=2)
def _load_mimi_once(model_id: str):
    """MimiModel.from_pretrained on a hub id or a local directory, cache first, as for SNAC."""
    try:
        from huggingface_hub.utils import logging as hub_logging
        # The module itself, not `from transformers import MimiModel`: the package's lazy
        # namespace indexes every model it ships first (0.5 s of each run).
        from transformers.models.mimi.modeling_mimi import MimiModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise missing_package(exc) from None
    hub_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()  # "Loading weights" bars are not for our users
    if os.path.isdir(model_id) and not os.path.isfile(os.path.join(model_id, "config.json")):
        raise MissingDependency(f"Mimi model directory {model_id} has no config.json")
    # transformers reports a model missing from the cache as a plain OSError.
    model = from_hub(MimiModel.from_pretrained, model_id, OSError, "Mimi", "MIMI_MODEL",
                     "config.json and the weights")
    config = model.config
    if (model.encoder is None or model.decoder is None or not config.use_causal_conv
            or not 1 <= config.num_quantizers <= MAX_LEVELS
            or not 2 <= config.codebook_size <= 1 << 32
            or config.sampling_rate % config.frame_rate):
        raise CodecFailure(f"Mimi model {model_id} has a configuration this toolkit cannot run "
                           f"(it needs a causal encoder and decoder, 1 to {MAX_LEVELS} "
                           f"codebooks and a whole number of samples per frame)")
    fold_weight_norm(model)
    encoder_elus_in_place(model.encoder.encoder_seanet)
    return model.eval()


class MimiRunner:
    """Mimi in chunks of whole frames, through the library's own streaming state. The encoder is
    causal: its convolutions keep their padding cache and its transformer a key/value cache of
    the sliding window, so chunked codes are those of a whole-file encode of the input padded
    with silence to whole frames, up to float rounding in deep residual codebooks (unpadded,
    the library pads the last partial frame its own way, so that frame's codes can differ too).
    The decoder's
    transformer streams the same way; its convolutions, which have no cache in transformers,
    get mimi_forms.CONTEXT_FRAMES of the transformer's past output (`ChunkedSeanet`)."""

    def __init__(self, model, chunk_seconds: float | None = None, device: str = "cpu"):
        config = model.config
        self.model = model
        self.device = device
        self.frame = int(config.sampling_rate / config.frame_rate)  # 1920 at 24 kHz
        self.chunk = max(1, chunk_samples(chunk_seconds, config.sampling_rate) // self.frame)
        self.upsample = int(round(config.encodec_frame_rate / config.frame_rate))

    def encode(self, samples: np.ndarray, codebooks: int, progress=None) -> np.ndarray:
        """Samples [T] -> codes [codebooks, ceil(T / frame)]: the end is padded with silence to
        a whole frame, as the model itself pads."""
        import torch

        frames = math.ceil(len(samples) / self.frame)
        encoder_cache = padding_cache = None
        parts = []
        for start in range(0, frames, self.chunk):
            stop = min(frames, start + self.chunk)
            piece = np.zeros((stop - start) * self.frame, dtype=np.float32)
            data = samples[start * self.frame: stop * self.frame]
            piece[:len(data)] = data
            x = torch.from_numpy(piece)[None, None].to(self.device)
            with torch.inference_mode():
                out = self.model.encode(x, num_quantizers=codebooks, encoder_cache=encoder_cache,
                                        padding_cache=padding_cache, use_streaming=True,
                                        return_dict=True)
            encoder_cache, padding_cache = out.encoder_cache, out.padding_cache
            parts.append(out.audio_codes[0].cpu().numpy())
            release_memory()
            if progress:
                progress(min(len(samples), stop * self.frame) - start * self.frame)
        return np.concatenate(parts, axis=-1)

    def decode(self, codes: np.ndarray, progress=None) -> tp.Iterator[np.ndarray]:
        """Codes [K, F] -> samples, chunk by chunk (frame * F in all)."""
        import torch

        decoder = self.model.decoder
        seanet = ChunkedSeanet(lambda hidden: decode_seanet(decoder.decoder_seanet, hidden),
                               self.frame, self.upsample)
        cache = last_latent = None
        for start in range(0, codes.shape[-1], self.chunk):
            stop = min(codes.shape[-1], start + self.chunk)
            piece = torch.from_numpy(np.ascontiguousarray(codes[:, start:stop], dtype=np.int64))
            with torch.inference_mode():
                latent = self.model.quantizer.decode(piece[None].to(self.device))
                # The upsampling convolution reads one latent frame back.
                if decoder.upsample is None:
                    hidden = latent
                else:
                    joined = latent if last_latent is None else torch.cat([last_latent, latent],
                                                                          -1)
                    hidden = decoder.upsample(joined)
                    if last_latent is not None:
                        hidden = hidden[..., self.upsample:]
                    last_latent = latent[..., -1:]
                out = decoder.decoder_transformer(hidden.transpose(1, 2), cache=cache,
                                                  use_cache=True, return_dict=True)
                cache = out.cache
                samples = seanet(out.last_hidden_state.transpose(1, 2))
            release_memory()
            if progress:
                progress((stop - start) * self.frame)
            yield samples


MIMI_CODEBOOKS = 8  # 1.1 kbps


def _facts(source) -> tuple[int, int, int]:
    """(sampling rate, codebook size, codebooks) of a model's config or of the facts a compiled
    package carries (a dict)."""
    get = source.get if isinstance(source, dict) else functools.partial(getattr, source)
    return get("sampling_rate"), get("codebook_size"), get("num_quantizers")


class MimiAdapter:
    """Kyutai's Mimi (transformers' MimiModel) into the NCDC container."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        model_id = opts.model or KNOWN_MODELS["mimi"][0]
        codebooks = MIMI_CODEBOOKS if opts.codebooks is None else opts.codebooks
        # A prepared compiled encoder runs without transformers or the model (mimi_compiled).
        encoder = mimi_compiled.compiled_or_none(model_id, codebooks, opts.backend, opts.device,
                                                 opts.chunk_seconds)
        if encoder is None:
            model = load_mimi(model_id, opts.device)
            rate, size, most = _facts(model.config)
        else:
            rate, size, _ = _facts(encoder.facts)
            most = codebooks  # the package's count
        if opts.sample_rate is not None and opts.sample_rate != rate:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, Mimi model {model_id} "
                               f"needs {rate} Hz")
        if not 1 <= codebooks <= most:
            raise BadValue(f"{codebooks} codebooks asked for; Mimi model {model_id} has "
                           f"1 to {most} (MIMI_CODEBOOKS)")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        if encoder is None:
            encoder = (mimi_compiled.compiled_for(model, model_id, codebooks, opts.backend,
                                                  opts.device, opts.chunk_seconds)
                       or MimiRunner(model, opts.chunk_seconds, opts.device))
        codes = encoder.encode(samples, codebooks, opts.progress)
        header = CodesHeader("mimi", model_id, rate, opts.source_rate or rate, len(samples),
                             max(1, math.ceil(math.log2(size))))
        write_ncdc(out, header, list(codes))

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        with open(path, "rb") as fo:
            header, codes = read_ncdc(fo)
        if header.codec != "mimi":
            raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not Mimi codes")
        # A file never decides to load a model outside the known set: only the user does.
        model_id = opts.mimi_model or header.model
        if model_id not in KNOWN_MODELS["mimi"] and not opts.mimi_model:
            raise BadInput(f"the file names Mimi model {header.model!r}, which is not a known "
                           f"model; set MIMI_MODEL to load it if you trust it")
        # A prepared compiled decoder runs without transformers or the model (mimi_compiled).
        runner = mimi_compiled.decoder_or_none(model_id, opts.backend, opts.device,
                                               opts.chunk_seconds)
        if runner is None:
            model = load_mimi(model_id, opts.device)
        rate, size, most = _facts(model.config if runner is None else runner.facts)
        if header.sample_rate != rate:
            raise BadInput(f"the file's codes are for {header.sample_rate} Hz, Mimi model "
                           f"{model_id} runs at {rate} Hz")
        if len(codes) > most:
            raise BadInput(f"the file has {len(codes)} codebooks, Mimi model {model_id} has "
                           f"{most}")
        if any(len(c) != len(codes[0]) for c in codes):
            raise BadInput(f"codebooks of unequal lengths {sorted({len(c) for c in codes})}")
        if any(len(c) and c.max() >= size for c in codes):
            raise BadInput(f"a code is outside Mimi model {model_id}'s codebook of {size}")
        if runner is None:
            runner = (mimi_compiled.decoder_for(model, model_id, opts.backend, opts.device,
                                                opts.chunk_seconds)
                      or MimiRunner(model, opts.chunk_seconds, opts.device))
        held = len(codes[0]) * runner.frame
        if not held - runner.frame < header.length <= held:
            raise InvalidField(f"recorded length {header.length} does not fit the "
                               f"{len(codes[0])} frames of codes")
        chunks = trim(runner.decode(np.stack(codes), opts.progress), header.length)
        return Decoded(chunks, header.length, rate, header.source_rate or rate)
