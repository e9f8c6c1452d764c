"""Apache Hamilton side of the engine benchmark: `driver.Builder().with_modules(...)`."""

from __future__ import annotations

from pathlib import Path
from time import perf_counter

from _peer import args, check, emit, load, repeat, step_name, timed_import


def run(steps: int, cache: Path | None) -> tuple[float, int]:
    """Execute linear<steps>; with `cache`, `.with_cache(path=cache)`. (seconds, nodes run)."""
    from hamilton import driver

    builder = driver.Builder().with_modules(load(f"linear{steps:02d}"))
    if cache is not None:
        builder = builder.with_cache(path=str(cache))
    dr = builder.build()  # graph and cache stores are built before timing
    start = perf_counter()
    out = dr.execute([step_name(steps)])
    seconds = perf_counter() - start
    check(out[step_name(steps)] == 0, f"last output {out!r}")
    if cache is None:
        return seconds, steps
    logs = dr.cache.logs(run_id=dr.cache.last_run_id, level="debug")
    executed = sum(
        any(str(e.event_type).endswith("EXECUTE_NODE") for e in events) for events in logs.values()
    )
    return seconds, executed


def main() -> None:
    """inproc: with a fresh cache dir per repetition, then the variant without cache."""
    mode, workdir, number = args()
    import_s = timed_import("hamilton.driver")
    import hamilton

    version = ".".join(str(v) for v in hamilton.version.VERSION)
    if mode == "inproc":

        def cached(steps: int, rep: int) -> float:
            seconds, executed = run(steps, workdir / f"cache{steps:02d}-{rep}")
            check(executed == steps, f"{executed} of {steps} nodes executed on a fresh cache")
            return seconds

        figures = repeat(cached, number)
        nocache = repeat(lambda steps, _rep: run(steps, None)[0], number)
        emit(version=version, import_s=import_s, **figures, variants={"without cache": nocache})
    else:
        seconds, executed = run(number, workdir / ".hamilton_cache")
        emit(
            version=version,
            import_s=import_s,
            run_s=seconds,
            executed=executed,
            cached=number - executed,
        )


if __name__ == "__main__":
    main()
