"""Validation: every check kind counts failing rows and names examples; policies; bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noria.data.profile import profile_data
from noria.data.schema import ColumnSchema, Schema
from noria.data.validate import parse_checks, validate_file, validate_frame
from noria.errors import ConfigError, DataError


@pytest.fixture
def batch() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 3, 5, 6],
            "age": [30, -1, 45, 200, None, 50],
            "plan": ["free", "pro", "free", "gold", "pro", None],
            "email": ["a@x.io", "b@x.io", "nope", "c@x.io", "d@x.io", "e@x.io"],
            "amount": [10.0, 5.0, 1.0, 2.0, 3.0, 4.0],
            "balance": [20.0, 1.0, 5.0, 5.0, 5.0, 5.0],
        }
    )


SCHEMA = Schema(
    columns={
        "id": ColumnSchema("id", "integer", nullable=False, unique=True),
        "age": ColumnSchema("age", "integer", nullable=False, min=0, max=120),
        "plan": ColumnSchema("plan", "string", values=("free", "pro")),
        "email": ColumnSchema("email", "string"),
        "amount": ColumnSchema("amount", "float"),
        "balance": ColumnSchema("balance", "float"),
    }
)


def counts(result) -> dict[str, int]:
    return {r.check.label: r.failing for r in result.results}


def test_schema_and_user_checks_count_failing_rows(batch: pd.DataFrame) -> None:
    checks = parse_checks(
        [
            {"column": "email", "regex": r"^[^@]+@[^@]+$"},
            {"sql": "amount <= balance", "name": "amount within balance"},
            {"column": "plan", "max_null_fraction": 0.1, "severity": "warn"},
            {"row_count": [10, None]},
        ]
    )
    result = validate_frame(batch, SCHEMA, checks)
    got = counts(result)
    assert got["id: unique"] == 2  # both rows that share 3
    assert got["age: not_null"] == 1
    assert got["age: range [0, 120]"] == 2
    assert got["plan: in_set 2 values"] == 1  # 'gold' is a new category; the null passes
    assert got["email: regex /^[^@]+@[^@]+$/"] == 1
    assert got["amount within balance"] == 1
    assert got["plan: max_null_fraction ≤ 0.1"] == 1
    assert got["row_count [10, -]"] == 1
    assert not result.passed and len(result.warnings) == 1
    rng = next(r for r in result.results if r.check.kind == "range")
    assert [e["row"] for e in rng.examples] == [2, 4] and rng.examples[0]["age"] == -1
    assert "column 'age' is outside [0, 120] in 2 of 6 rows (first at row 2: -1.0)" in rng.message
    uniq = next(r for r in result.results if r.check.kind == "unique")
    assert uniq.examples[0] == {"id": 3, "rows": 2}


def test_policies_drop_and_quarantine(batch: pd.DataFrame) -> None:
    result = validate_frame(batch, SCHEMA)
    with pytest.raises(DataError, match="column 'id' should be unique"):
        result.apply("fail")
    valid, bad = result.apply("quarantine")
    assert valid["id"].tolist() == [1, 6]  # rows 2..5 break a range, a not_null, unique, a set
    assert bad["id"].tolist() == [2, 3, 3, 5]
    assert "age: range" in bad["__failed_checks"].iloc[0]
    valid2, none = result.apply("drop")
    assert none is None and valid2.equals(valid)
    with pytest.raises(ConfigError, match="did you mean 'drop'"):
        result.apply("dorp")


def test_a_clean_frame_passes_and_keeps_every_row(batch: pd.DataFrame) -> None:
    clean = batch.iloc[[0, 5]].assign(plan="free")
    result = validate_frame(clean, SCHEMA)
    assert result.passed and result.valid_rows is clean and len(result.bad_rows) == 0


def test_missing_renamed_and_extra_columns(batch: pd.DataFrame) -> None:
    renamed = batch.rename(columns={"email": "e_mail"})
    result = validate_frame(renamed, SCHEMA)
    missing = next(r for r in result.results if r.check.kind == "missing_column")
    assert missing.message.endswith(
        "column 'email' is missing (did you mean 'e_mail'?); rename it back in the data, "
        "or rename it in the schema"
    )
    extra = next(r for r in result.results if r.check.kind == "extra_column")
    assert extra.severity == "warn" and extra.check.column == "e_mail"
    assert result.fatal and result.fatal[0].check.kind == "missing_column"
    with pytest.raises(DataError, match="missing"):
        result.apply("drop")  # dropping rows cannot fix a missing column


def test_type_change_and_mixed_types_in_a_csv_column(tmp_path: Path) -> None:
    csv = tmp_path / "batch.csv"
    csv.write_text("id,age\n1,30\n2,forty\n3,50\n")  # mixed types: DuckDB reads age as text
    schema = Schema(columns={"id": ColumnSchema("id", "integer"), "age": ColumnSchema(
        "age", "integer", min=0, max=120)})  # fmt: skip
    result = validate_file(csv, schema)
    typ = next(r for r in result.results if r.check.kind == "type" and r.check.column == "age")
    assert typ.failing == 1 and typ.examples[0]["row"] == 2
    assert "column 'age' should be integer but 1 of 3 rows are not (read as VARCHAR)" in typ.message
    assert str(csv) in typ.message
    floats = pd.DataFrame({"id": [1.0, 2.5], "age": [1, 2]})
    result = validate_frame(floats, schema)
    assert counts(result)["id: type integer"] == 1  # 2.5 is no integer


def test_all_null_column_and_empty_batch(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2], "age": [None, None]})
    result = validate_frame(frame, SCHEMA.__class__(columns={"age": SCHEMA.columns["age"]}))
    assert counts(result)["age: not_null"] == 2
    empty = tmp_path / "empty.parquet"
    frame.iloc[0:0].to_parquet(empty)
    result = validate_file(empty, Schema(columns={}, min_rows=1))
    assert counts(result)["row_count [1, -]"] == 1


def test_validate_parquet_file_names_file_and_row(tmp_path: Path, batch: pd.DataFrame) -> None:
    path = tmp_path / "b.parquet"
    batch.to_parquet(path)
    result = validate_file(path, SCHEMA)
    rng = next(r for r in result.results if r.check.kind == "range")
    assert rng.examples[0]["row"] == 2 and rng.examples[0]["file"] == str(path)
    assert f"{path}: column 'age'" in rng.message


def test_skew_against_the_training_profile() -> None:
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"x": rng.normal(0, 1, 3000), "c": rng.choice(["a", "b"], 3000)})
    same = pd.DataFrame({"x": rng.normal(0, 1, 1000), "c": rng.choice(["a", "b"], 1000)})
    moved = pd.DataFrame({"x": rng.normal(2, 1, 1000), "c": ["a"] * 1000})
    ref = profile_data(train)
    ok = validate_frame(same, None, reference=ref)
    assert ok.passed and not ok.warnings
    bad = validate_frame(moved, None, reference=ref)
    flagged = {r.check.column for r in bad.warnings}
    assert flagged == {"x", "c"} and bad.passed  # skew warns, it does not fail
    assert "column 'x' departs from the training data (PSI" in bad.warnings[0].message


def test_check_errors_name_the_check(batch: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"checks\[0\]: a check needs exactly one of"):
        parse_checks([{"column": "a", "range": [0, 1], "regex": "x"}])
    with pytest.raises(ConfigError, match=r"checks\[0\]: range needs `column:`"):
        parse_checks([{"range": [0, 1]}])
    with pytest.raises(ConfigError, match="unknown key 'rnage'"):
        parse_checks([{"column": "a", "rnage": [0, 1]}])
    with pytest.raises(DataError, match=r"column 'agee' is not in .*did you mean 'age'"):
        validate_frame(batch, None, parse_checks([{"column": "agee", "not_null": True}]))
    with pytest.raises(ConfigError, match=re.escape("checks[0]: sql 'nonsense ((' is refused")):
        parse_checks([{"sql": "nonsense (("}])
    with pytest.raises(ConfigError, match=re.escape("check 'sql nope > 1': the SQL expr")):
        validate_frame(batch, None, parse_checks([{"sql": "nope > 1"}]))


def test_checks_over_distinct_values_count_as_per_row() -> None:
    """A string column with few values is checked per value; the counts equal a row scan."""
    import duckdb

    from noria.data.check_sql import failure_predicate
    from noria.data.profile import open_source
    from noria.data.validate import checks_by_value

    rng = np.random.default_rng(3)
    n = 60_000
    zips = np.char.zfill(rng.integers(0, 500, n).astype(str), 5).astype(object)
    zips[rng.random(n) < 0.01] = "ABCDE"
    zips[rng.random(n) < 0.01] = None
    plan = rng.choice(["free", "pro", "gold"], n).astype(object)
    frame = pd.DataFrame({"zip": zips, "plan": plan, "email": [f"u{i}@x.io" for i in range(n)]})
    checks = parse_checks(
        [
            {"column": "zip", "regex": "^[0-9]{5}$"},
            {"column": "plan", "in_set": ["free", "pro"]},
            {"column": "email", "regex": "^[^@]+@[^@]+$"},
            {"column": "zip", "not_null": True},
        ]
    )
    con = duckdb.connect()
    source = open_source(con, frame)
    types = dict(source.columns)
    preds = {i: failure_predicate(c, types, {}) for i, c in enumerate(checks)}
    assert set(checks_by_value(con, source, checks, preds).values()) == {"zip", "plan"}  # not email
    got = counts(validate_frame(frame, None, checks))
    notna = pd.notna(zips)
    assert got["zip: regex /^[0-9]{5}$/"] == int((zips[notna] == "ABCDE").sum())
    assert got["plan: in_set 2 values"] == int((plan == "gold").sum())
    assert got["email: regex /^[^@]+@[^@]+$/"] == 0
    assert got["zip: not_null"] == int((~notna).sum())
    result = validate_frame(frame, None, checks)
    bad_zip = result.results[0]
    assert bad_zip.examples and all(e["zip"] == "ABCDE" for e in bad_zip.examples)


@pytest.mark.parametrize("spread", [1, 10**12])
def test_unique_of_integers_counts_every_repeated_row(spread: int) -> None:
    """Integer ids are counted in NumPy (bincount, or a sort when sparse) like the GROUP BY."""
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 5000, 20_000) * spread
    frame = pd.DataFrame({"id": pd.array(ids, dtype="Int64")})
    frame.loc[::97, "id"] = pd.NA
    result = validate_frame(frame, None, parse_checks([{"column": "id", "unique": True}]))
    values = frame["id"].dropna()
    sizes = values.value_counts()
    assert result.results[0].failing == int(sizes[sizes > 1].sum())
    top = sorted(sizes[sizes > 1].items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(e["id"], e["rows"]) for e in result.results[0].examples] == [
        (int(v), int(c)) for v, c in top
    ]
