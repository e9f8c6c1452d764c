"""pandera on pandas: the Parquet file read into pandas, one DataFrameSchema, lazy validation."""

from __future__ import annotations

import time
import warnings

from _common import CHECKS, args, done


def main() -> None:
    _, file = args()
    warnings.filterwarnings("ignore")
    import pandas as pd
    import pandera.pandas as pa

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
                    lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
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
    df = pd.read_parquet(file)
    counts = {name: 0 for name in CHECKS}
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for (column, check), n in cases.groupby(["column", "check"]).size().items():
            key = names.get((column, str(check))) or names.get((column, "*"))
            if key is None:
                raise SystemExit(f"unexpected pandera check {column}/{check}") from None
            counts[key] += int(n)
    done(start, pa.__version__ if hasattr(pa, "__version__") else "", counts)


if __name__ == "__main__":
    main()
