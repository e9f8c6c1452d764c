"""Search spaces: which hyperparameters of each model family the search tunes, and over what.

A space maps a parameter name to a :class:`Param`: a float or int range (optionally on a log
scale) or a list of choices. The built-in spaces are :data:`SPACES`; a user's own family comes
with its own space, from Python or from ``noria.yaml``::

    models:
      spaces:
        random_forest: {max_depth: {type: int, low: 2, high: 12}}

:func:`check_space` rejects an invalid range before any trial runs. :data:`GRIDS` are the small
grids the ``grid`` sampler walks. Not here: sampling and running trials (:mod:`noria.train.search`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from noria.errors import ConfigError

__all__ = ["GRIDS", "SPACES", "Param", "check_space", "parse_space"]


@dataclass(frozen=True, slots=True)
class Param:
    """One tunable hyperparameter: ``kind`` is ``float``, ``int`` or ``categorical``."""

    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()


def _f(low: float, high: float, log: bool = False) -> Param:
    return Param("float", low, high, log)


def _i(low: int, high: int, log: bool = False) -> Param:
    return Param("int", low, high, log)


def _c(*choices: Any) -> Param:
    return Param("categorical", choices=choices)


_FOREST = {
    "n_estimators": _i(50, 400, log=True),
    "max_features": _c("sqrt", "log2", 0.5, 1.0),
    "min_samples_leaf": _i(1, 20, log=True),
    "max_depth": _c(None, 8, 16, 32),
}

#: The built-in spaces per family and task (``"classification"`` / ``"regression"``).
SPACES: dict[str, dict[str, dict[str, Param]]] = {
    "linear": {
        "classification": {"C": _f(1e-3, 1e2, log=True)},
        "regression": {"alpha": _f(1e-3, 1e3, log=True)},
    },
    "random_forest": {"classification": _FOREST, "regression": _FOREST},
    "extra_trees": {"classification": _FOREST, "regression": _FOREST},
    "hist_gradient_boosting": {
        task: {
            "learning_rate": _f(0.02, 0.3, log=True),
            "max_leaf_nodes": _i(8, 128, log=True),
            "min_samples_leaf": _i(5, 100, log=True),
            "l2_regularization": _f(1e-6, 10.0, log=True),
        }
        for task in ("classification", "regression")
    },
    "lightgbm": {
        task: {
            "n_estimators": _i(50, 800, log=True),
            "learning_rate": _f(0.01, 0.3, log=True),
            "num_leaves": _i(7, 127, log=True),
            "min_child_samples": _i(5, 100, log=True),
            "subsample": _f(0.5, 1.0),
            "subsample_freq": _c(1),
            "colsample_bytree": _f(0.4, 1.0),
            "reg_lambda": _f(1e-6, 10.0, log=True),
        }
        for task in ("classification", "regression")
    },
    "xgboost": {
        task: {
            "n_estimators": _i(50, 800, log=True),
            "learning_rate": _f(0.01, 0.3, log=True),
            "max_depth": _i(2, 10),
            "subsample": _f(0.5, 1.0),
            "colsample_bytree": _f(0.4, 1.0),
            "reg_lambda": _f(1e-6, 10.0, log=True),
        }
        for task in ("classification", "regression")
    },
    "knn": {
        task: {"n_neighbors": _i(3, 60, log=True), "weights": _c("uniform", "distance")}
        for task in ("classification", "regression")
    },
}

#: The points the ``grid`` sampler tries, per family (the same for both tasks unless keyed).
GRIDS: dict[str, dict[str, list[Any]]] = {
    "linear": {"C": [0.01, 0.1, 1.0, 10.0], "alpha": [0.1, 1.0, 10.0, 100.0]},
    "random_forest": {"max_features": ["sqrt", 0.5], "min_samples_leaf": [1, 5]},
    "extra_trees": {"max_features": ["sqrt", 0.5], "min_samples_leaf": [1, 5]},
    "hist_gradient_boosting": {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 63]},
    "lightgbm": {"learning_rate": [0.03, 0.1], "num_leaves": [15, 63]},
    "xgboost": {"learning_rate": [0.03, 0.1], "max_depth": [3, 6]},
    "knn": {"n_neighbors": [5, 15, 40]},
}


def check_space(family: str, space: Mapping[str, Param]) -> None:
    """Raise :class:`ConfigError` naming the family and parameter of an invalid range."""
    for name, p in space.items():
        where = f"models.spaces.{family}.{name}"
        if p.kind in ("float", "int"):
            if p.low is None or p.high is None:
                raise ConfigError(f"{where}: a {p.kind} range needs both low and high")
            if p.low > p.high:
                raise ConfigError(f"{where}: low {p.low} is above high {p.high}; swap them")
            if p.log and p.low <= 0:
                raise ConfigError(f"{where}: a log range needs low > 0, got {p.low}")
        elif p.kind == "categorical":
            if not p.choices:
                raise ConfigError(f"{where}: choices is empty; list at least one value")
        else:
            raise ConfigError(f"{where}: type '{p.kind}' is unknown; use float, int or categorical")


def parse_space(family: str, raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Param]:
    """A space from its ``noria.yaml`` form, checked.

    Raises:
        ConfigError: an unknown key, a wrong type or an invalid range, naming the parameter.
    """
    out: dict[str, Param] = {}
    for name, spec in raw.items():
        where = f"models.spaces.{family}.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: give a mapping such as {{type: int, low: 1, high: 10}}")
        unknown = set(spec) - {"type", "low", "high", "log", "choices"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        kind = str(spec.get("type", "categorical" if "choices" in spec else "float"))
        try:
            out[name] = Param(
                kind,
                None if spec.get("low") is None else float(spec["low"]),
                None if spec.get("high") is None else float(spec["high"]),
                bool(spec.get("log", False)),
                tuple(spec.get("choices", ())),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
    check_space(family, out)
    return out
