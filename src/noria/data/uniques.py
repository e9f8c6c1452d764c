"""Repeated values and repeated rows: the counts behind ``unique`` and ``duplicates``.

:func:`unique_stats` counts the rows that share a value of a column (and the most repeated
values, as examples); :func:`duplicate_rows` the rows equal to an earlier row. Integer columns
(ids, mostly) are counted in NumPy, other columns by one ``GROUP BY``. Validation runs them for
its checks; schema inference confirms a guessed ``unique`` with :func:`count_duplicates`.

Not here: the checks and their messages (:mod:`noria.data.checks`, :mod:`noria.data.validate`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from noria.data.scan import DataSource, quote, run_query

if TYPE_CHECKING:
    import duckdb

__all__ = ["TOP_REPEATS", "count_duplicates", "duplicate_rows", "repeats", "unique_stats"]

#: The most repeated values kept as examples.
TOP_REPEATS = 5


def count_duplicates(
    con: duckdb.DuckDBPyConnection, source: DataSource, columns: Sequence[str]
) -> dict[str, int]:
    """Rows whose value in the column appears more than once, per column."""
    return {n: unique_stats(con, source, n)[0] for n in dict.fromkeys(columns)}


def unique_stats(
    con: duckdb.DuckDBPyConnection, source: DataSource, column: str, *, top: int = TOP_REPEATS
) -> tuple[int, tuple[Mapping[str, Any], ...]]:
    """Rows in groups of a repeated value, and the most repeated values.

    Integer columns (ids, mostly) are fetched as one NumPy array and counted there: by
    ``bincount`` when the values span at most a few times their number, else by a sort. That
    is several times faster than DuckDB's hash ``GROUP BY`` over millions of distinct values,
    with the same result. Other types take one ``GROUP BY ... HAVING count(*) > 1``.
    """
    q = quote(column)
    if _INT64.match(dict(source.columns).get(column, "").upper()):
        sql = f"SELECT {q}::BIGINT AS v FROM {source.relation} WHERE {q} IS NOT NULL"
        try:
            values = con.execute(sql).fetchnumpy()["v"]
        except Exception:  # a read error: the SQL path below reports it
            values = None
        if values is not None:
            return repeats(column, values, top=top)
    sql = (
        f"SELECT coalesce(sum(n), 0), (list({{'v': v, 'n': n}} ORDER BY n DESC, v))"
        f"[1:{top}] FROM (SELECT {q} AS v, count(*) AS n FROM {source.relation} "
        f"WHERE {q} IS NOT NULL GROUP BY {q} HAVING count(*) > 1)"
    )
    [(total, top)] = run_query(con, sql, source)
    examples = tuple({column: e["v"], "rows": int(e["n"])} for e in (top or []))
    return int(total), examples


#: Integer types whose values fit in an int64 (counted in NumPy by :func:`repeats`).
_INT64 = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$")


def repeats(
    column: str, values: Any, *, top: int = TOP_REPEATS
) -> tuple[int, tuple[Mapping[str, Any], ...]]:
    """:func:`unique_stats` of non-null int64 ``values``: rows sharing a value, top repeats."""
    import numpy as np

    values = np.asarray(values, dtype=np.int64)
    if values.size < 2:
        return 0, ()
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span <= max(2 * values.size, 1 << 16):
        counts = np.bincount(values - lo, minlength=span)
        repeated = np.flatnonzero(counts > 1)
        n = counts[repeated]
        keys = repeated + lo
    else:
        ordered = np.sort(values)
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        sizes = np.diff(np.append(starts, ordered.size))
        repeated = sizes > 1
        n, keys = sizes[repeated], ordered[starts[repeated]]
    if not n.size:
        return 0, ()
    first = np.lexsort((keys, -n))[:top]  # most rows first, ties by value (as the SQL)
    examples = tuple({column: int(keys[i]), "rows": int(n[i])} for i in first)
    return int(n.sum()), examples


def duplicate_rows(con: duckdb.DuckDBPyConnection, source: DataSource, cols: Sequence[str]) -> int:
    listing = ", ".join(quote(c) for c in cols)
    sql = (
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source.relation} "
        f"GROUP BY {listing} HAVING count(*) > 1)"
    )
    return int(run_query(con, sql, source)[0][0])
