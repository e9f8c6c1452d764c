"""Read queries of the dashboard: pages of runs, a run's details, histories, comparisons.

Everything goes through the metadata store's public read API (:meth:`MetadataStore.read`, plain
SQL with named parameters), so SQLite (``sqlite3``, no SQLAlchemy import) and other databases run
the same statements. Pages are cut in SQL (``LIMIT``/``OFFSET``, one row more than shown to know
whether a next page exists, no ``COUNT`` over a filter), and what a page shows of its runs
(metrics, params, tags) is fetched for those ids only: the cost of a page does not grow with the
store, apart from the sort and the filter themselves.

Not here: HTTP, HTML (:mod:`noria.ui.app`), the filter language (:mod:`noria.ui.filters`), a
run's metric histories (:mod:`noria.ui.histories`).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from noria.errors import NotFoundError, UserError
from noria.ui.caches import Catalogs, ColumnCache
from noria.ui.filters import Column, SqlBuilder, like_pattern, parse_column, parse_filter

if TYPE_CHECKING:
    from noria.store.metadata import MetadataStore, RunRecord

__all__ = ["Catalogs", "RunPage", "RunQuery", "keys_of", "page_of_runs", "resolve_runs"]

_RUN_COLS = (
    "r.id, r.name, r.pipeline, r.kind, r.parent_id, r.status, r.started_at, r.ended_at, "
    "r.error, r.pid, r.host, r.owner"
)
_QUALITY = re.compile(r"auc|acc|f1|precision|recall|loss|rmse|mae|mse|r2|score", re.I)


def quality_rank(key: str) -> int:
    """How much a metric key reads as a model's quality: holdout, then CV, others, baselines."""
    if not _QUALITY.search(key):
        return 4
    if key.startswith("test_"):
        return 0
    if key.startswith("cv_"):
        return 1
    return 3 if key.startswith("baseline_") else 2


_MAX_IN = 500  # ids per IN (...) list: SQLite's default limit on variables is far above
_NOT_NULL = frozenset({"name", "status", "kind", "id", "started"})  # attributes never NULL


def _sqlite(store: MetadataStore) -> bool:
    return store.url.startswith("sqlite:")


@dataclass
class RunQuery:
    """What the runs page asks for (every field comes from the URL's query string)."""

    filter: str = ""
    search: str = ""
    status: str = ""
    sort: str = "started"
    desc: bool = True
    page: int = 1
    per_page: int = 50
    trials: bool = False
    parent: str = ""
    columns: list[str] = field(default_factory=list)


@dataclass
class RunPage:
    """One page of runs with the values of the shown columns."""

    runs: list[RunRecord]
    columns: list[Column]
    values: dict[str, dict[Column, Any]]
    has_next: bool
    total: int
    seconds: float


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _MAX_IN] for i in range(0, len(ids), _MAX_IN)]


def _in(ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    marks = ", ".join(f":i{i}" for i in range(len(ids)))
    return marks, {f"i{i}": v for i, v in enumerate(ids)}


def many(store: MetadataStore, table: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{run id: {key: value}}`` of ``params`` (JSON-decoded), ``tags`` or the last ``metrics``."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        marks, binds = _in(chunk)
        if table == "metrics":
            sql = (
                f"SELECT run_id, key, value FROM metrics WHERE id IN (SELECT MAX(id) FROM "
                f"metrics WHERE run_id IN ({marks}) GROUP BY run_id, key)"
            )
        else:
            sql = f"SELECT run_id, key, value FROM {table} WHERE run_id IN ({marks})"
        for run_id, key, value in store.read(sql, binds):
            out.setdefault(run_id, {})[key] = orjson.loads(value) if table == "params" else value
    return out


def page_of_runs(
    store: MetadataStore,
    catalogs: Catalogs,
    query: RunQuery,
    cache: ColumnCache | None = None,
) -> RunPage:
    """The runs of a page: filtered, searched, sorted and cut in SQL.

    Args:
        store: the metadata store.
        catalogs: the known keys.
        query: what the page asks for.
        cache: sorted columns (SQLite): a sort by a metric or param walks the column's index
            instead of sorting every run, and a filter on a column already cached reads it there.

    Raises:
        FilterError: the filter does not parse.
        UserError: an unknown sort column.
    """
    started = time.perf_counter()
    catalog = catalogs.peek()
    sort = parse_column(query.sort, catalog) or parse_column(query.sort, catalogs.refresh())
    if sort is None:
        raise UserError(f"sort: no column '{query.sort}' (try started, name, metrics.KEY)")
    limit = max(1, min(query.per_page, 1000))
    offset = (max(query.page, 1) - 1) * limit
    rows = None
    if cache is not None:
        try:
            rows = _cached_page(cache, catalogs, query, sort, limit, offset)
        except sqlite3.Error:  # a column dropped meanwhile, a store being replaced: no cache
            rows = None
    if rows is None:
        rows = store.read(*_page_sql(store, catalogs, query, sort, limit, offset))
    from noria.store.metadata import RunRecord

    runs = [RunRecord(*r) for r in rows[:limit]]
    ids = [r.id for r in runs]
    params, tags = many(store, "params", ids), {}
    if any(parse_column(x, catalog) is None for x in query.columns):
        catalog = catalogs.refresh()
    columns = [c for c in (parse_column(x, catalog) for x in query.columns) if c is not None]
    if query.columns:
        metrics = latest(store, ids, [c.key for c in columns if c.kind == "metric"])
    else:  # the keys the shown runs have, quality first: lookups in the index, never a scan
        have = keys_of(store, ids)
        counts = Counter(k for keys in have.values() for k in keys)
        best = sorted(counts, key=lambda k: (-counts[k], quality_rank(k), k))[:6]
        metrics = latest(store, ids, best)
        columns = default_columns(metrics, params)
    if any(c.kind == "tag" for c in columns):
        tags = many(store, "tags", ids)
    values = {r.id: _values(r.id, columns, metrics, params, tags) for r in runs}
    if query.parent:
        total = int(
            store.read("SELECT COUNT(*) FROM runs WHERE parent_id = :p", {"p": query.parent})[0][0]
        )
    else:
        scope = "" if query.trials else " WHERE parent_id IS NULL"
        total = int(store.read(f"SELECT COUNT(*) FROM runs{scope}")[0][0])
    return RunPage(runs, columns, values, len(rows) > limit, total, time.perf_counter() - started)


def _where(query: RunQuery, catalogs: Catalogs, sql: SqlBuilder) -> list[str]:
    where = [parse_filter(query.filter, catalogs.peek(), sql, refresh=catalogs.refresh)]
    if query.parent:
        where.append(f"r.parent_id = {sql.bind(query.parent)}")
    elif not query.trials:
        # on SQLite `+` keeps the planner off the parent_id index, so that a sort by start time
        # walks its index and stops after one page instead of sorting every top-level run
        where.append("+r.parent_id IS NULL" if sql.sqlite else "r.parent_id IS NULL")
    if query.status:
        where.append(f"r.status = {sql.bind(query.status)}")
    if query.search.strip():
        pattern = sql.bind(like_pattern(query.search.strip()))
        where.append(
            f"(LOWER(r.name) LIKE {pattern} ESCAPE '\\' OR r.id LIKE {pattern} ESCAPE '\\')"
        )
    return where


def _page_sql(
    store: MetadataStore,
    catalogs: Catalogs,
    query: RunQuery,
    sort: Column,
    limit: int,
    offset: int,
) -> tuple[str, dict[str, Any]]:
    """The page's statement on the store itself (any database)."""
    sql = SqlBuilder(sqlite=_sqlite(store))
    where = _where(query, catalogs, sql)
    direction = "DESC" if query.desc else "ASC"
    if sort.kind == "attr" and sort.key in _NOT_NULL:  # a plain ORDER BY can walk an index
        order = [f"{e} {direction}" for e in sql.sort_keys(sort)]
    else:
        order = [f"({e}) IS NULL, {e} {direction}" for e in sql.sort_keys(sort)]
    order.append(f"r.started_at {direction}, r.id")
    text = (
        f"SELECT {_RUN_COLS} FROM runs r {sql.join_sql()} WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(order)} LIMIT {sql.bind(limit + 1)} OFFSET {sql.bind(offset)}"
    )
    return text, sql.params


def _cached_page(
    cache: ColumnCache,
    catalogs: Catalogs,
    query: RunQuery,
    sort: Column,
    limit: int,
    offset: int,
) -> list[Any] | None:
    """The page on the column cache's connection, or ``None`` when it has nothing to offer.

    A sort by a metric or param (outside one search's trials, which are few) walks the sort
    column's index; filter columns already cached are read from their tables.
    """
    sorted_by = sort.kind in ("metric", "param") and not query.parent
    warm = set(cache.columns())
    sql = SqlBuilder(sqlite=True, cached=lambda c: cache.table(c) if c in warm else None)
    where = _where(query, catalogs, sql)
    if not sorted_by and not sql.uses_cache:
        return None
    if sorted_by:
        table = cache.table(sort, desc=query.desc)
        way = " DESC" if query.desc else ""
        text = (
            f"SELECT {_RUN_COLS} FROM temp.{table} s CROSS JOIN runs r ON r.id = s.run_id "
            f"{sql.join_sql()} WHERE {' AND '.join(where)} ORDER BY s.rank, s.num{way}, "
            f"s.txt{way}, s.started{way}, s.run_id "
            f"LIMIT {sql.bind(limit + 1)} OFFSET {sql.bind(offset)}"
        )
    else:
        direction = "DESC" if query.desc else "ASC"
        if sort.kind == "attr" and sort.key in _NOT_NULL:
            order = [f"{e} {direction}" for e in sql.sort_keys(sort)]
        else:
            order = [f"({e}) IS NULL, {e} {direction}" for e in sql.sort_keys(sort)]
        order.append(f"r.started_at {direction}, r.id")
        text = (
            f"SELECT {_RUN_COLS} FROM runs r {sql.join_sql()} WHERE {' AND '.join(where)} "
            f"ORDER BY {', '.join(order)} LIMIT {sql.bind(limit + 1)} OFFSET {sql.bind(offset)}"
        )
    return cache.read(text, sql.params)


def keys_of(store: MetadataStore, ids: Sequence[str], per_run: int = 500) -> dict[str, list[str]]:
    """The metric keys of each run (at most ``per_run``, in key order), without reading histories.

    On SQLite a skip scan of the ``(run_id, key)`` index: one lookup per key of each run.
    """
    out: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        marks, binds = _in(chunk)
        if _sqlite(store):
            sql = (
                "WITH RECURSIVE k(run_id, key, n) AS (SELECT r.id, (SELECT MIN(m.key) FROM "
                f"metrics m WHERE m.run_id = r.id), 1 FROM runs r WHERE r.id IN ({marks}) "
                "UNION ALL SELECT k.run_id, (SELECT MIN(m.key) FROM metrics m WHERE "
                "m.run_id = k.run_id AND m.key > k.key), k.n + 1 FROM k "
                "WHERE k.key IS NOT NULL AND k.n < :per) "
                "SELECT run_id, key FROM k WHERE key IS NOT NULL"
            )
        else:
            sql = f"SELECT DISTINCT run_id, key FROM metrics WHERE run_id IN ({marks})"
        for run_id, key in store.read(sql, {**binds, "per": per_run}):
            out.setdefault(run_id, []).append(key)
    return out


def latest(store: MetadataStore, ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict]:
    """``{run id: {key: last value}}`` for the given keys: one index lookup per run and key.

    Unlike :func:`many`, the cost does not grow with the length of a run's histories.
    """
    out: dict[str, dict[str, Any]] = {}
    for key in dict.fromkeys(keys):
        for chunk in _chunks(ids):
            marks, binds = _in(chunk)
            rows = store.read(
                "SELECT r.id, (SELECT m.value FROM metrics m WHERE m.run_id = r.id AND "
                f"m.key = :k ORDER BY m.id DESC LIMIT 1) FROM runs r WHERE r.id IN ({marks})",
                {**binds, "k": key},
            )
            for run_id, value in rows:
                if value is not None:
                    out.setdefault(run_id, {})[key] = value
    return out


def default_columns(
    metrics: dict[str, dict[str, Any]],
    params: dict[str, dict[str, Any]],
    n_metrics: int = 6,
    n_params: int = 4,
) -> list[Column]:
    """The metrics and params most of the shown runs have (metrics first)."""
    m = Counter(k for v in metrics.values() for k in v)
    p = Counter(k for v in params.values() for k in v if _scalar(v[k]))
    # most common first; among equals, what reads as a model's quality before data counts
    best_m = sorted(m, key=lambda k: (-m[k], quality_rank(k), k))[:n_metrics]
    best_p = sorted(p, key=lambda k: (-p[k], k))[:n_params]
    return [Column("metric", k) for k in best_m] + [Column("param", k) for k in best_p]


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _values(
    run_id: str,
    columns: Sequence[Column],
    metrics: dict[str, dict[str, Any]],
    params: dict[str, dict[str, Any]],
    tags: dict[str, dict[str, Any]],
) -> dict[Column, Any]:
    source = {"metric": metrics, "param": params, "tag": tags}
    return {c: source[c.kind].get(run_id, {}).get(c.key) for c in columns if c.kind != "attr"}


# --------------------------------------------------------------------------- one run


def run_or_404(store: MetadataStore, run_id: str) -> RunRecord:
    """The run (an id or a unique prefix of at least 4 characters).

    Raises:
        NotFoundError: unknown or ambiguous.
    """
    if not run_id or len(run_id) > 64:
        raise NotFoundError(f"no run '{run_id[:64]}'")
    return store.get_run(run_id)


def artifacts_of(store: MetadataStore, run_id: str) -> list[dict[str, Any]]:
    """The outputs of a run's steps: step, name, artifact id, type, materializer, size."""
    rows = store.read(
        "SELECT s.step, l.name, a.id, a.type_name, a.materializer, a.size FROM lineage l "
        "JOIN step_runs s ON s.id = l.step_run_id JOIN artifacts a ON a.id = l.artifact_id "
        "WHERE s.run_id = :r AND l.direction = 'out' ORDER BY s.started_at, l.name",
        {"r": run_id},
    )
    keys = ("step", "name", "id", "type", "materializer", "size")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def versions_of_run(store: MetadataStore, run_id: str) -> list[tuple[str, int]]:
    """``(model, version)`` registered from a run."""
    rows = store.read(
        "SELECT name, version FROM model_versions WHERE run_id = :r ORDER BY name, version",
        {"r": run_id},
    )
    return [(r[0], int(r[1])) for r in rows]


def children(store: MetadataStore, run_id: str, limit: int = 1000) -> list[RunRecord]:
    """A run's child runs (a search's trials), in the order they started."""
    from noria.store.metadata import RunRecord

    rows = store.read(
        f"SELECT {_RUN_COLS} FROM runs r WHERE r.parent_id = :p ORDER BY r.started_at, r.name "
        "LIMIT :n",
        {"p": run_id, "n": limit},
    )
    return [RunRecord(*r) for r in rows]


# --------------------------------------------------------------------------- comparisons


def resolve_runs(store: MetadataStore, refs: Sequence[str], limit: int = 1000) -> list[RunRecord]:
    """The runs of full ids or unique prefixes (≥ 4 hex digits), in the order given.

    Raises:
        NotFoundError: an id matches no run, or a prefix several.
        UserError: more than ``limit`` runs.
    """
    from noria.store.metadata import RunRecord

    refs = list(dict.fromkeys(r.strip().lower() for r in refs if r.strip()))
    if len(refs) > limit:
        raise UserError(f"compare: {len(refs)} runs asked for; at most {limit}")
    found: dict[str, RunRecord] = {}
    full = [r for r in refs if len(r) == 32]
    for chunk in _chunks(full):
        marks, binds = _in(chunk)
        for row in store.read(f"SELECT {_RUN_COLS} FROM runs r WHERE r.id IN ({marks})", binds):
            found[row[0]] = RunRecord(*row)
    out = []
    for ref in refs:
        if ref in found:
            out.append(found[ref])
            continue
        if len(ref) < 4 or len(ref) > 32 or any(c not in "0123456789abcdef" for c in ref):
            raise NotFoundError(f"no run '{ref[:40]}' (give an id or a prefix of 4+ hex digits)")
        rows = store.read(  # a range on the primary key: the index, not a scan
            f"SELECT {_RUN_COLS} FROM runs r WHERE r.id >= :lo AND r.id < :hi LIMIT 2",
            {"lo": ref, "hi": ref + "g"},
        )
        if len(rows) != 1:
            what = "no run" if not rows else "several runs"
            raise NotFoundError(f"{what} with an id starting '{ref}'")
        out.append(RunRecord(*rows[0]))
    return out
