"""Request payloads checked against a model's signature and turned into input columns.

Every payload shape the server accepts becomes the same thing: one NumPy array per signature
column (``float64`` with NaN for missing numbers, ``object`` for strings, ``None`` for missing)
and a row count. The shapes:

* noria: ``{"records": [{column: value, …}, …]}`` or ``{"columns": [...], "data": [[...], …]}``;
* MLflow's ``/invocations``: ``dataframe_split``, ``dataframe_records``, ``instances`` (records
  or rows of values in signature order) and ``inputs`` (records, or a mapping of columns);
* the Open Inference Protocol (KServe V2): one tensor per column.

Rules, decided here: ``null`` is a missing value, which the model's own imputation handles; a
column the signature lacks is refused (``extra_columns: reject``, the default) or dropped
(``ignore``); a column the model does not use (training dropped it: constant, empty,
identifier-like, ``features.drop``) may be left out; numbers must be JSON numbers (not strings,
not booleans) and finite; string columns take strings only (a ``yes``/``no`` column of a CSV is
a string column: the reader never turns text into booleans); an empty batch is refused. Every
error is a :class:`~noria.errors.DataError` (HTTP 422) whose message starts with the field's path
(``records[3].bill_length_mm``) and says what would fix it.

What is accepted but unusual is counted, never silent: every check returns
:class:`InputCounts` with the categories training never saw, the numbers outside the training
range and the fractional numbers sent for an integer column, per column (``Columns.counts``);
:attr:`Signature.totals` adds them up and :func:`input_metrics` renders them for ``/metrics``.
:func:`noria.data.schema.signature_of` writes the signature (with those training facts).

Not here: HTTP, the model itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from noria.data.kinds import BOOLEAN, NUMERIC, STRING, ColumnKind, kind_of_dtype
from noria.errors import DataError, did_you_mean

__all__ = ["Columns", "InputCounts", "Signature", "input_metrics", "kind_of"]

_NONE = type(None)
_NUMBER_TYPES = frozenset({int, float, _NONE})
_STRING_TYPES = frozenset({str, _NONE})
_BOOL_TYPES = frozenset({bool, _NONE})


def kind_of(dtype: str) -> ColumnKind:
    """The kind of a pandas dtype string (:func:`noria.data.kinds.kind_of_dtype`)."""
    return kind_of_dtype(dtype)


@dataclass
class InputCounts:
    """What a batch sent that training never saw, per column: accepted, but counted.

    Attributes:
        unseen: Values of a categorical column that were not in the training data.
        out_of_range: Numbers outside the training data's ``[min, max]``.
        narrowed: Fractional numbers sent for an integer column (``16.7`` for ``int64``).
    """

    unseen: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    narrowed: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.unseen or self.out_of_range or self.narrowed)

    def add(self, other: InputCounts) -> None:
        """Add ``other``'s counts to these."""
        for mine, theirs in (
            (self.unseen, other.unseen),
            (self.out_of_range, other.out_of_range),
            (self.narrowed, other.narrowed),
        ):
            for name, n in theirs.items():
                mine[name] = mine.get(name, 0) + n

    def summary(self) -> str:
        """One line for people: ``3 unseen categories (island: 3); …``, or ``""``."""
        parts = []
        for label, counts in (
            ("unseen categories", self.unseen),
            ("values outside the training range", self.out_of_range),
            ("fractional values in integer columns", self.narrowed),
        ):
            if counts:
                detail = ", ".join(f"{name}: {n:,}" for name, n in sorted(counts.items()))
                parts.append(f"{sum(counts.values()):,} {label} ({detail})")
        return "; ".join(parts)


_METRICS = (
    ("unseen", "noria_input_unseen_categories_total",
     "Values of a categorical column that training never saw, by column."),
    ("out_of_range", "noria_input_out_of_range_total",
     "Numbers outside the training range of their column, by column."),
    ("narrowed", "noria_input_narrowed_total",
     "Fractional numbers sent for an integer column, by column."),
)  # fmt: skip


def input_metrics(counts: InputCounts, model: str = "") -> list[str]:
    """``counts`` as Prometheus exposition lines (``HELP``, ``TYPE`` and one sample per column).

    The server adds these lines to ``/metrics``:
    ``out += input_metrics(predictor.signature.totals, predictor.name)``.
    """
    label = f'model="{_escape(model)}",' if model else ""
    out: list[str] = []
    for attr, metric, help_text in _METRICS:
        out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
        for name, n in sorted(getattr(counts, attr).items()):
            out.append(f'{metric}{{{label}column="{_escape(name)}"}} {n}')
    return out


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Columns:
    """Validated input: one array per signature column, and the number of rows.

    ``lists`` keeps the request's own values per column (JSON numbers, strings, ``None``) when the
    columns came from a payload: the prediction log flattens those far more cheaply than many
    small arrays. ``None`` for frames and for batches merged by the server.
    """

    values: dict[str, np.ndarray]
    n: int
    lists: dict[str, Sequence[Any]] | None = None
    counts: InputCounts = field(default_factory=InputCounts)


class Signature:
    """A model's input columns and kinds; checks payloads and builds :class:`Columns`.

    Args:
        signature: ``[{"name": …, "dtype": …}, …]`` as a model version stores it (with the
            optional ``used``, ``min``/``max`` and ``values`` of :func:`signature_of`).
        extra_columns: ``"reject"`` or ``"ignore"`` columns the signature does not have.
        extra_hint: How to allow an unknown column, for the error message.

    Attributes:
        names: Every column, in order. required: The columns the model uses (a request must
        have them); the others may be left out (they are then missing values).
        totals: :class:`InputCounts` added up over every check so far.
    """

    def __init__(
        self,
        signature: Sequence[Mapping[str, Any]],
        extra_columns: str = "reject",
        extra_hint: str = "or set serve.extra_columns: ignore",
    ):
        self.names = [str(c["name"]) for c in signature]
        self.dtypes = {str(c["name"]): str(c["dtype"]) for c in signature}
        self.kinds = {name: kind_of(dtype) for name, dtype in self.dtypes.items()}
        self.required = [str(c["name"]) for c in signature if c.get("used", True) is not False]
        self.optional = [n for n in self.names if n not in set(self.required)]
        self._known = set(self.names)
        self.extra_columns = extra_columns
        self.extra_hint = extra_hint
        self._ranges = {
            str(c["name"]): (float(c["min"]), float(c["max"]))
            for c in signature
            if c.get("min") is not None and c.get("max") is not None
        }
        self._values = {
            str(c["name"]): frozenset(map(str, c["values"]))
            for c in signature
            if c.get("values") is not None
        }
        self._integers = {
            n for n, d in self.dtypes.items() if d.lower().startswith(("int", "uint"))
        }
        self._limits: dict[str, tuple[float, float]] = {}
        self._formats = {
            str(c["name"]): [str(f) for f in c["formats"]]
            for c in signature
            if c.get("formats")
        }
        self.totals = InputCounts()

    @property
    def limits(self) -> dict[str, tuple[float, float]]:
        """The numbers accepted per column (:meth:`set_limits`); a column not listed: any."""
        return dict(self._limits)

    def set_limits(self, limits: Mapping[str, tuple[float, float]]) -> None:
        """Refuse numbers outside ``limits`` (column → ``(lowest, highest)``): the range a model
        computes with (:func:`noria.serve.fast.input_limits`), beyond which its scaled
        features would not be finite."""
        self._limits = {n: (float(lo), float(hi)) for n, (lo, hi) in limits.items()}

    def _check_dates(self, out: Mapping[str, np.ndarray], at: Any) -> None:
        """Refuse a text date that the column's formats (or ISO 8601) do not read: the model
        would take it as missing."""
        from noria.dates import parse

        for name, formats in self._formats.items():
            array = out.get(name)
            if array is None:
                continue
            present = np.array([v is not None for v in array.tolist()], dtype=bool)
            if not present.any():
                continue
            parsed = parse(array, formats).isna().to_numpy()
            bad = present & parsed
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(
                    f"{at(i, name)}: {_show(array[i])} is not a date in the formats the model "
                    f"was trained on ({', '.join(formats)}, or ISO 8601 such as 2021-03-04); "
                    "send it in one of them, or null for a missing value"
                )

    def _check_limits(self, out: Mapping[str, np.ndarray], at: Any) -> None:
        for name, (lo, hi) in self._limits.items():
            array = out.get(name)
            if array is None or array.dtype != float:
                continue
            with np.errstate(invalid="ignore"):
                bad = (array < lo) | (array > hi)
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(
                    f"{at(i, name)}: {float(array[i])!r} is too large in magnitude for this "
                    "model (scaled for it, it is not a finite number); send a number from "
                    f"{lo:.6g} to {hi:.6g}, or null for a missing value"
                )

    # ------------------------------------------------------------------ shapes

    def from_records(self, records: Any, where: str = "records") -> Columns:
        """Columns from a list of ``{column: value}`` objects."""
        if not isinstance(records, list):
            raise DataError(f"{where}: expected a list of objects, got {_type(records)}")
        if not records:
            raise DataError(f"{where}: empty batch; send at least one row")
        values: dict[str, list[Any]] = {}
        try:
            for name in self.required:
                values[name] = [r[name] for r in records]
            for name in self.optional:
                values[name] = [r.get(name) for r in records]
        except (KeyError, TypeError, AttributeError):
            self._record_error(records, where)
        n = len(self.names)
        if self.optional:  # a record may leave optional columns out: compare the keys
            if self.extra_columns == "reject" and not all(r.keys() <= self._known for r in records):
                self._record_error(records, where)
        elif any(len(r) != n for r in records):
            self._record_error(records, where)
        values = {name: values[name] for name in self.names}
        return self._columns(values, len(records), lambda i, c: f"{where}[{i}].{c}")

    def _record_error(self, records: list[Any], where: str) -> None:
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise DataError(f"{where}[{i}]: expected an object of columns, got {_type(record)}")
            for name in self.required:
                if name not in record:
                    raise DataError(
                        f"{where}[{i}]: missing column '{name}'; the model needs "
                        f"{', '.join(self.required)}"
                    )
            if self.extra_columns == "reject":
                for key in record:
                    if key not in self._known:
                        raise DataError(self._extra(f"{where}[{i}]", key))
        if self.extra_columns == "ignore" or self.optional:
            return  # extra columns ignored, or optional columns left out: both fine
        raise DataError(f"{where}: malformed records")  # pragma: no cover - unreachable

    def from_split(self, columns: Any, data: Any, where: str = "") -> Columns:
        """Columns from ``columns`` (names) and ``data`` (rows of values in that order)."""
        cw, dw = f"{where}columns", f"{where}data"
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise DataError(f"{cw}: expected a list of column names")
        if not isinstance(data, list):
            raise DataError(f"{dw}: expected a list of rows, got {_type(data)}")
        if not data:
            raise DataError(f"{dw}: empty batch; send at least one row")
        if len(set(columns)) != len(columns):
            dup = next(c for c in columns if columns.count(c) > 1)
            raise DataError(f"{cw}: column '{dup}' appears twice")
        self._check_names(columns, cw)
        width = len(columns)
        if set(map(type, data)) != {list} or set(map(len, data)) != {width}:
            for i, row in enumerate(data):
                if not isinstance(row, list) or len(row) != width:
                    got = f"{len(row)} values" if isinstance(row, list) else _type(row)
                    raise DataError(f"{dw}[{i}]: expected a list of {width} values, got {got}")
        by_column = list(zip(*data, strict=True))  # transposed in C: a tuple per column
        index = {c: j for j, c in enumerate(columns)}
        absent = (None,) * len(data)
        values = {name: by_column[index[name]] if name in index else absent for name in self.names}
        return self._columns(values, len(data), lambda i, c: f"{dw}[{i}] column {c}")

    def from_mapping(self, mapping: Any, where: str = "inputs") -> Columns:
        """Columns from ``{column: [values…]}`` (or one value per column for one row)."""
        if not isinstance(mapping, dict):
            raise DataError(f"{where}: expected an object of columns, got {_type(mapping)}")
        self._check_names(list(mapping), where)
        lists = {k: v if isinstance(v, list) else [v] for k, v in mapping.items()}
        lengths = {len(lists[name]) for name in self.names if name in lists}
        if len(lengths) != 1:
            raise DataError(f"{where}: columns have different lengths ({sorted(lengths)})")
        n = lengths.pop()
        if n == 0:
            raise DataError(f"{where}: empty batch; send at least one row")
        values = {name: lists.get(name, [None] * n) for name in self.names}
        return self._columns(values, n, lambda i, c: f"{where}.{c}[{i}]")

    def from_rows(self, rows: Any, where: str = "instances") -> Columns:
        """Columns from rows of values in signature order (``instances: [[…], …]``)."""
        return self.from_split(list(self.names), rows, where=f"{where}:")

    def _check_names(self, names: Sequence[str], where: str) -> None:
        present = set(names)
        missing = [n for n in self.required if n not in present]
        if missing:
            raise DataError(
                f"{where}: missing column '{missing[0]}'; the model needs "
                f"{', '.join(self.required)}"
            )
        if self.extra_columns == "reject":
            for name in names:
                if name not in self._known:
                    raise DataError(self._extra(where, name))

    def _extra(self, where: str, name: str) -> str:
        return (
            f"{where}: unknown column '{name}'{did_you_mean(name, self.names)}; the model takes "
            f"{', '.join(self.names)} ({self.extra_hint})"
        )

    # ------------------------------------------------------------------ values

    def _columns(self, values: dict[str, Sequence[Any]], n: int, at: Any) -> Columns:
        out = self._numbers(values)
        for name, column in values.items():
            if name in out:
                continue
            kind = self.kinds[name]
            types = set(map(type, column))
            if kind == NUMERIC:
                if not types <= _NUMBER_TYPES:
                    self._bad(column, name, at, _NUMBER_TYPES, "a number (or null)")
                try:
                    array = np.array(column, dtype=float)
                except OverflowError:
                    array = np.array([_to_float(v) for v in column], dtype=float)
                bad = np.isinf(array)
                if float in types:  # NaN given as a float (Python callers); null is missing
                    bad |= np.isnan(array) & np.array([v is not None for v in column])
                if bad.any():
                    i = int(np.argmax(bad))
                    raise DataError(
                        f"{at(i, name)}: {column[i]!r} is not a finite number; send a finite "
                        "number, or null for a missing value"
                    )
                out[name] = array
            elif kind == BOOLEAN:
                if not types <= _BOOL_TYPES:
                    self._bad(column, name, at, _BOOL_TYPES, "true, false or null")
                out[name] = np.array(column, dtype=object)
            else:
                if not types <= _STRING_TYPES:
                    self._bad(column, name, at, _STRING_TYPES, "a string (or null)")
                out[name] = np.array(column, dtype=object)
        if self._limits:
            self._check_limits(out, at)
        if self._formats:
            self._check_dates(out, at)
        return Columns(out, n, values, self.count(out))

    def count(self, values: Mapping[str, np.ndarray]) -> InputCounts:
        """What checked ``values`` hold that training never saw (added to :attr:`totals`)."""
        counts = InputCounts()
        for name, (lo, hi) in self._ranges.items():
            array = values.get(name)
            if array is None or array.dtype != float:
                continue
            with np.errstate(invalid="ignore"):
                outside = int(np.count_nonzero((array < lo) | (array > hi)))
                fraction = (
                    int(np.count_nonzero(np.isfinite(array) & (array != np.floor(array))))
                    if name in self._integers
                    else 0
                )
            if outside:
                counts.out_of_range[name] = outside
            if fraction:
                counts.narrowed[name] = fraction
        for name, known in self._values.items():
            array = values.get(name)
            if array is None:
                continue
            unseen = sum(1 for v in array.tolist() if v is not None and v not in known)
            if unseen:
                counts.unseen[name] = unseen
        if counts:
            self.totals.add(counts)
        return counts

    def _numbers(self, values: dict[str, Sequence[Any]]) -> dict[str, np.ndarray]:
        """The number columns, converted and checked together (one array, one check); ``{}``
        when any of them needs a closer look (the column-by-column path names the value)."""
        names = [name for name in values if self.kinds[name] == NUMERIC]
        if len(names) < 2:
            return {}
        columns = [values[name] for name in names]
        types = set(map(type, chain.from_iterable(columns)))
        if not types <= _NUMBER_TYPES:
            return {}
        try:
            array = np.array(columns, dtype=float)  # (columns, rows): each row contiguous
        except OverflowError:
            return {}
        if np.isinf(array).any():
            return {}
        if float in types:  # a NaN given as a float (not null) is refused: compare the counts
            nan = int(np.count_nonzero(np.isnan(array)))
            if nan and nan != sum(c.count(None) for c in columns):
                return {}
        return dict(zip(names, array, strict=True))

    @staticmethod
    def _bad(column: list[Any], name: str, at: Any, allowed: frozenset[type], want: str) -> None:
        for i, value in enumerate(column):
            if type(value) not in allowed:
                raise DataError(
                    f"{at(i, name)}: expected {want}, got {_type(value)} {_show(value)}"
                )

    # ------------------------------------------------------------------ frames

    def from_frame(self, frame: Any, where: str = "input") -> Columns:
        """Columns from a pandas DataFrame (batch scoring), with the same rules."""
        import pandas as pd

        self._check_names([str(c) for c in frame.columns], f"{where} columns")
        if len(frame) == 0:
            raise DataError(f"{where}: no rows")
        out: dict[str, np.ndarray] = {}
        for name in self.names:
            if name not in frame.columns:  # an optional column left out
                kind = self.kinds[name]
                out[name] = (
                    np.full(len(frame), np.nan)
                    if kind == NUMERIC
                    else np.full(len(frame), None, dtype=object)
                )
                continue
            series = frame[name]
            kind = self.kinds[name]
            if kind == NUMERIC:
                if pd.api.types.is_bool_dtype(series.dtype) or not (
                    pd.api.types.is_numeric_dtype(series.dtype) or series.isna().all()
                ):
                    bad = _first_non_number(series)
                    raise DataError(
                        f"{where} column '{name}': expected numbers, got {series.dtype}"
                        + (f" (row {bad[0]}: {bad[1]!r})" if bad else "")
                    )
                array = series.to_numpy(dtype=float, na_value=np.nan)
                if np.isinf(array).any():
                    row = int(np.argmax(np.isinf(array)))
                    raise DataError(f"{where} column '{name}' row {row}: infinite value")
                out[name] = array
            else:
                values = series.astype(object).to_numpy()
                missing = pd.isna(values)
                values = values.copy()
                values[missing] = None
                if kind == STRING:
                    keep = ~missing
                    values[keep] = [str(v) for v in values[keep]]
                out[name] = values
        def at(i: int, c: str) -> str:
            return f"{where} column '{c}' row {i}"

        if self._limits:
            self._check_limits(out, at)
        if self._formats:
            self._check_dates(out, at)
        return Columns(out, len(frame), counts=self.count(out))


def _to_float(value: Any) -> float:
    try:
        return float("nan") if value is None else float(value)
    except OverflowError:
        return float("inf")


def _first_non_number(series: Any) -> tuple[int, Any] | None:
    for i, value in enumerate(series.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return i, value
    return None


def _type(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        _NONE: "null",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
