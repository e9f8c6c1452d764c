"""Fixtures for serving tests: a project with real models written straight into its store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noria.project import Project


def fit_penguins(family: str = "hist_gradient_boosting", seed: int = 0) -> tuple[Any, Any]:
    """A noria preprocessing + estimator pipeline fitted on the penguins, and the features."""
    import tempfile

    from sklearn.pipeline import Pipeline

    from noria.cli.demo import write_demo_data
    from noria.features.preprocess import build_preprocessor, plan_columns
    from noria.train.candidates import make_estimator

    with tempfile.TemporaryDirectory() as tmp:
        frame = pd.read_csv(write_demo_data(Path(tmp)))
    frame = frame.dropna(subset=["species"]).reset_index(drop=True)
    plan = plan_columns(frame, target="species", drop=[], max_onehot_cardinality=20)
    est = make_estimator(family, "classification", seed=seed)
    if family == "hist_gradient_boosting":
        est.set_params(max_iter=20)
    if family == "random_forest":
        est.set_params(n_estimators=10)
    model = Pipeline([("preprocess", build_preprocessor(plan)), ("model", est)])
    x = frame.drop(columns=["species"])
    model.fit(x, frame["species"])
    return model, x


def register(project: Project, model: Any, x: pd.DataFrame, metrics: dict[str, float]) -> Any:
    """Store ``model`` as an artifact and register it as the next version of ``penguins``."""
    from noria.pipeline import materializers
    from noria.registry import register_model

    mid, data = materializers.dump(model)
    artifact = project.artifacts.put(data)
    with project.metadata.write() as tx:
        project.metadata.insert_artifacts(
            tx,
            [
                {
                    "id": artifact,
                    "materializer": mid,
                    "type_name": "Pipeline",
                    "size": len(data),
                    "created_at": time.time(),
                }
            ],
        )
    signature = [{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()]
    return register_model(
        project.metadata,
        name="penguins",
        artifact_id=artifact,
        run_id=None,
        signature=signature,
        metrics=metrics,
        params={
            "family": "hist_gradient_boosting",
            "task": "classification",
            "classes": sorted(model.classes_.tolist()),
        },
    )


@pytest.fixture(scope="session")
def penguins_models() -> tuple[Any, Any, pd.DataFrame]:
    first, x = fit_penguins(seed=0)
    second, _ = fit_penguins("linear", seed=1)
    return first, second, x


@pytest.fixture
def served_project(tmp_path: Path, penguins_models: Any) -> Project:
    first, _, x = penguins_models
    project = Project(tmp_path)
    register(project, first, x, {"accuracy": 0.97, "roc_auc": 0.99})
    return project


ROW = {
    "island": "Biscoe",
    "bill_length_mm": 45.0,
    "bill_depth_mm": 15.0,
    "flipper_length_mm": 220,
    "body_mass_g": 5000,
    "sex": "male",
    "year": 2008,
}


class LiveServer:
    """``noria.serve.app.serve`` in a thread on an ephemeral 127.0.0.1 port."""

    def __init__(self, project: Project, **settings: Any) -> None:
        from noria.serve.app import ServeSettings

        self.settings = ServeSettings(reference="penguins@champion", **settings)
        self.project = project
        self.server: Any = None
        self._ready = threading.Event()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sock = sock
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from noria.serve.app import serve

        def ready(server: Any) -> None:
            self.server = server
            self._ready.set()

        serve(self.project, self.settings, on_ready=ready, sock=self._sock)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        assert self._ready.wait(60), "server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.uvicorn.should_exit = True
        self._thread.join(30)


@pytest.fixture
def live(served_project: Project) -> Iterator[LiveServer]:
    with LiveServer(served_project, poll_seconds=0.1) as server:
        yield server
