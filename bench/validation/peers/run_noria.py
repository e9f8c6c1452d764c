"""noria: profile_data / validate_file straight from the Parquet file (DuckDB, streaming)."""

from __future__ import annotations

import time

from _common import CHECKS, args, done


def main() -> None:
    task, file = args()
    import noria
    import noria.data.sources  # its pandas import, as the peers import theirs
    from noria.data.profile import profile_data
    from noria.data.validate import parse_checks, validate_file

    version = getattr(noria, "__version__", "dev")
    if task == "profile":
        start = time.perf_counter()
        profile = profile_data(file)
        done(start, version, columns=len(profile.columns), rows=profile.rows)
        return
    raw = []
    for name, (column, kind, arg) in CHECKS.items():
        value = True if arg is None else (list(arg) if isinstance(arg, tuple) else arg)
        raw.append({"name": name, "column": column, kind: value})
    checks = parse_checks(raw)
    start = time.perf_counter()
    result = validate_file(file, None, checks)
    counts = {r.check.name: r.failing for r in result.results}
    done(start, version, counts)


if __name__ == "__main__":
    main()
