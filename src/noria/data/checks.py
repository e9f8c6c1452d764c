"""The checks of a batch: what each kind means, where checks come from, and what a failure says.

A :class:`Check` is one rule to run: a kind (:data:`CHECK_KINDS` for the ones a user writes in
``noria.yaml``; ``missing_column``, ``extra_column``, ``type``, ``duplicates`` and ``skew`` come
from the schema and the reference profile), the column, a severity and the kind's parameters.
:func:`parse_checks` reads the user's checks (``validation.checks``), :func:`schema_checks` the
ones a schema implies, and :func:`failure_message` writes the one line a failure gets.

Not here: running checks (:mod:`noria.data.validate`), their SQL (:mod:`noria.data.check_sql`),
the results (:mod:`noria.data.validation_report`), the schema (:mod:`noria.data.schema`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.data.sqlcheck import checked_expression
from noria.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from noria.data.schema import Schema

__all__ = [
    "CHECK_KINDS",
    "ROW_KINDS",
    "Check",
    "failure_message",
    "parse_checks",
    "schema_checks",
    "show_bound",
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
#: The kinds checked row by row (dropping the failing rows fixes the batch).
ROW_KINDS = ("type", "not_null", "range", "in_set", "regex", "sql", "unique", "duplicates")


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
            "range": f"[{show_bound(p.get('min'))}, {show_bound(p.get('max'))}]",
            "in_set": f"{len(p.get('values', ()))} values",
            "regex": f"/{p.get('pattern')}/",
            "max_null_fraction": f"≤ {p.get('fraction')}",
            "row_count": f"[{show_bound(p.get('min'))}, {show_bound(p.get('max'))}]",
            "sql": str(p.get("sql")),
            "type": str(p.get("type")),
        }.get(self.kind, "")
        head = f"{self.column}: {self.kind}" if self.column else self.kind
        return f"{head} {detail}".strip()


def show_bound(value: Any) -> str:
    """A bound for people: the value, or ``-`` for none."""
    return "-" if value is None else str(value)


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


def failure_message(
    check: Check,
    n: int,
    rows: int,
    examples: Sequence[Mapping[str, Any]],
    value: float | None,
    where: str,
    types: Mapping[str, str],
    schema: Schema | None,
) -> str:
    """One line for a failed check: what failed, where (``where``: the file, the frame), the
    first failing row, and the fix; ``""`` when nothing failed (``n`` is 0)."""
    if not n:
        return ""
    col, kind = check.column, check.kind
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
            f"{where}: column '{col}' is outside [{show_bound(check.params.get('min'))}, "
            f"{show_bound(check.params.get('max'))}] in {share}{at}; fix the values or the range"
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
            f"{where}: has {rows:,} rows, outside [{show_bound(check.params.get('min'))}, "
            f"{show_bound(check.params.get('max'))}]; check the batch or the bounds"
        )
    return f"{where}: check '{check.label}' failed in {share}"
