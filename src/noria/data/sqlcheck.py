"""The ``sql`` validation check, kept to what it claims to be: one expression over a row.

A check such as ``{sql: "amount <= balance"}`` is pasted into the validator's queries as
``NOT coalesce((<expression>), true)``. Pasted as text, an expression could close its
parenthesis and go on (``1) UNION SELECT … FROM read_text('/etc/passwd') …``), run a subquery
over any file (``(SELECT count(*) FROM read_csv('~/.ssh/…')) > 0``), or, with a ``;``, a
``COPY … TO`` of its own. Checks may come from data contracts that are less trusted than the
code, so two independent guards:

* :func:`checked_expression` parses the wrapped predicate with DuckDB's own parser
  (``json_serialize_sql``) and accepts it only when it is one ``SELECT`` over one table whose
  ``WHERE`` is exactly ``NOT coalesce((<one expression>), true)``, without subqueries, and
  refuses it otherwise with a :class:`~noria.errors.ConfigError` naming the check;
* :func:`sandbox` locks the DuckDB connection a validation with ``sql`` checks runs on: no
  file access but to the files being validated (``allowed_paths``), no extension loading, no
  setting changed afterwards (``enable_external_access = false``, ``lock_configuration``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

__all__ = ["checked_expression", "predicate", "sandbox"]


def predicate(expression: str) -> str:
    """SQL that is true for a row failing the check (NULL passes, as a SQL ``CHECK``)."""
    return f"NOT coalesce(({expression}), true)"


def checked_expression(expression: str, where: str) -> str:
    """``expression`` once it is known to be one SQL expression over a row.

    Args:
        expression: the check's SQL.
        where: the check, for messages (``validation.checks[2]``).

    Raises:
        ConfigError: it is not one expression: a statement of its own, a subquery, a second
            query, a ``;``, or not SQL at all.
    """
    problem = _problem(expression)
    if problem is not None:
        raise ConfigError(
            f"{where}: sql {_short(expression)} is refused: {problem}; a sql check is one "
            "boolean expression over the row's columns, such as 'amount <= balance'"
        )
    return expression


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


@functools.lru_cache(maxsize=256)
def _problem(expression: str) -> str | None:
    """Why ``expression`` is not one expression, or ``None``."""
    import duckdb
    import orjson

    if not expression.strip():
        return "it is empty"
    query = f"SELECT count(*) FROM t WHERE {predicate(expression)}"
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        [(text,)] = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [query]).fetchall()
    finally:
        con.close()
    parsed = orjson.loads(text)
    if parsed.get("error"):
        message = str(parsed.get("error_message", "")).splitlines()[0:1]
        return f"it is not one SQL expression ({message[0] if message else 'parse error'})"
    statements = parsed.get("statements", [])
    if len(statements) != 1:
        return "it holds more than one statement"
    node = statements[0].get("node", {})
    if node.get("type") != "SELECT_NODE" or node.get("cte_map", {}).get("map"):
        return "it is not a plain expression (a second query or a WITH)"
    table = node.get("from_table", {})
    if table.get("type") != "BASE_TABLE" or table.get("table_name") != "t":
        return "it reads from another table"
    if node.get("modifiers") or node.get("group_expressions") or node.get("having"):
        return "it is not a plain expression (ORDER BY, LIMIT, GROUP BY or HAVING after it)"
    where = node.get("where_clause") or {}
    inner = (where.get("children") or [{}])[0] if where.get("type") == "OPERATOR_NOT" else {}
    args = inner.get("children") or []
    last = args[-1] if args else {}
    if (
        inner.get("type") != "OPERATOR_COALESCE"
        or len(args) != 2
        or last.get("literal", {}).get("text") != "true"
    ):
        return "it is more than one expression"
    if any(part.get("class") == "SUBQUERY" for part in _walk(args[0])):
        return "it holds a subquery (a sql check may read only the row's own columns)"
    return None


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside a parsed tree."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def sandbox(con: duckdb.DuckDBPyConnection, files: Iterable[Path]) -> None:
    """Take file access away from ``con`` but for ``files`` (the data it validates).

    Call once the data is registered (a frame) or its files are named (``files``); nothing on
    the connection can be reconfigured afterwards.
    """
    listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    if listing:
        con.execute(f"SET allowed_paths = [{listing}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
