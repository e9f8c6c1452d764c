"""``noria ui`` reads while a real ``noria run`` writes: no lock error, the new run appears."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.ui.conftest import UIProject


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_real_noria_run_writes_while_the_ui_reads(ui_project: UIProject, tmp_path: Path) -> None:
    root = tmp_path / "live"
    shutil.copytree(ui_project.root, root)
    ui = subprocess.Popen(
        [sys.executable, "-m", "noria.cli", "ui", "--port", "0", "--path", str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    run = None
    try:
        line = ui.stdout.readline()
        assert line.startswith("noria ui on "), line
        base = line.split()[3].rstrip("/")
        status, before = _get(base + "/runs")
        assert status == 200
        known = set(re.findall(r'href="/runs/([0-9a-f]{32})"', before))
        run = subprocess.Popen(
            [sys.executable, "-m", "noria.cli", "run", "--fresh", "--path", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        pages = [
            "/runs",
            "/runs?sort=metrics.test_roc_auc&desc=1",
            "/runs?trials=1&filter=cv_roc_auc+%3E+0&sort=metrics.cv_roc_auc",
            "/data",
            "/models",
        ]
        seen_running, reads = False, 0
        while run.poll() is None:
            for page in pages:
                status, body = _get(base + page)
                reads += 1
                assert status == 200, (page, body[-1500:])
                assert "locked" not in body.lower(), page
                seen_running |= 'badge running">running' in body
            time.sleep(0.05)
        assert run.returncode == 0, run.stderr.read()[-2000:]
        assert reads >= len(pages)
        status, after = _get(base + "/runs")
        new = set(re.findall(r'href="/runs/([0-9a-f]{32})"', after)) - known
        assert status == 200 and len(new) == 1, new
        [new_id] = new
        status, page = _get(f"{base}/runs/{new_id}")
        assert status == 200 and 'badge completed">completed' in page
        status, sorted_page = _get(base + "/runs?sort=metrics.test_roc_auc&desc=1")
        assert new_id in sorted_page  # the sorted column took the new run in
        print(json.dumps({"reads": reads, "seen_running": seen_running}))
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        ui.terminate()
        ui.wait(10)
