"""Bootstrap intervals: they hold the value, shrink with more rows, and scale above the row cap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.evaluate.evaluation import EvaluationSettings, evaluate_predictions
from noria.evaluate.intervals import Resampler, mean_intervals


@pytest.fixture(scope="module")
def scored() -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=500))
    model.fit(X.iloc[::2], y.iloc[::2])
    test = X.iloc[1::2].reset_index(drop=True)
    return test, y.iloc[1::2].to_numpy(), model.predict(test), model.predict_proba(test)


def _evaluate(frame: object, truth: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> object:
    return evaluate_predictions(
        frame.assign(target=truth),  # type: ignore[attr-defined]
        target="target",
        task="classification",
        predicted=pred,
        proba=proba,
        classes=[0, 1],
        settings=EvaluationSettings(replicates=300, seed=3),
    )


def test_intervals_contain_the_value_and_shrink_with_rows(scored: tuple) -> None:
    """The holdout repeated 1, 4 and 16 times: the same metrics on 4× the rows each time, so
    every interval must hold the value and halve (1/sqrt(4))."""
    frame, truth, pred, proba = scored
    widths: dict[str, list[float]] = {}
    values: dict[str, set[float]] = {}
    for k in (1, 4, 16):
        tiled = frame.loc[np.tile(frame.index, k)].reset_index(drop=True)
        ev = _evaluate(tiled, np.tile(truth, k), np.tile(pred, k), np.tile(proba, (k, 1)))
        for name in ("accuracy", "f1", "roc_auc", "average_precision", "log_loss", "brier"):
            m = ev.metrics[name]
            assert m["low"] <= m["value"] <= m["high"], (name, k, m)
            assert m["baseline_low"] <= m["baseline"] <= m["baseline_high"], (name, k, m)
            widths.setdefault(name, []).append(m["high"] - m["low"])
            values.setdefault(name, set()).add(round(m["value"], 9))
    for name, (w1, w4, w16) in widths.items():
        assert len(values[name]) == 1, name
        assert w1 / w4 == pytest.approx(2, rel=0.3), (name, w1, w4, w16)
        assert w4 / w16 == pytest.approx(2, rel=0.3), (name, w1, w4, w16)


def test_rescaled_resamples_above_the_row_cap_match_the_full_bootstrap() -> None:
    rng = np.random.default_rng(0)
    values = rng.exponential(size=40_000)

    def mean(v: np.ndarray) -> np.ndarray:
        return v.mean(axis=1)

    full = Resampler.draw(values.size, replicates=400, max_rows=values.size, seed=1)
    capped = Resampler.draw(values.size, replicates=400, max_rows=4_000, seed=1)
    assert capped.indices.shape == (400, 4_000) and capped.scale == pytest.approx(0.1**0.5)
    value, (lo, hi) = full.interval(mean, [values])
    value2, (lo2, hi2) = capped.interval(mean, [values])
    assert value == value2 == pytest.approx(values.mean())
    assert (hi2 - lo2) == pytest.approx(hi - lo, rel=0.2)
    assert lo2 < value < hi2
    # the textbook interval of a mean, for scale
    assert (hi - lo) == pytest.approx(2 * 1.96 * values.std() / values.size**0.5, rel=0.15)


def test_mean_intervals_of_groups_binary_and_continuous() -> None:
    rng = np.random.default_rng(2)
    groups = rng.integers(0, 3, 3_000)
    errors = (rng.random(3_000) < np.array([0.1, 0.3, 0.5])[groups]).astype(float)
    for values in (errors, errors + rng.normal(0, 0.01, 3_000)):  # binomial path, gather path
        out = mean_intervals(values, groups, 4, replicates=400, seed=0)
        assert out[3] == (pytest.approx(np.nan, nan_ok=True), None)  # an empty group
        for g, (mean, (lo, hi)) in enumerate(out[:3]):
            n = int((groups == g).sum())
            assert mean == pytest.approx(values[groups == g].mean())
            assert lo < mean < hi
            half = 1.96 * (mean * (1 - mean) / n) ** 0.5
            assert (hi - lo) / 2 == pytest.approx(half, rel=0.2)
