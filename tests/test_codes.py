"""Codes out and in (codec_toolkit.codes, decode_ecdc.py --codes, encode_ecdc.py --from-codes):
containers written by the real encoders on the random-weight test models, exported to .npz,
built back byte for byte, decoded; and every check of an imported .npz, each a one-line error.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import decode_ecdc
import encode_ecdc
from codec_toolkit import codes
from codec_toolkit.ncdc import CodesHeader, write_ncdc
from codec_toolkit.semanticodec import semanticodec_tokens
from conftest import assert_one_line_error, make_signal, read_wav

pytestmark = pytest.mark.usefixtures("model_cache")

THREADS = ("--threads", "2")
ENCODE = "encode_ecdc.py"
DECODE = "decode_ecdc.py"


def run(main, *argv) -> None:
    assert main([*THREADS, *map(str, argv)]) == 0


def export(container, tmp_path, *options) -> dict[str, np.ndarray]:
    """The arrays decode_ecdc.py --codes writes for `container`, read without pickle."""
    npz = tmp_path / (os.path.basename(container) + ".npz")
    run(decode_ecdc.main, "--codes", *options, container, npz)
    with np.load(npz, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def save(tmp_path, arrays, name="codes.npz") -> str:
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def build(tmp_path, arrays, extension, *options) -> bytes:
    out = tmp_path / f"built.{extension}"
    run(encode_ecdc.main, "--from-codes", *options, save(tmp_path, arrays), out)
    return out.read_bytes()


def assert_same_arrays(left: dict, right: dict) -> None:
    assert sorted(left) == sorted(right)
    for name in left:
        assert left[name].dtype == right[name].dtype, name
        np.testing.assert_array_equal(left[name], right[name], err_msg=name)


@pytest.fixture(scope="module")
def containers(tmp_path_factory):
    """Containers of 0.7 s of audio written by the real encoders: {name: path}."""
    import soundfile

    directory = tmp_path_factory.mktemp("containers")
    made = {}
    for rate, jobs in ((24_000, [("snac", ()), ("mimi", ()), ("ecdc", ("--bitrate", "3")),
                                 ("lm.ecdc", ("--lm",))]),
                       (44_100, [("snac44.snac", ("--model", "hubertsiuzdak/snac_44khz"))])):
        wav = directory / f"in{rate}.wav"
        soundfile.write(str(wav), make_signal(int(0.7 * rate) + 11, rate), rate,
                        subtype="FLOAT")
        for name, options in jobs:
            path = directory / (name if "." in name else f"in.{name}")
            run(encode_ecdc.main, *options, "--source-rate", "48000", wav, path)
            made[name.split(".")[0]] = str(path)
    return made


# ---------------------------------------------------------------------------------------------
# Round trips

@pytest.mark.parametrize("name, extension", [("snac", "snac"), ("snac44", "snac"),
                                             ("mimi", "mimi"), ("ecdc", "ecdc"),
                                             ("lm", "ecdc")])
def test_exported_codes_build_a_byte_identical_container(name, extension, containers, tmp_path):
    arrays = export(containers[name], tmp_path)
    with open(containers[name], "rb") as fo:
        assert build(tmp_path, arrays, extension) == fo.read()


@pytest.mark.parametrize("name, extension", [("snac", "snac"), ("mimi", "mimi"),
                                             ("ecdc", "ecdc")])
def test_a_built_container_exports_the_arrays_it_was_built_from(name, extension, containers,
                                                                 tmp_path):
    arrays = export(containers[name], tmp_path)
    built = tmp_path / f"again.{extension}"
    built.write_bytes(build(tmp_path, arrays, extension))
    assert_same_arrays(export(built, tmp_path), arrays)


def test_snac_24khz_codes_are_three_levels_at_ratios_1_2_4_with_metadata(containers, tmp_path):
    arrays = export(containers["snac"], tmp_path)
    assert str(arrays["codec"]) == "snac"
    assert str(arrays["model"]) == "hubertsiuzdak/snac_24khz"
    assert (int(arrays["sample_rate"]), int(arrays["source_rate"])) == (24_000, 48_000)
    assert int(arrays["samples"]) == int(0.7 * 24_000) + 11
    lengths = [len(arrays[f"level_{i}"]) for i in range(3)]
    assert lengths == [lengths[0], 2 * lengths[0], 4 * lengths[0]]
    assert all(arrays[f"level_{i}"].dtype == np.int64 for i in range(3))


def test_snac_44khz_codes_are_four_levels(containers, tmp_path):
    arrays = export(containers["snac44"], tmp_path)
    lengths = [len(arrays[f"level_{i}"]) for i in range(4)]
    assert lengths == [lengths[0] * k for k in (1, 2, 4, 8)]


@pytest.mark.parametrize("name, books, frame", [("mimi", 8, 1920), ("ecdc", 4, 320)])
def test_codebook_codecs_export_codes_as_codebooks_by_frames(name, books, frame, containers,
                                                            tmp_path):
    arrays = export(containers[name], tmp_path)
    samples = int(arrays["samples"])
    assert arrays["codes"].shape == (books, -(-samples // frame))


def test_an_lm_coded_ecdc_exports_the_codes_of_its_plain_twin(containers, tmp_path):
    lm, plain = export(containers["lm"], tmp_path), export(containers["ecdc"], tmp_path)
    assert bool(lm["lm"]) and not bool(plain["lm"])
    assert lm["codes"].shape[0] == 2  # the default 1.5 kbps


def test_codes_built_into_a_container_decode_to_the_original_decode(containers, tmp_path):
    arrays = export(containers["snac"], tmp_path)
    built = tmp_path / "built.snac"
    built.write_bytes(build(tmp_path, arrays, "snac"))
    run(decode_ecdc.main, containers["snac"], tmp_path / "a.wav")
    run(decode_ecdc.main, built, tmp_path / "b.wav")
    np.testing.assert_array_equal(read_wav(tmp_path / "a.wav")[0], read_wav(tmp_path / "b.wav")[0])


def test_language_model_codes_with_any_dtype_build_a_decodable_mimi_file(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"codec": np.array("mimi"), "model": np.array("kyutai/mimi"),
              "sample_rate": np.array(24_000), "source_rate": np.array(16_000),
              "samples": np.array(5 * 1920 - 7, dtype=np.uint32),
              "codes": rng.integers(0, 2048, size=(4, 5)).astype(np.uint16)}
    built = tmp_path / "lm.mimi"
    built.write_bytes(build(tmp_path, arrays, "mimi"))
    run(decode_ecdc.main, built, tmp_path / "out.wav")
    samples, rate = read_wav(tmp_path / "out.wav")
    assert (len(samples), rate) == (5 * 1920 - 7, 24_000)


def test_legacy_snac_exports_and_builds_an_ncdc_file_of_the_same_codes(tmp_path):
    import torch

    levels = [np.arange(k * 2) % 4096 for k in (1, 2, 4)]
    legacy = tmp_path / "old.snac"
    torch.save({"codes": [torch.from_numpy(c)[None] for c in levels], "length": 3000},
               str(legacy))
    arrays = export(legacy, tmp_path)
    assert (str(arrays["model"]), int(arrays["samples"])) == ("hubertsiuzdak/snac_24khz", 3000)
    built = tmp_path / "new.snac"
    built.write_bytes(build(tmp_path, arrays, "snac"))
    assert_same_arrays(export(built, tmp_path), arrays)


def semanticodec_arrays(samples=16_000 + 5, setting="semanticodec-50-16384"):
    tokens = semanticodec_tokens(samples, int(setting.split("-")[1]))
    rng = np.random.default_rng(2)
    return {"codec": np.array("semanticodec"), "model": np.array(setting),
            "sample_rate": np.array(16_000), "source_rate": np.array(44_100),
            "samples": np.array(samples),
            "codes": np.stack([rng.integers(0, 16384, tokens), rng.integers(0, 8192, tokens)])}


def test_semanticodec_tokens_round_trip_through_their_container(tmp_path):
    arrays = semanticodec_arrays()
    built = tmp_path / "built.semanticodec"
    built.write_bytes(build(tmp_path, arrays, "semanticodec"))
    assert_same_arrays(export(built, tmp_path), arrays)
    # and the container is the one the adapter writes for those tokens
    header = CodesHeader("semanticodec", "semanticodec-50-16384", 16_000, 44_100, 16_005, 14)
    with open(tmp_path / "adapter.semanticodec", "wb") as fo:
        write_ncdc(fo, header, list(arrays["codes"]))
    assert built.read_bytes() == (tmp_path / "adapter.semanticodec").read_bytes()


def test_a_user_named_snac_model_outside_the_known_set_is_accepted_with_model(containers,
                                                                            tmp_path):
    arrays = export(containers["snac"], tmp_path)
    arrays["model"] = np.array("my/snac")
    built = build(tmp_path, arrays, "snac", "--model", "my/snac")
    assert b"my/snac" in built


# ---------------------------------------------------------------------------------------------
# DAC (optional install)

@pytest.fixture
def dac_file(model_cache, tmp_path, monkeypatch):
    pytest.importorskip("dac", reason="the optional DAC install is missing (run: make dac)")
    import soundfile

    monkeypatch.setenv("HOME", str(model_cache / "home"))
    wav = tmp_path / "in16.wav"
    soundfile.write(str(wav), make_signal(16_000 + 77, 16_000), 16_000, subtype="FLOAT")
    out = tmp_path / "in.dac"
    run(encode_ecdc.main, "--dac-model", "16khz", "--source-rate", "22050", wav, out)
    return out


def test_dac_codes_round_trip_byte_for_byte_and_decode(dac_file, tmp_path):
    arrays = export(dac_file, tmp_path, "--dac-model", "16khz")
    assert str(arrays["model"]) == "16khz-8kbps" and arrays["codes"].shape[0] == 12
    assert arrays["input_db"].dtype == np.float32 and bool(arrays["padding"])
    built = tmp_path / "built.dac"
    built.write_bytes(build(tmp_path, arrays, "dac"))
    assert built.read_bytes() == dac_file.read_bytes()
    assert_same_arrays(export(built, tmp_path, "--dac-model", "16khz"), arrays)
    run(decode_ecdc.main, "--dac-model", "16khz", built, tmp_path / "out.wav")


# ---------------------------------------------------------------------------------------------
# Every check of an imported .npz: exit 4, one line naming the array

def snac_arrays(**changes):
    arrays = {"codec": np.array("snac"), "model": np.array("hubertsiuzdak/snac_24khz"),
              "sample_rate": np.array(24_000), "source_rate": np.array(24_000),
              "samples": np.array(2 * 2048),
              "level_0": np.zeros(2, np.int64), "level_1": np.zeros(4, np.int64),
              "level_2": np.zeros(8, np.int64)}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def ecdc_arrays(**changes):
    arrays = {"codec": np.array("ecdc"), "model": np.array("encodec_24khz"),
              "sample_rate": np.array(24_000), "source_rate": np.array(44_100),
              "samples": np.array(640), "codes": np.zeros((2, 2), np.int64)}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize("arrays, output, fragments", [
    (snac_arrays(level_1=np.zeros(4, np.float32)), "x.snac",
     ("array level_1", "expected integers", "float32")),
    (snac_arrays(level_2=np.full(8, 4096)), "x.snac", ("array level_2", "code 4096", "0..4095")),
    (snac_arrays(level_0=np.array([0, -1])), "x.snac", ("array level_0", "code -1")),
    (snac_arrays(level_2=np.zeros(6, np.int64)), "x.snac", ("array level_2", "1:2:4")),
    (snac_arrays(level_3=np.zeros(16, np.int64)), "x.snac", ("arrays level_*", "level_3")),
    (snac_arrays(level_2=None), "x.snac", ("arrays level_*", "level_0 to level_2")),
    (snac_arrays(samples=np.array(2 * 2048 + 1)), "x.snac",
     ("array level_0", "2 frames", "needs 3")),
    (snac_arrays(model=np.array("evil/model")), "x.snac", ("array model", "SNAC_MODEL")),
    (snac_arrays(sample_rate=np.array(32_000)), "x.snac", ("array sample_rate", "24000 Hz")),
    (snac_arrays(source_rate=np.array(500)), "x.snac", ("array source_rate", "1000..384000")),
    (snac_arrays(source_rate=np.array(400_000)), "x.snac", ("array source_rate",)),
    (snac_arrays(samples=np.array(0)), "x.snac", ("array samples", "out of range")),
    (snac_arrays(samples=np.array(1.5)), "x.snac", ("array samples", "0-d integer")),
    (snac_arrays(codec=np.array("mimi")), "x.snac", ("array codec", ".mimi", ".snac")),
    (snac_arrays(codec=np.array("c2")), "x.snac", ("array codec", "'c2'")),
    (snac_arrays(codec=None), "x.snac", ("array codec: missing",)),
    (snac_arrays(model=np.array(b"bytes")), "x.snac", ("array model", "0-d string")),
    (snac_arrays(extra=np.zeros(3)), "x.snac", ("array extra", "not an array of .snac")),
    (ecdc_arrays(codes=np.zeros((3, 2), np.int64)), "x.ecdc", ("array codes", "3 codebooks")),
    (ecdc_arrays(codes=np.full((2, 2), 1024)), "x.ecdc", ("array codes", "0..1023")),
    (ecdc_arrays(codes=np.zeros(4, np.int64)), "x.ecdc", ("array codes", "expected 2-D")),
    (ecdc_arrays(codes=np.zeros((2, 0), np.int64)), "x.ecdc", ("array codes", "empty")),
    (ecdc_arrays(samples=np.array(641)), "x.ecdc", ("array codes", "needs 3")),
    (ecdc_arrays(lm=np.array(2)), "x.ecdc", ("array lm", "bool")),
    (ecdc_arrays(model=np.array("encodec_48khz")), "x.ecdc", ("array model", "EnCodec")),
    (semanticodec_arrays(setting="semanticodec-50-4096"), "x.semanticodec",
     ("array codes (row 0, semantic)", "0..4095")),
    (dict(semanticodec_arrays(), codes=np.zeros((3, 2), np.int64)), "x.semanticodec",
     ("array codes", "3 rows")),
    (dict(ecdc_arrays(codes=np.zeros((33, 2), np.int64)), codec=np.array("mimi"),
          model=np.array("kyutai/mimi"), samples=np.array(3000)), "x.mimi",
     ("array codes", "33 codebooks", "1 to 32")),
], ids=lambda value: None)
def test_each_bad_array_is_refused_naming_it(arrays, output, fragments, cli, tmp_path):
    rc, out, err = cli(encode_ecdc.main, "--from-codes", save(tmp_path, arrays),
                       tmp_path / output)
    assert (rc, out) == (4, "")
    assert_one_line_error(err, ENCODE, *fragments)
    assert not (tmp_path / output).exists()


def test_an_npz_holding_an_object_array_is_refused_without_unpickling(cli, tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, **snac_arrays(), note=np.array([{"a": 1}], dtype=object))
    rc, _, err = cli(encode_ecdc.main, "--from-codes", path, tmp_path / "x.snac")
    assert rc == 4
    assert_one_line_error(err, ENCODE, "array note", "Python objects")


@pytest.mark.parametrize("content, fragment", [(b"not a zip at all", "no zip signature"),
                                               (b"PK\x03\x04truncated", "not a valid .npz")])
def test_a_file_that_is_not_an_npz_is_refused(content, fragment, cli, tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    rc, _, err = cli(encode_ecdc.main, "--from-codes", path, tmp_path / "x.snac")
    assert rc == 4
    assert_one_line_error(err, ENCODE, str(path), fragment)


def test_codes_into_an_output_without_codes_is_a_usage_error(cli, tmp_path):
    rc, _, err = cli(encode_ecdc.main, "--from-codes", save(tmp_path, snac_arrays()),
                     tmp_path / "x.c2")
    assert rc == 2
    assert_one_line_error(err, ENCODE, "x.c2", "codes build only")


def test_exporting_a_corrupt_container_exits_4_naming_it(cli, tmp_path):
    path = tmp_path / "bad.snac"
    path.write_bytes(b"NCDC\x01\x01\x01" + b"\x00" * 30)
    rc, _, err = cli(decode_ecdc.main, "--codes", path, tmp_path / "out.npz")
    assert rc == 4
    assert_one_line_error(err, DECODE, str(path))
    assert not (tmp_path / "out.npz").exists()


def test_export_and_build_import_no_torch_for_plain_containers(tmp_path):
    import subprocess
    import sys

    script = ("import sys, io, numpy as np; from codec_toolkit import codes; "
              f"a = codes.load_codes({save(tmp_path, snac_arrays())!r}); "
              "codes.build_container(a, io.BytesIO()); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=str(codes.__file__).rsplit("/codec_toolkit", 1)[0], check=True)
    assert done.stdout.strip() == "False"
