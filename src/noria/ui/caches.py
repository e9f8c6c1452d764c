"""What the dashboard keeps between requests: the key catalog, and columns of values to sort by.

The metadata store has no index by metric or param *key* (its indexes lead with the run), so two
things the runs page needs would otherwise read the whole store on every request:

- :class:`Catalogs`, the metric, param and tag keys that exist (to resolve a bare name in a
  filter, to offer columns). The first load scans the three tables, on a connection of its own
  and in the background; later loads on SQLite read only the rows added since (the row ids grow:
  metrics are never updated, and a param or tag updated in place keeps its key).
- :class:`ColumnCache`, for a sort by a metric or a param on SQLite: the last value of that key
  for every run, in a ``TEMP`` table of a connection of its own (``mode=ro``: nothing is written
  to the store, no schema changes), indexed in sort order. A sorted page then walks that index
  and stops after one page, instead of looking up 100,000 values and sorting them. The table is
  built on the first sort by the key (one lookup per run: about what one uncached sort costs),
  brought up to date before each use from the rows added since (new runs, new metric points, new
  params: a few index range reads), and rebuilt when older than ``ttl`` (a param overwritten in
  place is the one change the row ids do not reveal). At most ``size`` columns are kept.

Not here: the queries themselves (:mod:`noria.ui.queries`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from noria.ui.filters import Catalog, Column

if TYPE_CHECKING:
    from noria.store.metadata import MetadataStore

__all__ = ["Catalogs", "ColumnCache", "sqlite_path"]

#: ``TEXT`` that reads as a number (params are JSON text): the runs page's numbers-first order.
NUMBER = "(CASE WHEN substr({0}, 1, 1) GLOB '[-0-9.]' THEN CAST({0} AS REAL) END)"


def sqlite_path(url: str) -> str | None:
    """The database file of a ``sqlite:///`` URL (``None`` for other databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").partition("?")[0]
    return path if path and path != ":memory:" else None


class Catalogs:
    """The metric, param and tag keys of a store, cached and refreshed incrementally.

    Pages never wait for it unless they must: :meth:`peek` answers at once with what is known
    (reloading in the background when older than ``ttl``); only a bare name that is not yet
    known makes a page wait for :meth:`refresh`.
    """

    def __init__(self, store: MetadataStore, ttl: float = 30.0) -> None:
        self.store = store
        self.ttl = ttl
        self._value: Catalog | None = None
        self._marks: tuple[int, int, int] | None = None  # max row ids seen: metrics, params, tags
        self._at = 0.0
        self._lock = threading.Lock()
        self._loading = False
        self._loaded = threading.Event()
        self._own: MetadataStore | None = None

    @property
    def loaded(self) -> bool:
        """Whether a first load has finished."""
        return self._value is not None

    def get(self) -> Catalog:
        """The catalog, reloaded when older than the TTL."""
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self.ttl:
                self._value = self._load()
                self._at = time.monotonic()
            return self._value

    def peek(self, wait: float = 0.0) -> Catalog:
        """What is known now; a missing or stale catalog is (re)loaded in the background.

        Args:
            wait: seconds to wait for a first load still under way.
        """
        value = self._value
        if (value is None or time.monotonic() - self._at > self.ttl) and not self._loading:
            self._loading = True
            threading.Thread(target=self._background, daemon=True).start()
        if value is None and wait > 0:
            self._loaded.wait(wait)
            value = self._value
        return value or Catalog()

    def _background(self) -> None:
        try:
            self.get()
        except Exception:  # the store went away: pages will say so themselves
            pass
        finally:
            self._loading = False
            self._loaded.set()

    def refresh(self) -> Catalog:
        """Reload now (a name may have just appeared); after a first load, only what is new."""
        with self._lock:
            self._value = self._load()
            self._at = time.monotonic()
            return self._value

    def _load(self) -> Catalog:
        # its own connection: a first load's full scans must not hold the pages' connection
        if self._own is None:
            from noria.store.metadata import MetadataStore

            self._own = MetadataStore(self.store.url)
        own = self._own
        if not own.url.startswith("sqlite:"):
            return Catalog(*(_keys(own, t) for t in ("metrics", "params", "tags")))
        row = own.read(
            "SELECT (SELECT MAX(id) FROM metrics), (SELECT MAX(rowid) FROM params), "
            "(SELECT MAX(rowid) FROM tags)"
        )[0]
        marks = (int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))
        old, before = self._value, self._marks
        if old is None or before is None or any(n < b for n, b in zip(marks, before, strict=True)):
            value = Catalog(*(_keys(own, t) for t in ("metrics", "params", "tags")))
        else:  # only the rows added since: a range of each table's row ids
            value = Catalog(
                old.metrics | _keys(own, "metrics", "id", before[0]),
                old.params | _keys(own, "params", "rowid", before[1]),
                old.tags | _keys(own, "tags", "rowid", before[2]),
            )
        self._marks = marks
        return value


def _keys(store: MetadataStore, table: str, rowid: str = "", after: int = 0) -> frozenset[str]:
    where = f" WHERE {rowid} > :after" if rowid else ""
    rows = store.read(f"SELECT DISTINCT key FROM {table}{where}", {"after": after})
    return frozenset(r[0] for r in rows)


# --------------------------------------------------------------------------- sort columns


@dataclass
class _Entry:
    table: str
    runs: int  # the highest runs.rowid included
    source: int  # the highest metrics.id / params.rowid included
    built: float
    indexes: set[str]


class ColumnCache:
    """The last value of a metric or param for every run, as sorted ``TEMP`` tables (SQLite).

    Each table ``temp.ui_col_N`` has one row per run: ``run_id``, ``rank`` (0 a number, 1 text,
    2 no value), ``num``, ``txt`` and the run's ``started`` time, with an index in the order of
    the runs page (``rank``, value, start time, id) for each direction asked for.

    Args:
        url: the store's ``sqlite:///`` URL.
        size: the most columns kept (least recently used dropped first).
        ttl: seconds after which a column is rebuilt rather than brought up to date.
    """

    def __init__(self, url: str, size: int = 16, ttl: float = 300.0) -> None:
        path = sqlite_path(url)
        if path is None:
            raise ValueError(f"not a SQLite store: {url}")
        self.path = path
        self.size = size
        self.ttl = ttl
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._entries: OrderedDict[Column, _Entry] = OrderedDict()
        self._serial = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"file:{quote(self.path)}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA temp_store=FILE")  # the columns spill to disk, not to RSS
            self._conn = conn
        return self._conn

    def read(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """Rows of a query on this cache's connection (where its ``TEMP`` tables are)."""
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def columns(self) -> list[Column]:
        """The cached columns, least recently used first."""
        with self._lock:
            return list(self._entries)

    def table(self, column: Column, desc: bool | None = None) -> str:
        """The name of the column's up-to-date table (built on first use).

        Args:
            column: a metric or param column.
            desc: also make sure its index for this direction exists (``None``: no index).
        """
        if column.kind not in ("metric", "param"):
            raise ValueError(f"only metrics and params are cached, not {column.kind}")
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")  # one snapshot: the marks and the rows agree
            try:
                entry = self._entries.get(column)
                if entry is not None and time.monotonic() - entry.built > self.ttl:
                    conn.execute(f"DROP TABLE temp.{entry.table}")
                    del self._entries[column]
                    entry = None
                if entry is None:
                    entry = self._build(conn, column)
                else:
                    self._update(conn, column, entry)
                    self._entries.move_to_end(column)
                if desc is not None:
                    name = f"{entry.table}_{'d' if desc else 'a'}"
                    if name not in entry.indexes:
                        way = " DESC" if desc else ""
                        conn.execute(
                            f"CREATE INDEX temp.{name} ON {entry.table} "
                            f"(rank, num{way}, txt{way}, started{way}, run_id)"
                        )
                        entry.indexes.add(name)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._entries.pop(column, None)
                raise
            while len(self._entries) > self.size:
                _, old = self._entries.popitem(last=False)
                conn.execute(f"DROP TABLE IF EXISTS temp.{old.table}")
            return entry.table

    def _marks(self, conn: sqlite3.Connection, column: Column) -> tuple[int, int]:
        source = (
            "SELECT MAX(id) FROM metrics"
            if column.kind == "metric"
            else ("SELECT MAX(rowid) FROM params")
        )
        row = conn.execute(f"SELECT (SELECT MAX(rowid) FROM runs), ({source})").fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def _values(self, column: Column, runs: str) -> str:
        """``SELECT run_id, rank, num, txt, started`` for the runs that ``runs`` selects."""
        if column.kind == "metric":
            return (
                "SELECT r.id, CASE WHEN m.value IS NULL THEN 2 ELSE 0 END, m.value, NULL, "
                "r.started_at FROM runs r LEFT JOIN metrics m ON m.id = (SELECT MAX(mm.id) "
                f"FROM metrics mm WHERE mm.run_id = r.id AND mm.key = :k) WHERE {runs}"
            )
        num = NUMBER.format("p.value")
        return (
            f"SELECT r.id, CASE WHEN p.value IS NULL THEN 2 WHEN {num} IS NULL THEN 1 ELSE 0 END, "
            f"{num}, p.value, r.started_at FROM runs r LEFT JOIN params p ON p.run_id = r.id "
            f"AND p.key = :k WHERE {runs}"
        )

    def _build(self, conn: sqlite3.Connection, column: Column) -> _Entry:
        self._serial += 1
        table = f"ui_col_{self._serial}"
        runs, source = self._marks(conn, column)
        conn.execute(
            f"CREATE TEMP TABLE {table} (run_id TEXT NOT NULL, rank INTEGER NOT NULL, num REAL, "
            "txt TEXT, started REAL)"
        )
        conn.execute(
            f"INSERT INTO {table} {self._values(column, 'r.rowid <= :runs')}",
            {"k": column.key, "runs": runs},
        )
        entry = _Entry(table, runs, source, time.monotonic(), set())  # run_id index: on update
        self._entries[column] = entry
        return entry

    def _update(self, conn: sqlite3.Connection, column: Column, entry: _Entry) -> None:
        runs, source = self._marks(conn, column)
        if runs == entry.runs and source == entry.source:
            return
        if "id" not in entry.indexes:  # the first update: rows are replaced by run id
            conn.execute(f"CREATE UNIQUE INDEX temp.{entry.table}_id ON {entry.table} (run_id)")
            entry.indexes.add("id")
        binds = {"k": column.key, "lo": entry.runs, "hi": runs}
        if runs > entry.runs:  # new runs, with whatever values they have already
            conn.execute(
                f"INSERT OR REPLACE INTO {entry.table} "
                f"{self._values(column, 'r.rowid > :lo AND r.rowid <= :hi')}",
                binds,
            )
        if source > entry.source:  # new points or params of runs already there
            if column.kind == "metric":
                changed = (
                    "SELECT DISTINCT run_id FROM metrics WHERE id > :from AND id <= :to "
                    "AND key = :k"
                )
            else:
                changed = (
                    "SELECT run_id FROM params WHERE rowid > :from AND rowid <= :to AND key = :k"
                )
            conn.execute(
                f"INSERT OR REPLACE INTO {entry.table} "
                f"{self._values(column, f'r.rowid <= :hi AND r.id IN ({changed})')}",
                {**binds, "from": entry.source, "to": source},
            )
        entry.runs, entry.source = max(runs, entry.runs), max(source, entry.source)

    def close(self) -> None:
        """Close the connection (its tables go with it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._entries.clear()
