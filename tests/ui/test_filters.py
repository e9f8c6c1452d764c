"""The filter language: what it accepts, the SQL it makes (no user text in it), its errors."""

from __future__ import annotations

import sqlite3

import pytest

from noria.ui.filters import Catalog, Column, FilterError, SqlBuilder, parse_column, parse_filter

CATALOG = Catalog(
    metrics=frozenset({"roc_auc", "loss"}),
    params=frozenset({"model", "lr", "early_stopping", "odd key"}),
    tags=frozenset({"owner"}),
)


def run(expr: str) -> list[str]:
    """The names of the runs of a small in-memory store that ``expr`` selects."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE runs (id TEXT, name TEXT, pipeline TEXT, kind TEXT, parent_id TEXT,
            status TEXT, started_at REAL, ended_at REAL, owner TEXT, host TEXT);
        CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id TEXT, key TEXT, value REAL);
        CREATE TABLE params (run_id TEXT, key TEXT, value TEXT);
        CREATE TABLE tags (run_id TEXT, key TEXT, value TEXT);
        INSERT INTO runs VALUES ('a', 'alpha', 'p', 'pipeline', NULL, 'completed', 1714521600,
            1714521660, 'ana', 'h'), ('b', 'beta', 'p', 'manual', NULL, 'failed', 1714608000,
            1714608010, 'bo', 'h'), ('c', 'gamma''s', 'p', 'manual', NULL, 'completed', 1, 2,
            'cy', 'h');
        INSERT INTO metrics (run_id, key, value) VALUES ('a', 'roc_auc', 0.5), ('a', 'roc_auc',
            0.95), ('b', 'roc_auc', 0.8), ('a', 'loss', 0.1), ('c', 'loss', 2);
        INSERT INTO params VALUES ('a', 'model', '"lightgbm"'), ('b', 'model', '"linear"'),
            ('a', 'lr', '0.1'), ('b', 'lr', '0.01'), ('a', 'early_stopping', 'true'),
            ('c', 'odd key', '3');
        INSERT INTO tags VALUES ('a', 'owner', 'ana'), ('b', 'owner', 'bo');
        """
    )
    sql = SqlBuilder()
    where = parse_filter(expr, CATALOG, sql)
    for value in sql.params.values():  # nothing the user typed is in the SQL text
        if isinstance(value, str) and len(value) > 2:
            assert value not in where + sql.join_sql()
    rows = db.execute(
        f"SELECT r.name FROM runs r {sql.join_sql()} WHERE {where} ORDER BY r.name", sql.params
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("roc_auc > 0.9", ["alpha"]),  # the last value (0.95), not the first (0.5)
        ("roc_auc > 0.9 and model = lightgbm", ["alpha"]),
        ("model = 'linear' or loss >= 2", ["beta", "gamma's"]),
        ("not (lr >= 0.1)", ["beta"]),
        ("params.lr < 0.05", ["beta"]),
        ("early_stopping = true", ["alpha"]),
        ("status in (failed, interrupted)", ["beta"]),
        ("name ~ ALP", ["alpha"]),
        ("name !~ a", []),
        ('name = "gamma\'s"', ["gamma's"]),
        ("owner = bo", ["beta"]),  # the attribute wins over the tag
        ("tags.owner = ana", ["alpha"]),
        ("`odd key` = 3", ["gamma's"]),
        ("params.`odd key` > 2", ["gamma's"]),
        ("started >= 2024-05-02", ["beta"]),
        ("duration < 30", ["beta", "gamma's"]),
        ("metrics.unknown > 1", []),
        ("name = \"x' OR '1'='1\"", []),
        ("name ~ '%'", []),  # LIKE wildcards are literal
        ("", ["alpha", "beta", "gamma's"]),
    ],
)
def test_filters_select_the_right_runs(expr: str, names: list[str]) -> None:
    assert run(expr) == names


@pytest.mark.parametrize(
    ("expr", "column"),
    [
        ("roc_auc >", 10),
        ("roc_auc = = 1", 11),
        ("(roc_auc > 1", 13),
        ("roc_auc > 1 and", 16),
        ("nope = 1", 1),
        ("roc_auc > 1 and zz = 2", 17),
        ("roc_auc = high", 11),
        ("lr > fast", 6),
        ("name = 'open", 8),
        ("roc_auc @ 1", 9),
        ("status in failed", 11),
        ("metrics. > 1", 1),
    ],
)
def test_errors_point_at_the_column(expr: str, column: int) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(expr, CATALOG, SqlBuilder())
    assert info.value.column == column, str(info.value)
    assert str(info.value).startswith("filter: ") and f"(column {column})" in str(info.value)


def test_columns_and_labels() -> None:
    assert parse_column("metrics.roc_auc", CATALOG) == Column("metric", "roc_auc")
    assert parse_column("lr", CATALOG) == Column("param", "lr")
    assert parse_column("status", CATALOG) == Column("attr", "status")
    assert parse_column("nope", CATALOG) is None
    assert parse_column("params.`odd key`", CATALOG) == Column("param", "odd key")
    assert Column("param", "odd key").label == "params.`odd key`"
    assert parse_column(Column("param", "odd key").label, CATALOG) == Column("param", "odd key")
