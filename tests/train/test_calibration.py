"""Tests for noria.train.calibration: the probability map, the threshold, the wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.train.calibration import (
    CalibratedClassifier,
    apply_scaling,
    choose_threshold,
    cv_folds,
    decide,
    fit_scaling,
    out_of_fold_proba,
    uses_class_weights,
)


def _imbalanced() -> tuple[object, np.ndarray]:
    """Breast cancer with the malignant class thinned to about one row in ten."""
    data = load_breast_cancer(as_frame=True)
    x, y = data.data, data.target.to_numpy()  # 0 = malignant (212), 1 = benign (357)
    rng = np.random.default_rng(0)
    keep = np.flatnonzero(y == 1).tolist() + rng.choice(np.flatnonzero(y == 0), 40).tolist()
    keep = np.sort(keep)
    return x.iloc[keep].reset_index(drop=True), np.where(y[keep] == 0, "malignant", "benign")


def test_scaling_undoes_the_prior_shift_of_class_weights() -> None:
    x, y = _imbalanced()
    classes = ["benign", "malignant"]
    rate = float(np.mean(y == "malignant"))
    assert 0.09 < rate < 0.11

    def make() -> object:
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=0.01, class_weight="balanced", max_iter=500)
        )

    folds = cv_folds(y, task="classification", validation="kfold", n_folds=3, seed=0)
    oof, rows = out_of_fold_proba(make, x, __import__("pandas").Series(y), folds, classes)
    assert sorted(rows.tolist()) == list(range(len(y)))
    assert oof[:, 1].mean() > rate + 0.1  # weighted: far more malignant than there are
    t, bias = fit_scaling(oof, y[rows], classes)
    calibrated = apply_scaling(oof, t, bias)
    assert bias[0] == 0 and bias[1] < 0  # the rare class's probabilities come down
    assert calibrated[:, 1].mean() == pytest.approx(rate, abs=0.002)  # the optimum's property
    truth = (y[rows] == "malignant").astype(float)
    assert np.mean((calibrated[:, 1] - truth) ** 2) < np.mean((oof[:, 1] - truth) ** 2)

    model = CalibratedClassifier(make().fit(x, y), temperature=t, bias=bias, threshold=0.5)
    assert list(model.classes_) == classes
    proba = model.predict_proba(x)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(x) == np.where(proba[:, 1] >= 0.5, "malignant", "benign")).all()
    refit = model.with_model(make().fit(x.iloc[::2], y[::2]))
    assert refit.temperature == t and refit.threshold == 0.5 and refit.bias is not None


def test_threshold_maximises_f1_and_stays_at_half_for_accuracy() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(2000) < 0.1
    p = np.clip(np.where(truth, 0.35, 0.05) + rng.normal(0, 0.08, 2000), 0, 1)
    t = choose_threshold(p, truth, "f1")
    best = max(f1_score(truth, p >= c) for c in np.unique(p))
    assert f1_score(truth, p >= t) == pytest.approx(best)
    assert 0.05 < t < 0.35
    assert choose_threshold(p, truth, "recall") == t  # not 0: the F1 balance
    assert choose_threshold(p, truth, "accuracy") == 0.5
    assert choose_threshold(p, truth, "roc_auc") == 0.5
    assert choose_threshold(p, np.zeros(2000, bool), "f1") == 0.5


def test_decide_and_weights() -> None:
    classes = np.array(["no", "yes"], dtype=object)
    proba = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    assert decide(proba, classes, None).tolist() == ["no", "yes", "no"]
    assert decide(proba, classes, 0.25).tolist() == ["yes", "yes", "yes"]
    assert decide(proba, classes, 0.5).tolist() == ["no", "yes", "yes"]
    three = np.array([[0.2, 0.5, 0.3]])
    assert decide(three, np.array(["a", "b", "c"]), 0.1).tolist() == ["b"]  # binary only
    assert uses_class_weights({"class_weight": "balanced"})
    assert not uses_class_weights({"class_weight": None, "C": 1.0})
    assert uses_class_weights({"scale_pos_weight": 9.0}) and uses_class_weights(
        {"is_unbalance": True}
    )


def test_scaling_of_three_classes_matches_each_class_rate() -> None:
    from sklearn.datasets import load_iris

    data = load_iris()
    keep = np.r_[0:50, 50:70, 100:110]  # 50 setosa, 20 versicolor, 10 virginica
    x, y = data.data[keep], data.target_names[data.target[keep]]
    classes = sorted(set(y))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced"))
    proba = model.fit(x, y).predict_proba(x)
    t, bias = fit_scaling(proba, y, classes)
    calibrated = apply_scaling(proba, t, bias)
    rates = [np.mean(y == c) for c in classes]
    assert np.allclose(calibrated.mean(axis=0), rates, atol=1e-3)
    assert not np.allclose(proba.mean(axis=0), rates, atol=0.02)
