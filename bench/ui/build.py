"""Build the dashboard benchmark's store: 100,000 runs, a 1,000,000-point history, 1,000 trials.

A real project (``noria.yaml`` from ``Project.init`` on the penguins) whose metadata store is
filled through the store's public write API (``insert_runs``, ``log_batch``) in large
transactions: the fastest route that still writes what ``noria run`` and tracking write.

    python -m bench.ui.build DIR [--runs 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

FAMILIES = ("lightgbm", "linear", "random_forest", "extra_trees", "hist_gradient_boosting")
PARAMS = 10
METRICS = 10


def build(root: Path, runs: int = 100_000, history: int = 1_000_000, trials: int = 1_000) -> dict:
    """Create the project in ``root``; returns the ids the benchmark opens."""
    from noria.cli.demo import write_demo_data
    from noria.project import Project

    root.mkdir(parents=True, exist_ok=True)
    data = write_demo_data(root / "data")
    project = Project.init(root, data=str(data), target="species", name="bench", force=True)
    store = project.metadata
    rng = random.Random(0)
    start = time.time() - runs * 60
    batch = 5_000

    def rows(n: int, parent: str | None, kind: str, offset: int, prefix: str) -> list[dict]:
        return [
            {
                "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "name": f"{prefix}-{offset + i}",
                "kind": kind,
                "parent_id": parent,
                "status": "completed" if rng.random() > 0.03 else "failed",
                "started_at": start + (offset + i) * 60.0,
                "ended_at": start + (offset + i) * 60.0 + rng.uniform(1, 600),
            }
            for i in range(n)
        ]

    def fill(records: list[dict]) -> None:
        params, metrics = [], []
        for r in records:
            rid, t = r["id"], r["ended_at"]
            params.append((rid, "family", rng.choice(FAMILIES)))
            for k in range(1, PARAMS):
                params.append((rid, f"p{k}", round(rng.uniform(0, 1), 4)))
            for k in range(METRICS):
                metrics.append((rid, f"m{k}", rng.random(), 0, t))
        with store.write() as tx:
            store.insert_runs(tx, records)
            store.log_batch(tx, params=params, metrics=metrics)

    made = 0
    while made < runs:
        n = min(batch, runs - made)
        fill(rows(n, None, "manual", made, "run"))
        made += n
    search = rows(1, None, "pipeline", runs, "search")
    fill(search)
    search_id = search[0]["id"]
    fill(rows(trials, search_id, "trial", 0, "trial"))
    long = rows(1, None, "manual", runs + 1, "long-history")
    fill(long)
    long_id = long[0]["id"]
    for lo in range(0, history, 100_000):
        points = [
            (long_id, "loss", 1.0 / (s + 1) + rng.random() * 0.01, s, start + s)
            for s in range(lo, min(lo + 100_000, history))
        ]
        with store.write() as tx:
            store.log_batch(tx, metrics=points)
    project.close()
    return {"search": search_id, "long": long_id}


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args(argv)
    t = time.perf_counter()
    ids = build(args.dir, args.runs)
    print(ids, f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
