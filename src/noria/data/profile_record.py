"""The profile records: :class:`ColumnProfile` and :class:`Profile`, and how they merge.

A profile holds, per column, what one pass over the data counted (see :mod:`noria.data.profile`
for the parts and what merges exactly); this module is the record, its derived figures
(``std``, ``distinct``, quantiles, gaps), its JSON form (``noria.profile/1``, the stored
artifact) and :func:`merge_profiles`.

Not here: computing a profile (:mod:`noria.data.profiling`), the sketches' own arithmetic
(:mod:`noria.data.sketch`, :mod:`noria.data.ranks`, :mod:`noria.data.hll`,
:mod:`noria.data.histogram`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from noria.data import hll
from noria.data import ranks as kll
from noria.data.histogram import (
    MAX_TIME_BUCKETS,
    TIME_WIDTHS,
    add_counts,
    bucket_quantile,
    coarsen,
    merge_hists,
    same_edges,
    time_width,
    top_values,
)
from noria.data.kinds import ColumnKind, is_integer_type
from noria.data.sketch import sketch_quantile
from noria.errors import DataError

__all__ = ["MAX_VALUES", "QUANTILES", "TOP_K", "ColumnProfile", "Profile", "merge_profiles"]

#: Most distinct strings a profile keeps every count of (the category domain).
MAX_VALUES = 1000
#: Top values kept when a column has more distinct values than MAX_VALUES.
TOP_K = 50
#: Quantiles shown in reports and used by skew tests.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class ColumnProfile:
    """The statistics of one column. Times are epoch seconds; see :meth:`to_dict` for JSON.

    Attributes:
        name: The column's name.
        dtype: Its DuckDB type (``BIGINT``, ``DOUBLE``, ``VARCHAR``, ``TIMESTAMP``, …).
        kind: ``numeric``, ``boolean``, ``temporal`` or ``string``.
        count: Rows, nulls included.
        nulls: Null (or NaN) values.
        min, max: Smallest and largest value (numbers, epoch seconds, or strings); ``None``
            when every value is null.
        mean, m2: Mean and sum of squared deviations of numbers and times (``std`` from them).
        sketch: Quantile sketch: ``{key: count}`` of log buckets (numbers only).
        ranks: Rank sketch (numbers only): the levels of a KLL sketch, level ``h`` holding
            sorted values that weigh ``2**h`` each (:mod:`noria.data.ranks`); the quantiles.
        hist: ``{"start", "step", "counts", "below", "above"}`` on fixed edges, or ``None``.
        values: ``{value: count}`` of strings and booleans (all of them when
            ``values_complete``, else the :data:`TOP_K` most frequent).
        values_complete: Whether ``values`` holds every distinct value.
        hll: HyperLogLog registers (``None`` for booleans).
        distinct_exact: The exact distinct count when it is known, else ``None``.
        len_min, len_max, len_sum: String lengths (strings only).
        time_width, time_buckets: Bucket width (s) and ``{bucket: count}`` of times.
    """

    name: str
    dtype: str
    kind: ColumnKind
    count: int = 0
    nulls: int = 0
    min: Any = None
    max: Any = None
    mean: float | None = None
    m2: float | None = None
    sketch: dict[int, int] = field(default_factory=dict)
    ranks: tuple[tuple[float, ...], ...] = ()
    hist: dict[str, Any] | None = None
    values: dict[Any, int] = field(default_factory=dict)
    values_complete: bool = True
    hll: tuple[int, ...] | None = None
    distinct_exact: int | None = None
    len_min: int | None = None
    len_max: int | None = None
    len_sum: int | None = None
    time_width: int | None = None
    time_buckets: dict[int, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ derived figures

    @property
    def non_null(self) -> int:
        """Values that are not null."""
        return self.count - self.nulls

    @property
    def null_fraction(self) -> float:
        """Share of nulls (0 for an empty column)."""
        return self.nulls / self.count if self.count else 0.0

    @property
    def std(self) -> float | None:
        """Sample standard deviation (``None`` below two values)."""
        n = self.non_null
        if self.m2 is None or n < 2:
            return None
        return math.sqrt(max(self.m2, 0.0) / (n - 1))

    @property
    def distinct(self) -> int:
        """Distinct non-null values: exact when known, else the HyperLogLog estimate."""
        if self.distinct_exact is not None:
            return self.distinct_exact
        if self.hll is None:
            return len(self.values)
        return min(hll.estimate(self.hll), self.non_null)

    @property
    def len_mean(self) -> float | None:
        """Mean string length."""
        n = self.non_null
        return self.len_sum / n if self.len_sum is not None and n else None

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 ≤ q ≤ 1) from the rank sketch (numbers) or the time buckets.

        For numbers it is a value of the data at a rank within the rank sketch's error of
        ``floor(q * (n - 1))`` (``numpy.quantile(..., method="lower")``; exact for small data),
        an ``int`` for an integer column; for times, within one bucket width. A profile stored
        before the rank sketch existed answers from the log-bucket sketch (1 % of the value).
        """
        if self.kind == "numeric":
            if self.ranks and kll.weight(self.ranks) == self.non_null:
                value = kll.quantile(self.ranks, q)
                if value is not None and is_integer_type(self.dtype) and abs(value) < 2**53:
                    return int(value)
                return value
            return sketch_quantile(self.sketch, q, self.min, self.max)
        if self.kind == "temporal" and self.time_buckets and self.time_width:
            return bucket_quantile(self.time_buckets, self.time_width, q, self.min, self.max)
        return None

    def quantiles(self) -> dict[str, float | None]:
        """The :data:`QUANTILES`, keyed ``"p1"``, ``"p5"``, ``"p25"``, … ``"p99"``."""
        return {f"p{round(q * 100)}": self.quantile(q) for q in QUANTILES}

    def top(self, n: int = 10) -> list[tuple[Any, int]]:
        """The ``n`` most frequent values with their counts (ties by value)."""
        return top_values(self.values, n)

    def hist_edges(self) -> list[float]:
        """The histogram's bin edges (``len(counts) + 1`` of them)."""
        if not self.hist:
            return []
        start, step = self.hist["start"], self.hist["step"]
        return [start + i * step for i in range(len(self.hist["counts"]) + 1)]

    def _gap_runs(self) -> tuple[int, list[tuple[int, int]]]:
        """The gap width and the runs of empty buckets ``(first, last + 1)`` at that width.

        The buckets are coarsened to the first width of the ladder at least the mean spacing
        of the values (span / values), so that regular data shows no gap and a gap is a
        stretch at least about twice as long as the spacing of the data.
        """
        if not self.time_buckets or not self.time_width or self.min is None:
            return 0, []
        spacing = (self.max - self.min) / max(self.non_null, 1)
        width = next((w for w in TIME_WIDTHS if w >= spacing), TIME_WIDTHS[-1])
        width = max(width, self.time_width)
        keys = sorted(coarsen(self.time_buckets, self.time_width, width))
        runs = [(a + 1, b) for a, b in itertools.pairwise(keys) if b - a > 1]
        return width, runs

    def gaps(self, limit: int = 5) -> list[tuple[float, float]]:
        """The longest stretches without a value between min and max: ``(start, end)`` s."""
        width, runs = self._gap_runs()
        runs.sort(key=lambda r: (-(r[1] - r[0]), r[0]))
        return [(float(a * width), float(b * width)) for a, b in runs[:limit]]

    def gap_count(self) -> int:
        """Stretches without a value between min and max (see :meth:`gaps`)."""
        return len(self._gap_runs()[1])

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (keys of sketches and buckets as ``[key, count]`` pairs)."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "m2": self.m2,
            "sketch": sorted([k, v] for k, v in self.sketch.items()),
            "ranks": [list(level) for level in self.ranks],
            "hist": self.hist,
            "values": [[k, v] for k, v in self.top(len(self.values))],
            "values_complete": self.values_complete,
            "hll": hll.pack(self.hll),
            "distinct_exact": self.distinct_exact,
            "len_min": self.len_min,
            "len_max": self.len_max,
            "len_sum": self.len_sum,
            "time_width": self.time_width,
            "time_buckets": sorted([k, v] for k, v in self.time_buckets.items()),
            # derived, for readers of the JSON (ignored by from_dict)
            "distinct": self.distinct,
            "std": self.std,
            "quantiles": self.quantiles(),
            "gap_count": self.gap_count(),
            "gaps": [list(g) for g in self.gaps()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """The inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            dtype=data["dtype"],
            kind=data["kind"],
            count=int(data["count"]),
            nulls=int(data["nulls"]),
            min=data.get("min"),
            max=data.get("max"),
            mean=data.get("mean"),
            m2=data.get("m2"),
            sketch={int(k): int(v) for k, v in data.get("sketch", [])},
            ranks=kll.levels_of(data.get("ranks")),
            hist=data.get("hist"),
            values={_value_key(k): int(v) for k, v in data.get("values", [])},
            values_complete=bool(data.get("values_complete", True)),
            hll=hll.unpack(data.get("hll")),
            distinct_exact=data.get("distinct_exact"),
            len_min=data.get("len_min"),
            len_max=data.get("len_max"),
            len_sum=data.get("len_sum"),
            time_width=data.get("time_width"),
            time_buckets={int(k): int(v) for k, v in data.get("time_buckets", [])},
        )


def _value_key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Profile:
    """The profile of a dataset: its rows and one :class:`ColumnProfile` per column.

    Attributes:
        rows: Rows of the dataset.
        columns: Column profiles by name, in the data's column order.
        source: What was profiled (file names), for reports.
    """

    rows: int
    columns: dict[str, ColumnProfile]
    source: str = ""

    def __getitem__(self, name: str) -> ColumnProfile:
        try:
            return self.columns[name]
        except KeyError:
            from noria.errors import NotFoundError, did_you_mean

            raise NotFoundError(
                f"column '{name}' is not in the profile of {self.source or 'the data'}"
                f"{did_you_mean(name, self.columns)}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what the engine stores as the profile artifact)."""
        return {
            "format": "noria.profile/1",
            "rows": self.rows,
            "source": self.source,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """The inverse of :meth:`to_dict`."""
        cols = [ColumnProfile.from_dict(c) for c in data.get("columns", [])]
        return cls(
            rows=int(data["rows"]),
            columns={c.name: c for c in cols},
            source=str(data.get("source", "")),
        )

    def merge(self, other: Profile) -> Profile:
        """This profile merged with ``other`` (see :func:`merge_profiles`)."""
        return merge_profiles([self, other])


# ------------------------------------------------------------------------------------ merging


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge profiles of disjoint batches into the profile of their union.

    Columns are matched by name; a column missing from a batch counts as all-null there.

    Raises:
        DataError: A column's histogram edges differ between batches (profile the batches
            against one ``reference``), or its kind differs (a type change).
    """
    items = list(profiles)
    if not items:
        raise DataError("nothing to merge: no profiles given")
    names: list[str] = []
    for p in items:
        names += [n for n in p.columns if n not in names]
    columns: dict[str, ColumnProfile] = {}
    for name in names:
        parts = []
        for p in items:
            col = p.columns.get(name)
            if col is None:
                ref = next(q.columns[name] for q in items if name in q.columns)
                col = ColumnProfile(
                    name=name, dtype=ref.dtype, kind=ref.kind, count=p.rows, nulls=p.rows
                )
            parts.append(col)
        merged = parts[0]
        for col in parts[1:]:
            merged = _merge_columns(merged, col)
        columns[name] = merged
    sources = [p.source for p in items if p.source]
    source = sources[0] if len(set(sources)) == 1 else f"{len(items)} batches"
    return Profile(rows=sum(p.rows for p in items), columns=columns, source=source)


def _merge_columns(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    if a.non_null == 0 and b.non_null == 0:
        return replace(a, count=a.count + b.count, nulls=a.nulls + b.nulls)
    if a.non_null == 0:
        return replace(b, count=a.count + b.count, nulls=a.nulls + b.nulls)
    if b.non_null == 0:
        return replace(a, count=a.count + b.count, nulls=a.nulls + b.nulls)
    if a.kind != b.kind:
        raise DataError(
            f"column '{a.name}' is {a.kind} ({a.dtype}) in one batch and {b.kind} ({b.dtype}) "
            "in another; make the batches agree on its type"
        )
    na, nb = a.non_null, b.non_null
    n = na + nb
    out = replace(
        a,
        count=a.count + b.count,
        nulls=a.nulls + b.nulls,
        min=min(a.min, b.min),
        max=max(a.max, b.max),
    )
    if a.mean is not None and b.mean is not None:
        delta = b.mean - a.mean
        mean = a.mean + delta * nb / n
        m2 = (a.m2 or 0.0) + (b.m2 or 0.0) + delta * delta * na * nb / n
        out = replace(out, mean=mean, m2=m2)
    out = replace(out, sketch=add_counts(a.sketch, b.sketch))
    if a.ranks or b.ranks:
        out = replace(out, ranks=kll.frozen(kll.merge(a.ranks, b.ranks)))
    if a.hist is not None and b.hist is not None:
        if not same_edges(a.hist, b.hist):
            raise DataError(
                f"column '{a.name}': the batches' histograms have different edges; profile each "
                "batch with `reference=` the same profile so that they merge"
            )
        out = replace(out, hist=merge_hists(a.hist, b.hist))
    if a.hll is not None and b.hll is not None:
        out = replace(out, hll=tuple(max(x, y) for x, y in zip(a.hll, b.hll, strict=True)))
    if a.kind in ("string", "boolean"):
        values = add_counts(a.values, b.values)
        complete = a.values_complete and b.values_complete and len(values) <= MAX_VALUES
        if not complete:
            values = dict(top_values(values, TOP_K))
        exact = len(values) if complete else None
        if a.kind == "boolean":
            exact = len(values)
        out = replace(out, values=values, values_complete=complete, distinct_exact=exact)
    else:
        out = replace(out, distinct_exact=None)
    if a.kind == "string":
        out = replace(
            out,
            len_min=min(a.len_min, b.len_min),
            len_max=max(a.len_max, b.len_max),
            len_sum=(a.len_sum or 0) + (b.len_sum or 0),
        )
    if a.kind == "temporal":
        width = max(
            a.time_width or 1, b.time_width or 1, time_width(out.min, out.max, MAX_TIME_BUCKETS)
        )
        out = replace(
            out,
            time_width=width,
            time_buckets=add_counts(
                coarsen(a.time_buckets, a.time_width or 1, width),
                coarsen(b.time_buckets, b.time_width or 1, width),
            ),
        )
    return out
