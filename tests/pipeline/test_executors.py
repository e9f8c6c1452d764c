"""Executors: the registry, the shipped conformance suite over local and processes, resources,
and the Ray executor's checks that need no cluster (tests/pipeline/test_ray.py has the rest)."""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import noria
from noria.errors import ConfigError, PipelineError, StepError
from noria.pipeline.executors import (
    Executor,
    create_executor,
    executor_names,
    register_executor,
)
from noria.pipeline.executors.local import LocalExecutor
from noria.pipeline.runner import execute
from noria.pipeline.tasks import Outcome, Task, run_task
from noria.testing.executors import ExecutorSuite, pipeline_ok

HAS_RAY = importlib.util.find_spec("ray") is not None
SRC = str(Path(noria.__file__).resolve().parents[1])


class TestLocalExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self):
        ex = create_executor("local", max_workers=2)
        yield ex
        ex.shutdown()


class TestProcessExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self):
        ex = create_executor("processes", max_workers=2)
        yield ex
        ex.shutdown()


class _SerialExecutor:
    """A user's own executor: one task at a time, on a thread of its own."""

    name = "serial"
    in_process = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.pool = cf.ThreadPoolExecutor(1)
        self.calls = 0

    def submit(self, task: Task) -> cf.Future[Outcome]:
        self.calls += 1
        return self.pool.submit(run_task, task)

    def shutdown(self) -> None:
        self.pool.shutdown()


class TestUsersOwnExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self):
        ex = _SerialExecutor()
        yield ex
        ex.shutdown()


def test_registry_names_and_unknown_name(metadata, artifacts) -> None:
    assert {"local", "processes", "ray"} <= set(executor_names())
    with pytest.raises(
        ConfigError, match=r"executor 'proceses' is unknown \(did you mean 'processes'"
    ):
        execute(pipeline_ok(), metadata=metadata, artifacts=artifacts, executor="proceses")
    assert metadata.list_runs() == []  # refused before anything was recorded


def test_registered_executor_is_used_by_name(metadata, artifacts) -> None:
    made: list[_SerialExecutor] = []

    def factory(max_workers=None, **settings):
        made.append(_SerialExecutor(max_workers))
        return made[-1]

    register_executor("serial-test", factory)
    result = execute(pipeline_ok(), metadata=metadata, artifacts=artifacts, executor="serial-test")
    assert result.status == "completed" and isinstance(made[0], Executor)
    # the runner runs a lone ready step itself; the two branches go to the executor
    assert made[0].calls >= 2
    assert made[0].pool._shutdown  # made by the runner from a name: shut down by it too


def test_executor_passed_in_is_left_open(metadata, artifacts) -> None:
    ex = LocalExecutor(2)
    execute(pipeline_ok(), metadata=metadata, artifacts=artifacts, executor=ex)
    assert ex._pool is not None  # still usable by its owner
    execute(pipeline_ok(), metadata=metadata, artifacts=artifacts, executor=ex, fresh=True)
    ex.shutdown()


def test_executor_that_cannot_submit_fails_the_step(metadata, artifacts) -> None:
    class Refusing(_SerialExecutor):
        def submit(self, task: Task) -> cf.Future[Outcome]:
            raise OSError("no workers left")

    ex = Refusing()
    with pytest.raises(StepError, match="OSError: no workers left"):
        execute(pipeline_ok(), metadata=metadata, artifacts=artifacts, executor=ex)
    ex.shutdown()
    run = metadata.list_runs(limit=1)[0]
    assert run.status == "failed"


def test_step_resources_are_parsed_and_checked() -> None:
    @noria.step(resources={"cpu": 2, "gpu": 1, "memory": "4GB", "accelerator_x": 0.5})
    def heavy() -> int:
        return 1

    step = noria.Pipeline([heavy]).steps["heavy"]
    assert step.resources == {"cpu": 2.0, "gpu": 1.0, "memory": 4e9, "accelerator_x": 0.5}
    assert noria.step(resources={"memory": "1.5GiB"})(heavy).__noria_step__.resources == {
        "memory": float(int(1.5 * 2**30))
    }
    with pytest.raises(PipelineError, match=r"step 'heavy': resources memory '4 parsecs'"):
        noria.step(resources={"memory": "4 parsecs"})(heavy)
    with pytest.raises(PipelineError, match=r"step 'heavy': resources cpu must be >= 0"):
        noria.step(resources={"cpu": -1})(heavy)
    with pytest.raises(PipelineError, match=r"resources gpu must be a number"):
        noria.step(resources={"gpu": "one"})(heavy)


def test_resources_do_not_change_the_fingerprint(metadata, artifacts) -> None:
    def plain() -> int:
        return 3

    first = execute(noria.Pipeline([plain]), metadata=metadata, artifacts=artifacts)
    placed = noria.step(resources={"cpu": 4})(plain)
    again = execute(noria.Pipeline([placed]), metadata=metadata, artifacts=artifacts)
    assert again.steps["plain"].status == "cached"
    assert again.steps["plain"].fingerprint == first.steps["plain"].fingerprint


# ------------------------------------------------------------------------------ ray, no cluster


def _project(tmp_path: Path, ray_block: str) -> Path:
    (tmp_path / "steps.py").write_text(
        textwrap.dedent(
            """
            def one() -> int:
                return 1

            def two(one: int) -> int:
                return one + 1
            """
        )
    )
    (tmp_path / "noria.yaml").write_text(
        "name: exec-test\ndata:\n  source: data.csv\ntarget: y\n"
        f"executor: ray\nray:\n{textwrap.indent(ray_block, '  ')}\n"
    )
    return tmp_path


_RUN = """
import sys
sys.path.insert(0, {root!r})
import noria, steps
project = noria.Project({root!r})
result = project.run(noria.Pipeline.from_module(steps))
print(result.cache_hits, "ray" in sys.modules)
"""


@pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'noria[ray]')")
def test_unreachable_ray_address_is_one_line_before_any_work(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    from tests.conftest import cli

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = _project(tmp_path, f"address: 127.0.0.1:{port}")
    project = noria.Project(root)
    with pytest.raises(ConfigError) as info:
        project.run(noria.Pipeline.from_module(_import_steps(root)))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"ray.address: cannot reach Ray at 127.0.0.1:{port} (")
    assert project.runs() == []  # nothing was started or recorded
    project.close()
    code, _, err = cli(capsys, "run", "--path", str(root))  # the CLI: exit 2, one line
    assert code == 2
    assert f"ray.address: cannot reach Ray at 127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1, err
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))  # where `ray start` would have written
    with pytest.raises(ConfigError, match=r"ray.address: 'auto' found no running Ray cluster"):
        create_executor("ray", settings={"address": "auto"})


def _import_steps(root: Path):
    sys.path.insert(0, str(root))
    try:
        sys.modules.pop("steps", None)
        import steps

        return steps
    finally:
        sys.path.remove(str(root))


@pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'noria[ray]')")
def test_cached_rerun_on_ray_never_imports_ray(tmp_path: Path) -> None:
    """Every step cached (here by a local run: same fingerprints): Ray is never even imported."""
    listener = socket.socket()  # stands for the cluster: the address check only connects
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        root = _project(tmp_path, f"address: 127.0.0.1:{listener.getsockname()[1]}")
        project = noria.Project(root)
        project.run(noria.Pipeline.from_module(_import_steps(root)), executor="local")
        project.close()
        done = subprocess.run(
            [sys.executable, "-c", _RUN.format(root=str(root))],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["2", "False"]
    finally:
        listener.close()
