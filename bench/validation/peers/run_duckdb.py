"""DuckDB's SUMMARIZE of the Parquet file: the floor for a profile (no histograms, no top-k)."""

from __future__ import annotations

import time

from _common import args, done


def main() -> None:
    task, file = args()
    import duckdb

    if task != "profile":
        raise SystemExit("duckdb: only profile")
    con = duckdb.connect()
    start = time.perf_counter()
    rows = con.execute("SUMMARIZE SELECT * FROM read_parquet(?)", [file]).fetchall()
    done(start, duckdb.__version__, columns=len(rows))


if __name__ == "__main__":
    main()
