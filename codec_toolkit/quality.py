"""Objective quality scores of a restored signal against its original (compare_audio.sh).

Both signals arrive as mono float32 at 16 kHz (PESQ-WB, STOI, ESTOI, ViSQOL, SI-SDR, mel
distance) and 8 kHz (PESQ-NB). A codec may delay its output: the lag is found once by
cross-correlation at 16 kHz and applied at both rates, then the restored signal is cut or
padded with silence to the original's length. No torch here: numpy, scipy and the metric
packages of requirements-quality.txt, each imported where it is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import typing as tp
import warnings

import numpy as np

from codec_toolkit.errors import BadInput, ToolkitError, first_line, missing_package

RATE = 16000
NB_RATE = 8000
# Codecs delay by a few frames (tens of ms); half a second is far beyond any of them.
MAX_LAG_S = 0.5
# Frame padding leaves lengths a little apart; a whole second more is another recording.
MAX_LENGTH_GAP_S = 1.0
# About -100 dBFS: nothing PESQ or STOI could find speech in.
SILENCE_RMS = 1e-5
# SI-SDR of a perfect copy is infinite; the noise floor keeps it a finite, large number.
SI_SDR_FLOOR = 1e-15
INSTALL_HINT = "run: make quality"
KEYS = ("pesq_wb", "pesq_nb", "stoi", "estoi", "visqol", "si_sdr", "mel_distance", "kbps",
        "lag_ms")

NAMES = {"pesq_wb": "PESQ", "pesq_nb": "PESQ", "stoi": "STOI", "estoi": "ESTOI",
         "visqol": "ViSQOL", "si_sdr": "SI-SDR"}

Score = tp.Tuple[tp.Optional[float], tp.Optional[str]]  # value, or None and the reason


@dataclasses.dataclass
class Aligned:
    """The pair after alignment: `ref`/`deg` at 16 kHz, `ref_nb`/`deg_nb` at 8 kHz, all [T]."""

    ref: np.ndarray
    deg: np.ndarray
    ref_nb: np.ndarray
    deg_nb: np.ndarray
    lag: int  # samples at 16 kHz by which the restored signal is late (negative: early)


def find_lag(ref: np.ndarray, deg: np.ndarray, max_lag: int) -> int:
    """Samples by which `deg` [T2] trails `ref` [T1]: the peak of their cross-correlation
    within +-max_lag."""
    from scipy import signal

    corr = signal.correlate(deg, ref, mode="full", method="fft")
    lags = signal.correlation_lags(len(deg), len(ref), mode="full")
    window = np.abs(lags) <= max_lag
    best = np.argmax(corr[window])
    # Silence, or nothing alike at any lag: no delay to remove.
    return int(lags[window][best]) if corr[window][best] > 0 else 0


def shift(x: np.ndarray, lag: int, length: int) -> np.ndarray:
    """`x` [T] advanced by `lag` samples, cut or padded with silence to `length`."""
    x = x[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag, x.dtype), x])
    return np.pad(x[:length], (0, max(0, length - len(x))))


def align(ref: np.ndarray, deg: np.ndarray, ref_nb: np.ndarray, deg_nb: np.ndarray) -> Aligned:
    """Undo the codec's delay and length change; BadInput when the lengths differ by more than
    MAX_LENGTH_GAP_S after it."""
    lag = find_lag(ref, deg, int(MAX_LAG_S * RATE))
    gap = (len(deg) - lag - len(ref)) / RATE
    if abs(gap) > MAX_LENGTH_GAP_S:
        raise BadInput(f"RESTORED is {abs(gap):.2f} s {'longer' if gap > 0 else 'shorter'} "
                       f"than ORIGINAL, more than alignment can fix ({MAX_LENGTH_GAP_S:g} s): "
                       "not a restored copy of it?")
    lag_nb = round(lag * NB_RATE / RATE)
    return Aligned(ref, shift(deg, lag, len(ref)), ref_nb, shift(deg_nb, lag_nb, len(ref_nb)), lag)


def is_silent(x: np.ndarray) -> bool:
    return len(x) == 0 or float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < SILENCE_RMS


def pesq_score(ref: np.ndarray, deg: np.ndarray, rate: int, mode: str) -> Score:
    """PESQ (ITU-T P.862.2 wide band, mode "wb", or P.862 narrow band, "nb") as MOS-LQO."""
    try:
        from pesq import PesqError, pesq
    except ImportError as exc:
        raise missing_package(exc, INSTALL_HINT) from exc
    try:
        return float(pesq(rate, ref, deg, mode)), None
    except PesqError as exc:
        why = {"BufferTooShortError": "too short for PESQ (it needs 0.25 s or more)",
               "NoUtterancesError": "PESQ finds no speech in it"}
        return None, why.get(type(exc).__name__, f"PESQ cannot score it: {type(exc).__name__}")


def stoi_score(ref: np.ndarray, deg: np.ndarray, extended: bool) -> Score:
    try:
        from pystoi import stoi
    except ImportError as exc:
        raise missing_package(exc, INSTALL_HINT) from exc
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(stoi(ref, deg, RATE, extended=extended))
    # pystoi warns and returns 1e-5 when too few frames hold speech: not a score.
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        name = "ESTOI" if extended else "STOI"
        return None, f"too little speech for {name} (it needs about 0.4 s of non-silent frames)"
    return value, None


def visqol_score(ref: np.ndarray, deg: np.ndarray) -> Score:
    """ViSQOL v3 speech mode (MOS-LQO, 1 to 5) with the deep-lattice mapper, as the C++ default.
    Missing pieces are a null with the reason, not an error: the other scores stand alone."""
    try:
        import ai_edge_litert  # noqa: F401  # the lattice mapper's runtime
        from visqol import VisqolApi
    except ImportError as exc:
        return None, f"Python package missing: {(exc.name or '?').split('.')[0]} ({INSTALL_HINT})"
    api = VisqolApi()
    with _quiet_fds():
        api.create(mode="speech")
        result = api.measure_from_arrays(ref.astype(np.float64), deg.astype(np.float64),
                                         sample_rate=RATE)
    return float(result.moslqo), None


@contextlib.contextmanager
def _quiet_fds() -> tp.Iterator[None]:
    """stdout and stderr to /dev/null at the descriptor level: TensorFlow Lite's C++ logs a
    line there on loading, which would break our one-line error voice and --json."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def si_sdr(ref: np.ndarray, deg: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio, dB (Le Roux et al. 2019), on zero-mean
    signals."""
    ref = ref.astype(np.float64) - np.mean(ref)
    deg = deg.astype(np.float64) - np.mean(deg)
    target = np.dot(deg, ref) / np.dot(ref, ref) * ref
    target_energy = np.dot(target, target)
    noise = deg - target
    noise_energy = max(np.dot(noise, noise), target_energy * SI_SDR_FLOOR, 1e-30)
    return float(10 * np.log10(max(target_energy, 1e-30) / noise_energy))


def mel_filterbank(rate: int, n_fft: int, bands: int) -> np.ndarray:
    """Triangular filters on the HTK mel scale, [bands, n_fft // 2 + 1]."""
    def to_mel(hz):
        return 2595 * np.log10(1 + hz / 700)

    edges = 700 * (10 ** (np.linspace(0, to_mel(rate / 2), bands + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(n_fft, 1 / rate)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)


def log_mel(x: np.ndarray, n_fft: int = 1024, hop: int = 256, bands: int = 80) -> np.ndarray:
    """log10 mel power [bands, frames] of a 16 kHz signal [T]."""
    from scipy import signal

    _, _, spec = signal.stft(x, fs=RATE, nperseg=n_fft, noverlap=n_fft - hop)
    return np.log10(mel_filterbank(RATE, n_fft, bands) @ np.abs(spec) ** 2 + 1e-5)


def mel_distance(ref: np.ndarray, deg: np.ndarray) -> float:
    """Mean absolute difference of the log10 mel spectrograms: 0 for a perfect copy."""
    return float(np.mean(np.abs(log_mel(ref) - log_mel(deg))))


def _guarded(name: str, run: tp.Callable[[], Score]) -> Score:
    """A metric package's own failure on an odd pair (too short, NaNs inside it) becomes a null
    with the reason; a missing package (ToolkitError) still stops the run."""
    try:
        return run()
    except ToolkitError:
        raise
    except Exception as exc:  # noqa: BLE001  # each package fails its own way
        return None, f"{name} failed on this pair: {first_line(exc)}"


def score(pair: Aligned, visqol: bool = True) -> tp.Tuple[dict, dict]:
    """Every score of KEYS but kbps, and the reason for each that is None."""
    values: dict = {}
    reasons: dict = {}
    silent = is_silent(pair.ref)
    undefined = "the original is silent: {} is undefined"
    for key, run in (
            ("pesq_wb", lambda: pesq_score(pair.ref, pair.deg, RATE, "wb")),
            ("pesq_nb", lambda: pesq_score(pair.ref_nb, pair.deg_nb, NB_RATE, "nb")),
            ("stoi", lambda: stoi_score(pair.ref, pair.deg, extended=False)),
            ("estoi", lambda: stoi_score(pair.ref, pair.deg, extended=True)),
            ("visqol", lambda: visqol_score(pair.ref, pair.deg) if visqol
             else (None, "not computed (VISQOL=0)")),
            ("si_sdr", lambda: (si_sdr(pair.ref, pair.deg), None))):
        if silent:
            values[key], reason = None, undefined.format(NAMES[key])
        elif is_silent(pair.deg):
            values[key], reason = None, f"the restored file is silent: {NAMES[key]} cannot score it"
        else:
            values[key], reason = _guarded(NAMES[key], run)
        if reason:
            reasons[key] = reason
    values["mel_distance"] = mel_distance(pair.ref, pair.deg)
    values["lag_ms"] = pair.lag * 1000 / RATE
    return values, reasons
