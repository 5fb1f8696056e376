"""SemantiCodec (16 kHz, semantic + acoustic token pairs): its loader and its adapter into NCDC
containers. It runs whole files: the package segments its input itself.

torch and semanticodec are imported inside the functions that use them.
"""

# `import semanticodec` in here gets the pip package, not this module: imports are absolute,
# and only the parent of codec_toolkit/ is on sys.path, never the folder itself.

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import typing as tp

import numpy as np

from codec_toolkit import facts
from codec_toolkit.audio import write_audio
from codec_toolkit.errors import (BadInput, BadValue, CodecFailure, InvalidField,
                                  MissingPackage, RateMismatch, ToolkitError, first_line)
from codec_toolkit.ncdc import (CODEC_NAMES, KNOWN_MODELS, SEMANTICODEC_TOKEN_RATES,
                                SEMANTICODEC_VOCAB_SIZES, CodesHeader, read_ncdc, write_ncdc)
from codec_toolkit.runtime import DecodeOptions, Decoded, EncodeOptions

SEMANTICODEC_RATE = facts.rate("semanticodec")
SEMANTICODEC_ACOUSTIC_VOCAB = 8192  # the acoustic codebook of every published setting
SEMANTICODEC_INSTALL = "pip install git+https://github.com/haoheliu/SemantiCodec-inference.git"


def load_semanticodec(token_rate: int, vocab_size: int, device: str = "cpu"):
    """SemantiCodec at one of its published settings, through its own constructor (which
    fetches the weights from the Hugging Face hub into the hub's cache), once per process."""
    return _load_semanticodec_once(token_rate, vocab_size, device)


@functools.lru_cache(maxsize=2)
def _load_semanticodec_once(token_rate: int, vocab_size: int, device: str):
    if token_rate not in SEMANTICODEC_TOKEN_RATES or vocab_size not in SEMANTICODEC_VOCAB_SIZES:
        raise BadValue(f"SemantiCodec has no setting with {token_rate} tokens/s and a "
                       f"vocabulary of {vocab_size}")
    try:
        from semanticodec import SemantiCodec
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] != "semanticodec":
            raise MissingPackage(f"Python package missing: {exc.name.split('.')[0]} (needed by "
                                    f"semanticodec)") from None
        raise MissingPackage(f"Python package missing: semanticodec; it is installed from "
                                f"its source repository: {SEMANTICODEC_INSTALL}") from None
    import torch
    from huggingface_hub import constants

    try:
        # Its constructor prints progress on stdout, which carries our batch replies.
        with contextlib.redirect_stdout(io.StringIO()):
            codec = SemantiCodec(token_rate=token_rate, semantic_vocab_size=vocab_size,
                                 cache_path=constants.HF_HUB_CACHE)
    except Exception as exc:  # noqa: BLE001 - a research package: anything can come out
        raise CodecFailure(f"cannot load SemantiCodec ({token_rate} tokens/s, vocabulary "
                           f"{vocab_size}): {first_line(exc)}") from None
    # It picks CUDA by itself when there is one; TORCH_DEVICE decides here.
    codec.device = torch.device(device)
    for part in ("encoder", "decoder"):
        if isinstance(getattr(codec, part, None), torch.nn.Module):
            setattr(codec, part, getattr(codec, part).to(device))
    return codec


def semanticodec_tokens(length: int, token_rate: int) -> int:
    """Token pairs SemantiCodec's encoder returns for `length` samples: it pads the audio to a
    whole 0.16 s patch, 8 pairs per patch at 100 tokens/s."""
    seconds = length / SEMANTICODEC_RATE
    seconds += 0.16 - seconds % 0.16
    return math.ceil(8 * seconds / 0.16 / (100 / token_rate))


class SemantiCodecAdapter:
    """SemantiCodec (16 kHz, semantic + acoustic token pairs) into the NCDC container; the
    model name records the setting, e.g. semanticodec-50-16384. Experimental: the real package
    was not run here (see README)."""

    def encode(self, samples: np.ndarray, out: tp.BinaryIO, opts: EncodeOptions) -> None:
        import tempfile

        import torch

        if opts.sample_rate is not None and opts.sample_rate != SEMANTICODEC_RATE:
            raise RateMismatch(f"the input is at {opts.sample_rate} Hz, SemantiCodec needs "
                               f"{SEMANTICODEC_RATE} Hz")
        if len(samples) == 0:
            raise BadInput("no audio samples to encode")
        codec = load_semanticodec(opts.token_rate, opts.vocab_size, opts.device)
        # Its encoder reads a file: one whole-file call (its own 10.24 s segmentation inside).
        with tempfile.TemporaryDirectory(prefix="semanticodec-") as work:
            wav = os.path.join(work, "input.wav")
            write_audio(wav, [np.asarray(samples[:], dtype=np.float32)], SEMANTICODEC_RATE,
                        len(samples))
            with torch.inference_mode():
                tokens = codec.encode(wav)
        tokens = self._as_array(tokens, "encoder")
        expected = semanticodec_tokens(len(samples), opts.token_rate)
        if tokens.shape[1] != expected:
            raise CodecFailure(f"SemantiCodec returned {tokens.shape[1]} token pairs for "
                               f"{len(samples)} samples, expected {expected}")
        self._check_range(tokens, opts.vocab_size, CodecFailure)
        bits = math.ceil(math.log2(max(opts.vocab_size, SEMANTICODEC_ACOUSTIC_VOCAB)))
        header = CodesHeader("semanticodec", f"semanticodec-{opts.token_rate}-{opts.vocab_size}",
                             SEMANTICODEC_RATE, opts.source_rate or SEMANTICODEC_RATE,
                             len(samples), bits)
        write_ncdc(out, header, [tokens[0, :, 0], tokens[0, :, 1]])

    def decode(self, path: str, opts: DecodeOptions) -> Decoded:
        import torch

        with open(path, "rb") as fo:
            header, codes = read_ncdc(fo)
        if header.codec != "semanticodec":
            raise BadInput(f"the file holds {CODEC_NAMES[header.codec]} codes, not SemantiCodec "
                           f"tokens")
        # Only the published settings: the name picks the constructor's arguments, nothing else.
        if header.model not in KNOWN_MODELS["semanticodec"]:
            raise BadInput(f"the file names SemantiCodec setting {header.model[:60]!r}, which "
                           f"is not one of the published ones")
        token_rate, vocab_size = (int(v) for v in header.model.split("-")[1:])
        if header.sample_rate != SEMANTICODEC_RATE:
            raise BadInput(f"the file's tokens are for {header.sample_rate} Hz, SemantiCodec "
                           f"runs at {SEMANTICODEC_RATE} Hz")
        if len(codes) != 2 or len(codes[0]) != len(codes[1]):
            raise BadInput("expected two token streams (semantic, acoustic) of equal length")
        if len(codes[0]) != semanticodec_tokens(header.length, token_rate):
            raise InvalidField(f"{len(codes[0])} token pairs do not fit the recorded length of "
                               f"{header.length} samples")
        tokens = np.stack(codes, axis=-1)[None]
        self._check_range(tokens, vocab_size, BadInput)
        codec = load_semanticodec(token_rate, vocab_size, opts.device)
        with torch.inference_mode():
            waveform = codec.decode(torch.from_numpy(tokens).to(opts.device))
        waveform = np.asarray(waveform.cpu() if hasattr(waveform, "cpu") else waveform,
                              dtype=np.float32).reshape(-1)[: header.length]
        waveform = np.pad(waveform, (0, header.length - len(waveform)))
        return Decoded(iter([waveform]), header.length, SEMANTICODEC_RATE,
                       header.source_rate or SEMANTICODEC_RATE)

    @staticmethod
    def _as_array(tokens, what: str) -> np.ndarray:
        tokens = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens)
        if tokens.ndim != 3 or tokens.shape[0] != 1 or tokens.shape[2] != 2 \
                or tokens.dtype.kind not in "iu":
            raise CodecFailure(f"SemantiCodec's {what} returned tokens of shape "
                               f"{tokens.shape} ({tokens.dtype}), expected [1, T, 2] integers")
        return tokens.astype(np.int64)

    @staticmethod
    def _check_range(tokens: np.ndarray, vocab_size: int, error: type[ToolkitError]) -> None:
        if tokens.size and (tokens.min() < 0 or tokens[..., 0].max() >= vocab_size
                            or tokens[..., 1].max() >= SEMANTICODEC_ACOUSTIC_VOCAB):
            raise error(f"a token is outside SemantiCodec's vocabularies ({vocab_size} "
                        f"semantic, {SEMANTICODEC_ACOUSTIC_VOCAB} acoustic)")
