"""`noria monitor` and `noria labels add` on a trained penguins project with logged traffic."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from noria.monitor.monitor import run_monitor
from noria.predlog import log_folder
from noria.project import Project
from tests.conftest import cli
from tests.monitor.conftest import log_traffic, penguins

ROOT = Path(__file__).resolve().parents[2]


def _drifted(seed: int = 2) -> pd.DataFrame:
    frame = penguins().sample(400, replace=True, random_state=seed).reset_index(drop=True)
    frame["body_mass_g"] = frame["body_mass_g"] + 1500
    frame.loc[frame.sample(frac=0.3, random_state=seed).index, "sex"] = None
    return frame


def _logged_rows(project: Project) -> int:
    return sum(r for (r,) in project.metadata.read("SELECT rows FROM monitor_windows"))


def test_drift_found_in_the_changed_columns_only(project: Project) -> None:
    log_traffic(project, penguins().sample(400, replace=True, random_state=1))
    log_traffic(project, _drifted(), batch=5)
    result = run_monitor(project, max_rows=400)
    assert [w.rows for w in result.windows] == [400, 400]
    steady, drifted = result.windows
    assert steady.status == "ok" and steady.drifted == []
    assert drifted.status == "drift"
    assert set(drifted.drifted) == {"body_mass_g", "sex"}
    assert "null rate" in drifted.drift.columns["sex"].reason
    assert drifted.quality == [] or all(q["failing"] >= 0 for q in drifted.quality)
    # the same segments are never read twice
    again = run_monitor(project)
    assert again.windows == [] and _logged_rows(project) == 800


def test_unseen_category_is_reported(project: Project) -> None:
    frame = penguins().sample(300, replace=True, random_state=4).reset_index(drop=True)
    frame.loc[: len(frame) // 2, "island"] = "Anvers"  # not an island of the training data
    log_traffic(project, frame, batch=10)
    (window,) = run_monitor(project).windows
    island = window.drift.columns["island"]
    assert island.drifted and "Anvers" in island.unseen


def test_truncated_segment_is_skipped_then_read_once_complete(project: Project) -> None:
    log_traffic(project, penguins().head(150))
    folder = log_folder(project.home, "penguins")
    (segment,) = sorted(folder.glob("segment-*.parquet"))
    whole = segment.read_bytes()
    segment.write_bytes(whole[: len(whole) // 2])  # a copy cut off mid-write
    result = run_monitor(project)
    assert result.windows == []
    assert len(result.warnings) == 1 and segment.name in result.warnings[0]
    segment.write_bytes(whole)
    (window,) = run_monitor(project).windows
    assert window.rows == 150


_KILLED = """
import os, sys
sys.path.insert(0, {root!r})
import noria.monitor.logs as logs
from noria.monitor.monitor import run_monitor
from noria.project import Project

original = logs.commit_window
calls = []

def dying(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:  # the second window: killed before its transaction
        os.kill(os.getpid(), 9)
    return original(*args, **kwargs)

logs.commit_window = dying
run_monitor(Project({path!r}), max_rows=100)
"""


def test_kill_9_mid_monitor_loses_nothing_and_counts_nothing_twice(project: Project) -> None:
    for part in range(3):
        log_traffic(project, penguins().iloc[part * 100 : part * 100 + 100])
    project.close()
    code = _KILLED.format(root=str(ROOT), path=str(project.root))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    reopened = Project(project.root)
    assert _logged_rows(reopened) == 100  # the first window only
    result = run_monitor(reopened, max_rows=100)
    assert [w.rows for w in result.windows] == [100, 100]
    assert _logged_rows(reopened) == 300
    assert run_monitor(reopened).windows == []
    reopened.close()


def test_labels_give_live_metrics_and_unknown_ids_are_counted(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = penguins().dropna(subset=["species"]).sample(200, random_state=5)
    ids = log_traffic(project, frame.reset_index(drop=True))
    run_monitor(project)
    truth = pd.DataFrame({"request_id": ids, "label": frame["species"].to_numpy()})
    wrong = pd.DataFrame({"request_id": ["nope-1", "nope-2"], "label": ["Adelie", "Gentoo"]})
    labels = tmp_path / "labels.csv"
    pd.concat([truth, wrong]).to_csv(labels, index=False)
    code, out, err = cli(capsys, "labels", "add", str(labels), "--path", str(project.root))
    assert code == 0, err
    assert "202 labels added" in out and "200 match" in out
    assert "2 labels match no logged prediction" in out
    result = run_monitor(project)
    (live,) = result.live
    assert live.window == 1 and live.version == 1 and live.labels == 200
    assert live.metrics["accuracy"] > 0.9 and "roc_auc" in live.metrics
    events = [e for e in project.metadata.audit_events("penguins") if e["action"] == "labels_add"]
    assert events[-1]["detail"]["unknown"] == 2


def test_labels_file_without_the_key_column_names_it(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "labels.csv"
    pd.DataFrame({"request": ["a"], "label": ["Adelie"]}).to_csv(bad, index=False)
    code, _, err = cli(capsys, "labels", "add", str(bad), "--path", str(project.root))
    assert code == 2
    assert "no key column 'request_id'" in err and "did you mean 'request'" in err


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_cli_prints_writes_the_report_and_posts_alerts(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        text = project.spec_path.read_text().replace(
            "  webhook: null", f"  webhook: http://127.0.0.1:{server.server_port}/alerts"
        )
        project.spec_path.write_text(text)
        log_traffic(project, _drifted(), batch=20)
        code, out, err = cli(capsys, "monitor", "--path", str(project.root))
    finally:
        server.shutdown()
    assert code == 0, err
    assert "window 1: 400 predictions" in out and "drift in body_mass_g, sex" in out
    report = project.home / "reports" / "monitor-penguins.html"
    html = report.read_text()
    assert "body_mass_g" in html and "<svg" in html
    (alert,) = _Hook.received
    assert alert["kind"] == "drift" and set(alert["columns"]) == {"body_mass_g", "sex"}


def _files(root: Path, store: Path) -> set[Path]:
    """Files under ``root`` outside the project's ``.noria`` store."""
    return {p for p in root.rglob("*") if p.is_file() and store not in p.parents}


def test_an_unknown_model_is_an_error_naming_the_known_ones(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "monitor", "--model", "penguns", "--path", str(project.root))
    assert code == 2, out + err
    assert "no model 'penguns' (did you mean 'penguins'?); registered: penguins" in err
    assert "no new predictions" not in out


@pytest.mark.parametrize("command", ["monitor", "labels"])
def test_a_model_name_with_dot_dot_writes_nothing_outside_the_store(
    project: Project, capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"request_id": ["a"], "label": ["Adelie"]}).to_csv(truth, index=False)
    before = _files(tmp_path, project.home)
    args = ["labels", "add", str(truth)] if command == "labels" else ["monitor"]
    code, out, err = cli(capsys, *args, "--model", "../../escaped", "--path", str(project.root))
    assert code == 2, out + err
    assert "model name '../../escaped' is not valid" in err
    assert _files(tmp_path, project.home) == before
