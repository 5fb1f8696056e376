"""Chunked model runs and the batch machinery of the helpers.

SnacRunner and EncodecRunner cut long inputs into chunks with context on each side; these tests
cut short inputs into many small chunks (so that several boundaries fall inside them) and
compare with the packages' own whole-file calls on the same random-weight checkpoints:
SNAC's codes must be identical and its decoded audio equal to float rounding; EnCodec, whose
LSTMs see only a bounded past per chunk, must agree to the figures asserted below. Also here:
the position-keyed noise generator, weight-norm folding, the chunking and device options of
the CLIs, their start-up cost (no torch for --help and --info) and `run_batch`.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import decode_ecdc
import encode_ecdc
import neural_codec as nc
from codec_toolkit import mimi_forms
from codec_toolkit.audio import read_raw_audio
from codec_toolkit.encodec import EncodecRunner, load_encodec
from codec_toolkit.errors import EXIT_BATCH, BadInput, CodecFailure
from codec_toolkit.ncdc import CodesHeader, write_ncdc
from codec_toolkit.runtime import (add_run_arguments, configure_torch, fold_weight_norm,
                                   run_options, trim)
from codec_toolkit.snac import SnacRunner, counter_normal, load_snac
from conftest import ROOT, assert_one_line_error, make_signal, read_wav, subprocess_env

pytestmark = pytest.mark.usefixtures("model_cache")

SNAC_24 = "hubertsiuzdak/snac_24khz"
THREADS = ("--threads", "2")
ENCODE = "encode_ecdc.py"
DECODE = "decode_ecdc.py"


def rel_l2(actual: np.ndarray, expected: np.ndarray) -> float:
    """||actual - expected|| / ||expected||; arrays of equal length."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def whole_file_codes(model, samples: np.ndarray) -> list[np.ndarray]:
    """The package's own `model.encode` of the whole input (it pads as it needs)."""
    import torch

    with torch.inference_mode():
        codes = model.encode(torch.from_numpy(np.ascontiguousarray(samples))[None, None])
    return [c[0].numpy() for c in codes]


def chunk_count(runner: SnacRunner, samples: int) -> int:
    return math.ceil(runner.frames_for(samples) / runner.chunk)


@pytest.fixture(scope="module")
def snac_model():
    """snac_model(variant) -> the model through the toolkit's loader (SNAC.from_pretrained on the
    offline hub cache, weight norm folded), as the helpers load it."""
    configure_torch(2)
    return lambda variant: load_snac(f"hubertsiuzdak/snac_{variant}")


# ---------------------------------------------------------------------------------------------
# SNAC: chunked encode gives the whole-file codes

@pytest.mark.parametrize("variant, rate, seconds, chunk_seconds", [
    # 24 kHz: 6 chunks of 16 latent frames (0.34 s), 16 frames of context a side.
    pytest.param("24khz", 24000, 2.0, 0.3, id="24khz"),
    # 32 kHz: 8 chunks of one attention window (32 frames, 0.38 s), two windows of context a
    # side: the windows must line up across chunks.
    pytest.param("32khz", 32000, 3.0, 0.4, id="32khz"),
])
def test_snac_chunked_encode_gives_the_codes_of_the_models_own_whole_file_encode(
        variant, rate, seconds, chunk_seconds, snac_model):
    model = snac_model(variant)
    samples = make_signal(int(seconds * rate) + 123, rate, seed=11)
    runner = SnacRunner(model, chunk_seconds)
    assert chunk_count(runner, len(samples)) >= 6  # many boundaries inside the input
    # and middle chunks lose context on both sides
    assert runner.chunk + 2 * runner.encoder_margin < runner.frames_for(len(samples))

    chunked = runner.encode(samples)
    whole = whole_file_codes(model, samples)
    assert [len(c) for c in chunked] == [len(c) for c in whole]
    for level, (ours, theirs) in enumerate(zip(chunked, whole, strict=True)):
        np.testing.assert_array_equal(ours, theirs, err_msg=f"level {level}")


# ---------------------------------------------------------------------------------------------
# SNAC: chunked decode equals a whole-file decode, whatever the chunk size

SNAC24_DECODE_FRAMES = 128  # latent frames: 2.73 s, 32 units of 4 frames


@pytest.fixture(scope="module")
def snac24_decodes(snac_model):
    """decode(chunk_seconds) -> samples [T] of SnacRunner.decode of fixed random snac_24khz codes
    (2.73 s); each chunk size is decoded once per module. 3600 s is a single whole-file call."""
    model = snac_model("24khz")
    rng = np.random.default_rng(21)
    codes = [rng.integers(0, 4096, size=SNAC24_DECODE_FRAMES // s) for s in (4, 2, 1)]
    done: dict[float, np.ndarray] = {}

    def decode(chunk_seconds: float) -> np.ndarray:
        if chunk_seconds not in done:
            runner = SnacRunner(model, chunk_seconds)
            done[chunk_seconds] = np.concatenate(list(runner.decode(codes)))
        return done[chunk_seconds]

    return decode


@pytest.mark.parametrize("chunk_seconds", [0.3, 0.6])
def test_snac_chunked_decode_equals_a_whole_file_decode_to_float_rounding(chunk_seconds,
                                                                          snac24_decodes,
                                                                          record_property):
    whole = snac24_decodes(3600)
    chunked = snac24_decodes(chunk_seconds)
    assert len(whole) == SNAC24_DECODE_FRAMES * 512
    model = load_snac(SNAC_24)
    assert SnacRunner(model, 3600).chunk >= SNAC24_DECODE_FRAMES  # one call: the whole file
    runner = SnacRunner(model, chunk_seconds)
    # middle chunks lose context on both sides
    assert runner.chunk + 2 * runner.decoder_margin < SNAC24_DECODE_FRAMES
    # Not bit-exact: convolutions over other lengths sum in another order (about 5e-7 here).
    error = rel_l2(chunked, whole)
    record_property("decode_rel_l2", error)
    print(f"SNAC decode in {chunk_seconds} s chunks vs whole file, relative L2: {error:.3g}")
    assert error < 1e-5


def test_snac_decoded_audio_does_not_depend_on_the_chunk_size(snac24_decodes):
    small, large = snac24_decodes(0.3), snac24_decodes(0.6)
    assert len(small) == len(large)
    assert rel_l2(small, large) < 1e-5


def test_the_32khz_decoder_needs_one_attention_window_of_margin_not_two(snac_model):
    # Its head (a 7-tap depthwise and a 1x1 convolution before the attention) is given its
    # own 3 frames of context on each side, so the attention's first and last windows in a
    # chunk see what they see in a whole-file decode (tests/test_models.py decodes in chunks).
    runner = SnacRunner(snac_model("32khz"))
    assert runner.head == (2, 3)
    assert runner.decoder_margin == runner.unit == 32


@pytest.mark.parametrize("variant", ["24khz", "32khz"])
def test_snac_runs_every_chunk_over_a_window_of_one_length_with_its_context(variant,
                                                                          snac_model):
    """One window length per input: a call at a new length sets oneDNN up again."""
    runner = SnacRunner(snac_model(variant), 0.4)
    for margin in (runner.encoder_margin, runner.decoder_margin):
        size = runner.chunk + 2 * margin
        for frames in range(runner.unit, 6 * size, runner.unit):
            spans = list(runner._spans(frames, margin))
            kept = [frame for start, stop, _, _ in spans for frame in range(start, stop)]
            assert kept == list(range(frames))
            assert len(spans) == max(1, math.ceil((frames - 2 * margin) / runner.chunk))
            for start, stop, lo, hi in spans:
                assert hi - lo == min(size, frames) and 0 <= lo and hi <= frames
                assert lo % runner.unit == 0  # attention windows line up with the file's
                assert start - lo >= min(margin, start)
                assert hi - stop >= min(margin, frames - stop)


# ---------------------------------------------------------------------------------------------
# The helpers' raw input, read span by span

def test_raw_audio_slices_read_what_a_whole_file_read_gives(tmp_path):
    samples = np.random.default_rng(3).standard_normal(10_001).astype("<f4")
    path = tmp_path / "in.f32"
    samples.tofile(path)
    raw = read_raw_audio(str(path))
    assert len(raw) == len(samples)
    for lo, hi in ((0, 1), (0, 10_001), (4096, 8192), (9_999, 20_000), (10_001, 10_500)):
        np.testing.assert_array_equal(raw[lo:hi], samples[lo:hi])
    assert raw[5:5].shape == (0,)
    np.testing.assert_array_equal(np.asarray(raw), samples)


# ---------------------------------------------------------------------------------------------
# counter_normal: the decoder noise

@pytest.mark.parametrize("start, count", [(0, 1), (0, 777), (1, 1000), (4095, 3), (9000, 1000)])
def test_counter_normal_of_any_segment_is_the_slice_of_a_longer_stream(start, count):
    stream = counter_normal(7, 0, 10_000)
    segment = counter_normal(7, start, count)
    assert segment.dtype == np.float32 and segment.shape == (count,)
    assert segment.tobytes() == stream[start:start + count].tobytes()


def test_counter_normal_depends_on_key_and_position_only_not_on_call_order():
    far = counter_normal(2, 10**12, 100)
    counter_normal(2, 0, 5000)  # no state carries from one call to the next
    assert counter_normal(2, 10**12, 100).tobytes() == far.tobytes()
    assert counter_normal(2, 10**12 + 40, 60).tobytes() == far[40:].tobytes()
    assert not np.array_equal(counter_normal(3, 10**12, 100), far)  # another key
    assert not np.array_equal(counter_normal(2, 10**12 + 1, 100), far)  # another position


def test_counter_normal_is_standard_normal_over_1e5_samples():
    values = counter_normal(0, 123_456, 100_000).astype(np.float64)
    assert np.isfinite(values).all()
    assert abs(values.mean()) < 0.015  # standard error 0.003
    assert abs(values.std() - 1) < 0.01
    assert abs(np.mean(np.abs(values) < 1) - 0.6827) < 0.01  # the one-sigma mass
    assert abs(np.mean(np.abs(values) < 2) - 0.9545) < 0.005


# ---------------------------------------------------------------------------------------------
# EnCodec in chunks

# 2.2 s chunks over 3 s: the second chunk starts 2.2 s in, so its LSTMs start afresh 2 s before
# it (CONTEXT_FRAMES) instead of at the beginning, as a whole-file run's do.
ENCODEC_CHUNK_SECONDS = 2.2
ENCODEC_SAMPLES = 3 * 24000 + 57


@pytest.fixture(scope="module")
def encodec_runs():
    """Whole-file and chunked EnCodec 24 kHz runs at 6 kbps on the same 3 s: a dict of codes
    [K, F] ('whole', 'chunked'), audio [F x 320] ('whole_wav', and 'chunked_wav' decoded in
    chunks from the whole-file codes) and 'cut', the first frame whose chunk lost context."""
    import torch

    configure_torch(2)
    model = load_encodec(6.0)
    samples = make_signal(ENCODEC_SAMPLES, seed=4)
    runner = EncodecRunner(model, chunk_seconds=ENCODEC_CHUNK_SECONDS)
    frames = math.ceil(ENCODEC_SAMPLES / 320)
    assert runner.chunk < frames and runner.chunk > mimi_forms.CONTEXT_FRAMES
    with torch.inference_mode():
        [(whole, _)] = model.encode(torch.from_numpy(samples)[None, None])
        whole_wav = model.decode([(whole, None)])[0, 0].numpy()
    return {"whole": whole[0].numpy(), "chunked": runner.encode(samples).numpy(),
            "whole_wav": whole_wav, "chunked_wav": np.concatenate(list(runner.decode(whole[0]))),
            "cut": runner.chunk}


def test_encodec_chunked_encode_agrees_with_a_whole_file_encode(encodec_runs, record_property):
    whole, chunked, cut = encodec_runs["whole"], encodec_runs["chunked"], encodec_runs["cut"]
    assert chunked.shape == whole.shape == (8, math.ceil(ENCODEC_SAMPLES / 320))
    agreement = float(np.mean(chunked == whole))
    agreement_cut = float(np.mean(chunked[:, cut:] == whole[:, cut:]))
    record_property("code_agreement", agreement)
    record_property("code_agreement_after_cut", agreement_cut)
    print(f"EnCodec chunked vs whole-file code agreement: {agreement:.6f} overall, "
          f"{agreement_cut:.6f} in the chunk that lost context")
    np.testing.assert_array_equal(chunked[:, :cut], whole[:, :cut])  # the first chunk is whole
    assert agreement >= 0.99


def test_encodec_chunked_decode_agrees_with_a_whole_file_decode(encodec_runs, record_property):
    error = rel_l2(encodec_runs["chunked_wav"], encodec_runs["whole_wav"])
    record_property("decode_rel_l2", error)
    print(f"EnCodec chunked vs whole-file decode, relative L2: {error:.3g}")
    assert error < 1e-3


# ---------------------------------------------------------------------------------------------
# trim

@pytest.mark.parametrize("length", [0, 1, 3, 4, 7, 10])
def test_trim_yields_exactly_the_first_length_samples(length):
    chunks = [np.arange(0, 4), np.arange(4, 8), np.arange(8, 10)]
    trimmed = list(trim(iter(chunks), length))
    assert np.concatenate([np.arange(0)] + trimmed).tolist() == list(range(length))
    assert all(len(chunk) for chunk in trimmed)  # no empty chunk at the end


def test_trim_ends_an_endless_stream_of_chunks():
    def endless():
        while True:
            yield np.ones(10, dtype=np.float32)

    assert sum(len(chunk) for chunk in trim(endless(), 25)) == 25


# ---------------------------------------------------------------------------------------------
# Weight-norm folding

def test_folding_weight_norm_leaves_snac_outputs_unchanged():
    import torch
    from snac import SNAC
    from torch.nn.utils import parametrize

    plain = SNAC.from_pretrained(SNAC_24).eval()
    folded = SNAC.from_pretrained(SNAC_24).eval()
    assert any(parametrize.is_parametrized(m) for m in plain.modules())
    fold_weight_norm(folded)
    assert not any(parametrize.is_parametrized(m) for m in folded.modules())

    x = torch.from_numpy(make_signal(4000, seed=8))[None, None]
    with torch.inference_mode():
        codes_plain, codes_folded = plain.encode(x), folded.encode(x)
        for a, b in zip(codes_plain, codes_folded, strict=True):
            assert torch.equal(a, b)
        torch.manual_seed(5)  # the package's own noise, drawn the same for both
        wav_plain = plain.decode(codes_plain)
        torch.manual_seed(5)
        wav_folded = folded.decode(codes_folded)
    # The folded weights are the very tensors the parametrisation computes on each call.
    assert torch.equal(wav_folded, wav_plain)


def test_folding_weight_norm_leaves_encodec_codes_unchanged():
    import warnings

    import torch
    from encodec import EncodecModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        plain, folded = EncodecModel.encodec_model_24khz(), EncodecModel.encodec_model_24khz()
    assert any(hasattr(m, "weight_g") for m in plain.modules())
    fold_weight_norm(folded)
    assert not any(hasattr(m, "weight_g") for m in folded.modules())

    x = torch.from_numpy(make_signal(12_000, seed=9))[None, None]
    with torch.inference_mode():
        [(a, _)], [(b, _)] = plain.encode(x), folded.encode(x)
    assert torch.equal(a, b)


def test_skipping_encodecs_empty_padding_leaves_codes_and_audio_unchanged():
    import warnings

    import torch
    from encodec import EncodecModel

    from codec_toolkit.encodec import skip_empty_padding

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        plain, skipping = EncodecModel.encodec_model_24khz(), EncodecModel.encodec_model_24khz()
    for model in (plain, skipping):
        fold_weight_norm(model)
        model.set_target_bandwidth(6.0)
    # 8 in each network: every residual block's second convolution and its shortcut.
    assert skip_empty_padding(skipping) == 16
    x = torch.from_numpy(make_signal(12_000 + 77, seed=4))[None, None]
    with torch.inference_mode():
        [(a, _)], [(b, _)] = plain.encode(x), skipping.encode(x)
        assert torch.equal(a, b)
        assert torch.equal(plain.decode([(a, None)]), skipping.decode([(a, None)]))


# ---------------------------------------------------------------------------------------------
# The CLIs' run options

def test_chunk_seconds_0_2_writes_the_same_snac_bytes_and_decodes_alike(write_wav, tmp_path):
    wav = write_wav(make_signal(int(0.6 * 24000) + 5, seed=2))
    for name, extra in (("default", ()), ("chunked", ("--chunk-seconds", "0.2"))):
        assert encode_ecdc.main([*THREADS, *extra, wav, str(tmp_path / f"{name}.snac")]) == 0
        assert decode_ecdc.main([*THREADS, *extra, str(tmp_path / "default.snac"),
                                 str(tmp_path / f"{name}.wav")]) == 0
    assert (tmp_path / "chunked.snac").read_bytes() == (tmp_path / "default.snac").read_bytes()
    default, _ = read_wav(tmp_path / "default.wav")
    chunked, _ = read_wav(tmp_path / "chunked.wav")
    assert rel_l2(chunked, default) < 1e-5


def snac_file(path) -> str:
    rng = np.random.default_rng(0)
    with open(path, "wb") as fo:
        write_ncdc(fo, CodesHeader("snac", SNAC_24, 24000, 24000, 6000, 12),
                   [rng.integers(0, 4096, size=3 * k) for k in (1, 2, 4)])
    return str(path)


@pytest.mark.parametrize("value", ["0", "nan"])
@pytest.mark.parametrize("main, prog", [(encode_ecdc.main, ENCODE), (decode_ecdc.main, DECODE)],
                         ids=["encode", "decode"])
def test_chunk_seconds_of_zero_or_nan_is_a_bad_value_exit_5(main, prog, value, signal,
                                                            write_wav, cli, tmp_path):
    source = write_wav(signal) if main is encode_ecdc.main else snac_file(tmp_path / "x.snac")
    rc, out, err = cli(main, *THREADS, "--chunk-seconds", value, source, tmp_path / "out.snac")
    assert (rc, out) == (5, "")
    assert_one_line_error(err, prog, "--chunk-seconds", value)
    assert not (tmp_path / "out.snac").exists()


@pytest.mark.parametrize("main, prog", [(encode_ecdc.main, ENCODE), (decode_ecdc.main, DECODE)],
                         ids=["encode", "decode"])
def test_device_cuda_without_a_gpu_is_a_missing_dependency_exit_3(main, prog, signal, write_wav,
                                                                  cli, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    source = write_wav(signal) if main is encode_ecdc.main else snac_file(tmp_path / "x.snac")
    rc, out, err = cli(main, *THREADS, "--device", "cuda", source, tmp_path / "out.snac")
    assert (rc, out) == (3, "")
    assert_one_line_error(err, prog, "cuda", "no CUDA GPU")
    assert not (tmp_path / "out.snac").exists()


def _parse_run_options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args([*THREADS, *argv])


@pytest.mark.parametrize("seconds", ["0.1", "3600"])
def test_run_options_accept_the_chunk_seconds_bounds(seconds):
    opts = run_options(_parse_run_options("--chunk-seconds", seconds), None)
    assert opts["chunk_seconds"] == float(seconds)
    assert opts["device"] == "cpu" and opts["progress"] is None


def test_run_options_give_no_progress_bar_when_stderr_is_not_a_terminal():
    assert run_options(_parse_run_options(), 10**6)["progress"] is None


# ---------------------------------------------------------------------------------------------
# Start-up cost: --help and --info never import torch

def imported_modules(*argv: str) -> set[str]:
    """Top-level names of the modules a helper imports, from `python -X importtime`."""
    result = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    assert "neural_codec" in names  # the helper really ran through the codec layer
    return names


@pytest.mark.parametrize("argv", [
    pytest.param((ENCODE, "--help"), id="encode --help"),
    pytest.param((DECODE, "--help"), id="decode --help"),
    pytest.param((DECODE, "--info", "SNAC"), id="decode --info"),
    pytest.param((ENCODE, "--version"), id="encode --version"),
    pytest.param((DECODE, "--version"), id="decode --version"),
])
def test_help_and_info_run_without_importing_torch_or_the_models(argv, tmp_path):
    argv = tuple(snac_file(tmp_path / "x.snac") if a == "SNAC" else a for a in argv)
    heavy = {"torch", "snac", "encodec", "onnxruntime", "torchaudio"} & imported_modules(*argv)
    assert heavy == set()


@pytest.mark.parametrize("helper", [ENCODE, DECODE])
@pytest.mark.parametrize("prog", [None, "compress_audio.sh"])
def test_version_is_the_program_name_and_the_toolkits_version(helper, prog):
    result = subprocess.run([sys.executable, helper, "--version"], cwd=ROOT, capture_output=True,
                            text=True, env=subprocess_env(NEURAL_CODEC_PROG=prog), timeout=60)
    version = (ROOT / "VERSION").read_text().strip()
    assert version.count(".") == 2
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"{prog or helper} {version}\n", "")


def test_compress_audio_help_takes_well_under_a_second():
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run([str(ROOT / "compress_audio.sh"), "--help"], capture_output=True,
                                text=True, env=subprocess_env(), timeout=30)
        times.append(time.perf_counter() - start)
        assert result.returncode == 0 and result.stdout.startswith("Usage: compress_audio.sh")
    assert min(times) < 0.5, times


# ---------------------------------------------------------------------------------------------
# run_batch: a failing item is reported and skipped

def write_list(path, *lines: tuple[str, ...]) -> str:
    path.write_text("".join("\t".join(fields) + "\n" for fields in lines), encoding="utf-8")
    return str(path)


def test_run_batch_reports_a_failing_item_on_one_line_and_completes_the_others(capsys,
                                                                             tmp_path):
    listing = write_list(tmp_path / "list", ("a.in", "a.out", "first.wav"),
                         ("b.in", "b.out", "second clip.wav"), ("c.in", "c.out", "third.wav"))
    done = []

    def one(fields):
        if fields[0] == "b.in":
            raise BadInput("cannot read audio")
        done.append(fields)
        return "extra"

    assert nc.run_batch("prog.sh", listing, one) == EXIT_BATCH == 8
    out, err = capsys.readouterr()
    assert out == "0\textra\n4\t\n0\textra\n"  # one answer a line: exit code, what one said
    assert err == "prog.sh: second clip.wav: cannot read audio\n"
    assert done == [["a.in", "a.out", "first.wav"], ["c.in", "c.out", "third.wav"]]


def test_run_batch_returns_0_when_every_item_succeeds(capsys, tmp_path):
    listing = write_list(tmp_path / "list", ("a", "one"), ("b", "two"))
    done = []
    assert nc.run_batch("prog.sh", listing, lambda fields: done.append(fields) or "") == 0
    assert done == [["a", "one"], ["b", "two"]]
    assert capsys.readouterr() == ("0\t\n0\t\n", "")


def test_run_batch_counts_every_failure_and_still_runs_each_item(capsys, tmp_path):
    listing = write_list(tmp_path / "list", *[(f"{i}.in", f"clip{i}.wav") for i in range(5)])
    seen = []

    def one(fields):
        seen.append(fields[-1])
        if fields[0] in ("0.in", "3.in"):
            raise CodecFailure("model failed")
        return ""

    assert nc.run_batch("prog.sh", listing, one) == 8
    assert seen == [f"clip{i}.wav" for i in range(5)]
    assert capsys.readouterr().err.splitlines() == ["prog.sh: clip0.wav: model failed",
                                                    "prog.sh: clip3.wav: model failed"]


def test_run_batch_of_an_unreadable_list_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="missing.list"):
        nc.run_batch("prog.sh", str(tmp_path / "missing.list"), lambda fields: None)


def test_run_batch_reports_an_unexpected_error_by_name_and_still_runs_the_rest(capsys,
                                                                             tmp_path):
    listing = write_list(tmp_path / "list", ("a.in", "first.wav"), ("b.in", "second.wav"),
                         ("c.in", "third.wav"))
    done = []

    def one(fields):
        if fields[0] == "b.in":
            raise RuntimeError("boom")
        done.append(fields[-1])

    rc = nc.run_batch("prog.sh", listing, one)
    assert done == ["first.wav", "third.wav"]
    assert rc == 8
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("prog.sh: second.wav: ")


def test_run_batch_answers_each_line_of_a_fifo_before_the_next_is_written(tmp_path):
    # A batch worker writes one request and waits for its answer: the helper must not wait for
    # the end of the list.
    fifo = tmp_path / "requests"
    os.mkfifo(fifo)
    script = ("import sys, neural_codec as nc\n"
              "sys.exit(nc.run_batch('prog.sh', sys.argv[1], lambda f: f[0].upper()))\n")
    helper = subprocess.Popen([sys.executable, "-c", script, str(fifo)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    with open(fifo, "w") as requests:
        for word in ("one", "two"):
            requests.write(f"{word}\tname\n")
            requests.flush()
            assert helper.stdout.readline() == f"0\t{word.upper()}\n"
    assert helper.wait(timeout=30) == 0
