"""Bootstrap intervals, vectorised: rows are resampled once, as a matrix, for every metric.

A :class:`Resampler` draws ``replicates`` resamples of the evaluated rows once (a
``(replicates, m)`` matrix of row numbers) and every metric is computed on all of them at once
with NumPy (gathers, ``bincount``, sums along an axis), never by a Python loop of scikit-learn
calls. Because the model and the trivial baseline are scored on the same resamples, their
intervals are paired.

How (decided here):

* **Percentile intervals.** The 95 % interval of a metric is the 2.5th and 97.5th percentiles
  of its values on the resamples (replicates where a metric is undefined, e.g. a ROC AUC on a
  resample of one class, are left out; with more than half of them undefined there is no
  interval).
* **m-out-of-n above a row cap.** A resample has ``m = min(n, max_rows)`` rows. When the data
  has more rows than that, the spread of the replicates around the metric of the whole data is
  scaled by ``sqrt(m / n)`` (the m-out-of-n bootstrap of Bickel, Götze and van Zwet), which is
  exact for the spread of a mean and consistent for the smooth metrics here. The work is then
  bounded (``replicates × max_rows`` gathers) however many rows are evaluated, and the
  interval of 1M rows is still the interval of 1M rows, not of the sample.
* **Centre.** The deviations are measured from the same estimator applied to all rows
  (``centre``), so that a metric computed approximately on the resamples (a ROC AUC on binned
  scores) is not shifted by its approximation; the interval is placed around the exact value.
* **Means of slices** (:func:`mean_intervals`): each slice is resampled within itself; a loss
  that is 0 or 1 (a misclassification) is resampled exactly by a binomial draw, any other by
  gathers of at most ``max_rows`` rows, scaled as above.

Not here: the metrics themselves (:mod:`noria.evaluate.evaluation`), curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_REPLICATES", "Resampler", "mean_intervals", "percentile_interval"]

#: Resamples drawn by default: enough for the 2.5th and 97.5th percentiles to be stable to a
#: few per cent of the interval's width.
DEFAULT_REPLICATES = 200
#: Rows in one resample by default; above it the m-out-of-n scaling applies.
DEFAULT_MAX_ROWS = 50_000
LEVEL = 0.95


def percentile_interval(
    replicates: np.ndarray,
    point: float,
    *,
    centre: float | None = None,
    scale: float = 1.0,
    level: float = LEVEL,
) -> tuple[float, float] | None:
    """The percentile interval of ``replicates``, placed around ``point``.

    Args:
        replicates: the metric on each resample (NaN where undefined).
        point: the metric on all rows (the value reported).
        centre: the same estimator as the replicates', on all rows (``point`` when ``None``).
        scale: ``sqrt(m / n)`` for m-out-of-n resamples, else 1.
        level: the coverage.

    Returns:
        ``(low, high)``, or ``None`` when the point or most replicates are undefined.
    """
    values = np.asarray(replicates, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    if not math.isfinite(point) or finite.size < max(2, values.size // 2):
        return None
    alpha = (1.0 - level) / 2.0
    low_q, high_q = np.quantile(finite, [alpha, 1.0 - alpha])
    base = point if centre is None or not math.isfinite(centre) else centre
    low = point + scale * (float(low_q) - base)
    high = point + scale * (float(high_q) - base)
    return float(low), float(high)


@dataclass(frozen=True)
class Resampler:
    """Resamples of ``n`` rows, drawn once: ``indices`` is ``(replicates, m)``.

    Build one with :meth:`draw`. ``take(array)`` gathers an array's rows for every resample.

    Attributes:
        n: the rows evaluated.
        indices: the row numbers of every resample.
        scale: ``sqrt(m / n)`` (1 when every resample has ``n`` rows).
    """

    n: int
    indices: np.ndarray
    scale: float

    @classmethod
    def draw(
        cls,
        n: int,
        *,
        replicates: int = DEFAULT_REPLICATES,
        max_rows: int = DEFAULT_MAX_ROWS,
        seed: int = 0,
    ) -> Resampler:
        """Draw ``replicates`` resamples of ``min(n, max_rows)`` rows (with replacement)."""
        m = max(1, min(n, max_rows))
        rng = np.random.default_rng(seed)
        dtype = np.int32 if n < 2**31 else np.int64
        indices = rng.integers(0, max(n, 1), size=(replicates, m), dtype=dtype)
        return cls(n=n, indices=indices, scale=math.sqrt(m / n) if n else 1.0)

    @property
    def replicates(self) -> int:
        """How many resamples."""
        return int(self.indices.shape[0])

    def take(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per row, or one row per row) for every resample."""
        return np.asarray(values)[self.indices]

    def summarise(
        self, replicates: np.ndarray, point: float, *, centre: float | None = None
    ) -> tuple[float, float] | None:
        """The interval of ``point`` from a statistic's values on the resamples (see
        :func:`percentile_interval`; ``centre``: the statistic on all rows, ``point`` if
        ``None``)."""
        return percentile_interval(replicates, point, centre=centre, scale=self.scale)

    def interval(
        self,
        statistic: Callable[..., np.ndarray],
        arrays: Sequence[np.ndarray],
        point: float | None = None,
    ) -> tuple[float, tuple[float, float] | None]:
        """``(value, interval)`` of a vectorised ``statistic``.

        ``statistic(*gathered)`` receives each array gathered as ``(replicates, m, ...)`` and
        returns one value per resample; called on the arrays as one resample of all rows it
        gives the centre (and the value, unless ``point`` is given).
        """
        whole = [np.asarray(a)[None, ...] for a in arrays]
        centre = float(np.asarray(statistic(*whole)).ravel()[0])
        value = centre if point is None else float(point)
        replicated = statistic(*(self.take(a) for a in arrays))
        return value, percentile_interval(replicated, value, centre=centre, scale=self.scale)


def mean_intervals(
    values: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    *,
    replicates: int = DEFAULT_REPLICATES,
    max_rows: int = 2_000,
    seed: int = 0,
) -> list[tuple[float, tuple[float, float] | None]]:
    """The mean of ``values`` in each group and its bootstrap interval (within the group).

    Args:
        values: one number per row (a per-row loss).
        groups: each row's group, ``0 … n_groups - 1`` (``-1``: in no group).
        n_groups: how many groups.
        replicates: resamples per group.
        max_rows: most rows in one group's resample (m-out-of-n above it).
        seed: the random seed.

    Returns:
        ``(mean, interval)`` per group; ``(nan, None)`` for an empty group.
    """
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    groups = np.asarray(groups)
    inside = groups >= 0
    counts = np.bincount(groups[inside], minlength=n_groups)
    sums = np.bincount(groups[inside], weights=values[inside], minlength=n_groups)
    binary = bool(np.isin(values, (0.0, 1.0)).all())
    if not binary:  # rows of each group together (a radix sort of small codes)
        small = groups.astype(np.int16) if n_groups < 2**15 else groups
        order = np.argsort(small, kind="stable")
        sorted_values = values[order]
        starts = np.searchsorted(groups[order], np.arange(n_groups))
        uniform = rng.random((replicates, max_rows))
    out: list[tuple[float, tuple[float, float] | None]] = []
    for g in range(n_groups):
        size = int(counts[g])
        if size == 0:
            out.append((float("nan"), None))
            continue
        mean = float(sums[g] / size)
        if binary:  # exact: the count of ones in a resample is binomial
            draws = rng.binomial(size, min(max(mean, 0.0), 1.0), size=replicates) / size
            out.append((mean, percentile_interval(draws, mean)))
            continue
        part = sorted_values[starts[g] : starts[g] + size]
        m = min(size, max_rows)
        picks = (uniform[:, :m] * size).astype(np.int64)
        draws = part[picks].mean(axis=1)
        out.append((mean, percentile_interval(draws, mean, scale=math.sqrt(m / size))))
    return out
