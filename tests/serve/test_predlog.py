"""The prediction log: segments of single-row and multi-row requests, across versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from noria.serve.predlog import PredictionLog, read_segments


def _cols(n: int, **extra: np.ndarray) -> dict[str, np.ndarray]:
    return {"x": np.arange(n, dtype=float), "s": np.array(["a"] * n, dtype=object), **extra}


def test_segments_of_mixed_requests_and_versions(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, "m")
    log.folder.mkdir(parents=True, exist_ok=True)
    classes = ["no", "yes"]
    for i in range(3):  # single rows: the fast path
        log.append(f"r{i}", 1, _cols(1), ["yes"], np.array([[0.2, 0.8]]), classes, 1.0)
    assert log.flush() is not None
    log.append("b", 1, _cols(3), ["no", "yes", "no"], np.full((3, 2), 0.5), classes, 2.0)
    log.append("one", 1, _cols(1), ["yes"], np.array([[0.1, 0.9]]), classes, 1.0)
    log.append("v2", 2, _cols(2, z=np.ones(2)), ["no", "no"], np.full((2, 2), 0.5), classes, 3.0)
    log.flush()
    table = read_segments(tmp_path).to_pydict()
    assert table["request_id"] == ["r0", "r1", "r2", "b", "b", "b", "one", "v2", "v2"]
    assert table["row"] == [0, 0, 0, 0, 1, 2, 0, 0, 1]
    assert table["version"] == [1, 1, 1, 1, 1, 1, 1, 2, 2]
    assert table["output.prediction"][3:] == ["no", "yes", "no", "yes", "no", "no"]
    assert table["input.z"] == [None] * 7 + [1.0, 1.0]
    assert table["output.proba.yes"][:3] == [0.8, 0.8, 0.8]
    assert log.written_rows == 9 and log.segments == 2
