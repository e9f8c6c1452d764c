"""Running pipelines: caching, lineage, parallel branches, retries, timeouts, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import noria
from noria.errors import StepError
from noria.pipeline.runner import execute
from noria.store.artifacts import LocalArtifactStore
from noria.store.metadata import MetadataStore

CALLS: list[str] = []


def numbers(n: int = 5) -> list[int]:
    CALLS.append("numbers")
    return list(range(n))


def doubled(numbers: list[int]) -> list[int]:
    CALLS.append("doubled")
    return [2 * x for x in numbers]


def total(doubled: list[int]) -> int:
    CALLS.append("total")
    noria.log_metric("total", sum(doubled))
    return sum(doubled)


PIPE = noria.Pipeline([numbers, doubled, total], name="arith")


def run(metadata: MetadataStore, artifacts: LocalArtifactStore, pipe=PIPE, **kw):
    return execute(pipe, metadata=metadata, artifacts=artifacts, **kw)


def test_run_records_outputs_lineage_and_metrics(metadata, artifacts) -> None:
    CALLS.clear()
    result = run(metadata, artifacts)
    assert result.status == "completed" and result["total"] == 20
    assert metadata.get_run(result.run_id).status == "completed"
    steps = {s.step: s for s in metadata.step_runs(result.run_id)}
    assert {s.status for s in steps.values()} == {"completed"}
    lineage = metadata.lineage_of_run(result.run_id)
    doubled_in = [a for step, d, name, a in lineage if step == "doubled" and d == "in"]
    assert doubled_in == [steps["numbers"].output_artifact]
    assert [(k, v) for k, v, _, _ in metadata.metrics(result.run_id)] == [("total", 20.0)]


def test_second_run_is_served_from_cache_without_loading(metadata, artifacts) -> None:
    run(metadata, artifacts)
    CALLS.clear()
    again = run(metadata, artifacts)
    assert CALLS == []
    assert again.cache_hits == 3
    assert again["total"] == 20  # loaded from the artifact store on demand


def test_param_change_reruns_only_downstream_of_it(metadata, artifacts) -> None:
    run(metadata, artifacts)
    CALLS.clear()
    result = run(metadata, artifacts, params={"n": 6})
    assert CALLS == ["numbers", "doubled", "total"]
    assert result["total"] == 30


def test_same_output_upstream_keeps_downstream_cached(metadata, artifacts) -> None:
    run(metadata, artifacts)

    def numbers(n: int = 5) -> list[int]:  # new source, same output
        return [i for i in range(n)]

    CALLS.clear()
    result = run(metadata, artifacts, pipe=PIPE.with_steps([numbers]))
    assert result.steps["numbers"].status == "completed"
    assert result.steps["doubled"].status == "cached"
    assert CALLS == []


def test_fresh_ignores_cache(metadata, artifacts) -> None:
    run(metadata, artifacts)
    CALLS.clear()
    run(metadata, artifacts, fresh=True)
    assert CALLS == ["numbers", "doubled", "total"]


def test_independent_branches_run_in_parallel(metadata, artifacts) -> None:
    barrier = threading.Barrier(2, timeout=10)

    def left() -> str:
        barrier.wait()  # only returns when `right` is running at the same time
        return "l"

    def right() -> str:
        barrier.wait()
        return "r"

    def join(left: str, right: str) -> str:
        return left + right

    pipe = noria.Pipeline([left, right, join])
    assert run(metadata, artifacts, pipe=pipe, max_workers=2)["join"] == "lr"


def test_retries_then_succeeds(metadata, artifacts) -> None:
    attempts = []

    @noria.step(retries=2)
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return 42

    result = run(metadata, artifacts, pipe=noria.Pipeline([flaky]))
    assert result["flaky"] == 42 and result.steps["flaky"].attempts == 3


def test_timeout_fails_the_step(metadata, artifacts) -> None:
    stop = threading.Event()

    @noria.step(timeout=0.2)
    def slow() -> int:
        stop.wait(30)
        return 1

    with pytest.raises(StepError, match="step 'slow' failed: TimeoutError"):
        run(metadata, artifacts, pipe=noria.Pipeline([slow]))
    stop.set()


def test_failing_step_marks_run_failed_and_next_run_resumes(metadata, artifacts) -> None:
    def total(doubled: list[int]) -> int:
        raise ValueError("bad total")

    with pytest.raises(StepError, match="step 'total' failed: ValueError: bad total"):
        run(metadata, artifacts, pipe=PIPE.with_steps([total]))
    failed = metadata.list_runs(limit=1)[0]
    assert failed.status == "failed" and "bad total" in (failed.error or "")
    statuses = {s.step: s.status for s in metadata.step_runs(failed.id)}
    assert statuses == {"numbers": "completed", "doubled": "completed", "total": "failed"}
    CALLS.clear()
    result = run(metadata, artifacts)  # fixed: the upstream steps come from the cache
    assert CALLS == ["total"] and result["total"] == 20


def test_processes_executor(metadata, artifacts) -> None:
    result = run(metadata, artifacts, executor="processes", max_workers=2)
    assert result["total"] == 20
    assert [k for k, _, _, _ in metadata.metrics(result.run_id)] == ["total"]


def _start_and_stop(tmp_path: Path, sig: int, first_sleep: float) -> None:
    """Run a two-step pipeline in a child process and send it ``sig`` during the second step."""
    marker = tmp_path / "started"
    module = tmp_path / "killsteps.py"
    module.write_text(
        textwrap.dedent(
            f"""
            import time, pathlib

            def first() -> int:
                time.sleep({first_sleep})
                return 1

            def second(first: int) -> int:
                pathlib.Path({str(marker)!r}).write_text("x")
                time.sleep(60)
                return first + 1
            """
        )
    )
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "import noria, killsteps\n"
        f"noria.Project({str(tmp_path)!r}).run(noria.Pipeline.from_module(killsteps))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(600):
        if marker.exists() or proc.poll() is not None:
            break
        threading.Event().wait(0.05)
    assert marker.exists(), "the child never reached the second step"
    os.kill(proc.pid, sig)
    assert proc.wait(30) != 0


def _resume(tmp_path: Path) -> None:
    """The stopped run is recorded as interrupted and the next run reuses ``first``."""
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop("killsteps", None)  # each test writes its own
    try:
        import killsteps

        def second(first: int) -> int:
            return first + 1

        project = noria.Project(tmp_path)
        killed = project.runs()[0]
        assert killed.status == "interrupted"  # marked when the store was next opened
        result = project.run(noria.Pipeline.from_module(killsteps).with_steps([second]))
        assert result.steps["first"].status == "cached"
        assert result["second"] == 2
        project.close()
    finally:
        sys.path.remove(str(tmp_path))


def test_kill_9_leaves_store_consistent_and_run_resumes(tmp_path: Path) -> None:
    """Killed mid-step: steps already written (those of 50 ms or more) are reused."""
    _start_and_stop(tmp_path, signal.SIGKILL, first_sleep=0.1)
    _resume(tmp_path)


def test_ctrl_c_records_finished_steps_and_run_resumes(tmp_path: Path) -> None:
    """Ctrl-C mid-step: every finished step is written, however short, before the exit."""
    _start_and_stop(tmp_path, signal.SIGINT, first_sleep=0)
    _resume(tmp_path)
