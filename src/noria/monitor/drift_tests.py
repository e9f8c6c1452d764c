"""The drift tests: one record per test, registered in one place (:data:`TESTS`).

A drift test is anything that satisfies the :class:`DriftTest` protocol: a ``name`` (its key in
``monitor.thresholds`` and in :attr:`~noria.monitor.drift.ColumnDrift.stats`), the column
``kinds`` it applies to, a default ``threshold``, whether it is judged by a ``p_value`` (drift
below the threshold) or by its statistic (drift above it), and a call that reads two column
profiles and returns ``(statistic, p_value)``. Everything else derives from the registry: the
choices of :attr:`~noria.monitor.drift_config.DriftConfig.numeric_test` and ``categorical_test``
(:func:`choices`), the default thresholds (:data:`DEFAULT_THRESHOLDS`), the reasons' labels, and
the statistics :func:`~noria.monitor.drift.compare` reports. :func:`register_drift_test` adds
one (a user's own); :mod:`noria.testing.drift` is the conformance suite every test passes.

The built-in tests (the distances themselves live in :mod:`noria.data.distances`):

- ``ks``: D is the largest gap between the two empirical CDFs, evaluated exactly at every bucket
  boundary of the quantile sketches (log buckets 2 % wide, the same keys in every profile) and,
  when the histogram edges are shared, at every histogram edge: a lower bound of the exact D
  that misses only differences inside one bucket. The p-value is the asymptotic Kolmogorov
  distribution at Stephens' corrected ``(sqrt(n) + 0.12 + 0.11 / sqrt(n)) * D``.
- ``wasserstein``: the integral of ``|F_ref - F_cur|`` over the sketch buckets (each bucket's
  count at its representative value, clipped to the profile's exact min and max), or over the
  shared histogram's bins when these are finer than the sketch near the median (a narrow
  distribution far from zero, such as 1000 ± 1). Normalised by the reference's standard
  deviation, or, for a constant reference, by the constant's magnitude (1 for zero).
- ``psi``: the population stability index ``sum((q - p) * ln(q / p))`` over the shared histogram
  bins with ``below`` and ``above`` as two more bins, or over the categories; an empty bin counts
  as :data:`~noria.data.distances.PSI_EPSILON`. When the edges differ, both sketches are
  re-binned onto the reference's edges. Nulls are left out: the null rate is its own test.
- ``js``: the Jensen–Shannon distance (square root of the divergence, base 2) over the same bins.
- ``chi2``: the chi-square test of homogeneity of the 2 × k table of category counts (so an
  unseen category, with a zero reference count, is counted in and needs no epsilon).
- ``null_rate``: the two-proportion z-test (pooled) of the null fractions; its statistic is the
  change ``null_cur - null_ref`` (reported as ``null_rate_delta`` and ``null_rate_p``). It runs
  on every column beside the distribution test; its thresholds are
  :attr:`~noria.monitor.drift_config.DriftConfig.null_rate_threshold` (the change) and
  ``null_rate_alpha`` (the p-value), not ``thresholds``.

Not here: choosing the deciding test and judging a column (:mod:`noria.monitor.drift`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from noria.data import distances
from noria.errors import ConfigError

if TYPE_CHECKING:
    from noria.data.profile_record import ColumnProfile

__all__ = [
    "CHI2",
    "DEFAULT_THRESHOLDS",
    "JS",
    "KS",
    "NULL_RATE",
    "PSI",
    "TESTS",
    "WASSERSTEIN",
    "DriftTest",
    "ProfileTest",
    "choices",
    "distribution_tests",
    "register_drift_test",
]


@runtime_checkable
class DriftTest(Protocol):
    """A two-sample test of one column, from the two profiles.

    A test with ``p_value`` true is judged by its p-value (drift when ``p < threshold``); one
    without by its statistic (drift when ``statistic > threshold``). Identical profiles give
    a statistic of 0 (and a p-value of 1). Optional attributes used in reasons for people:
    ``label`` (``"KS"``; the name when absent) and ``symbol`` (``"D"``; for p-value tests).
    """

    #: Its key in ``thresholds`` and in the reported statistics.
    name: str
    #: The column kinds it applies to (``numeric``, ``string``, ``boolean``, ``temporal``).
    kinds: tuple[str, ...]
    #: The default threshold (a p-value, or a distance).
    threshold: float
    #: Whether the p-value decides (else the statistic).
    p_value: bool

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(statistic, p_value)`` of ``cur`` against ``ref`` (``p_value`` ``None`` for a
        distance)."""
        ...


@dataclass(frozen=True)
class ProfileTest:
    """A built-in drift test: its facts and the function that computes it.

    Attributes:
        name, kinds, threshold, p_value: See :class:`DriftTest`.
        label: How reasons name it (``"KS"``).
        symbol: How reasons name its statistic next to its p-value (``"D"``).
        compute: ``(ref, cur) -> (statistic, p_value)``.
    """

    name: str
    kinds: tuple[str, ...]
    threshold: float
    p_value: bool
    label: str
    compute: Callable[[ColumnProfile, ColumnProfile], tuple[float, float | None]]
    symbol: str = ""

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(statistic, p_value)`` of ``cur`` against ``ref``."""
        return self.compute(ref, cur)


def _ks(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    d = distances.ks_distance(ref, cur)
    return d, distances.ks_p_value(d, ref.non_null, cur.non_null)


def _wasserstein(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    return distances.wasserstein(ref, cur) / distances.spread(ref), None


def _psi(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    return distances.psi(*distances.paired_counts(ref, cur)), None


def _js(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    return distances.js(*distances.paired_counts(ref, cur)), None


def _chi2(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    return distances.chi2(*distances.paired_counts(ref, cur))


def _null_rate(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    """``(null_cur - null_ref, p-value)`` of the two-proportion z-test (pooled)."""
    n1, n2 = ref.count, cur.count
    if not n1 or not n2:
        return 0.0, 1.0
    p1, p2 = ref.nulls / n1, cur.nulls / n2
    pooled = (ref.nulls + cur.nulls) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return p2 - p1, 1.0
    z = (p2 - p1) / se
    return p2 - p1, math.erfc(abs(z) / math.sqrt(2))


_ORDERED = ("numeric", "string", "boolean")
KS = ProfileTest("ks", ("numeric",), 0.05, True, "KS", _ks, "D")
WASSERSTEIN = ProfileTest("wasserstein", ("numeric",), 0.1, False, "Wasserstein", _wasserstein)
PSI = ProfileTest("psi", _ORDERED, 0.2, False, "PSI", _psi)
JS = ProfileTest("js", _ORDERED, 0.1, False, "JS", _js)
CHI2 = ProfileTest("chi2", ("string", "boolean"), 0.05, True, "chi-square", _chi2, "χ²")
NULL_RATE = ProfileTest(
    "null_rate", ("numeric", "string", "boolean", "temporal"), 0.05, True, "null rate", _null_rate
)

#: Every drift test by name, in the order reports list them: the one registry.
TESTS: dict[str, DriftTest] = {}


def register_drift_test(test: DriftTest, *, replace: bool = False) -> DriftTest:
    """Add ``test`` to :data:`TESTS`: :func:`~noria.monitor.drift.compare` reports it on every
    column of its kinds, and ``numeric_test`` / ``categorical_test`` may name it.

    Args:
        test: A :class:`DriftTest` (check it with :func:`noria.testing.drift.check_drift_test`).
        replace: Allow replacing a registered test of the same name.

    Returns:
        The test (so that it can be used as a decorator's result).

    Raises:
        ConfigError: It is not a drift test, its name is not a plain word, or the name is
            taken and ``replace`` is false.
    """
    if not isinstance(test, DriftTest):
        raise ConfigError(
            f"{test!r} is not a drift test: it needs name, kinds, threshold, p_value and a "
            "call (ref, cur) -> (statistic, p_value)"
        )
    name = test.name
    if not name.isidentifier() or name == "auto":
        raise ConfigError(f"drift test name {name!r}: use a plain word (letters, digits, _)")
    if name in TESTS and not replace:
        raise ConfigError(
            f"a drift test named '{name}' is registered already; pass replace=True to replace it"
        )
    TESTS[name] = test
    return test


for _test in (PSI, KS, WASSERSTEIN, JS, CHI2, NULL_RATE):
    register_drift_test(_test)


def distribution_tests() -> list[DriftTest]:
    """The registered tests of a column's distribution (every test but :data:`NULL_RATE`)."""
    return [t for name, t in TESTS.items() if name != NULL_RATE.name]


def choices(kind: str) -> tuple[str, ...]:
    """``auto`` and the distribution tests of ``numeric`` (or ``categorical``) columns."""
    kinds = ("numeric",) if kind == "numeric" else ("string", "boolean")
    return ("auto", *(t.name for t in distribution_tests() if set(kinds) & set(t.kinds)))


class _Thresholds(Mapping[str, float]):
    """The default threshold of every distribution test, read from the registry."""

    def __getitem__(self, name: str) -> float:
        if name == NULL_RATE.name or name not in TESTS:
            raise KeyError(name)
        return float(TESTS[name].threshold)

    def __iter__(self) -> Iterator[str]:
        return iter([t.name for t in distribution_tests()])

    def __len__(self) -> int:
        return len(distribution_tests())

    def __repr__(self) -> str:
        return repr(dict(self))


#: Threshold of each distribution test: a p-value for ``ks`` and ``chi2`` (drift below it), a
#: distance for the others (drift above it). A live view of :data:`TESTS`.
DEFAULT_THRESHOLDS: Mapping[str, float] = _Thresholds()
