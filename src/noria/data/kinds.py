"""Column kinds: the one vocabulary every part of noria sorts columns by.

A column is ``numeric``, ``boolean``, ``temporal`` or ``string`` (:data:`ColumnKind`), whether
the column is seen by DuckDB (a profile, a validation scan: :func:`kind_of`) or by pandas (a
model's signature, the server's request checks: :func:`kind_of_dtype`). The words are the ones
stored in profiles and drift reports (``"kind": "numeric"``), so they never change.

Not here: the *types* of a schema (``integer``, ``float``, ``date``, …: a finer contract a person
edits, :mod:`noria.data.schema`); the HTTP wire types of a kind (:mod:`noria.serve.oip`,
:mod:`noria.serve.openapi`).
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "BOOLEAN",
    "KINDS",
    "NUMERIC",
    "STRING",
    "TEMPORAL",
    "ColumnKind",
    "is_float_type",
    "is_integer_type",
    "kind_of",
    "kind_of_dtype",
]

#: The kind of a column.
ColumnKind = Literal["numeric", "boolean", "temporal", "string"]
NUMERIC: ColumnKind = "numeric"
BOOLEAN: ColumnKind = "boolean"
TEMPORAL: ColumnKind = "temporal"
STRING: ColumnKind = "string"
#: Every kind, in the order reports list them.
KINDS: tuple[ColumnKind, ...] = (NUMERIC, BOOLEAN, TEMPORAL, STRING)

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|DECIMAL.*|REAL)$"
)
_INTEGER = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP.*)$")


def kind_of(dtype: str) -> ColumnKind:
    """The kind of a DuckDB type: ``numeric``, ``boolean``, ``temporal`` or ``string``."""
    dtype = dtype.upper()
    if _NUMERIC.match(dtype):
        return NUMERIC
    if dtype == "BOOLEAN":
        return BOOLEAN
    if _TEMPORAL.match(dtype):
        return TEMPORAL
    return STRING


def is_integer_type(dtype: str) -> bool:
    """Whether a DuckDB type is an integer type (signed or not, ``HUGEINT`` included)."""
    return bool(_INTEGER.match(dtype.upper()))


def is_float_type(dtype: str) -> bool:
    """Whether a DuckDB type is a binary floating-point type (whose values may be NaN)."""
    return dtype.upper() in ("FLOAT", "DOUBLE", "REAL")


def kind_of_dtype(dtype: str) -> ColumnKind:
    """The kind of a pandas dtype string (``float64``, ``Int64``, ``bool``, ``datetime64[ns]``,
    ``object``, …); a ``timedelta`` is numeric."""
    d = dtype.lower()
    if d.startswith(("float", "int", "uint", "timedelta")):
        return NUMERIC
    if d in ("bool", "boolean"):
        return BOOLEAN
    if d.startswith("datetime"):
        return TEMPORAL
    return STRING
