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
