"""The log-bucket quantile sketch of a profile's numeric columns (DDSketch-style).

A value ``x`` falls in the bucket ``key(x) = ±(KEY_OFFSET + ceil(log_gamma |x|))`` (``0`` for
``|x| <= ZERO``), where ``gamma = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)``: every bucket is 2 %
wide, and a value read back from its bucket (:func:`key_value`) is within :data:`SKETCH_ALPHA`
(1 %) of it. A sketch is ``{key: count}``; the keys are the same in every profile, so two
sketches merge by adding counts and compare bucket by bucket (the drift tests).

The keys are computed two ways that agree exactly: in SQL (:func:`key_sql`, for DuckDB) and in
NumPy (:func:`keys_of`, for the Arrow batches of the numbers pass).

Not here: the rank sketch behind a profile's quantiles (:mod:`noria.data.ranks`), HyperLogLog
(:mod:`noria.data.hll`), histograms (:mod:`noria.data.histogram`), the profile itself
(:mod:`noria.data.profile`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "GAMMA",
    "KEY_OFFSET",
    "SKETCH_ALPHA",
    "ZERO",
    "key_sql",
    "key_value",
    "key_values",
    "keys_of",
    "sketch_quantile",
]

#: Relative accuracy of the quantile sketch.
SKETCH_ALPHA = 0.01
#: The ratio of a bucket's upper to its lower bound.
GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)
_INV_LN_GAMMA = 1 / math.log(GAMMA)
#: Keys are ``±(KEY_OFFSET + ceil(log_gamma |x|))``: positive for positive values, ``0`` for 0.
KEY_OFFSET = 100_000
#: Values at most this far from 0 fall in the bucket of 0.
ZERO = 1e-9
_CAP = 50_000  # log_gamma of infinity


def key_sql(x: str) -> str:
    """SQL of the log-bucket key of ``x`` (a DOUBLE expression; NULL stays NULL)."""
    z, off, cap, c = ZERO, KEY_OFFSET, _CAP, _INV_LN_GAMMA
    return (
        f"CASE WHEN {x} > {z} THEN {off} + least(ceil(ln({x}) * {c}), {cap})::INTEGER "
        f"WHEN {x} < -{z} THEN -{off} - least(ceil(ln(-{x}) * {c}), {cap})::INTEGER "
        f"WHEN {x} IS NOT NULL THEN 0 END"
    )


def keys_of(x: Any) -> Any:
    """NumPy of :func:`key_sql`: the log-bucket key of each value of ``x`` (no NaN)."""
    import numpy as np

    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.log(a)  # -inf for 0: overwritten below
        m *= _INV_LN_GAMMA
        np.ceil(m, out=m)
        np.minimum(m, _CAP, out=m)
        keys = m.astype(np.int64)
    keys += KEY_OFFSET
    np.negative(keys, out=keys, where=x < 0)
    keys[a <= ZERO] = 0
    return keys


def key_value(key: int) -> float:
    """The representative value of a bucket (within :data:`SKETCH_ALPHA` of its values)."""
    if key == 0:
        return 0.0
    k = abs(key) - KEY_OFFSET
    value = 2 * GAMMA**k / (GAMMA + 1)
    return value if key > 0 else -value


def key_values(keys: Any, lo: Any = None, hi: Any = None) -> Any:
    """NumPy of :func:`key_value` for an array of keys, clipped to ``[lo, hi]`` when given."""
    import numpy as np

    with np.errstate(over="ignore"):
        v = 2 * np.power(GAMMA, (np.abs(keys) - KEY_OFFSET).astype(np.float64)) / (GAMMA + 1)
    v = np.where(keys < 0, -v, v)
    v[keys == 0] = 0.0
    if lo is not None and hi is not None:
        v = np.clip(v, float(lo), float(hi))
    return v


def sketch_quantile(sketch: Mapping[int, int], q: float, lo: Any, hi: Any) -> float | None:
    """The ``q``-quantile of a sketch (rank ``floor(q * (n - 1))``), clipped to ``[lo, hi]``."""
    n = sum(sketch.values())
    if n == 0:
        return None
    rank = math.floor(q * (n - 1))
    seen = 0
    for key in sorted(sketch):
        seen += sketch[key]
        if seen > rank:
            value = key_value(key)
            if lo is not None:
                value = max(value, float(lo))
            if hi is not None:
                value = min(value, float(hi))
            return value
    return float(hi) if hi is not None else None
