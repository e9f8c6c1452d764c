"""noria side of the tracking benchmark; runs in the repository's `.venv`."""

from __future__ import annotations

from time import perf_counter

from _track import (
    BATCHED,
    METRICS,
    ONE_BY_ONE,
    PARAMS,
    RUNS,
    batch_keys,
    count,
    emit,
    expect,
    run_metrics,
    run_params,
    timed_import,
    workdir,
)

METRICS_SQL = "SELECT COUNT(*) FROM metrics WHERE run_id IN ({ids})"
PARAMS_SQL = "SELECT COUNT(*) FROM params WHERE run_id IN ({ids})"
RUNS_SQL = "SELECT COUNT(*) FROM runs WHERE id IN ({ids}) AND status = 'completed'"


def main() -> None:
    """Import, a warm-up run on a new store, then the three timed workloads, each checked."""
    path = workdir() / "project"
    import_s = timed_import("noria")
    import noria

    start = perf_counter()
    _ = (noria.start_run, noria.log_metric, noria.log_metrics, noria.log_params)
    import_s += perf_counter() - start
    db = path / ".noria" / "noria.db"

    start = perf_counter()
    with noria.start_run(name="warm-up", project=path):
        noria.log_metric("w", 0.0, step=0)
    first_run_s = perf_counter() - start

    with noria.start_run(name="one-by-one", project=path) as run:
        start = perf_counter()
        for i in range(ONE_BY_ONE):
            noria.log_metric("loss", float(i), step=i)
    one_s = perf_counter() - start  # includes the end of the run: the flush to the store
    expect("one by one", count(db, METRICS_SQL, [run.id]), ONE_BY_ONE)

    keys = batch_keys()
    with noria.start_run(name="batched", project=path) as run:
        start = perf_counter()
        for b in range(BATCHED // len(keys)):
            noria.log_metrics({k: float(b) for k in keys}, step=b)
    batch_s = perf_counter() - start
    expect("batched", count(db, METRICS_SQL, [run.id]), BATCHED)

    ids: list[str] = []
    start = perf_counter()
    for r in range(RUNS):
        with noria.start_run(name=f"run-{r}", project=path) as run:
            noria.log_params(run_params())
            noria.log_metrics(run_metrics(), step=0)
        ids.append(run.id)
    runs_s = perf_counter() - start
    expect("runs", count(db, RUNS_SQL, ids), RUNS)
    expect("runs' params", count(db, PARAMS_SQL, ids), RUNS * PARAMS)
    expect("runs' metrics", count(db, METRICS_SQL, ids), RUNS * METRICS)

    emit(
        version=getattr(noria, "__version__", ""),
        import_s=import_s,
        first_run_s=first_run_s,
        one_rate=ONE_BY_ONE / one_s,
        batch_rate=BATCHED / batch_s,
        runs_rate=RUNS / runs_s,
    )


if __name__ == "__main__":
    main()
