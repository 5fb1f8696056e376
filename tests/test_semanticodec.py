"""SemantiCodec (.semanticodec) against a stand-in `semanticodec` module that the tests put on
PYTHONPATH (tests/fixtures/semanticodec_standin.py): the real package installs only from its
source repository, not from the registries reachable here, and was not run. The stand-in honours
the published API and token counts and logs every call, so these tests check what the adapter
hands the package and what it does with the answers; nothing about the real model's sound.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from codec_toolkit.ncdc import CodesHeader, read_ncdc, write_ncdc
from codec_toolkit.semanticodec import semanticodec_tokens
from conftest import ROOT, assert_one_line_error, make_signal, read_wav, subprocess_env

RATE = 16_000
DECODE = "decode_ecdc.py"
ENCODE = "encode_ecdc.py"


@pytest.fixture
def standin(tmp_path):
    """PYTHONPATH holding the stand-in as `semanticodec`, and the path of its call log."""
    package = tmp_path / "standin" / "semanticodec"
    package.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "semanticodec_standin.py", package / "__init__.py")
    return {"PYTHONPATH": str(tmp_path / "standin"),
            "SEMANTICODEC_STANDIN_LOG": str(tmp_path / "calls.jsonl")}


def calls(env) -> list[dict]:
    try:
        with open(env["SEMANTICODEC_STANDIN_LOG"]) as fo:
            return [json.loads(line) for line in fo]
    except FileNotFoundError:
        return []


def run_helper(script, *argv, env):
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, argv)],
                          capture_output=True, text=True, env=subprocess_env(**env), timeout=120)


def read_file(path):
    with open(path, "rb") as fo:
        return read_ncdc(fo)


@pytest.mark.parametrize("token_rate, vocab", [(25, 4096), (50, 16384), (100, 32768)])
def test_round_trip_records_the_setting_and_hands_the_package_what_its_api_takes(
        standin, write_wav, tmp_path, token_rate, vocab):
    samples = make_signal(int(2.3 * RATE) + 7, RATE)
    out = tmp_path / "out.semanticodec"
    result = run_helper(ENCODE, "--token-rate", token_rate, "--vocab-size", vocab,
                        "--source-rate", 48000, write_wav(samples, RATE), out, env=standin)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    header, codes = read_file(out)
    pairs = semanticodec_tokens(len(samples), token_rate)
    # 2.3 s padded to a whole 0.16 s patch (2.4 s), token_rate / 2 pairs a second
    assert pairs == math.ceil(2.4 * token_rate / 2)
    assert (header.codec, header.model, header.sample_rate, header.source_rate, header.length) \
        == ("semanticodec", f"semanticodec-{token_rate}-{vocab}", RATE, 48000, len(samples))
    assert (len(codes), len(codes[0]), header.bits) == (2, pairs, max(13, int(math.log2(vocab))))
    init, encode = calls(standin)
    assert (init["token_rate"], init["semantic_vocab_size"]) == (token_rate, vocab)
    assert init["cache_path"].endswith("hub")  # the Hugging Face cache, not ./pretrained
    assert (encode["samples"], encode["rate"], encode["tokens"]) == (len(samples), RATE, pairs)

    result = run_helper(DECODE, out, tmp_path / "out.wav", env=standin)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    decoded, rate = read_wav(tmp_path / "out.wav")
    assert (rate, len(decoded)) == (RATE, len(samples))
    decode = calls(standin)[-1]
    assert (decode["call"], decode["tokens"], decode["device"]) == ("decode", pairs, "cpu")
    # the stand-in's tokens follow the input's loudness, and its decoder plays them back
    assert 0.05 < np.sqrt(np.mean(decoded ** 2)) < 1.0


def test_the_package_printing_on_stdout_does_not_reach_the_batch_replies(standin, write_wav,
                                                                         tmp_path):
    wav = write_wav(make_signal(RATE, RATE), RATE)
    assert run_helper(ENCODE, wav, tmp_path / "a.semanticodec", env=standin).returncode == 0
    listing = tmp_path / "list"
    listing.write_text(f"{tmp_path / 'a.semanticodec'}\t{tmp_path / 'a.wav'}\ta\n")
    result = run_helper(DECODE, "--batch", listing, env=standin)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"0\t{RATE}\t1000\n"  # exit code, source rate, length in ms


def test_without_the_package_exit_3_with_the_install_command(write_wav, tmp_path):
    result = run_helper(ENCODE, write_wav(make_signal(RATE, RATE), RATE),
                        tmp_path / "out.semanticodec", env={})
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, ENCODE, "semanticodec",
                          "pip install git+https://github.com/haoheliu/SemantiCodec-inference.git")
    assert not (tmp_path / "out.semanticodec").exists()


def write_tokens(path, model="semanticodec-50-16384", length=RATE, pairs=None, high=100):
    pairs = semanticodec_tokens(length, 50) if pairs is None else pairs
    codes = [np.full(pairs, high), np.zeros(pairs, dtype=np.int64)]
    header = CodesHeader("semanticodec", model, RATE, RATE, length, 15)
    with open(path, "wb") as fo:
        write_ncdc(fo, header, codes)
    return path


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="semanticodec-50-65536"), "not one of the published"),
    (dict(model="../../evil"), "not one of the published"),
    (dict(pairs=7), "do not fit the recorded length"),
    (dict(high=16384), "outside SemantiCodec's vocabularies"),
])
def test_files_outside_the_published_settings_are_refused_before_the_package_loads(
        standin, tmp_path, kwargs, message):
    path = write_tokens(tmp_path / "bad.semanticodec", **kwargs)
    result = run_helper(DECODE, path, tmp_path / "out.wav", env=standin)
    assert (result.returncode, result.stdout) == (4, "")
    assert_one_line_error(result.stderr, DECODE, str(path), message)
    assert calls(standin) == []
    assert not (tmp_path / "out.wav").exists()


def test_a_rate_the_package_does_not_run_at_is_refused(standin, write_wav, tmp_path):
    result = run_helper(ENCODE, write_wav(make_signal(24000, 24000), 24000),
                        tmp_path / "out.semanticodec", env=standin)
    assert result.returncode == 4
    assert_one_line_error(result.stderr, ENCODE, "24000 Hz", "16000 Hz")
