"""`decode_ecdc.py --info [--json]`: the fields of every container it reads, without a model.

Files are written by the toolkit's container writers and by the encodec and dac packages' own
writers (no model runs here); corrupt and truncated ones must exit 4 with one line.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import decode_ecdc
from codec_toolkit.dac_file import DacFile, write_dac
from codec_toolkit.ecdc import EcdcHeader, write_ecdc_header, write_ecdc_packed
from codec_toolkit.ncdc import CodesHeader, write_ncdc
from conftest import ROOT, assert_one_line_error, subprocess_env

DECODE = "decode_ecdc.py"
SNAC_24 = "hubertsiuzdak/snac_24khz"


def info_of(cli, path) -> dict[str, str]:
    rc, out, err = cli(decode_ecdc.main, "--info", path)
    assert (rc, err) == (0, ""), err
    lines = out.splitlines()
    assert all("=" in line for line in lines)
    return dict(line.split("=", 1) for line in lines)


def ncdc_file(path, header: CodesHeader, counts) -> str:
    with open(path, "wb") as fo:
        write_ncdc(fo, header, [np.zeros(n, dtype=np.int64) for n in counts])
    return str(path)


def legacy_file(path, obj) -> str:
    import torch

    torch.save(obj, str(path))
    return str(path)


def legacy_codes() -> list:
    import torch

    return [torch.zeros(1, 3 * k, dtype=torch.int64) for k in (1, 2, 4)]


def expected(path, kind: dict, samples: int, rate: int) -> dict[str, str]:
    """`kind`'s fields followed by samples, duration, bytes and kbps as --info computes them."""
    size = path.stat().st_size
    seconds = samples / rate
    return {**kind, "samples": str(samples), "duration": f"{seconds:.3f}", "bytes": str(size),
            "kbps": f"{size * 8 / seconds / 1000:.2f}"}


def test_snac_info_lists_the_common_keys_in_order(cli, tmp_path):
    path = tmp_path / "x.snac"
    ncdc_file(path, CodesHeader("snac", SNAC_24, 24000, 44100, 6000, 12), (3, 6, 12))
    fields = info_of(cli, path)
    assert list(fields) == ["container", "codec", "model", "sample_rate", "source_rate",
                            "samples", "duration", "levels", "bytes", "kbps", "bits"]
    assert fields == expected(path, {"container": "snac", "codec": "snac", "model": SNAC_24,
                                     "sample_rate": "24000", "source_rate": "44100",
                                     "levels": "3", "bits": "12"}, 6000, 24000)
    assert (fields["duration"], fields["bytes"], fields["kbps"]) == ("0.250", "73", "2.34")


def test_mimi_info_counts_codebooks(cli, tmp_path):
    path = tmp_path / "x.mimi"
    ncdc_file(path, CodesHeader("mimi", "kyutai/mimi", 24000, 16000, 3840, 11), (2,) * 8)
    assert info_of(cli, path) == expected(path, {
        "container": "mimi", "codec": "mimi", "model": "kyutai/mimi", "sample_rate": "24000",
        "source_rate": "16000", "codebooks": "8", "levels": "8", "bits": "11"}, 3840, 24000)


def test_semanticodec_info_counts_its_two_token_streams_and_names_the_setting(cli, tmp_path):
    path = tmp_path / "x.semanticodec"
    ncdc_file(path, CodesHeader("semanticodec", "semanticodec-50-16384", 16000, 48000, 24000,
                                14), (40, 40))
    assert info_of(cli, path) == expected(path, {
        "container": "semanticodec", "codec": "semanticodec", "model": "semanticodec-50-16384",
        "sample_rate": "16000", "source_rate": "48000", "streams": "2", "levels": "2",
        "bits": "14", "token_rate": "50", "vocab_size": "16384"}, 24000, 16000)


def test_ecdc_info_of_our_file(cli, tmp_path):
    path = tmp_path / "x.ecdc"
    with open(path, "wb") as fo:
        write_ecdc_header(fo, EcdcHeader(24000, 4, False, 32000))
        write_ecdc_packed(fo, np.zeros((4, 75), dtype=np.int64))
    assert info_of(cli, path) == expected(path, {
        "container": "ecdc", "codec": "encodec", "model": "encodec_24khz", "sample_rate": "24000",
        "source_rate": "32000", "codebooks": "4", "lm": "0"}, 24000, 24000)


def test_ecdc_info_of_a_file_written_by_the_encodec_package(cli, tmp_path):
    from encodec import binary

    path = tmp_path / "theirs.ecdc"
    codes = np.random.default_rng(0).integers(0, 1024, size=(75, 8))  # [frames, codebooks]
    with open(path, "wb") as fo:
        binary.write_ecdc_header(fo, {"m": "encodec_24khz", "al": 23999, "nc": 8, "lm": False})
        packer = binary.BitPacker(10, fo)
        for value in codes.reshape(-1).tolist():
            packer.push(value)
        packer.flush()
    # encodec records no source rate: its input was at the model's 24 kHz
    assert info_of(cli, path) == expected(path, {
        "container": "ecdc", "codec": "encodec", "model": "encodec_24khz", "sample_rate": "24000",
        "source_rate": "24000", "codebooks": "8", "lm": "0"}, 23999, 24000)


def test_dac_info_of_a_file_written_by_the_dac_package(cli, tmp_path):
    torch = pytest.importorskip("torch")
    base = pytest.importorskip("dac.model.base", reason="the optional DAC install is missing")

    codes = torch.from_numpy(np.random.default_rng(0).integers(0, 1024, size=(1, 12, 50)))
    path = base.DACFile(codes=codes, chunk_length=50, original_length=44100,
                        input_db=torch.tensor([-23.5]), channels=1, sample_rate=44100,
                        padding=False, dac_version="1.0.0").save(tmp_path / "theirs.dac")
    assert info_of(cli, path) == expected(path, {
        "container": "dac", "codec": "dac", "source_rate": "44100", "codebooks": "12",
        "channels": "1", "frames": "50", "chunk_length": "50", "padding": "0",
        "input_db": "-23.50"}, 44100, 44100)


def test_dac_info_of_our_file_counts_samples_at_the_source_rate(cli, tmp_path):
    path = tmp_path / "x.dac"
    with open(path, "wb") as fo:
        write_dac(fo, DacFile(np.zeros((1, 12, 100), dtype=np.uint16), 100, 96000, -16.0,
                              48000, True))
    fields = info_of(cli, path)
    assert (fields["source_rate"], fields["samples"], fields["duration"]) == ("48000", "96000",
                                                                             "2.000")
    assert "sample_rate" not in fields and "model" not in fields  # .dac records neither


def test_legacy_snac_info_says_what_it_records(cli, tmp_path):
    bare = legacy_file(tmp_path / "bare.snac", legacy_codes())
    assert info_of(cli, bare) == {"container": "snac-legacy", "codec": "snac", "levels": "3",
                                  "bytes": str((tmp_path / "bare.snac").stat().st_size)}
    path = tmp_path / "dict.snac"
    legacy_file(path, {"codes": legacy_codes(), "model": SNAC_24, "sample_rate": 24000,
                       "source_rate": 22050, "length": 6000})
    assert info_of(cli, path) == {**expected(path, {
        "container": "snac-legacy", "codec": "snac", "model": SNAC_24, "sample_rate": "24000",
        "source_rate": "22050", "levels": "3"}, 6000, 24000), "length": "6000"}


def test_json_is_one_object_of_the_same_fields_with_numbers_as_numbers(cli, tmp_path):
    path = tmp_path / "x.snac"
    ncdc_file(path, CodesHeader("snac", SNAC_24, 24000, 44100, 6000, 12), (3, 6, 12))
    rc, out, err = cli(decode_ecdc.main, "--info", "--json", path)
    assert (rc, err) == (0, "") and out.endswith("}\n") and out.count("\n") == 1
    fields = json.loads(out)
    assert fields == {"container": "snac", "codec": "snac", "model": SNAC_24,
                      "sample_rate": 24000, "source_rate": 44100, "samples": 6000,
                      "duration": 0.25, "levels": 3, "bytes": 73, "kbps": 2.34, "bits": 12}
    assert list(fields) == list(info_of(cli, path))


def test_json_without_info_is_a_usage_error(cli, tmp_path):
    rc, out, err = cli(decode_ecdc.main, "--json", tmp_path / "x.snac", tmp_path / "x.wav")
    assert (rc, out) == (2, "")
    assert_one_line_error(err, DECODE, "--json goes with --info")


def test_a_model_name_cannot_add_a_line_of_its_own(cli, tmp_path):
    path = tmp_path / "x.snac"
    ncdc_file(path, CodesHeader("snac", "evil\nsource_rate=1", 24000, 44100, 6000, 12),
              (3, 6, 12))
    rc, out, _ = cli(decode_ecdc.main, "--info", path)
    assert rc == 0
    assert "model=evil\\nsource_rate=1\n" in out
    assert [line for line in out.splitlines() if line.startswith("source_rate=")] == \
        ["source_rate=44100"]


# ---------------------------------------------------------------------------------------------
# Corrupt and truncated files: exit 4, one line naming the file, nothing on stdout

def good_files(tmp_path) -> dict[str, bytes]:
    snac, ecdc, dac = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_ncdc(snac, CodesHeader("snac", SNAC_24, 24000, 44100, 6000, 12),
               [np.zeros(n, dtype=np.int64) for n in (3, 6, 12)])
    write_ecdc_header(ecdc, EcdcHeader(24000, 4, False, 32000))
    write_ecdc_packed(ecdc, np.zeros((4, 75), dtype=np.int64))
    write_dac(dac, DacFile(np.zeros((1, 12, 50), dtype=np.uint16), 50, 16000, -20.0, 16000,
                           True))
    legacy = open(legacy_file(tmp_path / "legacy.snac", legacy_codes()), "rb").read()
    return {"snac": snac.getvalue(), "ecdc": ecdc.getvalue(), "dac": dac.getvalue(),
            "legacy.snac": legacy}


@pytest.mark.parametrize("kind", ["snac", "ecdc", "dac", "legacy.snac"])
@pytest.mark.parametrize("damage", ["truncated", "header only", "flipped"])
def test_info_of_a_corrupt_or_truncated_file_exits_4_naming_it(kind, damage, cli, tmp_path):
    data = bytearray(good_files(tmp_path)[kind])
    if damage == "truncated":
        data = data[:-7]
    elif damage == "header only":
        data = data[:12]
    else:  # a byte that matters: codes hold no redundancy outside NCDC's CRC
        # (the legacy file's: the first of its pickle, behind the zip's first local header)
        pickle_start = 30 + sum(struct.unpack_from("<HH", data, 26))
        data[{"snac": len(data) // 2, "ecdc": 9, "dac": -2,
              "legacy.snac": pickle_start}[kind]] ^= 0xFF
    path = tmp_path / f"bad.{kind}"
    path.write_bytes(bytes(data))
    rc, out, err = cli(decode_ecdc.main, "--info", path)
    assert (rc, out) == (4, ""), err
    assert_one_line_error(err, DECODE, str(path))


def test_info_of_a_crafted_rate_exits_4_naming_the_field(cli, tmp_path):
    data = bytearray(good_files(tmp_path)["snac"][:-4])
    struct.pack_into("!I", data, 11, 1)
    (tmp_path / "x.snac").write_bytes(bytes(data) + struct.pack("!I", zlib.crc32(data)))
    for argv in (("--info",), ("--info", "--json")):
        rc, out, err = cli(decode_ecdc.main, *argv, tmp_path / "x.snac")
        assert (rc, out) == (4, "")
        assert_one_line_error(err, DECODE, "source sample rate 1 Hz", "1000..384000")


def test_info_imports_no_torch_for_the_toolkits_containers(tmp_path):
    files = good_files(tmp_path)
    script = ("import sys, decode_ecdc\n"
              "codes = [decode_ecdc.main(['--info', '--json', p]) for p in sys.argv[1:]]\n"
              "sys.exit(max(codes) or ('torch' in sys.modules))")
    paths = []
    for kind in ("snac", "ecdc", "dac"):
        (tmp_path / f"x.{kind}").write_bytes(files[kind])
        paths.append(str(tmp_path / f"x.{kind}"))
    result = subprocess.run([sys.executable, "-c", script, *paths], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert [json.loads(line)["container"] for line in result.stdout.splitlines()] == \
        ["snac", "ecdc", "dac"]
