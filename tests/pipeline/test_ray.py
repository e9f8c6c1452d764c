"""The ray executor on a real two-node Ray cluster on the loopback (``ray start``, 1 CPU each).

Slow (the cluster takes 20-60 s to start on a busy machine), so few tests share one cluster.
Skipped where Ray is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import noria
from noria.errors import StepError
from noria.pipeline.runner import execute
from noria.store.artifacts import LocalArtifactStore
from noria.store.metadata import MetadataStore
from noria.testing.executors import check_executor, run_records

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None,
        reason="ray is not installed (pip install 'noria[ray]')",
    ),
]

SRC = str(Path(noria.__file__).resolve().parents[1])


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A head and a second node (which alone has the resource ``second_node``); this process
    is connected to it for the session. Yields the head's address."""
    import ray

    from noria.testing.ray_cluster import local_ray_cluster

    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"  # a throwaway cluster on the loopback
    env = {"PYTHONPATH": SRC, "RAY_AUTH_MODE": "disabled"}
    try:
        with local_ray_cluster(
            nodes=2,
            cpus_per_node=1,
            env=env,
            node_env={1: {"NORIA_TEST_NODE": "second"}},
            node_resources={1: {"second_node": 1}},
        ) as cluster:
            ray.init(address=cluster.address, logging_level="WARNING")
            try:
                cluster.wait_for_nodes()
                yield cluster.address
            finally:
                ray.shutdown()
    finally:
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


@pytest.fixture
def ray_executor(ray_cluster: str):
    from noria.pipeline.executors import create_executor

    ex = create_executor("ray", settings={"address": ray_cluster})
    yield ex
    ex.shutdown()  # the session's connection is not the executor's: it stays


def test_conformance_suite_on_the_cluster(ray_executor, tmp_path: Path) -> None:
    """Fingerprints, cache, lineage, retries, timeouts, failures: exactly as local."""
    check_executor(ray_executor, tmp_path)


# ------------------------------------------------------------------------------ a lost worker


def first(n: int = 4) -> list[int]:
    return list(range(n))


def victim(first: list[int], marker: str) -> int:
    """Dies with its worker (SIGKILL) the first time; returns the next."""
    import signal

    noria.log_metric("victim_started", 1)
    if not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return sum(first)


def last(victim: int) -> int:
    noria.log_metric("last", victim)
    return victim * 10


def _stores(folder: Path) -> tuple[MetadataStore, LocalArtifactStore]:
    folder.mkdir()
    return MetadataStore(f"sqlite:///{folder / 'noria.db'}"), LocalArtifactStore(folder / "a")


def test_worker_killed_mid_step_is_retried_and_records_are_exact(
    ray_executor, tmp_path: Path
) -> None:
    pipe = noria.Pipeline([first, victim, last], name="killed")
    params = {"marker": str(tmp_path / "killed-once")}
    meta_local, art_local = _stores(tmp_path / "local")
    Path(params["marker"]).write_text("local: no kill")
    expected = execute(pipe, metadata=meta_local, artifacts=art_local, params=params)
    Path(params["marker"]).unlink()

    meta, art = _stores(tmp_path / "ray")
    result = execute(pipe, metadata=meta, artifacts=art, params=params, executor=ray_executor)
    killed_pid = int(Path(params["marker"]).read_text())
    assert killed_pid != os.getpid()
    assert result.status == "completed" and result["last"] == 60
    assert result.steps["victim"].attempts == 2  # the lost start counts
    got = run_records(meta, result.run_id)
    want = run_records(meta_local, expected.run_id)
    assert got["steps"]["victim"]["attempts"] == 2 and want["steps"]["victim"]["attempts"] == 1
    got["steps"]["victim"]["attempts"] = 1
    assert got == want  # one row per step, one artifact, one cache entry, metrics once
    assert len(meta.step_runs(result.run_id)) == 3
    for artifact_id in got["artifacts"]:
        assert art.exists(artifact_id)
    meta_local.close()
    meta.close()


# ------------------------------------------------------------------------------ resources


@noria.step(resources={"cpu": 1, "second_node": 1, "memory": "10MB"})
def placed() -> str:
    return os.environ.get("NORIA_TEST_NODE", "head")


@noria.step(resources={"cpu": 2})
def too_big() -> int:
    return 1


def test_resources_place_steps_and_an_impossible_step_fails_at_once(
    ray_executor, metadata, artifacts
) -> None:
    result = execute(
        noria.Pipeline([placed]), metadata=metadata, artifacts=artifacts, executor=ray_executor
    )
    assert result["placed"] == "second"  # only the second node has `second_node`
    with pytest.raises(StepError, match=r"step 'too_big' asks for CPU=2 but no node"):
        execute(
            noria.Pipeline([too_big]),
            metadata=metadata,
            artifacts=artifacts,
            executor=ray_executor,
        )


# ------------------------------------------------------------------------------ noria.yaml


_RUN = """
import sys
sys.path.insert(0, {root!r})
import noria, steps
project = noria.Project({root!r})
result = project.run(noria.Pipeline.from_module(steps))
import os
print(result.cache_hits, result["two"], "ray" in sys.modules, os.getpid())
"""


def test_project_runs_on_the_cluster_from_noria_yaml(ray_cluster: str, tmp_path: Path) -> None:
    """A new process connects (and disconnects); its rerun, all cached, never imports Ray."""
    (tmp_path / "steps.py").write_text(
        textwrap.dedent(
            """
            import os

            def one() -> int:
                return 1

            def two(one: int) -> str:
                return f"{one + 1}@{os.getpid()}"
            """
        )
    )
    (tmp_path / "noria.yaml").write_text(
        "name: on-ray\ndata:\n  source: data.csv\ntarget: y\n"
        f"executor: ray\nray:\n  address: {ray_cluster}\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "RAY_AUTH_MODE": "disabled"}
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _RUN.format(root=str(tmp_path))],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(done.stdout.split())
    hits, value, imported, driver = outputs[0]
    assert (hits, imported) == ("0", "True")
    assert value.startswith("2@") and value != f"2@{driver}"  # computed on a worker
    assert outputs[1][:3] == ["2", value, "False"]  # from the cache; Ray never imported
