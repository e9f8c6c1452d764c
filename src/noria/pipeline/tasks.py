"""The worker side of a run: a step's task, what it returns, and the code that runs it.

An executor (:mod:`noria.pipeline.executors`) receives a :class:`Task` and hands back, through a
future, an :class:`Outcome`: wherever it runs — a thread of the runner's process, a pool
process, a Ray worker on another machine — :func:`run_task` loads the inputs it was not given,
calls the step with its retries and timeout, and writes the output *itself* into the artifact
store named by the task's context. The runner, on the driver, records the metadata.

A task crosses to another process as bytes made by :func:`pack` (cloudpickle, the user's step
functions by value); :func:`run_packed` is the other end.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from noria import tracking
from noria.errors import NoriaError
from noria.pipeline import materializers
from noria.pipeline.step import Step
from noria.store.artifacts import ArtifactStore, open_artifact_store
from noria.store.metadata import MetadataStore

__all__ = [
    "Outcome",
    "StepContext",
    "Task",
    "current_context",
    "failed_outcome",
    "pack",
    "run_packed",
    "run_task",
]


@dataclass
class StepContext:
    """What a running step can know about where it runs (``noria.current_context()``)."""

    run_id: str
    step: str
    step_run_id: str
    input_artifacts: dict[str, str]
    metadata_url: str
    artifacts_url: str
    _metadata: MetadataStore | None = field(default=None, repr=False)
    _artifacts: ArtifactStore | None = field(default=None, repr=False)

    @property
    def metadata(self) -> MetadataStore:
        """The run's metadata store (opened in this process on first use)."""
        if self._metadata is None:
            self._metadata = MetadataStore(self.metadata_url)
        return self._metadata

    @property
    def artifacts(self) -> ArtifactStore:
        """The run's artifact store."""
        if self._artifacts is None:
            self._artifacts = open_artifact_store(self.artifacts_url)
        return self._artifacts

    def __getstate__(self) -> dict[str, Any]:  # open stores do not cross processes
        state = {k: getattr(self, k) for k in self.__dataclass_fields__}
        state["_metadata"] = state["_artifacts"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)


_context: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "noria_step_context", default=None
)


def current_context() -> StepContext:
    """The context of the step running in this thread.

    Raises:
        NoriaError: called outside a step.
    """
    ctx = _context.get()
    if ctx is None:
        raise NoriaError("current_context() is only available inside a running step")
    return ctx


@dataclass
class Task:
    """One step to run, with what it needs.

    Attributes:
        step: the step (its function, retries, timeout, resources).
        kwargs: its params, and the input values already in memory.
        lazy_inputs: inputs to load from the artifact store first: name -> (artifact id,
            materializer).
        context: the step's context; its store URLs say where the output goes.
        return_value: whether the outcome carries the output value back (in-process
            executors); otherwise only its artifact travels back.
    """

    step: Step
    kwargs: dict[str, Any]
    lazy_inputs: dict[str, tuple[str, str]]
    context: StepContext
    return_value: bool


@dataclass
class Outcome:
    """How a task ended, as the worker saw it.

    Attributes:
        value: the output value (only if the task asked for it back).
        artifact: the stored output: ``id``, ``materializer``, ``type_name``, ``size``.
        logs: what the step logged (params, metrics, tags), for the driver to write.
        attempts: how many times the step was started.
        started_at: wall-clock start (seconds since the epoch).
        duration: seconds from the first attempt to the stored output or the last failure.
        error: why the step failed, if it did.
    """

    value: Any
    artifact: dict[str, Any] | None
    logs: tracking.LogBuffer
    attempts: int
    started_at: float
    duration: float
    error: BaseException | None = None


def failed_outcome(task: Task, error: BaseException, attempts: int = 1) -> Outcome:
    """The outcome of a task that could not run at all (a lost worker, an unpicklable value)."""
    return Outcome(
        None, None, tracking.LogBuffer(task.context.run_id), attempts, time.time(), 0.0, error
    )


def _attempt(step: Step, kwargs: dict[str, Any]) -> Any:
    if step.timeout is None:
        return step.func(**kwargs)
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(step.func, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"noria-step-{step.name}", daemon=True)
    thread.start()
    thread.join(step.timeout)
    if thread.is_alive():
        # A Python thread cannot be killed: the attempt is abandoned and left to finish alone.
        raise TimeoutError(f"timed out after {step.timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _work(task: Task) -> Outcome:
    ctx = task.context
    kwargs = dict(task.kwargs)
    for name, (artifact_id, kind) in task.lazy_inputs.items():
        kwargs[name] = materializers.load(kind, ctx.artifacts.get(artifact_id))
    logs = tracking.LogBuffer(ctx.run_id)
    log_token = tracking.activate(logs, step=ctx.step)
    ctx_token = _context.set(ctx)
    started = time.time()
    t0 = time.perf_counter()
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                value = _attempt(task.step, kwargs)
                break
            except Exception as exc:
                if attempts > task.step.retries:
                    elapsed = time.perf_counter() - t0
                    return Outcome(None, None, logs, attempts, started, elapsed, exc)
        kind, data = materializers.dump(value)
        artifact_id = ctx.artifacts.put(data)
        artifact = {
            "id": artifact_id,
            "materializer": kind,
            "type_name": f"{type(value).__module__}.{type(value).__qualname__}",
            "size": len(data),
        }
        return Outcome(
            value if task.return_value else None,
            artifact,
            logs,
            attempts,
            started,
            time.perf_counter() - t0,
        )
    except Exception as exc:  # materializing failed: the step's output cannot be stored
        return Outcome(None, None, logs, attempts, started, time.perf_counter() - t0, exc)
    finally:
        _context.reset(ctx_token)
        tracking.deactivate(log_token)


def run_task(task: Task) -> Outcome:
    """Run one step with its retries and timeout, and store its output; never raises.

    Runs in a fresh copy of the calling thread's context variables, so a step's context and
    logging never leak into the caller's.
    """
    return contextvars.copy_context().run(_work, task)


def pack(task: Task) -> bytes:
    """A task as bytes for another process.

    The user's step functions travel by value (cloudpickle), since the module that defined them
    (a notebook, a test, a file loaded from ``steps.module``) may not be importable there;
    noria's own steps travel by reference.
    """
    import sys

    import cloudpickle

    module_name = getattr(task.step.func, "__module__", None) or ""
    module = sys.modules.get(module_name)
    if module is not None and module_name != "__main__" and not module_name.startswith("noria."):
        cloudpickle.register_pickle_by_value(module)
    return cloudpickle.dumps(task)


def run_packed(blob: bytes) -> Outcome:
    """:func:`run_task` of a task made by :func:`pack` (the other process's end)."""
    import pickle

    return run_task(pickle.loads(blob))
