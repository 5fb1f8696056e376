"""codec_toolkit.quality without FFmpeg: alignment, SI-SDR and the mel distance on synthetic
signals, where the right answer is known."""

import subprocess
import sys

import numpy as np
import pytest

from codec_toolkit import quality
from codec_toolkit.errors import BadInput
from conftest import ROOT, subprocess_env

RATE = quality.RATE


def noise(seconds: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE)).astype(np.float32)


@pytest.mark.parametrize("lag", [0, 1, 480, -160, 7999])
def test_find_lag_recovers_a_whole_sample_delay(lag):
    ref = noise(2)
    deg = np.concatenate([np.zeros(lag, np.float32), ref])[:len(ref)] if lag >= 0 else \
        np.concatenate([ref[-lag:], np.zeros(-lag, np.float32)])
    assert quality.find_lag(ref, deg, int(quality.MAX_LAG_S * RATE)) == lag


def test_find_lag_of_silence_is_zero():
    assert quality.find_lag(np.zeros(RATE, np.float32), noise(1), RATE // 2) == 0


def test_shift_cuts_and_pads_to_the_length():
    x = np.arange(1, 6, dtype=np.float32)
    assert quality.shift(x, 2, 5).tolist() == [3, 4, 5, 0, 0]
    assert quality.shift(x, -2, 4).tolist() == [0, 0, 1, 2]


def test_align_undoes_a_delay_at_both_rates():
    ref = noise(2)
    deg = np.concatenate([np.zeros(320, np.float32), ref])
    pair = quality.align(ref, deg, ref[::2], deg[::2])
    assert pair.lag == 320
    np.testing.assert_array_equal(pair.deg, ref)
    np.testing.assert_array_equal(pair.deg_nb, ref[::2])


def test_align_refuses_lengths_too_far_apart():
    with pytest.raises(BadInput, match=r"RESTORED is 1\.50 s shorter than ORIGINAL"):
        quality.align(noise(3), noise(1.5), noise(1.5), noise(0.75))


def test_si_sdr_ignores_scale_and_caps_a_copy():
    ref = noise(1)
    assert quality.si_sdr(ref, 0.25 * ref) == pytest.approx(150, abs=0.01)
    mixed = ref + 0.1 * noise(1, seed=2)
    assert quality.si_sdr(ref, mixed) == pytest.approx(20, abs=0.5)


def test_mel_distance_is_zero_for_a_copy_and_grows_with_distortion():
    ref = noise(1)
    assert quality.mel_distance(ref, ref) == 0
    slight = quality.mel_distance(ref, ref + 0.01 * noise(1, seed=3))
    assert 0 < slight < quality.mel_distance(ref, noise(1, seed=4))


def test_mel_filterbank_covers_the_band_with_unit_peaks():
    bank = quality.mel_filterbank(RATE, 1024, 80)
    assert bank.shape == (80, 513)
    assert np.all(bank.max(axis=1) > 0.5) and np.all(bank <= 1)


def test_a_silent_original_has_no_scores_but_says_why():
    silent = np.zeros(RATE, np.float32)
    values, reasons = quality.score(quality.align(silent, noise(1), silent[::2], noise(0.5)),
                                    visqol=False)
    for key in ("pesq_wb", "pesq_nb", "stoi", "estoi", "si_sdr"):
        assert values[key] is None
    assert reasons["pesq_wb"] == "the original is silent: PESQ is undefined"
    assert values["lag_ms"] == 0


# --- score_audio.py, compare_audio.sh's helper: a Ctrl-C is one line, never a traceback ----------

def run_scorer(tmp_path, *args: str, **env: str):
    return subprocess.run([sys.executable, str(ROOT / "score_audio.py"), *args],
                          capture_output=True, text=True, env=subprocess_env(**env), cwd=tmp_path)


def test_ctrl_c_during_the_scorers_first_imports_exits_130_without_a_traceback(tmp_path):
    # A module that shadows the standard library's argparse stands for a Ctrl-C that lands while
    # the scorer imports it, the first thing it does (compare_audio.sh says "interrupted").
    (tmp_path / "argparse.py").write_text("raise KeyboardInterrupt\n")
    result = run_scorer(tmp_path, "--help", PYTHONPATH=str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "")


@pytest.mark.parametrize("front_end", [True, False])
def test_ctrl_c_while_scoring_exits_130_with_one_line_at_most(tmp_path, front_end):
    # The scores import their packages as they go: a pesq that raises KeyboardInterrupt stands
    # for a Ctrl-C during the scoring itself. Run by compare_audio.sh, the front-end says it.
    (tmp_path / "pesq.py").write_text("raise KeyboardInterrupt\n")
    pcm = [tmp_path / name for name in ("a.16k", "b.16k", "a.8k", "b.8k")]
    for path, seconds in zip(pcm, (2, 2, 1, 1)):
        noise(seconds).tofile(path)
    env = {"PYTHONPATH": str(tmp_path), "NEURAL_CODEC_PROG": "compare_audio.sh" if front_end
           else None}
    result = run_scorer(tmp_path, "--no-visqol", *map(str, pcm), **env)
    assert (result.returncode, result.stdout) == (130, "")
    assert result.stderr == ("" if front_end else "score_audio.py: interrupted\n")
