"""The prediction log: every served prediction, in append-only Parquet segments.

A request appends one entry to an in-memory buffer (a list append: no I/O, no lock held for
long); a background thread turns the buffer into a Parquet file every ``flush_seconds`` or
``max_rows`` rows, written under a temporary name and then linked to
``.noria/predictions/<model>/segment-NNNNNN.parquet`` — a name is never reused or overwritten, so
a reader (monitoring) sees only complete segments and can remember the last one it read.

Columns of a segment: ``request_id``, ``time`` (Unix seconds), ``model``, ``version``,
``latency_ms``, ``row`` (position in its request), one ``input.<column>`` per signature column,
``output.prediction``, and ``output.proba.<class>`` for classifiers.

When the buffer holds more than ``max_buffered`` rows (the disk cannot keep up) new entries are
dropped and counted in :attr:`PredictionLog.dropped` rather than slowing requests down.

Keeping the request path's latency tail short (decided here, measured with bench/serving):

* a flush builds the columns of small requests (single rows, the latency-bound case) from the
  requests' own JSON values (which :class:`~noria.serve.schema.Columns` keeps), flattened per
  column in C, rather than concatenating one tiny NumPy array per request and column;
* it does so a slice of :data:`SLICE` entries at a time with a short pause in between, so that it
  never holds the interpreter for long against the event loop; Parquet encoding and the write
  itself run in pyarrow with the interpreter released;
* everything a first flush would load (pyarrow's Parquet writer and codecs) is loaded and run
  once by :meth:`PredictionLog.start`, before the server takes requests — and pyarrow's first
  conversion is kept from importing pandas (half a second of imports and 60 MiB the server has
  no use for; see :func:`_arrow_without_pandas`);
* segment numbers are counted in memory after a first look at the folder, not found by listing
  a folder that grows by one file every few seconds.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from itertools import chain, repeat
from operator import is_not, itemgetter
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PredictionLog", "read_segments"]

#: Entries turned into columns at a time by a flush (each step holds the interpreter briefly).
SLICE = 256

#: Requests of at most this many rows are logged from their JSON values (flattened in C), larger
#: ones from their arrays (concatenated: cheaper per row once a request has more than a few).
LIST_ROWS = 8


def _arrow_without_pandas() -> None:
    """Run pyarrow's first conversion without letting it import pandas.

    pyarrow imports pandas on its first conversion of anything, to recognise pandas objects;
    in a server that has not loaded pandas (the compiled and ONNX paths never do) that is half a
    second of imports holding the interpreter in the middle of serving, and 60 MiB. Run that
    first check with the import blocked, and pyarrow takes pandas as absent for recognising
    array-likes (the log converts NumPy arrays and lists only), while it still imports pandas for
    real where a pandas conversion is asked for (``to_pandas``). Call before other threads run.
    """
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    sys.meta_path.insert(0, _NoPandas)  # type: ignore[arg-type]
    try:
        pa.array([0.0])
    finally:
        sys.meta_path.remove(_NoPandas)  # type: ignore[arg-type]


class _NoPandas:
    """An import finder that refuses pandas (see :func:`_arrow_without_pandas`)."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not imported by the prediction log")
        return None


class PredictionLog:
    """A buffered, append-only writer of prediction segments for one model.

    Args:
        folder: ``.noria/predictions/<model>``.
        model: the model's name.
        flush_seconds: how often the buffer is written.
        max_rows: write as soon as this many rows are buffered.
        max_buffered: drop (and count) entries beyond this many buffered rows.
    """

    def __init__(
        self,
        folder: Path,
        model: str,
        *,
        flush_seconds: float = 5.0,
        max_rows: int = 50_000,
        max_buffered: int = 1_000_000,
    ) -> None:
        self.folder = Path(folder)
        self.model = model
        self.flush_seconds = flush_seconds
        self.max_rows = max_rows
        self.max_buffered = max_buffered
        self._buffer: list[tuple[Any, ...]] = []
        self._rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._number: int | None = None
        self.written_rows = 0
        self.segments = 0
        self.dropped = 0
        self.errors = 0

    def start(self) -> PredictionLog:
        """Load and run the writer once (see the module's notes), then start it in the
        background."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._warm()
        self._thread = threading.Thread(target=self._loop, name="noria-predlog", daemon=True)
        self._thread.start()
        return self

    def _warm(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        _arrow_without_pandas()
        entry = ("warm", 0.0, 0, {"x": np.zeros(1), "s": np.array(["a"], dtype=object)})
        entry += (["a"], np.ones((1, 1)), ["a"], 0.0, {"x": [0.0], "s": ["a"]})
        pq.write_table(self._table([entry]), pa.BufferOutputStream(), compression="zstd")

    def append(
        self,
        request_id: str,
        version: int,
        inputs: Any,
        predictions: list[Any],
        probabilities: np.ndarray | None,
        classes: list[Any],
        latency_ms: float,
    ) -> None:
        """Buffer one request's rows (cheap; called on the request path).

        Args:
            inputs: the request's checked :class:`~noria.serve.schema.Columns` (whose JSON
                values make the flush cheap), or a mapping of one array per column.
        """
        n = len(predictions)
        if self._rows + n > self.max_buffered:
            self.dropped += n
            return
        if isinstance(inputs, Mapping):
            arrays, lists = inputs, None
        else:  # a request's values are cheaper to log than its arrays only for a few rows
            arrays, lists = inputs.values, inputs.lists if n <= LIST_ROWS else None
        entry = (request_id, time.time(), version, arrays, predictions, probabilities, classes)
        self._buffer.append((*entry, latency_ms, lists))
        self._rows += n
        if self._rows >= self.max_rows:
            self._wake.set()

    def close(self) -> None:
        """Write what is buffered and stop the writer."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush(pause=0.0002)
            except Exception:  # a full disk must not take the server down
                self.errors += 1

    def flush(self, pause: float = 0.0) -> Path | None:
        """Write the buffer as one segment now; its path, or ``None`` when empty.

        The buffer is turned into columns a slice of :data:`SLICE` entries at a time; the
        writer thread passes a ``pause`` between slices, so that no conversion holds the
        interpreter for long against the event loop (the single-row latency tail).
        """
        import pyarrow as pa

        with self._lock:
            entries, self._buffer = self._buffer, []
            self._rows = 0
            if not entries:
                return None
            tables = []
            for i in range(0, len(entries), SLICE):
                tables.append(self._table(entries[i : i + SLICE]))
                if pause:
                    time.sleep(pause)
            table = (
                tables[0]
                if len(tables) == 1
                else pa.concat_tables(tables, promote_options="default")
            )
            path = self._write(table)
            self.written_rows += table.num_rows
            self.segments += 1
            return path

    def _table(self, entries: list[tuple[Any, ...]]) -> Any:
        """One slice of entries as a pyarrow table.

        An entry: ``(request_id, time, version, arrays, predictions, probabilities, classes,
        latency_ms, lists)``; ``lists`` are the request's values per column (``None`` when
        only arrays were given).
        """
        import pyarrow as pa

        counts = [len(e[4]) for e in entries]
        total = sum(counts)
        ones = total == len(entries)  # single-row requests: nothing to repeat

        def per_row(values: list[Any], dtype: Any = None) -> np.ndarray:
            array = np.array(values, dtype=dtype)
            return array if ones else np.repeat(array, counts)

        versions = [e[2] for e in entries]
        data: dict[str, Any] = {
            "request_id": pa.array(
                [e[0] for e in entries] if ones else per_row([e[0] for e in entries], object),
                pa.string(),
            ),
            "time": per_row([e[1] for e in entries], np.float64),
            "model": pa.array([self.model] * total, pa.string()),
            "version": per_row(versions, np.int64),
            "latency_ms": per_row([e[7] for e in entries], np.float64),
            "row": np.zeros(total, dtype=np.int64)
            if ones
            else np.concatenate([np.arange(c) for c in counts]),
        }
        first = entries[0][3]
        # one version: one signature (the common case); else the union of the columns
        same = versions.count(versions[0]) == len(versions)
        names = list(first) if same else list(dict.fromkeys(k for e in entries for k in e[3]))
        lists = [e[8] for e in entries]
        lists_ok = same and None not in lists
        for name in names:
            numeric = first[name].dtype != object if name in first else False
            data[f"input.{name}"] = self._input(entries, lists if lists_ok else None, name, numeric)
        if ones:
            data["output.prediction"] = pa.array([e[4][0] for e in entries])
        else:
            data["output.prediction"] = pa.array(list(chain.from_iterable(e[4] for e in entries)))
        classes = entries[-1][6]
        probas = [e[5] for e in entries]
        if classes and all(map(is_not, probas, repeat(None))):
            proba = np.concatenate(probas)
            if proba.ndim == 2 and proba.shape[1] == len(classes):
                for j, label in enumerate(classes):
                    data[f"output.proba.{label}"] = proba[:, j]
        return pa.table(
            {k: pa.array(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}
        )

    @staticmethod
    def _input(
        entries: list[tuple[Any, ...]], lists: list[Any] | None, name: str, numeric: bool
    ) -> Any:
        """The column ``input.<name>`` of a slice: float64 (NaN for missing) or strings/bools;
        from the requests' ``lists`` where every entry has them, else from their arrays."""
        import pyarrow as pa

        if lists is not None:
            values = list(chain.from_iterable(map(itemgetter(name), lists)))
            if not numeric:
                return pa.array(values)
            try:
                return np.array(values, dtype=np.float64)  # null → NaN, as the request path
            except (OverflowError, TypeError, ValueError):
                pass  # an integer beyond float64: the checked arrays have it as ±inf
        parts = [
            e[3][name] if name in e[3] else np.full(len(e[4]), None, dtype=object) for e in entries
        ]
        column = np.concatenate(parts)
        return pa.array(column.tolist()) if column.dtype == object else column

    def _write(self, table: Any) -> Path:
        import pyarrow.parquet as pq

        tmp = self.folder / f".segment-{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        number = self._next_number() if self._number is None else self._number
        while True:
            target = self.folder / f"segment-{number:06d}.parquet"
            try:
                os.link(tmp, target)  # fails if the name exists: never overwrite a segment
                break
            except FileExistsError:
                number += 1
        tmp.unlink()
        self._number = number + 1
        return target

    def _next_number(self) -> int:
        numbers = [
            int(p.stem.removeprefix("segment-"))
            for p in self.folder.glob("segment-*.parquet")
            if p.stem.removeprefix("segment-").isdigit()
        ]
        return max(numbers, default=-1) + 1


def read_segments(folder: Path) -> Any:
    """All complete segments of a model's log as one pyarrow table (for monitoring, tests)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = sorted(Path(folder).glob("segment-*.parquet"))
    if not paths:
        return pa.table({})
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default")
