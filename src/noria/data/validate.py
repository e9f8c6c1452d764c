"""Validation: check a batch against the schema and the user's checks, in one DuckDB scan.

:func:`validate_file` streams a file (or folder, or glob) through DuckDB; :func:`validate_frame`
checks a pandas DataFrame the same way and also splits it into the rows that pass and the rows
that fail (for the ``drop`` and ``quarantine`` policies). Every row-level check is a SQL
predicate of failure; one aggregate query counts the failing rows of all of them
(``count_if(...)`` per check), then a small ``LIMIT 5`` query per failing check fetches example
rows (with their file and 1-based row number). The checks of a string column with few distinct
values (estimated from a sample) are instead tested once per distinct value, with the rows of
each value counted by one ``GROUP BY`` of that column: the same counts, without a regex or an
``IN`` list per row. Uniqueness of an integer column is counted in NumPy (``bincount``, or a
sort); of other columns, and duplicate rows, by one ``GROUP BY`` each.

Checks, and where they come from:

==================  =========================================================  ==============
kind                fails when                                                 from
==================  =========================================================  ==============
missing_column      a schema column is absent (the message suggests a rename)  schema
extra_column        a column the schema does not know (``extra_columns``)      schema
type                a value cannot be read as the schema's type                schema
not_null            a null (NaN too) where none is allowed                     schema, user
range               a value below ``min`` or above ``max``                     schema, user
in_set              a value outside the allowed values (a new category)        schema, user
unique              a value that appears more than once (every such row)       schema, user
duplicates          a row equal to an earlier row (the copies)                 schema
regex               a string with no match of the pattern (``^…$`` to anchor)  user
max_null_fraction   the share of nulls is above the bound                      user
row_count           the row count is outside the bounds                        schema, user
sql                 a boolean SQL expression over the row is false (one        user
                    expression, no subquery; run without file access: see
                    :mod:`noria.data.sqlcheck`)
skew                the batch's distribution departs from the training         reference
                    profile: population stability index above the threshold    profile
                    (nulls are a bin: :mod:`noria.data.distances`)
==================  =========================================================  ==============

Skew is checked on batches of at least :data:`MIN_SKEW_ROWS` rows. Nulls pass every check but
``not_null`` (as in SQL, pandera and Great Expectations), and a SQL check passes when its
expression is NULL (as a SQL ``CHECK`` constraint). Severities are ``error`` (the batch fails)
and ``warn`` (reported only).

Policies (what a pipeline does with a failing batch; see :meth:`ValidationResult.apply`):
``fail`` raises a :class:`~noria.errors.DataError`; ``drop`` keeps the rows that pass every
error-level row check; ``quarantine`` does the same and hands the failing rows (with a
``__failed_checks`` column) back to be stored as an artifact of their own. A table-level error
(a missing column, a type that cannot be read, the row count) fails the batch under every policy.

This module is the runner; the parts live in :mod:`noria.data.checks` (the checks, parsing,
messages), :mod:`noria.data.check_sql` (their SQL), :mod:`noria.data.uniques` (repeated values
and rows), :mod:`noria.data.validation_report` (the results) and :mod:`noria.data.distances`
(the PSI); the public names are re-exported here.

Not here: computing profiles (:mod:`noria.data.profile`), the schema file
(:mod:`noria.data.schema`), printing (``noria validate`` in :mod:`noria.cli.data_cmds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.data.check_sql import failure_predicate, sql_literal
from noria.data.checks import (
    CHECK_KINDS,
    ROW_KINDS,
    Check,
    failure_message,
    parse_checks,
    schema_checks,
)
from noria.data.scan import DataSource, error_line, open_source, quote
from noria.data.sqlcheck import sandbox
from noria.data.uniques import count_duplicates, duplicate_rows, unique_stats
from noria.data.validation_report import EXAMPLES, POLICIES, CheckResult, ValidationResult
from noria.errors import ConfigError, DataError, did_you_mean

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from noria.data.profile_record import ColumnProfile, Profile
    from noria.data.schema import Schema

__all__ = [
    "CHECK_KINDS",
    "DEFAULT_SKEW_THRESHOLD",
    "EXAMPLES",
    "MIN_SKEW_ROWS",
    "POLICIES",
    "Check",
    "CheckResult",
    "ValidationResult",
    "checks_by_value",
    "count_duplicates",
    "parse_checks",
    "population_stability",
    "schema_checks",
    "validate_file",
    "validate_frame",
]

#: Fewest rows a batch needs for the skew checks (below, a PSI is mostly noise).
MIN_SKEW_ROWS = 100
#: Default skew threshold: population stability index (0.1 = some change, 0.25 = a big one).
DEFAULT_SKEW_THRESHOLD = 0.25
# --------------------------------------------------------------------------------- validating


def validate_file(
    path: str | Path,
    schema: Schema | None = None,
    checks: Sequence[Check] = (),
    *,
    format: str = "auto",
    base: Path | None = None,
    reference: Profile | None = None,
    skew_threshold: float = DEFAULT_SKEW_THRESHOLD,
) -> ValidationResult:
    """Check a file, folder or glob against ``schema`` and ``checks``, streaming through DuckDB.

    Args:
        path: The data (CSV, Parquet or JSON; see :func:`noria.data.profile.open_source`).
        schema: The schema (``None``: only ``checks``).
        checks: User checks (:func:`parse_checks`).
        format: ``auto``, ``csv``, ``parquet`` or ``json``.
        base: The folder a relative path is relative to.
        reference: The training profile; when given, columns whose distribution departs
            from it by more than ``skew_threshold`` (PSI) get a ``skew`` warning.
        skew_threshold: The population stability index above which a column is skewed.

    Returns:
        The :class:`ValidationResult` (no row split: ``valid_rows`` is ``None``).

    Raises:
        DataError: The file cannot be read (it names the file and the fix).
        ConfigError: A check names a column that is absent or has invalid SQL.
    """
    import duckdb

    con = duckdb.connect()
    try:
        source = open_source(con, path, format=format, base=base)
        if any(c.kind == "sql" for c in checks):
            sandbox(con, source.files)  # a check reads the data, and no other file
        return _validate(con, source, schema, checks, reference, skew_threshold, split=False)
    finally:
        con.close()


def validate_frame(
    frame: pd.DataFrame,
    schema: Schema | None = None,
    checks: Sequence[Check] = (),
    *,
    reference: Profile | None = None,
    skew_threshold: float = DEFAULT_SKEW_THRESHOLD,
) -> ValidationResult:
    """Check a DataFrame like :func:`validate_file`, and split it into good and bad rows.

    ``valid_rows`` are the rows that pass every error-level row check (the frame itself when
    all pass); ``bad_rows`` the others, with a ``__failed_checks`` column naming the checks.
    Use :meth:`ValidationResult.apply` with the pipeline's policy.
    """
    import duckdb

    con = duckdb.connect()
    try:
        source = open_source(con, frame)
        if any(c.kind == "sql" for c in checks):
            sandbox(con, ())  # a check reads the frame, and no file
        return _validate(con, source, schema, checks, reference, skew_threshold, split=True,
                         frame=frame)  # fmt: skip
    finally:
        con.close()


def _validate(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    schema: Schema | None,
    checks: Sequence[Check],
    reference: Profile | None,
    skew_threshold: float,
    *,
    split: bool,
    frame: pd.DataFrame | None = None,
) -> ValidationResult:

    all_checks = (schema_checks(schema, source.columns) if schema is not None else []) + list(
        checks
    )
    types = dict(source.columns)
    schema_types = {n: c.type for n, c in schema.columns.items()} if schema is not None else {}
    for check in all_checks:
        if check.origin == "user" and check.column and check.column not in types:
            raise DataError(
                f"check '{check.label}': column '{check.column}' is not in {source.label}"
                f"{did_you_mean(check.column, types)}; fix the check in noria.yaml or the data"
            )
    rel = source.relation

    # 1. one scan: failing rows of every row predicate, plus nulls per column and the row count;
    #    the checks of a string column with few distinct values run over those values instead
    predicates: dict[int, str] = {}
    for i, check in enumerate(all_checks):
        pred = failure_predicate(check, types, schema_types)
        if pred is not None:
            predicates[i] = pred
    by_value = checks_by_value(con, source, all_checks, predicates)
    per_row = {i: p for i, p in predicates.items() if i not in by_value}
    null_cols = sorted({c.column for c in all_checks if c.kind == "max_null_fraction" and c.column})
    exprs = ["count(*)"]
    exprs += [f"count_if({p})" for p in per_row.values()]
    exprs += [f"count({quote(c)})" for c in null_cols]
    try:
        [first] = con.execute(f"SELECT {', '.join(exprs)} FROM {rel}").fetchall()
        failing: dict[int, int] = _value_counts(con, source, by_value, predicates)
    except Exception as exc:
        _blame_sql(exc, all_checks, predicates, con, rel, source)
        raise
    rows = int(first[0])
    failing.update(
        {i: int(v or 0) for i, v in zip(per_row, first[1 : 1 + len(per_row)], strict=True)}
    )
    non_null = dict(zip(null_cols, first[1 + len(per_row) :], strict=True))

    # 2. group-by checks: unique values, duplicate rows
    unique_cols = [c.column for c in all_checks if c.kind == "unique" and c.column]
    dupes = {n: unique_stats(con, source, n, top=EXAMPLES) for n in dict.fromkeys(unique_cols)}
    data_cols = [n for n, _ in source.columns]

    results: list[CheckResult] = []
    for i, check in enumerate(all_checks):
        kind, col = check.kind, check.column
        examples: tuple[Mapping[str, Any], ...] = ()
        value: float | None = None
        if i in predicates:
            n = failing[i]
            if n:
                examples = _examples(con, source, predicates[i], col, data_cols)
        elif kind == "unique":
            n, examples = dupes[str(col)]
        elif kind == "duplicates":
            n = duplicate_rows(con, source, data_cols)
        elif kind == "missing_column" or kind == "extra_column":
            n = 1
        elif kind == "row_count":
            lo, hi = check.params.get("min"), check.params.get("max")
            n = int((lo is not None and rows < lo) or (hi is not None and rows > hi))
            value = float(rows)
        elif kind == "max_null_fraction":
            nulls = rows - int(non_null[str(col)])
            value = nulls / rows if rows else 0.0
            n = int(value > check.params["fraction"])
        else:  # pragma: no cover - every kind is handled above
            n = 0
        results.append(
            CheckResult(
                check,
                n,
                rows,
                examples,
                failure_message(check, n, rows, examples, value, source.label, types, schema),
                value,
            )
        )

    # 3. skew against the training profile
    batch_profile = None
    if reference is not None and rows >= MIN_SKEW_ROWS:
        from noria.data.profiling import profile_source

        shared = [n for n in data_cols if n in reference.columns]
        if shared:
            batch_profile = profile_source(con, source, reference=reference, columns=shared)
            for name in shared:
                psi = population_stability(reference.columns[name], batch_profile.columns[name])
                if psi is None:
                    continue
                check = Check("skew", name, "warn", params={"threshold": skew_threshold},
                              origin="reference")  # fmt: skip
                n = int(psi > skew_threshold)
                msg = (
                    f"{source.label}: column '{name}' departs from the training data "
                    f"(PSI {psi:.3f} > {skew_threshold}); look for a change upstream, or retrain"
                    if n
                    else ""
                )
                results.append(CheckResult(check, n, rows, (), msg, psi))

    valid = bad = None
    if split and frame is not None:
        valid, bad = _split(con, source, frame, all_checks, predicates, results)
    return ValidationResult(tuple(results), rows, source.label, valid, bad, batch_profile)


#: Rows read to estimate how many distinct values a string column has.
_SAMPLE_ROWS = 50_000
#: Most distinct values (estimated) for which a column's checks run over its distinct values.
_MAX_BY_VALUE = 200_000


def checks_by_value(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    checks: Sequence[Check],
    predicates: Mapping[int, str],
) -> dict[int, str]:
    """The row checks of string columns with few distinct values: ``{check index: column}``.

    A check of one column is a function of the value alone, so counting the rows of each
    distinct value (one ``GROUP BY``, cheap on dictionary-encoded categories) and testing each
    value once gives the same failing count as testing every row, at a fraction of the cost
    of a regex or a long ``IN`` list. Whether a column has few values is estimated from its
    first :data:`_SAMPLE_ROWS` rows (Chao1: ``d + f1² / 2 f2``); a wrong guess only costs time.
    """
    types = dict(source.columns)
    candidates: dict[int, str] = {
        i: str(checks[i].column)
        for i in predicates
        if checks[i].kind != "sql"
        and checks[i].column in types
        and types[str(checks[i].column)].upper() == "VARCHAR"
    }
    columns = list(dict.fromkeys(candidates.values()))
    if not columns:
        return {}
    aliases = [f"c{j}" for j in range(len(columns))]
    listing = ", ".join(f"{quote(c)} AS {a}" for c, a in zip(columns, aliases, strict=True))
    which = " ".join(f"WHEN grouping({a}) = 0 THEN {j}" for j, a in enumerate(aliases))
    sql = (
        f"SELECT part, count(*), count_if(n = 1), count_if(n = 2), sum(n) FROM ("
        f"SELECT CASE {which} END AS part, count(*) AS n FROM "
        f"(SELECT {listing} FROM {source.relation} LIMIT {_SAMPLE_ROWS}) "
        f"GROUP BY GROUPING SETS ({', '.join(f'({a})' for a in aliases)})) GROUP BY part"
    )
    try:
        sample = con.execute(sql).fetchall()
    except Exception:  # the main scan reports what cannot be read
        return {}
    few: set[str] = set()
    for part, d, f1, f2, seen in sample:
        estimate = d + f1 * (f1 - 1) / (2 * (f2 + 1))
        if estimate <= _MAX_BY_VALUE and (seen >= _SAMPLE_ROWS or d * 2 <= seen):
            few.add(columns[int(part)])
    return {i: c for i, c in candidates.items() if c in few}


def _value_counts(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    by_value: Mapping[int, str],
    predicates: Mapping[int, str],
) -> dict[int, int]:
    """Failing rows of the checks :func:`checks_by_value` picked: one ``GROUP BY`` per column."""
    failing: dict[int, int] = {}
    for column in dict.fromkeys(by_value.values()):
        mine = [i for i, c in by_value.items() if c == column]
        q = quote(column)
        sums = ", ".join(f"coalesce(sum(n) FILTER (WHERE {predicates[i]}), 0)" for i in mine)
        sql = f"SELECT {sums} FROM (SELECT {q}, count(*) AS n FROM {source.relation} GROUP BY {q})"
        [got] = con.execute(sql).fetchall()
        failing.update({i: int(v) for i, v in zip(mine, got, strict=True)})
    return failing


def _blame_sql(
    exc: Exception,
    checks: Sequence[Check],
    predicates: Mapping[int, str],
    con: duckdb.DuckDBPyConnection,
    rel: str,
    source: DataSource,
) -> None:
    """Raise a ConfigError naming the SQL check that broke the scan, or a DataError."""
    import duckdb

    for i, pred in predicates.items():
        if checks[i].kind != "sql":
            continue
        try:
            con.execute(f"SELECT count_if({pred}) FROM (SELECT * FROM {rel} LIMIT 0)").fetchall()
        except duckdb.Error as inner:
            raise ConfigError(
                f"check '{checks[i].label}': the SQL expression is invalid "
                f"({error_line(inner)}); fix it in noria.yaml"
            ) from None
    if isinstance(exc, duckdb.Error):
        raise DataError(
            f"{source.label}: cannot be checked ({error_line(exc)}); if it is a Parquet "
            "file it may be corrupt or truncated: write it again"
        ) from exc


def _row_select(source: DataSource) -> str:
    """The relation with ``__row`` (0-based, per file) and ``__file`` columns."""
    if source.numbered:
        return source.numbered
    return (
        f"(SELECT row_number() OVER () - 1 AS __row, NULL::VARCHAR AS __file, * "
        f"FROM {source.relation})"
    )


def _examples(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    predicate: str,
    column: str | None,
    data_cols: Sequence[str],
) -> tuple[Mapping[str, Any], ...]:
    rel = _row_select(source)
    shown = [column] if column else list(data_cols[:8])
    cols = ", ".join(quote(c) for c in shown)
    sql = f"SELECT __file, __row, {cols} FROM {rel} WHERE {predicate} LIMIT {EXAMPLES}"
    out = []
    for file, row, *values in con.execute(sql).fetchall():
        example: dict[str, Any] = {"row": int(row) + 1}
        if file is not None:
            example["file"] = str(file)
        example.update(zip(shown, values, strict=True))
        out.append(example)
    return tuple(out)


def _split(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    frame: pd.DataFrame,
    checks: Sequence[Check],
    predicates: Mapping[int, str],
    results: Sequence[CheckResult],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows passing every failed error-level row check, and the others (order kept)."""
    import numpy as np

    failed = [
        (i, c)
        for i, c in enumerate(checks)
        if c.severity == "error" and not results[i].passed and c.kind in ROW_KINDS
    ]
    parts: list[tuple[str, str]] = []
    for i, check in failed:
        if i in predicates:
            parts.append((check.label, predicates[i]))
        elif check.kind == "unique":
            q = quote(str(check.column))
            parts.append(
                (check.label, f"({q} IS NOT NULL AND count(*) OVER (PARTITION BY {q}) > 1)")
            )
        elif check.kind == "duplicates":
            listing = ", ".join(quote(n) for n, _ in source.columns)
            parts.append(
                (check.label, f"(row_number() OVER (PARTITION BY {listing} ORDER BY __row) > 1)")
            )
    if not parts:
        return frame, frame.iloc[0:0].assign(__failed_checks=pd_str_empty(0))
    names = ", ".join(
        f"CASE WHEN {p} THEN {sql_literal(label, 'string')} END" for label, p in parts
    )
    sql = (
        f"SELECT __row, failed FROM (SELECT __row, concat_ws('; ', {names}) AS failed FROM "
        f"(SELECT row_number() OVER () - 1 AS __row, * FROM {source.relation})) "
        f"WHERE failed <> '' ORDER BY __row"
    )
    bad = con.execute(sql).fetchall()
    idx = np.array([int(r) for r, _ in bad], dtype=np.int64)
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx] = True
    bad_rows = frame.iloc[idx].copy()
    bad_rows["__failed_checks"] = [f for _, f in bad]
    return frame.iloc[~mask].copy() if mask.any() else frame, bad_rows


def pd_str_empty(n: int) -> list[str]:
    """An empty list of check names (for an empty ``__failed_checks`` column)."""
    return [""] * n


def population_stability(reference: ColumnProfile, batch: ColumnProfile) -> float | None:
    """Population stability index of a batch column against the training column, with the
    nulls as one more bin (skew is validation's only distribution check, so a jump of the null
    share counts); ``None`` when there is nothing to compare. One implementation with drift's:
    :func:`noria.data.distances.column_psi`, whose docstring has the bins and the reasons."""
    from noria.data.distances import column_psi

    return column_psi(reference, batch, nulls=True)
