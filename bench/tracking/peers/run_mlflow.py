"""MLflow side of the tracking benchmark: fluent API and MlflowClient on a SQLite backend."""

from __future__ import annotations

import time
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

METRICS_SQL = "SELECT COUNT(*) FROM metrics WHERE run_uuid IN ({ids})"
PARAMS_SQL = "SELECT COUNT(*) FROM params WHERE run_uuid IN ({ids})"
RUNS_SQL = "SELECT COUNT(*) FROM runs WHERE run_uuid IN ({ids}) AND status = 'FINISHED'"


def main() -> None:
    """Import, a warm-up run creating the DB schema, then the three timed workloads, checked."""
    path = workdir()
    import_s = timed_import("mlflow")
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    db = path / "mlflow.db"
    start = perf_counter()
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    client = MlflowClient()
    with mlflow.start_run(run_name="warm-up"):  # with the client: creates the schema
        mlflow.log_metric("w", 0.0, step=0)
    first_run_s = perf_counter() - start

    with mlflow.start_run(run_name="one-by-one") as run:
        start = perf_counter()
        for i in range(ONE_BY_ONE):
            mlflow.log_metric("loss", float(i), step=i)
    one_s = perf_counter() - start  # includes end_run
    expect("one by one", count(db, METRICS_SQL, [run.info.run_id]), ONE_BY_ONE)

    keys = batch_keys()
    with mlflow.start_run(run_name="batched") as run:
        run_id = run.info.run_id
        start = perf_counter()
        for b in range(BATCHED // len(keys)):
            ts = int(time.time() * 1000)
            client.log_batch(run_id, metrics=[Metric(k, float(b), ts, b) for k in keys])
    batch_s = perf_counter() - start
    expect("batched", count(db, METRICS_SQL, [run_id]), BATCHED)

    ids: list[str] = []
    start = perf_counter()
    for r in range(RUNS):
        with mlflow.start_run(run_name=f"run-{r}") as run:
            mlflow.log_params(run_params())
            mlflow.log_metrics(run_metrics(), step=0)
        ids.append(run.info.run_id)
    runs_s = perf_counter() - start
    expect("runs", count(db, RUNS_SQL, ids), RUNS)
    expect("runs' params", count(db, PARAMS_SQL, ids), RUNS * PARAMS)
    expect("runs' metrics", count(db, METRICS_SQL, ids), RUNS * METRICS)

    emit(
        version=mlflow.__version__,
        import_s=import_s,
        first_run_s=first_run_s,
        one_rate=ONE_BY_ONE / one_s,
        batch_rate=BATCHED / batch_s,
        runs_rate=RUNS / runs_s,
    )


if __name__ == "__main__":
    main()
