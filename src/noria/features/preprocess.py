"""Decide what each column becomes as a feature, and build the scikit-learn preprocessor for it.

:func:`plan_columns` reads a DataFrame's dtypes and values once and returns a :class:`ColumnPlan`
(JSON-able, stored with the run): which columns are numeric, one-hot, high-cardinality categorical
or datetime features, and which are dropped and why. :func:`build_preprocessor` turns a plan into
an unfitted :class:`~sklearn.compose.ColumnTransformer`.

Rules (decided here, documented for users):

* The target is never a feature; ``drop`` names are dropped as ``"user drop"``.
* A column with no values is ``"all null"``; one with a single value and no nulls is
  ``"constant"`` (a single value plus nulls is kept: the nulls carry information).
* A string or integer column whose values are all different and present is an ``"identifier"``
  when it looks like one: its name is ``id``, ``uuid``, ``key``, ``index``… or ends in ``_id`` or
  ``Id``; or (integers) the values are consecutive; or (strings) every value is one token with a
  digit in it (``C-1042``).
* Numbers (nullable ``Int64``/``Float64`` and timedeltas included) are numeric; booleans and
  categoricals with at most ``max_onehot_cardinality`` distinct values are one-hot; more distinct
  values make a high-cardinality categorical; ``datetime64`` columns and string columns whose every
  value is an ISO-8601 date or timestamp are datetime. Columns of nested values (lists, dicts from
  JSON) are dropped as ``"unsupported type"``.
* A string column of dates written in other formats, or in several (``2021-03-04``,
  ``04/03/2021``, ``March 4, 2021``), is datetime when :func:`noria.dates.decide` can read
  every value without doubt; its formats (and whether day and month are read day-first) are kept
  in :attr:`ColumnPlan.date_formats`, and the fitted preprocessing reads with them. When the day
  and month could be read both ways, the column stays a string and :attr:`ColumnPlan.notes`
  says why and how to fix it. ``date_formats`` (``data.date_formats`` in noria.yaml) decides a
  column's formats by hand.

The transformer's helper functions are module-level so that a fitted preprocessor pickles with
joblib and loads in another process. Every categorical column goes through
:func:`to_category_strings` first: pandas 3 string columns (``str`` dtype, NaN or ``None`` for
missing) and booleans become plain ``object`` columns of ``str`` with ``NaN`` for missing, which
``SimpleImputer`` and the encoders accept.

Not here: feature selection, text or image features, user feature steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils.multiclass import type_of_target

from noria.dates import decide as decide_dates
from noria.errors import ConfigError, DataError, did_you_mean

__all__ = [
    "DATETIME_PARTS",
    "HIGH_CARDINALITY_ENCODINGS",
    "ColumnPlan",
    "SeededFolds",
    "build_preprocessor",
    "datetime_feature_names",
    "expand_datetimes",
    "plan_columns",
    "to_category_strings",
    "to_float",
]

#: What each datetime column expands to, in this order (``<column>_<part>``).
DATETIME_PARTS: tuple[str, ...] = ("year", "month", "day", "dayofweek", "hour")

#: The values ``features.high_cardinality`` accepts.
HIGH_CARDINALITY_ENCODINGS: tuple[str, ...] = ("ordinal", "target")

_ID_NAMES = frozenset({"id", "uuid", "guid", "key", "index", "idx", "rowid", "unnamed: 0"})
_ID_SUFFIX = re.compile(r"[_\s.\-](?:id|uuid|guid|key)$")  # on the lower-cased name
_ID_CAMEL = re.compile(r"[a-z0-9](?:Id|ID|Uuid|UUID)$")  # customerId, customerID
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_TOKEN_WITH_DIGIT = re.compile(r"^(?=\S*\d)\S+$")


@dataclass(frozen=True)
class ColumnPlan:
    """What each input column becomes; JSON-able through :meth:`to_dict` / :meth:`from_dict`.

    Attributes:
        numeric: Numeric features (imputed with the median, optionally scaled).
        onehot: Low-cardinality categoricals and booleans (one-hot encoded).
        high_cardinality: Categoricals with more than ``max_onehot_cardinality`` distinct values.
        datetime: Datetime features (expanded to year, month, day, day of week and hour).
        dropped: Column name → why it is not a feature: ``"user drop"``, ``"all null"``,
            ``"constant"``, ``"identifier"`` or ``"unsupported type"``.
        columns: Every input column but the target, in the frame's order; it gives
            :attr:`features` its order (empty for a hand-made plan: then group order).
        date_formats: Datetime columns written as text in formats other than ISO 8601: column
            name → the formats their values are read with (:func:`noria.dates.parse`).
        notes: What the plan could not decide for the user (a column of dates kept as text
            because day and month are ambiguous), one line each with the fix.
    """

    numeric: tuple[str, ...] = ()
    onehot: tuple[str, ...] = ()
    high_cardinality: tuple[str, ...] = ()
    datetime: tuple[str, ...] = ()
    dropped: dict[str, str] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        """Every kept column, in the original order of the frame."""
        kept = (*self.numeric, *self.onehot, *self.high_cardinality, *self.datetime)
        if not self.columns:
            return kept
        keep = set(kept)
        ordered = tuple(c for c in self.columns if c in keep)
        listed = set(ordered)
        return ordered + tuple(c for c in kept if c not in listed)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-able lists and dicts."""
        return {
            "numeric": list(self.numeric),
            "onehot": list(self.onehot),
            "high_cardinality": list(self.high_cardinality),
            "datetime": list(self.datetime),
            "dropped": dict(self.dropped),
            "columns": list(self.columns),
            "date_formats": {name: list(f) for name, f in self.date_formats.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnPlan:
        """A plan from :meth:`to_dict`'s output (missing keys are empty).

        Raises:
            DataError: A key holds something other than a list of names (or, for ``dropped``,
                a mapping of name to reason).
        """
        groups: dict[str, tuple[str, ...]] = {}
        for key in ("numeric", "onehot", "high_cardinality", "datetime", "columns"):
            value = data.get(key, ())
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise DataError(f"column plan: '{key}' must be a list of column names")
            groups[key] = tuple(str(v) for v in value)
        dropped = data.get("dropped", {})
        if not isinstance(dropped, Mapping):
            raise DataError("column plan: 'dropped' must map column names to reasons")
        formats = data.get("date_formats") or {}
        if not isinstance(formats, Mapping):
            raise DataError("column plan: 'date_formats' must map column names to formats")
        return cls(
            dropped={str(k): str(v) for k, v in dropped.items()},
            date_formats={str(k): tuple(map(str, v)) for k, v in formats.items()},
            notes=tuple(str(n) for n in data.get("notes") or ()),
            **groups,
        )


# ------------------------------------------------------------------------------------- planning


def plan_columns(
    df: pd.DataFrame,
    *,
    target: str,
    drop: Sequence[str] = (),
    max_onehot_cardinality: int = 20,
    date_formats: Mapping[str, str | Sequence[str]] | None = None,
) -> ColumnPlan:
    """Decide from the dtypes and values of ``df`` what each column becomes.

    Args:
        df: The training data (the target column included).
        target: The target column; never a feature.
        drop: Columns the user drops (``features.drop``).
        max_onehot_cardinality: Categoricals with more distinct values than this are
            high-cardinality.
        date_formats: Columns whose dates are read with these strptime formats (one or a
            list), whatever their values look like (``data.date_formats``).

    Returns:
        The plan; column names are kept as they are (non-string names are turned to ``str``).

    Raises:
        DataError: The target or a ``drop`` name is not in the frame, a column name is
            duplicated, or no column is left as a feature.
    """
    names = [str(c) for c in df.columns]
    duplicated = df.columns[df.columns.duplicated()]
    if len(duplicated):
        raise DataError(
            f"column '{duplicated[0]}' appears more than once in the data; rename the duplicates"
        )
    if target not in df.columns:
        raise DataError(
            f"target column '{target}' is not in the data{did_you_mean(str(target), names)}; "
            "check `target` in noria.yaml"
        )
    if isinstance(drop, str):
        drop = (drop,)
    for name in drop:
        if name not in df.columns:
            raise DataError(
                f"column '{name}' in `features.drop` is not in the data"
                f"{did_you_mean(str(name), names)}; fix the name in noria.yaml"
            )
    user_drop = set(drop)
    by_hand = {
        str(k): (v,) if isinstance(v, str) else tuple(v) for k, v in (date_formats or {}).items()
    }
    for name in by_hand:
        if name not in names:
            raise DataError(
                f"column '{name}' in `data.date_formats` is not in the data"
                f"{did_you_mean(name, names)}; fix the name in noria.yaml"
            )

    groups: dict[str, list[str]] = {"numeric": [], "onehot": [], "high": [], "datetime": []}
    dropped: dict[str, str] = {}
    columns: list[str] = []
    formats: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for column in df.columns:
        if column == target:
            continue
        name = str(column)
        columns.append(name)
        if column in user_drop:
            dropped[name] = "user drop"
            continue
        kind = _kind(df[column], name, max_onehot_cardinality)
        if name in by_hand:
            formats[name] = _formats_by_hand(df[column], name, by_hand[name])
            kind = "datetime"
        elif kind in ("onehot", "high", "identifier") and _is_text(df[column]):
            decision = decide_dates(df[column], name)
            if decision is not None and decision.formats:
                formats[name] = decision.formats
                kind = "datetime"
            elif decision is not None:
                notes.append(decision.problem)
        if kind in groups:
            groups[kind].append(name)
        else:
            dropped[name] = kind

    plan = ColumnPlan(
        numeric=tuple(groups["numeric"]),
        onehot=tuple(groups["onehot"]),
        high_cardinality=tuple(groups["high"]),
        datetime=tuple(groups["datetime"]),
        dropped=dropped,
        columns=tuple(columns),
        date_formats={n: f for n, f in formats.items() if n in groups["datetime"]},
        notes=tuple(notes),
    )
    if not plan.features:
        raise DataError(_no_features_message(plan))
    return plan


def _is_text(series: pd.Series) -> bool:
    """Whether ``series`` holds strings (pandas ``str`` dtype, or objects that are strings)."""
    if pd.api.types.is_string_dtype(series.dtype) and not isinstance(
        series.dtype, pd.CategoricalDtype
    ):
        return pd.api.types.infer_dtype(series.dropna(), skipna=True) == "string"
    return False


def _formats_by_hand(series: pd.Series, name: str, formats: tuple[str, ...]) -> tuple[str, ...]:
    """``formats`` for a column, checked: every value must be read by one of them (or ISO)."""
    from noria.dates import parse

    values = series.dropna()
    parsed = parse(values, formats)
    bad = parsed.isna()
    if bad.any():
        value = values[bad].iloc[0]
        raise DataError(
            f"column '{name}': '{value}' is not a date in the formats of `data.date_formats` "
            f"({', '.join(formats)}) nor ISO 8601 ({int(bad.sum()):,} such values); fix the "
            "values or add their format to the list"
        )
    return formats


def _no_features_message(plan: ColumnPlan) -> str:
    reasons = ", ".join(f"'{c}' ({r})" for c, r in plan.dropped.items()) or "none"
    return (
        f"no column is left to use as a feature (dropped: {reasons}); add feature columns "
        "or shorten `features.drop`"
    )


def _kind(series: pd.Series, name: str, max_onehot: int) -> str:
    """One of ``numeric``, ``onehot``, ``high``, ``datetime`` or a drop reason."""
    dtype = series.dtype
    n_missing = int(series.isna().sum())
    if n_missing == len(series):
        return "all null"
    if pd.api.types.is_bool_dtype(dtype):
        return "constant" if _is_constant(series, n_missing) else "onehot"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "constant" if _is_constant(series, n_missing) else "datetime"
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        if _is_constant(series, n_missing):
            return "constant"
        if pd.api.types.is_integer_dtype(dtype) and _is_integer_id(series, name, n_missing):
            return "identifier"
        return "numeric"

    values = series.dropna()
    if isinstance(dtype, pd.CategoricalDtype):
        inferred = pd.api.types.infer_dtype(values.astype(object), skipna=True)
    else:
        inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("mixed", "unknown-array") and values.map(_is_nested).any():
        return "unsupported type"
    try:
        distinct = int(values.nunique())
    except TypeError:  # unhashable values
        return "unsupported type"
    if distinct <= 1 and n_missing == 0:
        return "constant"
    if isinstance(dtype, pd.CategoricalDtype):
        return "onehot" if distinct <= max_onehot else "high"
    if inferred == "boolean":
        return "onehot"
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "numeric"
    if inferred in ("datetime", "datetime64", "date"):
        return "datetime"
    if inferred == "string":
        if _is_iso_datetime(values):
            return "datetime"
        if distinct == len(series) and n_missing == 0 and _looks_like_string_id(values, name):
            return "identifier"
    return "onehot" if distinct <= max_onehot else "high"


def _is_constant(series: pd.Series, n_missing: int) -> bool:
    return n_missing == 0 and series.nunique(dropna=True) <= 1


def _is_nested(value: object) -> bool:
    return isinstance(value, (list, tuple, dict, set, np.ndarray))


def _looks_like_id_name(name: str) -> bool:
    stripped = name.strip()
    lower = stripped.lower()
    return lower in _ID_NAMES or bool(_ID_SUFFIX.search(lower) or _ID_CAMEL.search(stripped))


def _is_integer_id(series: pd.Series, name: str, n_missing: int) -> bool:
    n = len(series)
    if n < 2 or n_missing or series.nunique() != n:
        return False
    if _looks_like_id_name(name):
        return True
    return int(series.max()) - int(series.min()) == n - 1  # consecutive: a row number


def _looks_like_string_id(values: pd.Series, name: str) -> bool:
    if len(values) < 2:
        return False
    if _looks_like_id_name(name):
        return True
    return bool(values.astype(str).str.fullmatch(_TOKEN_WITH_DIGIT).all())


def _is_iso_datetime(values: pd.Series) -> bool:
    text = values.astype(str)
    if not text.head(100).str.fullmatch(_ISO_DATE).all():  # cheap early exit on big columns
        return False
    if not text.str.fullmatch(_ISO_DATE).all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().all())


# -------------------------------------------------------------------------- transformer helpers


def to_float(X: Any) -> np.ndarray:
    """Numeric columns as a float array with NaN for missing (``pd.NA``, ``None``, timedeltas)."""
    frame = pd.DataFrame(X)
    out = np.empty(frame.shape, dtype=float)
    for i, (_, column) in enumerate(frame.items()):
        if pd.api.types.is_timedelta64_dtype(column.dtype):
            column = column.dt.total_seconds()
        elif pd.api.types.is_bool_dtype(column.dtype):
            column = column.astype(float)
        out[:, i] = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return out


def to_category_strings(X: Any) -> pd.DataFrame:
    """Categorical columns as ``object`` columns of ``str``, with ``np.nan`` for any missing value.

    pandas 3 string columns, booleans, categoricals and mixed objects all become the one shape the
    imputers and encoders accept; ``True`` becomes ``"True"``, ``3`` becomes ``"3"``.
    """
    frame = pd.DataFrame(X)
    out = {}
    for name, column in frame.items():
        values = column.astype(object)
        missing = values.isna().to_numpy()
        strings = values.astype(str).to_numpy(dtype=object)
        strings[missing] = np.nan
        out[name] = strings
    # dtype=object: pandas 3 would infer its ``str`` dtype again from an array of strings
    return pd.DataFrame(out, index=frame.index, columns=frame.columns, dtype=object)


def expand_datetimes(X: Any, formats: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Each datetime column as year, month, day, day of week and hour (float, NaN if missing).

    Strings are parsed as ISO 8601, or for a column in ``formats`` (a plan's
    :attr:`ColumnPlan.date_formats`) with its formats, then ISO 8601 (unparseable values become
    NaN); time zones are converted to UTC.
    """
    frame = pd.DataFrame(X)
    out: dict[str, np.ndarray] = {}
    for name, column in frame.items():
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            stamps = column
            if getattr(column.dtype, "tz", None) is not None:
                stamps = column.dt.tz_convert("UTC")
        elif formats and str(name) in formats:
            from noria.dates import parse

            stamps = parse(column, formats[str(name)])
        else:
            stamps = pd.to_datetime(column, errors="coerce", format="ISO8601", utc=True)
        parts = {
            "year": stamps.dt.year,
            "month": stamps.dt.month,
            "day": stamps.dt.day,
            "dayofweek": stamps.dt.day_of_week,
            "hour": stamps.dt.hour,
        }
        for part in DATETIME_PARTS:
            out[f"{name}_{part}"] = parts[part].to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(out, index=frame.index)


def datetime_feature_names(transformer: Any, input_features: Any) -> list[str]:
    """The output names of :func:`expand_datetimes` (``feature_names_out`` of its transformer)."""
    return [f"{name}_{part}" for name in input_features for part in DATETIME_PARTS]


class SeededFolds:
    """Seeded, shuffled 5-fold splits for :class:`~sklearn.preprocessing.TargetEncoder`.

    Stratified for class targets, plain k-fold for continuous ones: what ``TargetEncoder`` does by
    itself, but repeatable (its own ``random_state`` is deprecated in scikit-learn 1.9, and its
    default shuffles without a seed).
    """

    def __init__(self, n_splits: int = 5, seed: int = 42) -> None:
        self.n_splits = n_splits
        self.seed = seed

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_indices, test_indices)`` for each fold."""
        kind = type_of_target(y) if y is not None else "continuous"
        if kind in ("binary", "multiclass"):
            folds: Any = StratifiedKFold(self.n_splits, shuffle=True, random_state=self.seed)
        else:
            folds = KFold(self.n_splits, shuffle=True, random_state=self.seed)
        yield from folds.split(X, y, groups)


# ----------------------------------------------------------------------------------- building


def build_preprocessor(
    plan: ColumnPlan, *, scale: bool = True, high_cardinality: str = "ordinal"
) -> ColumnTransformer:
    """An unfitted :class:`~sklearn.compose.ColumnTransformer` for ``plan``.

    * numeric → median imputation (+ standard scaling when ``scale``);
    * one-hot → ``"missing"`` for nulls, then one-hot (unknown categories ignored);
    * high-cardinality → ordinal codes (unknown and missing = -1), or out-of-fold target
      encoding with ``high_cardinality="target"``;
    * datetime → year, month, day, day of week, hour, median-imputed (+ scaled when ``scale``).

    Columns not in the plan are dropped. Output names are the input names (``sex_male`` for
    one-hot values, ``when_year`` for datetime parts) unless two could clash: then they carry
    the transformer's prefix (``numeric__sex_male``). The output is a dense array.

    Args:
        plan: The column plan from :func:`plan_columns`.
        scale: Standard-scale numeric and datetime features (for linear models).
        high_cardinality: ``"ordinal"`` or ``"target"``.

    Returns:
        The unfitted transformer.

    Raises:
        ConfigError: ``high_cardinality`` is not one of :data:`HIGH_CARDINALITY_ENCODINGS`.
        DataError: The plan keeps no column.
    """
    if high_cardinality not in HIGH_CARDINALITY_ENCODINGS:
        raise ConfigError(
            f"`features.high_cardinality`: unknown encoding '{high_cardinality}'"
            f"{did_you_mean(str(high_cardinality), HIGH_CARDINALITY_ENCODINGS)}; use one of "
            f"{', '.join(HIGH_CARDINALITY_ENCODINGS)}"
        )
    if not plan.features:
        raise DataError(_no_features_message(plan))

    as_strings = FunctionTransformer(to_category_strings, feature_names_out="one-to-one")
    transformers: list[tuple[str, Any, list[str]]] = []
    if plan.numeric:
        steps: list[tuple[str, Any]] = [
            ("to_float", FunctionTransformer(to_float, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ]
        if scale:
            steps.append(("scale", StandardScaler()))
        transformers.append(("numeric", Pipeline(steps), list(plan.numeric)))
    if plan.onehot:
        onehot = Pipeline(
            [
                ("to_str", as_strings),
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("onehot", onehot, list(plan.onehot)))
    if plan.high_cardinality:
        if high_cardinality == "ordinal":
            encoder: Any = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
            )
            high_steps = [("to_str", as_strings), ("encode", encoder)]
        else:
            high_steps = [
                ("to_str", as_strings),
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("encode", TargetEncoder(cv=SeededFolds())),
            ]
        transformers.append(("high_cardinality", Pipeline(high_steps), list(plan.high_cardinality)))
    if plan.datetime:
        date_steps: list[tuple[str, Any]] = [
            (
                "expand",
                FunctionTransformer(
                    expand_datetimes,
                    feature_names_out=datetime_feature_names,
                    kw_args=(
                        {"formats": {n: list(f) for n, f in plan.date_formats.items()}}
                        if plan.date_formats
                        else None
                    ),
                ),
            ),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ]
        if scale:
            date_steps.append(("scale", StandardScaler()))
        transformers.append(("datetime", Pipeline(date_steps), list(plan.datetime)))

    return ColumnTransformer(
        transformers,
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=not _names_are_unique(plan, high_cardinality),
    )


def _names_are_unique(plan: ColumnPlan, high_cardinality: str) -> bool:
    """Whether output names without prefixes cannot clash (one-hot names are ``col_value``;
    multiclass target encoding names are ``col_class``)."""
    by_value = list(plan.onehot)
    plain = set(plan.numeric)
    if high_cardinality == "target":
        by_value += plan.high_cardinality
        plain |= set(plan.high_cardinality)  # binary / regression target encoding
    else:
        plain |= set(plan.high_cardinality)
    plain |= {f"{c}_{part}" for c in plan.datetime for part in DATETIME_PARTS}
    expected = len(plan.numeric) + len(plan.high_cardinality) + 5 * len(plan.datetime)
    if len(plain) != expected:
        return False
    prefixes = [f"{c}_" for c in by_value]
    for prefix in prefixes:
        if any(name.startswith(prefix) for name in plain):
            return False
        if any(other != prefix and other.startswith(prefix) for other in prefixes):
            return False
    return True
