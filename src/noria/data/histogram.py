"""Counting sketches of a profile: fixed-edge histograms, time buckets and value counts.

* A **histogram** is ``{"start", "step", "counts", "below", "above"}`` on the edges
  ``start + i * step``; the step is a "nice" number (1, 2, 2.5 or 5 times a power of 10) chosen
  for about :data:`HIST_BINS` bins (:func:`nice_hist`). A batch profiled against a reference
  reuses its edges (:func:`empty_like`), so that the two merge by adding counts and compare bin
  by bin; values outside them count as ``below`` / ``above``.
* **Time buckets** count times (epoch seconds) by ``floor(t / width)``, the width taken from
  :data:`TIME_WIDTHS`, each of which divides the next: buckets of two widths merge at the
  coarser one (:func:`coarsen`).
* **Value counts** ``{value: count}`` of strings and booleans; the most frequent come first, ties
  by value (:func:`top_values`).
* **Tallies**: the dense counts (``bincount``) a streaming pass accumulates batch by batch
  (:func:`tally`, :func:`tallied`).

Bins are computed two ways that agree exactly: in SQL (:func:`bin_sql`) and NumPy
(:func:`bins_of`).

Not here: the log-bucket sketch (:mod:`noria.data.sketch`), HyperLogLog (:mod:`noria.data.hll`),
the profile (:mod:`noria.data.profile`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "HIST_BINS",
    "MAX_TIME_BUCKETS",
    "TIME_WIDTHS",
    "add_counts",
    "bin_sql",
    "bins_of",
    "bucket_quantile",
    "coarsen",
    "empty_like",
    "hist_counts",
    "merge_hists",
    "nice_hist",
    "same_edges",
    "tallied",
    "tally",
    "time_hist",
    "time_width",
    "top_values",
]

#: Bins of a numeric histogram (about; the step is rounded to 1, 2 or 5 times a power of 10).
HIST_BINS = 20
#: Time bucket widths, seconds: each divides the next, so buckets of two widths merge.
TIME_WIDTHS = (1, 60, 3600, *(86_400 * 2**k for k in range(24)))
#: Most time buckets a profile keeps (the width grows to stay below).
MAX_TIME_BUCKETS = 2000
_TIME_HIST_BINS = 30


# ----------------------------------------------------------------------------- histograms


def _nice_step(span: float, bins: int) -> float:
    raw = span / bins
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def nice_hist(lo: float, hi: float, *, integer: bool, bins: int = HIST_BINS) -> dict[str, Any]:
    """Fixed edges ``start + i * step`` covering ``[lo, hi]`` with about ``bins`` bins."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = (lo if math.isfinite(lo) else 0.0), (hi if math.isfinite(hi) else 0.0)
    if integer and hi - lo < bins:
        start, step = math.floor(lo), 1.0
        n = max(int(math.floor(hi) - start) + 1, 1)
        return {"start": float(start), "step": step, "counts": [0] * n}
    if hi <= lo:
        return {"start": float(lo) - 0.5, "step": 1.0, "counts": [0]}
    step = _nice_step(hi - lo, bins)
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(lo / step) * step
    n = max(math.floor((hi - start) / step) + 1, 1)
    if n > 1 and start + (n - 1) * step == hi:
        n -= 1  # hi sits on the last edge: it belongs to the last bin
    return {"start": float(start), "step": float(step), "counts": [0] * n}


def empty_like(hist: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A histogram on the edges of ``hist`` with every count 0 (``None`` for ``None``)."""
    if not hist:
        return None
    return {"start": hist["start"], "step": hist["step"], "counts": [0] * len(hist["counts"])}


def bin_sql(x: str, hist: Mapping[str, Any]) -> str:
    """SQL of the bin of ``x``: -1 below the first edge, n above the last, the last edge in."""
    start, step, n = hist["start"], hist["step"], len(hist["counts"])
    end = start + n * step
    return (
        f"CASE WHEN {x} < {start!r} THEN -1 WHEN {x} > {end!r} THEN {n} "
        f"WHEN {x} IS NOT NULL THEN "
        f"least(floor(({x} - {start!r}) / {step!r}), {n - 1})::INTEGER END"
    )


def bins_of(x: Any, hist: Mapping[str, Any]) -> Any:
    """NumPy of :func:`bin_sql`: -1 below the first edge, n above the last, the last edge in."""
    import numpy as np

    start, step, n = float(hist["start"]), float(hist["step"]), len(hist["counts"])
    end = start + n * step
    with np.errstate(invalid="ignore", over="ignore"):
        b = np.clip(np.floor((x - start) / step), -1, n - 1).astype(np.int64)
    b[x > end] = n
    return b


# ----------------------------------------------------------------------------- time buckets


def time_width(lo: float | None, hi: float | None, most: int) -> int:
    """The narrowest of :data:`TIME_WIDTHS` that covers ``[lo, hi]`` in at most ``most``."""
    if lo is None or hi is None:
        return TIME_WIDTHS[0]
    span = max(hi - lo, 1.0)
    for width in TIME_WIDTHS:
        if span / width <= most:
            return width
    return TIME_WIDTHS[-1]


def time_hist(lo: float | None, hi: float | None) -> dict[str, Any]:
    """The histogram of a time column: about 30 bins of one of :data:`TIME_WIDTHS`."""
    width = time_width(lo, hi, _TIME_HIST_BINS)
    lo = lo or 0.0
    hi = hi if hi is not None else lo
    start = math.floor(lo / width) * width
    n = max(math.floor((hi - start) / width) + 1, 1)
    return {"start": float(start), "step": float(width), "counts": [0] * n}


def bucket_quantile(
    buckets: Mapping[int, int], width: int, q: float, lo: Any, hi: Any
) -> float | None:
    """The ``q``-quantile of time buckets (a bucket's middle, clipped to ``[lo, hi]``)."""
    n = sum(buckets.values())
    if n == 0:
        return None
    rank = math.floor(q * (n - 1))
    seen = 0
    for key in sorted(buckets):
        seen += buckets[key]
        if seen > rank:
            return float(min(max(key * width + width / 2, lo), hi))
    return float(hi)


def coarsen(buckets: Mapping[int, int], width: int, to: int) -> dict[int, int]:
    """Buckets of ``width`` seconds counted into buckets of ``to`` (a multiple of it)."""
    if to == width:
        return dict(buckets)
    factor = to // width
    out: dict[int, int] = {}
    for k, v in buckets.items():
        key = k // factor
        out[key] = out.get(key, 0) + v
    return out


# ----------------------------------------------------------------------------- counts


def add_counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    """The counts of ``a`` and ``b`` added key by key."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def top_values(values: Mapping[Any, int], n: int) -> list[tuple[Any, int]]:
    """The ``n`` most frequent values with their counts (ties by value, as text)."""
    return sorted(values.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


def tally(into: dict[str, Any], keys: Any) -> None:
    """Add the counts of the integer ``keys`` (a NumPy array) to the dense counts ``into``.

    ``into`` holds ``lo`` (the key of the first count) and ``counts`` (a NumPy array), grown
    as batches bring keys outside the range; :func:`tallied` turns it into ``{key: count}``.
    """
    import numpy as np

    lo, hi = int(keys.min()), int(keys.max())
    found = np.bincount(keys - lo, minlength=hi - lo + 1)
    if "counts" not in into:
        into["lo"], into["counts"] = lo, found
        return
    old_lo, old = into["lo"], into["counts"]
    new_lo, new_hi = min(lo, old_lo), max(hi, old_lo + old.size - 1)
    if (new_lo, new_hi) != (old_lo, old_lo + old.size - 1):
        grown = np.zeros(new_hi - new_lo + 1, dtype=np.int64)
        grown[old_lo - new_lo : old_lo - new_lo + old.size] = old
        into["lo"], into["counts"], old_lo = new_lo, grown, new_lo
    into["counts"][lo - old_lo : lo - old_lo + found.size] += found


def tallied(into: Mapping[str, Any]) -> dict[int, int]:
    """``{key: count}`` of the keys :func:`tally` counted (none: empty)."""
    import numpy as np

    if "counts" not in into:
        return {}
    lo, counts = into["lo"], into["counts"]
    keys = np.flatnonzero(counts)
    return dict(zip((keys + lo).tolist(), counts[keys].tolist(), strict=True))


def hist_counts(hist: Mapping[str, Any] | None) -> list[int]:
    """``[below, *counts, above]`` of a histogram (empty for ``None``)."""
    if not hist:
        return []
    return [hist.get("below", 0), *hist["counts"], hist.get("above", 0)]


def same_edges(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two histograms have the same edges (both present)."""
    if not a or not b:
        return False
    return (a["start"], a["step"], len(a["counts"])) == (b["start"], b["step"], len(b["counts"]))


def merge_hists(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Two histograms on the same edges (see :func:`same_edges`) added bin by bin."""
    hist = dict(a)
    hist["counts"] = [x + y for x, y in zip(a["counts"], b["counts"], strict=True)]
    hist["below"] = a["below"] + b["below"]
    hist["above"] = a["above"] + b["above"]
    return hist
