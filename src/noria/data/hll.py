"""HyperLogLog: the distinct count of a profile's column, mergeable, in 1,024 small registers.

A value's 64-bit hash (DuckDB's ``hash``, the same in every profile) picks a register by its top
10 bits; the register keeps the largest *rank* seen there (the position of the first 1 bit of
the other 54 bits). The estimate (Flajolet et al. 2007, with the small-range correction) has a
standard error of about ``1.04 / sqrt(HLL_REGISTERS)``, 3.3 %; two sketches merge exactly by
taking the larger register. A pass counts the pairs ``register * 64 + rank`` that occur
(:func:`key_sql` in SQL, :func:`keys_of` in NumPy: the same keys) and :func:`registers` turns
them into the registers.

Not here: the profile (:mod:`noria.data.profile`), which keeps exact distinct counts of strings
when it keeps every value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "HLL_REGISTERS",
    "HLL_SHIFT",
    "estimate",
    "key_sql",
    "keys_of",
    "pack",
    "rank_of_low_bits",
    "registers",
    "unpack",
]

#: HyperLogLog registers (2**10): about 1.04 / 32 = 3.3 % standard error.
HLL_REGISTERS = 1024
#: Bits of the hash below the register's: ``64 - log2(HLL_REGISTERS)``.
HLL_SHIFT = 54
_LOW = (1 << HLL_SHIFT) - 1


def key_sql(e: str) -> str:
    """SQL of ``register * 64 + rank`` of a value's 64-bit hash (NULL stays NULL)."""
    h = f"hash({e})"
    return (
        f"CASE WHEN {e} IS NOT NULL THEN (({h} >> {HLL_SHIFT})::INTEGER) * 64 + "
        f"({HLL_SHIFT} - floor(log2(({h} & {_LOW})::DOUBLE + 1)))::INTEGER END"
    )


def keys_of(h: Any) -> Any:
    """NumPy of :func:`key_sql` from the 64-bit hashes ``h``: ``register * 64 + rank``."""
    import numpy as np

    h = h.view(np.int64) if h.dtype == np.uint64 else h.astype(np.int64)
    reg = (h >> HLL_SHIFT) & (HLL_REGISTERS - 1)  # the top bits, sign extension masked off
    y = (h & _LOW).astype(np.float64)
    y += 1.0
    # floor(log2(y)) is y's binary exponent (exact, where log2 may round up to 2**k)
    rho = HLL_SHIFT + 1023 - (y.view(np.int64) >> 52)
    reg *= 64
    reg += rho
    return reg


def rank_of_low_bits(low: float) -> int:
    """The rank of a hash whose low :data:`HLL_SHIFT` bits are ``low`` (the smallest low bits
    of a register give its largest rank)."""
    return HLL_SHIFT + 1 - math.frexp(float(low) + 1)[1]


def registers(pairs: Mapping[int, int]) -> tuple[int, ...]:
    """HyperLogLog registers from the keys ``register * 64 + rank`` that occurred."""
    import numpy as np

    regs = np.zeros(HLL_REGISTERS, dtype=np.int64)
    if pairs:
        keys = np.fromiter(pairs, dtype=np.int64, count=len(pairs))
        np.maximum.at(regs, keys // 64, keys % 64)
    return tuple(regs.tolist())


def estimate(regs: Sequence[int]) -> int:
    """The distinct count the registers estimate."""
    m = len(regs)
    alpha = 0.7213 / (1 + 1.079 / m)
    value = alpha * m * m / sum(2.0**-r for r in regs)
    zeros = sum(1 for r in regs if r == 0)
    if value <= 2.5 * m and zeros:
        value = m * math.log(m / zeros)
    return round(value)


def pack(regs: tuple[int, ...] | None) -> str | None:
    """The registers as text, one printable character each (how profiles store them)."""
    if regs is None:
        return None
    return "".join(chr(48 + r) for r in regs)


def unpack(text: Any) -> tuple[int, ...] | None:
    """The inverse of :func:`pack` (a list of numbers is read too)."""
    if text is None:
        return None
    if isinstance(text, list):
        return tuple(int(r) for r in text)
    return tuple(ord(ch) - 48 for ch in text)
