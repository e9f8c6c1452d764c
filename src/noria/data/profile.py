"""Profiles: one-pass, mergeable statistics of a dataset, computed by DuckDB while it streams.

:func:`profile_data` reads a file, a folder, a glob or a pandas DataFrame through DuckDB and
returns a :class:`Profile`: per column the row count, nulls, distinct count, min, max, mean,
standard deviation, a quantile sketch, a histogram on fixed edges, the top values with counts,
string lengths, and for timestamps the range and the gaps. The data is never loaded into pandas:
three scans read the file, each only the columns it needs: an aggregate query of the scalars
(counts, min, max, means); one stream of the numbers and times as Arrow batches, whose sketch
buckets, histogram bins, HyperLogLog registers, time buckets and squared deviations NumPy counts
batch by batch (``bincount``, an order of magnitude cheaper than a SQL ``GROUP BY`` per part);
and the value counts of the string columns (``GROUPING SETS``), from which the top values, the
distinct count, the HyperLogLog registers, min, max and lengths come (over the distinct values,
not the rows).

Profiles are **mergeable**: ``merge(profile(a), profile(b)) == profile(a ∪ b)`` when ``b`` (or both)
is profiled against the same reference (``profile_data(b, reference=profile(a))``), which fixes
the histogram edges and the time buckets (the rank sketch excepted, which merges within its error
bound). What is exact and what is approximate:

=====================  ==================================================================
part                   merge
=====================  ==================================================================
rows, nulls, min, max  exact (sums, min, max)
mean, std              exact up to floating point (Chan et al.'s parallel formula on M2)
histogram              exact: fixed edges ``start + i * step``; values outside are counted
                       as ``below`` / ``above``
quantile sketch        exact merge (bucket counts add) of a DDSketch-style log-bucket sketch
                       with relative accuracy :data:`SKETCH_ALPHA` (1 %), whose keys are the
                       same in every profile: what the drift tests compare bucket by bucket
rank sketch            the quantiles: a KLL sketch (:mod:`noria.data.ranks`) whose error is in
                       rank, not in value: a quantile is a value of the data within about
                       0.5 % of the rank asked, whatever the magnitude and range (1 % of the
                       value is 20 years at 2,000); exact below about 400 values; merged
                       within the same bound (levels added, then compacted), not bit for bit
distinct               exact when every value is kept (``values_complete``: at most
                       :data:`MAX_VALUES` distinct strings); else a HyperLogLog estimate from
                       :data:`HLL_REGISTERS` registers (~3 % standard error), merged exactly
                       by taking the larger register
top values             exact counts when both sides keep every value; else the counts of the
                       values either side kept (a lower bound for a value the other side did
                       not keep), the largest :data:`TOP_K` kept
time buckets, gaps     exact at the coarser of the two bucket widths (widths divide each other)
=====================  ==================================================================

NaN in a float column counts as null (as in pandas). Booleans have counts of ``true``/``false``;
other types (lists, structs, blobs) are profiled as their text.

Not here: the schema inferred from a profile (:mod:`noria.data.schema`), checks of a batch
(:mod:`noria.data.validate`), drift tests, the HTML report (:mod:`noria.reports.data_report`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.data import ranks as _ranks
from noria.errors import DataError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = [
    "HLL_REGISTERS",
    "MAX_VALUES",
    "SKETCH_ALPHA",
    "TOP_K",
    "ColumnProfile",
    "DataSource",
    "Profile",
    "kind_of",
    "merge_profiles",
    "open_source",
    "profile_data",
    "quote",
]

#: Relative accuracy of the quantile sketch.
SKETCH_ALPHA = 0.01
_GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)
_INV_LN_GAMMA = 1 / math.log(_GAMMA)
_SKETCH_OFFSET = 100_000  # keys: +-(OFFSET + ceil(log_gamma |x|)), 0 for |x| <= _SKETCH_ZERO
_SKETCH_ZERO = 1e-9
_SKETCH_CAP = 50_000  # log_gamma of infinity
#: HyperLogLog registers (2**10): about 1.04 / 32 = 3.3 % standard error.
HLL_REGISTERS = 1024
_HLL_SHIFT = 54  # 64 - log2(HLL_REGISTERS)
#: Most distinct strings a profile keeps every count of (the category domain).
MAX_VALUES = 1000
#: Top values kept when a column has more distinct values than MAX_VALUES.
TOP_K = 50
#: Bins of a numeric histogram (about; the step is rounded to 1, 2 or 5 times a power of 10).
HIST_BINS = 20
#: Quantiles shown in reports and used by skew tests.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: Time bucket widths, seconds: each divides the next, so buckets of two widths merge.
_TIME_WIDTHS = (1, 60, 3600, *(86_400 * 2**k for k in range(24)))
_MAX_TIME_BUCKETS = 2000
_TIME_HIST_BINS = 30

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|DECIMAL.*|REAL)$"
)
_INTEGER = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP.*)$")


def kind_of(dtype: str) -> str:
    """The kind of a DuckDB type: ``numeric``, ``boolean``, ``temporal`` or ``string``."""
    dtype = dtype.upper()
    if _NUMERIC.match(dtype):
        return "numeric"
    if dtype == "BOOLEAN":
        return "boolean"
    if _TEMPORAL.match(dtype):
        return "temporal"
    return "string"


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------------- the data


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
    kind: str
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
        return min(_hll_estimate(self.hll), self.non_null)

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
            if self.ranks and _ranks.weight(self.ranks) == self.non_null:
                value = _ranks.quantile(self.ranks, q)
                if value is not None and _is_int(self.dtype) and abs(value) < 2**53:
                    return int(value)
                return value
            return _sketch_quantile(self.sketch, q, self.min, self.max)
        if self.kind == "temporal" and self.time_buckets and self.time_width:
            return _bucket_quantile(self.time_buckets, self.time_width, q, self.min, self.max)
        return None

    def quantiles(self) -> dict[str, float | None]:
        """The :data:`QUANTILES`, keyed ``"p1"``, ``"p5"``, ``"p25"``, … ``"p99"``."""
        return {f"p{round(q * 100)}": self.quantile(q) for q in QUANTILES}

    def top(self, n: int = 10) -> list[tuple[Any, int]]:
        """The ``n`` most frequent values with their counts (ties by value)."""
        return sorted(self.values.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]

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
        width = next((w for w in _TIME_WIDTHS if w >= spacing), _TIME_WIDTHS[-1])
        width = max(width, self.time_width)
        keys = sorted(_coarsen(self.time_buckets, self.time_width, width))
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
            "hll": _hll_pack(self.hll),
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
            ranks=_ranks.levels_of(data.get("ranks")),
            hist=data.get("hist"),
            values={_value_key(k): int(v) for k, v in data.get("values", [])},
            values_complete=bool(data.get("values_complete", True)),
            hll=_hll_unpack(data.get("hll")),
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


# ---------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class DataSource:
    """A dataset DuckDB can scan: the SQL of its relation and how to name it in messages.

    Attributes:
        relation: A SQL table expression (``read_parquet([...])``, or a registered view).
        label: The file (or ``"N files under …"`` / ``"the data frame"``) for messages.
        columns: ``(name, DuckDB type)`` of every column, in order.
        files: The files read (empty for a frame).
        numbered: The relation with ``__file`` and ``__row`` columns added (Parquet: the file
            and the 0-based row in it), for fetching example rows; ``""`` when only a window
            ``row_number()`` can number the rows (CSV, JSON, frames).
    """

    relation: str
    label: str
    columns: tuple[tuple[str, str], ...]
    files: tuple[Path, ...] = ()
    numbered: str = ""

    @property
    def names(self) -> list[str]:
        """The column names."""
        return [name for name, _ in self.columns]


_FRAME_VIEW = "__noria_frame"


def open_source(
    con: duckdb.DuckDBPyConnection,
    data: str | Path | pd.DataFrame | Any,
    *,
    format: str = "auto",
    base: Path | None = None,
) -> DataSource:
    """Make ``data`` scannable on ``con``: files through DuckDB's readers, a frame registered.

    Args:
        con: A DuckDB connection (the frame is registered on it as a view).
        data: A file, folder or glob (as :func:`noria.data.sources.resolve_files` takes it),
            a pandas DataFrame or a pyarrow Table.
        format: ``auto``, ``csv``, ``parquet`` or ``json``.
        base: The folder a relative path is relative to.

    Raises:
        DataError: The file is missing, empty, corrupt or truncated, has a ragged row, is not
            UTF-8, has a duplicate column name, or has no rows (the message names the file).
    """
    import duckdb as _duckdb

    from noria.data import sources as src

    if not isinstance(data, str | Path):
        con.register(_FRAME_VIEW, data)
        described = con.execute(f"DESCRIBE SELECT * FROM {_FRAME_VIEW}").fetchall()
        return DataSource(_FRAME_VIEW, "the data frame", tuple((r[0], r[1]) for r in described))

    if format not in src.FORMATS:
        raise DataError(f"unknown format '{format}'; use one of {', '.join(src.FORMATS)}")
    files = src.resolve_files(str(data), base=base)
    fmt = src.decide_format(files, format, str(data))
    for file in files:
        if file.stat().st_size == 0:
            raise DataError(f"{file}: the file is empty (0 bytes); add data or use another file")
    listing = "[" + ", ".join(src.sql_str(str(f)) for f in files) + "]"
    label = str(files[0]) if len(files) == 1 else f"{len(files)} files ({files[0]}, …)"
    numbered = ""
    if fmt == "parquet":
        for file in files:
            try:
                names = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                        [str(file)],
                    ).fetchall()
                ]
            except _duckdb.Error as exc:
                raise DataError(
                    f"{file}: not a valid Parquet file (corrupt or truncated: "
                    f"{src.one_line(str(exc))}); write it again"
                ) from exc
            if any(re.search(r"_\d+$", n) for n in names):  # DuckDB renames duplicates a_1
                src.check_parquet_duplicates(file, names)
        relation = f"read_parquet({listing}, union_by_name=true)"
        numbered = (
            f"(SELECT * RENAME (file_row_number AS __row, filename AS __file) FROM "
            f"read_parquet({listing}, union_by_name=true, file_row_number=true, filename=true))"
        )
    elif fmt == "csv":
        relation, delimiters = src.csv_relation(files)  # one reader: training's dialect, types
        try:  # the sniffer and strict mode run over the whole file here: ragged rows, bad bytes
            con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        except _duckdb.Error as exc:
            raise DataError(src.diagnose_csv(files, delimiters, str(exc))) from exc
    else:
        relation = f"read_json_auto({listing}, union_by_name=true)"
        try:
            con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        except _duckdb.Error as exc:
            raise DataError(src.diagnose_json(files, str(exc))) from exc
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except _duckdb.Error as exc:
        raise DataError(f"{label}: cannot be read: {src.one_line(str(exc))}") from exc
    columns = tuple((r[0], r[1]) for r in described)
    return DataSource(relation, label, columns, tuple(files), numbered)


def _run(con: duckdb.DuckDBPyConnection, sql: str, source: DataSource) -> list[tuple[Any, ...]]:
    """Run ``sql``; a DuckDB error becomes a :class:`DataError` naming the source."""
    import duckdb as _duckdb

    from noria.data.sources import one_line

    try:
        return con.execute(sql).fetchall()
    except _duckdb.Error as exc:
        raise DataError(
            f"{source.label}: cannot be read ({one_line(str(exc))}); if it is a Parquet "
            "file it may be corrupt or truncated: write it again"
        ) from exc


# ---------------------------------------------------------------------------------- profiling


def profile_data(
    data: str | Path | pd.DataFrame | Any,
    *,
    format: str = "auto",
    base: Path | None = None,
    reference: Profile | None = None,
    columns: Sequence[str] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Profile:
    """Profile a file, folder, glob, DataFrame or Arrow table in one streaming pass per part.

    Args:
        data: What to profile (see :func:`open_source`).
        format: ``auto``, ``csv``, ``parquet`` or ``json``.
        base: The folder a relative path is relative to.
        reference: A profile whose histogram edges and time bucket widths this one uses, so
            that the two merge exactly and compare bin by bin (the training profile when
            profiling a new batch). Columns the reference lacks get their own edges.
        columns: Only these columns (all when ``None``).
        con: A DuckDB connection to use (a new in-memory one when ``None``).

    Returns:
        The :class:`Profile`.

    Raises:
        DataError: The data cannot be read (see :func:`open_source`), or has no columns.
    """
    import duckdb as _duckdb

    own = con is None
    con = con or _duckdb.connect()
    try:
        source = open_source(con, data, format=format, base=base)
        return profile_source(con, source, reference=reference, columns=columns)
    finally:
        if own:
            con.close()


def profile_source(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    *,
    reference: Profile | None = None,
    columns: Sequence[str] | None = None,
) -> Profile:
    """Profile an opened :class:`DataSource` (see :func:`profile_data`)."""
    cols = [(n, t) for n, t in source.columns if columns is None or n in columns]
    if not cols:
        raise DataError(f"{source.label}: has no columns to profile")
    rel = source.relation
    # 1. scalars: counts, min, max, moments, string lengths
    exprs: list[str] = ["count(*)"]
    for name, dtype in cols:
        kind, e = kind_of(dtype), _expr(name, dtype)
        if kind == "numeric":
            exprs += [
                f"count({e})",
                f"min({e})",
                f"max({e})",
                f"avg({e}::DOUBLE)",
            ]
        elif kind == "temporal":
            t = f"epoch_us({e}::TIMESTAMP)"
            exprs += [f"count({e})", f"min({t})", f"max({t})", f"avg({t})"]
        elif kind == "boolean":
            exprs += [f"count({e})", f"count_if({e})"]
        else:
            exprs.append(f"count({e})")  # min, max and lengths: from the values, in pass 3
    [scalars] = _run(con, f"SELECT {', '.join(exprs)} FROM {rel}", source)
    rows = int(scalars[0])
    it = iter(scalars[1:])
    base: dict[str, ColumnProfile] = {}
    for name, dtype in cols:
        kind = kind_of(dtype)
        nn = int(next(it))
        col = ColumnProfile(name=name, dtype=dtype, kind=kind, count=rows, nulls=rows - nn)
        if kind in ("numeric", "temporal"):
            lo, hi, mean = next(it), next(it), next(it)
            if kind == "temporal":
                lo = lo / 1e6 if lo is not None else None
                hi = hi / 1e6 if hi is not None else None
                mean = mean / 1e6 if mean is not None else None
            else:
                lo, hi = _number(lo), _number(hi)
            col = replace(
                col,
                min=lo,
                max=hi,
                mean=mean if nn else None,
                m2=0.0 if nn else None,  # the numbers pass adds sum((x - mean)^2)
            )
        elif kind == "boolean":
            trues = int(next(it))
            values = {True: trues, False: nn - trues}
            col = replace(
                col,
                min=False if values[False] else (True if trues else None),
                max=True if trues else (False if nn else None),
                values={k: v for k, v in values.items() if v},
                distinct_exact=sum(1 for v in values.values() if v),
            )
        base[name] = col

    # 2. one streaming pass over the numbers and times: sketch buckets, histogram bins, HLL
    #    registers and time buckets, counted in NumPy batch by batch (DuckDB computes the
    #    values as DOUBLE and their hash; a GROUP BY per part would cost ~10x more)
    layout: dict[str, dict[str, Any]] = {}
    numeric: list[tuple[str, str]] = []
    for name, dtype in cols:
        col = base[name]
        if col.kind not in ("numeric", "temporal") or col.non_null == 0:
            continue
        ref = reference.columns.get(name) if reference is not None else None
        if col.kind == "numeric":
            hist = _hist_of(ref) or _nice_hist(
                float(col.min), float(col.max), integer=_is_int(dtype)
            )
        else:
            width = _time_width(col.min, col.max, _MAX_TIME_BUCKETS)
            if ref is not None and ref.time_width:
                width = max(width, ref.time_width)
            layout.setdefault(name, {})["time_width"] = width
            hist = _hist_of(ref) or _time_hist(col.min, col.max)
        layout.setdefault(name, {})["hist"] = hist
        numeric.append((name, dtype))
    results, m2, levels = _number_keys(con, source, numeric, base, layout)
    base.update({name: replace(base[name], m2=value) for name, value in m2.items()})

    # 3. value counts of strings: every value up to MAX_VALUES, else the top K; HLL of values;
    #    min, max and lengths (all of them over the distinct values, not the rows)
    strings = [(n, t) for n, t in cols if base[n].kind == "string" and base[n].non_null]
    string_stats: dict[str, tuple[dict[Any, int], bool, int, tuple[int, ...]]] = {}
    if strings:
        aliases = [f"s{i}" for i in range(len(strings))]
        select = ", ".join(
            f"{_expr(n, t)}::VARCHAR AS {a}" for (n, t), a in zip(strings, aliases, strict=True)
        )
        which = " ".join(f"WHEN grouping({a}) = 0 THEN {i}" for i, a in enumerate(aliases))
        grouped = (
            f"SELECT CASE {which} END AS part, coalesce({', '.join(aliases)}) AS v, "
            f"count(*) AS n FROM (SELECT {select} FROM {rel}) "
            f"GROUP BY GROUPING SETS ({', '.join(f'({a})' for a in aliases)})"
        )
        mask = (1 << _HLL_SHIFT) - 1
        tops = " UNION ALL ".join(
            f"(SELECT 'v', part, v, n, NULL, NULL, NULL FROM g WHERE part = {i} "
            f"ORDER BY n DESC, v LIMIT {MAX_VALUES + 1})"
            for i in range(len(strings))
        )
        sql = f"""
            WITH g AS MATERIALIZED (SELECT * FROM ({grouped}) WHERE v IS NOT NULL)
            SELECT 's', part, min(v), count(*), min(length(v)), max(length(v)),
                   sum(length(v) * n)::BIGINT FROM g GROUP BY part
            UNION ALL SELECT 'x', part, max(v), NULL, NULL, NULL, NULL FROM g GROUP BY part
            UNION ALL SELECT 'h', part, NULL, hash(v) >> {_HLL_SHIFT}, min(hash(v) & {mask}),
                   NULL, NULL FROM g GROUP BY ALL
            UNION ALL {tops}
        """
        acc: dict[int, dict[str, Any]] = {}
        for what, part, v, n, a, b, c in _run(con, sql, source):
            got = acc.setdefault(part, {"values": [], "regs": [0] * HLL_REGISTERS})
            if what == "v":
                got["values"].append((v, int(n)))
            elif what == "s":
                got.update(min=v, distinct=int(n), len_min=a, len_max=b, len_sum=c)
            elif what == "x":
                got["max"] = v
            else:  # the largest rank of a register is the rank of its smallest low bits
                rho = _HLL_SHIFT + 1 - math.frexp(float(a) + 1)[1]
                got["regs"][int(n)] = max(got["regs"][int(n)], rho)
        for i, (name, _) in enumerate(strings):
            got = acc.get(i, {"values": [], "regs": [0] * HLL_REGISTERS, "distinct": 0})
            ranked = sorted(got["values"], key=lambda vn: (-vn[1], vn[0]))
            distinct = got["distinct"]
            kept = ranked if distinct <= MAX_VALUES else ranked[:TOP_K]
            string_stats[name] = (dict(kept), distinct <= MAX_VALUES, distinct, tuple(got["regs"]))
            base[name] = replace(
                base[name],
                min=got.get("min"),
                max=got.get("max"),
                len_min=got.get("len_min"),
                len_max=got.get("len_max"),
                len_sum=got.get("len_sum"),
            )

    out: dict[str, ColumnProfile] = {}
    for name, _dtype in cols:
        col = base[name]
        if col.kind in ("numeric", "temporal") and col.non_null:
            lay = layout[name]
            counts = results[(name, "hist")]
            nbins = len(lay["hist"]["counts"])
            hist = dict(lay["hist"])
            hist["counts"] = [counts.get(i, 0) for i in range(nbins)]
            hist["below"], hist["above"] = counts.get(-1, 0), counts.get(nbins, 0)
            col = replace(col, hist=hist, hll=_registers(results[(name, "hll")]))
            if col.kind == "numeric":
                ranks = _ranks.frozen(levels.get(name, []))
                col = replace(col, sketch=results[(name, "sketch")], ranks=ranks)
            else:
                col = replace(
                    col, time_width=lay["time_width"], time_buckets=results[(name, "time")]
                )
        elif col.kind == "string":
            if col.non_null:
                values, complete, distinct, regs = string_stats[name]
                col = replace(
                    col,
                    values=values,
                    values_complete=complete,
                    distinct_exact=distinct,
                    hll=regs,
                )
            else:
                col = replace(col, distinct_exact=0, hll=(0,) * HLL_REGISTERS)
        elif col.kind in ("numeric", "temporal"):
            col = replace(col, hll=(0,) * HLL_REGISTERS)
        out[name] = col
    return Profile(rows=rows, columns=out, source=source.label)


#: Rows per Arrow batch of the numbers pass (bounds its memory: ~16 bytes a value).
_BATCH_ROWS = 1 << 19


def _number_keys(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    numeric: Sequence[tuple[str, str]],
    base: Mapping[str, ColumnProfile],
    layout: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[tuple[str, str], dict[int, int]], dict[str, float], dict[str, list[Any]]]:
    """Counts by key of every part (``sketch``/``time``, ``hist``, ``hll``) of each column,
    each column's ``m2``: the sum of squared deviations from the mean of the scalars pass
    (the two-pass formula; DuckDB's ``var_pop`` costs a division per value), and the rank
    sketch of each numeric column (:func:`noria.data.ranks.add` of each batch).

    One scan streams, per column, the value as DOUBLE (NaN as null; times as epoch seconds)
    and DuckDB's ``hash`` of it (so that HyperLogLog registers match every other profile) in
    Arrow batches; NumPy turns them into keys with :func:`_sketch_keys`, :func:`_bin_keys`,
    :func:`_hll_keys` and ``floor(x / width)`` and counts them with ``bincount``.
    """
    import duckdb as _duckdb
    import numpy as np

    from noria.data.sources import one_line

    results: dict[tuple[str, str], dict[int, int]] = {}
    m2: dict[str, float] = {name: 0.0 for name, _ in numeric}
    levels: dict[str, list[Any]] = {}
    if not numeric:
        return results, m2, levels
    select = []
    for i, (name, dtype) in enumerate(numeric):
        e = _expr(name, dtype)
        x = f"{e}::DOUBLE"
        if base[name].kind == "temporal":
            x = f"(epoch_us({e}::TIMESTAMP) / 1000000.0)::DOUBLE"
        select += [f"{x} AS x{i}", f"hash({e}) AS h{i}"]
    sql = f"SELECT {', '.join(select)} FROM {source.relation}"
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        reader = con.sql(sql).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            for i, (name, _) in enumerate(numeric):
                x = batch.column(2 * i).to_numpy(zero_copy_only=False)
                h = batch.column(2 * i + 1).to_numpy(zero_copy_only=False)
                ok = ~np.isnan(x)
                if not ok.all():
                    x, h = x[ok], h[ok]
                if not x.size:
                    continue
                lay = layout[name]
                dev = x - base[name].mean
                np.multiply(dev, dev, out=dev)  # not np.dot: BLAS threads cost more here
                m2[name] += float(dev.sum())  # (and pairwise summation is more accurate)
                if base[name].kind == "numeric":
                    _tally(counts.setdefault((name, "sketch"), {}), _sketch_keys(x))
                    _ranks.add(levels.setdefault(name, []), x)
                else:
                    keys = np.floor(x / lay["time_width"]).astype(np.int64)
                    _tally(counts.setdefault((name, "time"), {}), keys)
                _tally(counts.setdefault((name, "hist"), {}), _bin_keys(x, lay["hist"]))
                _tally(counts.setdefault((name, "hll"), {}), _hll_keys(h))
    except _duckdb.Error as exc:
        raise DataError(
            f"{source.label}: cannot be read ({one_line(str(exc))}); if it is a Parquet "
            "file it may be corrupt or truncated: write it again"
        ) from exc
    for name, _ in numeric:
        part = "sketch" if base[name].kind == "numeric" else "time"
        for what in (part, "hist", "hll"):
            results[(name, what)] = _tallied(counts.get((name, what), {}))
    return results, m2, levels


def _tally(into: dict[str, Any], keys: Any) -> None:
    """Add the counts of the integer ``keys`` (a NumPy array) to the dense counts ``into``.

    ``into`` holds ``lo`` (the key of the first count) and ``counts`` (a NumPy array), grown
    as batches bring keys outside the range; :func:`_tallied` turns it into ``{key: count}``.
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


def _tallied(into: Mapping[str, Any]) -> dict[int, int]:
    """``{key: count}`` of the keys :func:`_tally` counted (none: empty)."""
    import numpy as np

    if "counts" not in into:
        return {}
    lo, counts = into["lo"], into["counts"]
    keys = np.flatnonzero(counts)
    return dict(zip((keys + lo).tolist(), counts[keys].tolist(), strict=True))


def _sketch_keys(x: Any) -> Any:
    """NumPy of :func:`_sketch_key`: the log-bucket key of each value of ``x`` (no NaN)."""
    import numpy as np

    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.log(a)  # -inf for 0: overwritten below
        m *= _INV_LN_GAMMA
        np.ceil(m, out=m)
        np.minimum(m, _SKETCH_CAP, out=m)
        keys = m.astype(np.int64)
    keys += _SKETCH_OFFSET
    np.negative(keys, out=keys, where=x < 0)
    keys[a <= _SKETCH_ZERO] = 0
    return keys


def _bin_keys(x: Any, hist: Mapping[str, Any]) -> Any:
    """NumPy of :func:`_bin_key`: -1 below the first edge, n above the last, the last edge in."""
    import numpy as np

    start, step, n = float(hist["start"]), float(hist["step"]), len(hist["counts"])
    end = start + n * step
    with np.errstate(invalid="ignore", over="ignore"):
        b = np.clip(np.floor((x - start) / step), -1, n - 1).astype(np.int64)
    b[x > end] = n
    return b


def _hll_keys(h: Any) -> Any:
    """NumPy of :func:`_hll_key` from the 64-bit hashes ``h``: ``register * 64 + rank``."""
    import numpy as np

    h = h.view(np.int64) if h.dtype == np.uint64 else h.astype(np.int64)
    reg = (h >> _HLL_SHIFT) & (HLL_REGISTERS - 1)  # the top bits, sign extension masked off
    y = (h & ((1 << _HLL_SHIFT) - 1)).astype(np.float64)
    y += 1.0
    # floor(log2(y)) is y's binary exponent (exact, where log2 may round up to 2**k)
    rho = _HLL_SHIFT + 1023 - (y.view(np.int64) >> 52)
    reg *= 64
    reg += rho
    return reg


def _expr(name: str, dtype: str) -> str:
    """The column as profiled: NaN as NULL for floats."""
    q = quote(name)
    if dtype.upper() in ("FLOAT", "DOUBLE", "REAL"):
        return f"(CASE WHEN isnan({q}) THEN NULL ELSE {q} END)"
    return q


def _is_int(dtype: str) -> bool:
    return bool(_INTEGER.match(dtype.upper()))


def _number(value: Any) -> Any:
    """Python int or float of a DuckDB number (Decimal and HUGEINT included)."""
    if value is None or isinstance(value, int | float):
        return value
    return float(value)


# ------------------------------------------------------------------------- sketches and bins


def _sketch_key(x: str) -> str:
    """SQL of the log-bucket key of ``x`` (a DOUBLE expression)."""
    z, off, cap, c = _SKETCH_ZERO, _SKETCH_OFFSET, _SKETCH_CAP, _INV_LN_GAMMA
    return (
        f"CASE WHEN {x} > {z} THEN {off} + least(ceil(ln({x}) * {c}), {cap})::INTEGER "
        f"WHEN {x} < -{z} THEN -{off} - least(ceil(ln(-{x}) * {c}), {cap})::INTEGER "
        f"WHEN {x} IS NOT NULL THEN 0 END"
    )


def _sketch_value(key: int) -> float:
    if key == 0:
        return 0.0
    k = abs(key) - _SKETCH_OFFSET
    value = 2 * _GAMMA**k / (_GAMMA + 1)
    return value if key > 0 else -value


def _sketch_quantile(sketch: Mapping[int, int], q: float, lo: Any, hi: Any) -> float | None:
    n = sum(sketch.values())
    if n == 0:
        return None
    rank = math.floor(q * (n - 1))
    seen = 0
    for key in sorted(sketch):
        seen += sketch[key]
        if seen > rank:
            value = _sketch_value(key)
            if lo is not None:
                value = max(value, float(lo))
            if hi is not None:
                value = min(value, float(hi))
            return value
    return float(hi) if hi is not None else None


def _bucket_quantile(
    buckets: Mapping[int, int], width: int, q: float, lo: Any, hi: Any
) -> float | None:
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


def _nice_step(span: float, bins: int) -> float:
    raw = span / bins
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _nice_hist(lo: float, hi: float, *, integer: bool, bins: int = HIST_BINS) -> dict[str, Any]:
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


def _time_width(lo: float | None, hi: float | None, most: int) -> int:
    if lo is None or hi is None:
        return _TIME_WIDTHS[0]
    span = max(hi - lo, 1.0)
    for width in _TIME_WIDTHS:
        if span / width <= most:
            return width
    return _TIME_WIDTHS[-1]


def _time_hist(lo: float | None, hi: float | None) -> dict[str, Any]:
    width = _time_width(lo, hi, _TIME_HIST_BINS)
    lo = lo or 0.0
    hi = hi if hi is not None else lo
    start = math.floor(lo / width) * width
    n = max(math.floor((hi - start) / width) + 1, 1)
    return {"start": float(start), "step": float(width), "counts": [0] * n}


def _hist_of(ref: ColumnProfile | None) -> dict[str, Any] | None:
    if ref is None or not ref.hist:
        return None
    return {
        "start": ref.hist["start"],
        "step": ref.hist["step"],
        "counts": [0] * len(ref.hist["counts"]),
    }


def _bin_key(x: str, hist: Mapping[str, Any]) -> str:
    """SQL of the bin of ``x``: -1 below the first edge, n above the last, the last edge in."""
    start, step, n = hist["start"], hist["step"], len(hist["counts"])
    end = start + n * step
    return (
        f"CASE WHEN {x} < {start!r} THEN -1 WHEN {x} > {end!r} THEN {n} "
        f"WHEN {x} IS NOT NULL THEN "
        f"least(floor(({x} - {start!r}) / {step!r}), {n - 1})::INTEGER END"
    )


def _hll_key(e: str) -> str:
    """SQL of ``register * 64 + rank`` of a value's 64-bit hash (NULL stays NULL)."""
    h = f"hash({e})"
    mask = (1 << _HLL_SHIFT) - 1
    return (
        f"CASE WHEN {e} IS NOT NULL THEN (({h} >> {_HLL_SHIFT})::INTEGER) * 64 + "
        f"({_HLL_SHIFT} - floor(log2(({h} & {mask})::DOUBLE + 1)))::INTEGER END"
    )


def _registers(pairs: Mapping[int, int]) -> tuple[int, ...]:
    """HyperLogLog registers from the keys ``register * 64 + rank`` that occurred."""
    import numpy as np

    regs = np.zeros(HLL_REGISTERS, dtype=np.int64)
    if pairs:
        keys = np.fromiter(pairs, dtype=np.int64, count=len(pairs))
        np.maximum.at(regs, keys // 64, keys % 64)
    return tuple(regs.tolist())


def _hll_estimate(regs: Sequence[int]) -> int:
    m = len(regs)
    alpha = 0.7213 / (1 + 1.079 / m)
    estimate = alpha * m * m / sum(2.0**-r for r in regs)
    zeros = sum(1 for r in regs if r == 0)
    if estimate <= 2.5 * m and zeros:
        estimate = m * math.log(m / zeros)
    return round(estimate)


def _hll_pack(regs: tuple[int, ...] | None) -> str | None:
    if regs is None:
        return None
    return "".join(chr(48 + r) for r in regs)  # one printable character per register


def _hll_unpack(text: Any) -> tuple[int, ...] | None:
    if text is None:
        return None
    if isinstance(text, list):
        return tuple(int(r) for r in text)
    return tuple(ord(ch) - 48 for ch in text)


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
    out = replace(out, sketch=_add(a.sketch, b.sketch))
    if a.ranks or b.ranks:
        out = replace(out, ranks=_ranks.frozen(_ranks.merge(a.ranks, b.ranks)))
    if a.hist is not None and b.hist is not None:
        if (a.hist["start"], a.hist["step"], len(a.hist["counts"])) != (
            b.hist["start"],
            b.hist["step"],
            len(b.hist["counts"]),
        ):
            raise DataError(
                f"column '{a.name}': the batches' histograms have different edges; profile each "
                "batch with `reference=` the same profile so that they merge"
            )
        hist = dict(a.hist)
        hist["counts"] = [x + y for x, y in zip(a.hist["counts"], b.hist["counts"], strict=True)]
        hist["below"] = a.hist["below"] + b.hist["below"]
        hist["above"] = a.hist["above"] + b.hist["above"]
        out = replace(out, hist=hist)
    if a.hll is not None and b.hll is not None:
        out = replace(out, hll=tuple(max(x, y) for x, y in zip(a.hll, b.hll, strict=True)))
    if a.kind in ("string", "boolean"):
        values = _add(a.values, b.values)
        complete = a.values_complete and b.values_complete and len(values) <= MAX_VALUES
        if not complete:
            values = dict(sorted(values.items(), key=lambda kv: (-kv[1], str(kv[0])))[:TOP_K])
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
            a.time_width or 1, b.time_width or 1, _time_width(out.min, out.max, _MAX_TIME_BUCKETS)
        )
        out = replace(
            out,
            time_width=width,
            time_buckets=_add(
                _coarsen(a.time_buckets, a.time_width or 1, width),
                _coarsen(b.time_buckets, b.time_width or 1, width),
            ),
        )
    return out


def _add(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _coarsen(buckets: Mapping[int, int], width: int, to: int) -> dict[int, int]:
    if to == width:
        return dict(buckets)
    factor = to // width
    out: dict[int, int] = {}
    for k, v in buckets.items():
        key = k // factor
        out[key] = out.get(key, 0) + v
    return out
