"""The predictor: compiled NumPy path against scikit-learn (parity), cache, ONNX when present."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from noria.project import Project
from noria.serve.fast import FastModel, compile_model
from noria.serve.predictor import Predictor, onnx_available

from .conftest import fit_penguins, register


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest", "linear"])
def test_compiled_agrees_with_sklearn_on_real_rows(family: str) -> None:
    model, x = fit_penguins(family)
    fast = FastModel.loads(compile_model(model, "classification").dumps())
    from noria.serve.schema import Signature

    sig = Signature([{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()])
    cols = sig.from_frame(x)
    values, proba = fast.predict(cols.values, cols.n)
    expected = model.predict_proba(x)
    assert np.max(np.abs(proba - expected)) < 1e-6
    assert (values == model.predict(x)).all()


def test_load_uses_compiled_cache(tmp_path: Any, penguins_models: Any) -> None:
    model, _, x = penguins_models
    project = Project(tmp_path)
    register(project, model, x, {"accuracy": 0.9})
    cache = project.home / "serve"
    first = Predictor.load(
        project.metadata, project.artifacts, "penguins", cache_dir=cache, onnx="never"
    )
    assert first.path == "compiled" and (cache / "compiled.json").is_file()
    again = Predictor.load(
        project.metadata, project.artifacts, "penguins@1", cache_dir=cache, onnx="never"
    )
    assert again._sklearn is None  # loaded without scikit-learn
    got = again.predict(again.signature.from_frame(x.head(20)))
    assert got.predictions == list(model.predict(x.head(20)))


def test_onnx_parity_when_installed(tmp_path: Any) -> None:
    if not onnx_available():
        pytest.skip("the onnx extra is not installed")
    model, x = fit_penguins("linear")
    project = Project(tmp_path)
    register(project, model, x, {"accuracy": 0.9})
    from noria.serve.predictor import ONNX_TOLERANCE, _session, _try_onnx

    fast = compile_model(model, "classification")
    sig = [{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()]
    session, record = _try_onnx(model, fast, "classification", sig, quantize=False)
    assert session is not None, record
    sess, name = _session(record["onnx_bytes"])
    from noria.serve.schema import Signature

    cols = Signature(sig).from_frame(x)
    proba = sess.run(None, {name: fast.features(cols.values, cols.n).astype(np.float32)})[1]
    assert np.max(np.abs(np.asarray(proba) - model.predict_proba(x))) < ONNX_TOLERANCE


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest"])
def test_next_table_agrees_with_the_walk(family: str) -> None:
    """The next-node table (boosting) and the level walk give the same scores, NaN included,
    for one row, a partial chunk and several chunks."""
    model, x = fit_penguins(family)
    est = model.steps[-1][1]
    if family == "random_forest":
        est.set_params(max_depth=4)
        model.fit(x, model.predict(x))
    fast = compile_model(model, "classification")
    table = fast._table
    assert table is not None
    from noria.serve.schema import Signature

    sig = Signature([{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()])
    cols = sig.from_frame(x)
    feats = fast.features(cols.values, cols.n)
    feats = np.concatenate([feats, feats])[: 2 * table.chunk + 37]
    feats[::3, 0] = np.nan
    fast._table = None
    walked = fast.raw(feats)
    fast._table = table
    for n in (1, 5, table.chunk, len(feats)):
        assert np.max(np.abs(fast.raw(feats[:n]) - walked[:n])) < 1e-12


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest"])
def test_binned_decisions_agree_with_float_comparisons(family: str) -> None:
    """From _BIN_ROWS rows on the table decides on binned inputs: exactly the float comparisons,
    for values equal to a threshold, just beside one, and infinite."""
    from noria.serve.fast import _BIN_ROWS

    model, x = fit_penguins(family)
    if family == "random_forest":
        model.steps[-1][1].set_params(max_depth=4)
        model.fit(x, model.predict(x))
    fast = compile_model(model, "classification")
    table = fast._table
    assert table is not None and table.kbin is not None
    rng = np.random.default_rng(0)
    from noria.serve.schema import Signature

    sig = Signature([{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()])
    cols = sig.from_frame(x.dropna())
    feats = fast.features(cols.values, cols.n)[: 3 * table.chunk]
    for f, cuts in table.cuts:  # a third of each used feature: one of its own thresholds
        rows = rng.choice(len(feats), len(feats) // 3, replace=False)
        picked = rng.choice(cuts, len(rows))
        feats[rows, f] = picked + rng.choice([0.0, 0.0, 1e-9, -1e-9], len(rows))
    feats[0, :] = np.inf
    feats[1, :] = -np.inf
    assert len(feats) >= _BIN_ROWS
    binned = table.raw(feats)
    kbin, table.kbin = table.kbin, None  # the float path
    try:
        floats = table.raw(feats)
    finally:
        table.kbin = kbin
    assert np.array_equal(binned, floats)


def _binary_penguins() -> tuple[Any, Any, Any]:
    """A noria pipeline for "is it an Adelie?" (yes/no) on the penguins, and the features."""
    import tempfile
    from pathlib import Path

    import pandas as pd
    from sklearn.pipeline import Pipeline

    from noria.cli.demo import write_demo_data
    from noria.features.preprocess import build_preprocessor, plan_columns
    from noria.train.candidates import make_estimator

    with tempfile.TemporaryDirectory() as tmp:
        frame = pd.read_csv(write_demo_data(Path(tmp)))
    frame = frame.dropna(subset=["species"]).reset_index(drop=True)
    frame["adelie"] = frame.pop("species").eq("Adelie").map({True: "yes", False: "no"})
    frame = frame[["island", "sex", "body_mass_g", "adelie"]]  # no bill: a harder question
    plan = plan_columns(frame, target="adelie", drop=[], max_onehot_cardinality=20)
    est = make_estimator("hist_gradient_boosting", "classification", seed=0)
    est.set_params(max_iter=20, class_weight="balanced")
    pipe = Pipeline([("preprocess", build_preprocessor(plan)), ("model", est)])
    x = frame.drop(columns=["adelie"])
    return pipe.fit(x, frame["adelie"]), x, frame["adelie"]


def test_calibrated_model_serves_its_map_and_threshold_on_every_path(tmp_path: Any) -> None:
    """The compiled path applies the probability map and the decision threshold exactly as
    the model does; labels are the positive class where its probability reaches the
    threshold, not the most probable class."""
    from noria.train.calibration import CalibratedClassifier

    pipe, x, _ = _binary_penguins()
    model = CalibratedClassifier(pipe, temperature=0.7, bias=np.array([0.0, -1.5]), threshold=0.2)
    proba = model.predict_proba(x)
    assert not np.allclose(proba, pipe.predict_proba(x))
    expected = np.where(proba[:, 1] >= 0.2, "yes", "no")
    assert (model.predict(x) == expected).all()
    assert (expected != pipe.predict(x)).any()  # the threshold changes some labels
    project = Project(tmp_path)
    register(project, model, x, {"accuracy": 0.9})
    cache = project.home / "serve"
    for _ in range(2):  # compiled and checked, then loaded from the cache without the model
        predictor = Predictor.load(
            project.metadata, project.artifacts, "penguins", cache_dir=cache, onnx="never"
        )
        assert predictor.path == "compiled" and predictor.threshold == 0.2
        got = predictor.predict(predictor.signature.from_frame(x))
        assert np.max(np.abs(got.probabilities - proba)) < 1e-6
        assert got.predictions == expected.tolist()
    sklearn_path = Predictor(predictor.model_version, fast=None, sklearn_model=model)
    got = sklearn_path.predict(sklearn_path.signature.from_frame(x))
    assert got.predictions == expected.tolist()
