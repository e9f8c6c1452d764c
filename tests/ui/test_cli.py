"""``noria ui`` from the command line: it starts, says where, and refuses a busy port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import cli
from tests.ui.conftest import UIProject


def test_noria_ui_starts_and_serves(ui_project: UIProject) -> None:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "noria.cli", "ui", "--port", "0", "--path", str(ui_project.root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        ready = time.perf_counter() - started
        assert line.startswith("noria ui on http://127.0.0.1:") and "read-only" in line, line
        assert ready < 10  # about 0.6 s on an idle machine; the bench reports the figure
        url = line.split()[3]
        with urllib.request.urlopen(url + "runs", timeout=10) as response:
            assert response.status == 200 and ui_project.run_id in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_busy_port_is_a_one_line_error(
    ui_project: UIProject, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli(capsys, "ui", "--port", str(port), "--path", str(ui_project.root))
    assert code == 2 and err.startswith("error: cannot listen on 127.0.0.1:") and "--port" in err
    assert err.count("\n") == 1
