"""Kedro side of the engine benchmark: Python API, SequentialRunner, MemoryDataset."""

from __future__ import annotations

import logging
from time import perf_counter

from _peer import args, check, emit, load, repeat, step_name, timed_import


def run(steps: int) -> float:
    """One fresh run of linear<steps> with a new in-memory catalog; returns seconds."""
    from kedro.io import DataCatalog
    from kedro.pipeline import pipeline
    from kedro.runner import SequentialRunner

    module = load(f"linear{steps:02d}")
    pipe = pipeline(module.NODES)
    catalog = DataCatalog()
    runner = SequentialRunner()
    start = perf_counter()
    outputs = runner.run(pipe, catalog)
    seconds = perf_counter() - start
    out = outputs[step_name(steps)]
    value = out.load() if hasattr(out, "load") else out
    check(value == 0, f"last output {value!r}")
    return seconds


def main() -> None:
    """inproc: default logging, then a variant with Kedro's logging at WARNING."""
    mode, _workdir, number = args()
    import_s = timed_import("kedro.io", "kedro.pipeline", "kedro.runner")
    import kedro

    if mode == "inproc":
        figures = repeat(lambda steps, _rep: run(steps), number)
        logging.getLogger("kedro").setLevel(logging.WARNING)
        quiet = repeat(lambda steps, _rep: run(steps), number)
        emit(
            version=kedro.__version__,
            import_s=import_s,
            **figures,
            variants={"with logging at WARNING": quiet},
        )
    else:
        seconds = run(number)
        emit(version=kedro.__version__, import_s=import_s, run_s=seconds, executed=number, cached=0)


if __name__ == "__main__":
    main()
