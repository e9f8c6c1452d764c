"""The engine's 20-step pipeline on Ray: noria's per-step overhead beyond Ray's own task latency.

``python -m bench.engine.ray_steps [--address HOST:PORT] [--reps N]``

Without ``--address`` it starts a throwaway two-node cluster on the loopback (one CPU per node,
as the tests do) and stops it at the end. It measures, on one connection:

- Ray's own latency: a no-op task called and awaited, one after the other, 20 times
  (``ray.get(noop.remote(x))``), median per task;
- noria on Ray: the 20-step and the 1-step linear no-op pipelines of bench/engine
  (each step a Ray task whose worker writes its output to the artifact store), a fresh project
  per repetition; per step = (t20 - t1) / 19; overhead = per step - Ray's latency;
- the cached rerun of the 20-step pipeline (no task submitted);
- the same pipelines on the ``local`` executor, for scale.

Prints one JSON line (and a short table to stderr). Target: overhead <= 10 ms per step.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.engine import gen


def _pipelines(work: Path) -> dict[int, Any]:
    import noria

    for n in (1, 20):
        (work / f"linear{n:02d}.py").write_text(gen.noria_source(n))
    sys.path.insert(0, str(work))
    return {
        n: noria.Pipeline(importlib.import_module(f"linear{n:02d}").STEPS, name=f"linear{n:02d}")
        for n in (1, 20)
    }


def _ray_latency(reps: int) -> float:
    import ray

    @ray.remote
    def noop(x: int) -> int:
        return x

    ray.get(noop.remote(0))  # warm: a worker is up
    per_task = []
    for _ in range(reps):
        start = time.perf_counter()
        x = 0
        for _ in range(20):
            x = ray.get(noop.remote(x))
        per_task.append((time.perf_counter() - start) / 20)
    return statistics.median(per_task)


def _noria(pipes: dict[int, Any], work: Path, executor: Any, reps: int, tag: str) -> dict:
    from noria.pipeline.runner import execute
    from noria.project import Project

    def once(n: int, rep: int) -> tuple[float, float]:
        project = Project(work / f"{tag}-p{n:02d}-{rep}")
        start = time.perf_counter()
        result = execute(
            pipes[n], metadata=project.metadata, artifacts=project.artifacts, executor=executor
        )
        fresh = time.perf_counter() - start
        assert result.status == "completed" and result.cache_hits == 0
        start = time.perf_counter()
        again = execute(
            pipes[n], metadata=project.metadata, artifacts=project.artifacts, executor=executor
        )
        cached = time.perf_counter() - start
        assert again.cache_hits == n
        project.close()
        return fresh, cached

    once(20, -1)  # warm
    t1, t20, c20 = [], [], []
    for rep in range(reps):
        t1.append(once(1, rep)[0])
        fresh, cached = once(20, rep)
        t20.append(fresh)
        c20.append(cached)
    m1, m20 = statistics.median(t1), statistics.median(t20)
    return {
        "t1_s": m1,
        "t20_s": m20,
        "per_step_s": (m20 - m1) / 19,
        "cached20_s": statistics.median(c20),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine.ray_steps", description=__doc__)
    parser.add_argument("--address", help="an existing cluster (HOST:PORT); else one is started")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    import ray

    from noria.pipeline.executors import create_executor
    from noria.testing.ray_cluster import local_ray_cluster, wait_for_nodes

    src = str(Path(__file__).resolve().parents[2] / "src")
    work = Path(tempfile.mkdtemp(prefix="noria-ray-bench-"))
    pipes = _pipelines(work)
    with contextlib.ExitStack() as stack:
        address = args.address
        if address is None:
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            env = {"PYTHONPATH": src}
            cluster = stack.enter_context(local_ray_cluster(nodes=2, cpus_per_node=1, env=env))
            address = cluster.address
        t = time.perf_counter()
        ray.init(address=address, logging_level="WARNING")
        stack.callback(ray.shutdown)
        wait_for_nodes(1)
        connect_s = time.perf_counter() - t
        latency = _ray_latency(args.reps)
        on_ray = create_executor("ray", settings={"address": address})
        stack.callback(on_ray.shutdown)
        ray_figures = _noria(pipes, work, on_ray, args.reps, "ray")
        local = create_executor("local")
        stack.callback(local.shutdown)
        local_figures = _noria(pipes, work, local, args.reps, "local")
    out = {
        "ray_version": ray.__version__,
        "connect_s": connect_s,
        "ray_task_latency_s": latency,
        "ray": ray_figures,
        "overhead_per_step_s": ray_figures["per_step_s"] - latency,
        "local": local_figures,
        "reps": args.reps,
    }
    print(json.dumps(out))
    ms = 1e3
    print(
        f"Ray {ray.__version__}: task latency {latency * ms:.2f} ms; noria on Ray: "
        f"1 step {ray_figures['t1_s'] * ms:.1f} ms, 20 steps {ray_figures['t20_s'] * ms:.1f} ms, "
        f"per step {ray_figures['per_step_s'] * ms:.2f} ms, overhead beyond Ray "
        f"{out['overhead_per_step_s'] * ms:.2f} ms (target <= 10), cached rerun "
        f"{ray_figures['cached20_s'] * ms:.1f} ms; local per step "
        f"{local_figures['per_step_s'] * ms:.3f} ms",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
