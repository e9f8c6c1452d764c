"""pandera on polars: the Parquet file read by polars, one DataFrameSchema, lazy validation."""

from __future__ import annotations

import datetime as dt
import time
import warnings

from _common import CHECKS, args, done


def main() -> None:
    _, file = args()
    warnings.filterwarnings("ignore")
    import pandera
    import pandera.polars as pa
    import polars as pl

    columns: dict[str, dict] = {}
    names: dict[tuple[str, str], str] = {}
    for name, (column, kind, arg) in CHECKS.items():
        spec = columns.setdefault(column, {"checks": [], "nullable": True, "unique": False})
        if kind == "not_null":
            spec["nullable"] = False
            names[(column, "not_nullable")] = name
        elif kind == "unique":
            spec["unique"] = True
            names[(column, "field_uniqueness")] = name
        else:
            if kind == "range":
                lo, hi = arg
                if column == "event_time":
                    lo, hi = dt.datetime.fromisoformat(lo), dt.datetime.fromisoformat(hi)
                check = (
                    pa.Check.in_range(lo, hi, name=name)
                    if hi is not None
                    else pa.Check.greater_than_or_equal_to(lo, name=name)
                )
            elif kind == "in_set":
                check = pa.Check.isin(arg, name=name)
            else:
                check = pa.Check.str_matches(arg, name=name)
            spec["checks"].append(check)
            names[(column, "*")] = name  # one value check per column: failure cases name it
            # by its expression, e.g. in_range(0, 120)
    schema = pa.DataFrameSchema(
        {c: pa.Column(None, **spec) for c, spec in columns.items()}, strict=False
    )
    start = time.perf_counter()
    df = pl.read_parquet(file)
    counts = {name: 0 for name in CHECKS}
    try:
        schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if not isinstance(cases, pl.DataFrame):
            cases = pl.from_pandas(cases)
        grouped = cases.group_by(["column", "check"]).len()
        for column, check, n in grouped.iter_rows():
            key = names.get((column, str(check))) or names.get((column, "*"))
            if key is None:
                raise SystemExit(f"unexpected pandera check {column}/{check}") from None
            counts[key] += int(n)
    done(start, pandera.__version__, counts)


if __name__ == "__main__":
    main()
