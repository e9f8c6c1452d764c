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

Not here: computing profiles (:mod:`noria.data.profile`), the schema file
(:mod:`noria.data.schema`), printing (``noria validate`` in :mod:`noria.cli.data_cmds`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.data.kinds import kind_of
from noria.data.scan import DataSource, open_source, quote, run_query
from noria.data.sqlcheck import checked_expression, sandbox
from noria.data.sqlcheck import predicate as sql_predicate
from noria.errors import ConfigError, DataError, did_you_mean

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from noria.data.profile import Profile
    from noria.data.schema import Schema

__all__ = [
    "CHECK_KINDS",
    "POLICIES",
    "Check",
    "CheckResult",
    "ValidationResult",
    "count_duplicates",
    "parse_checks",
    "population_stability",
    "validate_file",
    "validate_frame",
]

#: The kinds of user check ``noria.yaml`` accepts (``validation.checks``).
CHECK_KINDS = (
    "not_null",
    "range",
    "in_set",
    "unique",
    "regex",
    "max_null_fraction",
    "row_count",
    "sql",
)
#: What a pipeline does with a batch that fails.
POLICIES = ("fail", "drop", "quarantine")
#: Example rows kept per failing check.
EXAMPLES = 5
#: Fewest rows a batch needs for the skew checks (below, a PSI is mostly noise).
MIN_SKEW_ROWS = 100
#: Default skew threshold: population stability index (0.1 = some change, 0.25 = a big one).
DEFAULT_SKEW_THRESHOLD = 0.25
_ROW_KINDS = ("type", "not_null", "range", "in_set", "regex", "sql", "unique", "duplicates")
_SQL_TYPES = {
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "string": "VARCHAR",
}


@dataclass(frozen=True)
class Check:
    """One check to run.

    Attributes:
        kind: One of the kinds in the module docstring.
        column: The column it is about (``None`` for table checks and SQL checks).
        severity: ``error`` or ``warn``.
        name: A name for reports (``age: range [0, 120]``); made up when not given.
        params: What the kind needs: ``min``/``max``, ``values``, ``pattern``, ``fraction``,
            ``sql``, ``threshold``.
        origin: ``schema``, ``user`` or ``reference``.
    """

    kind: str
    column: str | None = None
    severity: str = "error"
    name: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "user"

    @property
    def label(self) -> str:
        """The check's name, or one made from its kind, column and params."""
        if self.name:
            return self.name
        p = self.params
        detail = {
            "range": f"[{_show(p.get('min'))}, {_show(p.get('max'))}]",
            "in_set": f"{len(p.get('values', ()))} values",
            "regex": f"/{p.get('pattern')}/",
            "max_null_fraction": f"≤ {p.get('fraction')}",
            "row_count": f"[{_show(p.get('min'))}, {_show(p.get('max'))}]",
            "sql": str(p.get("sql")),
            "type": str(p.get("type")),
        }.get(self.kind, "")
        head = f"{self.column}: {self.kind}" if self.column else self.kind
        return f"{head} {detail}".strip()


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one batch.

    Attributes:
        check: The check.
        failing: Failing rows (row checks), or 1/0 for a table check.
        rows: Rows of the batch.
        examples: Up to :data:`EXAMPLES` failing rows as dicts (``row`` is 1-based, ``file``
            is set for files), or the offending values for ``unique``.
        message: One line: what failed, where, and the fix.
        value: A measured figure where there is one (null fraction, PSI, row count).
    """

    check: Check
    failing: int
    rows: int
    examples: tuple[Mapping[str, Any], ...] = ()
    message: str = ""
    value: float | None = None

    @property
    def passed(self) -> bool:
        """Whether nothing failed."""
        return self.failing == 0

    @property
    def severity(self) -> str:
        """The check's severity."""
        return self.check.severity

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "check": self.check.label,
            "kind": self.check.kind,
            "column": self.check.column,
            "severity": self.check.severity,
            "origin": self.check.origin,
            "passed": self.passed,
            "failing": self.failing,
            "rows": self.rows,
            "value": self.value,
            "message": self.message,
            "examples": [{k: _jsonable(v) for k, v in e.items()} for e in self.examples],
        }


@dataclass(frozen=True)
class ValidationResult:
    """All check results of one batch, and for frames the split into good and bad rows.

    Attributes:
        results: One :class:`CheckResult` per check, in order.
        rows: Rows of the batch.
        source: What was checked (a file name, or ``the data frame``).
        valid_rows: The rows that pass every error-level row check (frames only).
        bad_rows: The other rows with a ``__failed_checks`` column (frames only).
        profile: The batch's profile when a reference profile was given (for skew).
    """

    results: tuple[CheckResult, ...]
    rows: int
    source: str = ""
    valid_rows: pd.DataFrame | None = None
    bad_rows: pd.DataFrame | None = None
    profile: Profile | None = None

    @property
    def errors(self) -> list[CheckResult]:
        """Failed checks of severity ``error``."""
        return [r for r in self.results if not r.passed and r.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed checks of severity ``warn``."""
        return [r for r in self.results if not r.passed and r.severity == "warn"]

    @property
    def passed(self) -> bool:
        """Whether no error-level check failed."""
        return not self.errors

    @property
    def fatal(self) -> list[CheckResult]:
        """Error-level failures that dropping rows cannot fix (table-level checks)."""
        return [r for r in self.errors if r.check.kind not in _ROW_KINDS or r.check.kind == "type"]

    @property
    def failing_counts(self) -> dict[str, int]:
        """Failing rows by check label."""
        return {r.check.label: r.failing for r in self.results}

    def summary(self) -> str:
        """One line: passed or failed, with the first error named."""
        if self.passed:
            warn = f" with {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"{self.source}: {len(self.results)} checks passed on {self.rows:,} rows{warn}"
        first = (self.fatal or self.errors)[0]
        more = f" (and {len(self.errors) - 1} more failed checks)" if len(self.errors) > 1 else ""
        return f"{first.message}{more}"

    def raise_for_errors(self) -> None:
        """Raise a :class:`DataError` naming the first failed error-level check, if any."""
        if not self.passed:
            raise DataError(self.summary())

    def apply(self, policy: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """What a pipeline goes on with under ``policy``: ``(rows to use, rows set aside)``.

        Raises:
            DataError: ``fail`` and an error-level check failed; or any policy and a
                table-level check failed (see :attr:`fatal`).
            ConfigError: An unknown policy.
        """
        if policy not in POLICIES:
            raise ConfigError(
                f"validation policy '{policy}' is not one of {', '.join(POLICIES)}"
                f"{did_you_mean(policy, POLICIES)}"
            )
        if policy == "fail" or self.fatal:
            self.raise_for_errors()
        return self.valid_rows, (self.bad_rows if policy == "quarantine" else None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what the engine stores, and what the data report reads)."""
        return {
            "source": self.source,
            "rows": self.rows,
            "passed": self.passed,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "checks": [r.to_dict() for r in self.results],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


# ------------------------------------------------------------------------------------- checks


def parse_checks(
    raw: Iterable[Mapping[str, Any]], *, where: str = "validation.checks"
) -> list[Check]:
    """User checks from ``noria.yaml`` (``validation.checks``), one mapping each.

    Each mapping has exactly one kind key (:data:`CHECK_KINDS`) and optionally ``column``,
    ``name`` and ``severity``::

        - {column: age, range: [0, 120]}
        - {column: plan, in_set: [free, pro]}
        - {column: email, regex: '^[^@]+@[^@]+$', severity: warn}
        - {column: income, max_null_fraction: 0.05}
        - {row_count: [1000, null]}
        - {sql: "amount <= balance", name: amount within balance}

    Raises:
        ConfigError: No or several kind keys, a missing ``column``, or a wrong value; the
            message names the check by its position.
    """
    checks: list[Check] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        item = {k: v for k, v in dict(item).items() if v is not None}
        kinds = [k for k in CHECK_KINDS if k in item]
        unknown = [k for k in item if k not in (*CHECK_KINDS, "column", "name", "severity")]
        if unknown:
            raise ConfigError(
                f"{at}: unknown key '{unknown[0]}'{did_you_mean(unknown[0], CHECK_KINDS)}; "
                f"a check has one of {', '.join(CHECK_KINDS)} and optionally column, name, severity"
            )
        if len(kinds) != 1:
            raise ConfigError(
                f"{at}: a check needs exactly one of {', '.join(CHECK_KINDS)} (got "
                f"{', '.join(kinds) or 'none'})"
            )
        kind = kinds[0]
        value = item[kind]
        column = item.get("column")
        severity = item.get("severity", "error")
        if severity not in ("error", "warn"):
            raise ConfigError(f"{at}: severity '{severity}' is not error or warn")
        if kind not in ("row_count", "sql") and not column:
            raise ConfigError(f"{at}: {kind} needs `column:` (the column it checks)")
        params: dict[str, Any] = {}
        if kind in ("range", "row_count"):
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ConfigError(f"{at}: {kind} must be [min, max] (null for no bound)")
            params = {"min": value[0], "max": value[1]}
        elif kind == "in_set":
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{at}: in_set must be a list of values")
            params = {"values": tuple(value)}
        elif kind == "regex":
            try:
                re.compile(str(value))
            except re.error as exc:
                raise ConfigError(f"{at}: regex {value!r} is not valid ({exc})") from None
            params = {"pattern": str(value)}
        elif kind == "max_null_fraction":
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(f"{at}: max_null_fraction must be between 0 and 1")
            params = {"fraction": float(value)}
        elif kind == "sql":  # one expression over the row, nothing else (noria.data.sqlcheck)
            params = {"sql": checked_expression(str(value), at)}
        elif value is not True:
            continue  # not_null: false, unique: false
        checks.append(Check(kind, column, severity, str(item.get("name", "")), params, "user"))
    return checks


def schema_checks(schema: Schema, columns: Sequence[tuple[str, str]]) -> list[Check]:
    """The checks a schema implies for a batch with ``columns`` (``(name, DuckDB type)``)."""
    present = dict(columns)
    checks: list[Check] = []
    for name, col in schema.columns.items():
        if name not in present:
            checks.append(Check("missing_column", name, "error", origin="schema"))
            continue
        sev = col.severity
        checks.append(Check("type", name, sev("type"), params={"type": col.type}, origin="schema"))
        if not col.nullable:
            checks.append(Check("not_null", name, sev("nullable"), origin="schema"))
        if col.min is not None or col.max is not None:
            checks.append(
                Check("range", name, sev("range"), params={"min": col.min, "max": col.max},
                      origin="schema")
            )  # fmt: skip
        if col.values is not None:
            checks.append(
                Check("in_set", name, sev("values"), params={"values": col.values}, origin="schema")
            )
        if col.unique:
            checks.append(Check("unique", name, sev("unique"), origin="schema"))
    if schema.extra_columns != "ignore":
        for name, _ in columns:
            if name not in schema.columns:
                checks.append(Check("extra_column", name, schema.extra_columns, origin="schema"))
    if schema.min_rows is not None or schema.max_rows is not None:
        checks.append(
            Check("row_count", None, "error", params={"min": schema.min_rows,
                  "max": schema.max_rows}, origin="schema")
        )  # fmt: skip
    if schema.duplicates != "ignore":
        checks.append(Check("duplicates", None, schema.duplicates, origin="schema"))
    return checks


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
        pred = _predicate(check, types, schema_types)
        if pred is not None:
            predicates[i] = pred
    by_value = _by_value(con, source, all_checks, predicates)
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
    dupes = {n: _unique_stats(con, source, n) for n in dict.fromkeys(unique_cols)}
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
            n = _duplicate_rows(con, source, data_cols)
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
                _message(check, n, rows, examples, value, source, types, schema),
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


def _by_value(
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
    """Failing rows of the checks :func:`_by_value` picked: one ``GROUP BY`` per column."""
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

    from noria.data.sources import _one_line

    for i, pred in predicates.items():
        if checks[i].kind != "sql":
            continue
        try:
            con.execute(f"SELECT count_if({pred}) FROM (SELECT * FROM {rel} LIMIT 0)").fetchall()
        except duckdb.Error as inner:
            raise ConfigError(
                f"check '{checks[i].label}': the SQL expression is invalid "
                f"({_one_line(str(inner))}); fix it in noria.yaml"
            ) from None
    if isinstance(exc, duckdb.Error):
        raise DataError(
            f"{source.label}: cannot be checked ({_one_line(str(exc))}); if it is a Parquet "
            "file it may be corrupt or truncated: write it again"
        ) from exc


def _literal(value: Any, typ: str) -> str:
    if value is None:
        return "NULL"
    if typ in ("datetime", "date"):
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return f"{'TIMESTAMP' if typ == 'datetime' else 'DATE'} '{text}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and typ != "string":
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _value_type(dtype: str, declared: str | None) -> str:
    """The type a column's values are compared as: the schema's, else the batch's own."""
    if declared:
        return declared
    kind = kind_of(dtype)
    return {"numeric": "float", "boolean": "boolean", "temporal": "datetime"}.get(kind, "string")


def _typed(name: str, dtype: str, typ: str) -> str:
    """The column as the type ``typ`` (a failed cast is NULL; the type check counts those)."""
    q = quote(name)
    own = _value_type(dtype, None)
    if typ == "string":
        return q if dtype.upper() == "VARCHAR" else f"{q}::VARCHAR"
    if typ in ("integer", "float") and kind_of(dtype) == "numeric":
        return q
    if typ == "datetime" and kind_of(dtype) == "temporal":
        return q
    if own == typ:
        return q
    return f"TRY_CAST({q} AS {_SQL_TYPES[typ]})"


def _predicate(check: Check, types: Mapping[str, str], declared: Mapping[str, str]) -> str | None:
    """SQL that is true for a failing row, or ``None`` for a check that is not per row."""
    kind, col, p = check.kind, check.column, check.params
    if kind == "sql":
        return sql_predicate(checked_expression(str(p["sql"]), f"check '{check.label}'"))
    if col is None or col not in types or kind in ("unique", "max_null_fraction"):
        return None
    dtype = types[col]
    q = quote(col)
    typ = _value_type(dtype, declared.get(col))
    x = _typed(col, dtype, typ)
    if kind == "type":
        want = p["type"]
        if want == "string" or _value_type(dtype, None) == want:
            return None
        if want in ("integer", "float") and kind_of(dtype) == "numeric":
            if (want == "integer" and dtype.upper() in ("FLOAT", "DOUBLE", "REAL")) or (
                want == "integer" and dtype.upper().startswith("DECIMAL")
            ):
                return f"({q} IS NOT NULL AND NOT isnan({q}::DOUBLE) AND {q} <> floor({q}))"
            return None
        if want == "date" and kind_of(dtype) == "temporal":
            return f"({q} IS NOT NULL AND {q}::TIMESTAMP <> {q}::DATE::TIMESTAMP)"
        if want == "datetime" and kind_of(dtype) == "temporal":
            return None
        if want == "integer" and kind_of(dtype) == "string":
            return (
                f"({q} IS NOT NULL AND (TRY_CAST({q} AS DOUBLE) IS NULL OR "
                f"TRY_CAST({q} AS DOUBLE) <> floor(TRY_CAST({q} AS DOUBLE))))"
            )
        return f"({q} IS NOT NULL AND TRY_CAST({q} AS {_SQL_TYPES[want]}) IS NULL)"
    if kind == "not_null":
        if dtype.upper() in ("FLOAT", "DOUBLE", "REAL"):
            return f"({q} IS NULL OR isnan({q}))"
        return f"({q} IS NULL)"
    if kind == "range":
        parts = []
        if p.get("min") is not None:
            parts.append(f"{x} < {_literal(p['min'], typ)}")
        if p.get("max") is not None:
            parts.append(f"{x} > {_literal(p['max'], typ)}")
        return f"({' OR '.join(parts)})" if parts else None
    if kind == "in_set":
        values = [v for v in p["values"] if v is not None]
        if typ == "string" or not values:
            listing = ", ".join(_literal(str(v), "string") for v in values)
            s = q if dtype.upper() == "VARCHAR" else f"{q}::VARCHAR"
            return f"({s} NOT IN ({listing}))" if values else f"({q} IS NOT NULL)"
        listing = ", ".join(_literal(v, typ) for v in values)
        return f"({x} NOT IN ({listing}))"
    if kind == "regex":
        s = q if dtype.upper() == "VARCHAR" else f"{q}::VARCHAR"
        pattern, fn = str(p["pattern"]), "regexp_matches"
        anchored = pattern.startswith("^") and pattern.endswith("$") and len(pattern) > 1
        if anchored and not pattern.endswith("\\$") and "|" not in pattern:
            pattern, fn = pattern[1:-1], "regexp_full_match"  # the same rows, about 2x faster
        pattern = pattern.replace("'", "''")
        return f"(NOT {fn}({s}, '{pattern}'))"
    return None


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


def count_duplicates(
    con: duckdb.DuckDBPyConnection, source: DataSource, columns: Sequence[str]
) -> dict[str, int]:
    """Rows whose value in the column appears more than once, per column."""
    return {n: _unique_stats(con, source, n)[0] for n in dict.fromkeys(columns)}


def _unique_stats(
    con: duckdb.DuckDBPyConnection, source: DataSource, column: str
) -> tuple[int, tuple[Mapping[str, Any], ...]]:
    """Rows in groups of a repeated value, and the most repeated values.

    Integer columns (ids, mostly) are fetched as one NumPy array and counted there: by
    ``bincount`` when the values span at most a few times their number, else by a sort. That
    is several times faster than DuckDB's hash ``GROUP BY`` over millions of distinct values,
    with the same result. Other types take one ``GROUP BY ... HAVING count(*) > 1``.
    """
    q = quote(column)
    if _INT64.match(dict(source.columns).get(column, "").upper()):
        sql = f"SELECT {q}::BIGINT AS v FROM {source.relation} WHERE {q} IS NOT NULL"
        try:
            values = con.execute(sql).fetchnumpy()["v"]
        except Exception:  # a read error: the SQL path below reports it
            values = None
        if values is not None:
            return _repeats(column, values)
    sql = (
        f"SELECT coalesce(sum(n), 0), (list({{'v': v, 'n': n}} ORDER BY n DESC, v))"
        f"[1:{EXAMPLES}] FROM (SELECT {q} AS v, count(*) AS n FROM {source.relation} "
        f"WHERE {q} IS NOT NULL GROUP BY {q} HAVING count(*) > 1)"
    )
    [(total, top)] = run_query(con, sql, source)
    examples = tuple({column: e["v"], "rows": int(e["n"])} for e in (top or []))
    return int(total), examples


#: Integer types whose values fit in an int64 (counted in NumPy by :func:`_repeats`).
_INT64 = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$")


def _repeats(column: str, values: Any) -> tuple[int, tuple[Mapping[str, Any], ...]]:
    """:func:`_unique_stats` of non-null int64 ``values``: rows sharing a value, top repeats."""
    import numpy as np

    values = np.asarray(values, dtype=np.int64)
    if values.size < 2:
        return 0, ()
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span <= max(2 * values.size, 1 << 16):
        counts = np.bincount(values - lo, minlength=span)
        repeated = np.flatnonzero(counts > 1)
        n = counts[repeated]
        keys = repeated + lo
    else:
        ordered = np.sort(values)
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        sizes = np.diff(np.append(starts, ordered.size))
        repeated = sizes > 1
        n, keys = sizes[repeated], ordered[starts[repeated]]
    if not n.size:
        return 0, ()
    top = np.lexsort((keys, -n))[:EXAMPLES]  # most rows first, ties by value (as the SQL)
    examples = tuple({column: int(keys[i]), "rows": int(n[i])} for i in top)
    return int(n.sum()), examples


def _duplicate_rows(con: duckdb.DuckDBPyConnection, source: DataSource, cols: Sequence[str]) -> int:
    listing = ", ".join(quote(c) for c in cols)
    sql = (
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source.relation} "
        f"GROUP BY {listing} HAVING count(*) > 1)"
    )
    return int(run_query(con, sql, source)[0][0])


def _message(
    check: Check,
    n: int,
    rows: int,
    examples: Sequence[Mapping[str, Any]],
    value: float | None,
    source: DataSource,
    types: Mapping[str, str],
    schema: Schema | None,
) -> str:
    if not n:
        return ""
    col, kind, where = check.column, check.kind, source.label
    first = examples[0] if examples else {}
    at = ""
    if "row" in first:
        at = f" (first at row {first['row']}" + (
            f" of {first['file']}" if first.get("file") and first["file"] != where else ""
        )
        if col and col in first:
            at += f": {first[col]!r}"
        at += ")"
    share = f"{n:,} of {rows:,} rows"
    if kind == "missing_column":
        extra = [c for c in types if schema is None or c not in schema.columns]
        hint = did_you_mean(str(col), extra)
        fix = (
            "rename it back in the data, or rename it in the schema"
            if hint
            else "add it to the data or remove it from the schema"
        )
        return f"{where}: column '{col}' is missing{hint}; {fix}"
    if kind == "extra_column":
        return (
            f"{where}: column '{col}' is not in the schema; add it to the schema (`noria schema "
            "infer`) or drop it from the data"
        )
    if kind == "type":
        return (
            f"{where}: column '{col}' should be {check.params['type']} but {share} are not "
            f"(read as {types.get(str(col))}){at}; fix the values or the column's type in the "
            "schema"
        )
    if kind == "not_null":
        return f"{where}: column '{col}' has nulls in {share}{at}; fill them or set nullable: true"
    if kind == "range":
        return (
            f"{where}: column '{col}' is outside [{_show(check.params.get('min'))}, "
            f"{_show(check.params.get('max'))}] in {share}{at}; fix the values or the range"
        )
    if kind == "in_set":
        return (
            f"{where}: column '{col}' has values outside its allowed set in {share}{at} "
            "(a new category?); fix the values or add them to the schema's values"
        )
    if kind == "unique":
        shown = ", ".join(repr(e[str(col)]) for e in examples[:3])
        return (
            f"{where}: column '{col}' should be unique but {n:,} rows share a value "
            f"(e.g. {shown}); remove the duplicates or drop unique"
        )
    if kind == "duplicates":
        return f"{where}: {n:,} rows repeat an earlier row exactly; remove the duplicates"
    if kind == "regex":
        return (
            f"{where}: column '{col}' does not match /{check.params['pattern']}/ in {share}{at}; "
            "fix the values or the pattern"
        )
    if kind == "sql":
        return f"{where}: check '{check.label}' is false in {share}{at}; fix the rows or the check"
    if kind == "max_null_fraction":
        return (
            f"{where}: column '{col}' is {value:.1%} null, more than "
            f"{check.params['fraction']:.1%}; fill the nulls or raise max_null_fraction"
        )
    if kind == "row_count":
        return (
            f"{where}: has {rows:,} rows, outside [{_show(check.params.get('min'))}, "
            f"{_show(check.params.get('max'))}]; check the batch or the bounds"
        )
    return f"{where}: check '{check.label}' failed in {share}"


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
        if c.severity == "error" and not results[i].passed and c.kind in _ROW_KINDS
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
    names = ", ".join(f"CASE WHEN {p} THEN {_literal(label, 'string')} END" for label, p in parts)
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


def population_stability(reference: Any, batch: Any) -> float | None:
    """Population stability index of a batch column against the training column.

    Numbers and times use the reference histogram's bins plus the share below and above it;
    strings and booleans the reference's values plus one bucket for every other value. Nulls
    are one more bucket. ``None`` when the column kinds differ or either side is empty.
    """
    if reference.kind != batch.kind or reference.count == 0 or batch.count == 0:
        return None
    if reference.hist and batch.hist:
        ref = [reference.hist["below"], *reference.hist["counts"], reference.hist["above"]]
        cur = [batch.hist["below"], *batch.hist["counts"], batch.hist["above"]]
        if len(ref) != len(cur):
            return None
    elif reference.values and (batch.values or batch.non_null == 0):
        keys = list(reference.values)
        ref = [reference.values[k] for k in keys]
        ref.append(max(reference.non_null - sum(ref), 0))
        cur = [batch.values.get(k, 0) for k in keys]
        cur.append(max(batch.non_null - sum(cur), 0))
    else:
        return None
    ref.append(reference.nulls)
    cur.append(batch.nulls)
    rt, ct = sum(ref), sum(cur)
    if rt == 0 or ct == 0:
        return None
    eps = 1e-4
    psi = 0.0
    for r, c in zip(ref, cur, strict=True):
        pr, pc = max(r / rt, eps), max(c / ct, eps)
        psi += (pc - pr) * math.log(pc / pr)
    return psi
