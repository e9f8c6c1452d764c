"""The runner: executes a validated plan, reusing cached outputs and recording everything.

For each step, in an order the DAG allows:

1. its fingerprint is computed from its source, params and the artifact ids of its inputs
   (:mod:`noria.pipeline.cache`);
2. on a cache hit, the earlier output's artifact id is taken and the step is recorded as
   ``cached`` — the value itself is loaded only if a step that must run needs it;
3. otherwise the step runs (with its retries and timeout) on the executor
   (:mod:`noria.pipeline.executors`: threads, processes, Ray), its output is materialized into
   the artifact store *by the worker* (:mod:`noria.pipeline.tasks`), and the step run, its
   artifacts, its lineage, its cache entry and what it logged are recorded here, on the driver.

Values pass between steps in memory within one process; the only copy to bytes is the one that
persists the output. Metadata is written in batches: after any step that took 50 ms or more, and
at the end of the run, so cheap steps cost no transaction each. Artifacts are written before the
metadata that names them, so a killed process leaves at worst an unreferenced file, never a cache
entry without its artifact; steps whose records were not yet written simply run again.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from noria import tracking
from noria.errors import NoriaError, StepError
from noria.pipeline import materializers
from noria.pipeline.cache import Fingerprinter
from noria.pipeline.dag import Pipeline, Plan
from noria.pipeline.executors import Executor, create_executor
from noria.pipeline.step import Step
from noria.pipeline.tasks import (
    Outcome,
    StepContext,
    Task,
    current_context,
    failed_outcome,
    run_task,
)
from noria.store.artifacts import ArtifactStore
from noria.store.metadata import MetadataStore

__all__ = [
    "RunObserver",
    "RunResult",
    "StepContext",
    "StepResult",
    "current_context",
    "execute",
]

#: A step that ran at least this long has its records written at once (see module docstring).
DURABLE_AFTER_S = 0.05


@dataclass(frozen=True, slots=True)
class StepResult:
    """How one step of a run ended."""

    name: str
    status: str  # completed | cached | failed
    duration: float
    fingerprint: str | None
    artifact_id: str | None
    attempts: int
    step_run_id: str
    error: str | None = None


class RunResult(Mapping[str, Any]):
    """The outcome of a run; ``result["step"]`` is a step's output value (loaded on demand)."""

    def __init__(
        self,
        *,
        run_id: str,
        pipeline: str,
        status: str,
        steps: dict[str, StepResult],
        duration: float,
        values: dict[str, Any],
        artifacts: ArtifactStore,
        metadata: MetadataStore,
    ) -> None:
        self.run_id = run_id
        self.pipeline = pipeline
        self.status = status
        self.steps = steps
        self.duration = duration
        self._values = values
        self._artifacts = artifacts
        self._metadata = metadata

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            result = self.steps[name]
            if result.artifact_id is None:
                raise KeyError(name)
            self._values[name] = load_artifact(self._metadata, self._artifacts, result.artifact_id)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def cache_hits(self) -> int:
        """How many steps were served from the cache."""
        return sum(1 for s in self.steps.values() if s.status == "cached")

    def __repr__(self) -> str:
        return (
            f"RunResult(run_id={self.run_id!r}, status={self.status!r}, steps={len(self.steps)}, "
            f"cache_hits={self.cache_hits}, duration={self.duration:.3f})"
        )


class RunObserver(Protocol):
    """Receives a run's progress (the CLI's live view is one). Called from the main thread."""

    def on_run_start(self, *, run_id: str, pipeline: str, steps: Sequence[str]) -> None: ...
    def on_step(self, *, name: str, status: str, result: StepResult | None) -> None: ...
    def on_run_end(self, *, result: RunResult) -> None: ...


def load_artifact(metadata: MetadataStore, artifacts: ArtifactStore, artifact_id: str) -> Any:
    """An artifact's value, through the materializer recorded for it (hash checked)."""
    record = metadata.artifact(artifact_id)
    return materializers.load(record["materializer"], artifacts.get(artifact_id))


# ------------------------------------------------------------------------------ executors


class _Inline:
    """Runs a task in the calling thread (an in-process executor's single ready step)."""

    def submit(self, task: Task) -> cf.Future[Outcome]:
        future: cf.Future[Outcome] = cf.Future()
        future.set_result(run_task(task))
        return future


# ------------------------------------------------------------------------------ the run


class _Recorder:
    """Collects the rows of a run and writes them in batches."""

    def __init__(self, metadata: MetadataStore, run_id: str) -> None:
        self.metadata = metadata
        self.run_id = run_id
        self.step_runs: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.lineage: list[dict[str, Any]] = []
        self.cache: list[dict[str, Any]] = []
        self.logs: list[tracking.LogBuffer] = []

    def flush(self, *, status: str | None = None, error: str | None = None) -> None:
        with self.metadata.write() as tx:
            self.metadata.insert_artifacts(tx, self.artifacts)
            self.metadata.insert_step_runs(tx, self.step_runs)
            self.metadata.insert_lineage(tx, self.lineage)
            self.metadata.insert_cache(tx, self.cache)
            for buf in self.logs:
                buf.write(self.metadata, tx)
            if status is not None:
                self.metadata.finish_run(tx, self.run_id, status=status, error=error)
        self.step_runs, self.artifacts, self.lineage, self.cache, self.logs = [], [], [], [], []


def execute(
    pipeline: Pipeline,
    *,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    params: Mapping[str, Any] | None = None,
    targets: Iterable[str] | None = None,
    executor: str | Executor = "local",
    max_workers: int | None = None,
    observer: RunObserver | None = None,
    run_name: str | None = None,
    fresh: bool = False,
    tags: Mapping[str, str] | None = None,
) -> RunResult:
    """Run a pipeline on these stores and return its result.

    Args:
        pipeline: the steps.
        metadata: where runs, lineage and the cache are recorded.
        artifacts: where outputs are stored.
        params: values for the steps' non-step parameters.
        targets: the steps wanted (with what they need); all by default.
        executor: the name of a registered executor (``"local"``: threads in this process,
            independent branches in parallel; ``"processes"``: a pool of processes, steps and
            values must pickle; ``"ray"``: Ray tasks, see :mod:`noria.pipeline.executors`), or
            an :class:`~noria.pipeline.executors.Executor`, which the caller shuts down.
        max_workers: parallel steps at most, for an executor made here from its name; the
            number of cores by default.
        observer: receives progress.
        run_name: the run's name; the pipeline's by default.
        fresh: ignore the cache (every step runs; the new outputs are cached).
        tags: tags set on the run.

    Returns:
        The run's result: per step its status, timing and artifact; outputs by name.

    Raises:
        PipelineError: the DAG is invalid (nothing was run or recorded).
        StepError: a step raised after its retries; the run is recorded as failed.
        ConfigError: unknown executor, or its settings are wrong (nothing was run or
            recorded).
    """
    plan = pipeline.validate(params, targets)
    owned = isinstance(executor, str)
    runner = create_executor(executor, max_workers=max_workers) if owned else executor
    run_id = tracking.new_run_id()
    t_start = time.perf_counter()
    metadata.create_run(
        run_id, name=run_name or pipeline.name, kind="pipeline", pipeline=pipeline.name
    )
    recorder = _Recorder(metadata, run_id)
    if tags:
        run_tags = tracking.LogBuffer(run_id)
        for k, v in tags.items():
            run_tags.tag(k, v)
        recorder.logs.append(run_tags)
    if observer is not None:
        observer.on_run_start(run_id=run_id, pipeline=pipeline.name, steps=plan.order)
    state = _RunState(
        plan=plan,
        pipeline=pipeline,
        metadata=metadata,
        artifacts=artifacts,
        recorder=recorder,
        observer=observer,
        run_id=run_id,
        fresh=fresh,
        executor=runner,
    )
    status, error_text, failure = "completed", None, None
    try:
        try:
            state.drive()
        finally:
            if owned:
                runner.shutdown()
        failure = state.failure
        if failure is not None:
            status, error_text = "failed", str(failure)
    except KeyboardInterrupt:
        recorder.flush(status="interrupted", error="interrupted (Ctrl-C)")
        raise
    except BaseException as exc:
        recorder.flush(status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    recorder.flush(status=status, error=error_text)
    result = RunResult(
        run_id=run_id,
        pipeline=pipeline.name,
        status=status,
        steps=state.results,
        duration=time.perf_counter() - t_start,
        values=state.values,
        artifacts=artifacts,
        metadata=metadata,
    )
    if observer is not None:
        observer.on_run_end(result=result)
    if failure is not None:
        raise failure
    return result


class _RunState:
    """The scheduler of one run: readiness, dispatch, completion, recording."""

    def __init__(
        self,
        *,
        plan: Plan,
        pipeline: Pipeline,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        recorder: _Recorder,
        observer: RunObserver | None,
        run_id: str,
        fresh: bool,
        executor: Executor,
    ) -> None:
        self.plan = plan
        self.pipeline = pipeline
        self.metadata = metadata
        self.artifacts = artifacts
        self.recorder = recorder
        self.observer = observer
        self.run_id = run_id
        self.fresh = fresh
        self.executor = executor
        self.in_process = executor.in_process
        self.fingerprinter = Fingerprinter(metadata)
        self.values: dict[str, Any] = {}
        self.artifact_of: dict[str, str] = {}
        self.materializer_of: dict[str, str] = {}
        self.results: dict[str, StepResult] = {}
        self.failure: StepError | None = None
        self._pending = {n: len(plan.inputs[n]) for n in plan.order}
        self._dependents: dict[str, list[str]] = {n: [] for n in plan.order}
        for n in plan.order:
            for d in plan.inputs[n]:
                self._dependents[d].append(n)
        self._needed_later: dict[str, int] = {n: len(self._dependents[n]) for n in plan.order}

    # -- helpers

    def _value(self, name: str) -> Any:
        if name not in self.values:
            data = self.artifacts.get(self.artifact_of[name])
            self.values[name] = materializers.load(self.materializer_of[name], data)
        return self.values[name]

    def _notify(self, name: str, status: str, result: StepResult | None = None) -> None:
        if self.observer is not None:
            self.observer.on_step(name=name, status=status, result=result)

    # -- scheduling

    def drive(self) -> None:
        """Dispatch ready steps until every planned step has ended or one has failed."""
        in_process = self.in_process
        executor = self.executor
        ready = [n for n in self.plan.order if self._pending[n] == 0]
        in_flight: dict[cf.Future[Outcome], tuple[str, str, str, Task]] = {}
        inline = _Inline()
        while ready or in_flight:
            while ready and self.failure is None:
                name = ready.pop(0)
                step = self.pipeline.steps[name]
                inputs = [(d, self.artifact_of[d]) for d in self.plan.inputs[name]]
                fp = self.fingerprinter.fingerprint(name, step.func, self.plan.params[name], inputs)
                hit = None
                if step.cache and not self.fresh:
                    hit = self.metadata.lookup_cache(fp)
                    if hit is not None and not self.artifacts.exists(hit[0]):
                        hit = None  # the file was removed: run again
                if hit is not None:
                    ready.extend(self._cached(name, fp, hit, dict(inputs)))
                    continue
                step_run_id = tracking.new_run_id()
                task = self._task(step, step_run_id, dict(inputs))
                self._notify(name, "running")
                if in_process and not in_flight and not ready and step.timeout is None:
                    future = inline.submit(task)  # nothing could run beside it: no hand-off
                else:
                    try:
                        future = executor.submit(task)
                    except Exception as exc:  # e.g. the cluster cannot be reached
                        future = cf.Future()
                        future.set_exception(exc)
                in_flight[future] = (name, fp, step_run_id, task)
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in done:
                name, fp, step_run_id, task = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # a worker process died or could not pickle
                    outcome = failed_outcome(task, exc)
                inputs = task.context.input_artifacts
                ready.extend(self._finished(name, fp, step_run_id, inputs, outcome))

    def _task(self, step: Step, step_run_id: str, inputs: dict[str, str]) -> Task:
        in_process = self.in_process
        kwargs = dict(self.plan.params[step.name])
        lazy: dict[str, tuple[str, str]] = {}
        for d, artifact_id in inputs.items():
            if in_process:
                kwargs[d] = self._value(d)
            elif d in self.values:
                kwargs[d] = self.values[d]
            else:
                lazy[d] = (artifact_id, self.materializer_of[d])
        ctx = StepContext(
            run_id=self.run_id,
            step=step.name,
            step_run_id=step_run_id,
            input_artifacts=inputs,
            metadata_url=self.metadata.url,
            artifacts_url=self.artifacts.url,
            _metadata=self.metadata if in_process else None,
            _artifacts=self.artifacts if in_process else None,
        )
        return Task(step, kwargs, lazy, ctx, return_value=in_process)

    def _release(self, name: str) -> list[str]:
        ready = []
        for dep in self._dependents[name]:
            self._pending[dep] -= 1
            if self._pending[dep] == 0:
                ready.append(dep)
        return ready

    def _lineage(self, step_run_id: str, inputs: dict[str, str], output: str | None) -> None:
        rows = [
            {"step_run_id": step_run_id, "direction": "in", "name": n, "artifact_id": a}
            for n, a in inputs.items()
        ]
        if output is not None:
            rows.append(
                {
                    "step_run_id": step_run_id,
                    "direction": "out",
                    "name": "output",
                    "artifact_id": output,
                }
            )
        self.recorder.lineage.extend(rows)

    def _cached(
        self, name: str, fp: str, hit: tuple[str, str, str], inputs: dict[str, str]
    ) -> list[str]:
        artifact_id, kind, source_run = hit
        step_run_id = tracking.new_run_id()
        now = time.time()
        self.recorder.step_runs.append(
            {
                "id": step_run_id,
                "run_id": self.run_id,
                "step": name,
                "fingerprint": fp,
                "status": "cached",
                "started_at": now,
                "ended_at": now,
                "duration": 0.0,
                "attempts": 0,
                "error": None,
                "output_artifact": artifact_id,
                "cached_from": source_run,
            }
        )
        self._lineage(step_run_id, inputs, artifact_id)
        self.artifact_of[name] = artifact_id
        self.materializer_of[name] = kind
        result = StepResult(name, "cached", 0.0, fp, artifact_id, 0, step_run_id)
        self.results[name] = result
        self._notify(name, "cached", result)
        return self._release(name)

    def _finished(
        self, name: str, fp: str, step_run_id: str, inputs: dict[str, str], outcome: Outcome
    ) -> list[str]:
        step = self.pipeline.steps[name]
        ok = outcome.error is None and outcome.artifact is not None
        artifact_id = outcome.artifact["id"] if ok and outcome.artifact else None
        error = None
        if not ok:
            exc = outcome.error or NoriaError("no output")
            error = f"{type(exc).__name__}: {exc}"
            self.failure = exc if isinstance(exc, StepError) else StepError(name, exc)
            if not isinstance(exc, StepError):
                self.failure.__cause__ = exc
        self.recorder.step_runs.append(
            {
                "id": step_run_id,
                "run_id": self.run_id,
                "step": name,
                "fingerprint": fp,
                "status": "completed" if ok else "failed",
                "started_at": outcome.started_at,
                "ended_at": outcome.started_at + outcome.duration,
                "duration": outcome.duration,
                "attempts": outcome.attempts,
                "error": error,
                "output_artifact": artifact_id,
                "cached_from": None,
            }
        )
        self.recorder.logs.append(outcome.logs)
        self._lineage(step_run_id, inputs, artifact_id)
        result = StepResult(
            name,
            "completed" if ok else "failed",
            outcome.duration,
            fp,
            artifact_id,
            outcome.attempts,
            step_run_id,
            error,
        )
        self.results[name] = result
        if ok and artifact_id is not None and outcome.artifact is not None:
            self.recorder.artifacts.append({**outcome.artifact, "created_at": time.time()})
            if step.cache:
                self.recorder.cache.append(
                    {
                        "fingerprint": fp,
                        "step": name,
                        "artifact_id": artifact_id,
                        "step_run_id": step_run_id,
                        "created_at": time.time(),
                    }
                )
            self.artifact_of[name] = artifact_id
            self.materializer_of[name] = outcome.artifact["materializer"]
            if self.in_process:
                self.values[name] = outcome.value
        if outcome.duration >= DURABLE_AFTER_S:
            self.recorder.flush()
        self._notify(name, result.status, result)
        return self._release(name) if ok else []
