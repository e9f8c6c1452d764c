"""Prefect 3 side of the engine benchmark: `@flow` calling `@task`s, temporary local server."""

from __future__ import annotations

from collections import Counter
from time import perf_counter

from _peer import args, check, emit, load, repeat, timed_import


def run(steps: int) -> tuple[float, float, Counter[str]]:
    """Call the flow of linear<steps>; (seconds, seconds inside the flow, task state names)."""
    module = load(f"linear{steps:02d}")
    start = perf_counter()
    value, states, inflow = module.linear()
    seconds = perf_counter() - start
    check(value == 0, f"last output {value!r}")
    check(len(states) == steps, f"{len(states)} task states, not {steps}")
    return seconds, inflow, Counter(states)


def main() -> None:
    """inproc: cached tasks forced to execute (refresh_cache); once: a plain (cacheable) run."""
    mode, _workdir, number = args()
    import_s = timed_import("prefect")
    import prefect
    from prefect.settings import PREFECT_TASKS_REFRESH_CACHE, temporary_settings

    if mode == "inproc":
        inflow: dict[str, list[float]] = {"t1": [], "t20": []}

        def one(steps: int, rep: int) -> float:
            seconds, inside, states = run(steps)
            check(states["Completed"] == steps, f"expected executed tasks, got {states}")
            if rep >= 0:
                inflow[f"t{steps}"].append(inside)
            return seconds

        with temporary_settings({PREFECT_TASKS_REFRESH_CACHE: True}):
            figures = repeat(one, number)
        emit(
            version=prefect.__version__,
            import_s=import_s,
            **figures,
            variants={"inside the flow (first task call to last result)": inflow},
        )
    else:
        seconds, _inside, states = run(number)
        emit(
            version=prefect.__version__,
            import_s=import_s,
            run_s=seconds,
            executed=states["Completed"],
            cached=states["Cached"],
        )


if __name__ == "__main__":
    main()
