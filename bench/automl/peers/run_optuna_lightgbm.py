"""LightGBM tuned by Optuna: TPE (seeded) within the budget, 3-fold CV on the train part, refit.

The search space is the usual one for LightGBM (trees, learning rate, leaves, minimum child
samples, row and column subsampling, L1/L2). Each trial scores the benchmark's metric by
3-fold CV (stratified for classification); LightGBM uses the pandas categoricals natively.
The first trial is LightGBM's defaults (enqueued), as a user would start.
The study stops at its timeout or earlier when the time left would not cover the refit of the
best configuration on the whole train part (estimated from that trial's own time), so that the
search plus the refit aim at the budget; a trial that has started always finishes.
"""

from __future__ import annotations

import time
import warnings

import _common
import lightgbm
import optuna
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

#: LightGBM's own defaults, in the search space's terms (the first trial).
DEFAULTS = {
    "n_estimators": 100,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_alpha": 1e-8,
    "reg_lambda": 1e-8,
}


def main() -> None:
    a = _common.args()
    X, y, X_test = _common.load(a)
    X, X_test = _common.to_category(X, X_test)
    classification = a.task == "classification"
    if classification:
        scoring = "roc_auc" if y.nunique() == 2 else "roc_auc_ovr"
        folds = StratifiedKFold(3, shuffle=True, random_state=a.seed)
        model_cls = lightgbm.LGBMClassifier
    else:
        scoring = "r2"
        folds = KFold(3, shuffle=True, random_state=a.seed)
        model_cls = lightgbm.LGBMRegressor
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")

    def make(params: dict[str, object]) -> object:
        return model_cls(
            **params, subsample_freq=1, n_jobs=a.n_jobs, random_state=a.seed, verbose=-1
        )

    def objective(trial: optuna.Trial) -> float:
        params = {
            "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.3, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 2, 100, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 10.0, log=True),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 10.0, log=True),
        }
        return float(cross_val_score(make(params), X, y, scoring=scoring, cv=folds).mean())

    start = time.perf_counter()

    def stop_for_refit(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        best = study.best_trial
        # the refit trains one model on 3/2 of a fold's rows: about half of a 3-fold trial
        refit_s = 0.5 * best.duration.total_seconds() if best.duration else 0.0
        if time.perf_counter() - start + refit_s >= a.budget:
            study.stop()

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=a.seed)
    )
    study.enqueue_trial(DEFAULTS)
    study.optimize(objective, timeout=a.budget, callbacks=[stop_for_refit])
    model = make(study.best_params)
    model.fit(X, y)
    search_s = time.perf_counter() - start
    predict_s = _common.write_predictions(a.out, a.task, model, X_test)
    _common.done(
        search_s=search_s,
        predict_s=predict_s,
        version=f"{optuna.__version__} + {lightgbm.__version__}",
        best_family="lightgbm",
        best_params=study.best_params,
        best_score=study.best_value,
        trials=len(study.trials),
    )


if __name__ == "__main__":
    main()
