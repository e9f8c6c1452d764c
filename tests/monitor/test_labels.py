"""Labels join one prediction each: a client's request id logged twice never labels both."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from noria.monitor.labels import labelled_predictions
from noria.monitor.logs import log_folder, segment_paths
from noria.project import Project
from tests.conftest import cli

from .conftest import penguins


def _log(project: Project, rows: pd.DataFrame, ids: list[str]) -> None:
    """Predict ``rows`` one request each, with the client's ``ids``, logged as the server does."""
    from noria.serve.predictor import Predictor
    from noria.serve.predlog import PredictionLog

    predictor = Predictor.load(project.metadata, project.artifacts, "penguins@champion")
    log = PredictionLog(project.home / "predictions" / "penguins", "penguins")
    log.folder.mkdir(parents=True, exist_ok=True)
    names = predictor.signature.names
    for rid, (_, row) in zip(ids, rows.iterrows(), strict=True):
        record = {k: (None if pd.isna(row[k]) else row[k]) for k in names}
        columns = predictor.signature.from_records([record])
        result = predictor.predict(columns)
        log.append(rid, predictor.version, columns.values, result.predictions,
                   result.probabilities, predictor.classes, 0.5)  # fmt: skip
        time.sleep(0.002)  # distinct times
    log.flush()


def test_a_request_id_logged_twice_labels_only_its_latest_prediction(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = penguins().dropna(subset=["species", "bill_length_mm"]).reset_index(drop=True)
    adelie = frame[frame["species"] == "Adelie"].head(3)
    gentoo = frame[frame["species"] == "Gentoo"].head(3)
    # the client reused ids a, b for two different penguins; c is used once
    _log(project, adelie, ["a", "b", "c"])
    _log(project, gentoo.head(2), ["a", "b"])
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["a", "b", "c"], "label": ["Gentoo", "Gentoo", "Adelie"]}).to_csv(
        labels, index=False
    )
    code, out, err = cli(capsys, "labels", "add", str(labels), "--path", str(project.root))
    assert code == 0, err
    assert "3 labels added" in out and "3 match" in out
    assert "2 labels have a request id that was logged more than once" in out
    events = [e for e in project.metadata.audit_events("penguins") if e["action"] == "labels_add"]
    assert events[-1]["detail"]["duplicates"] == 2

    segments = segment_paths(log_folder(project.home, "penguins"))
    joined = labelled_predictions(project.home, "penguins", segments)
    assert len(joined) == 3  # one prediction per label, not five
    # a and b label the Gentoo predictions (the latest), which the model gets right
    assert (joined["output.prediction"] == joined["label"]).all(), joined
