"""The runs page's caches: sorted column tables agree with SQL, follow new rows, walk an index."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from noria.store.metadata import MetadataStore
from noria.ui import queries
from noria.ui.caches import Catalogs, ColumnCache
from noria.ui.filters import Column

FAMILIES = ("lightgbm", "linear", "forest")


def _add(store: MetadataStore, n: int, rng: random.Random, start: float, **fixed) -> list[str]:
    rows, params, metrics = [], [], []
    for i in range(n):
        rid = uuid.UUID(int=rng.getrandbits(128)).hex
        rows.append(
            {
                "id": rid,
                "name": f"run-{start + i:.0f}",
                "kind": "manual",
                "parent_id": None,
                "status": "completed",
                "started_at": start + i,
                "ended_at": start + i + 1,
            }
        )
        if rng.random() > 0.1:  # some runs lack the param, some the metric
            params.append((rid, "family", fixed.get("family", rng.choice(FAMILIES))))
        params.append((rid, "depth", rng.choice([3, 5, 8, "auto"])))
        if rng.random() > 0.1:
            metrics.append((rid, "auc", fixed.get("auc", round(rng.random(), 2)), 0, start + i))
        metrics.append((rid, "loss", rng.random(), 0, start + i))
    with store.write() as tx:
        store.insert_runs(tx, rows)
        store.log_batch(tx, params=params, metrics=metrics)
    return [r["id"] for r in rows]


@pytest.fixture
def store(tmp_path: Path):
    store = MetadataStore(f"sqlite:///{tmp_path / 'noria.db'}")
    _add(store, 400, random.Random(1), 1_000.0)
    yield store
    store.close()


QUERIES = [
    ("metrics.auc", ""),
    ("metrics.auc", "family = lightgbm"),
    ("params.depth", ""),
    ("params.family", "auc > 0.3"),
    ("metrics.loss", "auc > 0.5 and family != linear"),
]


@pytest.mark.parametrize(("sort", "flt"), QUERIES)
@pytest.mark.parametrize("desc", [True, False])
def test_a_cached_sort_is_the_sort_of_sql(store, sort: str, flt: str, desc: bool) -> None:
    catalogs, cache = Catalogs(store), ColumnCache(store.url)
    for page in (1, 2, 5):
        q = queries.RunQuery(sort=sort, desc=desc, filter=flt, page=page, per_page=40)
        plain = queries.page_of_runs(store, catalogs, q)
        cached = queries.page_of_runs(store, catalogs, q, cache)
        assert [r.id for r in cached.runs] == [r.id for r in plain.runs]
        assert cached.has_next == plain.has_next
    prefix, _, key = sort.partition(".")
    assert Column(prefix.rstrip("s"), key) in cache.columns()


def test_new_runs_and_points_are_seen(store) -> None:
    catalogs, cache = Catalogs(store), ColumnCache(store.url)
    q = queries.RunQuery(sort="metrics.auc", desc=True, per_page=5)
    before = queries.page_of_runs(store, catalogs, q, cache)
    assert before.runs[0].name != "run-5000"
    [new] = _add(store, 1, random.Random(2), 5_000.0, auc=2.0)  # the best from now on
    first = queries.page_of_runs(store, catalogs, q, cache).runs[0]
    assert first.id == new
    # a new point of an existing run moves it: the last value counts
    old = before.runs[-1].id
    with store.write() as tx:
        store.log_batch(tx, metrics=[(old, "auc", 3.0, 1, 6_000.0)])
    top = [r.id for r in queries.page_of_runs(store, catalogs, q, cache).runs]
    assert top[:2] == [old, new]
    plain = [r.id for r in queries.page_of_runs(store, catalogs, q).runs]
    assert top == plain


def test_a_sorted_page_walks_the_index(store) -> None:
    cache = ColumnCache(store.url)
    table = cache.table(Column("metric", "auc"), desc=True)
    plan = cache.read(
        f"EXPLAIN QUERY PLAN SELECT r.id FROM temp.{table} s CROSS JOIN runs r "
        "ON r.id = s.run_id WHERE +r.parent_id IS NULL ORDER BY s.rank, s.num DESC, "
        "s.txt DESC, s.started DESC, s.run_id LIMIT 51",
        {},
    )
    steps = " / ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX" in steps and "TEMP B-TREE" not in steps, steps


def test_the_least_recently_used_column_goes(store) -> None:
    cache = ColumnCache(store.url, size=2)
    for key in ("auc", "loss"):
        cache.table(Column("metric", key))
    cache.table(Column("metric", "auc"))  # used again: "loss" is now the oldest
    cache.table(Column("param", "depth"))
    assert cache.columns() == [Column("metric", "auc"), Column("param", "depth")]
    left = cache.read("SELECT COUNT(*) FROM temp.sqlite_master WHERE type = 'table'", {})
    assert left[0][0] == 2


def test_the_cache_writes_nothing_to_the_store(store) -> None:
    cache = ColumnCache(store.url)
    cache.table(Column("metric", "auc"), desc=False)
    tables = {r[0] for r in store.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not any(t.startswith("ui_col") for t in tables)
    with pytest.raises(Exception, match="readonly"):
        cache.read("CREATE TABLE main.x (a)", {})


def test_catalogs_read_only_what_is_new(store, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogs = Catalogs(store)
    assert catalogs.get().metrics == {"auc", "loss"}
    statements: list[str] = []
    real = MetadataStore.read

    def spy(self: MetadataStore, sql: str, params=None):
        statements.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(MetadataStore, "read", spy)
    with store.write() as tx:
        store.log_batch(tx, metrics=[(uuid.uuid4().hex, "brand_new", 1.0, 0, 0.0)])
    assert "brand_new" in catalogs.refresh().metrics
    scans = [s for s in statements if "DISTINCT" in s]
    assert len(scans) == 3 and all("> :after" in s for s in scans), statements
