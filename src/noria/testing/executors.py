"""The executor contract (:class:`noria.pipeline.executors.Executor`) as a pytest suite.

Whatever runs the steps, a run must leave exactly the records that the ``local`` executor
leaves: the same fingerprints, artifacts (content-addressed, so the same ids), lineage, cache
entries, attempts, errors and logged metrics, and a cache that every executor shares. Each check
runs a pipeline of the steps below with the ``local`` executor into one pair of stores and with
the executor under test into another, and compares :func:`run_records` of the two.

Subclass :class:`ExecutorSuite` and provide the ``executor`` fixture (an executor the suite
may use for several runs; the fixture shuts it down)::

    import pytest
    from noria.testing.executors import ExecutorSuite

    class TestMyExecutor(ExecutorSuite):
        @pytest.fixture
        def executor(self):
            ex = MyExecutor()
            yield ex
            ex.shutdown()

Every check is also a plain function ``check_*(executor, folder)``, and :func:`check_executor`
runs them all. The steps are defined in this module, so the workers of an executor must be able
to import ``noria`` (as they must to run any step).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import noria
from noria.errors import StepError
from noria.pipeline.dag import Pipeline
from noria.pipeline.executors import Executor
from noria.pipeline.runner import RunResult, execute
from noria.pipeline.tasks import Outcome, Task
from noria.store.artifacts import LocalArtifactStore
from noria.store.metadata import MetadataStore

__all__ = [
    "CHECKS",
    "CountingExecutor",
    "ExecutorSuite",
    "check_cache_is_shared_across_executors",
    "check_cached_rerun_never_submits",
    "check_executor",
    "check_failure_matches_local",
    "check_records_match_local",
    "check_retries_match_local",
    "check_timeout_matches_local",
    "run_records",
]

#: Seconds the ``sleepy`` step's attempts may run before they time out.
TIMEOUT_S = 0.3

# ------------------------------------------------------------------------------ the steps


def source(n: int = 6) -> list[int]:
    """The first ``n`` integers."""
    return list(range(n))


def squared(source: list[int]) -> list[int]:
    """Squares; logs a metric."""
    noria.log_metric("squared_total", sum(x * x for x in source))
    return [x * x for x in source]


def frame(source: list[int]) -> Any:
    """A small DataFrame (its materializer is Parquet, not pickle)."""
    import pandas as pd

    return pd.DataFrame({"x": source, "y": [float(x) / 2 for x in source]})


def context_seen(source: list[int]) -> str:
    """What the step's context says about itself."""
    ctx = noria.current_context()
    return f"{ctx.step}:{sorted(ctx.input_artifacts)}"


def joined(squared: list[int], frame: Any, context_seen: str) -> dict[str, Any]:
    """Joins its three inputs."""
    noria.log_metric("rows", len(frame))
    return {"squares": squared, "y": float(frame["y"].sum()), "context": context_seen}


def _count_attempt(folder: str) -> int:
    """The number of this attempt, counted in files of ``folder`` (any process, any node)."""
    os.makedirs(folder, exist_ok=True)
    k = 0
    while True:
        k += 1
        try:
            os.close(os.open(os.path.join(folder, f"attempt-{k}"), os.O_CREAT | os.O_EXCL))
            return k
        except FileExistsError:
            continue


@noria.step(retries=2)
def flaky(source: list[int], attempts_dir: str) -> int:
    """Fails on its first two attempts, then returns."""
    if _count_attempt(attempts_dir) < 3:
        raise ConnectionError("not yet")
    return len(source)


@noria.step(timeout=TIMEOUT_S, retries=1)
def sleepy(source: list[int], pause: float = 2.0) -> int:
    """Sleeps past its timeout on every attempt."""
    time.sleep(pause)
    return 0


def broken(squared: list[int]) -> int:
    """Always raises."""
    raise ValueError("broken on purpose")


def after_broken(broken: int) -> int:
    """Never runs (its input fails)."""
    return broken


def fixed(squared: list[int]) -> int:
    """What ``broken`` becomes once fixed."""
    return sum(squared)


def pipeline_ok() -> Pipeline:
    """Five steps, two branches, a DataFrame, context and metrics."""
    return Pipeline([source, squared, frame, context_seen, joined], name="conformance")


# ------------------------------------------------------------------------------ helpers


class CountingExecutor:
    """Wraps an executor and counts the tasks submitted to it (the wrapped one is not shut)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.name = inner.name
        self.in_process = inner.in_process
        self.submitted: list[str] = []

    def submit(self, task: Task) -> cf.Future[Outcome]:
        """Count, then hand over."""
        self.submitted.append(task.step.name)
        return self.inner.submit(task)

    def shutdown(self) -> None:
        """Nothing: the wrapped executor belongs to the caller."""


class _Stores:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.metadata = MetadataStore(f"sqlite:///{folder / 'noria.db'}")
        self.artifacts = LocalArtifactStore(folder / "artifacts")

    def run(self, pipe: Pipeline, executor: Executor, **kw: Any) -> RunResult:
        return execute(
            pipe, metadata=self.metadata, artifacts=self.artifacts, executor=executor, **kw
        )

    def run_failing(self, pipe: Pipeline, executor: Executor, **kw: Any) -> str:
        """Run a pipeline that must fail; the failed run's id."""
        with pytest.raises(StepError):
            self.run(pipe, executor, **kw)
        return self.metadata.list_runs(limit=1)[0].id

    def close(self) -> None:
        self.metadata.close()


def _local() -> Executor:
    from noria.pipeline.executors import create_executor

    return create_executor("local", max_workers=2)


def run_records(metadata: MetadataStore, run_id: str) -> dict[str, Any]:
    """Everything a run recorded that does not depend on when or where it ran.

    The run's status and error; per step its status, fingerprint, output artifact, attempts,
    error and whether it came from the cache; the lineage; the output artifacts' records; the
    cache entries of its completed steps; the metrics (key, value, step).
    """
    run = metadata.get_run(run_id)
    steps = {
        s.step: {
            "status": s.status,
            "fingerprint": s.fingerprint,
            "output": s.output_artifact,
            "attempts": s.attempts,
            "error": s.error,
            "from_cache": s.cached_from is not None,
        }
        for s in metadata.step_runs(run_id)
    }
    outputs = sorted({s["output"] for s in steps.values() if s["output"]})
    artifacts = {}
    for artifact_id in outputs:
        record = metadata.artifact(artifact_id)
        artifacts[artifact_id] = (record["materializer"], record["type_name"], record["size"])
    cache = {}
    for s in steps.values():
        if s["status"] == "completed" and s["fingerprint"]:
            hit = metadata.lookup_cache(s["fingerprint"])
            cache[s["fingerprint"]] = hit[0] if hit else None
    return {
        "status": run.status,
        "error": run.error,
        "steps": steps,
        "lineage": sorted(metadata.lineage_of_run(run_id)),
        "artifacts": artifacts,
        "cache": cache,
        "metrics": sorted((k, v, step) for k, v, step, _ in metadata.metrics(run_id)),
    }


def _assert_same(expected: dict[str, Any], got: dict[str, Any], executor: Executor) -> None:
    for key in expected:
        assert got[key] == expected[key], (
            f"executor '{executor.name}': the run's {key} differ from the local executor's:\n"
            f"  local: {expected[key]!r}\n  {executor.name}: {got[key]!r}"
        )


# ------------------------------------------------------------------------------ the checks


def check_records_match_local(executor: Executor, folder: Path) -> None:
    """A fresh run leaves exactly the records (and values) of the local executor."""
    ref, under = _Stores(folder / "local"), _Stores(folder / "under")
    try:
        local = _local()
        try:
            expected = ref.run(pipeline_ok(), local)
        finally:
            local.shutdown()
        got = under.run(pipeline_ok(), executor)
        assert got.status == "completed"
        assert {s.status for s in got.steps.values()} == {"completed"}
        assert got["joined"] == expected["joined"]
        assert got["frame"].equals(expected["frame"])
        assert got["context_seen"] == "context_seen:['source']"
        _assert_same(
            run_records(ref.metadata, expected.run_id),
            run_records(under.metadata, got.run_id),
            executor,
        )
        for artifact_id in run_records(under.metadata, got.run_id)["artifacts"]:
            assert under.artifacts.exists(artifact_id), f"artifact {artifact_id} not stored"
    finally:
        ref.close()
        under.close()


def check_cached_rerun_never_submits(executor: Executor, folder: Path) -> None:
    """A rerun whose steps are all cached submits nothing; ``fresh`` reruns all, same outputs."""
    stores = _Stores(folder / "stores")
    try:
        first = stores.run(pipeline_ok(), executor)
        counting = CountingExecutor(executor)
        again = stores.run(pipeline_ok(), counting)
        assert counting.submitted == [], f"a fully cached rerun submitted {counting.submitted}"
        assert again.cache_hits == len(pipeline_ok().steps)
        assert again["joined"] == first["joined"]  # loaded from the store
        fresh = stores.run(pipeline_ok(), counting, fresh=True)
        assert {s.status for s in fresh.steps.values()} == {"completed"}
        if not executor.in_process:  # (an in-process one may see lone steps run inline)
            assert sorted(counting.submitted) == sorted(pipeline_ok().steps)
        assert {n: s.artifact_id for n, s in fresh.steps.items()} == {
            n: s.artifact_id for n, s in first.steps.items()
        }
    finally:
        stores.close()


def check_cache_is_shared_across_executors(executor: Executor, folder: Path) -> None:
    """What one executor ran, the other finds in the cache, both ways."""
    stores = _Stores(folder / "stores")
    local = _local()
    try:
        stores.run(pipeline_ok(), executor)
        counting = CountingExecutor(local)
        rerun = stores.run(pipeline_ok(), counting)
        assert counting.submitted == [] and rerun.cache_hits == len(pipeline_ok().steps)
        assert rerun["joined"]["context"] == "context_seen:['source']"
        changed = stores.run(pipeline_ok(), local, params={"n": 7})
        counting = CountingExecutor(executor)
        back = stores.run(pipeline_ok(), counting, params={"n": 7})
        assert counting.submitted == [] and back["joined"] == changed["joined"]
    finally:
        local.shutdown()
        stores.close()


def check_retries_match_local(executor: Executor, folder: Path) -> None:
    """A step that fails twice and then succeeds: three attempts, the same records."""
    attempts_dir = folder / "attempts"
    pipe = Pipeline([source, flaky], name="conformance-retries")
    params = {"attempts_dir": str(attempts_dir)}  # the same value: the same fingerprints
    ref, under = _Stores(folder / "local"), _Stores(folder / "under")
    try:
        local = _local()
        try:
            expected = ref.run(pipe, local, params=params)
        finally:
            local.shutdown()
        for f in attempts_dir.iterdir():
            f.unlink()
        got = under.run(pipe, executor, params=params)
        assert got["flaky"] == 6 and got.steps["flaky"].attempts == 3
        _assert_same(
            run_records(ref.metadata, expected.run_id),
            run_records(under.metadata, got.run_id),
            executor,
        )
    finally:
        ref.close()
        under.close()


def check_timeout_matches_local(executor: Executor, folder: Path) -> None:
    """A step past its timeout on every attempt fails the same way: attempts, error, run."""
    pipe = Pipeline([source, sleepy], name="conformance-timeout")
    ref, under = _Stores(folder / "local"), _Stores(folder / "under")
    try:
        local = _local()
        try:
            expected = ref.run_failing(pipe, local)
        finally:
            local.shutdown()
        got = under.run_failing(pipe, executor)
        records = run_records(under.metadata, got)
        assert records["steps"]["sleepy"]["attempts"] == 2
        message = f"TimeoutError: timed out after {TIMEOUT_S:g} s"
        assert records["steps"]["sleepy"]["error"] == message
        _assert_same(run_records(ref.metadata, expected), records, executor)
    finally:
        ref.close()
        under.close()


def check_failure_matches_local(executor: Executor, folder: Path) -> None:
    """A failing step fails the run the same way; the fixed pipeline resumes from the cache."""
    pipe = Pipeline([source, squared, broken, after_broken], name="conformance-failure")
    ref, under = _Stores(folder / "local"), _Stores(folder / "under")
    try:
        local = _local()
        try:
            expected = ref.run_failing(pipe, local)
        finally:
            local.shutdown()
        got = under.run_failing(pipe, executor)
        records = run_records(under.metadata, got)
        assert records["status"] == "failed"
        assert records["steps"]["broken"]["error"] == "ValueError: broken on purpose"
        assert "after_broken" not in records["steps"]
        _assert_same(run_records(ref.metadata, expected), records, executor)
        counting = CountingExecutor(executor)
        resumed = under.run(
            Pipeline([source, squared, fixed], name="conformance-failure"), counting
        )
        assert resumed["fixed"] == 55
        statuses = {n: r.status for n, r in resumed.steps.items()}
        assert statuses == {"source": "cached", "squared": "cached", "fixed": "completed"}
        assert counting.submitted == ([] if executor.in_process else ["fixed"])
    finally:
        ref.close()
        under.close()


#: Every check, by name.
CHECKS: dict[str, Callable[[Executor, Path], None]] = {
    "records_match_local": check_records_match_local,
    "cached_rerun_never_submits": check_cached_rerun_never_submits,
    "cache_is_shared_across_executors": check_cache_is_shared_across_executors,
    "retries_match_local": check_retries_match_local,
    "timeout_matches_local": check_timeout_matches_local,
    "failure_matches_local": check_failure_matches_local,
}


def check_executor(executor: Executor, folder: Path) -> None:
    """Run every check on ``executor``, each in its own subfolder of ``folder``.

    Raises:
        AssertionError: the first check that fails, with what differed.
    """
    for name, check in CHECKS.items():
        check(executor, Path(folder) / name)


class ExecutorSuite:
    """Subclass and provide the ``executor`` fixture; one test per check."""

    @pytest.fixture
    def executor(self) -> Iterator[Executor]:
        """The executor under test (override)."""
        raise NotImplementedError("provide the `executor` fixture")

    @pytest.mark.parametrize("check", list(CHECKS))
    def test_executor_contract(self, executor: Executor, tmp_path: Path, check: str) -> None:
        """One check of the contract."""
        assert isinstance(executor, Executor), "not an Executor (submit, shutdown, in_process)"
        CHECKS[check](executor, tmp_path)
