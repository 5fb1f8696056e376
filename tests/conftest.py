"""Shared setup of the pytest suites: an offline model cache, short test signals, CLI helpers.

The environment is set when this file is imported, before any test module runs: huggingface_hub
copies HF_HOME and HF_HUB_OFFLINE into its `constants` module at import time, so setting them in
a fixture would be too late for anything that imported the hub first. TORCH_HOME is read by
torch.hub on every call, but is set here too so that every process the tests start inherits the
same three variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = Path(os.environ.get("TEST_MODEL_CACHE") or ROOT / ".cache" / "test-models")

os.environ["HF_HOME"] = str(MODEL_CACHE / "hf")
os.environ["TORCH_HOME"] = str(MODEL_CACHE / "torch")
os.environ["HF_HUB_OFFLINE"] = "1"
# ONNX exports of the test models (codec_toolkit.snac_onnx.SnacGraphs), made once per cache.
os.environ["XDG_CACHE_HOME"] = str(MODEL_CACHE / "xdg")
# Errors must be reported under the helpers' own names, and as one line, not a traceback.
os.environ.pop("NEURAL_CODEC_PROG", None)
os.environ.pop("NEURAL_CODEC_DEBUG", None)
# The product modules live at the repository root, not in a package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATE = 24_000


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Random-weight checkpoints of the real SNAC and EnCodec architectures, in the real cache
    layouts under MODEL_CACHE (built once; the builder is a no-op when its stamp exists)."""
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants

        if not constants.HF_HUB_CACHE.startswith(str(MODEL_CACHE)):
            pytest.fail(f"huggingface_hub was imported before conftest set HF_HOME: it uses "
                        f"{constants.HF_HUB_CACHE}, not {MODEL_CACHE}")
    subprocess.run([sys.executable, str(ROOT / "tests" / "fixtures" / "make_model_cache.py"),
                    str(MODEL_CACHE)], check=True, capture_output=True, text=True)
    return MODEL_CACHE


@pytest.fixture(scope="session")
def model_env(model_cache) -> dict[str, str]:
    """The environment for a subprocess that loads models from the test cache, offline."""
    return subprocess_env(HF_HOME=str(model_cache / "hf"), TORCH_HOME=str(model_cache / "torch"),
                          HF_HUB_OFFLINE="1")


def make_signal(samples: int, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Mono float32 [samples]: a 100 Hz to 4 kHz chirp plus a little noise, peak below 0.5."""
    t = np.arange(samples) / rate
    duration = max(samples / rate, 1e-9)
    f0, f1 = 100.0, min(4000.0, rate / 3)
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * duration))
    noise = np.random.default_rng(seed).standard_normal(samples)
    return (0.3 * np.sin(phase) + 0.02 * noise).astype(np.float32)


@pytest.fixture
def signal() -> np.ndarray:
    """One second and a bit at 24 kHz; the length is deliberately no multiple of any hop or
    padding unit (320, 512, 2048)."""
    return make_signal(RATE + 123)


@pytest.fixture
def write_wav(tmp_path):
    """write_wav(samples, rate=24000, name='in.wav') -> path of a 32-bit float mono WAV."""
    import soundfile

    def write(samples: np.ndarray, rate: int = RATE, name: str = "in.wav") -> str:
        path = tmp_path / name
        soundfile.write(str(path), np.asarray(samples, dtype=np.float32), rate, subtype="FLOAT")
        return str(path)

    return write


def relative_error(actual, expected) -> float:
    """||actual - expected|| / ||expected|| of two numpy arrays or two torch tensors."""
    return float(((actual - expected) ** 2).sum() ** 0.5 / (expected ** 2).sum() ** 0.5)


def read_wav(path) -> tuple[np.ndarray, int]:
    """(samples [T] float32, rate) of a mono WAV."""
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    assert samples.shape[1] == 1, f"{path} is not mono"
    return samples[:, 0], rate


@pytest.fixture
def cli(capsys):
    """cli(main, *argv) -> (exit code, stdout, stderr) of a helper's main(argv), in process."""

    def run(main, *argv) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def assert_one_line_error(err: str, prog: str, *fragments: str) -> None:
    """stderr is exactly one `prog: message` line that holds every fragment, no traceback."""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(f"{prog}: "), lines[0]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def subprocess_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with overrides; None removes a variable."""
    env = dict(os.environ)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
