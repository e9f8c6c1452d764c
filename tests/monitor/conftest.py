"""A trained penguins project, copied per test, and traffic logged as the server logs it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from noria.project import Project
from tests.conftest import fast_search


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A penguins project after one `noria run` (linear and LightGBM, few trials)."""
    from noria.cli.demo import write_demo_data

    root = tmp_path_factory.mktemp("trained")
    data = write_demo_data(root / "data")
    project = Project.init(root, data=str(data), target="species", name="penguins")
    fast_search(project.spec_path, families="[linear]", trials=2)
    project = Project(root)
    project.run()
    project.close()
    return root


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Project:
    root = tmp_path / "p"
    shutil.copytree(trained, root)
    project = Project(root)
    yield project
    project.close()


def penguins() -> pd.DataFrame:
    """The Palmer penguins, as the package ships them."""
    from importlib import resources

    with resources.as_file(resources.files("palmerpenguins") / "data" / "penguins.csv") as path:
        return pd.read_csv(path)


def log_traffic(
    project: Project, frame: pd.DataFrame, *, batch: int = 1, model: str = "penguins"
) -> list[str]:
    """Predict ``frame`` with the champion in requests of ``batch`` rows, logged as the server
    logs them (one segment per call); the request ids."""
    from noria.predlog import PredictionLog
    from noria.serve.predictor import Predictor

    predictor = Predictor.load(project.metadata, project.artifacts, f"{model}@champion")
    log = PredictionLog(project.home / "predictions" / model, model)
    log.folder.mkdir(parents=True, exist_ok=True)
    names = predictor.signature.names
    ids = []
    for start in range(0, len(frame), batch):
        records = frame.iloc[start : start + batch][names].to_dict("records")
        records = [{k: (None if _missing(v) else v) for k, v in r.items()} for r in records]
        columns = predictor.signature.from_records(records)
        result = predictor.predict(columns)
        rid = uuid.uuid4().hex
        ids.append(rid)
        log.append(rid, predictor.version, columns.values, result.predictions,
                   result.probabilities, predictor.classes, 0.5)  # fmt: skip
    log.flush()
    return ids


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
