"""Numbers near the largest float: refused with the column named, on the compiled and the
scikit-learn paths alike (issue 12: "overflow encountered in divide" answered with a 200)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from noria.errors import DataError
from noria.project import Project
from noria.serve.predictor import Predictor

from .conftest import LiveServer, register


def penguins_in_metres(family: str) -> tuple[Any, pd.DataFrame]:
    """A noria pipeline on the penguins with the bill depth in metres (its scale is below 1)."""
    from sklearn.pipeline import Pipeline

    from noria.cli.demo import write_demo_data
    from noria.features.preprocess import build_preprocessor, plan_columns
    from noria.train.candidates import make_estimator

    with tempfile.TemporaryDirectory() as tmp:
        frame = pd.read_csv(write_demo_data(Path(tmp)))
    frame = frame.dropna(subset=["species"]).reset_index(drop=True)
    frame["bill_depth_m"] = frame.pop("bill_depth_mm") / 1000
    plan = plan_columns(frame, target="species", drop=[], max_onehot_cardinality=20)
    est = make_estimator(family, "classification", seed=0)
    if family == "hist_gradient_boosting":
        est.set_params(max_iter=20)
    if family == "random_forest":
        est.set_params(n_estimators=10)
    model = Pipeline([("preprocess", build_preprocessor(plan)), ("model", est)])
    x = frame.drop(columns=["species"])
    model.fit(x, frame["species"])
    return model, x


def _records(x: pd.DataFrame, **values: float) -> list[dict[str, Any]]:
    rows = x.head(3).astype(object).where(x.head(3).notna(), None).to_dict("records")
    for name, value in values.items():
        rows[1][name] = value
    return rows


@pytest.mark.parametrize("family", ["linear", "hist_gradient_boosting", "random_forest"])
def test_a_value_whose_scaled_form_overflows_is_refused_on_both_paths(
    tmp_path: Path, family: str
) -> None:
    model, x = penguins_in_metres(family)
    project = Project(tmp_path)
    version = register(project, model, x, {"accuracy": 0.9})
    compiled = Predictor.load(project.metadata, project.artifacts, "penguins", onnx="never")
    assert compiled.path == "compiled"
    plain = Predictor(version, fast=None, sklearn_model=model)
    for predictor in (compiled, plain):
        for value in (1.79e308, -1.79e308):
            with pytest.raises(DataError, match=r"records\[1\]\.bill_depth_m: .* too large"):
                predictor.predict_records(_records(x, bill_depth_m=value))
        with pytest.raises(DataError, match=r"column 'bill_depth_m' row 1: .* too large"):
            predictor.predict(predictor.signature.from_frame(x.head(3).assign(
                bill_depth_m=[0.02, 1.79e308, 0.02])))  # fmt: skip
        # a large value whose scaled form is finite is still answered (out of range: counted)
        big = 1e30 if family == "random_forest" else 1e300
        fine = predictor.predict_records(_records(x, bill_length_mm=big))
        assert len(fine.predictions) == 3 and np.isfinite(fine.probabilities).all()
    # forests compare float32: beyond 3.4e38 scikit-learn refuses, so both paths refuse
    huge = _records(x, bill_length_mm=1e39)
    if family == "random_forest":
        for predictor in (compiled, plain):
            with pytest.raises(DataError, match=r"records\[1\]\.bill_length_mm"):
                predictor.predict_records(huge)
    else:
        assert compiled.predict_records(huge).predictions == plain.predict_records(huge).predictions
    project.close()


def test_the_server_answers_422_naming_the_column(tmp_path: Path) -> None:
    model, x = penguins_in_metres("linear")
    project = Project(tmp_path)
    register(project, model, x, {"accuracy": 0.9})
    with LiveServer(project, log_predictions=False) as server:
        response = httpx.post(
            server.url + "/predict", json={"records": _records(x, bill_depth_m=1.79e308)}
        )
        assert response.status_code == 422, response.text
        assert "records[1].bill_depth_m" in response.text and "too large" in response.text
        ok = httpx.post(server.url + "/predict", json={"records": _records(x)})
        assert ok.status_code == 200
    project.close()
