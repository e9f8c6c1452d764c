"""A damaged or missing compiled model is made again from the registered model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noria.project import Project
from noria.serve.predictor import Predictor

from .conftest import ROW


def _load(project: Project) -> Predictor:
    return Predictor.load(
        project.metadata,
        project.artifacts,
        "penguins@champion",
        cache_dir=project.home / "serve",
        onnx="never",
    )


def _compiled_file(project: Project) -> tuple[str, Path]:
    index = json.loads((project.home / "serve" / "compiled.json").read_text())
    (entry,) = index.values()
    return entry["compiled"], project.artifacts.path(entry["compiled"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", ["flip", "delete"])
def test_damaged_compiled_model_is_rebuilt(served_project: Project, damage: str) -> None:
    """A flipped byte used to take serving down for good (even `noria run --fresh` kept it);
    only deleting .noria/serve/compiled.json, which no message named, brought it back."""
    first = _load(served_project)
    assert first.path == "compiled"
    expected = first.predict(first.signature.from_records([ROW])).predictions
    artifact_id, path = _compiled_file(served_project)
    if damage == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        path.unlink()
    with pytest.warns(UserWarning, match="compiling it again") as caught:
        again = _load(served_project)
    assert "compiled.json" in str(caught[0].message)
    assert again.path == "compiled"
    assert again.predict(again.signature.from_records([ROW])).predictions == expected
    assert served_project.artifacts.get(artifact_id)  # repaired in place: the hash checks
    _load(served_project)  # and the next load is quiet
