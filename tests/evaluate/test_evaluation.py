"""The evaluation record: bad input, fairness, explanations, regression, JSON and the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from noria.errors import DataError
from noria.evaluate.evaluation import (
    EvaluationSettings,
    decision_threshold,
    evaluate_model,
    trivial_baseline,
)
from noria.reports.evaluation_report import render_evaluation_report

FAST = EvaluationSettings(replicates=50, importance_repeats=2, pd_features=2)


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    import palmerpenguins

    frame = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
    return frame.assign(heavy=frame["body_mass_g"] > 4200).drop(columns=["body_mass_g"])


@pytest.fixture(scope="module")
def model(penguins: pd.DataFrame) -> object:
    numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    prep = make_column_transformer(
        (StandardScaler(), numeric), (OneHotEncoder(handle_unknown="ignore"), ["island"])
    )
    fitted = make_pipeline(prep, LogisticRegression(max_iter=500))
    return fitted.fit(penguins.drop(columns=["heavy"]), penguins["heavy"])


def test_binary_evaluation_with_fairness_threshold_and_report(
    penguins: pd.DataFrame, model: object
) -> None:
    settings = EvaluationSettings(**{**FAST.__dict__, "sensitive": ("sex",)})
    ev = evaluate_model(
        model, penguins, target="heavy", task="classification", threshold=0.7, settings=settings,
        baseline=trivial_baseline("classification", penguins["heavy"].iloc[:100], [False, True]),
    )  # fmt: skip
    proba = model.predict_proba(penguins.drop(columns=["heavy"]))[:, 1]
    predicted = proba >= 0.7
    truth = penguins["heavy"].to_numpy()
    assert ev.metrics["accuracy"]["value"] == pytest.approx((predicted == truth).mean())
    assert ev.details["thresholds"]["chosen"] == 0.7
    fair = ev.fairness[0]
    assert fair["column"] == "sex" and fair["positive"] == "True"
    rates = {g["group"]: g for g in fair["groups"]}
    sel = {s: predicted[penguins["sex"] == s].mean() for s in ("male", "female")}
    assert rates["male"]["selection_rate"] == pytest.approx(sel["male"])
    assert fair["demographic_parity_difference"] == pytest.approx(abs(sel["male"] - sel["female"]))
    tpr = {s: predicted[(penguins["sex"] == s) & truth].mean() for s in sel}
    fpr = {s: predicted[(penguins["sex"] == s) & ~truth].mean() for s in sel}
    eo = max(abs(tpr["male"] - tpr["female"]), abs(fpr["male"] - fpr["female"]))
    assert fair["equalized_odds_difference"] == pytest.approx(eo)
    # JSON: plain values, no NaN
    data = json.loads(ev.to_json())
    assert data["format"] == "noria.evaluation/1" and data["rows"] == len(penguins)
    html = render_evaluation_report(data)
    assert len(html.encode()) < 2_000_000
    assert html.count("<svg") >= 6  # every chart inline, nothing loaded from elsewhere
    for outside in ("<script", "<link", 'src="http', "url(http", "<metadata"):
        assert outside not in html
    assert "Demographic-parity difference" in html and "Cumulative gain" in html


def test_permutation_importance_is_reproducible_with_a_seed(
    penguins: pd.DataFrame, model: object
) -> None:
    def importance(seed: int) -> list[tuple[str, float]]:
        settings = EvaluationSettings(**{**FAST.__dict__, "seed": seed})
        ev = evaluate_model(model, penguins, target="heavy", task="classification",
                            settings=settings)  # fmt: skip
        return [(f["feature"], f["importance"]) for f in ev.importance["features"]]

    first = importance(7)
    assert first == importance(7)
    assert first != importance(8)
    assert first[0][0] in ("flipper_length_mm", "bill_depth_mm", "island")
    unused = dict(first)["sex"]  # not an input of the model: shuffling it changes nothing
    assert unused == 0.0


def test_bad_input_names_the_column(penguins: pd.DataFrame, model: object) -> None:
    with pytest.raises(DataError, match=r"target column 'heavy' is not in the data"):
        evaluate_model(model, penguins.drop(columns=["heavy"]), target="heavy",
                       task="classification", settings=FAST, data="new.csv")  # fmt: skip
    numbers = penguins.assign(heavy=penguins["heavy"].astype(int) + 5)
    with pytest.raises(DataError, match=r"new.csv: target column 'heavy' holds int.*bool"):
        evaluate_model(model, numbers, target="heavy", task="classification", settings=FAST,
                       data="new.csv")  # fmt: skip
    settings = EvaluationSettings(**{**FAST.__dict__, "sensitive": ("sexe",)})
    with pytest.raises(DataError, match=r"sensitive.*column 'sexe'.*did you mean 'sex'"):
        evaluate_model(model, penguins, target="heavy", task="classification", settings=settings)
    text = penguins.assign(heavy=penguins["heavy"].map({True: "yes", False: "no"}))
    regressor = r"target column 'heavy' is \w+ \(e.g. 'no'\), but the model is a regressor"
    with pytest.raises(DataError, match=regressor):
        evaluate_model(Ridge(), text, target="heavy", task="regression", settings=FAST)


def test_regression_evaluation_and_threshold_source() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.1).fit(X.iloc[:300], y.iloc[:300])
    frame = X.iloc[300:].assign(progression=y.iloc[300:].to_numpy())
    ev = evaluate_model(
        model, frame, target="progression", task="regression", settings=FAST,
        baseline=trivial_baseline("regression", y.iloc[:300]),
    )  # fmt: skip
    err = model.predict(X.iloc[300:]) - y.iloc[300:].to_numpy()
    assert ev.metrics["rmse"]["value"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert ev.metrics["rmse"]["value"] < ev.metrics["rmse"]["baseline"]
    deciles = ev.details["by_target_quantile"]
    assert len(deciles) == 10 and sum(d["rows"] for d in deciles) == len(frame)
    assert ev.baseline.startswith("always the training mean")
    html = render_evaluation_report(ev)
    assert "Residual distribution" in html and html.count("<svg") >= 5
    assert decision_threshold({"threshold": 0.3}, model) == 0.3
    assert decision_threshold({}, model) is None
