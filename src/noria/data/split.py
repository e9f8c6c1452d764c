"""Split a table into a training part and a held-out test part (``split`` in noria.yaml).

Three methods:

* ``random``: a seeded shuffle, then the last ``test_size`` fraction is the test part.
* ``stratified`` (the default): the same, keeping the target's class proportions in both parts.
  It falls back to ``random`` (and logs why) when there is no target, when the target looks
  continuous (a float column with more than 20 distinct values), when the rarest class has fewer
  than 2 rows, or when either part would be smaller than the number of classes. Missing target
  values count as one more class.
* ``time``: sort by ``time_column`` (parsed as dates when it holds strings); the latest rows are the
  test part. Rows that share the time at the cut all go to the test part, so no timestamp is on
  both sides: the test part can be a little larger than ``test_size``.

Both parts come back with a fresh ``RangeIndex``; the same data and seed give the same split.
Not here: cross-validation folds (the search does those on the training part) and group splits.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from noria.errors import ConfigError, DataError, did_you_mean

__all__ = ["SPLIT_METHODS", "split_frame"]

#: The values ``split.method`` accepts.
SPLIT_METHODS: tuple[str, ...] = ("random", "stratified", "time")

#: A float target with more distinct values than this is treated as continuous (regression).
_MAX_CLASSES_FOR_FLOAT = 20

_log = logging.getLogger(__name__)


def split_frame(
    df: pd.DataFrame,
    *,
    target: str | None,
    method: str = "stratified",
    test_size: float = 0.2,
    seed: int = 42,
    time_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into a training and a test part.

    Args:
        df: The data, one row per example.
        target: The target column (used to stratify); ``None`` when there is none.
        method: ``"random"``, ``"stratified"`` or ``"time"``.
        test_size: The fraction of rows in the test part, strictly between 0 and 1.
        seed: The random seed; the same seed gives the same split.
        time_column: The column to order by; required for ``method="time"``.

    Returns:
        ``(train, test)``, each with its index reset.

    Raises:
        ConfigError: An unknown method, a ``test_size`` outside (0, 1), or ``method="time"``
            without ``time_column``.
        DataError: The target or time column is not in the data, the time column has missing
            values, or either part would have fewer than 2 rows.
    """
    if method not in SPLIT_METHODS:
        raise ConfigError(
            f"`split.method`: unknown method '{method}'{did_you_mean(str(method), SPLIT_METHODS)}"
            f"; use one of {', '.join(SPLIT_METHODS)}"
        )
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, (int, float))
        or not 0 < test_size < 1
    ):
        raise ConfigError(
            f"`split.test_size`: {test_size!r} is not a fraction between 0 and 1 (exclusive); "
            "use e.g. 0.2"
        )
    if target is not None and target not in df.columns:
        raise DataError(
            f"target column '{target}' is not in the data{did_you_mean(target, _names(df))}; "
            "check `target` in noria.yaml"
        )

    n = len(df)
    n_test = math.ceil(test_size * n)
    if n_test < 2 or n - n_test < 2:
        needed = next(
            m
            for m in range(4, 1_000_000)
            if math.ceil(test_size * m) >= 2 and m - math.ceil(test_size * m) >= 2
        )
        raise DataError(
            f"the data has only {n} rows; need at least {needed} for a {method} split with "
            f"test_size={test_size} (2 rows in each part); add rows or change `split.test_size`"
        )

    if method == "time":
        train, test = _time_split(df, time_column, n_test)
    else:
        stratify = None
        if method == "stratified":
            stratify = _stratify_labels(df, target, n_test)
        train, test = train_test_split(
            df, test_size=n_test, random_state=seed, shuffle=True, stratify=stratify
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _names(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns]


def _stratify_labels(df: pd.DataFrame, target: str | None, n_test: int) -> np.ndarray | None:
    """The labels to stratify on, or ``None`` (with a log line) when stratifying cannot work."""
    if target is None:
        _log.info("stratified split without a target: splitting at random")
        return None
    y = df[target]
    distinct = y.nunique(dropna=True)
    if pd.api.types.is_float_dtype(y.dtype) and distinct > _MAX_CLASSES_FOR_FLOAT:
        _log.info("target '%s' looks continuous: splitting at random", target)
        return None
    labels = y.astype(object).where(y.notna(), "<missing>").astype(str).to_numpy()
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        _log.info("target '%s' has a class with one row: splitting at random", target)
        return None
    if len(counts) > n_test or len(counts) > len(df) - n_test:
        _log.info("target '%s' has more classes than a part has rows: splitting at random", target)
        return None
    return labels


def _time_split(
    df: pd.DataFrame, time_column: str | None, n_test: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not time_column:
        raise ConfigError(
            "`split.time_column` is not set; a time split needs the column to order by, "
            "or use `split.method: random`"
        )
    if time_column not in df.columns:
        raise DataError(
            f"time column '{time_column}' is not in the data"
            f"{did_you_mean(time_column, _names(df))}; check `split.time_column` in noria.yaml"
        )
    times = df[time_column]
    if not (
        pd.api.types.is_datetime64_any_dtype(times.dtype)
        or pd.api.types.is_numeric_dtype(times.dtype)
    ):
        parsed = pd.to_datetime(times, errors="coerce", format="ISO8601", utc=True)
        if parsed.notna().sum() != times.notna().sum():  # dates written otherwise: 25/03/2021
            from noria.dates import decide, parse

            decision = decide(times, time_column)
            if decision is not None and decision.problem:
                raise DataError(
                    f"time column '{time_column}' cannot be ordered: {decision.problem}"
                )
            if decision is not None:
                parsed = parse(times, decision.formats)
        if parsed.notna().sum() == times.notna().sum():
            times = parsed
    missing = int(times.isna().sum())
    if missing:
        raise DataError(
            f"time column '{time_column}' has {missing} missing or unparseable values; "
            "a time split needs a time on every row: fill or drop those rows"
        )
    sorted_times = times.reset_index(drop=True).sort_values(kind="stable")
    ordered = df.iloc[sorted_times.index.to_numpy()]
    sorted_times = sorted_times.reset_index(drop=True)
    # Every row with the cut's time goes to the test side: no timestamp on both sides.
    cut = int(sorted_times.searchsorted(sorted_times.iloc[len(df) - n_test], side="left"))
    if cut < 2:
        raise DataError(
            f"time column '{time_column}': only {cut} rows are earlier than the latest "
            f"{n_test} of {len(df)} rows; need at least 2 rows to train on: add older rows "
            "or lower `split.test_size`"
        )
    return ordered.iloc[:cut], ordered.iloc[cut:]
