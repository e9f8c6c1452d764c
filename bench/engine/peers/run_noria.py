"""noria side of the engine benchmark; runs in the repository's `.venv`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from time import perf_counter

from _peer import args, check, emit, load, repeat, step_name, timed_import


def run(steps: int, home: Path) -> tuple[float, Counter[str], object]:
    """Run linear<steps> in the project at `home`; (seconds, step statuses, last output)."""
    import noria

    module = load(f"linear{steps:02d}")
    pipe = noria.Pipeline(module.STEPS, name=f"linear{steps:02d}")
    project = noria.Project(home)  # store creation is not timed
    start = perf_counter()
    result = project.run(pipe)
    seconds = perf_counter() - start
    check(result.status == "completed", f"run status {result.status!r}")
    statuses = Counter(s.status for s in result.steps.values())
    check(sum(statuses.values()) == steps, f"{len(result.steps)} step results, not {steps}")
    return seconds, statuses, result[step_name(steps)]


def main() -> None:
    """inproc: fresh project per repetition; once: one run in WORKDIR (fresh or cached)."""
    mode, workdir, number = args()
    import_s = timed_import("noria")
    import noria

    version = getattr(noria, "__version__", "")
    if mode == "inproc":

        def one(steps: int, rep: int) -> float:
            seconds, statuses, value = run(steps, workdir / f"p{steps:02d}-{rep}")
            check(statuses["completed"] == steps, f"expected a fresh run, got {dict(statuses)}")
            check(value == 0, f"last output {value!r}")
            return seconds

        emit(version=version, import_s=import_s, **repeat(one, number))
    else:
        seconds, statuses, value = run(number, workdir)
        check(value == 0, f"last output {value!r}")
        emit(
            version=version,
            import_s=import_s,
            run_s=seconds,
            executed=statuses["completed"],
            cached=statuses["cached"],
        )


if __name__ == "__main__":
    main()
