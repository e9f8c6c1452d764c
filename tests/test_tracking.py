"""Tracking: the logging API inside and outside pipelines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import noria
from noria.errors import UserError
from noria.store.metadata import MetadataStore
from noria.tracking import start_run


def test_manual_run_records_params_metrics_tags(metadata: MetadataStore) -> None:
    with start_run(metadata, name="notebook") as run:
        noria.log_params({"alpha": 0.5, "layers": [1, 2]})
        noria.log_param("seed", 7)
        for i in range(5):
            noria.log_metric("loss", 1.0 / (i + 1))
        noria.log_metrics({"acc": 0.9, "f1": 0.8}, step=10)
        noria.set_tag("team", "fraud")
    record = metadata.get_run(run.id)
    assert record.status == "completed" and record.name == "notebook"
    assert metadata.params(run.id) == {"alpha": 0.5, "layers": [1, 2], "seed": 7}
    points = metadata.metrics(run.id)
    assert [(k, s) for k, _, s, _ in points if k == "loss"] == [("loss", i) for i in range(5)]
    assert ("acc", 0.9, 10) in [(k, v, s) for k, v, s, _ in points]
    assert metadata.tags(run.id) == {"team": "fraud"}


def test_failed_block_marks_run_failed(metadata: MetadataStore) -> None:
    with pytest.raises(RuntimeError), start_run(metadata, name="x") as run:
        noria.log_metric("loss", 1.0)
        raise RuntimeError("boom")
    record = metadata.get_run(run.id)
    assert record.status == "failed" and "boom" in (record.error or "")
    assert len(metadata.metrics(run.id)) == 1  # what was logged before the error is kept


def test_logging_outside_a_run_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="outside a run"):
        noria.log_metric("loss", 1.0)


def test_non_numeric_metric_is_rejected(metadata: MetadataStore) -> None:
    with start_run(metadata), pytest.raises(UserError, match="metric 'loss'"):
        noria.log_metric("loss", "high")


def test_unended_run_is_flushed_at_exit(tmp_path: Path) -> None:
    script = (
        "import noria\n"
        f"run = noria.start_run(name='script', project={str(tmp_path)!r})\n"
        "for i in range(100):\n"
        "    noria.log_metric('m', i)\n"
        "print(run.id)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    store = MetadataStore(f"sqlite:///{tmp_path / '.noria' / 'noria.db'}")
    run_id = out.stdout.strip()
    assert store.get_run(run_id).status == "completed"
    assert len(store.metrics(run_id)) == 100
    store.close()


def test_a_nan_metric_is_refused_where_it_is_logged(metadata: MetadataStore) -> None:
    # before: accepted, then the run's end failed on an internal "NOT NULL constraint failed:
    # metrics.value" (SQLite stores NaN as NULL), hiding which metric it was
    with start_run(metadata, name="nan") as run:
        with pytest.raises(UserError, match=r"metric 'cv_roc_auc' at step 0 is NaN.*skip"):
            noria.log_metric("cv_roc_auc", float("nan"), step=0)
        with pytest.raises(UserError, match="metric 'f1' is NaN"):
            noria.log_metrics({"acc": 0.5, "f1": float("nan")})
        noria.log_metric("loss", float("inf"))  # infinity is a number the store keeps
    assert metadata.get_run(run.id).status == "completed"
    assert sorted(k for k, *_ in metadata.metrics(run.id)) == ["acc", "loss"]


def test_progress_of_a_step_lives_while_the_step_runs() -> None:
    from noria import tracking

    tracking.report_progress("nothing listens")  # outside a run: a no-op
    buf = tracking.LogBuffer("run-1")
    token = tracking.activate(buf, step="candidates")
    tracking.report_progress("3 trials,\n best roc_auc 0.9")
    assert tracking.progress("run-1", "candidates") == "3 trials, best roc_auc 0.9"
    assert tracking.progress("run-1", "model") is None
    tracking.deactivate(token)
    assert tracking.progress("run-1", "candidates") is None  # gone with the step
