"""Schema: inference rules, the YAML file (round trip, hand edits, errors)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noria.data.profile import profile_data
from noria.data.schema import Schema, infer_schema, infer_schema_from_data, load_schema
from noria.errors import ConfigError


@pytest.fixture
def train() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(100),
            "dup": [i // 2 for i in range(100)],
            "x": [float(i) / 3 for i in range(100)],
            "plan": ["free", "pro"] * 50,
            "name": [f"n{i}" for i in range(100)],
            "when": pd.date_range("2024-01-01", periods=100, freq="D"),
            "maybe": [None, 1.0] * 50,
        }
    )


def test_inference_rules(train: pd.DataFrame) -> None:
    schema = infer_schema(profile_data(train))
    c = schema.columns
    assert (c["id"].type, c["id"].nullable, c["id"].unique) == ("integer", False, True)
    assert (c["id"].min, c["id"].max, c["id"].warn) == (0, 99, ("range",))
    assert c["x"].type == "float" and not c["x"].unique
    assert c["plan"].values == ("free", "pro") and not c["plan"].unique
    assert c["name"].values is None and c["name"].unique  # too many values for a domain
    assert c["when"].type == "datetime" and c["when"].min == "2024-01-01T00:00:00"
    assert c["maybe"].nullable


def test_guessed_unique_is_confirmed_on_the_training_data(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    # 2,000 distinct values and one repeat: the estimate says unique, the exact check does not
    pd.DataFrame({"k": [*range(2000), 7]}).to_parquet(path)
    schema, profile = infer_schema_from_data(path)
    assert profile.rows == 2001 and not schema.columns["k"].unique


def test_yaml_round_trip_and_hand_edits(tmp_path: Path, train: pd.DataFrame) -> None:
    schema = infer_schema(profile_data(train))
    path = schema.write(tmp_path / "noria.schema.yaml")
    text = path.read_text()
    assert text.startswith("# noria schema") and "values: [free, pro]" in text
    again = load_schema(path)
    assert again.to_dict() == schema.to_dict()
    path.write_text(text.replace("values: [free, pro]", "values: [free, pro, team]"))
    assert load_schema(path).columns["plan"].values == ("free", "pro", "team")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "columns:\n  a: {type: integr}\n",
            "column 'a': unknown type 'integr' .*did you mean 'integer'",
        ),
        ("columns:\n  a: {nullabel: true}\n", "column 'a': unknown key 'nullabel'"),
        ("columns:\n  a: {warn: [rnage]}\n", "warn: unknown check 'rnage'"),
        ("colums: {}\n", "unknown key 'colums' .*did you mean 'columns'"),
        ("columns: [a, b\n", "not valid YAML"),
        ("columns:\n  a: {type: integer, min: low}\n", "min: must be a number"),
    ],
)
def test_schema_file_errors(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message) as info:
        load_schema(path)
    assert str(path) in str(info.value)


def test_missing_schema_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="noria schema infer"):
        load_schema(tmp_path / "none.yaml")
    assert Schema().min_rows == 1
