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
"""

from __future__ import annotations

import operator
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PredictionLog", "read_segments"]

#: Entries turned into columns at a time by a flush (each step holds the interpreter briefly).
SLICE = 256


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
        self.written_rows = 0
        self.segments = 0
        self.dropped = 0
        self.errors = 0

    def start(self) -> PredictionLog:
        """Start the background writer."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="noria-predlog", daemon=True)
        self._thread.start()
        return self

    def append(
        self,
        request_id: str,
        version: int,
        inputs: dict[str, np.ndarray],
        predictions: list[Any],
        probabilities: np.ndarray | None,
        classes: list[Any],
        latency_ms: float,
    ) -> None:
        """Buffer one request's rows (cheap; called on the request path)."""
        n = len(predictions)
        if self._rows + n > self.max_buffered:
            self.dropped += n
            return
        entry = (request_id, time.time(), version, inputs, predictions, probabilities, classes)
        self._buffer.append((*entry, latency_ms))
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
        # import the writer here, before the first flush: a first import inside a flush would
        # hold the interpreter for a while in the middle of serving
        import pyarrow.parquet  # noqa: F401

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
        import pyarrow as pa

        counts = [len(e[4]) for e in entries]
        total = sum(counts)
        ones = total == len(entries)  # single-row requests: nothing to repeat

        def per_row(values: np.ndarray) -> np.ndarray:
            return values if ones else np.repeat(values, counts)

        versions = np.array([e[2] for e in entries], dtype=np.int64)
        data: dict[str, Any] = {
            "request_id": per_row(np.array([e[0] for e in entries], dtype=object)),
            "time": per_row(np.array([e[1] for e in entries])),
            "model": pa.array([self.model] * total, pa.string()),
            "version": per_row(versions),
            "latency_ms": per_row(np.array([e[7] for e in entries])),
            "row": np.zeros(total, dtype=np.int64)
            if ones
            else np.concatenate([np.arange(c) for c in counts]),
        }
        inputs = [e[3] for e in entries]
        same = bool((versions == versions[0]).all())  # one version: one signature
        names = list(inputs[0]) if same else list(dict.fromkeys(k for i in inputs for k in i))
        for name in names:
            if same:
                parts = list(map(operator.itemgetter(name), inputs))
            else:
                parts = [
                    e[3][name] if name in e[3] else np.full(len(e[4]), None, dtype=object)
                    for e in entries
                ]
            column = np.concatenate(parts)
            if column.dtype == object:
                data[f"input.{name}"] = pa.array(column.tolist())
            else:
                data[f"input.{name}"] = column
        predictions = [e[4][0] for e in entries] if ones else [p for e in entries for p in e[4]]
        data["output.prediction"] = pa.array(predictions)
        classes = entries[-1][6]
        if classes and all(e[5] is not None and e[5].shape[1] == len(classes) for e in entries):
            proba = np.concatenate([e[5] for e in entries])
            for j, label in enumerate(classes):
                data[f"output.proba.{label}"] = proba[:, j]
        return pa.table(
            {k: pa.array(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}
        )

    def _write(self, table: Any) -> Path:
        import pyarrow.parquet as pq

        tmp = self.folder / f".segment-{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        number = self._next_number()
        while True:
            target = self.folder / f"segment-{number:06d}.parquet"
            try:
                os.link(tmp, target)  # fails if the name exists: never overwrite a segment
                break
            except FileExistsError:
                number += 1
        tmp.unlink()
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
