"""A mergeable rank sketch (KLL) for the quantiles of a profile's numeric columns.

Why a second sketch next to the log-bucket one of :mod:`noria.data.sketch`: that sketch has
*relative* accuracy (1 % of the value), which says nothing useful about a column whose range is
small next to its magnitude: the years 2003 to 2010 all fall in one or two buckets (1 % of 2,000
is 20 years), and so do epoch seconds over a month or prices of 1,000,000 plus a few units. The
quantiles of a report are about *ranks* ("a quarter of the values are below this"), so they come
from a sketch whose error is bounded in rank: KLL (Karnin, Lang and Liberty, "Optimal quantile
approximation in streams", FOCS 2016), the sketch of Apache DataSketches' ``kll``.

The sketch is a list of *levels*; an item of level ``h`` stands for ``2**h`` values of the data.
Values enter level 0; a level that outgrows its capacity (``k`` for the top level, two thirds
of the next one's below it) is *compacted*: sorted, and every other item (even or odd positions,
by a deterministic coin) moves one level up, where it weighs twice as much; an odd item out
stays. A compaction moves any rank by at most the weight of the level, and the coins make those
moves cancel rather than add up. Two sketches merge by adding their levels and compacting: the
union's sketch, with the same guarantee, whatever the order and number of merges (a monitor
merges one window after another).

Accuracy (:data:`RANK_K` = 400): a quantile is the value of the data at a rank within about
0.5 % of the rank asked (the normalised rank error of KLL at this ``k``; the property test of
``tests/data/test_profile.py`` checks 1.5 % against ``numpy.quantile`` on columns of many
magnitudes, offsets and ranges). Below about ``k`` values nothing is compacted and the quantiles
are exact. The sketch keeps at most about ``3 * k`` values (1,200 numbers per column).

Everything is NumPy on whole batches: the cost of a batch is a sort of it (plus sorts of halves of
it, each nearly sorted already), which is cheaper than the other parts of the numbers pass.

Not here: the log-bucket sketch (relative accuracy, fixed keys shared by every profile, which the
drift tests compare bucket by bucket) and the histogram: :mod:`noria.data.sketch` and
:mod:`noria.data.histogram`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["RANK_K", "add", "frozen", "levels_of", "merge", "quantile", "weight"]

#: The size parameter of the sketch: the top level's capacity (normalised rank error ~ 2/k).
RANK_K = 400
_SHRINK = 2 / 3  # each level's capacity is this much of the next one's (KLL's c)
_MIN_CAPACITY = 2

Levels = list[Any]  # NumPy arrays, level h first; an item of level h weighs 2**h


def _capacity(h: int, height: int, k: int) -> int:
    return max(_MIN_CAPACITY, math.ceil(k * _SHRINK ** (height - 1 - h)))


def _coin(n: int, h: int, size: int) -> int:
    """A deterministic fair bit (splitmix64 of the sketch's state): which half moves up."""
    z = (n * 0x9E3779B97F4A7C15 + h * 0xBF58476D1CE4E5B9 + size) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 1


def _compress(levels: Levels, k: int) -> Levels:
    """Compact the lowest full level until the sketch fits its capacity (KLL's compress)."""
    import numpy as np

    n = weight(levels)
    while True:
        height = len(levels)
        caps = [_capacity(h, height, k) for h in range(height)]
        sizes = [lv.size for lv in levels]
        if sum(sizes) <= sum(caps):
            return levels
        h = next(h for h in range(height) if sizes[h] >= caps[h])
        if h + 1 == height:
            levels.append(np.empty(0, dtype=np.float64))
        items = np.sort(levels[h], kind="stable")  # a few sorted runs: merged in O(n)
        odd = items.size % 2
        moved = items[odd:][_coin(n, h, items.size) :: 2]
        levels[h] = items[:odd]
        levels[h + 1] = np.concatenate([levels[h + 1], moved]) if levels[h + 1].size else moved


def add(levels: Levels, values: Any, k: int = RANK_K) -> Levels:
    """The sketch ``levels`` with the NumPy array ``values`` (no NaN) added; ``levels`` is
    changed in place and returned (``[]`` is the empty sketch)."""
    import numpy as np

    values = np.sort(np.asarray(values, dtype=np.float64))  # levels hold sorted runs
    if not values.size:
        return levels
    # A batch larger than k would be compacted level after level as soon as it arrives: do
    # those compactions here on the sorted batch, each a strided view (no sort, no copy), the
    # odd item out of each staying at its level, as _compress would leave it.
    n = weight(levels) + values.size
    pieces: list[tuple[int, Any]] = []
    h = 0
    while values.size > 2 * k:
        odd = values.size % 2
        if odd:
            pieces.append((h, values[:1]))
        values = values[odd:][_coin(n, h, values.size) :: 2]
        h += 1
    pieces.append((h, np.ascontiguousarray(values)))
    for h, part in pieces:
        while len(levels) <= h:
            levels.append(np.empty(0, dtype=np.float64))
        levels[h] = np.concatenate([levels[h], part]) if levels[h].size else part
    return _compress(levels, k)


def merge(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], k: int = RANK_K) -> Levels:
    """The sketch of the union of the data of two sketches (levels added, then compacted)."""
    import numpy as np

    levels = [np.asarray(lv, dtype=np.float64) for lv in a]
    for h, lv in enumerate(b):
        part = np.asarray(lv, dtype=np.float64)
        if h < len(levels):
            levels[h] = np.concatenate([levels[h], part])
        else:
            levels.append(part)
    return _compress(levels, k)


def weight(levels: Sequence[Any]) -> int:
    """How many values the sketch stands for."""
    return sum(len(lv) << h for h, lv in enumerate(levels))


def frozen(levels: Sequence[Any]) -> tuple[tuple[float, ...], ...]:
    """The levels as tuples of floats, each sorted (what a frozen profile holds)."""
    import numpy as np

    out = [tuple(np.sort(np.asarray(lv, dtype=np.float64)).tolist()) for lv in levels]
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def levels_of(data: Any) -> tuple[tuple[float, ...], ...]:
    """The levels of a profile's JSON (``[[...], ...]``), as :func:`frozen` gives them."""
    return tuple(tuple(float(v) for v in lv) for lv in (data or ()))


def quantile(levels: Sequence[Sequence[float]], q: float) -> float | None:
    """The value at rank ``floor(q * (n - 1))`` (0-based, ``numpy.quantile``'s ``lower``).

    Exact while nothing was compacted; else within the sketch's rank error. ``None`` when empty.
    """
    import numpy as np

    parts = [np.asarray(lv, dtype=np.float64) for lv in levels]
    values = np.concatenate(parts) if parts else np.empty(0)
    if not values.size:
        return None
    weights = np.concatenate([np.full(p.size, 1 << h, dtype=np.int64) for h, p in enumerate(parts)])
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    rank = math.floor(min(max(q, 0.0), 1.0) * (int(cumulative[-1]) - 1))
    return float(values[order][np.searchsorted(cumulative, rank, side="right")])
