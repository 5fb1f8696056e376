"""Mimi compiled (codec_toolkit/mimi_compiled.py) on the random-weight test model (published
architecture): the encoder's codes and the decoder's audio are the torch path's, runs that need
no transformers, the packages' keys, and what happens without a compiler or with a damaged
package or plan.

The encoder's package for 8 codebooks and the decoder's package and SEANet plan are prepared
by `make test-models` (`encode_ecdc.py --prepare`) in the test cache; the one test that
compiles (a damaged package) takes about a minute.
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
from conftest import RATE, ROOT, make_signal, read_wav, subprocess_env

pytestmark = pytest.mark.usefixtures("model_cache")

MIMI = "kyutai/mimi"


def run_helper(*args, python=(), script="encode_ecdc.py", **env):
    return subprocess.run([sys.executable, *python, str(ROOT / script),
                           "--threads", "2", *map(str, args)],
                          capture_output=True, text=True, env=subprocess_env(**env))


def run_decoder(*args, **kwargs):
    return run_helper(*args, script="decode_ecdc.py", **kwargs)


def codes_of(path) -> np.ndarray:
    with open(path, "rb") as fo:
        return np.stack(read_ncdc(fo)[1])


def encoder_artifact() -> tuple[str, dict]:
    parts = mimi_compiled.package_key(mimi_compiled.model_files(MIMI), 8)
    return prepared.artifact_path("compiled", ".pt2", parts), parts


def decoder_artifacts() -> list[tuple[str, dict]]:
    """The decoder's package and its SEANet plan, with their keys."""
    files = mimi_compiled.model_files(MIMI)
    package = mimi_compiled.package_key(files, None, "mimi-decoder")
    plan = mimi_compiled.plan_key(files)
    return [(prepared.artifact_path("compiled", ".pt2", package), package),
            (prepared.artifact_path("compiled", ".safetensors", plan), plan)]


def copy_artifact(path: str, xdg) -> str:
    """A copy of the prepared artifact `path` and its manifest in the cache under `xdg`."""
    folder = xdg / "neural-codec-toolkit" / "compiled"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, folder)
    shutil.copy(path + ".json", folder)
    return str(folder / path.rsplit("/", 1)[1])


def copy_mimi_package(xdg) -> str:
    return copy_artifact(encoder_artifact()[0], xdg)


def flip_a_byte(path: str) -> None:
    with open(path, "r+b") as fo:
        fo.seek(fo.seek(0, 2) // 2)
        byte = fo.read(1)
        fo.seek(-1, 1)
        fo.write(bytes([byte[0] ^ 0xFF]))


def relative_error(audio: np.ndarray, reference: np.ndarray) -> float:
    assert audio.shape == reference.shape
    return float(np.linalg.norm(audio - reference) / np.linalg.norm(reference))


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


@pytest.fixture(scope="module")
def torch_audio(speech, tmp_path_factory) -> dict:
    """Codes of 1, 8 and 32 codebooks (torch's encoder) and the torch path's decoded audio."""
    folder = tmp_path_factory.mktemp("mimi-decoded")
    found = {}
    for codebooks in (1, 8, 32):
        codes = folder / f"{codebooks}.mimi"
        wav = folder / f"{codebooks}.wav"
        result = run_helper("--backend", "torch", "--codebooks", codebooks, speech, codes)
        assert result.returncode == 0, result.stderr
        result = run_decoder("--backend", "torch", codes, wav)
        assert result.returncode == 0, result.stderr
        found[codebooks] = (codes, read_wav(wav)[0])
    return found


def test_the_test_cache_holds_the_prepared_encoder_and_decoder():
    # What the other tests rely on: `make test-models` ran `encode_ecdc.py --prepare`.
    for path, parts in [encoder_artifact(), *decoder_artifacts()]:
        assert prepared.is_valid(path, parts), path


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
    for path, _ in [encoder_artifact(), *decoder_artifacts()]:
        copy_artifact(path, xdg)
    result = run_helper("--prepare", "--model", MIMI, XDG_CACHE_HOME=str(xdg))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"encode_ecdc.py: {MIMI}: 2 networks ready in ")
    assert result.stderr.count("\n") == 1


def test_prepare_refuses_a_codebook_count_outside_the_model():
    result = run_helper("--prepare", "--model", MIMI, "--codebooks", "33")
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == ("encode_ecdc.py: 33 codebooks asked for; Mimi model kyutai/mimi "
                             "has 1 to 32\n")


def test_a_damaged_package_is_rebuilt_and_encodes_the_torch_paths_codes(speech, torch_codes,
                                                                       tmp_path):
    package = copy_mimi_package(tmp_path / "xdg")
    flip_a_byte(package)
    result = run_helper(speech, tmp_path / "out.mimi", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"encode_ecdc.py: {package} is damaged: preparing the compiled Mimi encoder")
    with open(package + ".json", encoding="utf-8") as fo:
        assert prepared.is_valid(package, json.load(fo)["key"])
    assert np.array_equal(codes_of(tmp_path / "out.mimi"), torch_codes)


@pytest.mark.parametrize("codebooks,chunk", [(8, None), (8, "0.5"), (8, "3"), (1, None),
                                             (32, "3")])
def test_the_compiled_decoder_gives_the_torch_paths_audio(torch_audio, tmp_path, codebooks,
                                                          chunk):
    # One package for every codebook count; the transformer's keys and values and the last
    # latent frame go from chunk to chunk through its inputs and outputs (chunks of 10 s,
    # 0.5 s and 3 s, the last one shorter each time). Float order differs from the torch path
    # in the transformer: the audio agrees to about 7e-7 relative L2 here.
    codes, reference = torch_audio[codebooks]
    out = tmp_path / "compiled.wav"
    result = run_decoder("--backend", "compiled", *(("--chunk-seconds", chunk) if chunk else ()),
                         codes, out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # prepared already
    assert relative_error(read_wav(out)[0], reference) < 1e-5


def test_a_prepared_decode_imports_neither_transformers_nor_the_model(torch_audio, tmp_path):
    codes, reference = torch_audio[8]
    result = run_decoder(codes, tmp_path / "auto.wav", python=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "| transformers" not in result.stderr
    assert relative_error(read_wav(tmp_path / "auto.wav")[0], reference) < 1e-5


def test_the_torch_backend_or_a_gpu_device_does_not_use_the_compiled_decoder(tmp_path,
                                                                              monkeypatch):
    for path, _ in decoder_artifacts():
        copy_artifact(path, tmp_path / "xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mimi_compiled.decoder_or_none(MIMI, "auto", "cpu", None) is not None
    assert mimi_compiled.decoder_or_none(MIMI, "torch", "cpu", None) is None
    assert mimi_compiled.decoder_or_none(MIMI, "auto", "cuda", None) is None


def test_without_a_compiler_auto_decodes_with_torch_and_compiled_exits_3(torch_audio,
                                                                        tmp_path):
    codes, reference = torch_audio[8]
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "CXX": str(tmp_path / "no-such-compiler")}
    auto = run_decoder(codes, tmp_path / "auto.wav", **env)
    assert auto.returncode == 0, auto.stderr
    assert auto.stderr == ""
    assert np.array_equal(read_wav(tmp_path / "auto.wav")[0], reference)  # the torch path
    compiled = run_decoder("--backend", "compiled", codes, tmp_path / "compiled.wav", **env)
    assert compiled.returncode == 3
    assert compiled.stderr == (
        "decode_ecdc.py: cannot compile Mimi's decoder: no C++ compiler (g++, or the one CXX "
        "names) to compile with\n")
    assert not (tmp_path / "compiled.wav").exists()


def test_a_damaged_seanet_plan_is_rebuilt_and_decodes_the_torch_paths_audio(torch_audio,
                                                                           tmp_path):
    (package, _), (plan, parts) = decoder_artifacts()
    copy_artifact(package, tmp_path / "xdg")
    copied = copy_artifact(plan, tmp_path / "xdg")
    flip_a_byte(copied)
    codes, reference = torch_audio[8]
    result = run_decoder(codes, tmp_path / "out.wav", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"decode_ecdc.py: {copied} is damaged: preparing the SEANet plan "
                             f"of Mimi's decoder (once per model, 1 s)\n")
    assert prepared.is_valid(copied, parts)
    assert relative_error(read_wav(tmp_path / "out.wav")[0], reference) < 1e-5


def test_a_seanet_layer_without_a_form_runs_as_itself_and_keeps_the_plan_from_standing_alone():
    import torch

    from codec_toolkit import mimi_forms

    class Odd(torch.nn.Module):  # no form covers it
        def forward(self, hidden):
            return hidden * 2

    decoder = torch.nn.Module()
    decoder.layers = torch.nn.ModuleList([torch.nn.ELU(), Odd()])
    operations, tensors = mimi_forms.seanet_plan(decoder)
    assert operations == [["elu", 1.0], ["module", "layers.1"]]
    assert not mimi_forms.stands_alone(operations)
    hidden = torch.linspace(-1, 1, 12).reshape(1, 3, 4)
    out = mimi_forms.run_plan(operations, tensors, hidden.clone(), decoder)
    assert torch.equal(out, torch.nn.functional.elu(hidden) * 2)
