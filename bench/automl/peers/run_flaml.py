"""FLAML's AutoML with ``time_budget``: its default estimators, its default evaluation method.

The metric is the benchmark's: ``roc_auc`` (binary), ``roc_auc_ovr`` (multiclass), ``r2``.
String columns are given as pandas categoricals. FLAML retrains the best configuration on the
whole train part at the end (its default); that retrain counts in ``search_s``.
"""

from __future__ import annotations

import time

import _common
import flaml
from flaml import AutoML


def main() -> None:
    a = _common.args()
    X, y, X_test = _common.load(a)
    X, X_test = _common.to_category(X, X_test)
    if a.task == "classification":
        metric = "roc_auc" if y.nunique() == 2 else "roc_auc_ovr"
    else:
        metric = "r2"
    automl = AutoML()
    start = time.perf_counter()
    automl.fit(
        X,
        y,
        task=a.task,
        metric=metric,
        time_budget=a.budget,
        n_jobs=a.n_jobs,
        seed=a.seed,
        verbose=0,
    )
    search_s = time.perf_counter() - start
    predict_s = _common.write_predictions(a.out, a.task, automl, X_test)
    _common.done(
        search_s=search_s,
        predict_s=predict_s,
        version=flaml.__version__,
        best_family=automl.best_estimator,
        best_params=automl.best_config,
        best_score=1 - automl.best_loss,
        trials=len(automl.config_history),
        best_config_train_time=automl.best_config_train_time,
    )


if __name__ == "__main__":
    main()
