"""The drift-test contract (:class:`noria.monitor.drift_tests.DriftTest`) as a pytest suite.

Subclass :class:`DriftTestSuite` and provide the ``drift_test`` fixture (your test), or call
:func:`check_drift_test` on it; every check is also a plain function ``check_*(test, ...)``.
The suite profiles its own data (:func:`suite_profiles`: a reference, a second sample of the same
distributions, and a sample of other distributions, 5,000 rows each, with a numeric, a string, a
boolean and a time column) and checks, for each column kind the test names:

- its facts: a plain-word ``name``, known ``kinds``, a positive finite ``threshold`` (below 1
  for a p-value test), ``p_value`` a bool;
- identical profiles give a statistic of 0 (and a p-value of 1);
- a second sample of the same distribution is not drift; other distributions are (each shifted
  far enough that every built-in test notices: a mean one standard deviation away, category
  shares 0.5/0.3/0.2 turned 0.2/0.3/0.5, a true share 0.3 turned 0.7, and 1 % nulls turned
  20 %); statistics finite, p-values in [0, 1];
- the profiles are not changed, and a result does not depend on what ran before it, nor on
  another thread running tests at the same time.

Example::

    import pytest
    from noria.testing.drift import DriftTestSuite

    class TestMyDistance(DriftTestSuite):
        @pytest.fixture
        def drift_test(self):
            return MyDistance()

The suite needs pytest (``pip install 'noria[dev]'``); nothing in noria imports this module.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import TYPE_CHECKING

import pytest

from noria.data.kinds import KINDS
from noria.monitor.drift_tests import DriftTest

if TYPE_CHECKING:
    from noria.data.profile_record import ColumnProfile, Profile

__all__ = [
    "COLUMNS",
    "DriftTestSuite",
    "check_drift_test",
    "check_facts",
    "check_identical_is_zero",
    "check_other_distribution_drifts",
    "check_pure_and_thread_safe",
    "check_same_distribution_does_not_drift",
    "suite_profiles",
]

#: The column of :func:`suite_profiles` of each kind.
COLUMNS = {"numeric": "x", "string": "s", "boolean": "b", "temporal": "t"}
_ROWS = 5000


@functools.lru_cache(maxsize=1)
def suite_profiles() -> tuple[Profile, Profile, Profile]:
    """``(reference, same, other)``: profiles of the suite's three samples (see the module
    docstring); ``same`` and ``other`` on the reference's histogram edges."""
    import numpy as np
    import pandas as pd

    from noria.data.profiling import profile_data

    def sample(seed: int, *, shifted: bool) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        shares = [0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2]
        start = pd.Timestamp("2024-01-01")
        times = start + pd.to_timedelta(rng.integers(0, 86_400 * 60, _ROWS), unit="s")
        frame = pd.DataFrame(
            {
                "x": rng.normal(1.0 if shifted else 0.0, 1.0, _ROWS),
                "s": rng.choice(["a", "b", "c"], _ROWS, p=shares),
                "b": rng.random(_ROWS) < (0.7 if shifted else 0.3),
                "t": times,
            }
        )
        nulls = np.zeros((_ROWS, 4), dtype=bool)  # exactly 1 % (20 %) of each column
        for j in range(4):
            nulls[rng.choice(_ROWS, _ROWS // (5 if shifted else 100), replace=False), j] = True
        return frame.astype({"b": "boolean"}).mask(nulls)

    reference = profile_data(sample(11, shifted=False))
    same = profile_data(sample(12, shifted=False), reference=reference)
    other = profile_data(sample(13, shifted=True), reference=reference)
    return reference, same, other


def _pairs(test: DriftTest) -> list[tuple[str, ColumnProfile, ColumnProfile, ColumnProfile]]:
    """``(kind, reference, same, other)`` columns for each kind the test applies to."""
    reference, same, other = suite_profiles()
    return [
        (kind, reference[COLUMNS[kind]], same[COLUMNS[kind]], other[COLUMNS[kind]])
        for kind in test.kinds
        if kind in COLUMNS
    ]


def _drifts(test: DriftTest, statistic: float, p_value: float | None) -> bool:
    if test.p_value:
        assert p_value is not None, f"{test.name}: a p-value test returned no p-value"
        return p_value < test.threshold
    return statistic > test.threshold


def _valid(test: DriftTest, kind: str, statistic: float, p_value: float | None) -> None:
    assert isinstance(statistic, int | float) and math.isfinite(statistic), (
        f"{test.name} on a {kind} column: statistic {statistic!r} is not a finite number"
    )
    assert p_value is None or 0.0 <= p_value <= 1.0, (
        f"{test.name} on a {kind} column: p-value {p_value!r} is not in [0, 1]"
    )


def check_facts(test: DriftTest) -> None:
    """The test says what it is: name, kinds, threshold and how it is judged."""
    assert isinstance(test, DriftTest), f"{test!r} lacks name, kinds, threshold, p_value or call"
    assert isinstance(test.name, str) and test.name.isidentifier() and test.name != "auto", (
        f"name {test.name!r}: a plain word"
    )
    assert test.kinds and set(test.kinds) <= set(KINDS), (
        f"{test.name}: kinds {test.kinds!r} must be some of {', '.join(KINDS)}"
    )
    assert isinstance(test.p_value, bool), f"{test.name}: p_value must be True or False"
    threshold = test.threshold
    assert isinstance(threshold, int | float) and threshold > 0 and math.isfinite(threshold), (
        f"{test.name}: threshold {threshold!r} must be a positive number"
    )
    assert not test.p_value or threshold < 1, f"{test.name}: a p-value threshold is below 1"


def check_identical_is_zero(test: DriftTest) -> None:
    """A column against itself: statistic 0, and a p-value of 1 where there is one."""
    for kind, ref, _, _ in _pairs(test):
        statistic, p_value = test(ref, ref)
        assert statistic == pytest.approx(0.0, abs=1e-12), (
            f"{test.name} on identical {kind} columns: statistic {statistic}, not 0"
        )
        assert p_value is None or p_value == pytest.approx(1.0), (
            f"{test.name} on identical {kind} columns: p-value {p_value}, not 1"
        )


def check_same_distribution_does_not_drift(test: DriftTest) -> None:
    """A second sample of the same distribution is not drift (at the default threshold)."""
    for kind, ref, same, _ in _pairs(test):
        statistic, p_value = test(ref, same)
        _valid(test, kind, statistic, p_value)
        assert not _drifts(test, statistic, p_value), (
            f"{test.name} calls two samples of one {kind} distribution drift "
            f"(statistic {statistic}, p-value {p_value}, threshold {test.threshold})"
        )


def check_other_distribution_drifts(test: DriftTest) -> None:
    """A clearly different distribution is drift (at the default threshold)."""
    for kind, ref, _, other in _pairs(test):
        statistic, p_value = test(ref, other)
        _valid(test, kind, statistic, p_value)
        assert _drifts(test, statistic, p_value), (
            f"{test.name} misses a shifted {kind} distribution "
            f"(statistic {statistic}, p-value {p_value}, threshold {test.threshold})"
        )


def check_pure_and_thread_safe(test: DriftTest) -> None:
    """Results depend on the two profiles only: not on the call before (any memo is keyed by
    the pair), not on other threads running tests meanwhile, and the profiles are unchanged."""
    pairs = [(ref, cur) for _, ref, same, other in _pairs(test) for cur in (same, other, ref)]
    before = [(ref.to_dict(), cur.to_dict()) for ref, cur in pairs]
    serial = [test(ref, cur) for ref, cur in pairs]
    assert [test(ref, cur) for ref, cur in reversed(pairs)] == serial[::-1], (
        f"{test.name}: a result depends on the call before it"
    )
    results: dict[int, list[tuple[float, float | None]]] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            order = pairs if i % 2 else pairs[::-1]
            got = [test(ref, cur) for _ in range(5) for ref, cur in order]
            results[i] = got[-len(pairs) :] if i % 2 else got[-len(pairs) :][::-1]
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"{test.name} failed in a thread: {errors[0]!r}"
    for got in results.values():
        assert got == serial, f"{test.name}: results differ when threads run it at once"
    after = [(ref.to_dict(), cur.to_dict()) for ref, cur in pairs]
    assert after == before, f"{test.name} changed a profile it compared"


def check_drift_test(test: DriftTest) -> None:
    """Run every check of the suite on ``test`` (an ``AssertionError`` names what failed)."""
    check_facts(test)
    check_identical_is_zero(test)
    check_same_distribution_does_not_drift(test)
    check_other_distribution_drifts(test)
    check_pure_and_thread_safe(test)


class DriftTestSuite:
    """The checks as a pytest class: subclass it and provide the ``drift_test`` fixture."""

    @pytest.fixture
    def drift_test(self) -> DriftTest:
        """The drift test under test (override in the subclass)."""
        raise NotImplementedError("provide the drift_test fixture")

    def test_facts(self, drift_test: DriftTest) -> None:
        check_facts(drift_test)

    def test_identical_is_zero(self, drift_test: DriftTest) -> None:
        check_identical_is_zero(drift_test)

    def test_same_distribution_does_not_drift(self, drift_test: DriftTest) -> None:
        check_same_distribution_does_not_drift(drift_test)

    def test_other_distribution_drifts(self, drift_test: DriftTest) -> None:
        check_other_distribution_drifts(drift_test)

    def test_pure_and_thread_safe(self, drift_test: DriftTest) -> None:
        check_pure_and_thread_safe(drift_test)
