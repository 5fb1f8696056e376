"""Legacy .snac files (torch.save of code tensors): decoded through the safe loader, checked field
by field, and never unpickled in a way that could run code."""

from __future__ import annotations

import math
import os
import pickle

import numpy as np
import pytest

import decode_ecdc
import neural_codec as nc
from codec_toolkit.errors import ContainerError
from codec_toolkit.legacy_snac import read_legacy_snac
from codec_toolkit.ncdc import CodesHeader, write_ncdc
from conftest import assert_one_line_error, read_wav

pytestmark = pytest.mark.usefixtures("model_cache")

SNAC_24 = "hubertsiuzdak/snac_24khz"
DECODE = "decode_ecdc.py"
THREADS = ("--threads", "2")
FRAMES = 12  # finest-level codes: 12 x 512 = 6144 samples at 24 kHz


def code_tensors(seed: int = 0) -> list:
    """Valid snac_24khz codes as the old tools saved them: int64 tensors [1, T] per level."""
    import torch

    rng = np.random.default_rng(seed)
    return [torch.from_numpy(rng.integers(0, 4096, size=(1, FRAMES // s))) for s in (4, 2, 1)]


def save(obj, path, **kwargs) -> str:
    import torch

    torch.save(obj, str(path), **kwargs)
    return str(path)


def assert_refused(cli, path, tmp_path, *fragments: str) -> None:
    """Decoding and --info both exit 4 with one line on stderr; nothing is written."""
    out_wav = tmp_path / "refused.wav"
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, out_wav)
    assert (rc, out) == (4, ""), err
    assert_one_line_error(err, DECODE, *fragments)
    assert not out_wav.exists()
    rc, out, err = cli(decode_ecdc.main, "--info", path)
    assert (rc, out) == (4, ""), err


@pytest.mark.parametrize("rate", [1, 999, 384_001, 1_000_000])
def test_legacy_source_rate_outside_1_khz_to_384_khz_is_a_bad_field(rate, cli, tmp_path):
    path = save({"codes": code_tensors(), "source_rate": rate}, tmp_path / "legacy.snac")
    assert_refused(cli, path, tmp_path, f"legacy field source_rate {rate} is out of range "
                   f"1000..384000")


def test_legacy_list_of_code_tensors_decodes_like_the_same_codes_in_ncdc(cli, tmp_path):
    codes = code_tensors()
    legacy = save(codes, tmp_path / "legacy.snac")
    with open(tmp_path / "new.snac", "wb") as fo:
        write_ncdc(fo, CodesHeader("snac", SNAC_24, 24000, 24000, FRAMES * 512, 12),
                   [c[0].numpy() for c in codes])

    for name in ("legacy", "new"):
        rc, out, err = cli(decode_ecdc.main, *THREADS, tmp_path / f"{name}.snac",
                           tmp_path / f"{name}.wav")
        assert (rc, out, err) == (0, "", "")
    legacy_samples, rate = read_wav(tmp_path / "legacy.wav")
    assert (len(legacy_samples), rate) == (FRAMES * 512, 24000)
    assert legacy_samples.tobytes() == read_wav(tmp_path / "new.wav")[0].tobytes()

    rc, out, _ = cli(decode_ecdc.main, "--info", legacy)
    assert (rc, out) == (0, f"container=snac-legacy\ncodec=snac\nlevels=3\n"
                            f"bytes={os.path.getsize(legacy)}\n")


def test_legacy_dict_with_metadata_decodes_trimmed_to_its_length(cli, tmp_path):
    path = save({"codes": code_tensors(), "model": SNAC_24, "sample_rate": 24000,
                 "length": 5000, "source_rate": 44100}, tmp_path / "legacy.snac")
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    samples, rate = read_wav(tmp_path / "out.wav")
    assert (len(samples), rate) == (5000, 24000)

    rc, out, _ = cli(decode_ecdc.main, "--info", path)
    assert rc == 0
    size = os.path.getsize(path)
    assert dict(line.split("=", 1) for line in out.splitlines()) == {
        "container": "snac-legacy", "codec": "snac", "model": SNAC_24, "sample_rate": "24000",
        "source_rate": "44100", "samples": "5000", "duration": "0.208", "levels": "3",
        "bytes": str(size), "kbps": f"{size * 8 / (5000 / 24000) / 1000:.2f}", "length": "5000"}


def test_legacy_dict_trimmed_decode_is_the_start_of_the_untrimmed_one(cli, tmp_path):
    codes = code_tensors(1)
    save(codes, tmp_path / "full.snac")
    save({"codes": codes, "length": 5000}, tmp_path / "cut.snac")
    for name in ("full", "cut"):
        assert cli(decode_ecdc.main, *THREADS, tmp_path / f"{name}.snac",
                   tmp_path / f"{name}.wav")[0] == 0
    full, cut = read_wav(tmp_path / "full.wav")[0], read_wav(tmp_path / "cut.wav")[0]
    assert cut.tobytes() == full[:5000].tobytes()


@pytest.mark.parametrize("aliases", [
    {"snac_codes": None, "model_name": SNAC_24, "sampling_rate": 24000, "num_samples": 4000,
     "orig_sr": 16000},
    {"codes": None, "snac_model": SNAC_24, "model_sample_rate": 24000, "audio_length": 4000,
     "input_sample_rate": 16000},
])
def test_legacy_dict_field_aliases_are_understood(aliases, cli, tmp_path):
    obj = {k: (code_tensors() if v is None else v) for k, v in aliases.items()}
    path = save(obj, tmp_path / "legacy.snac")
    rc, out, _ = cli(decode_ecdc.main, "--info", path)
    assert rc == 0 and "source_rate=16000\n" in out and "length=4000\n" in out
    assert cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")[0] == 0
    assert len(read_wav(tmp_path / "out.wav")[0]) == 4000


def test_legacy_dict_naming_an_unknown_model_is_refused_unless_the_user_names_one(cli, tmp_path):
    path = save({"codes": code_tensors(), "model": "someone/evil_snac", "sample_rate": 24000},
                tmp_path / "legacy.snac")
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "someone/evil_snac")
    assert not (tmp_path / "out.wav").exists()

    rc, out, err = cli(decode_ecdc.main, *THREADS, "--model", SNAC_24, path, tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    assert len(read_wav(tmp_path / "out.wav")[0]) == FRAMES * 512


def test_default_model_does_not_override_a_model_the_file_names(cli, tmp_path):
    # --default-model is for files that name no model; it must not let a file's unknown model in.
    path = save({"codes": code_tensors(), "model": "someone/evil_snac"}, tmp_path / "legacy.snac")
    rc, _, err = cli(decode_ecdc.main, *THREADS, "--default-model", SNAC_24, path,
                     tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, DECODE, "someone/evil_snac")


def test_bare_legacy_list_at_a_rate_the_model_does_not_run_at_is_refused(cli, tmp_path):
    path = save(code_tensors(), tmp_path / "legacy.snac")
    rc, out, err = cli(decode_ecdc.main, *THREADS, "--sample-rate", 32000, path,
                       tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "32000")


# Each case builds, from valid codes and torch, an object that old tools could have saved but
# that is no valid legacy .snac.
WRONG_SHAPES_AND_TYPES = {
    "float tensors": lambda good, torch: [c.float() for c in good],
    "bool tensors": lambda good, torch: [c.bool() for c in good],
    "complex tensors": lambda good, torch: [c.to(torch.complex64) for c in good],
    "strings": lambda good, torch: ["0 1 2", "3 4 5", "6 7 8"],
    "python ints": lambda good, torch: [c[0].tolist() for c in good],
    "a string": lambda good, torch: "codes",
    "an int": lambda good, torch: 7,
    "a tensor, not a list": lambda good, torch: torch.zeros(3, FRAMES, dtype=torch.long),
    "empty list": lambda good, torch: [],
    "17 levels": lambda good, torch: [good[0]] * 17,
    "empty tensor": lambda good, torch: [good[0], good[1], torch.zeros(1, 0, dtype=torch.long)],
    "tensor [2, T]": lambda good, torch: [c.repeat(2, 1) for c in good],
    "tensor [1, 1, 1, T]": lambda good, torch: [c[None, None] for c in good],
    "nested dict as codes": lambda good, torch: {"codes": dict(zip("abc", good))},
    "dict without codes": lambda good, torch: {"model": SNAC_24},
    "dict with an unknown key": lambda good, torch: {"codes": good, "extra": {"nested": 1}},
    "length as float": lambda good, torch: {"codes": good, "length": 5000.0},
    "length as bool": lambda good, torch: {"codes": good, "length": True},
    "length as string": lambda good, torch: {"codes": good, "length": "5000"},
    "length 0": lambda good, torch: {"codes": good, "length": 0},
    "length negative": lambda good, torch: {"codes": good, "length": -5},
    "length float tensor": lambda good, torch: {"codes": good, "length": torch.tensor(5000.0)},
    "length beyond the codes": lambda good, torch: {"codes": good, "length": FRAMES * 512 + 1},
    "sample rate as string": lambda good, torch: {"codes": good, "sample_rate": "24000"},
    "sample rate of another model": lambda good, torch: {"codes": good, "sample_rate": 44100},
    "source rate 0": lambda good, torch: {"codes": good, "source_rate": 0},
    "source rate 1": lambda good, torch: {"codes": good, "source_rate": 1},
    "source rate 1 MHz": lambda good, torch: {"codes": good, "source_rate": 1_000_000},
    "model as int": lambda good, torch: {"codes": good, "model": 24},
    "model empty": lambda good, torch: {"codes": good, "model": ""},
    "levels that do not fit the strides":
        lambda good, torch: [good[0], good[1], good[2][:, :-1]],
    "two levels": lambda good, torch: good[:2],
    "code 4096": lambda good, torch: [good[0], good[1], torch.full((1, FRAMES), 4096)],
    "negative code": lambda good, torch: [good[0], good[1], torch.full((1, FRAMES), -1)],
}


@pytest.mark.parametrize("case", WRONG_SHAPES_AND_TYPES)
def test_legacy_file_of_the_wrong_shape_or_type_is_refused_with_exit_4(case, cli, tmp_path):
    import torch

    path = save(WRONG_SHAPES_AND_TYPES[case](code_tensors(), torch), tmp_path / "legacy.snac")
    out_wav = tmp_path / "out.wav"
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, out_wav)
    assert (rc, out) == (4, ""), err
    assert_one_line_error(err, DECODE)
    assert not out_wav.exists()


# ---------------------------------------------------------------------------------------------
# Crafted pickles

class RunsCode:
    """Unpickling this calls os.system: what a hostile .snac would do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def crafted(kind: str, directory, marker) -> str:
    payload = RunsCode(str(marker))
    path = directory / f"{kind}.snac"
    if kind == "raw pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    elif kind == "raw pickle in a dict":
        path.write_bytes(pickle.dumps({"codes": [payload]}, protocol=2))
    elif kind == "torch zip":
        save(payload, path, pickle_protocol=2)
    elif kind == "torch zip in a dict":
        save({"codes": code_tensors(), "model": payload}, path)
    elif kind == "torch legacy format":
        save(payload, path, _use_new_zipfile_serialization=False)
    return str(path)


CRAFTED_KINDS = ["raw pickle", "raw pickle in a dict", "torch zip", "torch zip in a dict",
                 "torch legacy format"]


def test_legacy_fields_at_the_edges_of_their_ranges_are_read(tmp_path):
    # One-element integer tensors count as ints (older tools saved lengths as tensors); the
    # smallest and largest rates and lengths are in range; a one-byte and a 255-byte model name
    # are names.
    import torch

    from codec_toolkit.binary import MAX_RATE, MAX_SAMPLES, MIN_RATE

    for model, rate, length in (("m", MIN_RATE, 1), ("m" * 255, MAX_RATE, MAX_SAMPLES)):
        path = save({"codes": code_tensors(), "model": model, "sample_rate": torch.tensor(rate),
                     "source_rate": rate, "length": torch.tensor([length])},
                    tmp_path / "edges.snac")
        meta, _ = read_legacy_snac(path)
        assert meta == {"model": model, "sample_rate": rate, "source_rate": rate,
                        "length": length}


@pytest.mark.parametrize("shape", [(1, 1, 5), (5,), (1, 1), (1,)])
def test_legacy_code_tensors_of_every_accepted_shape_and_count_read_as_int64(shape, tmp_path):
    import torch

    for count in (1, 16):
        levels = [torch.arange(math.prod(shape), dtype=torch.int32).reshape(shape)] * count
        _, codes = read_legacy_snac(save(levels, tmp_path / "shapes.snac"))
        assert len(codes) == count
        for level in codes:
            assert level.dtype == np.int64
            np.testing.assert_array_equal(level, np.arange(math.prod(shape)))


@pytest.mark.parametrize("case", ["empty model", "256-byte model", "17 levels",
                                  "length tensor of two"])
def test_legacy_fields_just_past_their_ranges_are_refused(case, tmp_path):
    import torch

    obj = {"empty model": {"codes": code_tensors(), "model": ""},
           "256-byte model": {"codes": code_tensors(), "model": "m" * 256},
           "17 levels": code_tensors() * 5 + code_tensors()[:2],
           "length tensor of two": {"codes": code_tensors(), "length": torch.tensor([5, 6])}}[case]
    with pytest.raises(ContainerError):
        read_legacy_snac(save(obj, tmp_path / "past.snac"))


@pytest.mark.parametrize("kind", CRAFTED_KINDS)
def test_crafted_pickle_is_refused_and_its_code_never_runs(kind, cli, tmp_path):
    marker = tmp_path / "pwned"
    path = crafted(kind, tmp_path, marker)
    assert nc.sniff_container(open(path, "rb").read(8)) == "snac-legacy"

    assert_refused(cli, path, tmp_path)
    assert not marker.exists(), "decoding a crafted .snac ran its code"


@pytest.mark.parametrize("kind", CRAFTED_KINDS)
def test_crafted_pickle_does_run_code_when_unpickled_unsafely(kind, tmp_path):
    # The control for the test above: the payload is live, so its refusal means something.
    import torch

    marker = tmp_path / "pwned"
    path = crafted(kind, tmp_path, marker)
    if kind.startswith("raw pickle"):
        with open(path, "rb") as fo:
            pickle.load(fo)
    else:
        torch.load(path, weights_only=False)
    assert marker.exists()


def test_crafted_pickle_is_refused_through_the_library_call_too(tmp_path):
    marker = tmp_path / "pwned"
    path = crafted("torch zip", tmp_path, marker)
    with pytest.raises(ContainerError, match="safe loader"):
        read_legacy_snac(path)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# Both torch.save formats

def test_legacy_files_in_both_torch_save_formats_decode_identically(cli, tmp_path):
    codes = code_tensors(2)
    zipped = save(codes, tmp_path / "zip.snac")
    old = save(codes, tmp_path / "old.snac", _use_new_zipfile_serialization=False)
    assert open(zipped, "rb").read(4) == b"PK\x03\x04"
    assert open(old, "rb").read(1) == b"\x80"

    for name in ("zip", "old"):
        rc, out, err = cli(decode_ecdc.main, *THREADS, tmp_path / f"{name}.snac",
                           tmp_path / f"{name}.wav")
        assert (rc, out, err) == (0, "", "")
    zip_samples, rate = read_wav(tmp_path / "zip.wav")
    assert (len(zip_samples), rate) == (FRAMES * 512, 24000)
    assert zip_samples.tobytes() == read_wav(tmp_path / "old.wav")[0].tobytes()


@pytest.mark.parametrize("content", [b"PK\x03\x04" + bytes(40), b"\x80\x02" + bytes(40),
                                     b"\x80\x02\x8a\x0alots of garbage"])
def test_corrupt_legacy_file_is_refused_with_exit_4(content, cli, tmp_path):
    (tmp_path / "legacy.snac").write_bytes(content)
    assert_refused(cli, tmp_path / "legacy.snac", tmp_path, "legacy")


def test_truncated_legacy_zip_is_refused_at_every_tenth_length(cli, tmp_path):
    data = open(save(code_tensors(), tmp_path / "full.snac"), "rb").read()
    wrong = {}
    for length in range(4, len(data), max(1, len(data) // 10)):
        (tmp_path / "cut.snac").write_bytes(data[:length])
        rc, _, err = cli(decode_ecdc.main, "--info", tmp_path / "cut.snac")
        if rc != 4 or len(err.splitlines()) != 1:
            wrong[length] = (rc, err)
    assert not wrong
