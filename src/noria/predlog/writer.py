"""Writing the prediction log: every served prediction, in append-only Parquet segments.

A request appends one entry to an in-memory buffer (a list append: no I/O, no lock held for
long); a background thread turns the buffer into a Parquet file every ``flush_seconds`` or
``max_rows`` rows, written under a temporary name and then linked to
``.noria/predictions/<model>/segment-<time>-<hash>.parquet`` (the time of the write in
nanoseconds, 19 digits, and the XXH3-64 of the file's bytes): a name is never reused or
overwritten, not even after the folder was cleaned up and the server restarted, and it names the
segment's content, so a reader (monitoring) sees only complete segments and records which ones it
read (:mod:`noria.monitor.logs`). The names and the folder: :mod:`noria.predlog.layout`.

Nothing answered is lost silently:

* a write that fails (a full disk, a read-only folder) keeps its rows in the buffer, to be written
  by the next flush; the error is logged once per episode (logger ``noria.serve.predlog``), and
  once more when writing works again; :meth:`PredictionLog.health` says so (the server's
  ``/ready``) and :meth:`PredictionLog.metrics_lines` counts written, dropped and pending rows and
  failed writes (its ``/metrics``);
* the buffer is bounded (``max_buffered`` rows): beyond it, new entries are dropped and counted in
  :attr:`PredictionLog.dropped` rather than slowing requests down or growing without end;
* :meth:`PredictionLog.close` (the server's graceful stop, SIGTERM or SIGINT) writes what is
  buffered, retrying for at most ``drain_seconds``; rows it could not write are counted as
  dropped and logged as an error.

Columns of a segment: ``request_id``, ``time`` (Unix seconds), ``model``, ``version``,
``latency_ms``, ``row`` (position in its request), one ``input.<column>`` per signature column,
``output.prediction``, and ``output.proba.<class>`` for classifiers.

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
* a segment's name comes from the clock and its bytes, not from listing a folder that grows by
  one file every few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from itertools import chain, repeat
from operator import is_not, itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from noria.predlog.layout import TEMP_GLOB, segment_name, temp_path

__all__ = ["LIST_ROWS", "SLICE", "STALE_SECONDS", "PredictionLog"]

# the logger keeps the name the README documents (the writer lived in noria.serve.predlog)
_log = logging.getLogger("noria.serve.predlog")

#: A temporary segment file older than this (seconds) was left by a killed writer: removed.
STALE_SECONDS = 3600.0

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
        folder: ``.noria/predictions/<model>`` (:func:`noria.predlog.layout.log_folder`).
        model: the model's name.
        flush_seconds: how often the buffer is written.
        max_rows: write as soon as this many rows are buffered.
        max_buffered: drop (and count) entries beyond this many buffered rows (rows whose
            write failed stay buffered, and count).
        drain_seconds: how long :meth:`close` keeps trying to write what is buffered.
    """

    def __init__(
        self,
        folder: Path,
        model: str,
        *,
        flush_seconds: float = 5.0,
        max_rows: int = 50_000,
        max_buffered: int = 1_000_000,
        drain_seconds: float = 10.0,
    ) -> None:
        self.folder = Path(folder)
        self.model = model
        self.flush_seconds = flush_seconds
        self.max_rows = max_rows
        self.max_buffered = max_buffered
        self.drain_seconds = drain_seconds
        self._buffer: list[tuple[Any, ...]] = []
        self._rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_ns = 0
        self._closed = False
        #: Rows written to segments.
        self.written_rows = 0
        #: Segments written.
        self.segments = 0
        #: Rows lost: refused by a full buffer, or still unwritten when :meth:`close` gave up.
        self.dropped = 0
        #: Writes that failed (their rows stayed buffered).
        self.errors = 0
        #: The last write's error while writing fails (``None`` when writing works).
        self.failing: str | None = None

    @property
    def pending(self) -> int:
        """Rows buffered, not yet written."""
        return self._rows

    def start(self) -> PredictionLog:
        """Load and run the writer once (see the module's notes), then start it in the
        background."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._warm()
        limit = time.time() - STALE_SECONDS
        for stale in self.folder.glob(TEMP_GLOB):  # left by a crash mid-write
            with contextlib.suppress(OSError):
                if stale.stat().st_mtime < limit:  # not another server's write in progress
                    stale.unlink()
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
        segment_name(0, b"")  # loads xxhash

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

    def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "failing", …}``: whether writing works (the server's ``/ready``)."""
        if self.failing is None:
            return {"status": "ok", "pending_rows": self._rows}
        return {
            "status": "failing",
            "error": self.failing,
            "pending_rows": self._rows,
            "dropped_rows": self.dropped,
            "folder": str(self.folder),
        }

    def metrics_lines(self) -> list[str]:
        """Prometheus lines of the log's counters (the server's ``/metrics``)."""
        return [
            "# HELP noria_prediction_log_rows_total Rows written to the prediction log.",
            "# TYPE noria_prediction_log_rows_total counter",
            f"noria_prediction_log_rows_total {self.written_rows}",
            "# HELP noria_prediction_log_dropped_total Answered rows the log lost (full buffer, "
            "or unwritten at a stop).",
            "# TYPE noria_prediction_log_dropped_total counter",
            f"noria_prediction_log_dropped_total {self.dropped}",
            "# TYPE noria_prediction_log_segments_total counter",
            f"noria_prediction_log_segments_total {self.segments}",
            "# HELP noria_prediction_log_write_errors_total Segment writes that failed (their "
            "rows stay buffered and are retried).",
            "# TYPE noria_prediction_log_write_errors_total counter",
            f"noria_prediction_log_write_errors_total {self.errors}",
            "# TYPE noria_prediction_log_pending_rows gauge",
            f"noria_prediction_log_pending_rows {self._rows}",
            "# HELP noria_prediction_log_failing 1 while writing the log fails.",
            "# TYPE noria_prediction_log_failing gauge",
            f"noria_prediction_log_failing {int(self.failing is not None)}",
        ]

    def close(self, drain_seconds: float | None = None) -> None:
        """Write what is buffered and stop the writer (a no-op the second time).

        Keeps trying for at most ``drain_seconds`` (the constructor's by default) while writing
        fails; rows still unwritten then are counted in :attr:`dropped` and logged as an error.
        """
        if self._closed:
            return
        self._closed = True
        drain = self.drain_seconds if drain_seconds is None else drain_seconds
        deadline = time.monotonic() + drain
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        while True:
            try:
                self.flush(timeout=max(0.0, deadline - time.monotonic()))
                return
            except Exception:
                if time.monotonic() >= deadline:
                    break
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        lost = self._rows
        self.dropped += lost
        self._buffer, self._rows = [], 0
        _log.error(
            "prediction log of '%s': %d answered rows could not be written to %s before the "
            "stop (%s); they are lost",
            self.model,
            lost,
            self.folder,
            self.failing,
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break  # close() writes the rest, with its deadline
            with contextlib.suppress(Exception):  # counted and logged by flush; rows kept
                self.flush(pause=0.0002)

    def flush(self, pause: float = 0.0, timeout: float = -1) -> Path | None:
        """Write the buffer as one segment now; its path, or ``None`` when empty.

        The buffer is turned into columns a slice of :data:`SLICE` entries at a time; the
        writer thread passes a ``pause`` between slices, so that no conversion holds the
        interpreter for long against the event loop (the single-row latency tail).

        Raises:
            OSError: (or another error) the write failed; the rows are buffered again, in
                order, ahead of those that came meanwhile, and the failure is counted.
            TimeoutError: another flush held the writer for longer than ``timeout`` seconds.
        """
        import pyarrow as pa

        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError("the prediction log's writer is busy")
        try:
            entries, self._buffer = self._buffer, []
            self._rows = 0
            if not entries:
                return None
            try:
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
            except Exception as exc:
                self._buffer[:0] = entries  # keep them until written
                self._rows += sum(len(e[4]) for e in entries)
                self._failed(exc)
                raise
            self.written_rows += table.num_rows
            self.segments += 1
            if self.failing is not None:
                _log.warning(
                    "prediction log of '%s': writing to %s works again (%d rows written)",
                    self.model,
                    self.folder,
                    table.num_rows,
                )
                self.failing = None
            return path
        finally:
            self._lock.release()

    def _failed(self, exc: BaseException) -> None:
        """Count a failed write; log it when it starts an episode of failures."""
        self.errors += 1
        first = self.failing is None
        self.failing = f"{type(exc).__name__}: {exc}"
        if first:
            _log.error(
                "prediction log of '%s': cannot write to %s (%s); %d rows are kept in memory and "
                "retried every %g s (at most %d, then new ones are dropped and counted)",
                self.model,
                self.folder,
                self.failing,
                self._rows,
                self.flush_seconds,
                self.max_buffered,
            )

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
        """Write ``table`` as a new segment: a temporary file, synced, then linked to its name."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = memoryview(sink.getvalue())
        tmp = temp_path(self.folder)
        try:
            self._write_file(tmp, data)
            stamp = max(time.time_ns(), self._last_ns + 1)
            while True:
                target = self.folder / segment_name(stamp, data)
                try:
                    os.link(tmp, target)  # fails if the name exists: never overwrite a segment
                    break
                except FileExistsError:
                    stamp += 1
            self._last_ns = stamp
        finally:
            tmp.unlink(missing_ok=True)
        return target

    @staticmethod
    def _write_file(path: Path, data: memoryview) -> None:
        """Write and sync one file (a full disk raises here)."""
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
