"""A run's metric keys and their histories, read without counting or scanning twice.

The metrics table has one index, ``(run_id, key)``, whose entries for one key are ordered by the
row id (the logging order). Everything here leans on that:

- :func:`metric_keys` lists a run's keys by skipping through the index (one lookup per key, not
  one per point: a run with a 1,000,000-point history and 12,000 keys lists them in
  milliseconds), and reads each key's first and last point by the two ends of its index range.
  The number of points is counted only when the range is short (at most ``COUNT_UP_TO`` rows
  between the first and the last point); a long history gets its count from the chart's pass.
- :func:`load_history` reads a history in **one pass**: a short one point by point, a long one
  cut into buckets of consecutive row ids, each keeping its first step, its minimum, its maximum
  and its number of points, so a spike survives and a 1,000,000-point history ships a few hundred
  buckets. On SQLite each bucket is one range of the index (a correlated subquery per bucket,
  no sort of the million rows for a ``GROUP BY``); elsewhere one ``GROUP BY`` over integer
  buckets of the id.

Not here: drawing (:mod:`noria.ui.svg`), the runs page (:mod:`noria.ui.queries`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noria.store.metadata import MetadataStore

__all__ = ["COUNT_UP_TO", "History", "MetricKey", "load_history", "metric_keys"]

#: Histories whose first and last points are at most this many rows apart are counted exactly.
COUNT_UP_TO = 10_000
_CHUNK = 500


@dataclass
class MetricKey:
    """One metric of a run: its last value, and how long its history is.

    ``points`` is ``None`` when the history is too long to count cheaply (more than
    :data:`COUNT_UP_TO` rows between its ends); ``many`` says whether it has more than one point.
    """

    key: str
    last: float
    points: int | None
    first_step: int
    last_step: int
    first_id: int
    last_id: int

    @property
    def many(self) -> bool:
        """More than one point (worth a chart)."""
        return self.last_id != self.first_id


@dataclass
class History:
    """A history as ``(step, min, max)`` buckets (``min == max`` when a bucket is one point)."""

    points: list[tuple[float, float, float]]
    count: int  # points in the store


def _sqlite(store: MetadataStore) -> bool:
    return store.url.startswith("sqlite:")


def metric_keys(store: MetadataStore, run_id: str) -> list[MetricKey]:
    """Every metric key of a run with its last value, steps and (when cheap) number of points."""
    if _sqlite(store):
        # a skip scan of the (run_id, key) index: one lookup per key, whatever the histories
        ends = store.read(
            "WITH RECURSIVE k(key) AS (SELECT MIN(key) FROM metrics WHERE run_id = :r "
            "UNION ALL SELECT (SELECT MIN(m.key) FROM metrics m WHERE m.run_id = :r "
            "AND m.key > k.key) FROM k WHERE k.key IS NOT NULL) "
            "SELECT k.key, "
            "(SELECT MIN(m.id) FROM metrics m WHERE m.run_id = :r AND m.key = k.key), "
            "(SELECT MAX(m.id) FROM metrics m WHERE m.run_id = :r AND m.key = k.key) "
            "FROM k WHERE k.key IS NOT NULL",
            {"r": run_id},
        )
    else:
        ends = store.read(
            "SELECT key, MIN(id), MAX(id) FROM metrics WHERE run_id = :r GROUP BY key",
            {"r": run_id},
        )
    if not ends:
        return []
    ids = sorted({i for _, a, b in ends for i in (a, b)})
    rows: dict[int, tuple[int, float]] = {}
    for lo in range(0, len(ids), _CHUNK):
        chunk = ids[lo : lo + _CHUNK]
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        binds = {f"i{n}": v for n, v in enumerate(chunk)}
        for i, step, value in store.read(
            f"SELECT id, step, value FROM metrics WHERE id IN ({marks})", binds
        ):
            rows[i] = (step, value)
    short = [k for k, a, b in ends if b != a and b - a < COUNT_UP_TO]
    counts: dict[str, int] = {}
    for lo in range(0, len(short), _CHUNK):
        chunk = short[lo : lo + _CHUNK]
        marks = ", ".join(f":k{n}" for n in range(len(chunk)))
        binds = {f"k{n}": v for n, v in enumerate(chunk)}
        for key, n in store.read(  # the index alone: (run_id, key) covers a count
            f"SELECT key, COUNT(*) FROM metrics WHERE run_id = :r AND key IN ({marks}) "
            "GROUP BY key",
            {**binds, "r": run_id},
        ):
            counts[key] = int(n)
    out = []
    for key, first, last in sorted(ends):
        points = 1 if first == last else counts.get(key)
        out.append(
            MetricKey(
                key, rows[last][1], points, int(rows[first][0]), int(rows[last][0]), first, last
            )
        )
    return out


def load_history(
    store: MetadataStore,
    run_id: str,
    key: str,
    buckets: int = 400,
    *,
    ends: tuple[int, int] | None = None,
    sqlite: bool | None = None,
) -> History:
    """A metric's history in at most ``buckets`` buckets, in one pass over its points.

    Args:
        store: the metadata store.
        run_id: the run.
        key: the metric.
        buckets: the most buckets returned; a history of up to ``2 × buckets`` rows between its
            first and last point comes back point by point.
        ends: the ids of its first and last point when known (from :func:`metric_keys`).
        sqlite: force the SQLite (per-bucket ranges) or the generic (``GROUP BY``) statement.
    """
    binds = {"r": run_id, "k": key}
    if ends is None:
        first = store.read(
            "SELECT id FROM metrics WHERE run_id = :r AND key = :k ORDER BY id LIMIT 1", binds
        )
        if not first:
            return History([], 0)
        last = store.read(
            "SELECT id FROM metrics WHERE run_id = :r AND key = :k ORDER BY id DESC LIMIT 1",
            binds,
        )
        ends = (int(first[0][0]), int(last[0][0]))
    lo, hi = ends
    span = hi - lo + 1
    if span <= 2 * buckets:
        rows = store.read(
            "SELECT step, value FROM metrics WHERE run_id = :r AND key = :k ORDER BY step, id",
            binds,
        )
        return History([(float(s), v, v) for s, v in rows], len(rows))
    width = -(-span // buckets)  # ceil: at most `buckets` buckets
    if _sqlite(store) if sqlite is None else sqlite:
        # one index range per bucket; the four aggregates travel as one text value, so that
        # each range is read once (SQLite has no LATERAL join)
        raw = store.read(
            "WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i < :n - 1) "
            "SELECT (SELECT MIN(step) || ' ' || MIN(value) || ' ' || MAX(value) || ' ' || "
            "COUNT(*) FROM metrics WHERE run_id = :r AND key = :k AND id >= :lo + b.i * :w "
            "AND id < :lo + (b.i + 1) * :w) FROM b",
            {**binds, "n": buckets, "lo": lo, "w": width},
        )
        parsed = [r[0].split(" ") for r in raw if r[0] is not None]
        found = [(float(s), float(a), float(b), int(c)) for s, a, b, c in parsed]
    else:
        rows = store.read(
            "SELECT (id - :lo) / :w AS b, MIN(step), MIN(value), MAX(value), COUNT(*) "
            "FROM metrics WHERE run_id = :r AND key = :k GROUP BY (id - :lo) / :w",
            {**binds, "lo": lo, "w": width},
        )
        found = [(float(s), a, b, int(c)) for _, s, a, b, c in rows]
    found.sort(key=lambda p: p[0])
    return History([(s, a, b) for s, a, b, _ in found], sum(p[3] for p in found))
