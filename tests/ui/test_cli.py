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


def test_the_spec_is_read_only_when_a_promotion_needs_it(ui_project: UIProject) -> None:
    script = f"""
import sys
from noria.ui.app import UISettings, create_app
from noria.ui.project import DashboardProject, find_root
project = DashboardProject(find_root({str(ui_project.root / "data")!r}))
create_app(project, UISettings())
assert project.metadata.get_run({ui_project.run_id!r})
assert "noria.spec" not in sys.modules, "noria.spec imported at start"
assert project.spec.target == "species"  # on demand
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_broken_store_section_is_the_usual_config_error(tmp_path) -> None:
    from noria.errors import ConfigError
    from noria.ui.project import DashboardProject, find_root

    (tmp_path / "noria.yaml").write_text("store:\n  metadata: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"noria\.yaml"):
        DashboardProject(find_root(tmp_path))
    with pytest.raises(ConfigError, match=r"no noria\.yaml"):
        find_root(tmp_path.parent / "elsewhere")
