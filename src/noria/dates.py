"""Dates written as text in several formats: recognise them, decide how to read them, read them.

The CSV reader lets DuckDB read ISO dates and timestamps (``2021-03-04``) as dates; any other
written date stays text there (:mod:`noria.data.sources`), because DuckDB would guess one
format per file, silently, from the first rows (``04/03/2021`` as the 4th of March in one file
and the 3rd of April in another). Text columns are decided here instead, once, on the training
data, and the decision travels with the model (:class:`noria.features.preprocess.ColumnPlan`)
and its signature, so training, ``noria predict`` and the server read a value the same way.

:func:`decide` looks at a text column's distinct values:

* every value must be a date in one of :data:`FORMATS` (ISO 8601, year first, day and month as
  numbers with ``/``, ``-`` or ``.``, or a month's name: ``March 4, 2021``, ``4 Mar 2021``),
  else the column is not a date column (``None``);
* day and month as numbers are read day-first or month-first for the whole column: the one
  reading under which every such value is a valid date. When both readings are valid for every
  value (``04/03/2021``, ``05/06/2021``: no day above 12), or neither is (``25/03/2021`` and
  ``03/25/2021`` in one column), the column stays text and :attr:`DateDecision.problem` says
  why and how to fix it: one format per column, or ``data.date_formats: {column: '%d/%m/%Y'}``
  in noria.yaml;
* a column of ISO values only is left to the ISO rules elsewhere (no decision needed).

:func:`parse` reads values with a decision's formats (pandas, vectorised): the model's
preprocessing and the server's check of a request both use it, so a value the server accepts is
a value the model reads. ISO 8601 is always accepted besides the formats. :func:`parse_one`
reads one value with Python's ``strptime`` (for messages).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "ISO", "DateDecision", "decide", "parse", "parse_one"]

#: The name of ISO 8601 among formats (pandas' ``format="ISO8601"``; not a strptime format).
ISO = "ISO8601"

_TIMES = ("", " %H:%M", " %H:%M:%S")
#: Day and month as numbers: (day-first, month-first) pairs.
_NUMERIC_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (f"%d{sep}%m{sep}%Y{time}", f"%m{sep}%d{sep}%Y{time}")
    for sep in ("/", "-", ".")
    for time in _TIMES
)
#: Formats whose reading is never in doubt (year first, or the month by name).
_PLAIN: tuple[str, ...] = (
    ISO,
    *(f"%Y/%m/%d{time}" for time in _TIMES),
    *(f"%Y.%m.%d{time}" for time in _TIMES),
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d-%B-%Y",
)
#: Every format :func:`decide` recognises.
FORMATS: tuple[str, ...] = (*_PLAIN, *(f for pair in _NUMERIC_PAIRS for f in pair))

_DATE_LIKE = re.compile(
    r"^\s*(?:\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}(?:[ T]\d{1,2}:\d{2}.*)?"
    r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}"
    r"|\d{1,2}[ \-][A-Za-z]{3,9}[ \-]\d{4})\s*$"
)
_ISO_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Distinct values looked at before giving up on a column that does not look like dates.
_SAMPLE = 50


@dataclass(frozen=True)
class DateDecision:
    """How a text column of dates is read.

    Attributes:
        formats: The formats its values are in (strptime formats, or :data:`ISO`), in the
            order they are tried; empty when the column stays text.
        dayfirst: ``True`` (``04/03/2021`` is the 4th of March) or ``False`` (the 3rd of April)
            for day and month as numbers; ``None`` when the column has none.
        problem: Why the column stays text although its values are dates (ambiguous day and
            month), with the fix; ``""`` when it is read as dates.
    """

    formats: tuple[str, ...] = ()
    dayfirst: bool | None = None
    problem: str = ""


def decide(values: Any, column: str) -> DateDecision | None:
    """The decision for a text column (see the module docstring); ``None``: not dates.

    Args:
        values: The column's values (a pandas Series or a sequence; nulls are ignored).
        column: Its name, for the message of an ambiguous column.
    """
    import pandas as pd

    series = pd.Series(values, dtype=object).dropna()
    distinct = pd.Series(pd.unique(series.astype(str).str.strip()), dtype=object)
    distinct = distinct[distinct != ""]
    if distinct.empty:
        return None
    if not distinct.head(_SAMPLE).map(lambda v: bool(_DATE_LIKE.match(v))).all():
        return None  # cheap: most text columns are not dates
    if not distinct.map(lambda v: bool(_DATE_LIKE.match(v))).all():
        return None
    if distinct.map(lambda v: bool(_ISO_TEXT.match(v))).all():
        return None  # ISO only: the ISO rules read it

    def matched(fmt: str) -> pd.Series:
        return _to_datetime(distinct, fmt).notna()

    plain = pd.Series(False, index=distinct.index)
    used: list[str] = []
    for fmt in _PLAIN:
        hit = matched(fmt) & ~plain
        if hit.any():
            used.append(fmt)
            plain |= hit
    rest = distinct[~plain]
    dayfirst: bool | None = None
    if not rest.empty:
        day_hits = {pair[0]: _to_datetime(rest, pair[0]).notna() for pair in _NUMERIC_PAIRS}
        month_hits = {pair[1]: _to_datetime(rest, pair[1]).notna() for pair in _NUMERIC_PAIRS}
        by_day = _any(day_hits, rest.index)
        by_month = _any(month_hits, rest.index)
        if not (by_day | by_month).all():
            return None  # some value is no date at all
        if by_day.all() and by_month.all():
            example = _example(rest, day_hits, month_hits)
            return DateDecision(problem=_ambiguous(column, example, len(rest)))
        if not by_day.all() and not by_month.all():
            first = rest[by_day & ~by_month].iloc[0]
            second = rest[by_month & ~by_day].iloc[0]
            return DateDecision(
                problem=(
                    f"column '{column}' has dates written day-first ('{first}') and "
                    f"month-first ('{second}'), so it is kept as text; write one format per "
                    "column, or set `data.date_formats: {" + column + ": '%d/%m/%Y'}` in "
                    "noria.yaml (the values not in that format are then missing)"
                )
            )
        dayfirst = bool(by_day.all())
        hits = day_hits if dayfirst else month_hits
        used += [fmt for fmt, hit in hits.items() if hit.any()]
    return DateDecision(formats=tuple(used), dayfirst=dayfirst)


def _any(hits: dict[str, Any], index: Any) -> Any:
    import pandas as pd

    out = pd.Series(False, index=index)
    for hit in hits.values():
        out |= hit
    return out


def _example(rest: Any, day_hits: dict[str, Any], month_hits: dict[str, Any]) -> str:
    """A value whose day-first and month-first readings differ (``04/03/2021``)."""
    for value in rest.head(200):
        first = parse_one(value, list(day_hits))
        second = parse_one(value, list(month_hits))
        if first is not None and second is not None and first != second:
            return str(value)
    return str(rest.iloc[0])


def _ambiguous(column: str, example: str, count: int) -> str:
    first = parse_one(example, [p[0] for p in _NUMERIC_PAIRS])
    second = parse_one(example, [p[1] for p in _NUMERIC_PAIRS])
    readings = ""
    if first is not None and second is not None:
        readings = f" ({first:%Y-%m-%d} day-first, {second:%Y-%m-%d} month-first)"
    return (
        f"column '{column}' has dates such as '{example}' that read both day-first and "
        f"month-first{readings}, and none of its {count:,} values with the day and month as "
        "numbers has a day above 12 to decide, so it is kept as text; write one format per "
        "column (YYYY-MM-DD is never ambiguous), or set "
        "`data.date_formats: {" + column + ": '%d/%m/%Y'}` (or '%m/%d/%Y') in noria.yaml"
    )


def _to_datetime(values: Any, fmt: str, *, utc: bool = False) -> Any:
    import pandas as pd

    return pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)


def parse(values: Any, formats: Sequence[str]) -> Any:
    """``values`` read as dates with ``formats`` (then ISO 8601): a UTC pandas datetime Series.

    A value that is already a date or time is taken as it is (by its ISO text); one that fits
    no format is missing (``NaT``). Times without a zone are taken as UTC.
    """
    import pandas as pd

    raw = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    text = raw.astype(object).where(raw.notna(), None)
    text = text.map(lambda v: v if v is None else (v.strip() if isinstance(v, str) else str(v)))
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    for fmt in (*formats, ISO):
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out.loc[todo] = _to_datetime(text[todo], fmt, utc=True)
    return out


def parse_one(value: str, formats: Iterable[str]) -> dt.datetime | None:
    """One value read with the first of ``formats`` that fits it (then ISO 8601), or ``None``."""
    text = value.strip()
    for fmt in formats:
        if fmt == ISO:
            continue
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
