"""The prediction log: segments of single-row and multi-row requests, across versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from noria.predlog import PredictionLog, read_log


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
    table = read_log(tmp_path).to_pydict()
    assert table["request_id"] == ["r0", "r1", "r2", "b", "b", "b", "one", "v2", "v2"]
    assert table["row"] == [0, 0, 0, 0, 1, 2, 0, 0, 1]
    assert table["version"] == [1, 1, 1, 1, 1, 1, 1, 2, 2]
    assert table["output.prediction"][3:] == ["no", "yes", "no", "yes", "no", "no"]
    assert table["input.z"] == [None] * 7 + [1.0, 1.0]
    assert table["output.proba.yes"][:3] == [0.8, 0.8, 0.8]
    assert log.written_rows == 9 and log.segments == 2


def test_requests_logged_from_their_values_as_from_their_arrays(tmp_path: Path) -> None:
    """Small requests are logged from their JSON values, large ones from their arrays: the
    same columns either way, missing numbers as NaN, missing strings as null."""
    from noria.serve.schema import Signature

    names = {"x": "float64", "y": "int64", "s": "object"}
    sig = Signature([{"name": k, "dtype": v} for k, v in names.items()])
    rows = [[1.5, 2, "a"], [None, 3, None], [2.5, None, "b"]] * 5
    classes = ["no", "yes"]
    tables = []
    for use_values in (True, False):
        log = PredictionLog(tmp_path / str(use_values), "m")
        log.folder.mkdir(parents=True)
        for i in range(0, len(rows), 3):
            cols = sig.from_split(list(names), rows[i : i + 3])
            given = cols if use_values else cols.values
            log.append(f"r{i}", 1, given, ["no"] * 3, np.full((3, 2), 0.5), classes, 1.0)
        one = sig.from_split(list(names), [[7, 8, "c"]])
        given = one if use_values else one.values
        log.append("one", 1, given, ["yes"], np.array([[0.2, 0.8]]), classes, 1.0)
        log.flush()
        tables.append(read_log(log.folder).drop_columns(["time"]))
    assert tables[0].schema == tables[1].schema
    got, expected = (t.to_pandas() for t in tables)
    assert got.equals(expected)  # NaN equal to NaN
    assert tables[0]["input.s"].to_pylist()[:3] == ["a", None, "b"]
    assert got["input.y"].iloc[-1] == 8.0
    assert np.isnan(got["input.x"].iloc[1]) and got["output.proba.yes"].iloc[-1] == 0.8


def test_the_log_does_not_import_pandas(tmp_path: Path) -> None:
    """A server without pandas keeps it out (pyarrow would import it on its first conversion),
    and pandas still works when something asks for it."""
    import subprocess
    import sys

    code = f"""
import sys
import numpy as np
from pathlib import Path
from noria.predlog import PredictionLog, read_log
log = PredictionLog(Path({str(tmp_path)!r}), "m").start()
log.append("r", 1, {{"x": np.ones(1)}}, ["a"], np.ones((1, 1)), ["a"], 1.0)
log.close()
assert "pandas" not in sys.modules, "pandas was imported"
assert read_log(Path({str(tmp_path)!r})).to_pandas()["input.x"].tolist() == [1.0]
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_one_module_names_writes_and_reads_the_segments(tmp_path: Path) -> None:
    """The writer's segments are the ones the readers list, in the order written."""
    from noria.predlog import log_folder, read_segments, segment_paths, split_windows

    folder = log_folder(tmp_path, "m")
    log = PredictionLog(folder, "m").start()
    for i in range(3):
        log.append(f"r{i}", 1, {"x": np.full(i + 1, float(i))}, ["a"] * (i + 1), None, [], 1.0)
        log.flush()
    log.close()
    paths = segment_paths(folder)
    segments, warnings = read_segments(folder)
    assert not warnings and [s.name for s in segments] == [p.name for p in paths]
    assert [s.rows for s in segments] == [1, 2, 3]
    ids = read_log(folder).column("request_id").to_pylist()
    assert ids == ["r0", "r1", "r1", "r2", "r2", "r2"]
    assert [[s.rows for s in w] for w in split_windows(segments, 3)] == [[1, 2], [3]]
