"""The schema: the contract of the data, inferred from a profile and kept as readable YAML.

:func:`infer_schema` turns the training :class:`~noria.data.profile.Profile` into a
:class:`Schema`; :meth:`Schema.to_yaml` writes it as a commented file that a person edits by hand
(``noria schema infer`` writes ``noria.schema.yaml``, ``noria schema show`` prints it), and
:func:`load_schema` reads it back with errors that name the file, the column and the fix.

A column declares its ``type`` (``integer``, ``float``, ``boolean``, ``datetime``, ``date``,
``string``), whether it is ``nullable``, a ``min``/``max`` range, a category domain ``values``,
and whether it is ``unique``; ``warn`` lists the checks of the column that only warn instead of
failing the batch (inferred ranges warn by default: a new batch a bit outside the training range
is news, not an error). At the top, ``extra_columns`` says what a column the schema does not know
is (``error``, ``warn`` or ``ignore``), ``duplicates`` what a fully duplicated row is, and
``min_rows``/``max_rows`` bound the row count.

Inference rules (write them down, so a person knows what to edit):

* ``nullable`` when the training data has a null; ``min``/``max`` the observed range.
* ``values`` for a string column with every value counted and at most ``max_categories``
  distinct values, each seen on average at least twice.
* ``unique`` for a string or integer column whose values are all distinct (exact for strings;
  for integers the distinct estimate within 3 % of the rows — :func:`infer_schema_from_data`
  then confirms it exactly and drops it when the training data has a duplicate).

Not here: running the checks (:mod:`noria.data.validate`), the user checks of ``noria.yaml``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.data.kinds import NUMERIC, STRING, ColumnKind, is_integer_type, kind_of, kind_of_dtype
from noria.errors import ConfigError, did_you_mean
from noria.yamlfile import load_yaml

if TYPE_CHECKING:
    from noria.data.profile import ColumnProfile, Profile

__all__ = [
    "SCHEMA_FILE",
    "TYPES",
    "ColumnSchema",
    "Schema",
    "dtype_kind",
    "infer_schema",
    "infer_schema_from_data",
    "load_schema",
    "signature_of",
    "type_of",
]

#: The default file name of a project's schema.
SCHEMA_FILE = "noria.schema.yaml"
#: The column types a schema knows.
TYPES = ("integer", "float", "boolean", "datetime", "date", "string")
#: The checks of a column, as ``warn:`` names them.
COLUMN_CHECKS = ("type", "nullable", "range", "values", "unique")
_SEVERITIES = ("error", "warn", "ignore")


def type_of(dtype: str) -> str:
    """The schema type of a DuckDB type (``BIGINT`` → ``integer``, ``VARCHAR`` → ``string``)."""
    upper = dtype.upper()
    kind = kind_of(upper)
    if kind == "numeric":
        return "integer" if is_integer_type(upper) else "float"
    if kind == "boolean":
        return "boolean"
    if kind == "temporal":
        return "date" if upper == "DATE" else "datetime"
    return "string"


@dataclass(frozen=True)
class ColumnSchema:
    """What one column must be.

    Attributes:
        name: The column's name.
        type: One of :data:`TYPES`.
        nullable: Whether nulls are allowed.
        min, max: The allowed range (numbers; ISO strings for dates and times), or ``None``.
        values: The allowed values (a category domain), or ``None`` for any.
        unique: Whether every non-null value must be distinct.
        warn: Checks of this column that only warn (names from :data:`COLUMN_CHECKS`).
    """

    name: str
    type: str = "string"
    nullable: bool = True
    min: Any = None
    max: Any = None
    values: tuple[Any, ...] | None = None
    unique: bool = False
    warn: tuple[str, ...] = ()

    def severity(self, check: str) -> str:
        """``"warn"`` when ``check`` is in :attr:`warn`, else ``"error"``."""
        return "warn" if check in self.warn else "error"

    def to_dict(self) -> dict[str, Any]:
        """The column's YAML mapping (defaults left out)."""
        out: dict[str, Any] = {"type": self.type, "nullable": self.nullable}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.values is not None:
            out["values"] = list(self.values)
        if self.unique:
            out["unique"] = True
        if self.warn:
            out["warn"] = list(self.warn)
        return out


@dataclass(frozen=True)
class Schema:
    """The contract of a dataset: its columns and the table-level rules.

    Attributes:
        columns: Column schemas by name, in order.
        extra_columns: What a column absent from the schema is: ``error``, ``warn``, ``ignore``.
        duplicates: What a fully duplicated row is: ``error``, ``warn`` or ``ignore``.
        min_rows, max_rows: Bounds of the row count (``None``: unbounded).
        source: Where it was inferred from (a comment in the file).
    """

    columns: dict[str, ColumnSchema] = field(default_factory=dict)
    extra_columns: str = "warn"
    duplicates: str = "warn"
    min_rows: int | None = 1
    max_rows: int | None = None
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-able dict."""
        return {
            "version": 1,
            "extra_columns": self.extra_columns,
            "duplicates": self.duplicates,
            "min_rows": self.min_rows,
            "max_rows": self.max_rows,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "schema") -> Schema:
        """Build a schema from its dict; errors name ``where`` and the column.

        Raises:
            ConfigError: An unknown key, type, severity or check name, or a wrong value.
        """
        top = ("version", "extra_columns", "duplicates", "min_rows", "max_rows", "columns")
        for key in data:
            if key not in top:
                raise ConfigError(
                    f"{where}: unknown key '{key}'{did_you_mean(str(key), top)}; "
                    f"valid keys: {', '.join(top)}"
                )
        for key in ("extra_columns", "duplicates"):
            if data.get(key, "warn") not in _SEVERITIES:
                raise ConfigError(
                    f"{where}: {key}: '{data[key]}' is not one of {', '.join(_SEVERITIES)}"
                )
        raw_cols = data.get("columns") or {}
        if not isinstance(raw_cols, Mapping):
            raise ConfigError(f"{where}: columns: must be a mapping of column name to its rules")
        columns = {str(n): _column(str(n), c, where) for n, c in raw_cols.items()}
        return cls(
            columns=columns,
            extra_columns=data.get("extra_columns", "warn"),
            duplicates=data.get("duplicates", "warn"),
            min_rows=_opt_int(data.get("min_rows", 1), "min_rows", where),
            max_rows=_opt_int(data.get("max_rows"), "max_rows", where),
        )

    def to_yaml(self) -> str:
        """The schema as the commented YAML file a person reads and edits."""
        import yaml

        head = [
            "# noria schema: the contract every batch is checked against (`noria validate`).",
            f"# Inferred from {self.source}; edit freely." if self.source else "# Edit freely.",
            "# Per column: type (integer | float | boolean | datetime | date | string),",
            "# nullable, min/max, values (the allowed categories), unique, and warn: the checks",
            "# of the column that only warn (type, nullable, range, values, unique).",
            "# extra_columns / duplicates: error | warn | ignore. min_rows / max_rows: null = any.",
            "",
        ]
        body = yaml.safe_dump(
            self.to_dict(), sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
        )
        return "\n".join(head) + body

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_yaml` to ``path`` (atomically); returns the path."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(self.to_yaml(), encoding="utf-8")
        tmp.replace(target)
        return target


def _opt_int(value: Any, key: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {key}: must be a whole number ≥ 0 or null (got {value!r})")
    return value


def _column(name: str, raw: Any, where: str) -> ColumnSchema:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: column '{name}': must be a mapping (type:, nullable:, …)")
    keys = ("type", "nullable", "min", "max", "values", "unique", "warn")
    for key in raw:
        if key not in keys:
            raise ConfigError(
                f"{where}: column '{name}': unknown key '{key}'{did_you_mean(str(key), keys)}; "
                f"valid keys: {', '.join(keys)}"
            )
    typ = raw.get("type", "string")
    if typ not in TYPES:
        raise ConfigError(
            f"{where}: column '{name}': unknown type '{typ}'{did_you_mean(str(typ), TYPES)}; "
            f"use one of {', '.join(TYPES)}"
        )
    warn = raw.get("warn") or []
    if isinstance(warn, str):
        warn = [warn]
    for check in warn:
        if check not in COLUMN_CHECKS:
            raise ConfigError(
                f"{where}: column '{name}': warn: unknown check '{check}'"
                f"{did_you_mean(str(check), COLUMN_CHECKS)}; use {', '.join(COLUMN_CHECKS)}"
            )
    values = raw.get("values")
    if values is not None and not isinstance(values, list):
        raise ConfigError(f"{where}: column '{name}': values: must be a list (got {values!r})")
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and typ in ("integer", "float") and not isinstance(value, int | float):
            raise ConfigError(f"{where}: column '{name}': {key}: must be a number (got {value!r})")
    return ColumnSchema(
        name=name,
        type=typ,
        nullable=bool(raw.get("nullable", True)),
        min=_plain(raw.get("min")),
        max=_plain(raw.get("max")),
        values=tuple(values) if values is not None else None,
        unique=bool(raw.get("unique", False)),
        warn=tuple(warn),
    )


def _plain(value: Any) -> Any:
    """YAML dates and times as ISO strings (the schema keeps them as text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def load_schema(path: str | Path) -> Schema:
    """Read a schema YAML file.

    Raises:
        ConfigError: The file is missing, not YAML, or has an invalid key or value.
    """
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no schema file; create it with `noria schema infer` (from the training "
            "data) or write one"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc})") from None
    try:
        raw, _ = load_yaml(text, file)  # no aliases: no alias bomb, no recursion
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{file}: must be a mapping (columns:, extra_columns:, …)")
    return Schema.from_dict(raw, where=str(file))


def infer_schema(profile: Profile, *, max_categories: int = 50) -> Schema:
    """The schema a training profile implies (see the module docstring for the rules).

    Args:
        profile: The training data's profile.
        max_categories: Most distinct values a string column may have to get a domain.
    """
    columns = {name: _infer_column(col, max_categories) for name, col in profile.columns.items()}
    return Schema(columns=columns, source=f"{profile.source} ({profile.rows:,} rows)")


def _infer_column(col: ColumnProfile, max_categories: int) -> ColumnSchema:
    typ = type_of(col.dtype)
    out = ColumnSchema(name=col.name, type=typ, nullable=col.nulls > 0)
    if col.non_null == 0:
        return replace(out, nullable=True)
    if typ in ("integer", "float"):
        lo, hi = col.min, col.max
        if typ == "float":
            lo, hi = float(lo), float(hi)
        if all(isinstance(v, int | float) and math.isfinite(v) for v in (lo, hi)):
            out = replace(out, min=lo, max=hi, warn=("range",))
    elif typ in ("datetime", "date"):
        out = replace(out, min=_iso(col.min, typ), max=_iso(col.max, typ), warn=("range",))
    elif typ == "string" and col.values_complete:
        distinct = len(col.values)
        if distinct <= max_categories and col.non_null >= 2 * distinct:
            values = sorted(col.values, key=str)
            out = replace(out, values=tuple(values))
    if typ in ("string", "integer") and col.non_null > 1:
        if col.distinct_exact is not None:
            unique = col.distinct_exact == col.non_null
        else:
            unique = col.distinct >= 0.97 * col.non_null
        if unique:
            out = replace(out, unique=True)
    return out


def _iso(seconds: float, typ: str) -> str:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)
    return moment.date().isoformat() if typ == "date" else moment.isoformat()


def infer_schema_from_data(
    data: Any, *, format: str = "auto", base: Path | None = None, max_categories: int = 50
) -> tuple[Schema, Profile]:
    """Profile ``data``, infer its schema, and drop any rule its own data breaks.

    A ``unique`` guessed from the distinct estimate is checked exactly; the training data
    always passes the schema inferred from it.

    Returns:
        The schema and the profile it was inferred from.
    """
    import duckdb

    from noria.data.profiling import profile_source
    from noria.data.scan import open_source
    from noria.data.uniques import count_duplicates

    con = duckdb.connect()
    try:
        source = open_source(con, data, format=format, base=base)
        profile = profile_source(con, source)
        schema = infer_schema(profile, max_categories=max_categories)
        guessed = [
            c.name
            for c in schema.columns.values()
            if c.unique and profile.columns[c.name].distinct_exact is None
        ]
        if guessed:
            dupes = count_duplicates(con, source, guessed)
            columns = dict(schema.columns)
            for name, n in dupes.items():
                if n:
                    columns[name] = replace(columns[name], unique=False)
            schema = replace(schema, columns=columns)
        return schema, profile
    finally:
        con.close()


# ------------------------------------------------------------------ a model's signature


#: Most distinct values of a categorical column a signature lists (more: no unseen-value count).
MAX_SIGNATURE_VALUES = 1000


def dtype_kind(dtype: str) -> ColumnKind:
    """The kind of a pandas dtype string (:func:`noria.data.kinds.kind_of_dtype`)."""
    return kind_of_dtype(dtype)


def signature_of(frame: Any, plan: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The signature of a model trained on ``frame`` (its feature columns, the target left out).

    Each column gets its ``name`` and pandas ``dtype``; with the column plan of training
    (:meth:`noria.features.preprocess.ColumnPlan.to_dict`), a column the plan dropped gets
    ``used: false`` (the server lets a request leave it out), a numeric feature its training
    ``min`` and ``max``, and a categorical string feature its ``values`` (at most
    :data:`MAX_SIGNATURE_VALUES`): the facts :class:`noria.serve.schema.InputCounts` counts.
    A column of dates written as text (the plan's ``date_formats``) gets the ``formats`` its
    values are read with and ``dayfirst`` (``true``, ``false`` or ``null``): the server and
    ``noria predict`` accept for it what those formats (or ISO 8601) read.

    Args:
        frame: The training features as a pandas DataFrame.
        plan: The column plan as a dict, or ``None`` (name and dtype only).
    """
    import pandas as pd

    plan = plan or {}
    dropped = set(plan.get("dropped", {}) or {})
    numeric = set(plan.get("numeric", ()) or ())
    categorical = set(plan.get("onehot", ()) or ()) | set(plan.get("high_cardinality", ()) or ())
    date_formats = dict(plan.get("date_formats", {}) or {})
    out: list[dict[str, Any]] = []
    for name, dtype in frame.dtypes.items():
        entry: dict[str, Any] = {"name": str(name), "dtype": str(dtype)}
        kind = dtype_kind(str(dtype))
        series = frame[name]
        if name in dropped:
            entry["used"] = False
        elif str(name) in date_formats:
            formats = [str(f) for f in date_formats[str(name)]]
            entry["formats"] = formats
            entry["dayfirst"] = _dayfirst(formats)
        elif name in numeric and kind == NUMERIC:
            values = pd.to_numeric(series, errors="coerce").astype("float64")
            lo, hi = values.min(), values.max()
            if pd.notna(lo) and pd.notna(hi) and math.isfinite(lo) and math.isfinite(hi):
                entry["min"], entry["max"] = _plain_number(lo), _plain_number(hi)
        elif name in categorical and kind == STRING:
            distinct = series.dropna().astype(str).unique()
            if len(distinct) <= MAX_SIGNATURE_VALUES:
                entry["values"] = sorted(str(v) for v in distinct)
        out.append(entry)
    return out


def _dayfirst(formats: list[str]) -> bool | None:
    """Whether ``formats`` read day and month as numbers day-first (``None``: none of them)."""
    for fmt in formats:
        d, m = fmt.find("%d"), fmt.find("%m")
        if d >= 0 and m >= 0 and "%Y" in fmt and not fmt.startswith("%Y"):
            return d < m
    return None


def _plain_number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
