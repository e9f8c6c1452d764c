"""Tests for noria.features.preprocess: column plans and the fitted, pickled preprocessor."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from noria.errors import ConfigError, DataError
from noria.features.preprocess import (
    ColumnPlan,
    build_preprocessor,
    expand_datetimes,
    plan_columns,
    to_category_strings,
)


@pytest.fixture
def penguins() -> pd.DataFrame:
    """Penguins plus the awkward columns real tables have."""
    df = load_penguins()
    n = len(df)
    df["customer_id"] = [f"C-{i:05d}" for i in range(n)]
    df["row"] = np.arange(n)
    df["constant"] = "same"
    df["empty"] = np.nan
    df["seen"] = pd.Series(pd.date_range("2020-01-01", periods=n, freq="D")).astype(str)
    df.loc[5, "seen"] = None
    df["is_big"] = df["body_mass_g"] > 4000
    df["band"] = pd.Series((np.arange(n) % 30).astype(str), dtype="str")
    df.loc[7, "band"] = np.nan
    return df


def test_plan_groups_and_reasons(penguins: pd.DataFrame) -> None:
    plan = plan_columns(penguins, target="species", drop=["year"])
    assert plan.numeric == ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
    assert plan.onehot == ("island", "sex", "is_big")
    assert plan.high_cardinality == ("band",)
    assert plan.datetime == ("seen",)
    assert plan.dropped == {
        "year": "user drop",
        "customer_id": "identifier",
        "row": "identifier",
        "constant": "constant",
        "empty": "all null",
    }
    assert "species" not in plan.features
    assert plan.features == (
        "island",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "sex",
        "seen",
        "is_big",
        "band",
    )


def test_cardinality_threshold_and_iso_dates() -> None:
    df = pd.DataFrame(
        {
            "cat": list("abcde") * 4,
            "day": [f"2024-01-{i + 1:02d}" for i in range(20)],
            "stamp": ["2024-01-01T10:00:00Z"] * 10 + ["2024-01-02 11:30:00"] * 10,
            "text": ["2024-01-01", "soon"] * 10,
            "y": [0, 1] * 10,
        }
    )
    assert plan_columns(df, target="y", max_onehot_cardinality=5).onehot == ("cat", "text")
    plan = plan_columns(df, target="y", max_onehot_cardinality=4)
    assert plan.high_cardinality == ("cat",)
    assert plan.datetime == ("day", "stamp")


def test_plan_to_dict_from_dict_round_trips_through_json(penguins: pd.DataFrame) -> None:
    plan = plan_columns(penguins, target="species")
    again = ColumnPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert again.features == plan.features
    handmade = ColumnPlan(numeric=("b",), onehot=("a",))
    assert handmade.features == ("b", "a")
    assert ColumnPlan.from_dict({"numeric": ["x"]}) == ColumnPlan(numeric=("x",))
    with pytest.raises(DataError, match="'numeric' must be a list"):
        ColumnPlan.from_dict({"numeric": "x"})


def test_plan_errors(penguins: pd.DataFrame) -> None:
    with pytest.raises(DataError) as exc:
        plan_columns(penguins, target="species", drop=["bill_lenght_mm"])
    message = str(exc.value)
    assert "'bill_lenght_mm' in `features.drop`" in message
    assert "did you mean 'bill_length_mm'" in message
    with pytest.raises(DataError, match=r"target column 'specie' .*did you mean 'species'"):
        plan_columns(penguins, target="specie")
    only_id = pd.DataFrame({"id": range(10), "k": [1] * 10, "y": [0, 1] * 5})
    with pytest.raises(DataError, match=r"no column is left.*'id' \(identifier\)"):
        plan_columns(only_id, target="y")


def test_preprocessor_fits_pickles_and_predicts_unseen_and_missing(
    penguins: pd.DataFrame, tmp_path: Path
) -> None:
    plan = plan_columns(penguins, target="species")
    X, y = penguins.drop(columns="species"), penguins["species"]
    model = make_pipeline(build_preprocessor(plan), LogisticRegression(max_iter=1000)).fit(X, y)
    names = list(model[0].get_feature_names_out())
    assert names[:4] == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    assert {"island_Biscoe", "sex_missing", "is_big_True", "band", "seen_dayofweek"} <= set(names)
    assert "customer_id" not in names

    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    new = X.head(4).copy()
    new.loc[0, "island"] = "Atlantis"  # unseen category
    new.loc[1, ["bill_length_mm", "sex", "band"]] = [np.nan, None, np.nan]
    new.loc[2, "band"] = "never seen"
    new.loc[3, "seen"] = "not a date"
    proba = loaded.predict_proba(new)
    assert proba.shape == (4, 3)
    assert np.isfinite(proba).all()
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert model.score(X, y) > 0.95


def test_target_encoding_and_no_scaling(penguins: pd.DataFrame) -> None:
    plan = plan_columns(penguins, target="species")
    X, y = penguins.drop(columns="species"), penguins["species"]
    pre = build_preprocessor(plan, scale=False, high_cardinality="target")
    first = pre.fit_transform(X, y)
    second = build_preprocessor(plan, scale=False, high_cardinality="target").fit_transform(X, y)
    assert np.array_equal(first, second)  # seeded folds: repeatable
    names = list(pre.get_feature_names_out())
    assert {"band_Adelie", "band_Gentoo", "band_Chinstrap"} <= set(names)
    masses = first[:, names.index("body_mass_g")]
    assert np.nanmedian(penguins["body_mass_g"]) in masses  # imputed, not scaled
    assert first.shape == (344, len(names))


def test_regression_on_diabetes_and_nullable_integers() -> None:
    df = load_diabetes(as_frame=True).frame
    df["visits"] = pd.array([i % 7 if i % 5 else None for i in range(len(df))], dtype="Int64")
    plan = plan_columns(df, target="target")
    assert "visits" in plan.numeric
    model = make_pipeline(build_preprocessor(plan), Ridge()).fit(
        df.drop(columns="target"), df.target
    )
    assert model.score(df.drop(columns="target"), df.target) > 0.4


def test_helpers_handle_pandas3_strings_and_dates() -> None:
    frame = pd.DataFrame(
        {"s": pd.Series(["a", None, "b"], dtype="str"), "flag": [True, False, None]}
    )
    out = to_category_strings(frame)
    assert out["s"].dtype == object
    assert out["s"].iloc[0] == "a" and pd.isna(out["s"].iloc[1])
    assert out["flag"].tolist()[:2] == ["True", "False"]
    dates = expand_datetimes(
        pd.DataFrame({"d": ["2024-03-15T13:45:00+01:00", None, "junk"]}, dtype="str")
    )
    assert list(dates.columns) == ["d_year", "d_month", "d_day", "d_dayofweek", "d_hour"]
    assert dates.iloc[0].tolist() == [2024.0, 3.0, 15.0, 4.0, 12.0]  # 12:45 UTC on a Friday
    assert dates.iloc[1:].isna().all().all()


def test_build_errors() -> None:
    with pytest.raises(ConfigError, match=r"`features.high_cardinality`.*did you mean 'target'"):
        build_preprocessor(ColumnPlan(numeric=("a",)), high_cardinality="targte")
    with pytest.raises(DataError, match="no column is left"):
        build_preprocessor(ColumnPlan(dropped={"a": "constant"}))


def test_prefixes_kept_when_names_could_clash() -> None:
    clash = ColumnPlan(numeric=("color_red",), onehot=("color",))
    assert build_preprocessor(clash).verbose_feature_names_out is True
    assert (
        build_preprocessor(ColumnPlan(numeric=("a",), onehot=("b",))).verbose_feature_names_out
        is False
    )
