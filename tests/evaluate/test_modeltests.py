"""Model tests (``tests:``): checks against the data, and each kind passing and failing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from noria.evaluate.modeltests import check_tests, run_tests

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins().dropna().reset_index(drop=True)


@pytest.fixture(scope="module")
def classifier(penguins: pd.DataFrame) -> object:
    numeric = FEATURES[1:]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["island"]), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=2000),
    )
    return model.fit(penguins[FEATURES], penguins["species"])


def _run(tests: list[dict], model: object, frame: pd.DataFrame, **kw: object) -> list:
    named = [{"name": f"t{i}", **t} for i, t in enumerate(tests)]
    defaults = {"target": "species", "task": "classification", "columns": FEATURES,
                "classes": ["Adelie", "Chinstrap", "Gentoo"]}  # fmt: skip
    return run_tests(named, model, frame, **{**defaults, **kw})


def test_each_kind_passes_and_fails_with_a_line(penguins: pd.DataFrame, classifier) -> None:  # type: ignore[no-untyped-def]
    gentoo = {"island": "Biscoe", "bill_length_mm": 48.0, "bill_depth_mm": 15.0,
              "flipper_length_mm": 220, "body_mass_g": 5200}  # fmt: skip
    results = _run(
        [
            {"kind": "expect", "rows": [{**gentoo, "species": "Gentoo"}]},
            {"kind": "expect", "rows": [{**gentoo, "species": "Adelie"}]},
            {"kind": "invariance", "column": "island", "values": ["Biscoe", "Dream"], "eps": 1.0},
            {"kind": "invariance", "column": "island", "values": ["Biscoe", "Dream"], "eps": 0.0},
            {"kind": "directional", "column": "flipper_length_mm", "change": 15,
             "score": "Gentoo", "eps": 0.05},
            {"kind": "directional", "column": "flipper_length_mm", "change": 15,
             "score": "Gentoo", "expect": "not_higher"},
            {"kind": "floor", "metric": "accuracy", "min": 0.9},
            {"kind": "floor", "metric": "accuracy", "min": 0.999, "where": {"island": "Dream"},
             "max": None},
        ],
        classifier,
        penguins,
    )  # fmt: skip
    assert [r.passed for r in results] == [True, False, True, False, True, False, True, False]
    assert results[1].line().startswith("FAIL  t1: 0 of 1 rows get their answer; row 1: 'Gentoo'")
    assert "moves the probability by at most" in results[3].detail
    assert "raises P(Gentoo)" in results[5].detail
    assert "island = Dream" in results[7].detail and "required >= 0.999" in results[7].detail


def test_missing_columns_of_an_expect_row_are_missing_values(penguins, classifier) -> None:  # type: ignore[no-untyped-def]
    row = {"island": "Torgersen", "bill_length_mm": 38.0, "bill_depth_mm": 19.0,
           "species": "Adelie"}  # fmt: skip
    # this model cannot take missing values: the test fails and says why, it does not crash
    (result,) = _run([{"kind": "expect", "rows": [row]}], classifier, penguins)
    assert not result.passed and "could not run" in result.detail and "NaN" in result.detail


def test_directional_on_a_regressor() -> None:
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True).frame
    model = LinearRegression().fit(data.drop(columns=["target"]), data["target"])
    assert model.coef_[list(data.columns).index("bmi")] > 0
    columns = [c for c in data.columns if c != "target"]
    up = {"kind": "directional", "column": "bmi", "change": 0.05}
    down = {**up, "change": -0.05}
    results = run_tests(
        [{"name": "up", **up}, {"name": "down", **down}],
        model, data, target="target", task="regression", columns=columns,
    )  # fmt: skip
    assert [r.passed for r in results] == [True, False]
    assert "lowers the prediction in 200 of 200" in results[1].detail


def test_checks_name_the_key_and_the_fix(penguins: pd.DataFrame) -> None:
    tests = [
        {"name": "a", "kind": "invariance", "column": "islnd", "values": ["Biscoe", "Dream"]},
        {"name": "b", "kind": "invariance", "column": "island", "values": ["Biscoe", "Atlantis"]},
        {"name": "c", "kind": "directional", "column": "island", "change": 1, "score": "Gentoo"},
        {"name": "d", "kind": "directional", "column": "body_mass_g", "change": 1},
        {"name": "e", "kind": "expect", "rows": [{"island": "Biscoe", "species": "Dodo"}]},
        {"name": "f", "kind": "expect", "rows": [{"bill_length_mm": "long", "species": "Adelie"}]},
        {"name": "g", "kind": "floor", "metric": "rmse", "max": 3, "where": {"sex": "other"}},
        {"name": "h", "kind": "invariance", "column": "species", "values": ["Adelie", "Gentoo"]},
        {"name": "i", "kind": "expect", "rows": [{"island": "Biscoe"}]},
    ]
    problems = {p.key: p.message for p in check_tests(tests, penguins, target="species",
                                                      task="classification")}  # fmt: skip
    assert "did you mean 'island'" in problems[("tests", "0", "invariance", "column")]
    assert "never holds 'Atlantis'" in problems[("tests", "1", "invariance", "values", "1")]
    assert "is not numeric" in problems[("tests", "2", "directional", "column")]
    assert "add `score: CLASS`" in problems[("tests", "3", "directional", "score")]
    assert "'Dodo' is not a class" in problems[("tests", "4", "expect", "rows", "0", "species")]
    assert "not a number" in problems[("tests", "5", "expect", "rows", "0", "bill_length_mm")]
    assert "not a classification metric" in problems[("tests", "6", "floor", "metric")]
    assert "never holds 'other'" in problems[("tests", "6", "floor", "where", "sex")]
    assert "is the target" in problems[("tests", "7", "invariance", "column")]
    assert "has no answer" in problems[("tests", "8", "expect", "rows", "0")]
    assert len(problems) == 10
    good = [{"name": "ok", "kind": "invariance", "column": "year", "values": [2007, "2008"]}]
    assert check_tests(good, penguins, target="species", task="classification") == []
    assert np.issubdtype(penguins["year"].dtype, np.integer)
