"""Filter expressions of the runs page, parsed into parameterised SQL.

The language, for people who know MLflow's search::

    roc_auc > 0.9 and model = lightgbm
    status in (failed, interrupted) or name ~ "churn"
    not (params.learning_rate >= 0.1) and tags.owner = "ana"
    started >= 2024-05-01 and duration < 60

- a comparison is ``COLUMN OP VALUE`` with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``~``
  (contains, case-insensitive), ``!~`` (does not contain), or ``COLUMN in (V1, V2, ...)``;
  comparisons combine with ``and``, ``or``, ``not`` and parentheses (``and`` binds first);
- a column is a run attribute (``name status kind pipeline owner host id started ended
  duration``), or a metric, param or tag key: ``metrics.KEY``, ``params.KEY``, ``tags.KEY``
  say which; a bare ``KEY`` is an attribute, else a metric, else a param, else a tag (the first
  that exists); a key with unusual characters is written in backticks: ```my key```;
- a value is a number, a quoted string (``'...'`` or ``"..."``) or a bare word (``lightgbm``);
  a metric is the last logged value; a param compares as a number when it is one, and a bare word
  matches both the string and the JSON literal (``early_stopping = true``).

Everything the user typed reaches the database as a bound parameter (keys included): the SQL text
is assembled only from fixed fragments, so an expression cannot inject SQL. A syntax error is a
:class:`FilterError` whose ``column`` (1-based) points at the offending character.

Not here: running the query or paging (:mod:`noria.ui.queries`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from noria.errors import UserError

__all__ = ["ATTRIBUTES", "Column", "FilterError", "SqlBuilder", "parse_column", "parse_filter"]

#: Run attributes: name -> (SQL expression on ``runs r``, numeric?).
ATTRIBUTES: dict[str, tuple[str, bool]] = {
    "name": ("r.name", False),
    "status": ("r.status", False),
    "kind": ("r.kind", False),
    "pipeline": ("r.pipeline", False),
    "owner": ("r.owner", False),
    "host": ("r.host", False),
    "id": ("r.id", False),
    "started": ("r.started_at", True),
    "ended": ("r.ended_at", True),
    "duration": ("(r.ended_at - r.started_at)", True),
}
_PREFIXES = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
}
_OPS = ("!=", "<=", ">=", "!~", "=", "<", ">", "~")


class FilterError(UserError):
    """A filter expression that does not parse; ``column`` is the 1-based offending position."""

    http_status = 400

    def __init__(self, message: str, column: int, expression: str) -> None:
        self.column = column
        self.expression = expression
        self.reason = message
        super().__init__(f"filter: {message} (column {column})")


@dataclass(frozen=True)
class Column:
    """A column of the runs table: an attribute, or the key of a metric, param or tag."""

    kind: str  # attr | metric | param | tag
    key: str

    @property
    def label(self) -> str:
        """How the column is written in URLs and filters (``metrics.roc_auc``, ``status``)."""
        if self.kind == "attr":
            return self.key
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:/-]*", self.key)
        key = self.key if bare else "`" + self.key.replace("`", "") + "`"
        return f"{self.kind}s.{key}"


@dataclass
class Catalog:
    """The keys that exist in the store, to resolve bare names (see :func:`noria.ui.queries`)."""

    metrics: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    def resolve(self, name: str) -> Column | None:
        """The column a bare name means, or ``None`` when nothing has that name."""
        if name in ATTRIBUTES:
            return Column("attr", name)
        for kind, keys in (("metric", self.metrics), ("param", self.params), ("tag", self.tags)):
            if name in keys:
                return Column(kind, name)
        return None


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z0-9_:/-]))
    |(?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<quoted>`[^`]*`)
    |(?P<word>[A-Za-z_][A-Za-z0-9_.:/-]*)
    |(?P<op>!=|<=|>=|!~|=|<|>|~)
    |(?P<punct>[(),])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int  # 0-based


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = "a closing quote is missing" if ch in "'\"`" else f"unexpected '{ch}'"
            raise FilterError(hint, pos + 1, text)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    return out


# --------------------------------------------------------------------------- SQL


@dataclass
class SqlBuilder:
    """Bound parameters and the joins that columns need, for one query.

    Args:
        sqlite: whether the database is SQLite (else PostgreSQL-compatible SQL).
    """

    sqlite: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    joins: dict[Column, str] = field(default_factory=dict)
    #: a metric's or param's cached column table (:class:`noria.ui.caches.ColumnCache`), if any
    cached: Callable[[Column], str | None] | None = None
    uses_cache: bool = False

    def bind(self, value: Any) -> str:
        """A placeholder bound to ``value``."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def expr(self, column: Column) -> str:
        """The SQL expression of a column's value (its join added on first use)."""
        if column.kind == "attr":
            return ATTRIBUTES[column.key][0]
        alias = self.joins.get(column)
        if alias is None:
            alias = f"j{len(self.joins)}"
            self.joins[column] = alias
            self._join_sql[column] = self._join(column, alias)
        return f"{alias}.{self._cached_alias.get(alias, 'value')}"

    def __post_init__(self) -> None:
        self._join_sql: dict[Column, str] = {}
        self._cached_alias: dict[str, str] = {}

    def _join(self, column: Column, alias: str) -> str:
        table = self.cached(column) if self.cached is not None else None
        if table is not None:  # one row per run: the last metric value, the param's JSON text
            self.uses_cache = True
            self._cached_alias[alias] = "num" if column.kind == "metric" else "txt"
            return f"LEFT JOIN temp.{table} {alias} ON {alias}.run_id = r.id"
        key = self.bind(column.key)
        if column.kind == "metric":  # the last logged value: the highest id of (run, key)
            return (
                f"LEFT JOIN metrics {alias} ON {alias}.id = (SELECT MAX(mm.id) FROM metrics mm "
                f"WHERE mm.run_id = r.id AND mm.key = {key})"
            )
        table = "params" if column.kind == "param" else "tags"
        return f"LEFT JOIN {table} {alias} ON {alias}.run_id = r.id AND {alias}.key = {key}"

    def join_sql(self) -> str:
        """The LEFT JOINs of every column used so far."""
        return " ".join(self._join_sql.values())

    def number(self, sql: str) -> str:
        """``sql`` (text) as a number when it is one, else NULL."""
        if self.sqlite:
            return f"(CASE WHEN substr({sql}, 1, 1) GLOB '[-0-9.]' THEN CAST({sql} AS REAL) END)"
        return (
            f"(CASE WHEN {sql} ~ '^-?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?$' "
            f"THEN CAST({sql} AS DOUBLE PRECISION) END)"
        )

    def sort_keys(self, column: Column) -> list[str]:
        """ORDER BY expressions for a column (numbers before text for params and tags)."""
        sql = self.expr(column)
        if column.kind in ("param", "tag"):
            return [self.number(sql), sql]
        return [sql]


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern for ``text`` anywhere (``%``, ``_``, ``\\`` escaped)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _epoch(text: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, resolve: Callable[[str, int], Column], sql: SqlBuilder):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.resolve = resolve
        self.sql = sql

    def error(self, message: str, tok: _Tok | None = None) -> FilterError:
        pos = tok.pos if tok is not None else len(self.text)
        return FilterError(message, pos + 1, self.text)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> str:
        where = self.or_()
        tok = self.peek()
        if tok is not None:
            raise self.error(f"expected 'and', 'or' or the end, found '{tok.text}'", tok)
        return where

    def or_(self) -> str:
        parts = [self.and_()]
        while self.keyword("or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_(self) -> str:
        parts = [self.not_()]
        while self.keyword("and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def not_(self) -> str:
        if self.keyword("not"):
            return f"(NOT {self.not_()})"
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.i += 1
            inner = self.or_()
            close = self.peek()
            if close is None or close.text != ")":
                raise self.error("a closing ')' is missing", close)
            self.i += 1
            return inner
        return self.comparison()

    def column(self) -> Column:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a column name")
        if tok.kind == "quoted":
            self.i += 1
            return self.resolve(tok.text[1:-1], tok.pos + 1)
        if tok.kind != "word" or tok.text.lower() in ("and", "or", "not", "in"):
            raise self.error(f"expected a column name, found '{tok.text}'", tok)
        self.i += 1
        prefix, dot, rest = tok.text.partition(".")
        if dot and prefix.lower() in _PREFIXES:
            key = rest
            nxt = self.peek()
            if (
                not key
                and nxt is not None
                and nxt.kind == "quoted"
                and nxt.pos == tok.pos + len(tok.text)
            ):
                self.i += 1
                key = nxt.text[1:-1]
            if not key:
                raise self.error(f"expected a key after '{tok.text}'", tok)
            return Column(_PREFIXES[prefix.lower()], key)
        return self.resolve(tok.text, tok.pos + 1)

    def value(self) -> tuple[Any, _Tok]:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a value")
        self.i += 1
        if tok.kind == "num":
            return float(tok.text), tok
        if tok.kind == "str":
            body = tok.text[1:-1]
            return re.sub(r"\\(.)", r"\1", body), tok
        if tok.kind in ("word", "date"):
            return tok.text, tok
        raise self.error(f"expected a value, found '{tok.text}'", tok)

    def comparison(self) -> str:
        col_tok = self.peek()
        column = self.column()
        if self.keyword("in"):
            open_ = self.peek()
            if open_ is None or open_.text != "(":
                raise self.error("expected '(' after 'in'", open_)
            self.i += 1
            parts = []
            while True:
                value, vtok = self.value()
                parts.append(self.compare(column, "=", value, vtok))
                sep = self.peek()
                if sep is not None and sep.text == ",":
                    self.i += 1
                    continue
                if sep is not None and sep.text == ")":
                    self.i += 1
                    break
                raise self.error("expected ',' or ')' in the list", sep)
            return "(" + " OR ".join(parts) + ")"
        op_tok = self.peek()
        if op_tok is None or op_tok.kind != "op":
            found = f", found '{op_tok.text}'" if op_tok else ""
            name = col_tok.text if col_tok else ""
            raise self.error(
                f"expected an operator (= != < <= > >= ~ in) after '{name}'{found}", op_tok
            )
        self.i += 1
        value, vtok = self.value()
        return self.compare(column, op_tok.text, value, vtok)

    def compare(self, column: Column, op: str, value: Any, tok: _Tok) -> str:
        sql = self.sql
        is_num = isinstance(value, float)
        text = tok.text if is_num else value
        if op in ("~", "!~"):
            expr = sql.expr(column)
            neg = "NOT " if op == "!~" else ""
            return f"({neg}LOWER({expr}) LIKE {sql.bind(like_pattern(text))} ESCAPE '\\')"
        ordering = op not in ("=", "!=")
        sql_op = "<>" if op == "!=" else op
        if column.kind == "metric" or (column.kind == "attr" and ATTRIBUTES[column.key][1]):
            if not is_num:
                when = _epoch(value) if column.kind == "attr" else None
                if when is None:
                    what = f"metric '{column.key}'" if column.kind == "metric" else column.key
                    hint = " or a date (2024-05-01)" if column.kind == "attr" else ""
                    raise self.error(
                        f"{what} holds numbers: compare it with a number{hint}, not '{text}'",
                        tok,
                    )
                value = when
            return f"({sql.expr(column)} {sql_op} {sql.bind(value)})"
        if column.kind == "attr":
            return f"({sql.expr(column)} {sql_op} {sql.bind(text)})"
        expr = sql.expr(column)
        if is_num:
            return f"({sql.number(expr)} {sql_op} {sql.bind(value)})"
        if ordering:
            raise self.error(
                f"'{op}' compares numbers; '{text}' is not one (use = != or ~ for text)", tok
            )
        if column.kind == "tag":
            return f"({expr} {sql_op} {sql.bind(text)})"
        # params are JSON: a string matches its JSON form, a bare word also a literal (true, null)
        forms = {orjson.dumps(text).decode()}
        if tok.kind in ("word", "date"):
            forms.add(text)
        marks = ", ".join(sql.bind(f) for f in sorted(forms))
        neg = "NOT " if op == "!=" else ""
        return f"({expr} {neg}IN ({marks}))"


def parse_filter(
    text: str, catalog: Catalog, sql: SqlBuilder, *, refresh: Callable[[], Catalog] | None = None
) -> str:
    """The SQL condition (on ``runs r`` plus ``sql``'s joins) of a filter expression.

    Args:
        text: the expression; empty means no condition (``1 = 1``).
        catalog: the known keys, to resolve bare names.
        sql: collects the bound parameters and joins.
        refresh: called once to reload the catalog before a bare name is declared unknown.

    Raises:
        FilterError: a syntax error, an unknown column or a value of the wrong kind.
    """
    if not text.strip():
        return "1 = 1"
    state = {"catalog": catalog}

    def resolve(name: str, column: int) -> Column:
        found = state["catalog"].resolve(name)
        if found is None and refresh is not None:
            state["catalog"] = refresh()
            found = state["catalog"].resolve(name)
        if found is None:
            raise FilterError(
                f"no attribute, metric, param or tag is called '{name}' (write metrics.{name}, "
                f"params.{name} or tags.{name} to look for it anyway)",
                column,
                text,
            )
        return found

    return _Parser(text, resolve, sql).parse()


def parse_column(text: str, catalog: Catalog) -> Column | None:
    """The column a sort key or a column choice names (``metrics.roc_auc``, ``status``, …).

    Returns ``None`` for an unknown bare name; a prefixed name is always taken as given.
    """
    text = text.strip()
    prefix, dot, rest = text.partition(".")
    if dot and prefix.lower() in _PREFIXES and rest:
        key = rest[1:-1] if len(rest) > 1 and rest[0] == rest[-1] == "`" else rest
        return Column(_PREFIXES[prefix.lower()], key)
    if len(text) > 1 and text[0] == text[-1] == "`":
        text = text[1:-1]
    return catalog.resolve(text) if text else None
