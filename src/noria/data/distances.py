"""Distances between two column profiles: PSI, Jensen–Shannon, chi-square, KS, Wasserstein.

Everything here reads two :class:`~noria.data.profile.ColumnProfile` objects, never the data, and
is shared by validation's skew check (:mod:`noria.data.validate`) and the drift tests
(:mod:`noria.monitor.drift_tests`): one implementation of each distance.

Bins (:func:`paired_counts`): numbers and times are counted on the reference histogram's bins,
with ``below`` and ``above`` as two more bins (a profile made with ``reference=`` shares the
edges; otherwise the current sketch is re-binned onto the reference's edges); strings and
booleans on the categories both sides know the count of (every category, when a side kept them
all), plus one bin ``other`` for the rest of each side, so that an unseen category is a bin of
its own with a reference count of 0.

Nulls, decided here once (:func:`column_psi`): a distance compares the distributions of the
*values*; the nulls are a bin of their own only where nothing else watches the null rate.

* Validation's skew check (``nulls=True``): it is the only distribution check of a batch, so
  a column whose null share jumps (1 % in training, 30 % now) departs from the training data
  although its values do not move; the null bin makes the PSI say so.
* Drift (``nulls=False``): the null rate has its own test (a two-proportion z-test,
  :mod:`noria.monitor.drift_tests`), so the distances compare the non-null values only and a
  null jump is not counted twice (as Evidently, which drops nulls).

An empty bin counts as :data:`PSI_EPSILON` in the PSI. Customary reading of the PSI: < 0.1
stable, 0.1–0.2 moderate, > 0.2 a shift.

Not here: which test decides drift and its threshold (:mod:`noria.monitor.drift`), the sketches
themselves (:mod:`noria.data.sketch`, :mod:`noria.data.histogram`).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from noria.data.histogram import hist_counts, same_edges
from noria.data.sketch import SKETCH_ALPHA, key_values

if TYPE_CHECKING:
    from noria.data.profile_record import ColumnProfile

__all__ = [
    "PSI_EPSILON",
    "chi2",
    "column_psi",
    "is_constant",
    "js",
    "ks_distance",
    "ks_p_value",
    "paired_counts",
    "psi",
    "spread",
    "wasserstein",
]

#: The share an empty bin counts as in the PSI (as in Evidently).
PSI_EPSILON = 1e-4


# ----------------------------------------------------------------------------- count vectors


def psi(r: np.ndarray, c: np.ndarray) -> float:
    """Population stability index ``sum((q - p) * ln(q / p))`` of two count vectors over the
    same bins (shares below :data:`PSI_EPSILON` count as it); 0 when a side is empty."""
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    p = np.maximum(r / sr, PSI_EPSILON)
    q = np.maximum(c / sc, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def js(r: np.ndarray, c: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) of two count vectors over the same bins."""
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    p, q = r / sr, c / sc
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.sum(np.where(p > 0, p * np.log2(p / m), 0.0))
        kl_q = np.sum(np.where(q > 0, q * np.log2(q / m), 0.0))
    return float(math.sqrt(min(max((kl_p + kl_q) / 2, 0.0), 1.0)))


def chi2(r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of the 2 × k table ``[r, c]``: ``(chi2, p-value)``."""
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    sr, sc = r.sum(), c.sum()
    if r.size < 2 or sr <= 0 or sc <= 0:
        return 0.0, 1.0
    from scipy.special import chdtrc

    total = sr + sc
    col = r + c
    er, ec = col * sr / total, col * sc / total
    stat = float(np.sum((r - er) ** 2 / er) + np.sum((c - ec) ** 2 / ec))
    return stat, float(chdtrc(r.size - 1, stat))


def _cdf_gap(r: np.ndarray, c: np.ndarray) -> float:
    """Largest gap between the CDFs of two count vectors over the same ordered bins."""
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    return float(np.max(np.abs(np.cumsum(r) / sr - np.cumsum(c) / sc)))


# ----------------------------------------------------------------------------- bins


#: The last pair :func:`paired_counts` binned and its bins, per thread (several tests bin the
#: same pair in a row; a thread of its own never sees another's pair).
_memo = threading.local()


def paired_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the non-null values of ``ref`` and ``cur`` over the same bins (see the module
    docstring): histogram bins of numbers and times, categories of strings and booleans."""
    last = getattr(_memo, "last", None)
    if last is not None and last[0] is ref and last[1] is cur:
        return last[2]
    if ref.kind in ("numeric", "temporal"):
        if same_edges(ref.hist, cur.hist):
            out = _hist_vector(ref), _hist_vector(cur)
        else:
            out = _rebinned(ref, ref), _rebinned(cur, ref)
    else:
        out = _categories(ref, cur)
    _memo.last = (ref, cur, out)
    return out


def _hist_vector(col: ColumnProfile) -> np.ndarray:
    """``[below, *counts, above]`` of the histogram."""
    return np.array(hist_counts(col.hist), dtype=np.float64)


def _sketch_arrays(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's keys (sorted: key order is value order) and counts."""
    n = len(col.sketch)
    keys = np.fromiter(col.sketch.keys(), dtype=np.int64, count=n)
    counts = np.fromiter(col.sketch.values(), dtype=np.float64, count=n)
    order = np.argsort(keys)
    return keys[order], counts[order]


def _rebinned(col: ColumnProfile, ref: ColumnProfile) -> np.ndarray:
    """``col``'s sketch counted into the bins of ``ref``'s histogram (plus below and above)."""
    keys, counts = _sketch_arrays(col)
    values = key_values(keys, col.min, col.max)
    h = ref.hist
    if not h:  # no reference edges: the sketch buckets themselves (order kept by key)
        return counts
    start, step, n = float(h["start"]), float(h["step"]), len(h["counts"])
    with np.errstate(invalid="ignore", over="ignore"):
        idx = np.clip(np.floor((values - start) / step), -1, n - 1)
    idx[values > start + n * step] = n
    return np.bincount((idx + 1).astype(np.int64), weights=counts, minlength=n + 2)


def _categories(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Counts per category both sides know, and ``other`` for the rest of each side."""
    r: list[int] = []
    c: list[int] = []
    for value in dict.fromkeys([*ref.values, *cur.values]):
        in_r = value in ref.values or ref.values_complete
        in_c = value in cur.values or cur.values_complete
        if in_r and in_c:
            r.append(ref.values.get(value, 0))
            c.append(cur.values.get(value, 0))
    other_r, other_c = ref.non_null - sum(r), cur.non_null - sum(c)
    if other_r > 0 or other_c > 0:
        r.append(max(other_r, 0))
        c.append(max(other_c, 0))
    return np.array(r, dtype=np.float64), np.array(c, dtype=np.float64)


def column_psi(ref: ColumnProfile, cur: ColumnProfile, *, nulls: bool) -> float | None:
    """The PSI of ``cur`` against ``ref`` over :func:`paired_counts`, with the nulls as one
    more bin when ``nulls`` (see the module docstring for who asks for which).

    ``None`` when there is nothing to compare: the kinds differ, a side has no rows, the
    reference has no values (all null), or a time column's current histogram has other edges
    than the reference's (times have no sketch to re-bin).
    """
    if ref.kind != cur.kind or not ref.count or not cur.count or not ref.non_null:
        return None
    if ref.kind in ("numeric", "temporal"):
        if not ref.hist:
            return None
        if ref.kind == "temporal" and cur.non_null and not same_edges(ref.hist, cur.hist):
            return None
    r, c = paired_counts(ref, cur)
    if nulls:
        r, c = np.append(r, ref.nulls), np.append(c, cur.nulls)
    if r.sum() <= 0 or c.sum() <= 0:
        return None
    return psi(r, c)


# ----------------------------------------------------------------------------- numbers


def is_constant(col: ColumnProfile) -> bool:
    """Whether the column holds one value (min == max)."""
    return col.min is not None and col.min == col.max


def spread(ref: ColumnProfile) -> float:
    """The reference's spread: its std, or ``|constant|`` (1 for 0) when it is constant."""
    std = ref.std
    if not is_constant(ref) and std and math.isfinite(std):
        return std
    c = abs(float(ref.min)) if ref.min is not None else 0.0
    return c if c > 0 and math.isfinite(c) else 1.0


def ks_distance(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """The KS D: the largest gap between the two empirical CDFs at every bucket boundary of
    the sketches and, when the edges are shared, at every histogram edge (a lower bound of
    the exact D that misses only differences inside one bucket)."""
    kr, cr = _sketch_arrays(ref)
    kc, cc = _sketch_arrays(cur)
    keys = np.union1d(kr, kc)
    r = np.zeros(keys.size)
    c = np.zeros(keys.size)
    r[np.searchsorted(keys, kr)] = cr
    c[np.searchsorted(keys, kc)] = cc
    d = _cdf_gap(r, c) if keys.size else 0.0
    if same_edges(ref.hist, cur.hist):
        d = max(d, _cdf_gap(_hist_vector(ref), _hist_vector(cur)))
    return d


def ks_p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value with Stephens' small-sample correction."""
    if d <= 0 or not n or not m:
        return 1.0
    from scipy.special import kolmogorov

    en = math.sqrt(n * m / (n + m))
    return float(min(max(kolmogorov((en + 0.12 + 0.11 / en) * d), 0.0), 1.0))


def _hist_atoms(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Positions (bin midpoints; below and above halfway to min and max) and counts."""
    h: Any = col.hist or {}
    start, step, n = float(h["start"]), float(h["step"]), len(h["counts"])
    end = start + n * step
    lo = float(col.min) if col.min is not None else start
    hi = float(col.max) if col.max is not None else end
    mids = start + (np.arange(n) + 0.5) * step
    x = np.concatenate(
        [[(min(lo, start) + start) / 2], np.clip(mids, lo, hi), [(end + max(hi, end)) / 2]]
    )
    return x, _hist_vector(col)


def _w1(xr: np.ndarray, wr: np.ndarray, xc: np.ndarray, wc: np.ndarray) -> float:
    """Wasserstein-1 distance of two weighted point sets on the line."""
    sr, sc = wr.sum(), wc.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    x = np.concatenate([xr, xc])
    w = np.concatenate([wr / sr, -wc / sc])
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    gap = np.cumsum(w)[:-1]
    return float(np.sum(np.abs(gap) * np.diff(x)))


def wasserstein(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """W1 over the sketches, or over the shared histogram where it is the finer of the two
    (a narrow distribution far from zero, such as 1000 ± 1)."""
    if same_edges(ref.hist, cur.hist):
        median = ref.quantile(0.5)
        bucket = 2 * SKETCH_ALPHA * abs(median) if median is not None else 0.0
        if ref.hist and float(ref.hist["step"]) < bucket:
            xr, wr = _hist_atoms(ref)
            xc, wc = _hist_atoms(cur)
            return _w1(xr, wr, xc, wc)
    kr, cr = _sketch_arrays(ref)
    kc, cc = _sketch_arrays(cur)
    return _w1(key_values(kr, ref.min, ref.max), cr, key_values(kc, cur.min, cur.max), cc)
