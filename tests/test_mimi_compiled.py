"""Mimi's compiled encoder (codec_toolkit/mimi_compiled.py) on the random-weight test model
(published architecture): the torch path's codes, a run that needs no transformers, the package's
key, and what happens without a compiler or with a damaged package.

The package for 8 codebooks is prepared by `make test-models` (`encode_ecdc.py --prepare`) in
the test cache; the one test that compiles (a damaged package) takes about a minute.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from codec_toolkit import mimi_compiled, prepared
from codec_toolkit.ncdc import read_ncdc
from conftest import RATE, ROOT, make_signal, subprocess_env

pytestmark = pytest.mark.usefixtures("model_cache")

MIMI = "kyutai/mimi"


def run_helper(*args, python=(), **env):
    return subprocess.run([sys.executable, *python, str(ROOT / "encode_ecdc.py"),
                           "--threads", "2", *map(str, args)],
                          capture_output=True, text=True, env=subprocess_env(**env))


def codes_of(path) -> np.ndarray:
    with open(path, "rb") as fo:
        return np.stack(read_ncdc(fo)[1])


def copy_mimi_package(xdg) -> str:
    parts = mimi_compiled.package_key(mimi_compiled.model_files(MIMI), 8)
    package = prepared.artifact_path("compiled", ".pt2", parts)
    folder = xdg / "neural-codec-toolkit" / "compiled"
    folder.mkdir(parents=True)
    shutil.copy(package, folder)
    shutil.copy(package + ".json", folder)
    return str(folder / package.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """12.5 s at 24 kHz (two chunks of the default 10 s), no whole number of frames."""
    import soundfile

    wav = tmp_path_factory.mktemp("mimi") / "speech.wav"
    soundfile.write(str(wav), make_signal(12 * RATE + 12_345, seed=8), RATE, subtype="FLOAT")
    return wav


@pytest.fixture(scope="module")
def torch_codes(speech) -> np.ndarray:
    out = speech.with_name("torch.mimi")
    result = run_helper("--backend", "torch", speech, out)
    assert result.returncode == 0, result.stderr
    return codes_of(out)


def test_the_test_cache_holds_the_prepared_encoder():
    # What the other tests rely on: `make test-models` ran `encode_ecdc.py --prepare`.
    parts = mimi_compiled.package_key(mimi_compiled.model_files(MIMI), 8)
    assert prepared.is_valid(prepared.artifact_path("compiled", ".pt2", parts), parts)


@pytest.mark.parametrize("chunk", [None, "0.5", "3"])
def test_the_compiled_encoder_writes_the_torch_paths_codes(speech, torch_codes, tmp_path, chunk):
    # The encoder's state (convolutions' padding, the transformer's window of keys and values)
    # goes from chunk to chunk through the package's inputs and outputs: chunks of 10 s, 0.5 s
    # (6 frames) and 3 s, the last one shorter each time.
    out = tmp_path / "compiled.mimi"
    result = run_helper("--backend", "compiled", *(("--chunk-seconds", chunk) if chunk else ()),
                        speech, out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # prepared already
    assert np.array_equal(codes_of(out), torch_codes)
    assert torch_codes.shape == (8, 157)


def test_a_prepared_encode_imports_neither_transformers_nor_the_model(speech, tmp_path):
    compiled = run_helper(speech, tmp_path / "auto.mimi", python=("-X", "importtime"))
    assert compiled.returncode == 0, compiled.stderr
    eager = run_helper("--backend", "torch", speech, tmp_path / "torch.mimi",
                       python=("-X", "importtime"))
    assert eager.returncode == 0, eager.stderr
    assert "| transformers.models.mimi.modeling_mimi" in eager.stderr
    assert "| transformers" not in compiled.stderr
    assert (tmp_path / "auto.mimi").read_bytes() == (tmp_path / "torch.mimi").read_bytes()


def test_another_codebook_count_or_torch_backend_does_not_use_the_package(tmp_path,
                                                                          monkeypatch):
    copy_mimi_package(tmp_path / "xdg")  # the 8 codebooks' package alone
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mimi_compiled.compiled_or_none(MIMI, 8, "auto", "cpu", None) is not None
    assert mimi_compiled.compiled_or_none(MIMI, 4, "auto", "cpu", None) is None
    assert mimi_compiled.compiled_or_none(MIMI, 8, "torch", "cpu", None) is None
    assert mimi_compiled.compiled_or_none(MIMI, 8, "auto", "cuda", None) is None


def test_compiled_with_a_gpu_device_is_refused_not_run_on_the_cpu():
    from codec_toolkit.errors import BadValue

    with pytest.raises(BadValue) as refused:  # exit 5, a bad environment value
        mimi_compiled.compiled_or_none(MIMI, 8, "compiled", "cuda", None)
    assert str(refused.value) == ("--backend compiled runs Mimi on the CPU only, not on "
                                  "--device cuda (use --backend torch or auto)")


def test_without_a_compiler_auto_runs_torch_and_compiled_exits_3(speech, torch_codes,
                                                                tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "CXX": str(tmp_path / "no-such-compiler")}
    auto = run_helper(speech, tmp_path / "auto.mimi", **env)
    assert auto.returncode == 0, auto.stderr
    assert auto.stderr == ""
    assert np.array_equal(codes_of(tmp_path / "auto.mimi"), torch_codes)
    compiled = run_helper("--backend", "compiled", speech, tmp_path / "compiled.mimi", **env)
    assert compiled.returncode == 3
    assert compiled.stderr == (
        "encode_ecdc.py: cannot compile Mimi's encoder: no C++ compiler (g++, or the one CXX "
        "names) to compile with\n")
    assert not (tmp_path / "compiled.mimi").exists()


def test_prepare_names_the_mimi_model_and_builds_nothing_when_ready(tmp_path):
    xdg = tmp_path / "xdg"
    copy_mimi_package(xdg)
    result = run_helper("--prepare", "--model", MIMI, XDG_CACHE_HOME=str(xdg))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"encode_ecdc.py: {MIMI}: 1 network ready in ")
    assert result.stderr.count("\n") == 1


def test_prepare_refuses_a_codebook_count_outside_the_model():
    result = run_helper("--prepare", "--model", MIMI, "--codebooks", "33")
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == ("encode_ecdc.py: 33 codebooks asked for; Mimi model kyutai/mimi "
                             "has 1 to 32\n")


def test_a_damaged_package_is_rebuilt_and_encodes_the_torch_paths_codes(speech, torch_codes,
                                                                       tmp_path):
    package = copy_mimi_package(tmp_path / "xdg")
    with open(package, "r+b") as fo:
        fo.seek(fo.seek(0, 2) // 2)
        byte = fo.read(1)
        fo.seek(-1, 1)
        fo.write(bytes([byte[0] ^ 0xFF]))
    result = run_helper(speech, tmp_path / "out.mimi", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"encode_ecdc.py: {package} is damaged: preparing the compiled Mimi encoder")
    with open(package + ".json", encoding="utf-8") as fo:
        assert prepared.is_valid(package, json.load(fo)["key"])
    assert np.array_equal(codes_of(tmp_path / "out.mimi"), torch_codes)
