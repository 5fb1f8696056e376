"""Bit packing and the two containers (.snac's NCDC, .ecdc's header and packed payload).

No model is involved: every check here runs on bytes.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zlib

import numpy as np
import pytest

import neural_codec as nc
from codec_toolkit.binary import MAX_RATE, MAX_SAMPLES, MIN_RATE, pack_bits, unpack_bits
from codec_toolkit.ecdc import (EcdcHeader, read_ecdc_header, read_ecdc_packed, write_ecdc_header,
                                write_ecdc_packed)
from codec_toolkit.errors import (BadMagic, ChecksumMismatch, ContainerError, InvalidField,
                                  TruncatedStream, UnsupportedVersion)
from codec_toolkit.ncdc import CodesHeader, read_ncdc, write_ncdc

SNAC_24 = "hubertsiuzdak/snac_24khz"


def random_codes(rng: np.random.Generator, count: int, bits: int) -> np.ndarray:
    """`count` codes below 2**bits, with the extremes 0 and 2**bits - 1 included."""
    values = rng.integers(0, 1 << bits, size=count, dtype=np.int64)
    if count >= 2:
        values[0], values[-1] = 0, (1 << bits) - 1
    return values


def ncdc_bytes(header: CodesHeader, codes) -> bytes:
    buffer = io.BytesIO()
    write_ncdc(buffer, header, codes)
    return buffer.getvalue()


def read_ncdc_bytes(data: bytes):
    return read_ncdc(io.BytesIO(data))


def craft_ncdc(*, magic=b"NCDC", version=1, codec=1, model=1, name: bytes | None = None,
               rate=24000, source=24000, length=6144, bits=12, levels=None,
               counts=(3, 6, 12), payload: bytes | None = None, crc: bool = True) -> bytes:
    """An NCDC file built field by field, independently of write_ncdc, with a correct CRC-32
    unless crc=False: so each invalid field is caught by its own check, not by the checksum."""
    body = struct.pack("!4sBBB", magic, version, codec, model)
    if name is not None:
        body += bytes([len(name)]) + name
    levels = len(counts) if levels is None else levels
    body += struct.pack("!IIQBB", rate, source, length, bits, levels)
    body += b"".join(struct.pack("!I", c) for c in counts)
    if payload is None:
        payload = bytes(math.ceil(sum(counts) * bits / 8))
    body += payload
    return body + (struct.pack("!I", zlib.crc32(body)) if crc else b"")


def first_error(read, data: bytes) -> BaseException | None:
    try:
        read(data)
    except Exception as exc:  # noqa: BLE001 - the test reports the wrong types
        return exc
    return None


# ---------------------------------------------------------------------------------------------
# Bit packing

@pytest.mark.parametrize("bits", range(1, 33))
def test_pack_bits_round_trips_every_width_from_1_to_32(bits):
    rng = np.random.default_rng(bits)
    for count in (0, 1, 7, 257):
        values = random_codes(rng, count, bits)
        data = pack_bits(values, bits)
        assert len(data) == math.ceil(count * bits / 8)
        restored = unpack_bits(data, bits, count)
        assert restored.dtype == np.int64
        np.testing.assert_array_equal(restored, values)


@pytest.mark.parametrize("bits", range(1, 33))
def test_pack_bits_pads_the_last_byte_with_zero_bits(bits):
    data = pack_bits(np.full(3, (1 << bits) - 1), bits)
    used = 3 * bits
    last_bits = used - 8 * (len(data) - 1)
    assert data[-1] == (1 << last_bits) - 1


@pytest.mark.parametrize("bits", [1, 3, 8, 10, 12, 13, 24, 32])
def test_pack_bits_matches_encodec_bitpacker_byte_for_byte(bits):
    from encodec.binary import BitPacker, BitUnpacker

    values = random_codes(np.random.default_rng(100 + bits), 301, bits)
    reference = io.BytesIO()
    packer = BitPacker(bits, reference)
    for value in values.tolist():
        packer.push(value)
    packer.flush()
    assert pack_bits(values, bits) == reference.getvalue()

    unpacker = BitUnpacker(bits, io.BytesIO(pack_bits(values, bits)))
    assert [unpacker.pull() for _ in range(len(values))] == values.tolist()


def test_unpack_bits_refuses_data_shorter_than_the_codes():
    data = pack_bits(np.arange(10), 10)
    with pytest.raises(TruncatedStream):
        unpack_bits(data[:-1], 10, 10)


# ---------------------------------------------------------------------------------------------
# NCDC round trips and size

@pytest.mark.parametrize("bits", [1, 5, 12, 16, 32])
@pytest.mark.parametrize("levels", range(1, 33))
def test_ncdc_round_trip_is_lossless(levels, bits):
    rng = np.random.default_rng(levels * 100 + bits)
    codes = [random_codes(rng, 5 * (level + 1) + level % 3, bits) for level in range(levels)]
    header = CodesHeader("snac", SNAC_24, 24000, 44100, 123_456, bits)
    data = ncdc_bytes(header, codes)
    assert data[6] == 1  # a known model costs one byte: its index

    read_header, read_codes = read_ncdc_bytes(data)
    assert read_header == header
    assert len(read_codes) == levels
    for written, read in zip(codes, read_codes):
        assert read.dtype == np.int64
        np.testing.assert_array_equal(read, written)


@pytest.mark.parametrize("model, model_id", [
    ("hubertsiuzdak/snac_24khz", 1),
    ("hubertsiuzdak/snac_32khz", 2),
    ("hubertsiuzdak/snac_44khz", 3),
])
def test_ncdc_stores_a_known_model_as_its_one_byte_index(model, model_id):
    codes = [np.arange(4), np.arange(8)]
    header = CodesHeader("snac", model, 32000, 32000, 1000, 12)
    data = ncdc_bytes(header, codes)
    assert data[:7] == b"NCDC\x01\x01" + bytes([model_id])
    assert read_ncdc_bytes(data)[0].model == model


@pytest.mark.parametrize("model", ["someone/snac_finetune", "/models/snac local", "ü/模型",
                                   "x" * 255])
def test_ncdc_round_trips_a_custom_model_name(model):
    codes = [np.arange(3), np.arange(6), np.arange(12)]
    custom = ncdc_bytes(CodesHeader("snac", model, 24000, 24000, 6144, 12), codes)
    known = ncdc_bytes(CodesHeader("snac", SNAC_24, 24000, 24000, 6144, 12), codes)
    name = model.encode("utf-8")
    assert custom[6] == 0 and custom[7] == len(name) and custom[8:8 + len(name)] == name
    assert len(custom) == len(known) + 1 + len(name)

    header, read_codes = read_ncdc_bytes(custom)
    assert header.model == model
    for written, read in zip(codes, read_codes):
        np.testing.assert_array_equal(read, written)


def test_ncdc_round_trips_a_level_without_codes():
    codes = [np.arange(5), np.array([], dtype=np.int64), np.arange(2)]
    header, read_codes = read_ncdc_bytes(ncdc_bytes(
        CodesHeader("snac", SNAC_24, 24000, 24000, 10, 12), codes))
    assert [len(c) for c in read_codes] == [5, 0, 2]


@pytest.mark.parametrize("rate, length", [(MIN_RATE, 1), (MAX_RATE, MAX_SAMPLES)])
def test_ncdc_reads_rates_and_lengths_at_both_ends_of_their_ranges(rate, length):
    header = CodesHeader("snac", SNAC_24, rate, rate, length, 12)
    assert read_ncdc_bytes(ncdc_bytes(header, [np.arange(4)]))[0] == header


def test_ncdc_round_trips_a_one_byte_model_name():
    header = CodesHeader("snac", "m", 24000, 24000, 10, 12)
    data = ncdc_bytes(header, [np.arange(2)])
    assert data[6:9] == b"\x00\x01m"
    assert read_ncdc_bytes(data)[0] == header


@pytest.mark.parametrize("problem, header, codes", [
    ("code too wide", CodesHeader("snac", SNAC_24, 24000, 24000, 10, 12), [np.array([4096])]),
    ("negative code", CodesHeader("snac", SNAC_24, 24000, 24000, 10, 12), [np.array([-1])]),
    ("no levels", CodesHeader("snac", SNAC_24, 24000, 24000, 10, 12), []),
    ("33 levels", CodesHeader("snac", SNAC_24, 24000, 24000, 10, 12), [np.arange(2)] * 33),
    ("unknown codec", CodesHeader("dac", SNAC_24, 24000, 24000, 10, 12), [np.arange(2)]),
    ("empty model name", CodesHeader("snac", "", 24000, 24000, 10, 12), [np.arange(2)]),
    ("256-byte model name", CodesHeader("snac", "m" * 256, 24000, 24000, 10, 12),
     [np.arange(2)]),
])
def test_write_ncdc_refuses_what_it_cannot_store(problem, header, codes):
    with pytest.raises(ValueError):
        ncdc_bytes(header, codes)


def test_ncdc_overhead_for_10_s_of_snac_24khz_is_within_64_bytes(capsys):
    samples = 24000 * 10
    padded = math.ceil(samples / 2048) * 2048  # snac_24khz pads to hop 512 x stride 4
    frames = padded // 512
    counts = [frames // stride for stride in (4, 2, 1)]
    rng = np.random.default_rng(10)
    codes = [rng.integers(0, 4096, size=count) for count in counts]
    data = ncdc_bytes(CodesHeader("snac", SNAC_24, 24000, 44100, samples, 12), codes)

    nominal = math.ceil(sum(counts) * 12 / 8)
    overhead = len(data) - nominal
    with capsys.disabled():
        print(f"\nNCDC, 10 s of snac_24khz: {sum(counts)} codes {counts}, payload {nominal} "
              f"bytes, file {len(data)} bytes, overhead {overhead} bytes")
    assert counts == [118, 236, 472]
    assert 0 <= overhead <= 64


# ---------------------------------------------------------------------------------------------
# NCDC corruption

@pytest.fixture(params=["known model", "custom model"])
def ncdc_file(request) -> bytes:
    model = SNAC_24 if request.param == "known model" else "someone/snac_finetune"
    rng = np.random.default_rng(7)
    codes = [rng.integers(0, 4096, size=n) for n in (3, 6, 12)]
    return ncdc_bytes(CodesHeader("snac", model, 24000, 44100, 6000, 12), codes)


def test_truncated_ncdc_is_rejected_at_every_length(ncdc_file):
    wrong = {}
    for length in range(len(ncdc_file)):
        error = first_error(read_ncdc_bytes, ncdc_file[:length])
        if not isinstance(error, ContainerError):
            wrong[length] = repr(error)
    assert not wrong, f"truncations not rejected as ContainerError: {wrong}"


def test_ncdc_with_trailing_bytes_is_rejected(ncdc_file):
    assert isinstance(first_error(read_ncdc_bytes, ncdc_file + b"\0"), ContainerError)


def test_every_single_bit_flip_in_ncdc_is_rejected(ncdc_file):
    wrong = {}
    for bit in range(len(ncdc_file) * 8):
        corrupt = bytearray(ncdc_file)
        corrupt[bit // 8] ^= 1 << (bit % 8)
        error = first_error(read_ncdc_bytes, bytes(corrupt))
        # Past magic, version and codec id, nothing but the CRC can tell a flipped bit.
        expected = ContainerError if bit // 8 < 6 else ChecksumMismatch
        if not isinstance(error, expected):
            wrong[bit] = repr(error)
    assert not wrong, f"bit flips not rejected as they should be: {wrong}"


def test_ncdc_with_bad_magic_is_rejected():
    with pytest.raises(BadMagic):
        read_ncdc_bytes(craft_ncdc(magic=b"NCDD"))
    with pytest.raises(BadMagic):
        read_ncdc_bytes(craft_ncdc(magic=b"ECDC"))


@pytest.mark.parametrize("version", [0, 2, 255])
def test_ncdc_of_an_unknown_version_is_rejected(version):
    with pytest.raises(UnsupportedVersion, match=str(version)):
        read_ncdc_bytes(craft_ncdc(version=version))


def test_crafted_ncdc_with_valid_fields_reads():
    # The control for the invalid-field cases below: the crafting itself is sound.
    header, codes = read_ncdc_bytes(craft_ncdc(payload=bytes(range(32))))
    assert header == CodesHeader("snac", SNAC_24, 24000, 24000, 6144, 12)
    assert [len(c) for c in codes] == [3, 6, 12]
    header, _ = read_ncdc_bytes(craft_ncdc(model=0, name=b"someone/custom"))
    assert header.model == "someone/custom"


@pytest.mark.parametrize("fields", [
    pytest.param(dict(bits=0), id="bits 0"),
    pytest.param(dict(bits=33), id="bits 33"),
    pytest.param(dict(bits=255), id="bits 255"),
    pytest.param(dict(counts=(), levels=0), id="levels 0"),
    pytest.param(dict(counts=(1,) * 33), id="levels 33"),
    pytest.param(dict(counts=(1,) * 255), id="levels 255"),
    pytest.param(dict(length=0), id="length 0"),
    pytest.param(dict(length=MAX_SAMPLES + 1), id="length above 2**40"),
    pytest.param(dict(rate=0), id="model rate 0"),
    pytest.param(dict(rate=MAX_RATE + 1), id="model rate above 1 MHz"),
    pytest.param(dict(source=0), id="source rate 0"),
    pytest.param(dict(source=0xFFFFFFFF), id="source rate 2**32-1"),
    pytest.param(dict(model=4), id="model id 4"),
    pytest.param(dict(model=255), id="model id 255"),
    pytest.param(dict(codec=0), id="codec id 0"),
    pytest.param(dict(codec=4), id="codec id 4"),
    pytest.param(dict(codec=2, model=2), id="Mimi model id 2"),
    pytest.param(dict(model=0, name=b""), id="empty model name"),
    pytest.param(dict(model=0, name=b"\xff\xfe"), id="model name not UTF-8"),
    pytest.param(dict(model=0, name=SNAC_24.encode()), id="known model spelled out"),
    pytest.param(dict(payload=bytes(31)), id="payload one byte short"),
    pytest.param(dict(payload=bytes(33)), id="payload one byte long"),
    pytest.param(dict(counts=(3, 6, 0xFFFFFFFF), payload=bytes(32)),
                 id="level count 2**32-1"),
])
def test_ncdc_field_out_of_range_is_rejected_even_with_a_correct_crc(fields):
    with pytest.raises(InvalidField):
        read_ncdc_bytes(craft_ncdc(**fields))


# Sample rates: every rate a container records is a plausible audio rate, 1 kHz to 384 kHz. A
# crafted source rate of 1 Hz once decoded, with exit 0, to a WAV holding no samples.

IMPLAUSIBLE_RATES = [1, 999, 384_001, 1_000_000]


@pytest.mark.parametrize("rate", IMPLAUSIBLE_RATES)
@pytest.mark.parametrize("field, name", [("source", "source sample rate"),
                                         ("rate", "model sample rate")])
def test_ncdc_rate_outside_1_khz_to_384_khz_is_a_bad_field(field, name, rate):
    with pytest.raises(InvalidField, match=f"^{name} {rate} Hz is out of range 1000..384000 Hz$"):
        read_ncdc_bytes(craft_ncdc(**{field: rate}))


@pytest.mark.parametrize("rate", [1000, 384_000])
def test_ncdc_source_rates_at_the_ends_of_the_range_are_read(rate):
    header, _ = read_ncdc_bytes(craft_ncdc(source=rate))
    assert header.source_rate == rate


@pytest.mark.parametrize("rate", IMPLAUSIBLE_RATES)
def test_ncdc_writer_refuses_a_source_rate_its_reader_would_refuse(rate):
    codes = [np.zeros(n, dtype=np.int64) for n in (3, 6, 12)]
    with pytest.raises(ValueError, match="source sample rate"):
        ncdc_bytes(CodesHeader("snac", SNAC_24, 24000, rate, 6144, 12), codes)


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("!I", zlib.crc32(body))


@pytest.mark.parametrize("data", [
    pytest.param(with_crc(b"NCDC\x01\x01\x00" + bytes([200]) + b"abc"), id="name past the end"),
    pytest.param(craft_ncdc(counts=(1, 1), levels=9, payload=b""), id="level table past the end"),
    pytest.param(with_crc(b"NCDC\x01\x01\x01" + bytes(10)), id="header past the end"),
])
def test_ncdc_whose_fields_run_past_the_end_is_rejected_even_with_a_correct_crc(data):
    assert isinstance(first_error(read_ncdc_bytes, data), ContainerError)


# ---------------------------------------------------------------------------------------------
# ECDC header and plain payload

def ecdc_header_bytes(header: EcdcHeader) -> bytes:
    buffer = io.BytesIO()
    write_ecdc_header(buffer, header)
    return buffer.getvalue()


def read_ecdc_header_bytes(data: bytes) -> EcdcHeader:
    return read_ecdc_header(io.BytesIO(data))


def raw_ecdc_header(meta: bytes, magic=b"ECDC", version=0, size: int | None = None) -> bytes:
    return struct.pack("!4sBI", magic, version, len(meta) if size is None else size) + meta


@pytest.mark.parametrize("header", [
    EcdcHeader(24123, 2, False),
    EcdcHeader(1, 32, True),
    EcdcHeader(MAX_SAMPLES, 8, False, 44100),
    EcdcHeader(480000, 16, True, 8000),
])
def test_ecdc_header_round_trips(header):
    assert read_ecdc_header_bytes(ecdc_header_bytes(header)) == header


def test_ecdc_header_is_byte_identical_to_encodecs():
    from encodec import binary

    reference = io.BytesIO()
    binary.write_ecdc_header(reference, {"m": "encodec_24khz", "al": 24123, "nc": 8, "lm": True})
    assert ecdc_header_bytes(EcdcHeader(24123, 8, True)) == reference.getvalue()


def test_encodec_reads_our_ecdc_header_with_the_source_rate():
    from encodec import binary

    meta = binary.read_ecdc_header(io.BytesIO(ecdc_header_bytes(
        EcdcHeader(24123, 4, False, 44100))))
    assert meta == {"m": "encodec_24khz", "al": 24123, "nc": 4, "lm": False, "sr": 44100}


def test_ecdc_with_bad_magic_is_rejected():
    with pytest.raises(BadMagic):
        read_ecdc_header_bytes(raw_ecdc_header(b"{}", magic=b"NCDC"))


@pytest.mark.parametrize("version", [1, 2, 255])
def test_ecdc_of_an_unknown_version_is_rejected(version):
    meta = json.dumps({"m": "encodec_24khz", "al": 10, "nc": 2, "lm": False}).encode()
    with pytest.raises(UnsupportedVersion):
        read_ecdc_header_bytes(raw_ecdc_header(meta, version=version))


def test_ecdc_header_announcing_a_huge_json_is_rejected_without_reading_it():
    with pytest.raises(InvalidField):
        read_ecdc_header_bytes(raw_ecdc_header(b"{}", size=4097))
    with pytest.raises(InvalidField):
        read_ecdc_header_bytes(raw_ecdc_header(b"{}", size=0xFFFFFFFF))


def test_ecdc_header_of_exactly_4096_json_bytes_is_read():
    meta = json.dumps({**GOOD_META, "pad": ""}).encode()
    meta = json.dumps({**GOOD_META, "pad": "x" * (4096 - len(meta))}).encode()
    assert len(meta) == 4096
    assert read_ecdc_header_bytes(raw_ecdc_header(meta)) == EcdcHeader(24000, 2, False)


@pytest.mark.parametrize("rate", [MIN_RATE, MAX_RATE])
def test_ecdc_header_reads_source_rates_at_both_ends_of_the_range(rate):
    meta = json.dumps({**GOOD_META, "sr": rate}).encode()
    assert read_ecdc_header_bytes(raw_ecdc_header(meta)).source_rate == rate


@pytest.mark.parametrize("meta", [b"[]", b"1", b'"ECDC"', b"null", b"true", b"{", b"",
                                  b"\xff\xfe{}", b'{"m": "encodec_24khz"'])
def test_ecdc_header_that_is_not_a_json_object_is_rejected(meta):
    with pytest.raises(InvalidField):
        read_ecdc_header_bytes(raw_ecdc_header(meta))


def test_ecdc_header_with_deeply_nested_json_is_rejected_as_invalid():
    meta = b"[" * 2000 + b"]" * 2000
    with pytest.raises(InvalidField):
        read_ecdc_header_bytes(raw_ecdc_header(meta))


GOOD_META = {"m": "encodec_24khz", "al": 24000, "nc": 2, "lm": False}


@pytest.mark.parametrize("change", [
    {"m": "encodec_48khz"}, {"m": None}, {"m": 1},
    {"al": "24000"}, {"al": 24000.0}, {"al": True}, {"al": 0}, {"al": -1},
    {"al": MAX_SAMPLES + 1}, {"al": None},
    {"nc": 3}, {"nc": "2"}, {"nc": 2.0}, {"nc": True}, {"nc": 64}, {"nc": None},
    {"lm": 0}, {"lm": "false"}, {"lm": None},
    {"sr": 0}, {"sr": "44100"}, {"sr": 44100.0}, {"sr": True}, {"sr": MAX_RATE + 1},
], ids=lambda change: ",".join(f"{k}={v!r}" for k, v in change.items()))
def test_ecdc_header_field_of_the_wrong_type_or_range_is_rejected(change):
    meta = {**GOOD_META, **change}
    meta = {k: v for k, v in meta.items() if v is not None}
    with pytest.raises(InvalidField):
        read_ecdc_header_bytes(raw_ecdc_header(json.dumps(meta).encode()))


@pytest.mark.parametrize("rate", IMPLAUSIBLE_RATES)
def test_ecdc_source_rate_outside_1_khz_to_384_khz_is_a_bad_field(rate):
    meta = json.dumps({**GOOD_META, "sr": rate}).encode()
    with pytest.raises(InvalidField, match=f"^source sample rate \\(sr\\) {rate} Hz is out of "
                       f"range 1000..384000 Hz$"):
        read_ecdc_header_bytes(raw_ecdc_header(meta))
    with pytest.raises(ValueError, match="source sample rate"):
        ecdc_header_bytes(EcdcHeader(24000, 2, False, rate))


def test_truncated_ecdc_header_is_rejected_at_every_length():
    data = ecdc_header_bytes(EcdcHeader(24000, 2, False, 44100))
    wrong = {}
    for length in range(len(data)):
        error = first_error(read_ecdc_header_bytes, data[:length])
        if not isinstance(error, ContainerError):
            wrong[length] = repr(error)
    assert not wrong, f"truncations not rejected as ContainerError: {wrong}"


def test_ecdc_frames_are_the_ceiling_of_length_over_320():
    assert [EcdcHeader(n, 2, False).frames for n in (1, 319, 320, 321, 24000)] == \
        [1, 1, 1, 2, 75]


@pytest.mark.parametrize("codebooks", [2, 4, 8, 16, 32])
def test_ecdc_packed_codes_round_trip_frame_by_frame_like_encodec(codebooks):
    from encodec.binary import BitPacker

    header = EcdcHeader(24123, codebooks, False)
    rng = np.random.default_rng(codebooks)
    codes = rng.integers(0, 1024, size=(codebooks, header.frames))
    buffer = io.BytesIO()
    write_ecdc_packed(buffer, codes)

    # encodec.compress pushes codes frame after frame, codebook within frame.
    reference = io.BytesIO()
    packer = BitPacker(10, reference)
    for t in range(header.frames):
        for k in range(codebooks):
            packer.push(int(codes[k, t]))
    packer.flush()
    assert buffer.getvalue() == reference.getvalue()

    buffer.seek(0)
    np.testing.assert_array_equal(read_ecdc_packed(buffer, header), codes)


def test_ecdc_packed_payload_of_the_wrong_size_is_rejected():
    header = EcdcHeader(3200, 2, False)  # 10 frames x 2 codebooks x 10 bits = 25 bytes
    payload = pack_bits(np.arange(20), 10)
    assert len(payload) == 25
    with pytest.raises(TruncatedStream):
        read_ecdc_packed(io.BytesIO(payload[:-1]), header)
    with pytest.raises(InvalidField):
        read_ecdc_packed(io.BytesIO(payload + b"\0"), header)


# ---------------------------------------------------------------------------------------------
# Sniffing

@pytest.mark.parametrize("head, kind", [
    (b"ECDC\x00\x00\x00\x00", "ecdc"),
    (b"NCDC\x01\x01\x01\x00", "snac"),
    (b"PK\x03\x04\x00\x00\x00\x00", "snac-legacy"),
    (b"\x80\x02\x8a\x0a", "snac-legacy"),
    (b"\x80", "snac-legacy"),
    (b"", None),
    (b"ECD", None),
    (b"NCD", None),
    (b"ecdc\x00", None),
    (b"PK\x05\x06", None),  # an empty zip, not torch.save
    (b"RIFF\x24\x00\x00\x00", None),
    (b"\xc0\xde\xc2\x01", None),  # Codec2's header
    (b"OggS\x00\x02", None),
])
def test_sniff_container_recognises_files_by_their_first_bytes(head, kind):
    assert nc.sniff_container(head) == kind
