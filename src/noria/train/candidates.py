"""The model families the search can try (``models.candidates``), with sound default settings.

:func:`make_estimator` returns an unfitted scikit-learn compatible estimator for a family and a
task. The defaults are meant to be good without tuning: enough trees, a learning rate that does
not overfit at once, iterations enough for the linear model to converge on scaled features.
Each family's library is imported only when a model of that family is asked for: a worker
process that fits LightGBM never imports scikit-learn's ensembles.

Not here: hyperparameter search spaces, fitting, the preprocessing (``noria.features``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from noria.errors import ConfigError, did_you_mean

__all__ = ["FAMILIES", "TASKS", "check_family", "check_task", "make_estimator"]

#: The model families, in the order the search tries them.
FAMILIES: tuple[str, ...] = (
    "linear",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "lightgbm",
    "xgboost",
    "knn",
)

#: The supervised tasks.
TASKS: tuple[str, ...] = ("classification", "regression")


def check_family(family: str) -> str:
    """Return ``family`` if it is one of :data:`FAMILIES`.

    Raises:
        ConfigError: Naming ``models.candidates``, the value, a near match and the valid names.
    """
    if family not in FAMILIES:
        raise ConfigError(
            f"`models.candidates`: unknown model family '{family}'"
            f"{did_you_mean(str(family), FAMILIES)}; use some of {', '.join(FAMILIES)}"
        )
    return family


def check_task(task: str) -> str:
    """Return ``task`` if it is ``"classification"`` or ``"regression"``.

    Raises:
        ConfigError: Naming ``task``, the value, a near match and the valid values.
    """
    if task not in TASKS:
        raise ConfigError(
            f"`task`: unknown task '{task}'{did_you_mean(str(task), TASKS)}; "
            f"use {' or '.join(TASKS)}"
        )
    return task


def make_estimator(
    family: str,
    task: str,
    *,
    seed: int = 42,
    n_jobs: int = 1,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """An unfitted estimator of ``family`` for ``task``, defaults overridden by ``params``.

    * ``linear``: ``LogisticRegression(max_iter=1000)`` / ``Ridge()``;
    * ``random_forest`` / ``extra_trees``: 200 trees;
    * ``hist_gradient_boosting``: ``HistGradientBoostingClassifier`` / ``…Regressor``;
    * ``lightgbm``: ``n_estimators=200, learning_rate=0.05, verbose=-1``;
    * ``xgboost`` (when installed): ``n_estimators=200, learning_rate=0.05``;
    * ``knn``: ``KNeighborsClassifier`` / ``…Regressor`` with 15 neighbours, distance-weighted.

    Args:
        family: One of :data:`FAMILIES`.
        task: ``"classification"`` or ``"regression"``.
        seed: The random state of every estimator that has one.
        n_jobs: Threads for the forests, k-NN, LightGBM and XGBoost.
        params: Hyperparameters that replace the defaults (from a search or the user).

    Returns:
        The unfitted estimator.

    Raises:
        ConfigError: An unknown family (``models.candidates``) or task, or XGBoost asked for
            without being installed.
    """
    check_family(family)
    classification = check_task(task) == "classification"
    extra = dict(params or {})
    if family == "linear":
        from sklearn.linear_model import LogisticRegression, Ridge

        if classification:
            return LogisticRegression(**{"max_iter": 1000, **extra})
        return Ridge(**extra)
    if family in ("random_forest", "extra_trees"):
        from sklearn.ensemble import (
            ExtraTreesClassifier,
            ExtraTreesRegressor,
            RandomForestClassifier,
            RandomForestRegressor,
        )

        kinds = {
            "random_forest": (RandomForestClassifier, RandomForestRegressor),
            "extra_trees": (ExtraTreesClassifier, ExtraTreesRegressor),
        }
        forest = kinds[family][0 if classification else 1]
        return forest(**{"n_estimators": 200, "n_jobs": n_jobs, "random_state": seed, **extra})
    if family == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        boosting = (
            HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        )
        return boosting(**{"random_state": seed, **extra})
    if family == "knn":
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        knn = KNeighborsClassifier if classification else KNeighborsRegressor
        return knn(**{"n_neighbors": 15, "weights": "distance", "n_jobs": n_jobs, **extra})
    if family == "xgboost":
        try:
            from xgboost import XGBClassifier, XGBRegressor
        except ImportError:
            raise ConfigError(
                "models.candidates: 'xgboost' is not installed; pip install 'noria[xgboost]' "
                "or remove it from the candidates"
            ) from None
        xgb = XGBClassifier if classification else XGBRegressor
        defaults = {"n_estimators": 200, "learning_rate": 0.05, "random_state": seed}
        return xgb(**{**defaults, "n_jobs": n_jobs, "verbosity": 0, **extra})
    from lightgbm import LGBMClassifier, LGBMRegressor

    lgbm = LGBMClassifier if classification else LGBMRegressor
    defaults = {"n_estimators": 200, "learning_rate": 0.05, "verbose": -1, "random_state": seed}
    return lgbm(**{**defaults, "n_jobs": n_jobs, **extra})
