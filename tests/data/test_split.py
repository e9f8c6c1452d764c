"""Tests for noria.data.split: random, stratified and time splits and their errors."""

from __future__ import annotations

import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sklearn.datasets import load_diabetes, load_iris

from noria.data.split import split_frame
from noria.errors import ConfigError, DataError


def test_stratified_keeps_class_proportions_and_resets_index() -> None:
    penguins = load_penguins()
    train, test = split_frame(penguins, target="species", test_size=0.25, seed=1)
    assert len(train) + len(test) == len(penguins)
    assert len(test) == 86  # ceil(0.25 * 344)
    full = penguins["species"].value_counts(normalize=True)
    part = test["species"].value_counts(normalize=True)
    assert (part - full).abs().max() < 0.01
    assert list(train.index) == list(range(len(train)))
    assert list(test.index) == list(range(len(test)))
    assert train["species"].dtype == penguins["species"].dtype


def test_same_seed_same_split_other_seed_other_split() -> None:
    iris = load_iris(as_frame=True).frame
    a_train, a_test = split_frame(iris, target="target", seed=7)
    b_train, b_test = split_frame(iris, target="target", seed=7)
    _, c_test = split_frame(iris, target="target", seed=8)
    pd.testing.assert_frame_equal(a_train, b_train)
    pd.testing.assert_frame_equal(a_test, b_test)
    assert not a_test.equals(c_test)
    assert a_test["target"].value_counts().tolist() == [10, 10, 10]


def test_random_and_regression_fallback() -> None:
    diabetes = load_diabetes(as_frame=True).frame
    train, test = split_frame(diabetes, target="target", method="stratified")
    assert (len(train), len(test)) == (353, 89)
    _, test_r = split_frame(diabetes, target="target", method="random")
    pd.testing.assert_frame_equal(test, test_r)  # the fallback is the random split
    _, no_target = split_frame(diabetes, target=None)
    assert len(no_target) == 89


def test_rare_class_falls_back_to_random() -> None:
    df = pd.DataFrame({"x": range(20), "y": ["a"] * 10 + ["b"] * 9 + ["c"]})
    train, test = split_frame(df, target="y", test_size=0.2)
    assert (len(train), len(test)) == (16, 4)
    assert sorted(pd.concat([train, test])["x"]) == list(range(20))


def test_time_split_takes_latest_rows_and_keeps_ties_together() -> None:
    penguins = load_penguins()
    train, test = split_frame(
        penguins, target="species", method="time", time_column="year", test_size=0.3
    )
    assert train["year"].max() < test["year"].min()
    assert set(test["year"]) == {2009}
    assert len(test) == int((penguins["year"] == 2009).sum()) == 120

    df = pd.DataFrame(
        {"when": ["2021-01-03", "2021-01-01", "2021-01-05", "2021-01-02", "2021-01-04"] * 2}
    )
    df["y"] = range(10)
    train, test = split_frame(df, target="y", method="time", time_column="when", test_size=0.2)
    assert test["when"].tolist() == ["2021-01-05", "2021-01-05"]
    assert train["when"].is_monotonic_increasing


def test_time_split_errors() -> None:
    df = pd.DataFrame({"created_at": pd.date_range("2020-01-01", periods=10), "y": range(10)})
    with pytest.raises(ConfigError, match=r"`split\.time_column` is not set"):
        split_frame(df, target="y", method="time")
    with pytest.raises(DataError, match=r"'created' is not in the data.*'created_at'"):
        split_frame(df, target="y", method="time", time_column="created")
    df.loc[3, "created_at"] = pd.NaT
    with pytest.raises(DataError, match="'created_at' has 1 missing"):
        split_frame(df, target="y", method="time", time_column="created_at")
    same = pd.DataFrame({"t": [1] * 10, "y": range(10)})
    with pytest.raises(DataError, match="only 0 rows are earlier"):
        split_frame(same, target="y", method="time", time_column="t")


def test_settings_errors() -> None:
    iris = load_iris(as_frame=True).frame
    with pytest.raises(ConfigError) as exc:
        split_frame(iris, target="target", method="stratifed")
    message = str(exc.value)
    assert "`split.method`" in message
    assert "did you mean 'stratified'" in message
    assert "random, stratified, time" in message
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ConfigError, match=r"`split\.test_size`"):
            split_frame(iris, target="target", test_size=bad)
    with pytest.raises(DataError, match="did you mean 'target'"):
        split_frame(iris, target="targt")


def test_too_few_rows() -> None:
    tiny = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    with pytest.raises(DataError, match="only 3 rows; need at least"):
        split_frame(tiny, target="y")
    ok = pd.DataFrame({"x": range(10), "y": [0, 1] * 5})
    train, test = split_frame(ok, target="y")
    assert (len(train), len(test)) == (8, 2)


def test_time_split_orders_dates_written_day_first_not_as_text() -> None:
    """The reader keeps `25/03/2021` as text; the split must still order it as a date."""
    penguins = load_penguins().head(40)
    days = [f"{1 + (i * 7) % 28:02d}/{1 + i % 12:02d}/{2007 + i % 3}" for i in range(40)]
    df = penguins.assign(seen=days)
    _, test = split_frame(df, target="species", method="time", time_column="seen",
                              test_size=0.25)  # fmt: skip
    stamps = pd.to_datetime(df["seen"], format="%d/%m/%Y")
    latest = set(df.loc[stamps >= stamps.sort_values().iloc[30], "seen"])
    assert set(test["seen"]) == latest  # not the largest strings ('28/…')

    ambiguous = penguins.assign(seen=[f"0{1 + i % 9}/0{1 + (i // 9) % 9}/2021" for i in range(40)])
    with pytest.raises(DataError, match=r"time column 'seen' cannot be ordered: .*day-first"):
        split_frame(ambiguous, target="species", method="time", time_column="seen")
