"""The prediction log under faults: a SIGTERM, a failing disk, cleaned-up folders, restarts."""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from noria.predlog import PredictionLog, read_log
from noria.project import Project

from .conftest import ROW, LiveServer

CLASSES = ["no", "yes"]


def _append(log: PredictionLog, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        cols = {"x": np.array([float(i)]), "s": np.array(["a"], dtype=object)}
        log.append(f"r{i}", 1, cols, ["yes"], np.array([[0.2, 0.8]]), CLASSES, 1.0)


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Make every segment write fail with ENOSPC while the returned flag is set."""
    full = [True]
    real = PredictionLog._write_file

    def write(path: Path, data: memoryview) -> None:
        if full[0]:
            with open(path, "wb") as fh:  # a partial file, as a full disk leaves one
                fh.write(bytes(data[:10]))
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(PredictionLog, "_write_file", staticmethod(write))
    return full


def test_sigterm_logs_every_answered_prediction(served_project: Project) -> None:
    """`noria serve` stopped by SIGTERM (kill, systemd, Docker, Kubernetes) writes its log
    (it logged 0 of 50 answered predictions: uvicorn re-raised the signal before the flush)."""
    served_project.root.joinpath("noria.yaml").write_text(
        "name: penguins\ndata: {source: penguins.csv}\ntarget: species\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "noria.cli", "serve", "--model", "penguins@champion", "--port",
         "0", "--path", str(served_project.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "serving penguins" in line, line + (proc.stderr.read() if proc.stderr else "")
        url = line.split(" on ")[1].split(";")[0].split(" ")[0]
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(50):
                assert client.post("/predict", json={"records": [ROW]}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    table = read_log(served_project.home / "predictions" / "penguins")
    assert table.num_rows == 50


def test_a_failed_write_keeps_the_rows_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk: rows stay buffered (not lost), the failure is counted and logged once per
    episode, no partial file stays, and everything is written once space comes back."""
    full = _full_disk(monkeypatch)
    log = PredictionLog(tmp_path, "m", max_buffered=400)
    caplog.set_level(logging.WARNING, logger="noria.serve.predlog")
    for round_ in range(3):
        _append(log, 100, start=round_ * 100)
        with pytest.raises(OSError, match="No space"):
            log.flush()
    assert (log.written_rows, log.pending, log.errors, log.dropped) == (0, 300, 3, 0)
    assert log.health()["status"] == "failing" and "No space" in log.health()["error"]
    assert "noria_prediction_log_failing 1" in log.metrics_lines()
    assert "noria_prediction_log_write_errors_total 3" in log.metrics_lines()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and str(tmp_path) in errors[0].getMessage()
    _append(log, 150, start=300)  # beyond max_buffered: shed, and counted
    assert log.dropped == 50 and log.pending == 400
    assert not list(tmp_path.iterdir())  # no partial segment, no temporary file
    full[0] = False
    assert log.flush() is not None
    table = read_log(tmp_path)
    assert table["request_id"].to_pylist() == [f"r{i}" for i in range(400)]  # in order
    assert log.health()["status"] == "ok" and log.written_rows == 400 and log.pending == 0
    assert "noria_prediction_log_failing 0" in log.metrics_lines()
    assert any("works again" in r.getMessage() for r in caplog.records)


def test_close_gives_up_after_its_drain_time_and_counts_the_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _full_disk(monkeypatch)
    log = PredictionLog(tmp_path, "m", drain_seconds=0.3)
    _append(log, 7)
    started = time.monotonic()
    log.close()
    assert time.monotonic() - started < 5
    assert log.dropped == 7 and log.pending == 0
    log.close()  # a second stop is a no-op


def test_server_reports_a_failing_log(
    served_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/metrics counts the failed writes and the rows kept, /ready says the log is failing."""
    full = _full_disk(monkeypatch)
    with LiveServer(served_project) as live:
        for _ in range(5):
            r = httpx.post(live.url + "/predict", json={"records": [ROW]}, timeout=30)
            assert r.status_code == 200
        with pytest.raises(OSError):
            live.server.log.flush()
        text = httpx.get(live.url + "/metrics").text
        assert "noria_prediction_log_failing 1" in text
        assert "noria_prediction_log_pending_rows 5" in text
        assert "noria_prediction_log_write_errors_total 1" in text
        ready = httpx.get(live.url + "/ready")
        assert ready.status_code == 200
        assert ready.json()["prediction_log"]["status"] == "failing"
        full[0] = False
    table = read_log(served_project.home / "predictions" / "penguins")
    assert table.num_rows == 5  # written at the stop


def test_segment_names_never_repeat_after_cleanup_and_restart(tmp_path: Path) -> None:
    """After consumed segments are deleted and the server restarts, a new segment must not
    take the name of a consumed one (it was then never monitored)."""
    from noria.monitor.logs import pending_segments
    from noria.store.metadata import MetadataStore

    metadata = MetadataStore(f"sqlite:///{tmp_path / 'noria.db'}")
    folder = tmp_path / "predictions" / "m"
    log = PredictionLog(folder, "m").start()
    _append(log, 3)
    log.close()
    (first,) = pending_segments(metadata, folder, "m")
    with metadata.write() as tx:  # a monitor consumed it
        tx.execute(
            "INSERT INTO monitor_windows (model, created_at, rows, versions, status, drifted, "
            "report_artifact) VALUES ('m', 0, 3, '[1]', 'ok', '[]', '')"
        )
        tx.execute(
            "INSERT INTO monitor_segments (model, segment, window_id, rows) VALUES ('m', :s, 1, 3)",
            {"s": first},
        )
    assert pending_segments(metadata, folder, "m") == []
    (folder / first).unlink()  # the log's clean-up
    log = PredictionLog(folder, "m").start()  # a restart
    _append(log, 2, start=10)
    log.close()
    (new,) = pending_segments(metadata, folder, "m")
    assert new != first
    metadata.close()


def test_segments_sort_by_time_and_older_names_first(tmp_path: Path) -> None:
    from noria.monitor.logs import segment_paths

    log = PredictionLog(tmp_path, "m")
    tmp_path.joinpath("segment-000003.parquet").write_bytes(b"")  # an older version's name
    tmp_path.joinpath("segment-notes.parquet").write_bytes(b"")  # not a segment
    names = []
    for i in range(3):
        _append(log, 1, start=i)
        names.append(log.flush().name)  # type: ignore[union-attr]
    got = [p.name for p in segment_paths(tmp_path)]
    assert got == ["segment-000003.parquet", *names]


def test_a_model_name_cannot_leave_the_predictions_folder(tmp_path: Path) -> None:
    from noria.errors import UserError
    from noria.monitor.logs import log_folder

    assert log_folder(tmp_path, "churn") == tmp_path / "predictions" / "churn"
    for bad in ("../../etc", "a/b", ".."):
        with pytest.raises(UserError, match="not a model name"):
            log_folder(tmp_path, bad)


def test_a_real_full_disk_then_space_again(tiny_disk: Path) -> None:
    """On a 1 MiB tmpfs filled up: the rows wait in memory and are written once space is back."""
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 - 4096))
    log = PredictionLog(tiny_disk / "log", "m").start()
    for i in range(200):
        cols = {"x": np.array([float(i)]), "s": np.array([os.urandom(32).hex()], dtype=object)}
        log.append(f"r{i}", 1, cols, ["yes"], np.array([[0.2, 0.8]]), CLASSES, 1.0)
    with pytest.raises(OSError):
        log.flush()
    assert log.pending == 200 and log.health()["status"] == "failing"
    assert [p.name for p in (tiny_disk / "log").iterdir()] == []  # no partial file
    filler.unlink()
    log.close()
    assert log.written_rows == 200 and log.dropped == 0
    assert read_log(tiny_disk / "log").num_rows == 200


def test_start_removes_stale_temporary_segments_only(tmp_path: Path) -> None:
    from noria.predlog import writer as predlog

    stale, fresh = tmp_path / ".segment-a.tmp", tmp_path / ".segment-b.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")  # another server's write in progress
    old = time.time() - 2 * predlog.STALE_SECONDS
    os.utime(stale, (old, old))
    PredictionLog(tmp_path, "m").start().close()
    assert not stale.exists() and fresh.exists()
