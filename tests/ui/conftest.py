"""Fixtures of the dashboard tests: a store made by a real ``noria run``, clients, live servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from noria.project import Project
from tests.conftest import fast_search

EVIL = '<script>alert("x")</script>'


@dataclass
class UIProject:
    """The project, the ids the tests look at, and what was planted in it."""

    root: Path
    run_id: str  # the `noria run`
    trial_ids: list[str]
    evil_id: str  # a run whose name, param, tag and metric key are HTML
    history_id: str  # a run with a 5,000-point metric history
    model: str


def _cli(*args: str) -> None:
    from noria.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, f"noria {' '.join(args)} exited {exc.code}"


@pytest.fixture(scope="session")
def ui_project(tmp_path_factory: pytest.TempPathFactory) -> UIProject:
    """``noria init`` + ``noria run`` on the penguins, plus planted runs and a second version."""
    from noria.cli.demo import write_demo_data
    from noria.registry import register_model
    from noria.tracking import log_metric, log_param, set_tag, start_run

    root = tmp_path_factory.mktemp("uiproj")
    data = write_demo_data(root / "data")
    _cli("init", "--data", str(data), "--target", "species", "--path", str(root))
    fast_search(root / "noria.yaml", families="[linear]", trials=3)
    _cli("run", "--path", str(root))
    project = Project(root)
    store = project.metadata
    [run] = store.list_runs()
    trials = [r.id for r in reversed(store.list_runs(parent_id=run.id))]
    with start_run(store, name=EVIL) as evil:
        log_param("<b>param</b>", "<img src=x onerror=alert(1)>")
        set_tag("note", "</td><script>alert(2)</script>")
        log_metric("<i>odd</i> metric", 0.5)
    with start_run(store, name="long-history") as long:
        for step in range(5000):
            log_metric("loss", 1.0 / (step + 1) + (5.0 if step == 2500 else 0.0), step=step)
    [v1] = store.model_versions()
    register_model(  # version 2: the same model again, so that promotions can be tested
        store,
        name=v1.name,
        artifact_id=v1.artifact_id,
        run_id=v1.run_id,
        signature=v1.signature,
        metrics={**v1.metrics, "copy": 1.0},  # a re-fit with the same metrics is no new version
        params=v1.params,
    )
    project.close()
    return UIProject(root, run.id, trials, evil.id, long.id, v1.name)


@pytest.fixture
def make_client(ui_project: UIProject) -> Iterator[Callable[..., Any]]:
    """A factory of Starlette test clients: ``make_client(allow_actions=..., token=...)``."""
    from starlette.testclient import TestClient

    from noria.ui.app import UISettings, create_app

    projects: list[Project] = []

    def make(*, allow_actions: bool = False, token: str | None = None) -> TestClient:
        project = Project(ui_project.root)
        projects.append(project)
        settings = UISettings(allow_actions=allow_actions, token=token)
        return TestClient(
            create_app(project, settings), base_url="http://127.0.0.1:8765", follow_redirects=False
        )

    yield make
    for project in projects:
        project.close()


class LiveServer:
    """``noria ui`` on an ephemeral port of 127.0.0.1, in a thread."""

    def __init__(self, root: Path, *, allow_actions: bool, token: str | None) -> None:
        import uvicorn

        from noria.ui.app import UISettings, create_app

        self.project = Project(root)
        settings = UISettings(allow_actions=allow_actions, token=token)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(self.project, settings), log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.02)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.project.close()
