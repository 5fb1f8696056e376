"""Mimi (.mimi) through transformers' real loader, MimiModel.from_pretrained, on a random-weight
checkpoint written by MimiModel(MimiConfig()).save_pretrained into the hub cache layout.

References are the library's own whole-file calls on the same input: `model.encode` and
`model.decode`. Inputs are a second or two, so the module runs in well under a minute.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import decode_ecdc
import encode_ecdc
import neural_codec as nc
from codec_toolkit.mimi import MimiRunner, load_mimi
from codec_toolkit.ncdc import NCDC_MAGIC, NCDC_VERSION, CodesHeader, read_ncdc, write_ncdc
from conftest import RATE, ROOT, assert_one_line_error, make_signal, read_wav, subprocess_env

pytestmark = pytest.mark.usefixtures("model_cache")

MIMI = "kyutai/mimi"
FRAME = 1920  # samples per Mimi frame at 24 kHz (12.5 Hz)
THREADS = ("--threads", "2")
DECODE = "decode_ecdc.py"
ENCODE = "encode_ecdc.py"
# Everything of an NCDC file but its codes and level table: magic to level count, and the CRC.
NCDC_FIXED_BYTES = 7 + 18 + 4


@pytest.fixture(scope="module")
def mimi_model():
    """kyutai/mimi through transformers' own loader and the offline hub cache."""
    from transformers import MimiModel

    return MimiModel.from_pretrained(MIMI).eval()


@pytest.fixture(scope="module")
def mimi_signal():
    """A little over two seconds at 24 kHz, no whole number of frames."""
    return make_signal(2 * RATE + 1234, seed=3)


def encode_file(samples, tmp_path, *argv, name="out.mimi") -> str:
    import soundfile

    wav = tmp_path / f"{name}.wav"
    soundfile.write(str(wav), samples, RATE, subtype="FLOAT")
    out = tmp_path / name
    assert encode_ecdc.main([*THREADS, *map(str, argv), str(wav), str(out)]) == 0
    return str(out)


def read_file(path) -> tuple[CodesHeader, list[np.ndarray]]:
    with open(path, "rb") as fo:
        return read_ncdc(fo)


def write_file(path, header: CodesHeader, codes) -> str:
    with open(path, "wb") as fo:
        write_ncdc(fo, header, codes)
    return str(path)


def whole_file_codes(model, samples: np.ndarray, codebooks: int) -> np.ndarray:
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(np.asarray(samples, dtype=np.float32))[None, None]
        return model.encode(x, num_quantizers=codebooks).audio_codes[0].numpy()


def padded(samples: np.ndarray) -> np.ndarray:
    out = np.zeros(math.ceil(len(samples) / FRAME) * FRAME, dtype=np.float32)
    out[:len(samples)] = samples
    return out


def test_mimi_container_records_codec_model_rates_length_and_11_bit_codes(mimi_signal,
                                                                           tmp_path):
    path = encode_file(mimi_signal, tmp_path, "--source-rate", 44100)
    header, codes = read_file(path)
    assert header == CodesHeader("mimi", MIMI, 24000, 44100, len(mimi_signal), 11)
    assert [len(c) for c in codes] == [math.ceil(len(mimi_signal) / FRAME)] * 8
    assert all(c.min() >= 0 and c.max() < 2048 for c in codes)
    assert len(np.unique(np.concatenate(codes))) > 20  # the codes carry the signal


@pytest.mark.parametrize("codebooks", [1, 4, 8, 32])
def test_mimi_file_size_is_11_bits_per_frame_per_codebook(codebooks, mimi_signal, tmp_path):
    # Torch: with each count, auto would prepare a compiled encoder of its own (40-60 s).
    path = encode_file(mimi_signal, tmp_path, "--codebooks", codebooks, "--backend", "torch")
    frames = math.ceil(len(mimi_signal) / FRAME)
    payload = math.ceil(frames * codebooks * 11 / 8)
    with open(path, "rb") as fo:
        size = len(fo.read())
    # The known model costs one byte; the level table four bytes a codebook.
    assert size == NCDC_FIXED_BYTES + 4 * codebooks + payload
    assert len(read_file(path)[1]) == codebooks


def test_mimi_encode_writes_the_models_own_codes_but_for_the_last_partial_frame(
        mimi_model, mimi_signal, tmp_path):
    _, codes = read_file(encode_file(mimi_signal, tmp_path))
    ours = np.stack(codes)
    # The input padded with silence to a whole frame: every code is the library's own.
    assert np.array_equal(ours, whole_file_codes(mimi_model, padded(mimi_signal), 8))
    # Unpadded, the library pads its last partial frame in its own way, layer by layer: all
    # other frames agree.
    unpadded = whole_file_codes(mimi_model, mimi_signal, 8)
    assert ours.shape == unpadded.shape
    assert np.array_equal(ours[:, :-1], unpadded[:, :-1])


@pytest.mark.parametrize("chunk_seconds", [0.08, 0.2, 0.5])
def test_mimi_chunked_encode_gives_the_codes_of_a_whole_file_encode(chunk_seconds, mimi_model,
                                                                   mimi_signal):
    model = load_mimi(MIMI)
    runner = MimiRunner(model, chunk_seconds)
    assert runner.chunk < len(mimi_signal) / FRAME / 3  # several chunk boundaries
    assert np.array_equal(runner.encode(mimi_signal, 8),
                          whole_file_codes(mimi_model, padded(mimi_signal), 8))


@pytest.mark.parametrize("chunk_seconds", [0.08, 0.5])
def test_mimi_chunked_decode_matches_a_whole_file_decode(chunk_seconds, mimi_model, mimi_signal):
    import torch

    codes = whole_file_codes(mimi_model, padded(mimi_signal), 8)
    with torch.inference_mode():
        whole = mimi_model.decode(torch.from_numpy(codes)[None]).audio_values[0, 0].numpy()
    chunked = np.concatenate(list(MimiRunner(load_mimi(MIMI), chunk_seconds)
                                  .decode(codes)))
    assert chunked.shape == whole.shape
    assert np.linalg.norm(chunked - whole) / np.linalg.norm(whole) < 1e-4


def test_mimi_round_trip_restores_the_original_length_and_same_bytes_each_time(mimi_signal,
                                                                             tmp_path):
    first = encode_file(mimi_signal, tmp_path, name="first.mimi")
    second = encode_file(mimi_signal, tmp_path, name="second.mimi")
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()
    outputs = []
    for name in ("a.wav", "b.wav"):
        assert decode_ecdc.main([*THREADS, first, str(tmp_path / name)]) == 0
        samples, rate = read_wav(tmp_path / name)
        assert (len(samples), rate) == (len(mimi_signal), 24000)
        assert np.isfinite(samples).all()
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_mimi_info_reports_the_fields_without_a_model(mimi_signal, tmp_path, cli):
    path = encode_file(mimi_signal, tmp_path, "--codebooks", 4, "--source-rate", 16000,
                       "--backend", "torch")  # 4 codebooks would prepare a package of its own
    rc, out, err = cli(decode_ecdc.main, "--info", path)
    assert (rc, err) == (0, "")
    fields = dict(line.split("=", 1) for line in out.splitlines())
    seconds = len(mimi_signal) / 24000
    assert fields == {
        "container": "mimi", "codec": "mimi", "model": MIMI, "sample_rate": "24000",
        "source_rate": "16000", "samples": str(len(mimi_signal)), "duration": f"{seconds:.3f}",
        "codebooks": "4", "levels": "4", "bytes": str(os.path.getsize(path)),
        "kbps": f"{os.path.getsize(path) * 8 / seconds / 1000:.2f}", "bits": "11"}


@pytest.mark.parametrize("codebooks", [0, 33])
def test_mimi_codebook_count_outside_the_model_is_a_bad_value(codebooks, mimi_signal, cli,
                                                              write_wav, tmp_path):
    rc, out, err = cli(encode_ecdc.main, "--codebooks", codebooks, write_wav(mimi_signal),
                       tmp_path / "out.mimi")
    assert (rc, out) == (5, "")
    assert_one_line_error(err, ENCODE, "MIMI_CODEBOOKS", "1 to 32")
    assert not (tmp_path / "out.mimi").exists()


def test_mimi_naming_an_unknown_model_is_refused_unless_the_user_names_one(cli, tmp_path):
    codes = [np.arange(5) * 7] * 8
    path = write_file(tmp_path / "x.mimi", CodesHeader(
        "mimi", "someone/evil_mimi", 24000, 24000, 5 * FRAME, 11), codes)
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "someone/evil_mimi", "MIMI_MODEL")
    assert not (tmp_path / "out.wav").exists()

    rc, out, err = cli(decode_ecdc.main, *THREADS, "--mimi-model", MIMI, path,
                       tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    assert len(read_wav(tmp_path / "out.wav")[0]) == 5 * FRAME


@pytest.mark.parametrize("header, codes, fragment", [
    pytest.param(CodesHeader("mimi", MIMI, 16000, 16000, 5 * FRAME, 11),
                 [np.arange(5)] * 8, "16000 Hz", id="rate"),
    pytest.param(CodesHeader("mimi", MIMI, 24000, 24000, 5 * FRAME, 12),
                 [np.full(5, 2048)] * 8, "codebook of 2048", id="code range"),
    pytest.param(CodesHeader("mimi", MIMI, 24000, 24000, 5 * FRAME, 11),
                 [np.arange(5)] * 7 + [np.arange(4)], "unequal lengths", id="lengths"),
    pytest.param(CodesHeader("mimi", MIMI, 24000, 24000, 5 * FRAME + 1, 11),
                 [np.arange(5)] * 8, "does not fit", id="length over"),
    pytest.param(CodesHeader("mimi", MIMI, 24000, 24000, 4 * FRAME, 11),
                 [np.arange(5)] * 8, "does not fit", id="length under"),
])
def test_mimi_codes_that_do_not_fit_the_model_are_refused(header, codes, fragment, cli,
                                                          tmp_path):
    path = write_file(tmp_path / "x.mimi", header, codes)
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, fragment)
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "append"])
def test_corrupt_mimi_files_are_refused_before_any_model_loads(damage, mimi_signal, cli,
                                                               tmp_path):
    data = bytearray(open(encode_file(mimi_signal, tmp_path), "rb").read())
    if damage == "flip":
        data[len(data) // 2] ^= 0x10
    elif damage == "truncate":
        data = data[:-9]
    else:
        data += b"\0"
    path = tmp_path / "bad.mimi"
    path.write_bytes(bytes(data))
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "checksum mismatch")
    assert not (tmp_path / "out.wav").exists()


def test_the_ncdc_codec_byte_tells_snac_from_mimi():
    head = NCDC_MAGIC + bytes([NCDC_VERSION])
    assert nc.sniff_container(head + bytes([1, 1])) == "snac"
    assert nc.sniff_container(head + bytes([2, 1])) == "mimi"
    assert nc.sniff_container(head + bytes([9, 1])) == "snac"  # its reader names the bad byte


def run_helper(script, *argv, **env):
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, argv)],
                          capture_output=True, text=True, env=subprocess_env(**env), timeout=120)


def test_missing_mimi_model_exits_3_naming_the_model(mimi_signal, write_wav, tmp_path):
    empty = tmp_path / "empty-hf-home"
    empty.mkdir()
    result = run_helper(ENCODE, write_wav(mimi_signal), tmp_path / "out.mimi",
                        HF_HOME=str(empty), HF_HUB_OFFLINE="1")
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, ENCODE, MIMI, "MIMI_MODEL")
    assert not (tmp_path / "out.mimi").exists()


def test_missing_transformers_exits_3_with_the_install_command(mimi_signal, write_wav,
                                                               tmp_path):
    # A `transformers` that fails to import as an absent one does, ahead of the real one.
    stub = tmp_path / "stub" / "transformers"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'transformers'\", name='transformers')\n")
    # Torch: the prepared compiled encoder runs without transformers (test_mimi_compiled.py).
    result = run_helper(ENCODE, "--backend", "torch", write_wav(mimi_signal),
                        tmp_path / "out.mimi", PYTHONPATH=str(tmp_path / "stub"))
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, ENCODE, "transformers", "make setup")
    assert not (tmp_path / "out.mimi").exists()
