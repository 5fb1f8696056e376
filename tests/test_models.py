"""The helpers end to end through the real model loaders (SNAC.from_pretrained, encodec's
pretrained loader) on random-weight checkpoints of the real architectures, and their CLI errors.

References are the packages' own calls on the same inputs: `model.encode` / `model.decode` for
SNAC (with the toolkit's position-keyed decoder noise), `encodec.compress` / `encodec.decompress`
for .ecdc. Audio is kept short (0.5 to 2 s) so the whole module runs in well under a minute.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest

import decode_ecdc
import encode_ecdc
from codec_toolkit import audio
from codec_toolkit.binary import MAX_SAMPLES
from codec_toolkit.ecdc import EcdcHeader, write_ecdc_header
from codec_toolkit.errors import EXIT_BAD_VALUE, CodecFailure
from codec_toolkit.ncdc import CodesHeader, read_ncdc, write_ncdc
from codec_toolkit.snac import SnacRunner, counter_normal
from conftest import (RATE, ROOT, assert_one_line_error, make_signal, read_wav,
                      subprocess_env)

pytestmark = pytest.mark.usefixtures("model_cache")

SNAC_24 = "hubertsiuzdak/snac_24khz"
THREADS = ("--threads", "2")
ENCODE = "encode_ecdc.py"
DECODE = "decode_ecdc.py"


def encode(*argv) -> None:
    assert encode_ecdc.main([*THREADS, *map(str, argv)]) == 0


def decode(*argv) -> None:
    assert decode_ecdc.main([*THREADS, *map(str, argv)]) == 0


def read_ncdc_file(path):
    with open(path, "rb") as fo:
        return read_ncdc(fo)


def ecdc_parts(data: bytes) -> tuple[dict, bytes]:
    """(JSON header, payload) of .ecdc bytes."""
    magic, version, size = struct.unpack("!4sBI", data[:9])
    assert (magic, version) == (b"ECDC", 0)
    return json.loads(data[9:9 + size]), data[9 + size:]


def write_ncdc_file(path, header: CodesHeader, codes) -> str:
    with open(path, "wb") as fo:
        write_ncdc(fo, header, codes)
    return str(path)


def random_snac24_codes(frames_of_coarsest: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Valid snac_24khz codes: levels of n, 2n, 4n codes below 4096 (4n x 512 samples)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 4096, size=frames_of_coarsest * k) for k in (1, 2, 4)]


# ---------------------------------------------------------------------------------------------
# SNAC

@pytest.fixture(scope="module")
def snac24_model():
    """snac_24khz through the package's own loader and the offline hub cache."""
    from snac import SNAC

    return SNAC.from_pretrained(SNAC_24)


@pytest.fixture(scope="module")
def snac24_file(tmp_path_factory):
    """(signal, WAV path, .snac path) for one encode of 1 s + 123 samples at 24 kHz."""
    import soundfile

    directory = tmp_path_factory.mktemp("snac24")
    samples = make_signal(RATE + 123)
    wav = directory / "in.wav"
    soundfile.write(str(wav), samples, RATE, subtype="FLOAT")
    encode(wav, directory / "out.snac")
    return samples, wav, directory / "out.snac"


def test_snac_container_records_the_model_rates_and_original_length(snac24_file):
    samples, _, path = snac24_file
    header, codes = read_ncdc_file(path)
    assert header == CodesHeader("snac", SNAC_24, 24000, 24000, len(samples), 12)
    padded = math.ceil(len(samples) / 2048) * 2048
    assert [len(c) for c in codes] == [padded // 512 // s for s in (4, 2, 1)]


def test_snac_encode_writes_the_models_own_codes(snac24_file, snac24_model):
    import torch

    samples, _, path = snac24_file
    with torch.inference_mode():
        expected = snac24_model.encode(torch.from_numpy(samples)[None, None])
    _, codes = read_ncdc_file(path)
    assert len(codes) == len(expected)
    for read, direct in zip(codes, expected):
        np.testing.assert_array_equal(read, direct[0].numpy())


def toolkit_noise_decode(model, codes) -> np.ndarray:
    """The model's own whole-file decode of `codes` [T_i per level] -> samples [T], with the
    decoder noise the toolkit defines for SNAC (NoiseBlocks draw counter_normal(block,
    absolute position), installed on this model instance by SnacRunner)."""
    import torch

    SnacRunner(model)
    with torch.inference_mode():
        return model.decode([torch.from_numpy(np.asarray(c))[None] for c in codes])[0, 0].numpy()


def test_snac_file_decodes_to_the_models_own_decode_of_its_codes(snac24_file, snac24_model,
                                                                  tmp_path):
    samples, _, path = snac24_file
    decode("--backend", "torch", path, tmp_path / "out.wav")
    restored, rate = read_wav(tmp_path / "out.wav")

    _, codes = read_ncdc_file(path)
    direct = toolkit_noise_decode(snac24_model, codes)
    assert rate == 24000
    assert restored.tobytes() == direct[:len(samples)].tobytes()


def package_layer_decode(model, codes, noise=None) -> np.ndarray:
    """An independent reference: the `snac` package's own modules (quantizer, then each decoder
    layer) run one by one on `codes`, with each NoiseBlock's noise supplied by the caller as
    `noise(block, samples)` -> float32 [samples] (block: index of the DecoderBlock), or left out
    when `noise` is None. Nothing of the toolkit's runner is involved. Samples [T]."""
    import torch
    from snac.layers import DecoderBlock, NoiseBlock

    with torch.inference_mode():
        x = model.quantizer.from_codes([torch.from_numpy(np.asarray(c))[None] for c in codes])
        block = 0
        for layer in model.decoder.model:
            if not isinstance(layer, DecoderBlock):
                x = layer(x)
                continue
            for sub in layer.block:
                if not isinstance(sub, NoiseBlock):
                    x = sub(x)
                elif noise is not None:
                    values = torch.from_numpy(noise(block, x.shape[-1]))[None, None]
                    x = x + values * sub.linear(x)
            block += 1
        return x[0, 0].numpy()


@pytest.mark.parametrize("backend", ["torch", "onnx", "compiled"])
def test_snac_decode_adds_the_documented_noise_of_each_decoder_block(snac24_file, backend,
                                                                     tmp_path):
    # The README's noise: counter_normal(block, absolute sample position at that block's output),
    # from position 0 for a whole file. The reference runs the package's layers on a fresh model.
    from snac import SNAC

    samples, _, path = snac24_file
    decode("--backend", backend, path, tmp_path / "out.wav")
    restored, _ = read_wav(tmp_path / "out.wav")

    model = SNAC.from_pretrained(SNAC_24)
    _, codes = read_ncdc_file(path)
    noisy = package_layer_decode(model, codes, lambda block, n: counter_normal(block, 0, n))
    quiet = package_layer_decode(model, codes)
    np.testing.assert_allclose(restored, noisy[:len(samples)], rtol=0, atol=1e-5)
    assert np.abs(restored - quiet[:len(samples)]).max() > 1e-3


@pytest.mark.parametrize("backend", ["onnx", "compiled"])
def test_onnx_and_compiled_decode_match_the_models_own_decode_to_float_rounding(
        snac24_file, snac24_model, backend, tmp_path):
    samples, _, path = snac24_file
    decode("--backend", backend, path, tmp_path / "out.wav")
    restored, _ = read_wav(tmp_path / "out.wav")

    _, codes = read_ncdc_file(path)
    direct = toolkit_noise_decode(snac24_model, codes)[:len(samples)]
    assert np.linalg.norm(restored - direct) / np.linalg.norm(direct) < 1e-5


@pytest.mark.parametrize("backend", ["torch", "onnx", "compiled"])
def test_a_32khz_decode_in_chunks_matches_the_models_own_whole_file_decode(backend, tmp_path):
    # Local attention in the decoder: chunks of one window (32 latent frames) with a margin
    # of one window, so every chunk's first and last windows need the head's context.
    from snac import SNAC

    model_id = "hubertsiuzdak/snac_32khz"
    frames = 256
    rng = np.random.default_rng(8)
    codes = [rng.integers(0, 4096, size=frames // s) for s in (8, 4, 2, 1)]
    length = frames * 384 - 100
    path = write_ncdc_file(tmp_path / "in.snac",
                           CodesHeader("snac", model_id, 32000, 32000, length, 12), codes)
    decode("--backend", backend, "--chunk-seconds", "0.4", path, tmp_path / "out.wav")
    restored, _ = read_wav(tmp_path / "out.wav")

    direct = toolkit_noise_decode(SNAC.from_pretrained(model_id), codes)[:length]
    assert np.linalg.norm(restored - direct) / np.linalg.norm(direct) < 1e-5


@pytest.mark.parametrize("backend", ["onnx", "compiled"])
def test_onnx_and_compiled_encode_give_the_codes_of_the_models_own_encode(
        signal, write_wav, backend, tmp_path):
    wav = write_wav(signal)
    encode("--backend", backend, wav, tmp_path / "fast.snac")
    encode("--backend", "torch", wav, tmp_path / "torch.snac")
    assert (tmp_path / "fast.snac").read_bytes() == (tmp_path / "torch.snac").read_bytes()


def test_snac_decoder_noise_is_a_function_of_block_and_position_only():
    whole = counter_normal(3, 1000, 5000)
    assert whole.dtype == np.float32
    assert counter_normal(3, 3000, 3000).tobytes() == whole[2000:].tobytes()
    assert not np.array_equal(counter_normal(4, 1000, 5000), whole)
    assert abs(float(whole.mean())) < 0.05 and abs(float(whole.std()) - 1) < 0.05


def test_snac_chunked_decode_matches_a_whole_file_decode(snac24_model, tmp_path):
    # 2.2 s of codes in chunks of 16 latent frames, each decoded with 32 frames of context a side.
    codes = random_snac24_codes(frames_of_coarsest=26, seed=5)
    length = 26 * 4 * 512 - 100
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, length, 12), codes)
    decode("--chunk-seconds", "0.35", path, tmp_path / "chunked.wav")
    chunked, _ = read_wav(tmp_path / "chunked.wav")
    whole = toolkit_noise_decode(snac24_model, codes)[:length]
    assert len(chunked) == length
    # Not bit-exact: convolutions over shorter inputs round differently (about 5e-7 here).
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-5)


def test_snac_chunked_encode_writes_the_codes_of_a_whole_file_encode(snac24_model, write_wav,
                                                                     tmp_path):
    import torch

    samples = make_signal(2 * RATE + 77, seed=3)
    encode("--chunk-seconds", "0.35", write_wav(samples), tmp_path / "chunked.snac")
    _, codes = read_ncdc_file(tmp_path / "chunked.snac")
    with torch.inference_mode():
        whole = snac24_model.encode(torch.from_numpy(samples)[None, None])
    for read, direct in zip(codes, whole, strict=True):
        np.testing.assert_array_equal(read, direct[0].numpy())


def test_snac_restores_the_original_length_not_the_padded_one(snac24_file, tmp_path):
    samples, _, path = snac24_file
    decode(path, tmp_path / "out.wav")
    restored, rate = read_wav(tmp_path / "out.wav")
    assert (len(restored), rate) == (len(samples), 24000)
    assert len(samples) % 2048  # the test means something only if padding happened
    assert np.isfinite(restored).all() and np.abs(restored).max() > 0


def test_snac_decoding_gives_byte_identical_files_every_time(snac24_file, tmp_path):
    import torch

    _, _, path = snac24_file
    decode(path, tmp_path / "first.wav")
    torch.manual_seed(12345)  # whatever torch's global generator holds must not matter,
    torch.rand(1000)
    time.sleep(1.1)  # nor when the file is written (libsndfile's PEAK chunk holds a time)
    decode(path, tmp_path / "second.wav")
    assert (tmp_path / "first.wav").read_bytes() == (tmp_path / "second.wav").read_bytes()


def test_snac_decoding_in_a_fresh_process_gives_the_same_bytes(snac24_file, tmp_path):
    _, _, path = snac24_file
    decode(path, tmp_path / "here.wav")
    subprocess.run([sys.executable, str(ROOT / DECODE), *THREADS, str(path),
                    str(tmp_path / "there.wav")], check=True, capture_output=True,
                   env=subprocess_env())
    assert (tmp_path / "here.wav").read_bytes() == (tmp_path / "there.wav").read_bytes()


def test_snac_decoding_with_another_thread_count_differs_only_by_rounding(snac24_file, tmp_path):
    _, _, path = snac24_file
    decode(path, tmp_path / "two.wav")
    assert decode_ecdc.main(["--threads", "1", str(path), str(tmp_path / "one.wav")]) == 0
    np.testing.assert_allclose(read_wav(tmp_path / "one.wav")[0],
                               read_wav(tmp_path / "two.wav")[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("variant, rate", [("32khz", 32000), ("44khz", 44100)])
def test_snac_variant_round_trip_keeps_rate_and_length(variant, rate, write_wav, tmp_path):
    model = f"hubertsiuzdak/snac_{variant}"
    samples = make_signal(int(rate * 0.6) + 7, rate)
    wav = write_wav(samples, rate)
    encode("--model", model, "--sample-rate", rate, "--source-rate", 48000,
           wav, tmp_path / "out.snac")

    header, codes = read_ncdc_file(tmp_path / "out.snac")
    assert (header.model, header.sample_rate, header.source_rate, header.length) == \
        (model, rate, 48000, len(samples))
    padded = math.ceil(len(samples) / 12288) * 12288  # hop 384 x lcm(stride 8, window 32)
    assert [len(c) for c in codes] == [padded // 384 // s for s in (8, 4, 2, 1)]

    decode(tmp_path / "out.snac", tmp_path / "out.wav")
    restored, restored_rate = read_wav(tmp_path / "out.wav")
    assert (len(restored), restored_rate) == (len(samples), rate)
    assert np.isfinite(restored).all()


def test_ncdc_naming_an_unknown_model_is_refused_unless_the_user_names_one(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", "someone/evil_snac", 24000, 24000, 6000, 12), random_snac24_codes())
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "someone/evil_snac")
    assert not (tmp_path / "out.wav").exists()

    rc, out, err = cli(decode_ecdc.main, *THREADS, "--model", SNAC_24, path, tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    assert len(read_wav(tmp_path / "out.wav")[0]) == 6000


def test_ncdc_whose_length_exceeds_its_codes_is_refused(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 6145, 12), random_snac24_codes())  # codes hold 6144
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "6145")


@pytest.mark.parametrize("codes, fragment", [
    pytest.param([np.arange(3), np.arange(6)], "2 code levels", id="levels"),
    pytest.param([np.arange(3), np.arange(6), np.arange(11)], "do not fit", id="counts"),
    pytest.param(random_snac24_codes()[:2] + [np.full(12, 4096)], "codebook", id="code range"),
])
def test_ncdc_whose_codes_do_not_fit_the_model_is_refused(codes, fragment, cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 100, 13), codes)
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, fragment)


def test_ncdc_recording_another_rate_than_its_model_is_refused(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 32000, 24000, 6000, 12), random_snac24_codes())
    rc, _, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, DECODE, "32000")


def test_ncdc_with_empty_code_levels_is_refused_as_bad_input(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 1, 12), [np.array([], dtype=np.int64)] * 3)
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE)


# ---------------------------------------------------------------------------------------------
# EnCodec and the encodec package

@pytest.fixture(scope="module")
def encodec_model():
    """encodec_24khz through encodec's pretrained loader and the offline torch hub cache."""
    import warnings

    from encodec import EncodecModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return EncodecModel.encodec_model_24khz()


def encodec_compress(model, samples: np.ndarray, bitrate: float, use_lm: bool) -> bytes:
    import torch
    from encodec import compress

    model.set_target_bandwidth(bitrate)
    return compress(model, torch.from_numpy(samples)[None], use_lm=use_lm)


def encodec_decompress(data: bytes) -> tuple[np.ndarray, int]:
    from encodec import decompress

    wav, rate = decompress(data)
    assert wav.shape[0] == 1
    return wav[0].numpy(), rate


# encodec's own decompress computes frames as ceil(al / 24000 * 75) in floating point, which
# is one too many for some lengths (6720, 13440, ...); 24123 is not one of them.
ECDC_LENGTH = RATE // 2 + 123
assert math.ceil(ECDC_LENGTH / 24000 * 75) == math.ceil(ECDC_LENGTH / 320)


@pytest.mark.parametrize("use_lm", [False, True], ids=["plain", "lm"])
def test_ecdc_payload_is_byte_identical_to_encodec_compress(use_lm, encodec_model, write_wav,
                                                            tmp_path):
    samples = make_signal(ECDC_LENGTH)
    wav = write_wav(samples)
    encode(*(["--lm"] if use_lm else []), "--bitrate", "3", wav, tmp_path / "out.ecdc")

    ours_meta, ours = ecdc_parts((tmp_path / "out.ecdc").read_bytes())
    theirs_meta, theirs = ecdc_parts(encodec_compress(encodec_model, samples, 3.0, use_lm))
    assert ours_meta == {**theirs_meta, "sr": 24000}
    assert theirs_meta == {"m": "encodec_24khz", "al": ECDC_LENGTH, "nc": 4, "lm": use_lm}
    assert ours == theirs


@pytest.mark.parametrize("use_lm", [False, True], ids=["plain", "lm"])
def test_ecdc_written_by_encode_ecdc_decodes_with_encodec_decompress(use_lm, write_wav,
                                                                     tmp_path):
    wav = write_wav(make_signal(ECDC_LENGTH))
    encode(*(["--lm"] if use_lm else []), "--source-rate", 44100, wav, tmp_path / "out.ecdc")
    theirs, rate = encodec_decompress((tmp_path / "out.ecdc").read_bytes())
    assert (len(theirs), rate) == (ECDC_LENGTH, 24000)

    decode(tmp_path / "out.ecdc", tmp_path / "out.wav")
    ours, our_rate = read_wav(tmp_path / "out.wav")
    assert (len(ours), our_rate) == (ECDC_LENGTH, 24000)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_decode_reply_gives_the_source_rate_and_length_of_the_same_wav(write_wav, tmp_path):
    wav = write_wav(make_signal(ECDC_LENGTH))
    encode("--source-rate", 44100, wav, tmp_path / "in.ecdc")
    decode(tmp_path / "in.ecdc", tmp_path / "plain.wav")
    decode("--reply", tmp_path / "reply", tmp_path / "in.ecdc", tmp_path / "out.wav")
    assert (tmp_path / "reply").read_text() == f"44100\t{ECDC_LENGTH * 1000 // 24000}\n"
    assert (tmp_path / "out.wav").read_bytes() == (tmp_path / "plain.wav").read_bytes()


@pytest.mark.parametrize("option", ["--info", "--codes"])
def test_decode_reply_with_info_or_codes_is_a_usage_error(option, cli, tmp_path):
    rc, out, err = cli(decode_ecdc.main, "--reply", tmp_path / "reply", option,
                       tmp_path / "x.snac", tmp_path / "x.npz")
    assert (rc, out) == (2, "")
    assert_one_line_error(err, DECODE, "--reply goes with decoding one INPUT")
    assert not (tmp_path / "reply").exists()


@pytest.mark.parametrize("use_lm", [False, True], ids=["plain", "lm"])
def test_ecdc_written_by_encodec_compress_decodes_with_decode_ecdc(use_lm, encodec_model, cli,
                                                                   tmp_path):
    data = encodec_compress(encodec_model, make_signal(ECDC_LENGTH), 6.0, use_lm)
    (tmp_path / "theirs.ecdc").write_bytes(data)
    theirs, _ = encodec_decompress(data)

    rc, out, err = cli(decode_ecdc.main, *THREADS, tmp_path / "theirs.ecdc", tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    ours, rate = read_wav(tmp_path / "out.wav")
    assert (len(ours), rate) == (ECDC_LENGTH, 24000)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)

    rc, out, _ = cli(decode_ecdc.main, "--info", tmp_path / "theirs.ecdc")
    assert rc == 0
    for line in ("codec=encodec", "source_rate=24000", f"samples={ECDC_LENGTH}", "codebooks=8",
                 f"bytes={len(data)}", f"lm={int(use_lm)}"):
        assert f"{line}\n" in out


def test_lm_and_plain_ecdc_decode_to_the_same_audio(write_wav, tmp_path):
    wav = write_wav(make_signal(RATE // 2))
    encode(wav, tmp_path / "plain.ecdc")
    encode("--lm", wav, tmp_path / "lm.ecdc")
    decode(tmp_path / "plain.ecdc", tmp_path / "plain.wav")
    decode(tmp_path / "lm.ecdc", tmp_path / "lm.wav")
    plain, lm = read_wav(tmp_path / "plain.wav")[0], read_wav(tmp_path / "lm.wav")[0]
    assert plain.tobytes() == lm.tobytes()


@pytest.mark.parametrize("bitrate, codebooks", [("1.5", 2), ("3", 4), ("6", 8), ("12", 16),
                                                ("24", 32)])
def test_every_encodec_bitrate_gives_its_codebook_count(bitrate, codebooks, write_wav, tmp_path):
    length = RATE // 4 + 1
    encode("--bitrate", bitrate, write_wav(make_signal(length)), tmp_path / "out.ecdc")
    meta, payload = ecdc_parts((tmp_path / "out.ecdc").read_bytes())
    assert (meta["nc"], meta["al"]) == (codebooks, length)
    assert len(payload) == math.ceil(math.ceil(length / 320) * codebooks * 10 / 8)


def test_ecdc_for_another_encodec_model_is_refused(cli, tmp_path):
    meta = json.dumps({"m": "encodec_48khz", "al": 480, "nc": 4, "lm": False}).encode()
    (tmp_path / "x.ecdc").write_bytes(struct.pack("!4sBI", b"ECDC", 0, len(meta)) + meta +
                                      bytes(10))
    rc, out, err = cli(decode_ecdc.main, tmp_path / "x.ecdc", tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "encodec_48khz")


def test_truncated_lm_ecdc_is_refused(write_wav, cli, tmp_path):
    encode("--lm", write_wav(make_signal(RATE // 2)), tmp_path / "lm.ecdc")
    data = (tmp_path / "lm.ecdc").read_bytes()
    (tmp_path / "cut.ecdc").write_bytes(data[:len(data) // 2])
    rc, out, err = cli(decode_ecdc.main, tmp_path / "cut.ecdc", tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "end early")


def test_lm_ecdc_claiming_an_implausible_length_is_refused_as_bad_input(cli, tmp_path):
    meta = json.dumps({"m": "encodec_24khz", "al": MAX_SAMPLES, "nc": 32,
                       "lm": True}).encode()
    (tmp_path / "x.ecdc").write_bytes(struct.pack("!4sBI", b"ECDC", 0, len(meta)) + meta +
                                      b"\x12\x34\x56")
    rc, out, err = cli(decode_ecdc.main, tmp_path / "x.ecdc", tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE)


# ---------------------------------------------------------------------------------------------
# CLI behaviour

def run_helper(script: str, *argv, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, argv)],
                          capture_output=True, text=True, env=subprocess_env(**env), timeout=120)


@pytest.mark.parametrize("direction", ["encode", "decode"])
def test_missing_snac_model_exits_3_naming_the_model(direction, signal, write_wav, tmp_path):
    empty = tmp_path / "empty-hf-home"
    empty.mkdir()
    if direction == "encode":
        argv = (ENCODE, write_wav(signal), tmp_path / "out.snac")
    else:
        argv = (DECODE, write_ncdc_file(tmp_path / "in.snac", CodesHeader(
            "snac", SNAC_24, 24000, 24000, 6000, 12), random_snac24_codes()),
            tmp_path / "out.wav")
    result = run_helper(*argv, HF_HOME=str(empty), HF_HUB_OFFLINE="1")
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, argv[0], SNAC_24)
    assert not (tmp_path / "out.snac").exists() and not (tmp_path / "out.wav").exists()


def test_missing_encodec_weights_exit_3_naming_the_checkpoint(signal, write_wav, tmp_path):
    empty = tmp_path / "empty-torch-home"
    empty.mkdir()
    # A proxy that refuses connections keeps this offline even where a network exists.
    proxy = "http://127.0.0.1:9"
    result = run_helper(ENCODE, write_wav(signal), tmp_path / "out.ecdc", TORCH_HOME=str(empty),
                        https_proxy=proxy, HTTPS_PROXY=proxy, http_proxy=proxy,
                        HTTP_PROXY=proxy, no_proxy=None, NO_PROXY=None)
    assert (result.returncode, result.stdout) == (3, "")
    last = result.stderr.splitlines()[-1]
    assert_one_line_error(last, ENCODE, "encodec_24khz-d7cc33bc.th")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.ecdc").exists()


INFO_SCRIPT = """
import sys
import decode_ecdc
rc = decode_ecdc.main(["--info", sys.argv[1]])
heavy = sorted(m for m in ("torch", "snac", "encodec") if m in sys.modules)
print(",".join(heavy) or "none", file=sys.stderr)
sys.exit(rc)
"""


@pytest.mark.parametrize("kind", ["ecdc", "snac"])
def test_decode_info_prints_key_value_lines_without_importing_torch(kind, tmp_path):
    path = tmp_path / f"x.{kind}"
    if kind == "ecdc":
        with open(path, "wb") as fo:
            write_ecdc_header(fo, EcdcHeader(24123, 8, True, 44100))
            fo.write(b"\0" * 20)
        expected = {"container": "ecdc", "codec": "encodec", "model": "encodec_24khz",
                    "sample_rate": "24000", "source_rate": "44100", "samples": "24123",
                    "duration": "1.005", "codebooks": "8", "bytes": str(path.stat().st_size),
                    "kbps": f"{path.stat().st_size * 8 / (24123 / 24000) / 1000:.2f}",
                    "lm": "1"}
    else:
        write_ncdc_file(path, CodesHeader("snac", SNAC_24, 24000, 22050, 6000, 12),
                        random_snac24_codes())
        expected = {"container": "snac", "codec": "snac", "model": SNAC_24,
                    "sample_rate": "24000", "source_rate": "22050", "samples": "6000",
                    "duration": "0.250", "levels": "3", "bytes": str(path.stat().st_size),
                    "kbps": f"{path.stat().st_size * 8 / 0.25 / 1000:.2f}", "bits": "12"}
    result = subprocess.run([sys.executable, "-c", INFO_SCRIPT, str(path)], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "none"
    lines = result.stdout.splitlines()
    assert all(line.count("=") >= 1 and " " not in line.split("=")[0] for line in lines)
    assert dict(line.split("=", 1) for line in lines) == expected


def test_decode_info_of_a_corrupt_file_exits_4(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 6000, 12), random_snac24_codes())
    data = bytearray((tmp_path / "x.snac").read_bytes())
    data[20] ^= 0x10
    (tmp_path / "x.snac").write_bytes(bytes(data))
    rc, out, err = cli(decode_ecdc.main, "--info", path)
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "checksum")


@pytest.mark.parametrize("content", [b"", b"RIFF\0\0\0\0WAVE", b"hello world"])
def test_decode_of_a_file_of_unknown_format_exits_4(content, cli, tmp_path):
    (tmp_path / "x.snac").write_bytes(content)
    rc, out, err = cli(decode_ecdc.main, tmp_path / "x.snac", tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "not a file this toolkit decodes")


def test_decode_of_a_missing_file_exits_4(cli, tmp_path):
    rc, out, err = cli(decode_ecdc.main, tmp_path / "nope.snac", tmp_path / "out.wav")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, DECODE, "nope.snac")


def test_encode_of_a_file_that_is_not_audio_exits_4(cli, tmp_path):
    (tmp_path / "in.wav").write_bytes(b"not audio at all")
    rc, out, err = cli(encode_ecdc.main, tmp_path / "in.wav", tmp_path / "out.snac")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, ENCODE, "in.wav")
    assert not (tmp_path / "out.snac").exists()


def test_encode_into_a_missing_directory_exits_7(signal, write_wav, cli, tmp_path):
    rc, out, err = cli(encode_ecdc.main, *THREADS, write_wav(signal),
                       tmp_path / "missing" / "out.ecdc")
    assert (rc, out) == (7, "")
    assert_one_line_error(err, ENCODE, "out.ecdc")


def test_decode_into_a_directory_exits_7_and_leaves_no_temporary_file(cli, tmp_path):
    path = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 6000, 12), random_snac24_codes())
    (tmp_path / "out.wav").mkdir()
    rc, out, err = cli(decode_ecdc.main, *THREADS, path, tmp_path / "out.wav")
    assert (rc, out) == (7, "")
    assert_one_line_error(err, DECODE, "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "x.snac"]


@pytest.mark.parametrize("option", [("--threads", "0"), ("--chunk-seconds", "0.01"),
                                    ("--chunk-seconds", "4000")])
@pytest.mark.parametrize("main, prog", [(encode_ecdc.main, ENCODE), (decode_ecdc.main, DECODE)])
def test_run_option_out_of_range_is_a_bad_value_exit_5(main, prog, option, signal, write_wav,
                                                       cli, tmp_path):
    if main is encode_ecdc.main:
        source = write_wav(signal)
    else:
        source = write_ncdc_file(tmp_path / "x.snac", CodesHeader(
            "snac", SNAC_24, 24000, 24000, 6000, 12), random_snac24_codes())
    rc, out, err = cli(main, *option, source, tmp_path / "out.snac")
    assert (rc, out) == (5, "")
    assert_one_line_error(err, prog, option[0])


def test_encodec_input_at_another_rate_is_a_bad_value_exit_5(signal, cli, tmp_path):
    signal.tofile(tmp_path / "in.f32")
    rc, out, err = cli(encode_ecdc.main, "--raw", "--sample-rate", 16000, tmp_path / "in.f32",
                       tmp_path / "out.ecdc")
    assert (rc, out) == (5, "")
    assert_one_line_error(err, ENCODE, "16000")


def test_snac_sample_rate_not_matching_the_model_is_a_bad_value_exit_5(signal, cli, tmp_path):
    signal.tofile(tmp_path / "in.f32")
    rc, out, err = cli(encode_ecdc.main, *THREADS, "--raw", "--sample-rate", 16000,
                       tmp_path / "in.f32", tmp_path / "out.snac")
    assert (rc, out) == (5, "")
    assert_one_line_error(err, ENCODE, "16000", SNAC_24)
    assert not (tmp_path / "out.snac").exists()


def test_raw_float32_input_encodes_like_the_same_samples_in_a_wav(signal, write_wav, tmp_path):
    signal.tofile(tmp_path / "in.f32")
    encode("--raw", "--sample-rate", 24000, tmp_path / "in.f32", tmp_path / "raw.ecdc")
    encode("--sample-rate", 24000, write_wav(signal), tmp_path / "wav.ecdc")
    assert (tmp_path / "raw.ecdc").read_bytes() == (tmp_path / "wav.ecdc").read_bytes()


@pytest.mark.parametrize("argv", [
    pytest.param(["--bitrate", "7", "in.wav", "out.ecdc"], id="bitrate"),
    pytest.param(["--codec", "opus", "in.wav", "out.ecdc"], id="codec"),
    pytest.param(["--threads", "two", "in.wav", "out.ecdc"], id="threads"),
])
def test_bad_encode_options_are_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        encode_ecdc.main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "usage:" in err


@pytest.mark.parametrize("main, argv", [
    pytest.param(encode_ecdc.main, ["IN", "out.mp3"], id="encode unknown extension"),
    pytest.param(encode_ecdc.main, ["--raw", "IN", "out.ecdc"], id="encode raw without rate"),
    pytest.param(encode_ecdc.main, ["IN"], id="encode without output"),
    pytest.param(decode_ecdc.main, ["IN"], id="decode without output"),
])
def test_usage_errors_found_after_parsing_exit_2(main, argv, signal, write_wav, cli,
                                                 monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    wav = write_wav(signal)
    rc, out, err = cli(main, *[wav if a == "IN" else a for a in argv])
    assert (rc, out) == (2, "")


@pytest.mark.parametrize("extension", ["ecdc", "snac"])
def test_wav_at_another_rate_than_the_model_is_refused(extension, write_wav, cli, tmp_path):
    wav = write_wav(make_signal(44100, 44100), 44100)
    rc, out, err = cli(encode_ecdc.main, *THREADS, wav, tmp_path / f"out.{extension}")
    assert (rc, out) == (4, "")
    assert_one_line_error(err, ENCODE, "44100")
    assert not (tmp_path / f"out.{extension}").exists()


@pytest.mark.parametrize("source_rate", ["2000000", "-1", "1", "999", "384001"])
@pytest.mark.parametrize("extension", ["ecdc", "snac"])
def test_out_of_range_source_rate_is_refused_before_writing(source_rate, extension, signal,
                                                            write_wav, cli, tmp_path):
    rc, out, err = cli(encode_ecdc.main, *THREADS, "--source-rate", source_rate,
                       write_wav(signal), tmp_path / f"out.{extension}")
    assert rc == EXIT_BAD_VALUE and out == ""
    assert_one_line_error(err, ENCODE, f"source rate {source_rate} Hz", "1000..384000 Hz")
    assert not (tmp_path / f"out.{extension}").exists()


@pytest.mark.parametrize("source_rate", [1, 1_000_000])
def test_a_snac_crafted_with_an_implausible_source_rate_is_refused(source_rate, signal,
                                                                   write_wav, cli, tmp_path):
    """A real file with its source-rate field patched (and its CRC made right again): a bad
    field, exit 4, not a decode to a WAV of no samples or at 1 MHz."""
    encode(write_wav(signal), tmp_path / "good.snac")
    data = bytearray((tmp_path / "good.snac").read_bytes()[:-4])
    # magic, version, codec and model bytes (a known model), then the two uint32 rates
    assert struct.unpack_from("!II", data, 7) == (24000, 24000)
    struct.pack_into("!I", data, 11, source_rate)
    data += struct.pack("!I", zlib.crc32(data))
    (tmp_path / "bad.snac").write_bytes(bytes(data))
    for argv in ([tmp_path / "bad.snac", tmp_path / "out.wav"], ["--info", tmp_path / "bad.snac"]):
        rc, out, err = cli(decode_ecdc.main, *THREADS, *argv)
        assert (rc, out) == (4, "")
        assert_one_line_error(err, DECODE, f"source sample rate {source_rate} Hz is out of range "
                              f"1000..384000 Hz")
    assert not (tmp_path / "out.wav").exists()


def test_a_decode_of_no_samples_is_a_failure_not_an_empty_wav(tmp_path):
    with pytest.raises(CodecFailure, match="no samples"):
        audio.write_audio(str(tmp_path / "out.wav"), iter([]), 24000, 0)
    assert list(tmp_path.iterdir()) == []


def test_errors_carry_the_front_ends_name_when_it_calls(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("NEURAL_CODEC_PROG", "decompress_audio.sh")
    (tmp_path / "x.snac").write_bytes(b"junk")
    rc, _, err = cli(decode_ecdc.main, tmp_path / "x.snac", tmp_path / "out.wav")
    assert rc == 4
    assert_one_line_error(err, "decompress_audio.sh")


def test_ecdc_file_is_recognised_by_content_whatever_its_name(write_wav, cli, tmp_path):
    encode(write_wav(make_signal(RATE // 4)), tmp_path / "out.ecdc")
    (tmp_path / "out.ecdc").rename(tmp_path / "renamed.bin")
    rc, out, err = cli(decode_ecdc.main, tmp_path / "renamed.bin", tmp_path / "out.wav")
    assert (rc, out, err) == (0, "", "")
    assert len(read_wav(tmp_path / "out.wav")[0]) == RATE // 4


FINALIZER_SCRIPT = """
import os, signal, sys, time
import neural_codec as nc

class SlowToFinalize:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)  # the handler runs here, inside the finalizer

def body():
    SlowToFinalize()
    time.sleep(20)
    return 0

sys.exit(nc.run_cli("prog", body))
"""


def test_sigterm_arriving_inside_a_finalizer_still_interrupts_in_one_line():
    # An exception raised in __del__ is printed as "Exception ignored" and dropped; a batch
    # worker hit that when SIGTERM landed in a file object's finalizer.
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", FINALIZER_SCRIPT], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (143, "", "prog: interrupted\n")
    assert time.monotonic() - start < 15


SHUTDOWN_SCRIPT = """
import atexit, os, signal, sys, time
import neural_codec as nc

def late_hook():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(20)

atexit.register(late_hook)
sys.exit(nc.run_cli("prog", lambda: 0))
"""


def test_sigterm_while_the_interpreter_shuts_down_ends_it_without_a_traceback():
    # A batch worker got SIGTERM while atexit hooks ran, which print and drop exceptions.
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", SHUTDOWN_SCRIPT], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (143, "", "")
    assert time.monotonic() - start < 15


SECOND_SIGNAL_SCRIPT = """
import os, signal, sys, time
import neural_codec as nc

def body():
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(20)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # a second one, during the cleanup
        time.sleep(0.3)
        print("cleanup finished")
    return 0

sys.exit(nc.run_cli("prog", body))
"""


def test_a_second_sigterm_does_not_break_off_the_cleanup_of_the_first():
    result = subprocess.run([sys.executable, "-c", SECOND_SIGNAL_SCRIPT], cwd=ROOT,
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (
        143, "cleanup finished\n", "prog: interrupted\n")


@pytest.mark.parametrize("script", [ENCODE, DECODE])
def test_ctrl_c_during_the_helpers_first_imports_exits_130_without_a_traceback(script,
                                                                             tmp_path):
    # A module that shadows the standard library's argparse stands for a Ctrl-C that lands
    # while the helper imports it, the first thing it does (the front-ends say "interrupted").
    (tmp_path / "argparse.py").write_text("raise KeyboardInterrupt\n")
    result = run_helper(script, "--version", PYTHONPATH=str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "")


@pytest.mark.parametrize("script", [ENCODE, DECODE])
def test_ctrl_c_that_numpy_turns_into_an_import_error_exits_130_not_missing_package(script,
                                                                                    tmp_path):
    # numpy catches a Ctrl-C that lands inside its import and raises ImportError ("IMPORTANT:
    # PLEASE READ THIS ..."); this numpy does the same, deterministically.
    (tmp_path / "numpy.py").write_text(
        "import os, signal, time\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    raise ImportError('IMPORTANT: PLEASE READ THIS') from None\n")
    import signal as signals

    # Ctrl-C as a terminal delivers it: a shell's background job (nohup CMD &) starts with SIGINT
    # ignored, which the helper rightly leaves ignored, and this test then saw exit 0.
    result = subprocess.run([sys.executable, str(ROOT / script), "--version"],
                            capture_output=True, text=True, timeout=120,
                            env=subprocess_env(PYTHONPATH=str(tmp_path)),
                            preexec_fn=lambda: signals.signal(signals.SIGINT, signals.SIG_DFL))
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "")


# ---------------------------------------------------------------------------------------------
# A Python without torch (PYTHON_BIN=python3 where `make setup` was not run): exit 3 naming the
# package, on every codec's import path, never "internal error: ModuleNotFoundError".

@pytest.fixture
def without():
    """without(*packages) -> environment overrides for a helper run by a Python that cannot
    import those packages (tests/fixtures/hide-packages/sitecustomize.py hides them)."""
    site = ROOT / "tests" / "fixtures" / "hide-packages"
    return lambda *packages: {"PYTHONPATH": str(site), "HIDDEN_PACKAGES": ",".join(packages)}


@pytest.fixture
def no_torch(without) -> dict[str, str]:
    return without("torch")


def containers_of_every_kind(tmp_path, signal) -> dict[str, str]:
    """A valid file of every container the decoder reads, written without a model."""
    import torch

    from codec_toolkit.dac_file import DacFile, write_dac
    from codec_toolkit.ecdc import write_ecdc_packed
    from codec_toolkit.ncdc import KNOWN_MODELS

    files = {"snac": write_ncdc_file(tmp_path / "in.snac", CodesHeader(
        "snac", SNAC_24, 24000, 24000, 6000, 12), random_snac24_codes())}
    files["mimi"] = write_ncdc_file(tmp_path / "in.mimi", CodesHeader(
        "mimi", "kyutai/mimi", 24000, 24000, 3840, 11), [np.zeros(2, dtype=np.int64)] * 8)
    files["semanticodec"] = write_ncdc_file(tmp_path / "in.semanticodec", CodesHeader(
        "semanticodec", KNOWN_MODELS["semanticodec"][6], 16000, 16000, 16000, 14),
        [np.zeros(26, dtype=np.int64)] * 2)
    with open(tmp_path / "in.ecdc", "wb") as fo:
        write_ecdc_header(fo, EcdcHeader(640, 2, False, 24000))
        write_ecdc_packed(fo, np.zeros((2, 2), dtype=np.int64))
    files["ecdc"] = str(tmp_path / "in.ecdc")
    with open(tmp_path / "in.dac", "wb") as fo:
        write_dac(fo, DacFile(np.zeros((1, 12, 50), dtype=np.uint16), 50, 16000, -20.0, 16000,
                              True))
    files["dac"] = str(tmp_path / "in.dac")
    files["legacy"] = str(tmp_path / "legacy.snac")
    torch.save([torch.zeros(1, 3 * k, dtype=torch.int64) for k in (1, 2, 4)], files["legacy"])
    return files


TORCH_MISSING = "Python package missing: torch (run: make setup)"


@pytest.mark.parametrize("codec, options", [
    ("ecdc", ()), ("ecdc", ("--lm",)), ("snac", ()), ("snac", ("--backend", "onnx")),
    ("mimi", ()), ("dac", ()), ("semanticodec", ()),
])
def test_encoding_without_torch_exits_3_naming_it(codec, options, no_torch, signal, write_wav,
                                                  tmp_path):
    result = run_helper(ENCODE, *options, write_wav(signal), tmp_path / f"out.{codec}",
                        **no_torch)
    assert (result.returncode, result.stdout, result.stderr) == (3, "",
                                                                 f"{ENCODE}: {TORCH_MISSING}\n")
    assert not (tmp_path / f"out.{codec}").exists()


@pytest.mark.parametrize("kind", ["ecdc", "snac", "mimi", "dac", "semanticodec", "legacy"])
@pytest.mark.parametrize("backend", ["auto", "onnx"])
def test_decoding_without_torch_exits_3_naming_it(kind, backend, no_torch, signal, tmp_path):
    path = containers_of_every_kind(tmp_path, signal)[kind]
    result = run_helper(DECODE, "--backend", backend, path, tmp_path / "out.wav", **no_torch)
    assert (result.returncode, result.stdout, result.stderr) == (3, "",
                                                                 f"{DECODE}: {TORCH_MISSING}\n")
    assert not (tmp_path / "out.wav").exists()


def test_info_of_a_legacy_snac_without_torch_exits_3_naming_it(no_torch, signal, tmp_path):
    result = run_helper(DECODE, "--info", containers_of_every_kind(tmp_path, signal)["legacy"],
                        **no_torch)
    assert (result.returncode, result.stdout, result.stderr) == (3, "",
                                                                 f"{DECODE}: {TORCH_MISSING}\n")


def test_batches_without_torch_stop_at_once_with_exit_3(no_torch, signal, write_wav, tmp_path):
    wav = write_wav(signal)
    files = containers_of_every_kind(tmp_path, signal)
    (tmp_path / "encode.list").write_text("".join(
        f"{wav}\t{tmp_path / f'out{i}.snac'}\t44100\tclip{i}.wav\n" for i in range(3)))
    (tmp_path / "decode.list").write_text("".join(
        f"{files[kind]}\t{tmp_path / f'{kind}.wav'}\t{kind}\n" for kind in ("snac", "ecdc")))
    for script, listing in ((ENCODE, "encode.list"), (DECODE, "decode.list")):
        result = run_helper(script, "--batch", tmp_path / listing, **no_torch)
        assert (result.returncode, result.stdout, result.stderr) == (
            3, "", f"{script}: {TORCH_MISSING}\n")
    assert not list(tmp_path.glob("out*.snac"))
    assert not (tmp_path / "snac.wav").exists() and not (tmp_path / "ecdc.wav").exists()


@pytest.mark.parametrize("hidden, codec, options, message", [
    ("snac", "snac", (), "Python package missing: snac (run: make setup)"),
    ("huggingface_hub", "snac", (), "Python package missing: huggingface_hub (run: make setup)"),
    ("encodec", "ecdc", (), "Python package missing: encodec (run: make setup)"),
    # Torch: Mimi's prepared compiled encoder runs without transformers.
    ("transformers", "mimi", ("--backend", "torch"),
     "Python package missing: transformers (run: make setup)"),
    ("soundfile", "snac", (), "Python package missing: soundfile (run: make setup)"),
    ("onnxruntime", "snac", ("--backend", "onnx"),
     "MODEL_BACKEND=onnx needs the Python package onnxruntime (pip install onnxruntime onnx "
     "onnxscript)"),
    ("dac", "dac", (), "Python package missing: dac; .dac needs the optional DAC install "
     "(run: make dac)"),
])
def test_every_missing_package_of_a_codec_exits_3_naming_it(hidden, codec, options, message,
                                                             without, signal, write_wav,
                                                             tmp_path):
    result = run_helper(ENCODE, *THREADS, *options, write_wav(signal), tmp_path / f"out.{codec}",
                        **without(hidden))
    assert (result.returncode, result.stdout, result.stderr) == (3, "", f"{ENCODE}: {message}\n")
    assert not (tmp_path / f"out.{codec}").exists()
