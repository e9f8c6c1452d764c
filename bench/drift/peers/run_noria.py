"""noria: profiles from the Parquet files (DuckDB, streaming), then `compare` of the profiles.

Tasks: ``full REF CUR [SAVE]`` profiles both files and compares (and writes the reference
profile's JSON to SAVE, untimed); ``stored REF_JSON CUR`` loads the stored reference profile,
profiles the current file on its edges and compares (the monitoring situation); ``window REF_JSON
CUR ROWS REPEATS`` times one more window of ROWS rows: ``profile_data(window, reference=...,
con=...)`` on one DuckDB connection kept open across windows (as ``noria monitor`` does), merging
it into the running profile, and ``compare`` (median over REPEATS windows, after one untimed
warm-up window; the windows are pyarrow tables, as the prediction log gives them), and the same
opening a new connection per window.
"""

from __future__ import annotations

import json
import time

from _common import args, done, median


def main() -> None:
    task, rest = args(("full", "stored", "window"))
    import scipy.special  # noqa: F401  (compare's p-values; imported once per process)

    import noria
    import noria.data.sources  # its pandas import, as the peer imports pandas
    from noria.data.profile import Profile, profile_data
    from noria.monitor.drift import compare

    version = getattr(noria, "__version__", "dev")
    if task == "full":
        ref_file, cur_file = rest[0], rest[1]
        start = time.perf_counter()
        reference = profile_data(ref_file)
        t_ref = time.perf_counter()
        current = profile_data(cur_file, reference=reference)
        t_cur = time.perf_counter()
        report = compare(reference, current)
        t_cmp = time.perf_counter()
        extra = {
            "profile_ref_s": t_ref - start,
            "profile_cur_s": t_cur - t_ref,
            "compare_s": t_cmp - t_cur,
            "drifted": report.drifted,
            "reasons": {n: c.reason for n, c in report.columns.items()},
        }
        done(start, version, **extra)
        if len(rest) > 2:
            with open(rest[2], "w") as out:
                json.dump(reference.to_dict(), out)
        return
    if task == "stored":
        ref_json, cur_file = rest[0], rest[1]
        start = time.perf_counter()
        with open(ref_json) as f:
            reference = Profile.from_dict(json.load(f))
        t_load = time.perf_counter()
        current = profile_data(cur_file, reference=reference)
        t_cur = time.perf_counter()
        report = compare(reference, current)
        t_cmp = time.perf_counter()
        done(start, version, load_ref_s=t_load - start, profile_cur_s=t_cur - t_load,
             compare_s=t_cmp - t_cur, drifted=report.drifted)  # fmt: skip
        return
    import duckdb
    import pyarrow.parquet as pq

    ref_json, cur_file, rows, repeats = rest[0], rest[1], int(rest[2]), int(rest[3])
    with open(ref_json) as f:
        reference = Profile.from_dict(json.load(f))
    table = pq.read_table(cur_file).slice(0, rows * (repeats + 1))
    windows = [table.slice(i * rows, rows) for i in range(repeats + 1)]
    # `noria monitor` keeps one DuckDB connection open for all its windows: so does the timing
    con = duckdb.connect()
    running = profile_data(windows[0], reference=reference, con=con)  # warm-up, untimed
    compare(reference, running)
    totals, profiles, merges, compares, fresh = [], [], [], [], []
    flagged: dict[str, int] = {}
    start = time.perf_counter()
    for window in windows[1:]:
        t0 = time.perf_counter()
        current = profile_data(window, reference=reference, con=con)
        t1 = time.perf_counter()
        running = running.merge(current)
        t2 = time.perf_counter()
        report = compare(reference, current)
        t3 = time.perf_counter()
        totals.append(t3 - t0)
        profiles.append(t1 - t0)
        merges.append(t2 - t1)
        compares.append(t3 - t2)
        for name in report.drifted:
            flagged[name] = flagged.get(name, 0) + 1
        t4 = time.perf_counter()
        again = profile_data(window, reference=reference)  # the variant: a new connection
        running.merge(again)
        compare(reference, again)
        fresh.append(time.perf_counter() - t4)
    done(start, version, window_s=median(totals), window_profile_s=median(profiles),
         window_merge_s=median(merges), window_compare_s=median(compares),
         window_fresh_s=median(fresh), window_samples_s=totals, windows=repeats,
         flagged=flagged)  # fmt: skip


if __name__ == "__main__":
    main()
