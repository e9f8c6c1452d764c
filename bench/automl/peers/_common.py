"""Shared by the competitor scripts (each runs in its own venv: pandas and pyarrow are there).

Usage of every ``run_X.py``: ``run_X.py --train F --test F --target COL --task TASK --budget S
--seed N --n-jobs N --out PRED.parquet``. A script fits on the train file within the budget,
predicts the test file and writes the predictions to ``--out``: for classification one column
of probabilities per class (named by the class label), for regression one column
``prediction``. It prints one JSON line: ``search_s`` (from the start of the fit or search to a
model fitted on the whole train part, the figure checked against the budget), ``predict_s``,
``version`` and whatever else the tool tells about its search.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import pandas as pd


def args(extra: list[tuple[str, dict[str, Any]]] | None = None) -> argparse.Namespace:
    """The command line every script takes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--task", required=True, choices=("classification", "regression"))
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", required=True)
    for flag, kwargs in extra or []:
        parser.add_argument(flag, **kwargs)
    return parser.parse_args()


def load(a: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """X_train, y_train, X_test exactly as the files hold them (strings with nulls)."""
    train = pd.read_parquet(a.train)
    test = pd.read_parquet(a.test)
    y = train.pop(a.target)
    test = test.drop(columns=[a.target])
    return train, y, test


def categorical_columns(X: pd.DataFrame) -> list[str]:
    """The non-numeric columns."""
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def to_category(X_train: pd.DataFrame, X_test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """String columns as pandas categoricals with the train part's levels (unseen -> NaN)."""
    X_train, X_test = X_train.copy(), X_test.copy()
    for col in categorical_columns(X_train):
        levels = sorted(X_train[col].dropna().unique().tolist())
        dtype = pd.CategoricalDtype(levels)
        X_train[col] = X_train[col].astype(object).astype(dtype)
        X_test[col] = X_test[col].astype(object).astype(dtype)
    return X_train, X_test


def to_object(X_train: pd.DataFrame, X_test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """String columns as object columns with None for missing (what scikit-learn encoders take)."""
    X_train, X_test = X_train.copy(), X_test.copy()
    for col in categorical_columns(X_train):
        for X in (X_train, X_test):
            X[col] = X[col].astype(object).where(X[col].notna(), None)
    return X_train, X_test


def write_predictions(path: str, task: str, model: Any, X_test: pd.DataFrame) -> float:
    """Predict X_test and write the predictions; returns the seconds it took."""
    start = time.perf_counter()
    if task == "classification":
        proba = model.predict_proba(X_test)
        frame = pd.DataFrame(proba, columns=[str(c) for c in model.classes_])
    else:
        frame = pd.DataFrame({"prediction": pd.Series(model.predict(X_test)).astype(float)})
    seconds = time.perf_counter() - start
    frame.to_parquet(path, index=False)
    return seconds


def done(**figures: Any) -> None:
    """Print the JSON line of figures."""
    print(json.dumps(figures, default=str), flush=True)
