"""The quality report's pictures: a pair's spectrograms and their difference, and the
rate-quality plot. matplotlib (requirements-quality.txt) is imported inside, with the Agg
backend, so nothing here needs a display."""

from __future__ import annotations

import typing as tp

import numpy as np

from codec_toolkit.errors import missing_package

# The colour scale spans this many dB below the louder spectrogram's peak.
DYNAMIC_RANGE_DB = 90


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError as exc:
        raise missing_package(exc, "run: make quality") from exc
    return pyplot


def magnitude(x: np.ndarray, rate: int) -> tp.Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequencies [F], times [N] and STFT magnitude [F, N] of a signal [T]: 32 ms windows."""
    from scipy import signal

    freqs, times, spec = signal.stft(x, fs=rate, nperseg=512, noverlap=384)
    return freqs, times, np.abs(spec)


def spectrogram_figure(ref: np.ndarray, deg: np.ndarray, rate: int, path: str,
                       titles: tp.Sequence[str]) -> None:
    """Three panels to `path` (PNG): the original [T], the restored [T] (aligned to it) and the
    magnitude of their difference, |restored| - |original| per bin (phase ignored), all in dB on
    one colour scale, so a quiet difference panel means a close copy."""
    plt = _pyplot()
    freqs, times, ref_mag = magnitude(ref, rate)
    _, _, deg_mag = magnitude(deg, rate)
    panels = [ref_mag, deg_mag, np.abs(deg_mag - ref_mag)]
    decibels = [20 * np.log10(p + 1e-10) for p in panels]
    top = max(float(decibels[0].max()), float(decibels[1].max()))
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True, constrained_layout=True)
    for ax, db, title in zip(axes, decibels, titles):
        image = ax.pcolormesh(times, freqs / 1000, db, vmin=top - DYNAMIC_RANGE_DB, vmax=top,
                              cmap="magma", shading="auto")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("kHz")
    axes[-1].set_xlabel("seconds")
    fig.colorbar(image, ax=axes, label="dB (one scale for all three)")
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)


def rate_quality_plot(rows: tp.Sequence[dict], path: str) -> None:
    """PESQ-WB and STOI against kbps (log axis), one line per codec, to `path` (PNG). Each row
    has codec, kbps, pesq_wb, stoi (None where a score is missing); a codec whose rows are
    marked `noise` (random-weight models) is drawn dashed and labelled so."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    codecs: dict = {}
    for row in rows:
        codecs.setdefault(row["codec"], []).append(row)
    for ax, key, label in zip(axes, ("pesq_wb", "stoi"), ("PESQ-WB", "STOI")):
        for codec, points in codecs.items():
            points = sorted((r for r in points if r[key] is not None and r["kbps"]),
                            key=lambda r: r["kbps"])
            if not points:
                continue
            noise = any(r.get("noise") for r in points)
            ax.plot([r["kbps"] for r in points], [r[key] for r in points],
                    "o--" if noise else "o-",
                    label=f"{codec} (random weights: noise)" if noise else codec)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}")  # 1 and 10, not 10^0
        ax.set_xlabel("kbps (log scale)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)
