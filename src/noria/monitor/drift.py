"""Drift between a reference profile and a current one: per column, a distribution test and a
null-rate test, computed from the profiles alone.

:func:`compare` reads two :class:`~noria.data.profile.Profile` objects, never the data: a new
window of predictions costs its own profile (O(window)) and a comparison of sketches whose size
does not grow with the rows (a few hundred log buckets, about 20 histogram bins, at most
:data:`~noria.data.profile.MAX_VALUES` categories per column). Profile the current window with
``profile_data(window, reference=reference_profile)`` so that the numeric histograms share the
reference's edges; without it the histogram tests fall back to the quantile sketch.

Which test, and why (``"auto"``, the default of :class:`DriftConfig`):

==============  ======================  ====================================================
column kind     small samples           large samples
==============  ======================  ====================================================
numeric         ``ks``: two-sample      ``wasserstein``: the Wasserstein-1 distance divided
                Kolmogorov–Smirnov,     by the reference's standard deviation, drift above
                drift when p < 0.05     0.1 (a shift of a tenth of a standard deviation)
string, boolean ``chi2``: chi-square    ``js``: Jensen–Shannon distance (base 2, in [0, 1]),
                test of homogeneity,    drift above 0.1
                drift when p < 0.05
time            null rate only (a window of newer times always "drifts")
==============  ======================  ====================================================

"Large" means an effective sample size ``n_ref * n_cur / (n_ref + n_cur)`` above
:attr:`DriftConfig.large_n` (1000): at a million rows a p-value calls a shift of a hundredth of a
standard deviation significant, so past that size a distance with a fixed threshold says whether
the shift matters; below it, a distance is too noisy and a p-value accounts for the noise. For
categories "large" also needs 50 values per category (``n > 50 * (k - 1)``): sampling noise
alone gives 200 equally likely categories a Jensen–Shannon distance of about 0.14 at 2,000 rows
(a false alarm), 0.06 at 10,000. A numeric column that is constant in the reference has no
spread to normalise by: ``auto`` uses KS there at every size, whose D is then the share of
current values off the constant (a shift of the constant is drift, the same constant is not).

How the tests read the profiles (every test that applies is in :attr:`ColumnDrift.stats`):

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
  as :data:`PSI_EPSILON`. When the edges differ, both sketches are re-binned onto the
  reference's edges. Customary reading: < 0.1 stable, 0.1–0.2 moderate, > 0.2 drift.
- ``js``: the Jensen–Shannon distance (square root of the divergence, base 2) over the same bins.
- ``chi2``: the chi-square test of homogeneity of the 2 × k table of category counts (so an
  unseen category, with a zero reference count, is counted in and needs no epsilon).

Categories: every category both sides know the count of is a bin, and the rest (values beyond
the top values a high-cardinality profile keeps) is one more bin ``other``. A category of the
current window that the reference never saw is *unseen*; it is counted into the tests and listed
in :attr:`ColumnDrift.unseen` when the reference kept every category (``values_complete``).

Nulls: a column has drifted when its distribution test says so **or** when its null rate moved
by more than :attr:`DriftConfig.null_rate_threshold` (absolute) and a two-proportion z-test calls
the move significant (p < :attr:`DriftConfig.null_rate_alpha`). The distribution tests compare the
non-null values only, so a jump of nulls from 1 % to 15 % with the same values would pass them
unseen (as it does in Evidently, which drops nulls).

Many columns: the p-value thresholds are divided by the number of columns compared (Bonferroni,
:attr:`DriftConfig.correction`), so that a small window of undrifted data raises a false alarm
in about 5 % of windows, not in about ``1 - 0.95 ** m`` of them (a third at 8 columns, nearly two
thirds at 20). The distances of large samples are effect sizes and are not corrected.

Small windows: a side with fewer than :attr:`DriftConfig.min_samples` rows gives ``too_small``
and never an alarm; one with enough rows but fewer non-null values than that gets the null-rate
test only (``too_small`` unless the null rate drifted, as in an all-null window).

Statuses: ``drift``, ``ok``, ``too_small``, ``missing`` (the column is not in the current data),
``new`` (only in the current data). A change of kind (numeric in the reference, strings now) is
``drift`` with test ``kind``. Only ``drift`` sets :attr:`ColumnDrift.drifted`.

Prediction drift is the same comparison on the output columns of a prediction log
(``output.prediction``, …): column names are arbitrary.

Not here: collecting windows of the prediction log, alerts and policies (the monitor), the HTML
report, live performance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from noria.data.profile import ColumnProfile, Profile
from noria.data.sketch import SKETCH_ALPHA, key_values
from noria.errors import ConfigError, NotFoundError, did_you_mean

__all__ = [
    "CATEGORICAL_TESTS",
    "CORRECTIONS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_TESTS",
    "PSI_EPSILON",
    "TESTS",
    "ColumnDrift",
    "DriftConfig",
    "DriftReport",
    "DriftTest",
    "compare",
]

#: Choices of :attr:`DriftConfig.numeric_test`.
NUMERIC_TESTS = ("auto", "psi", "ks", "wasserstein", "js")
#: Choices of :attr:`DriftConfig.correction` (for multiple columns).
CORRECTIONS = ("bonferroni", "none")
#: Choices of :attr:`DriftConfig.categorical_test`.
CATEGORICAL_TESTS = ("auto", "chi2", "psi", "js")
#: Threshold of each test: a p-value for ``ks`` and ``chi2`` (drift below it), a distance for the
#: others (drift above it).
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "psi": 0.2,
    "ks": 0.05,
    "wasserstein": 0.1,
    "js": 0.1,
    "chi2": 0.05,
}
_P_VALUE_TESTS = frozenset({"ks", "chi2"})
#: ``auto`` takes a distance for categories only with this many values per category (or more):
#: with fewer, sampling noise alone lifts the Jensen–Shannon distance of many sparse categories.
_PER_BIN = 50
#: The share an empty bin counts as in the PSI (as in Evidently).
PSI_EPSILON = 1e-4
#: Unseen categories kept in :attr:`ColumnDrift.unseen` (and named in the reason: the first 3).
UNSEEN_KEPT = 10
_UNSEEN_NAMED = 3
_STATUSES = ("drift", "ok", "too_small", "missing", "new")
_LABELS = {
    "psi": "PSI",
    "ks": "KS",
    "wasserstein": "Wasserstein",
    "js": "JS",
    "chi2": "chi-square",
}


# ----------------------------------------------------------------------------- configuration


def _default_thresholds() -> dict[str, float]:
    return dict(DEFAULT_THRESHOLDS)


@dataclass(frozen=True)
class DriftConfig:
    """How :func:`compare` decides drift.

    Attributes:
        numeric_test: ``auto`` (KS at small samples, normalised Wasserstein at large ones; see
            the module's docstring), ``psi``, ``ks``, ``wasserstein`` or ``js``.
        categorical_test: For strings and booleans: ``auto`` (chi-square at small samples,
            Jensen–Shannon at large ones), ``chi2``, ``psi`` or ``js``.
        thresholds: Per test: a p-value for ``ks`` and ``chi2`` (drift below it), a distance
            for ``psi``, ``wasserstein`` and ``js`` (drift above it). Tests left out keep
            :data:`DEFAULT_THRESHOLDS`.
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
        for name, value, choices in (
            ("numeric_test", self.numeric_test, NUMERIC_TESTS),
            ("categorical_test", self.categorical_test, CATEGORICAL_TESTS),
        ):
            if value not in choices:
                raise ConfigError(
                    f"drift {name}: unknown test '{value}'{did_you_mean(str(value), choices)}; "
                    f"use one of {', '.join(choices)}"
                )
        if not isinstance(self.thresholds, Mapping):
            raise ConfigError(
                "drift thresholds: expected a mapping of test name to threshold, such as "
                "{'psi': 0.2}"
            )
        merged = _default_thresholds()
        for test, value in self.thresholds.items():
            if test not in DEFAULT_THRESHOLDS:
                raise ConfigError(
                    f"drift thresholds.{test}: unknown test{did_you_mean(str(test), merged)}; "
                    f"use one of {', '.join(DEFAULT_THRESHOLDS)}"
                )
            if not _is_number(value) or not value > 0 or not math.isfinite(value):
                raise ConfigError(f"drift thresholds.{test}: {value!r} is not a positive number")
            if test in _P_VALUE_TESTS and value >= 1:
                raise ConfigError(
                    f"drift thresholds.{test}: {value!r} is a p-value threshold; use a number "
                    "between 0 and 1 (0.05 is usual)"
                )
            merged[test] = float(value)
        object.__setattr__(self, "thresholds", merged)
        for name, value in (
            ("null_rate_threshold", self.null_rate_threshold),
            ("null_rate_alpha", self.null_rate_alpha),
        ):
            if not _is_number(value) or not 0 < value < 1:
                raise ConfigError(f"drift {name}: {value!r} must be a number between 0 and 1")
        for name, value in (("min_samples", self.min_samples), ("large_n", self.large_n)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"drift {name}: {value!r} must be a whole number ≥ 1")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column.

    Attributes:
        column: The column's name.
        kind: ``numeric``, ``boolean``, ``temporal`` or ``string`` (the reference's).
        test: The test that decided: ``ks``, ``wasserstein``, ``psi``, ``js``, ``chi2``,
            ``null_rate`` (time columns), ``kind`` (a change of kind), or ``""`` when none ran.
        statistic: The deciding test's statistic (KS D, a distance, chi-square), or ``None``.
        p_value: Its p-value (``ks``, ``chi2``, ``null_rate``), else ``None``.
        threshold: Its threshold (a p-value for ``ks`` and ``chi2``).
        drifted: Whether the column drifted (``status == "drift"``).
        status: ``drift``, ``ok``, ``too_small``, ``missing`` or ``new``.
        reason: One short sentence for people (``"PSI 0.41 > 0.2"``).
        null_ref, null_cur: Null fractions of the reference and the current data.
        n_ref, n_cur: Non-null values compared.
        stats: Every test that applies (``ks``, ``ks_p``, ``wasserstein``, ``psi``, ``js``,
            ``chi2``, ``chi2_p``) and the null-rate test (``null_rate_delta``,
            ``null_rate_p``), for reports.
        unseen: The most frequent categories of the current data that the reference never saw
            (at most :data:`UNSEEN_KEPT`).
    """

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    status: str
    reason: str
    null_ref: float
    null_cur: float
    n_ref: int
    n_cur: int
    stats: dict[str, float] = field(default_factory=dict)
    unseen: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (non-finite numbers as the strings ``"inf"``, ``"-inf"``, ``"nan"``)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _jnum(self.statistic),
            "p_value": _jnum(self.p_value),
            "threshold": _jnum(self.threshold),
            "drifted": self.drifted,
            "status": self.status,
            "reason": self.reason,
            "null_ref": _jnum(self.null_ref),
            "null_cur": _jnum(self.null_cur),
            "n_ref": self.n_ref,
            "n_cur": self.n_cur,
            "stats": {k: _jnum(v) for k, v in self.stats.items()},
            "unseen": list(self.unseen),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnDrift:
        """The inverse of :meth:`to_dict`."""
        return cls(
            column=data["column"],
            kind=data["kind"],
            test=data["test"],
            statistic=_unjnum(data.get("statistic")),
            p_value=_unjnum(data.get("p_value")),
            threshold=float(_unjnum(data["threshold"])),
            drifted=bool(data["drifted"]),
            status=data["status"],
            reason=data["reason"],
            null_ref=float(_unjnum(data["null_ref"])),
            null_cur=float(_unjnum(data["null_cur"])),
            n_ref=int(data["n_ref"]),
            n_cur=int(data["n_cur"]),
            stats={k: float(_unjnum(v)) for k, v in data.get("stats", {}).items()},
            unseen=tuple(data.get("unseen", ())),
        )


@dataclass(frozen=True)
class DriftReport:
    """The verdicts on every column compared.

    Attributes:
        columns: :class:`ColumnDrift` by column name: the reference's columns in order, then
            the columns only the current data has.
        rows_ref, rows_cur: Rows of the reference and the current data.
    """

    columns: dict[str, ColumnDrift]
    rows_ref: int
    rows_cur: int

    @property
    def drifted(self) -> list[str]:
        """The columns that drifted, in order."""
        return [name for name, c in self.columns.items() if c.drifted]

    @property
    def share(self) -> float:
        """Drifted columns over the columns with a verdict (``drift`` or ``ok``); 0 if none."""
        judged = [c for c in self.columns.values() if c.status in ("drift", "ok")]
        return sum(c.drifted for c in judged) / len(judged) if judged else 0.0

    @property
    def missing(self) -> list[str]:
        """Columns of the reference that the current data lacks."""
        return [name for name, c in self.columns.items() if c.status == "missing"]

    @property
    def new(self) -> list[str]:
        """Columns of the current data that the reference lacks."""
        return [name for name, c in self.columns.items() if c.status == "new"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``drifted`` and ``share`` included for readers; ignored on load)."""
        return {
            "rows_ref": self.rows_ref,
            "rows_cur": self.rows_cur,
            "drifted": self.drifted,
            "share": self.share,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The inverse of :meth:`to_dict`."""
        cols = [ColumnDrift.from_dict(c) for c in data.get("columns", [])]
        return cls(
            columns={c.column: c for c in cols},
            rows_ref=int(data["rows_ref"]),
            rows_cur=int(data["rows_cur"]),
        )


def _jnum(value: float | None) -> float | str | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _unjnum(value: Any) -> float | None:
    return None if value is None else float(value)


# ----------------------------------------------------------------------------- tests


@runtime_checkable
class DriftTest(Protocol):
    """A two-sample test of one column, from the two profiles.

    ``kinds`` names the column kinds it applies to. A test that returns a p-value is judged by
    it (drift when ``p < threshold``); one that returns ``None`` by its statistic (drift when
    ``statistic > threshold``). Identical profiles give a statistic of 0 (and a p-value of 1).
    """

    name: str
    #: The column kinds it applies to (``numeric``, ``string``, ``boolean``).
    kinds: tuple[str, ...]

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(statistic, p_value)`` of ``cur`` against ``ref``."""
        ...


@dataclass(frozen=True)
class KSTest:
    """Two-sample Kolmogorov–Smirnov from the sketches' (and shared histograms') CDFs."""

    name: str = "ks"
    kinds: tuple[str, ...] = ("numeric",)

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(D, p-value)``."""
        d = _ks_distance(ref, cur)
        return d, _ks_p_value(d, ref.non_null, cur.non_null)


@dataclass(frozen=True)
class WassersteinTest:
    """Wasserstein-1 distance over the sketches (or finer shared histograms), normalised."""

    name: str = "wasserstein"
    kinds: tuple[str, ...] = ("numeric",)

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(W1 / scale, None)``: scale the reference's std, or ``|constant|`` (or 1)."""
        w = _wasserstein(ref, cur)
        return w / _scale(ref), None


@dataclass(frozen=True)
class PSITest:
    """Population stability index over the shared histogram bins or the categories."""

    name: str = "psi"
    kinds: tuple[str, ...] = ("numeric", "string", "boolean")

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(PSI, None)``."""
        r, c = _bins(ref, cur)
        return _psi(r, c), None


@dataclass(frozen=True)
class JSTest:
    """Jensen–Shannon distance (base 2) over the shared histogram bins or the categories."""

    name: str = "js"
    kinds: tuple[str, ...] = ("numeric", "string", "boolean")

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(distance, None)``."""
        r, c = _bins(ref, cur)
        return _js(r, c), None


@dataclass(frozen=True)
class ChiSquareTest:
    """Chi-square test of homogeneity of the category counts (or histogram bins)."""

    name: str = "chi2"
    kinds: tuple[str, ...] = ("string", "boolean")

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        """``(chi-square, p-value)``."""
        r, c = _bins(ref, cur)
        return _chi2(r, c)


#: Every drift test by name; :func:`compare` reports each one that applies to a column's kind.
TESTS: dict[str, DriftTest] = {
    t.name: t for t in (KSTest(), WassersteinTest(), PSITest(), JSTest(), ChiSquareTest())
}


# ----------------------------------------------------------------------------- comparing


def compare(
    reference: Profile,
    current: Profile,
    config: DriftConfig | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> DriftReport:
    """Compare the current data's profile with the reference's, column by column.

    Args:
        reference: The reference profile (the training data's, usually).
        current: The current window's profile, ideally made with
            ``profile_data(window, reference=reference)`` (shared histogram edges).
        config: Tests and thresholds (the defaults when ``None``).
        columns: Only these columns (all of both profiles when ``None``).

    Returns:
        The :class:`DriftReport`.

    Raises:
        NotFoundError: A name of ``columns`` is in neither profile.
    """
    cfg = config or DriftConfig()
    names = list(reference.columns) + [n for n in current.columns if n not in reference.columns]
    if columns is not None:
        for name in columns:
            if name not in reference.columns and name not in current.columns:
                raise NotFoundError(
                    f"column '{name}' is in neither the reference nor the current profile"
                    f"{did_you_mean(name, names)}"
                )
        wanted = set(columns)
        names = [n for n in names if n in wanted]
    both = sum(1 for n in names if n in reference.columns and n in current.columns)
    tests = both if cfg.correction == "bonferroni" else 1
    out = {
        name: _compare_column(
            name, reference.columns.get(name), current.columns.get(name), cfg, max(tests, 1)
        )
        for name in names
    }
    return DriftReport(columns=out, rows_ref=reference.rows, rows_cur=current.rows)


def _choose(kind: str, ref: ColumnProfile, cur: ColumnProfile, cfg: DriftConfig) -> str:
    """The deciding test of a numeric, string or boolean column (see the module docstring)."""
    n_r, n_c = ref.non_null, cur.non_null
    effective = n_r * n_c / (n_r + n_c) if n_r + n_c else 0.0
    if kind == "numeric":
        if cfg.numeric_test != "auto":
            return cfg.numeric_test
        if _constant(ref):
            return "ks"
        return "ks" if effective <= cfg.large_n else "wasserstein"
    if cfg.categorical_test != "auto":
        return cfg.categorical_test
    bins = len(_bins(ref, cur)[0])
    return "js" if effective > max(cfg.large_n, _PER_BIN * (bins - 1)) else "chi2"


def _compare_column(
    name: str,
    ref: ColumnProfile | None,
    cur: ColumnProfile | None,
    cfg: DriftConfig,
    tests: int = 1,
) -> ColumnDrift:
    if cur is None or ref is None:
        missing = cur is None
        only = ref if cur is None else cur
        if only is None:
            raise NotFoundError(f"column '{name}' is in neither profile")
        return ColumnDrift(
            column=name,
            kind=only.kind,
            test="",
            statistic=None,
            p_value=None,
            threshold=0.0,
            drifted=False,
            status="missing" if missing else "new",
            reason="not in the current data" if missing else "not in the reference",
            # as merge_profiles sees it: a column a side lacks is all null there
            null_ref=only.null_fraction if missing else 1.0,
            null_cur=1.0 if missing else only.null_fraction,
            n_ref=only.non_null if missing else 0,
            n_cur=0 if missing else only.non_null,
        )
    base: dict[str, Any] = {
        "column": name,
        "kind": ref.kind,
        "null_ref": ref.null_fraction,
        "null_cur": cur.null_fraction,
        "n_ref": ref.non_null,
        "n_cur": cur.non_null,
    }
    few = min(ref.count, cur.count)
    if few < cfg.min_samples:
        side = "current" if cur.count <= ref.count else "reference"
        return ColumnDrift(
            **base,
            test="",
            statistic=None,
            p_value=None,
            threshold=0.0,
            drifted=False,
            status="too_small",
            reason=f"{few} rows in the {side} data, fewer than min_samples={cfg.min_samples}",
        )

    # the null rate: an absolute move beyond the threshold that a z-test calls significant
    delta, null_p = _null_rate_test(ref, cur)
    stats: dict[str, float] = {"null_rate_delta": delta, "null_rate_p": null_p}
    null_drift = abs(delta) > cfg.null_rate_threshold and null_p < cfg.null_rate_alpha
    null_note = f"null rate {ref.null_fraction:.1%} -> {cur.null_fraction:.1%}"
    reasons = [null_note] if null_drift else []

    if ref.non_null and cur.non_null and ref.kind != cur.kind:
        return ColumnDrift(
            **base,
            test="kind",
            statistic=None,
            p_value=None,
            threshold=0.0,
            drifted=True,
            status="drift",
            reason="; ".join([f"kind changed: {ref.kind} -> {cur.kind}", *reasons]),
            stats=stats,
        )
    if ref.kind == "temporal":
        return ColumnDrift(
            **base,
            test="null_rate",
            statistic=delta,
            p_value=null_p,
            threshold=cfg.null_rate_threshold,
            drifted=null_drift,
            status="drift" if null_drift else "ok",
            reason=null_note if null_drift else f"{null_note} (a time column: null rate only)",
            stats=stats,
        )

    kind = "numeric" if ref.kind == "numeric" else "categorical"
    unseen: tuple[Any, ...] = ()
    if kind == "categorical" and ref.values_complete:
        fresh = [(v, n) for v, n in cur.values.items() if v not in ref.values]
        fresh.sort(key=lambda vn: (-vn[1], str(vn[0])))
        unseen = tuple(v for v, _ in fresh[:UNSEEN_KEPT])
        if fresh:
            stats["unseen"] = float(len(fresh))
            stats["unseen_share"] = sum(n for _, n in fresh) / max(cur.non_null, 1)
    unseen_note = ""
    if unseen:
        count = int(stats["unseen"])
        named = ", ".join(str(v) for v in unseen[:_UNSEEN_NAMED])
        more = ", …" if count > _UNSEEN_NAMED else ""
        unseen_note = f"{count} unseen categor{'y' if count == 1 else 'ies'}: {named}{more}"

    test = _choose(ref.kind, ref, cur, cfg)
    threshold = cfg.thresholds[test] / (tests if test in _P_VALUE_TESTS else 1)
    if min(ref.non_null, cur.non_null) < cfg.min_samples:
        few = min(ref.non_null, cur.non_null)
        side = "current" if cur.non_null <= ref.non_null else "reference"
        small = f"{few} values in the {side} data, fewer than min_samples={cfg.min_samples}"
        return ColumnDrift(
            **base,
            test=test,
            statistic=None,
            p_value=None,
            threshold=threshold,
            drifted=null_drift,
            status="drift" if null_drift else "too_small",
            reason="; ".join([*reasons, small]),
            stats=stats,
            unseen=unseen,
        )

    for t in TESTS.values():
        if ref.kind in t.kinds:
            value, p = t(ref, cur)
            stats[t.name] = float(value)
            if p is not None:
                stats[f"{t.name}_p"] = float(p)
    statistic = stats[test]
    p_value = stats.get(f"{test}_p")
    label = _LABELS[test]
    if p_value is not None:
        dist_drift = p_value < threshold
        sign = "<" if dist_drift else "≥"
        what = "D" if test == "ks" else "χ²"
        verdict = f"{label} p={_fmt(p_value)} {sign} {_fmt(threshold)} ({what}={_fmt(statistic)})"
    else:
        dist_drift = statistic > threshold
        sign = ">" if dist_drift else "≤"
        verdict = f"{label} {_fmt(statistic)} {sign} {_fmt(threshold)}"
    drifted = dist_drift or null_drift
    if dist_drift or not null_drift:
        reasons.insert(0, verdict)
    if unseen_note:
        reasons.append(unseen_note)
    return ColumnDrift(
        **base,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=drifted,
        status="drift" if drifted else "ok",
        reason="; ".join(reasons),
        stats=stats,
        unseen=unseen,
    )


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) < 1e-3:
        return f"{x:.1e}"
    return f"{x:.3g}"


# ----------------------------------------------------------------------------- statistics


def _null_rate_test(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
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


def _constant(col: ColumnProfile) -> bool:
    return col.min is not None and col.min == col.max


def _scale(ref: ColumnProfile) -> float:
    """The reference's spread: its std, or ``|constant|`` (1 for 0) when it is constant."""
    std = ref.std
    if not _constant(ref) and std and math.isfinite(std):
        return std
    c = abs(float(ref.min)) if ref.min is not None else 0.0
    return c if c > 0 and math.isfinite(c) else 1.0


def _sketch_arrays(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's keys (sorted: key order is value order) and counts."""
    n = len(col.sketch)
    keys = np.fromiter(col.sketch.keys(), dtype=np.int64, count=n)
    counts = np.fromiter(col.sketch.values(), dtype=np.float64, count=n)
    order = np.argsort(keys)
    return keys[order], counts[order]


def _shared_hist(ref: ColumnProfile, cur: ColumnProfile) -> bool:
    a, b = ref.hist, cur.hist
    if not a or not b:
        return False
    return (a["start"], a["step"], len(a["counts"])) == (b["start"], b["step"], len(b["counts"]))


def _hist_counts(col: ColumnProfile) -> np.ndarray:
    """``[below, *counts, above]`` of the histogram."""
    h = col.hist or {}
    return np.array([h.get("below", 0), *h.get("counts", []), h.get("above", 0)], dtype=np.float64)


def _cdf_gap(r: np.ndarray, c: np.ndarray) -> float:
    """Largest gap between the CDFs of two count vectors over the same ordered bins."""
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    return float(np.max(np.abs(np.cumsum(r) / sr - np.cumsum(c) / sc)))


def _ks_distance(ref: ColumnProfile, cur: ColumnProfile) -> float:
    kr, cr = _sketch_arrays(ref)
    kc, cc = _sketch_arrays(cur)
    keys = np.union1d(kr, kc)
    r = np.zeros(keys.size)
    c = np.zeros(keys.size)
    r[np.searchsorted(keys, kr)] = cr
    c[np.searchsorted(keys, kc)] = cc
    d = _cdf_gap(r, c) if keys.size else 0.0
    if _shared_hist(ref, cur):
        d = max(d, _cdf_gap(_hist_counts(ref), _hist_counts(cur)))
    return d


def _ks_p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value with Stephens' small-sample correction."""
    if d <= 0 or not n or not m:
        return 1.0
    from scipy.special import kolmogorov

    en = math.sqrt(n * m / (n + m))
    return float(min(max(kolmogorov((en + 0.12 + 0.11 / en) * d), 0.0), 1.0))


def _hist_atoms(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Positions (bin midpoints; below and above halfway to min and max) and counts."""
    h = col.hist or {}
    start, step, n = float(h["start"]), float(h["step"]), len(h["counts"])
    end = start + n * step
    lo = float(col.min) if col.min is not None else start
    hi = float(col.max) if col.max is not None else end
    mids = start + (np.arange(n) + 0.5) * step
    x = np.concatenate(
        [[(min(lo, start) + start) / 2], np.clip(mids, lo, hi), [(end + max(hi, end)) / 2]]
    )
    return x, _hist_counts(col)


def _w1(xr: np.ndarray, wr: np.ndarray, xc: np.ndarray, wc: np.ndarray) -> float:
    """Wasserstein-1 distance of two weighted point sets on the line."""
    sr, sc = wr.sum(), wc.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    x = np.concatenate([xr, xc])
    w = np.concatenate([wr / sr, -wc / sc])
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    gap = np.cumsum(w)[:-1]
    return float(np.sum(np.abs(gap) * np.diff(x)))


def _wasserstein(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """W1 over the sketches, or over the shared histogram where it is the finer of the two."""
    if _shared_hist(ref, cur):
        median = ref.quantile(0.5)
        bucket = 2 * SKETCH_ALPHA * abs(median) if median is not None else 0.0
        if ref.hist and float(ref.hist["step"]) < bucket:
            xr, wr = _hist_atoms(ref)
            xc, wc = _hist_atoms(cur)
            return _w1(xr, wr, xc, wc)
    kr, cr = _sketch_arrays(ref)
    kc, cc = _sketch_arrays(cur)
    return _w1(key_values(kr, ref.min, ref.max), cr, key_values(kc, cur.min, cur.max), cc)


#: The last pair :func:`_bins` binned and its bins (several tests bin the same pair in a row).
_last_bins: tuple[ColumnProfile, ColumnProfile, tuple[np.ndarray, np.ndarray]] | None = None


def _bins(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``ref`` and ``cur`` over the same bins: histogram bins or categories."""
    global _last_bins
    last = _last_bins
    if last is not None and last[0] is ref and last[1] is cur:
        return last[2]
    if ref.kind in ("numeric", "temporal"):
        if _shared_hist(ref, cur):
            out = _hist_counts(ref), _hist_counts(cur)
        else:
            out = _rebinned(ref, ref), _rebinned(cur, ref)
    else:
        out = _categories(ref, cur)
    _last_bins = (ref, cur, out)
    return out


def _rebinned(col: ColumnProfile, ref: ColumnProfile) -> np.ndarray:
    """``col``'s sketch counted into the bins of ``ref``'s histogram (plus below and above)."""
    keys, counts = _sketch_arrays(col)
    values = key_values(keys, col.min, col.max)
    h = ref.hist
    if not h:  # no reference edges: the sketch buckets themselves (order kept by key)
        return counts
    start, step, n = float(h["start"]), float(h["step"]), len(h["counts"])
    with np.errstate(invalid="ignore", over="ignore"):
        idx = np.clip(np.floor((values - start) / step), -1, n - 1)
    idx[values > start + n * step] = n
    return np.bincount((idx + 1).astype(np.int64), weights=counts, minlength=n + 2)


def _categories(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Counts per category both sides know, and ``other`` for the rest of each side."""
    r: list[int] = []
    c: list[int] = []
    for value in dict.fromkeys([*ref.values, *cur.values]):
        in_r = value in ref.values or ref.values_complete
        in_c = value in cur.values or cur.values_complete
        if in_r and in_c:
            r.append(ref.values.get(value, 0))
            c.append(cur.values.get(value, 0))
    other_r, other_c = ref.non_null - sum(r), cur.non_null - sum(c)
    if other_r > 0 or other_c > 0:
        r.append(max(other_r, 0))
        c.append(max(other_c, 0))
    return np.array(r, dtype=np.float64), np.array(c, dtype=np.float64)


def _psi(r: np.ndarray, c: np.ndarray) -> float:
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    p = np.maximum(r / sr, PSI_EPSILON)
    q = np.maximum(c / sc, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def _js(r: np.ndarray, c: np.ndarray) -> float:
    sr, sc = r.sum(), c.sum()
    if sr <= 0 or sc <= 0:
        return 0.0
    p, q = r / sr, c / sc
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.sum(np.where(p > 0, p * np.log2(p / m), 0.0))
        kl_q = np.sum(np.where(q > 0, q * np.log2(q / m), 0.0))
    return float(math.sqrt(min(max((kl_p + kl_q) / 2, 0.0), 1.0)))


def _chi2(r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of the 2 × k table ``[r, c]``: ``(chi2, p-value)``."""
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    sr, sc = r.sum(), c.sum()
    if r.size < 2 or sr <= 0 or sc <= 0:
        return 0.0, 1.0
    from scipy.special import chdtrc

    total = sr + sc
    col = r + c
    er, ec = col * sr / total, col * sc / total
    stat = float(np.sum((r - er) ** 2 / er) + np.sum((c - ec) ** 2 / ec))
    return stat, float(chdtrc(r.size - 1, stat))
