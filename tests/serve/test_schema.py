"""Payloads checked against a signature: number columns are converted and checked together,
and any bad value still gets the column-by-column message that names it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noria.errors import DataError
from noria.serve.schema import Signature

SIG = Signature(
    [
        {"name": "a", "dtype": "float64"},
        {"name": "b", "dtype": "int64"},
        {"name": "s", "dtype": "object"},
    ]
)


def test_number_columns_together() -> None:
    cols = SIG.from_split(["s", "b", "a"], [["x", 1, 0.5], [None, None, 2]])
    assert cols.n == 2 and cols.values["a"].tolist() == [0.5, 2.0]
    assert cols.values["b"][0] == 1.0 and math.isnan(cols.values["b"][1])
    assert cols.values["s"].tolist() == ["x", None]
    assert cols.lists is not None and list(cols.lists["a"]) == [0.5, 2]


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([[1.0, None, "x"], [math.nan, 2, "y"]], "data[1] column a: nan is not a finite"),
        ([[1.0, 2, "x"], [2.0, math.inf, "y"]], "data[1] column b: inf is not a finite"),
        ([[1.0, 2, "x"], [True, 3, "y"]], "data[1] column a: expected a number"),
        ([[1.0, "2", "x"]], "data[0] column b: expected a number"),
        ([[10**400, 2, "x"]], "data[0] column a:"),
    ],
)
def test_bad_numbers_are_named(rows: list[list[object]], needle: str) -> None:
    with pytest.raises(DataError, match=None) as info:
        SIG.from_split(["a", "b", "s"], rows)
    assert needle in str(info.value)


def test_rows_of_the_wrong_shape_are_named() -> None:
    with pytest.raises(DataError, match=r"data\[1\]: expected a list of 3 values, got 2 values"):
        SIG.from_split(["a", "b", "s"], [[1, 2, "x"], [1, 2]])
    with pytest.raises(DataError, match=r"data\[0\]: expected a list of 3 values, got an object"):
        SIG.from_split(["a", "b", "s"], [{"a": 1}])
    assert np.array_equal(SIG.from_records([{"a": 1, "b": 2, "s": "x"}]).values["b"], [2.0])


USED = Signature(
    [
        {"name": "n", "dtype": "int64", "min": 0, "max": 10},
        {"name": "c", "dtype": "str", "values": ["no", "yes"]},
        {"name": "k", "dtype": "str", "used": False},  # constant at training: dropped
    ]
)


def test_a_column_training_dropped_may_be_left_out() -> None:
    cols = USED.from_records([{"n": 1, "c": "yes"}, {"n": 2, "c": "no", "k": "lab"}])
    assert cols.values["k"].tolist() == [None, "lab"]
    assert USED.from_split(["n", "c"], [[1, "yes"]]).values["k"].tolist() == [None]
    assert USED.from_mapping({"n": [1], "c": ["no"]}).values["k"].tolist() == [None]
    with pytest.raises(DataError, match=r"missing column 'c'; the model needs n, c$"):
        USED.from_records([{"n": 1}])
    with pytest.raises(DataError, match="unknown column 'z'"):
        USED.from_records([{"n": 1, "c": "no", "z": 1}])


def test_unseen_out_of_range_and_narrowed_values_are_counted() -> None:
    from noria.serve.schema import input_metrics

    sig = Signature(USED_SPEC)
    cols = sig.from_records(
        [{"n": 16.7, "c": "maybe", "k": None}, {"n": 3, "c": "yes", "k": None},
         {"n": -1, "c": None, "k": None}]
    )  # fmt: skip
    assert cols.counts.unseen == {"c": 1}
    assert cols.counts.out_of_range == {"n": 2} and cols.counts.narrowed == {"n": 1}
    sig.from_split(["n", "c"], [[2.5, "maybe"]])
    assert sig.totals.unseen == {"c": 2} and sig.totals.narrowed == {"n": 2}
    lines = input_metrics(sig.totals, "m")
    assert 'noria_input_unseen_categories_total{model="m",column="c"} 2' in lines
    assert "# TYPE noria_input_narrowed_total counter" in lines


USED_SPEC = [
    {"name": "n", "dtype": "int64", "min": 0, "max": 10},
    {"name": "c", "dtype": "str", "values": ["no", "yes"]},
    {"name": "k", "dtype": "str", "used": False},
]


def test_signature_of_records_the_plan() -> None:
    import pandas as pd

    from noria.data.schema import signature_of

    frame = pd.DataFrame({"n": [1, 5, 3], "c": ["yes", "no", None], "k": ["x", "x", "x"]})
    plan = {"numeric": ["n"], "onehot": ["c"], "dropped": {"k": "constant"}}
    assert signature_of(frame, plan) == [
        {"name": "n", "dtype": "int64", "min": 1, "max": 5},
        {"name": "c", "dtype": str(frame["c"].dtype), "values": ["no", "yes"]},
        {"name": "k", "dtype": str(frame["k"].dtype), "used": False},
    ]
