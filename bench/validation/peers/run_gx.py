"""Great Expectations 1.x: the Parquet file read into pandas, one suite, one validation."""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings

from _common import CHECKS, args, done


def main() -> None:
    _, file = args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("batch")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="checks"))
    order: list[str] = []
    for name, (column, kind, arg) in CHECKS.items():
        if kind == "unique":
            exp = gxe.ExpectColumnValuesToBeUnique(column=column)
        elif kind == "not_null":
            exp = gxe.ExpectColumnValuesToNotBeNull(column=column)
        elif kind == "range":
            lo, hi = arg
            if column == "event_time":
                lo, hi = dt.datetime.fromisoformat(lo), dt.datetime.fromisoformat(hi)
            exp = gxe.ExpectColumnValuesToBeBetween(column=column, min_value=lo, max_value=hi)
        elif kind == "in_set":
            exp = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(arg))
        else:
            exp = gxe.ExpectColumnValuesToMatchRegex(column=column, regex=arg)
        suite.add_expectation(exp)
        order.append(name)
    start = time.perf_counter()
    df = pd.read_parquet(file)
    batch = definition.get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite, result_format="BASIC")
    counts: dict[str, int] = {}
    by_config = {}
    for res in result.results:
        cfg = res.expectation_config
        by_config[(cfg.type, cfg.kwargs.get("column"))] = res
    for name, (column, kind, _) in CHECKS.items():
        kind_type = {
            "unique": "expect_column_values_to_be_unique",
            "not_null": "expect_column_values_to_not_be_null",
            "range": "expect_column_values_to_be_between",
            "in_set": "expect_column_values_to_be_in_set",
            "regex": "expect_column_values_to_match_regex",
        }[kind]
        res = by_config.get((kind_type, column))
        if res is None or res.exception_info.get("raised_exception"):
            raise SystemExit(
                f"great_expectations: {name} did not run: {res and res.exception_info}"
            )
        counts[name] = int(res.result.get("unexpected_count") or 0)
    done(start, gx.__version__, counts)


if __name__ == "__main__":
    main()
