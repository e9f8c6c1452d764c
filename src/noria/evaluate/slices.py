"""Slices of the evaluated rows, their metrics, and the search for weak segments.

A slice is the rows where one column takes one value (categorical columns) or falls in one
quantile bin (numeric columns), and a two-column segment is the rows in a slice of each of two
columns. Decided here:

* **Bounded.** A categorical column gives at most ``max_values`` slices: its most frequent
  values that have at least ``min_rows`` rows; the rest are one slice, ``(other)``. A column of
  100,000 distinct values is therefore a handful of slices (an identifier column, whose every
  value is rare, gives none and is left out). A numeric column gives ``bins`` quantile bins
  (fewer when values repeat); one with at most ``bins`` distinct values is taken as categorical.
  Missing values are a slice of their own, ``(missing)``.
* **The metric of a slice** is the mean of a per-row loss (a misclassification, 0 or 1, or an
  absolute error), shown as accuracy (classification) or MAE (regression), with a bootstrap
  interval within the slice (:func:`~noria.evaluate.intervals.mean_intervals`).
* **Weak segments** (:func:`weak_segments`): every slice and every two-column segment of at
  least ``min_rows`` rows is tested against the rest of the rows (one-sided Welch test of the
  mean loss: is it higher?). The p-values of all tested segments are corrected together by
  Benjamini–Hochberg; a segment is *weak* when its corrected p-value (q) is at most ``alpha``.
  Under no real difference the chance of reporting anything is then at most ``alpha``. A
  two-column segment is reported only when it is also worse than the rest of each of its two
  slices (p ≤ ``alpha``): otherwise it only repeats a slice. Two-column segments are searched
  among the ``max_pair_columns`` columns whose slices differ most (bounded work on wide data).
  Weak segments are ranked by their excess loss, ``rows × (segment's mean loss − overall)``
  (for classification: the errors beyond the overall rate): the segment that explains most of
  the shortfall comes first, before a smaller one inside it.

Not here: the metrics of the whole (:mod:`noria.evaluate.scores`), fairness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from noria.evaluate.intervals import mean_intervals

__all__ = ["MISSING", "OTHER", "SliceColumn", "slice_columns", "slice_table", "weak_segments"]

MISSING = "(missing)"
OTHER = "(other)"


@dataclass(frozen=True)
class SliceColumn:
    """One column cut into slices.

    Attributes:
        name: the column.
        kind: ``categorical`` or ``numeric``.
        labels: each slice's label (a value, ``(other)``, ``(missing)`` or a bin ``[a, b)``).
        codes: each row's slice, ``0 … len(labels) - 1``.
        folded: how many distinct values went into ``(other)``.
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    codes: np.ndarray
    folded: int = 0


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _categorical(name: str, values: Any, max_values: int, min_rows: int) -> SliceColumn | None:
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    keep = [int(i) for i in order[:max_values] if counts[i] >= min_rows]
    folded = len(uniques) - len(keep)
    lookup = np.full(len(uniques) + 1, -1, dtype=np.int32)  # the last entry: missing
    labels = [_text(uniques[i]) for i in keep]
    lookup[keep] = np.arange(len(keep), dtype=np.int32)
    if folded:
        lookup[:-1][lookup[:-1] < 0] = len(labels)
        labels.append(OTHER)
    if (codes < 0).any():
        lookup[-1] = len(labels)
        labels.append(MISSING)
    if len(labels) < 2:
        return None
    out = lookup[np.where(codes < 0, len(uniques), codes)]
    return SliceColumn(name, "categorical", tuple(labels), out, folded)


def _numeric(name: str, values: np.ndarray, bins: int, fmt: Any) -> SliceColumn | None:
    """Quantile bins, or ``None`` when the column has at most ``bins`` distinct values (then
    it is sliced as categorical). The quantiles are computed once, at ``k / (2 bins)``: when
    they repeat, the distinct values are counted; the bin edges are every second of them."""
    missing = np.isnan(values)
    present = values[~missing]
    if present.size == 0:
        return None
    quantiles = np.quantile(present, np.linspace(0, 1, 2 * bins + 1))
    if np.unique(quantiles).size <= bins and np.unique(present).size <= bins:
        return None
    edges = np.unique(quantiles[2:-1:2])
    edges = edges[(edges > present.min()) & (edges <= present.max())]
    codes = np.searchsorted(edges, values, side="right").astype(np.int32)
    bounds = [*edges.tolist()]
    labels = []
    for i in range(edges.size + 1):
        if i == 0:
            labels.append(f"< {fmt(bounds[0])}" if bounds else "all")
        elif i == edges.size:
            labels.append(f">= {fmt(bounds[-1])}")
        else:
            labels.append(f"[{fmt(bounds[i - 1])}, {fmt(bounds[i])})")
    if missing.any():
        codes[missing] = len(labels)
        labels.append(MISSING)
    if len(labels) < 2:
        return None
    return SliceColumn(name, "numeric", tuple(labels), codes)


def slice_columns(
    frame: Any,
    columns: list[str] | None = None,
    *,
    bins: int = 5,
    max_values: int = 10,
    min_rows: int = 1,
) -> list[SliceColumn]:
    """The columns of ``frame`` cut into slices (see the module docstring).

    Args:
        frame: a pandas DataFrame.
        columns: the columns to cut (all when ``None``).
        bins: quantile bins of a numeric column.
        max_values: most values of a categorical column kept as slices of their own.
        min_rows: fewer rows: the value goes into ``(other)``.
    """
    import pandas as pd

    out = []
    for name in columns if columns is not None else list(frame.columns):
        series = frame[name]
        column: SliceColumn | None
        column: SliceColumn | None = None
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if pd.api.types.is_datetime64_any_dtype(series):
            stamps = pd.to_datetime(series)
            values = stamps.astype("int64").to_numpy(dtype=float)
            values[stamps.isna().to_numpy()] = np.nan

            def when(v: float) -> str:
                return str(pd.Timestamp(int(v)).date())

            column = _numeric(str(name), values, bins, when)
        elif numeric:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            column = _numeric(str(name), values, bins, _text)
        if column is None:  # text, booleans, or few distinct values
            column = _categorical(str(name), series, max_values, min_rows)
        if column is not None:
            out.append(column)
    return out


def slice_table(
    columns: list[SliceColumn],
    loss: np.ndarray,
    *,
    to_metric: Any,
    replicates: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Every slice's rows, share, metric and interval.

    Args:
        columns: the sliced columns.
        loss: the per-row loss.
        to_metric: maps a mean loss to the metric shown (``1 - x`` for accuracy); monotone.
        replicates: resamples per slice.
        seed: the random seed.
    """
    n = max(loss.size, 1)
    rows: list[dict[str, Any]] = []
    for column in columns:
        k = len(column.labels)
        counts = np.bincount(column.codes, minlength=k)
        means = mean_intervals(loss, column.codes, k, replicates=replicates, seed=seed)
        for code, label in enumerate(column.labels):
            mean, interval = means[code]
            bounds = sorted(to_metric(v) for v in interval) if interval else [None, None]
            rows.append(
                {
                    "column": column.name,
                    "slice": label,
                    "rows": int(counts[code]),
                    "share": float(counts[code] / n),
                    "metric": to_metric(mean) if math.isfinite(mean) else None,
                    "low": bounds[0],
                    "high": bounds[1],
                }
            )
    return rows


# --------------------------------------------------------------------------- weak segments


def _sums(codes: np.ndarray, loss: np.ndarray, k: int, binary: bool) -> tuple[np.ndarray, ...]:
    """Rows, sum and sum of squares of the loss per code (for a 0/1 loss the two sums agree)."""
    count = np.bincount(codes, minlength=k).astype(float)
    total = np.bincount(codes, weights=loss, minlength=k)
    return count, total, total if binary else np.bincount(codes, weights=loss * loss, minlength=k)


def _welch(
    n1: np.ndarray, s1: np.ndarray, q1: np.ndarray, n2: np.ndarray, s2: np.ndarray, q2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-values that group 1's mean exceeds group 2's, and group 1's mean."""
    from scipy.special import ndtr

    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m2 = s1 / n1, s2 / n2
        v1 = np.maximum(q1 - n1 * m1 * m1, 0) / np.maximum(n1 - 1, 1)
        v2 = np.maximum(q2 - n2 * m2 * m2, 0) / np.maximum(n2 - 1, 1)
        se = np.sqrt(v1 / n1 + v2 / n2)
        diff = m1 - m2
        z = np.where(se > 0, diff / np.where(se > 0, se, 1), np.where(diff > 0, np.inf, 0.0))
    p = ndtr(-z)
    return np.where((n1 > 0) & (n2 > 0), p, 1.0), m1


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def weak_segments(
    columns: list[SliceColumn],
    loss: np.ndarray,
    *,
    min_rows: int,
    alpha: float = 0.05,
    max_pair_columns: int = 12,
    limit: int = 20,
) -> dict[str, Any]:
    """Segments whose mean loss is significantly higher than the rest's, ranked.

    Args:
        columns: the sliced columns.
        loss: the per-row loss (higher is worse).
        min_rows: the fewest rows a segment may have.
        alpha: the false discovery rate (Benjamini–Hochberg over every tested segment).
        max_pair_columns: two-column segments are searched among this many columns.
        limit: most segments returned.

    Returns:
        ``{"tested": how many segments, "segments": [...]}``; each segment has ``columns``,
        ``values``, ``rows``, ``mean_loss``, ``rest_loss``, ``p``, ``q`` and ``excess``.
    """
    loss = np.asarray(loss, dtype=float)
    binary = bool(np.isin(loss, (0.0, 1.0)).all())
    n = loss.size
    total, total_sq = float(loss.sum()), float((loss * loss).sum())
    overall = total / n if n else 0.0
    found: list[dict[str, Any]] = []  # candidates, before correction
    strength: dict[int, float] = {}
    singles: dict[tuple[int, int], tuple[float, float, float]] = {}
    for j, column in enumerate(columns):
        k = len(column.labels)
        cnt, s, q = _sums(column.codes, loss, k, binary)
        p, mean = _welch(cnt, s, q, n - cnt, total - s, total_sq - q)
        for code in range(k):
            singles[(j, code)] = (cnt[code], s[code], q[code])
            if cnt[code] >= min_rows and n - cnt[code] > 0:
                found.append(
                    {
                        "key": ((j, code),),
                        "rows": cnt[code],
                        "mean": mean[code],
                        "p": p[code],
                        "rest": (total - s[code]) / (n - cnt[code]),
                    }
                )
        sizable = cnt >= min_rows
        strength[j] = float(-np.log(np.maximum(p[sizable], 1e-300)).max()) if sizable.any() else 0
    pair_columns = sorted(strength, key=lambda j: -strength[j])[:max_pair_columns]
    pair_columns.sort()
    within: dict[tuple[Any, ...], bool] = {}
    for a_pos, a in enumerate(pair_columns):
        for b in pair_columns[a_pos + 1 :]:
            ka, kb = len(columns[a].labels), len(columns[b].labels)
            code = columns[a].codes.astype(np.int64) * kb + columns[b].codes
            cnt, s, q = _sums(code, loss, ka * kb, binary)
            p, mean = _welch(cnt, s, q, n - cnt, total - s, total_sq - q)
            for cell in np.flatnonzero((cnt >= min_rows) & (n - cnt > 0)):
                ca, cb = divmod(int(cell), kb)
                key = ((a, ca), (b, cb))
                found.append(
                    {
                        "key": key,
                        "rows": cnt[cell],
                        "mean": mean[cell],
                        "p": p[cell],
                        "rest": (total - s[cell]) / (n - cnt[cell]),
                    }
                )
                worse = True
                for parent in key:  # worse than the rest of each of its slices?
                    pn, ps, pq = singles[parent]
                    rest = _welch(
                        np.array([cnt[cell]]),
                        np.array([s[cell]]),
                        np.array([q[cell]]),
                        np.array([pn - cnt[cell]]),
                        np.array([ps - s[cell]]),
                        np.array([pq - q[cell]]),
                    )[0][0]
                    worse = worse and bool(rest <= alpha)
                within[key] = worse
    p_values = np.array([f["p"] for f in found], dtype=float)
    q_values = _benjamini_hochberg(p_values)
    segments = []
    for f, q in zip(found, q_values, strict=True):
        if q > alpha or f["mean"] <= f["rest"] or not within.get(f["key"], True):
            continue
        segments.append(
            {
                "columns": [columns[j].name for j, _ in f["key"]],
                "values": [columns[j].labels[c] for j, c in f["key"]],
                "rows": int(f["rows"]),
                "mean_loss": float(f["mean"]),
                "rest_loss": float(f["rest"]),
                "p": float(f["p"]),
                "q": float(q),
                "excess": float(f["rows"] * (f["mean"] - overall)),
            }
        )
    segments.sort(key=lambda g: (-g["excess"], g["q"]))
    return {
        "tested": len(found),
        "alpha": alpha,
        "min_rows": min_rows,
        "overall_loss": overall,
        "segments": segments[:limit],
    }
