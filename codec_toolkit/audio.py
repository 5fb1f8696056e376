"""Audio files in and out: WAV/FLAC and headerless float32 input (the shell front-ends hand us
mono audio at the model's rate), a reproducible WAV writer, and writes that never leave a
half-written file behind."""

from __future__ import annotations

import contextlib
import os
import struct
import typing as tp

import numpy as np

from codec_toolkit.errors import BadInput, CodecFailure, OutputError


def read_audio(path: str, expected_rate: int) -> np.ndarray:
    """Mono float32 samples [T] of a WAV/FLAC file that must already be at `expected_rate`."""
    import soundfile

    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadInput(f"{path}: cannot read audio ({exc})") from None
    if rate != expected_rate:
        raise BadInput(f"{path}: sample rate is {rate} Hz, the model needs {expected_rate} Hz "
                       f"(convert it first, as compress_audio.sh does)")
    if samples.shape[0] == 0:
        raise BadInput(f"{path}: contains no audio samples")
    return samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]


class RawAudio:
    """Mono float32 samples of a headerless little-endian file, read span by span as a chunked
    run slices them: an hour of input costs no memory. (A memory map would keep every page it
    touched resident, 635 MB for an hour at 44.1 kHz.)"""

    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115 - lives as long as the object
        self._length = os.fstat(self._file.fileno()).st_size // 4

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RawAudio takes contiguous slices only")
        start, stop, _ = index.indices(self._length)
        count = max(0, stop - start)
        data = os.pread(self._file.fileno(), 4 * count, 4 * start)
        if len(data) != 4 * count:
            raise BadInput(f"{self.path}: shrank while being read")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def __del__(self) -> None:
        if hasattr(self, "_file"):
            self._file.close()


def read_raw_audio(path: str) -> RawAudio:
    """Mono float32 samples [T] of a headerless float32 little-endian file."""
    try:
        if os.path.getsize(path) < 4:
            raise BadInput(f"{path}: contains no audio samples")
        return RawAudio(path)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None


# A canonical 44-byte header of a mono 32-bit float WAV: written here rather than by libsndfile,
# whose PEAK chunk holds the time of writing and would make equal decodes differ in bytes.
_WAV_FLOAT_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def write_audio(path: str, chunks: tp.Iterable[np.ndarray], rate: int, length: int) -> None:
    """Write `length` mono float32 samples, arriving in chunks, as a 32-bit float WAV."""
    if length < 1:  # a WAV of no samples is never a successful decode
        raise CodecFailure(f"{path}: the decoder produced no samples")
    data_bytes = 4 * length
    if data_bytes + 36 > 0xFFFFFFFF:
        raise OutputError(f"{path}: {length} samples do not fit a WAV file (4 GiB at most)")
    with atomic_output(path) as out:
        out.write(_WAV_FLOAT_HEADER.pack(b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 3, 1,
                                         rate, 4 * rate, 4, 32, b"data", data_bytes))
        written = 0
        for chunk in chunks:
            out.write(np.asarray(chunk, dtype="<f4").tobytes())
            written += len(chunk)
        if written != length:
            raise CodecFailure(f"decoder produced {written} samples, expected {length}")


@contextlib.contextmanager
def atomic_output(path: str) -> tp.Iterator[tp.BinaryIO]:
    """A file to write `path` through: a temporary name beside it, renamed into place when the
    block completes and removed when it fails, so `path` is never seen half-written."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fo:
            yield fo
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` through `atomic_output`."""
    with atomic_output(path) as fo:
        fo.write(data)
