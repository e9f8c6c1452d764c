"""Profiling: the DuckDB pass that turns a dataset into a :class:`~noria.data.profile.Profile`.

:func:`profile_data` opens a file, a folder, a glob or a frame (:func:`noria.data.scan.open_source`)
and :func:`profile_source` profiles it in three scans, each reading only the columns it needs:

1. an aggregate query of the scalars (counts, min, max, means);
2. one stream of the numbers and times as Arrow batches, whose sketch buckets, histogram bins,
   HyperLogLog registers, time buckets, rank sketch and squared deviations NumPy counts batch
   by batch (``bincount``, an order of magnitude cheaper than a SQL ``GROUP BY`` per part);
3. the value counts of the string columns (``GROUPING SETS``), from which the top values, the
   distinct count, the HyperLogLog registers, min, max and lengths come (over the distinct
   values, not the rows).

The data is never loaded into pandas. What the parts are and how they merge:
:mod:`noria.data.profile`.

Not here: the records (:mod:`noria.data.profile_record`), the sketches' arithmetic
(:mod:`noria.data.sketch`, :mod:`noria.data.hll`, :mod:`noria.data.histogram`,
:mod:`noria.data.ranks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.data import hll, sketch
from noria.data import ranks as kll
from noria.data.histogram import (
    MAX_TIME_BUCKETS,
    bins_of,
    empty_like,
    nice_hist,
    tallied,
    tally,
    time_hist,
    time_width,
)
from noria.data.kinds import is_float_type, is_integer_type, kind_of
from noria.data.profile_record import MAX_VALUES, TOP_K, ColumnProfile, Profile
from noria.data.scan import DataSource, open_source, quote, read_error, run_query
from noria.errors import DataError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["profile_data", "profile_source"]


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
    [scalars] = run_query(con, f"SELECT {', '.join(exprs)} FROM {rel}", source)
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
            hist = empty_like(ref.hist if ref is not None else None) or nice_hist(
                float(col.min), float(col.max), integer=is_integer_type(dtype)
            )
        else:
            width = time_width(col.min, col.max, MAX_TIME_BUCKETS)
            if ref is not None and ref.time_width:
                width = max(width, ref.time_width)
            layout.setdefault(name, {})["time_width"] = width
            hist = empty_like(ref.hist if ref is not None else None) or time_hist(col.min, col.max)
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
        mask = (1 << hll.HLL_SHIFT) - 1
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
            UNION ALL SELECT 'h', part, NULL, hash(v) >> {hll.HLL_SHIFT}, min(hash(v) & {mask}),
                   NULL, NULL FROM g GROUP BY ALL
            UNION ALL {tops}
        """
        acc: dict[int, dict[str, Any]] = {}
        for what, part, v, n, a, b, c in run_query(con, sql, source):
            got = acc.setdefault(part, {"values": [], "regs": [0] * hll.HLL_REGISTERS})
            if what == "v":
                got["values"].append((v, int(n)))
            elif what == "s":
                got.update(min=v, distinct=int(n), len_min=a, len_max=b, len_sum=c)
            elif what == "x":
                got["max"] = v
            else:  # the largest rank of a register is the rank of its smallest low bits
                rho = hll.HLL_SHIFT + 1 - math.frexp(float(a) + 1)[1]
                got["regs"][int(n)] = max(got["regs"][int(n)], rho)
        for i, (name, _) in enumerate(strings):
            got = acc.get(i, {"values": [], "regs": [0] * hll.HLL_REGISTERS, "distinct": 0})
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
            col = replace(col, hist=hist, hll=hll.registers(results[(name, "hll")]))
            if col.kind == "numeric":
                ranks = kll.frozen(levels.get(name, []))
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
                col = replace(col, distinct_exact=0, hll=(0,) * hll.HLL_REGISTERS)
        elif col.kind in ("numeric", "temporal"):
            col = replace(col, hll=(0,) * hll.HLL_REGISTERS)
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
    Arrow batches; NumPy turns them into keys with :func:`noria.data.sketch.keys_of`,
    :func:`noria.data.histogram.bins_of`, :func:`noria.data.hll.keys_of` and
    ``floor(x / width)`` and counts them with ``bincount``.
    """
    import duckdb as _duckdb
    import numpy as np

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
                    tally(counts.setdefault((name, "sketch"), {}), sketch.keys_of(x))
                    kll.add(levels.setdefault(name, []), x)
                else:
                    keys = np.floor(x / lay["time_width"]).astype(np.int64)
                    tally(counts.setdefault((name, "time"), {}), keys)
                tally(counts.setdefault((name, "hist"), {}), bins_of(x, lay["hist"]))
                tally(counts.setdefault((name, "hll"), {}), hll.keys_of(h))
    except _duckdb.Error as exc:
        raise read_error(source, exc) from exc
    for name, _ in numeric:
        part = "sketch" if base[name].kind == "numeric" else "time"
        for what in (part, "hist", "hll"):
            results[(name, what)] = tallied(counts.get((name, what), {}))
    return results, m2, levels


def _expr(name: str, dtype: str) -> str:
    """The column as profiled: NaN as NULL for floats."""
    q = quote(name)
    if is_float_type(dtype):
        return f"(CASE WHEN isnan({q}) THEN NULL ELSE {q} END)"
    return q


def _number(value: Any) -> Any:
    """Python int or float of a DuckDB number (Decimal and HUGEINT included)."""
    if value is None or isinstance(value, int | float):
        return value
    return float(value)
