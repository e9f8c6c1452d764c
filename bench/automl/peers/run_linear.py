"""The linear baseline: impute, one-hot, scale, then LogisticRegression or Ridge (defaults).

Numeric columns: median imputation with missing indicators, then standard scaling. String
columns: a constant '__missing__' level, then one-hot (unseen levels ignored). No search: the
budget is not used.
"""

from __future__ import annotations

import time

import _common
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def main() -> None:
    a = _common.args()
    X, y, X_test = _common.load(a)
    X, X_test = _common.to_object(X, X_test)
    categorical = _common.categorical_columns(X)
    numeric = [c for c in X.columns if c not in categorical]
    prep = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                ),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    head = LogisticRegression(max_iter=5000) if a.task == "classification" else Ridge()
    model = make_pipeline(prep, head)
    start = time.perf_counter()
    model.fit(X, y)
    search_s = time.perf_counter() - start
    predict_s = _common.write_predictions(a.out, a.task, model, X_test)
    _common.done(
        search_s=search_s,
        predict_s=predict_s,
        version=sklearn.__version__,
        best_family="linear",
    )


if __name__ == "__main__":
    main()
