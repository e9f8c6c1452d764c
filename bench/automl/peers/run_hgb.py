"""HistGradientBoosting with scikit-learn's defaults; string columns as pandas categoricals.

No search: the budget is not used. ``categorical_features="from_dtype"`` (the default) makes
the categoricals native categorical splits; missing values go to the learned side.
"""

from __future__ import annotations

import time

import _common
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def main() -> None:
    a = _common.args()
    X, y, X_test = _common.load(a)
    X, X_test = _common.to_category(X, X_test)
    cls = (
        HistGradientBoostingClassifier
        if a.task == "classification"
        else HistGradientBoostingRegressor
    )
    model = cls(categorical_features="from_dtype", random_state=a.seed)
    start = time.perf_counter()
    model.fit(X, y)
    search_s = time.perf_counter() - start
    predict_s = _common.write_predictions(a.out, a.task, model, X_test)
    _common.done(
        search_s=search_s,
        predict_s=predict_s,
        version=sklearn.__version__,
        n_iter=int(model.n_iter_),
        best_family="hist_gradient_boosting",
    )


if __name__ == "__main__":
    main()
