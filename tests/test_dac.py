"""DAC (.dac) through the dac package's real loader, dac.utils.load_model, on a random-weight
16 kHz checkpoint that the fixture wrote with the package's own BaseModel.save into the real
cache path ($HOME/.cache/descript/dac/weights_16khz_8kbps_0.0.5.pth).

References are the package's own calls on the same input: CodecMixin.compress and decompress,
DACFile.save and DACFile.load. Inputs are a few seconds, so the module runs in about a minute.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import decode_ecdc
import encode_ecdc
from codec_toolkit.dac import DacRunner, LoudnessMeter, dac_weights_path, load_dac
from codec_toolkit.dac_file import DacFile, read_dac, write_dac
from codec_toolkit.errors import BadValue, ContainerError, InvalidField
from conftest import (ROOT, assert_one_line_error, make_signal, read_wav, relative_error,
                      subprocess_env)

pytest.importorskip("dac", reason="the optional DAC install is missing (run: make dac)")

RATE = 16_000
DAC16 = ("--dac-model", "16khz")
DECODE = "decode_ecdc.py"
ENCODE = "encode_ecdc.py"


@pytest.fixture(scope="module")
def dac_home(model_cache):
    home = model_cache / "home"
    assert (home / ".cache" / "descript" / "dac" / "weights_16khz_8kbps_0.0.5.pth").exists()
    return home


@pytest.fixture(autouse=True)
def home(dac_home, monkeypatch):
    monkeypatch.setenv("HOME", str(dac_home))
    return dac_home


@pytest.fixture(scope="module")
def model(dac_home):
    """The 16 kHz model through the package's loader (the same object the toolkit uses)."""
    os.environ["HOME"], saved = str(dac_home), os.environ.get("HOME")
    try:
        return load_dac("16khz", "8kbps")
    finally:
        os.environ["HOME"] = saved or ""


def package_compress(model, samples, **kwargs):
    import torch
    from audiotools import AudioSignal

    return model.compress(AudioSignal(torch.from_numpy(samples)[None, None], RATE), **kwargs)


def toolkit_decode(dac: DacFile, model, length=None) -> np.ndarray:
    length = length or round(dac.original_length * RATE / dac.sample_rate)
    return np.concatenate(list(DacRunner(model).decode(dac, length)))


# --- the package's own results ---------------------------------------------------------------

@pytest.mark.parametrize("seconds, padding", [(2.3, True), (11.7, False)])
def test_codes_equal_the_package_compress(model, seconds, padding):
    samples = make_signal(int(seconds * RATE), RATE, seed=4)
    ours = DacRunner(model, chunk_seconds=5.0).encode(samples, model.n_codebooks, RATE)
    theirs = package_compress(model, samples, win_duration=5.0)
    assert ours.padding == theirs.padding == padding
    assert ours.chunk_length == theirs.chunk_length
    np.testing.assert_array_equal(ours.codes, theirs.codes.numpy())
    assert ours.input_db == pytest.approx(float(theirs.input_db), abs=1e-3)
    assert ours.original_length == len(samples)


def test_small_windows_give_the_package_codes_across_many_boundaries(model):
    samples = make_signal(int(3.1 * RATE), RATE, seed=5)
    ours = DacRunner(model, chunk_seconds=1.0).encode(samples, 5, RATE)
    theirs = package_compress(model, samples, win_duration=1.0, n_quantizers=5)
    assert ours.codes.shape[-1] // ours.chunk_length >= 8
    np.testing.assert_array_equal(ours.codes, theirs.codes.numpy())


def test_windows_shorter_than_the_margins_are_refused(model):
    with pytest.raises(BadValue, match="too short for DAC"):
        DacRunner(model, chunk_seconds=0.5)


def test_decode_matches_the_package_decompress(model):
    samples = make_signal(int(7.3 * RATE), RATE, seed=6)
    theirs = package_compress(model, samples, win_duration=5.0)
    reference = model.decompress(theirs).audio_data[0, 0].numpy()
    dac = DacFile(codes=theirs.codes.numpy(), chunk_length=theirs.chunk_length,
                  original_length=theirs.original_length, input_db=float(theirs.input_db),
                  sample_rate=theirs.sample_rate, padding=theirs.padding)
    ours = toolkit_decode(dac, model)
    assert ours.shape == reference.shape
    assert relative_error(ours, reference) < 1e-4


def test_a_stereo_file_of_the_package_decodes_to_the_mean_of_its_channels(model):
    import torch
    from audiotools import AudioSignal

    length = 2 * RATE + 37  # one window, padding on
    left, right = make_signal(length, RATE, seed=7), 0.5 * make_signal(length, RATE, seed=8)
    signal = AudioSignal(torch.from_numpy(np.stack([left, right]))[None], RATE)
    theirs = model.compress(signal, win_duration=5.0)
    assert theirs.channels == 2
    reference = model.decompress(theirs).audio_data[0].numpy().mean(axis=0)
    dac = DacFile(codes=theirs.codes.numpy(), chunk_length=theirs.chunk_length,
                  original_length=theirs.original_length, input_db=float(theirs.input_db),
                  sample_rate=theirs.sample_rate, padding=theirs.padding)
    assert relative_error(toolkit_decode(dac, model), reference) < 1e-4


def test_loudness_meter_matches_audiotools_fed_in_pieces():
    import torch
    from audiotools import AudioSignal

    for samples, rate in ((make_signal(int(0.3 * 16000), 16000), 16000),
                          (make_signal(16000 + 77, 16000, seed=1), 16000),
                          (0.01 * make_signal(int(3.3 * 44100), 44100, seed=2), 44100),
                          (np.zeros(24000, dtype=np.float32), 24000)):
        meter = LoudnessMeter(rate)
        for piece in np.array_split(samples, 7):
            meter.feed(piece)
        expected = float(AudioSignal(torch.from_numpy(samples)[None, None], rate).loudness())
        assert meter.result() == pytest.approx(expected, abs=1e-3), (len(samples), rate)


# --- the file format, both ways --------------------------------------------------------------

def test_write_dac_is_byte_identical_to_dacfile_save(model, tmp_path):
    from dac import DACFile

    samples = make_signal(int(2.5 * RATE), RATE, seed=9)
    theirs = package_compress(model, samples, win_duration=5.0)
    theirs.save(tmp_path / "theirs.dac")
    buffer = io.BytesIO()
    write_dac(buffer, DacFile(codes=theirs.codes.numpy(), chunk_length=theirs.chunk_length,
                              original_length=theirs.original_length,
                              input_db=float(theirs.input_db[0]),
                              sample_rate=theirs.sample_rate, padding=theirs.padding))
    assert buffer.getvalue() == (tmp_path / "theirs.dac").read_bytes()
    assert DACFile.load(io.BytesIO(buffer.getvalue())).chunk_length == theirs.chunk_length


def test_a_file_written_by_the_package_decodes_with_the_helper(model, tmp_path, cli):
    samples = make_signal(int(5.6 * RATE), RATE, seed=10)
    package_compress(model, samples).save(tmp_path / "theirs.dac")
    rc, _, err = cli(decode_ecdc.main, *DAC16, tmp_path / "theirs.dac", tmp_path / "out.wav")
    assert (rc, err) == (0, "")
    decoded, rate = read_wav(tmp_path / "out.wav")
    assert (rate, len(decoded)) == (RATE, len(samples))


def test_a_file_written_by_the_helper_decompresses_with_the_package(model, tmp_path, cli,
                                                                    write_wav):
    from dac import DACFile

    # Not within 8 samples below a multiple of 320: there the package's own decompress fails
    # for the 16 and 24 kHz models (its decoder returns 8 samples short of the codes' length
    # when the padding is on), on its own files as on ours; the toolkit's decoder pads them.
    samples = make_signal(int(6.6 * RATE) + 101, RATE, seed=11)
    rc, _, err = cli(encode_ecdc.main, *DAC16, write_wav(samples, RATE), tmp_path / "ours.dac")
    assert (rc, err) == (0, "")
    loaded = DACFile.load(tmp_path / "ours.dac")
    assert (loaded.original_length, loaded.sample_rate, loaded.channels) == (len(samples), RATE, 1)
    reference = model.decompress(loaded).audio_data[0, 0].numpy()
    cli(decode_ecdc.main, *DAC16, tmp_path / "ours.dac", tmp_path / "ours.wav")
    assert relative_error(read_wav(tmp_path / "ours.wav")[0], reference) < 1e-4


def test_codebooks_kept_set_the_size_and_still_decode(tmp_path, cli, write_wav):
    wav = write_wav(make_signal(3 * RATE, RATE), RATE)
    sizes = {}
    for count in (1, 4, 12):
        out = tmp_path / f"{count}.dac"
        assert cli(encode_ecdc.main, *DAC16, "--codebooks", count, wav, out)[0] == 0
        with open(out, "rb") as fo:
            dac = read_dac(fo)
        assert dac.codes.shape[:2] == (1, count)
        sizes[count] = out.stat().st_size
        assert cli(decode_ecdc.main, *DAC16, out, tmp_path / f"{count}.wav")[0] == 0
        assert len(read_wav(tmp_path / f"{count}.wav")[0]) == 3 * RATE
    # 16 bits per code, as the package stores them: 50 frames a second, padded to whole windows.
    frames = (sizes[12] - sizes[1]) // (2 * 11)
    assert sizes[4] - sizes[1] == 2 * 3 * frames


@pytest.mark.parametrize("count", [0, 13])
def test_codebook_counts_the_model_lacks_exit_5_naming_the_knob(tmp_path, cli, write_wav, count):
    rc, _, err = cli(encode_ecdc.main, *DAC16, "--codebooks", count,
                     write_wav(make_signal(RATE, RATE), RATE), tmp_path / "out.dac")
    assert rc == 5
    assert_one_line_error(err, ENCODE, f"{count} codebooks", "1 to 12", "DAC_CODEBOOKS")
    assert not (tmp_path / "out.dac").exists()


def test_the_source_rate_is_recorded_as_the_package_records_it(tmp_path, cli, write_wav):
    samples = make_signal(2 * RATE + 5, RATE)
    rc, _, _ = cli(encode_ecdc.main, *DAC16, "--source-rate", 44100, write_wav(samples, RATE),
                   tmp_path / "out.dac")
    assert rc == 0
    with open(tmp_path / "out.dac", "rb") as fo:
        dac = read_dac(fo)
    # the original audio's rate and its length in samples at that rate
    assert (dac.sample_rate, dac.original_length) == (44100, round(len(samples) * 44100 / RATE))
    rc, out, _ = cli(decode_ecdc.main, "--info", tmp_path / "out.dac")
    assert "source_rate=44100" in out.splitlines()


# --- refusing what is not a .dac file --------------------------------------------------------

class RunsCode:
    """Unpickling this calls os.system: what a crafted .dac would do to allow_pickle=True."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted(tmp_path, payload, name="crafted.dac"):
    path = tmp_path / name
    with open(path, "wb") as fo:
        np.save(fo, payload, allow_pickle=True)
    return path


def valid_artifacts(**changes):
    meta = {"input_db": np.array([-20.0], dtype=np.float32), "original_length": 16000,
            "sample_rate": 16000, "chunk_length": 50, "channels": 1, "padding": True,
            "dac_version": "1.0.0"}
    artifacts = {"codes": np.zeros((1, 12, 50), dtype=np.uint16), "metadata": meta}
    for key, value in changes.items():
        if key == "codes":
            artifacts["codes"] = value
        elif value is KeyError:
            del meta[key]
        else:
            meta[key] = value
    return artifacts


def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path, cli):
    marker = tmp_path / "was-run"
    for name, payload in (("top.dac", {"codes": RunsCode(marker), "metadata": {}}),
                          ("meta.dac", valid_artifacts(input_db=RunsCode(marker)))):
        path = crafted(tmp_path, payload, name)
        with pytest.raises(InvalidField, match="refused: the file asks to run"):
            with open(path, "rb") as fo:
                read_dac(fo)
        rc, out, err = cli(decode_ecdc.main, *DAC16, path, tmp_path / "out.wav")
        assert (rc, out) == (4, "")
        assert_one_line_error(err, DECODE, str(path), "posix.system")
        rc, out, err = cli(decode_ecdc.main, "--info", path)
        assert rc == 4
    assert not marker.exists()
    assert not (tmp_path / "out.wav").exists()
    # the package's own reader runs it
    from dac import DACFile

    with contextlib.suppress(Exception):
        DACFile.load(tmp_path / "meta.dac")
    assert marker.exists()


@pytest.mark.parametrize("payload, message", [
    (valid_artifacts(dac_version="0.9"), "dac_version"),
    (valid_artifacts(dac_version=np.array(["1.0.0", "1.0.0"])), "dac_version"),
    (valid_artifacts(padding=KeyError), "metadata keys"),
    (valid_artifacts(extra=1), "metadata keys"),
    (valid_artifacts(codes=np.zeros((12, 50), dtype=np.uint16)), "codes must be"),
    (valid_artifacts(codes=np.zeros((1, 12, 50), dtype=np.float32)), "codes must be"),
    (valid_artifacts(codes=np.full((1, 2, 5), -1, dtype=np.int16)), "negative"),
    (valid_artifacts(codes=np.zeros((1, 12, 0), dtype=np.uint16)), "codes must be"),
    (valid_artifacts(channels=2), "channels"),
    (valid_artifacts(chunk_length=0), "chunk_length"),
    (valid_artifacts(chunk_length=True), "chunk_length"),
    (valid_artifacts(original_length=0), "original_length"),
    (valid_artifacts(sample_rate=10**9), "sample_rate"),
    (valid_artifacts(input_db=np.array([np.nan], dtype=np.float32)), "input_db"),
    (valid_artifacts(input_db=np.array([200.5], dtype=np.float32)), "input_db"),
    (valid_artifacts(input_db=np.array([-200.5], dtype=np.float32)), "input_db"),
    (valid_artifacts(codes=np.zeros((1, 65, 5), dtype=np.uint16)), "codes must be"),
    (valid_artifacts(codes=np.zeros((65, 12, 5), dtype=np.uint16)), "codes must be"),
    (valid_artifacts(input_db="loud"), "input_db"),
    (valid_artifacts(padding=1), "padding"),
    (valid_artifacts(codes=[[[0]]]), "codes must be"),
    ({"codes": np.zeros((1, 1, 1), dtype=np.uint16)}, "expected the keys"),
    ([1, 2, 3], "dict of a .dac file"),
    (np.zeros(3, dtype=np.int64), "not the dict"),
    (np.array([{}, {}], dtype=object), "object array of shape \\(2,\\), not the dict"),
    (np.array(5), "int64 array of shape \\(\\), not the dict"),
    (valid_artifacts(input_db=np.array([-20.0, -20.0], dtype=np.float32)), "input_db"),
    ({"codes": np.ma.masked_array([1, 2]), "metadata": {}}, "refused"),
])
def test_malformed_files_are_refused_with_the_field_at_fault(tmp_path, payload, message):
    path = tmp_path / "bad.dac"
    with open(path, "wb") as fo:
        np.save(fo, payload, allow_pickle=True)
    with pytest.raises(ContainerError, match=message):
        with open(path, "rb") as fo:
            read_dac(fo)


@pytest.mark.parametrize("rate", [1, 999, 384_001, 1_000_000])
def test_a_sample_rate_outside_1_khz_to_384_khz_is_refused_by_reader_and_writer(tmp_path, rate,
                                                                             cli):
    path = crafted(tmp_path, valid_artifacts(sample_rate=rate))
    with pytest.raises(InvalidField, match=f"^sample_rate {rate} is out of range 1000..384000$"):
        with open(path, "rb") as fo:
            read_dac(fo)
    rc, out, err = cli(decode_ecdc.main, *DAC16, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, str(path), "sample_rate", "1000..384000")
    assert not (tmp_path / "out.wav").exists()
    dac = DacFile(np.zeros((1, 12, 50), dtype=np.uint16), 50, 16000, -20.0, rate, True)
    with pytest.raises(ValueError, match="sample_rate"):
        write_dac(io.BytesIO(), dac)


@pytest.mark.parametrize("channels, codebooks, frames, length, rate, db, padding", [
    (1, 1, 1, 1, 1000, -200.0, True),
    (64, 64, 3, 10**9, 384_000, 200.0, False),
    (2, 12, 50, 16000, 44100, -23.5, True),
])
def test_write_dac_and_read_dac_round_trip_every_field_at_the_edges(
        channels, codebooks, frames, length, rate, db, padding):
    # Without a model: the container alone, at the smallest and largest values it accepts.
    codes = np.arange(channels * codebooks * frames).reshape(channels, codebooks, frames) % 1024
    written = DacFile(codes=codes, chunk_length=frames, original_length=length, input_db=db,
                      sample_rate=rate, padding=padding)
    buffer = io.BytesIO()
    write_dac(buffer, written)
    buffer.seek(0)
    read = read_dac(buffer)
    assert read.codes.shape == (channels, codebooks, frames)
    np.testing.assert_array_equal(read.codes, codes)
    assert (read.chunk_length, read.original_length, read.input_db, read.sample_rate,
            read.padding) == (frames, length, db, rate, padding)
    assert type(read.padding) is bool and type(read.input_db) is float


def test_an_input_db_saved_as_a_plain_number_is_read(tmp_path):
    path = crafted(tmp_path, valid_artifacts(input_db=-20.0))
    with open(path, "rb") as fo:
        assert read_dac(fo).input_db == -20.0


def test_int16_codes_of_zero_are_read(tmp_path):
    path = crafted(tmp_path, valid_artifacts(codes=np.zeros((1, 2, 5), dtype=np.int16),
                                             chunk_length=5))
    with open(path, "rb") as fo:
        assert read_dac(fo).codes.shape == (1, 2, 5)


def test_truncated_and_garbled_files_exit_4(tmp_path, cli):
    good = crafted(tmp_path, valid_artifacts(), "good.dac").read_bytes()
    for name, data in (("truncated.dac", good[:-40]), ("header.dac", good[:30]),
                       ("garbled.dac", good[:128] + bytes(range(256)) * 2)):
        (tmp_path / name).write_bytes(data)
        rc, out, err = cli(decode_ecdc.main, *DAC16, tmp_path / name, tmp_path / "out.wav")
        assert (rc, out) == (4, ""), name
        assert_one_line_error(err, DECODE, name)
    assert not (tmp_path / "out.wav").exists()


def test_codes_of_another_model_are_refused_before_any_output(model, tmp_path, cli):
    samples = make_signal(int(6.5 * RATE), RATE)
    dac = DacRunner(model).encode(samples, 12, RATE)
    # the same codes claiming twice the duration: what 86 Hz codes look like to a 50 Hz model
    dac.original_length *= 2
    with open(tmp_path / "other.dac", "wb") as fo:
        write_dac(fo, dac)
    rc, _, err = cli(decode_ecdc.main, *DAC16, tmp_path / "other.dac", tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, DECODE, "another model", "DAC_MODEL")
    assert not (tmp_path / "out.wav").exists()


def test_more_codebooks_than_the_model_has_are_refused(tmp_path, cli):
    path = crafted(tmp_path, valid_artifacts(codes=np.zeros((1, 13, 50), dtype=np.uint16)))
    rc, _, err = cli(decode_ecdc.main, *DAC16, path, tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, DECODE, "13 codebooks", "DAC_MODEL")


def test_codes_outside_the_codebook_are_refused(tmp_path, cli):
    path = crafted(tmp_path, valid_artifacts(codes=np.full((1, 12, 50), 1024, dtype=np.uint16)))
    rc, _, err = cli(decode_ecdc.main, *DAC16, path, tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, DECODE, "outside", "1024")


# --- missing pieces --------------------------------------------------------------------------

def run_helper(script, *argv, **env):
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, argv)],
                          capture_output=True, text=True, env=subprocess_env(**env), timeout=120)


def test_missing_weights_exit_3_naming_the_file_and_the_download_command(tmp_path, write_wav):
    result = run_helper(ENCODE, "--dac-model", "24khz",
                        write_wav(make_signal(24000, 24000), 24000), tmp_path / "out.dac",
                        HOME=str(tmp_path))
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, ENCODE, "weights_24khz_8kbps_0.0.4.pth",
                          "python -m dac download --model_type 24khz")
    assert not (tmp_path / "out.dac").exists()


def test_16kbps_exists_for_44khz_only(tmp_path, cli, write_wav):
    rc, _, err = cli(encode_ecdc.main, "--dac-model", "16khz", "--dac-bitrate", "16kbps",
                     write_wav(make_signal(RATE, RATE), RATE), tmp_path / "out.dac")
    assert rc == 5
    assert_one_line_error(err, ENCODE, "16kbps", "44khz")


def test_without_the_dac_package_dac_exits_3_and_other_codecs_still_work(tmp_path, write_wav):
    stub = tmp_path / "stub" / "dac"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'dac'\", name='dac')\n")
    wav = write_wav(make_signal(24000, 24000), 24000)
    result = run_helper(ENCODE, "--dac-model", "24khz", wav, tmp_path / "out.dac",
                        PYTHONPATH=str(tmp_path / "stub"))
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, ENCODE, "dac", "make dac")
    result = run_helper(ENCODE, wav, tmp_path / "out.snac", PYTHONPATH=str(tmp_path / "stub"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.snac").stat().st_size > 0


def test_the_package_writes_its_weights_where_the_toolkit_looks(home):
    from dac.utils import download

    # download() returns the cached path without fetching when the file is there
    assert str(download(model_type="16khz")) == dac_weights_path("16khz", "8kbps")
