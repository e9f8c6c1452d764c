"""Tracking: params, metrics (time series) and tags of runs, logged from anywhere.

Inside a pipeline step, ``noria.log_metric("loss", 0.3)`` logs to the step's run; outside, open
a run the way MLflow users expect::

    with noria.start_run(name="baseline") as run:
        noria.log_params({"alpha": 0.1})
        for epoch in range(10):
            noria.log_metric("loss", loss, step=epoch)

Logging is an append to an in-memory buffer (about a microsecond); the buffer is written in one
transaction at the end of the step or run, when it grows past :data:`FLUSH_EVERY` entries, on
:meth:`ActiveRun.flush`, and at interpreter exit. The active run is held in a context variable,
so threads and the runner's workers log to the right run.

A metric is a finite or infinite number: NaN is refused when it is logged (a store cannot hold
it, and a missing value is better said by not logging the point).

A long step says how it is going with ``noria.tracking.report_progress("14 trials, …")``: one
line, replaced by the next, that ``noria run``'s live view shows while the step runs (in this
process: the local executor). Outside a step it is a no-op.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import math
import time
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from noria.errors import UserError
from noria.store.metadata import MetadataStore

__all__ = [
    "ActiveRun",
    "LogBuffer",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "new_run_id",
    "progress",
    "report_progress",
    "set_tag",
    "start_run",
]

#: Buffered entries after which a manual run writes to the store by itself.
FLUSH_EVERY = 20_000


def new_run_id() -> str:
    """A new run or step-run id: 32 hex digits, sortable enough, unique."""
    return uuid.uuid4().hex


class LogBuffer:
    """Params, metrics and tags waiting to be written, for one run."""

    __slots__ = ("_counters", "metrics", "params", "run_id", "step", "tags")

    def __init__(self, run_id: str, step: str | None = None) -> None:
        self.run_id = run_id
        self.step = step  # the pipeline step logging here (progress is shown per step)
        self.params: list[tuple[str, str, Any]] = []
        self.metrics: list[tuple[str, str, float, int, float]] = []
        self.tags: list[tuple[str, str, str]] = []
        self._counters: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.params) + len(self.metrics) + len(self.tags)

    def param(self, key: str, value: Any) -> None:
        self.params.append((self.run_id, _key(key, "param"), value))

    def metric(self, key: str, value: float, step: int | None) -> None:
        _key(key, "metric")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UserError(f"metric '{key}': {value!r} is not a number; log a float") from None
        if math.isnan(number):
            at = "" if step is None else f" at step {step}"
            raise UserError(
                f"metric '{key}'{at} is NaN, which the store cannot hold; skip the point "
                "(log nothing) when there is no value"
            )
        if step is None:
            step = self._counters.get(key, 0)
        self._counters[key] = int(step) + 1
        self.metrics.append((self.run_id, key, number, int(step), time.time()))

    def tag(self, key: str, value: Any) -> None:
        self.tags.append((self.run_id, _key(key, "tag"), str(value)))

    def write(self, store: MetadataStore, tx: Any | None = None) -> None:
        """Write and clear the buffer, inside ``tx`` when given."""
        if not len(self):
            return
        if tx is None:
            with store.write() as own:
                store.log_batch(own, params=self.params, metrics=self.metrics, tags=self.tags)
        else:
            store.log_batch(tx, params=self.params, metrics=self.metrics, tags=self.tags)
        self.params, self.metrics, self.tags = [], [], []


def _key(key: str, kind: str) -> str:
    if not isinstance(key, str) or not key or len(key) > 250:
        raise UserError(f"{kind} key {key!r} must be a non-empty string of at most 250 characters")
    return key


_active: contextvars.ContextVar[LogBuffer | None] = contextvars.ContextVar(
    "noria_active_run", default=None
)
_open_runs: weakref.WeakSet[ActiveRun] = weakref.WeakSet()


def _buffer(what: str) -> LogBuffer:
    buf = _active.get()
    if buf is None:
        raise UserError(
            f"{what} outside a run: call it inside a pipeline step, or inside "
            "`with noria.start_run(name=...):`"
        )
    return buf


def log_param(key: str, value: Any) -> None:
    """Log one param (JSON-able value) of the active run."""
    _buffer(f"log_param({key!r})").param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log several params of the active run."""
    buf = _buffer("log_params()")
    for k, v in params.items():
        buf.param(k, v)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Log one point of a metric; ``step`` defaults to the key's next index (0, 1, 2, …)."""
    buf = _buffer(f"log_metric({key!r})")
    buf.metric(key, value, step)
    if len(buf) >= FLUSH_EVERY:
        _flush_manual()


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log several metrics at the same step."""
    buf = _buffer("log_metrics()")
    for k, v in metrics.items():
        buf.metric(k, v, step)
    if len(buf) >= FLUSH_EVERY:
        _flush_manual()


def _flush_manual() -> None:
    """A full buffer of a manual run is written now; a step's buffer waits for the step's end."""
    run = _manual.get()
    if run is not None and run.buffer is _active.get():
        run.flush()


def set_tag(key: str, value: Any) -> None:
    """Set a tag (a string) on the active run."""
    _buffer(f"set_tag({key!r})").tag(key, value)


_manual: contextvars.ContextVar[ActiveRun | None] = contextvars.ContextVar(
    "noria_manual_run", default=None
)


class ActiveRun:
    """A run opened by :func:`start_run`; a context manager that ends it.

    Attributes:
        id: the run id.
        name: the run's name.
    """

    def __init__(
        self, store: MetadataStore, *, name: str, kind: str = "manual", parent_id: str | None = None
    ) -> None:
        self.id = new_run_id()
        self.name = name
        self.store = store
        self.buffer = LogBuffer(self.id)
        self.status = "running"
        store.create_run(self.id, name=name, kind=kind, parent_id=parent_id)
        self._tokens: list[tuple[contextvars.Token[Any], contextvars.Token[Any]]] = []
        self._activate()
        _open_runs.add(self)

    def _activate(self) -> None:
        self._tokens.append((_active.set(self.buffer), _manual.set(self)))

    def flush(self) -> None:
        """Write what was logged so far."""
        self.buffer.write(self.store)

    def end(self, status: str = "completed", error: str | None = None) -> None:
        """Flush and mark the run ``completed`` (or ``failed``/``interrupted``); idempotent."""
        if self.status != "running":
            return
        self.status = status
        with self.store.write() as tx:
            self.buffer.write(self.store, tx)
            self.store.finish_run(tx, self.id, status=status, error=error)
        while self._tokens:
            active, manual = self._tokens.pop()
            try:
                _active.reset(active)
                _manual.reset(manual)
            except ValueError:  # ended from another context: just clear this one
                _active.set(None)
                _manual.set(None)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.end("completed")
        elif isinstance(exc, KeyboardInterrupt):
            self.end("interrupted", error="KeyboardInterrupt")
        else:
            self.end("failed", error=f"{type(exc).__name__}: {exc}")

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self.name!r}, status={self.status!r})"


def start_run(
    store: MetadataStore, *, name: str | None = None, parent_id: str | None = None
) -> ActiveRun:
    """Open a manual run on ``store`` and make it the active run of this context."""
    if name is not None and not isinstance(name, str):
        raise UserError(f"run name must be a string, got {name!r}")
    return ActiveRun(store, name=name or time.strftime("run-%Y%m%d-%H%M%S"), parent_id=parent_id)


def activate(
    buffer: LogBuffer | None, *, step: str | None = None
) -> contextvars.Token[LogBuffer | None]:
    """Make ``buffer`` the target of logging in this context (the runner does this per step,
    naming the ``step``: its progress is then shown under that name)."""
    if buffer is not None and step is not None:
        buffer.step = step
    return _active.set(buffer)


def deactivate(token: contextvars.Token[LogBuffer | None]) -> None:
    """Undo :func:`activate`; the step's progress line is dropped."""
    buf = _active.get()
    _active.reset(token)
    if buf is not None:
        _progress.pop((buf.run_id, buf.step), None)


#: (run id, step) -> the latest progress line of a running step
_progress: dict[tuple[str, str | None], str] = {}


def report_progress(message: str) -> None:
    """Say in one line how the active step is going (``noria run`` shows it while the step runs).

    The line replaces the step's previous one and goes when the step ends. Outside a run, or in a
    step run in another process, nobody is shown it: a no-op.
    """
    buf = _active.get()
    if buf is not None:
        _progress[(buf.run_id, buf.step)] = " ".join(str(message).split())[:200]


def progress(run_id: str, step: str | None) -> str | None:
    """The latest progress line of ``step`` of run ``run_id`` while it runs, else ``None``."""
    return _progress.get((run_id, step))


@atexit.register
def _end_open_runs() -> None:
    for run in list(_open_runs):
        with contextlib.suppress(Exception):
            run.end("completed")
