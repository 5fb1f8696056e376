"""What the containers share below their layouts: bit packing, exact reads and field limits."""

from __future__ import annotations

import math
import typing as tp

import numpy as np

from codec_toolkit import facts
from codec_toolkit.errors import InvalidField, TruncatedStream

# Limits every container checks its rate and length fields against: beyond them a field is
# corrupt, whatever the format would allow. The rates are facts.tsv's `sample_rates`.
MIN_RATE, MAX_RATE = facts.SAMPLE_RATES
MAX_SAMPLES = 1 << 40


def rate_problem(field: str, rate: int) -> str | None:
    """Why `rate` (Hz) cannot be the `field` of a container, or None if it can. The readers
    raise InvalidField with it, the writers ValueError: nothing is written that is not read."""
    if MIN_RATE <= rate <= MAX_RATE:
        return None
    return f"{field} {rate} Hz is out of range {MIN_RATE}..{MAX_RATE} Hz"


def check_rate(field: str, rate: int) -> int:
    """`rate`, if it is a plausible `field`; InvalidField naming the field and range if not."""
    problem = rate_problem(field, rate)
    if problem:
        raise InvalidField(problem)
    return rate


# ---------------------------------------------------------------------------------------------
# Bit packing, least significant bit first: the order of encodec's BitPacker, so .ecdc payloads
# written here are byte-identical to the package's, and one pair serves both containers.

def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Pack non-negative integers below 2**bits into ceil(len * bits / 8) bytes."""
    values = np.asarray(values, dtype=np.uint64).reshape(-1)
    shifts = np.arange(bits, dtype=np.uint64)
    bit_matrix = ((values[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bit_matrix.reshape(-1), bitorder="little").tobytes()


def unpack_bits(data: bytes, bits: int, count: int) -> np.ndarray:
    """Inverse of `pack_bits`: the first `count` values, as int64. Raises TruncatedStream."""
    if len(data) * 8 < count * bits:
        raise TruncatedStream(f"codes end early: {count} codes of {bits} bits need "
                              f"{math.ceil(count * bits / 8)} bytes, found {len(data)}")
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    bit_matrix = flat[: count * bits].reshape(count, bits).astype(np.int64)
    return bit_matrix @ (np.int64(1) << np.arange(bits, dtype=np.int64))


def read_exactly(fo: tp.BinaryIO, size: int, what: str) -> bytes:
    """`size` bytes of `fo`; TruncatedStream naming `what` if the file ends first."""
    data = fo.read(size)
    if len(data) != size:
        raise TruncatedStream(f"file ends inside the {what}")
    return data
