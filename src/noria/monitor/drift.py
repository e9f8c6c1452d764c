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

How each test reads the profiles, and the registry of tests (a user's own included):
:mod:`noria.monitor.drift_tests`; the distances themselves: :mod:`noria.data.distances`. Every
test that applies to a column's kind is in :attr:`ColumnDrift.stats`.

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

Where the parts live: the records in :mod:`noria.monitor.drift_report`, the configuration in
:mod:`noria.monitor.drift_config`, the tests in :mod:`noria.monitor.drift_tests` (this module
re-exports their public names).

Not here: collecting windows of the prediction log, alerts and policies (the monitor), the HTML
report, live performance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from noria.data.distances import PSI_EPSILON, is_constant, paired_counts
from noria.data.profile_record import ColumnProfile, Profile
from noria.errors import NotFoundError, did_you_mean
from noria.monitor.drift_config import CORRECTIONS, DriftConfig
from noria.monitor.drift_report import UNSEEN_KEPT, ColumnDrift, DriftReport
from noria.monitor.drift_tests import (
    DEFAULT_THRESHOLDS,
    NULL_RATE,
    TESTS,
    DriftTest,
    choices,
    distribution_tests,
    register_drift_test,
)

__all__ = [
    "CATEGORICAL_TESTS",
    "CORRECTIONS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_TESTS",
    "PSI_EPSILON",
    "TESTS",
    "UNSEEN_KEPT",
    "ColumnDrift",
    "DriftConfig",
    "DriftReport",
    "DriftTest",
    "compare",
    "register_drift_test",
]

#: Choices of :attr:`DriftConfig.numeric_test` (the built-in tests; :func:`choices` is live).
NUMERIC_TESTS = choices("numeric")
#: Choices of :attr:`DriftConfig.categorical_test` (the built-in tests).
CATEGORICAL_TESTS = choices("categorical")
#: ``auto`` takes a distance for categories only with this many values per category (or more):
#: with fewer, sampling noise alone lifts the Jensen–Shannon distance of many sparse categories.
_PER_BIN = 50
_UNSEEN_NAMED = 3


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
        if is_constant(ref):
            return "ks"
        return "ks" if effective <= cfg.large_n else "wasserstein"
    if cfg.categorical_test != "auto":
        return cfg.categorical_test
    bins = len(paired_counts(ref, cur)[0])
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
    delta, p = TESTS[NULL_RATE.name](ref, cur)
    null_p = 1.0 if p is None else p
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
    deciding = TESTS[test]
    threshold = cfg.thresholds[test] / (tests if deciding.p_value else 1)
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

    for t in distribution_tests():
        if ref.kind in t.kinds:
            value, p = t(ref, cur)
            stats[t.name] = float(value)
            if p is not None:
                stats[f"{t.name}_p"] = float(p)
    statistic = stats[test]
    p_value = stats.get(f"{test}_p")
    label = getattr(deciding, "label", test)
    if p_value is not None:
        dist_drift = p_value < threshold
        sign = "<" if dist_drift else "≥"
        what = getattr(deciding, "symbol", "") or "statistic"
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
