"""Numbers for people: how the reports write counts, statistics and axis labels.

The rules (one place, so that every report and chart says a number the same way):

- **Grouping.** Digits are grouped by thousands from 10,000 up (``9999``, ``10,000``), the
  convention of SI and ISO 80000 for four-digit numbers; so a year is ``2003``, never ``2,003``.
  An integer column whose name says it is an identifier or a date part (``year``, ``id``,
  ``customer_id``, ``zip``, ``code``, … see :func:`plain_integers`) is never grouped:
  ``10000042``, not ``10,000,042``.
- **No exponent for ordinary numbers.** Counts and integral values are written in full
  (``10,000``, not ``1e+04``); an exponent appears only below 0.001 or from 10**15 up.
- **Enough digits to see the differences.** A number alone has 4 significant digits (``0.1235``,
  ``12.35``, ``123.5``), and one decimal from 1,000 up (``2006.5``, ``12,345.7``). The numbers of
  one column (its min, max, mean and quantiles) share one number of decimals, chosen from the
  column's spread (three significant digits of its standard deviation): a price of 1,000,000
  plus a few units is ``1,000,001.23``, not ``1e+06`` five times over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["column_formatter", "number", "plain_integers", "tick"]

_INTEGER_TYPES = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$", re.IGNORECASE)
_PLAIN_WORDS = frozenset(
    ("year", "years", "yr", "id", "ids", "uid", "uuid", "key", "code", "codes", "zip", "zipcode",
     "postcode", "postal", "fips", "isbn", "ean", "sku", "phone", "account", "serial")
)  # fmt: skip
_BIG = 1e15  # from here on, an exponent (beyond float's exact integers)
_SMALL = 1e-3


def plain_integers(name: Any) -> bool:
    """Whether a column's name says its integers are labels (a year, an id, a code).

    The name is split into words at ``_``, ``-``, spaces, dots and camelCase boundaries
    (``customerId`` → ``customer``, ``id``); one word from the list suffices.
    """
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    words = re.split(r"[^A-Za-z0-9]+", text.lower())
    return any(w in _PLAIN_WORDS for w in words)


def _integer(value: int, group: bool) -> str:
    if group and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def number(value: Any, *, decimals: int | None = None, group: bool = True) -> str:
    """``value`` for people (see the module docstring); ``–`` for ``None``.

    Args:
        value: An int, a float, or anything else (written with ``str``).
        decimals: Fixed decimals for a float (``None``, or more than 6: 4 significant digits
            below 1,000, one decimal above).
        group: Group the digits by thousands from 10,000 up.
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return _integer(value, group)
    if not isinstance(value, float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if decimals is not None and (decimals > 6 or size >= _BIG):
        decimals = None  # finer than a millionth, or beyond exact integers: 4 digits
    if decimals is None and value != 0 and (size < _SMALL or size >= _BIG):
        return f"{value:.4g}"
    if decimals is None:
        if value.is_integer():
            return _integer(int(value), group)
        decimals = max(3 - math.floor(math.log10(size)), 0) if size < 1000 else 1
    text = f"{value:,.{decimals}f}" if group and size >= 10_000 else f"{value:.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.00 is 0.00
    return text


def tick(value: Any, *, group: bool = True) -> str:
    """An axis tick: :func:`number` without trailing zeros (``2.5``, not ``2.500``)."""
    text = number(value, group=group)
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


def column_formatter(col: Mapping[str, Any]) -> Callable[[Any], str]:
    """The formatter of one profile column's numbers (a ``ColumnProfile.to_dict()``).

    Integer columns: whole numbers (ungrouped for :func:`plain_integers` names); float columns:
    the decimals that show three significant digits of the column's spread (its standard
    deviation, else its range), the same for every number of the column.
    """
    group = not plain_integers(col.get("name", ""))
    dtype = str(col.get("dtype") or "")
    lo, hi = col.get("min"), col.get("max")
    spread = col.get("std") or 0.0
    if not spread and isinstance(lo, int | float) and isinstance(hi, int | float):
        spread = float(hi) - float(lo)
    decimals: int | None = None
    if spread and math.isfinite(spread) and spread > 0:
        decimals = min(max(2 - math.floor(math.log10(spread)), 0), 12)

    def fmt(value: Any) -> str:
        integral = isinstance(value, float) and value.is_integer() and abs(value) < _BIG
        if integral and _INTEGER_TYPES.match(dtype):
            return _integer(int(value), group)
        if isinstance(value, int) and not isinstance(value, bool):
            return _integer(value, group)
        return number(value, decimals=decimals, group=group)

    return fmt
