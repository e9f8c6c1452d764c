"""How drift is decided: :class:`DriftConfig`, checked against the registered drift tests.

The test names it accepts (``numeric_test``, ``categorical_test``, the keys of ``thresholds``)
are those of :data:`noria.monitor.drift_tests.TESTS`, so a test registered with
:func:`~noria.monitor.drift_tests.register_drift_test` is a valid choice at once. Every error is
a :class:`~noria.errors.ConfigError` naming the field and the choices.

Not here: the tests (:mod:`noria.monitor.drift_tests`), judging a column
(:mod:`noria.monitor.drift`), ``monitor:`` in noria.yaml (:mod:`noria.spec`, read by
:func:`noria.monitor.monitor.drift_config`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from noria.errors import ConfigError, did_you_mean
from noria.monitor.drift_tests import DEFAULT_THRESHOLDS, TESTS, choices

__all__ = ["CORRECTIONS", "DriftConfig"]

#: Choices of :attr:`DriftConfig.correction` (for multiple columns).
CORRECTIONS = ("bonferroni", "none")


def _default_thresholds() -> dict[str, float]:
    return dict(DEFAULT_THRESHOLDS)


@dataclass(frozen=True)
class DriftConfig:
    """How :func:`~noria.monitor.drift.compare` decides drift.

    Attributes:
        numeric_test: ``auto`` (KS at small samples, normalised Wasserstein at large ones; see
            :mod:`noria.monitor.drift`), or a test of numeric columns: ``psi``, ``ks``,
            ``wasserstein``, ``js`` (or one registered since).
        categorical_test: For strings and booleans: ``auto`` (chi-square at small samples,
            Jensen–Shannon at large ones), ``chi2``, ``psi`` or ``js``.
        thresholds: Per test: a p-value for ``ks`` and ``chi2`` (drift below it), a distance
            for ``psi``, ``wasserstein`` and ``js`` (drift above it). Tests left out keep
            their default (:data:`~noria.monitor.drift_tests.DEFAULT_THRESHOLDS`).
        null_rate_threshold: An absolute change of the null fraction larger than this (and
            significant) is drift.
        min_samples: Fewer rows on either side: ``too_small``, never an alarm; fewer non-null
            values: the null-rate test only.
        large_n: Effective sample size above which ``auto`` picks a distance over a p-value.
        null_rate_alpha: Significance level of the null-rate z-test.
        correction: ``bonferroni`` (default): a p-value test of one of ``m`` compared columns
            flags drift below ``threshold / m``, so that a window of ``m`` undrifted columns
            raises a false alarm with probability about ``threshold`` rather than
            ``1 - (1 - threshold) ** m`` (a third of small windows at 8 columns); ``none``:
            each column at ``threshold``. Distances are not corrected.
    """

    numeric_test: str = "auto"
    categorical_test: str = "auto"
    thresholds: Mapping[str, float] = field(default_factory=_default_thresholds)
    null_rate_threshold: float = 0.05
    min_samples: int = 100
    large_n: int = 1000
    null_rate_alpha: float = 0.05
    correction: str = "bonferroni"

    def __post_init__(self) -> None:
        if self.correction not in CORRECTIONS:
            raise ConfigError(
                f"drift correction: unknown '{self.correction}'"
                f"{did_you_mean(str(self.correction), CORRECTIONS)}; use bonferroni or none"
            )
        for key, test, allowed in (
            ("numeric_test", self.numeric_test, choices("numeric")),
            ("categorical_test", self.categorical_test, choices("categorical")),
        ):
            if test not in allowed:
                raise ConfigError(
                    f"drift {key}: unknown test '{test}'{did_you_mean(str(test), allowed)}; "
                    f"use one of {', '.join(allowed)}"
                )
        object.__setattr__(self, "thresholds", _checked_thresholds(self.thresholds))
        for key, share in (
            ("null_rate_threshold", self.null_rate_threshold),
            ("null_rate_alpha", self.null_rate_alpha),
        ):
            if not _is_number(share) or not 0 < share < 1:
                raise ConfigError(f"drift {key}: {share!r} must be a number between 0 and 1")
        for key, count in (("min_samples", self.min_samples), ("large_n", self.large_n)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ConfigError(f"drift {key}: {count!r} must be a whole number ≥ 1")


def _checked_thresholds(thresholds: Any) -> dict[str, float]:
    """The default thresholds updated with ``thresholds``, each checked."""
    if not isinstance(thresholds, Mapping):
        raise ConfigError(
            "drift thresholds: expected a mapping of test name to threshold, such as {'psi': 0.2}"
        )
    merged = _default_thresholds()
    for test, value in thresholds.items():
        if test not in DEFAULT_THRESHOLDS:
            raise ConfigError(
                f"drift thresholds.{test}: unknown test{did_you_mean(str(test), merged)}; "
                f"use one of {', '.join(DEFAULT_THRESHOLDS)}"
            )
        if not _is_number(value) or not value > 0 or not math.isfinite(value):
            raise ConfigError(f"drift thresholds.{test}: {value!r} is not a positive number")
        if TESTS[test].p_value and value >= 1:
            raise ConfigError(
                f"drift thresholds.{test}: {value!r} is a p-value threshold; use a number "
                "between 0 and 1 (0.05 is usual)"
            )
        merged[test] = float(value)
    return merged


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
