"""Drift from profiles: real shifts flagged, random splits not, null-rate jumps, edge cases, the
shipped suite (noria.testing.drift) over every registered drift test and a user's own,
configuration errors and the JSON round trip.

Data: scikit-learn's bundled Wisconsin breast cancer table (569 rows, 30 measurements; benign
and malignant tumours differ in size, a real shift) and the Palmer penguins (species live on
different islands: unseen categories).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from noria.data.profile import ColumnProfile, Profile, profile_data
from noria.errors import ConfigError, NotFoundError
from noria.monitor.drift import (
    DEFAULT_THRESHOLDS,
    TESTS,
    ColumnDrift,
    DriftConfig,
    DriftReport,
    compare,
    register_drift_test,
)
from noria.testing.drift import DriftTestSuite, check_drift_test

MEASURES = ["mean radius", "mean texture", "mean smoothness", "worst area", "mean symmetry"]


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame[[*MEASURES, "target"]].assign(target=lambda d: d.target.astype(bool))


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def halves(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random split of ``frame`` into two halves (the same distribution)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return frame.iloc[order[:half]], frame.iloc[order[half:]]


def profiles(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Profile, Profile]:
    reference = profile_data(ref)
    return reference, profile_data(cur, reference=reference)


# ------------------------------------------------------------------------- real data


def test_a_random_split_of_the_same_data_does_not_drift(cancer: pd.DataFrame) -> None:
    report = compare(*profiles(*halves(cancer)))
    assert report.drifted == [] and report.share == 0.0
    for col in report.columns.values():
        assert col.status == "ok", col.reason
        assert col.test == ("chi2" if col.kind == "boolean" else "ks")  # small samples
        assert col.p_value is not None and col.p_value > 0.05
        assert col.n_ref + col.n_cur == len(cancer)


def test_benign_against_malignant_tumours_drifts(cancer: pd.DataFrame) -> None:
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    report = compare(*profiles(benign.drop(columns="target"), malignant.drop(columns="target")))
    # malignant tumours are larger (radius, area) and rougher; symmetry barely moves
    assert {"mean radius", "worst area", "mean texture"} <= set(report.drifted)
    radius = report.columns["mean radius"]
    assert radius.status == "drift" and radius.drifted and radius.test == "ks"
    assert radius.p_value < 1e-30 and radius.statistic > 0.7
    # p-values are judged at 0.05 over the number of columns compared (Bonferroni)
    assert radius.threshold == pytest.approx(0.05 / len(report.columns))
    assert radius.reason.startswith("KS p=") and f"< {radius.threshold:.3g}" in radius.reason
    assert set(radius.stats) >= {"ks", "ks_p", "wasserstein", "psi", "js", "null_rate_p"}
    assert radius.stats["wasserstein"] > 1  # more than a standard deviation apart


def resample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` rows drawn from ``frame`` with replacement: its distribution, more rows."""
    return frame.iloc[np.random.default_rng(seed).integers(0, len(frame), rows)]


def test_large_samples_use_distances(cancer: pd.DataFrame) -> None:
    # two samples of 5,000 rows from the same table: an effective size of 2,500 > large_n
    same = compare(*profiles(resample(cancer, 5000, 1), resample(cancer, 5000, 2)))
    assert {c.test for c in same.columns.values()} == {"wasserstein", "js"}
    assert same.drifted == []
    assert max(c.statistic for c in same.columns.values()) < 0.05
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    shifted = compare(*profiles(resample(benign, 5000, 3), resample(malignant, 5000, 4)))
    radius = shifted.columns["mean radius"]
    assert radius.test == "wasserstein" and radius.drifted and radius.p_value is None
    assert radius.reason.startswith("Wasserstein ") and "> 0.1" in radius.reason
    target = shifted.columns["target"]  # all True against all False
    assert target.test == "js" and target.statistic == pytest.approx(1.0)
    assert target.unseen == (False,) and "1 unseen category: False" in target.reason
    # the small-sample rule applies again past large_n
    assert (
        compare(*profiles(benign, malignant), DriftConfig(large_n=10**6))
        .columns["mean radius"]
        .test
        == "ks"
    )


def test_many_categories_need_more_rows_for_a_distance(cancer: pd.DataFrame) -> None:
    texture = pd.DataFrame({"texture": cancer["mean texture"].round(1).astype(str)})  # 167
    report = compare(*profiles(resample(texture, 3000, 1), resample(texture, 3000, 2)))
    col = report.columns["texture"]
    # an effective size of 1,500 is "large", but not 50 values per category: chi-square
    assert col.test == "chi2" and not col.drifted
    assert col.stats["js"] > 0.1  # sampling noise: the distance would have been a false alarm


def test_sketch_statistics_match_the_exact_ones(cancer: pd.DataFrame) -> None:
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    report = compare(*profiles(benign, malignant))
    for name in MEASURES:
        a, b = benign[name].to_numpy(), malignant[name].to_numpy()
        grid = np.sort(np.concatenate([a, b]))
        fa = np.searchsorted(np.sort(a), grid, side="right") / a.size
        fb = np.searchsorted(np.sort(b), grid, side="right") / b.size
        exact_d = np.max(np.abs(fa - fb))
        exact_w = np.sum(np.abs(fa - fb)[:-1] * np.diff(grid)) / a.std(ddof=1)
        stats = report.columns[name].stats
        assert stats["ks"] <= exact_d + 1e-12  # a lower bound: the CDFs at bucket bounds
        assert stats["ks"] == pytest.approx(exact_d, abs=0.03)
        assert stats["wasserstein"] == pytest.approx(exact_w, rel=0.05, abs=0.01)


def test_a_null_rate_jump_is_drift_although_the_values_do_not_move(cancer: pd.DataFrame) -> None:
    ref, cur = halves(cancer, seed=1)
    rng = np.random.default_rng(1)
    ref = ref.assign(**{"mean radius": ref["mean radius"].mask(rng.random(len(ref)) < 0.01)})
    cur = cur.assign(**{"mean radius": cur["mean radius"].mask(rng.random(len(cur)) < 0.15)})
    report = compare(*profiles(ref, cur))
    col = report.columns["mean radius"]
    assert col.stats["ks_p"] > 0.05  # the values alone do not drift
    assert col.drifted and col.status == "drift"
    assert col.null_ref < 0.02 and 0.1 < col.null_cur < 0.2
    assert col.reason.startswith("null rate ") and " -> " in col.reason
    assert col.stats["null_rate_p"] < 0.05 and col.stats["null_rate_delta"] > 0.05
    assert report.drifted == ["mean radius"]
    # below the threshold (an absolute change of 30 %), the same jump is no drift
    lenient = compare(*profiles(ref, cur), DriftConfig(null_rate_threshold=0.3))
    assert lenient.drifted == []


def test_unseen_categories_are_reported_and_counted(penguins: pd.DataFrame) -> None:
    gentoo = penguins[penguins.species == "Gentoo"]  # all on Biscoe
    adelie = penguins[penguins.species == "Adelie"]  # Biscoe, Dream and Torgersen
    report = compare(*profiles(gentoo, adelie))
    island = report.columns["island"]
    assert island.kind == "string" and island.drifted and island.test == "chi2"
    assert set(island.unseen) == {"Dream", "Torgersen"}
    assert "2 unseen categories: Dream, Torgersen" in island.reason
    assert island.stats["unseen"] == 2 and island.stats["unseen_share"] > 0.6
    assert island.stats["chi2_p"] < 1e-10  # the unseen counts are in the test
    assert report.columns["species"].unseen == ("Adelie",)
    assert "body_mass_g" in report.drifted  # Gentoo are heavier
    assert report.columns["year"].status == "ok"


# ------------------------------------------------------------------------- edge cases


def test_constant_columns(cancer: pd.DataFrame) -> None:
    ref, cur = halves(cancer)
    reference = profile_data(ref.assign(version=3.0, zero=0))
    windows = {
        "same": cur.assign(version=3.0, zero=0),
        "moved": cur.assign(version=3.5, zero=1),
        "close": cur.assign(version=3.01, zero=0),  # inside one sketch bucket (1 %)
        "far": cur.assign(version=4.5, zero=1),
    }
    current = {k: profile_data(w, reference=reference) for k, w in windows.items()}
    for config in (DriftConfig(), DriftConfig(large_n=50)):  # small and large samples
        same = compare(reference, current["same"], config)
        for name in ("version", "zero"):
            assert same.columns[name].status == "ok" and same.columns[name].statistic == 0
        moved = compare(reference, current["moved"], config)
        for name in ("version", "zero"):
            col = moved.columns[name]
            assert col.drifted and col.test == "ks" and col.statistic == pytest.approx(1.0)
        # a shift inside one sketch bucket is still seen: min and max are exact
        assert compare(reference, current["close"], config).columns["version"].drifted
    # asked for by name, the Wasserstein distance is relative to the constant
    far = compare(reference, current["far"], DriftConfig(numeric_test="wasserstein"))
    assert far.columns["version"].statistic == pytest.approx(0.5, rel=0.02)
    assert far.columns["zero"].statistic == pytest.approx(1.0, rel=0.02)
    assert far.columns["version"].drifted and far.columns["zero"].drifted


def test_an_all_null_window_is_null_rate_drift(cancer: pd.DataFrame) -> None:
    ref, cur = halves(cancer)
    ref = ref.assign(label=np.where(np.arange(len(ref)) % 3 == 0, "a", "b"))
    cur = cur.assign(**{"mean radius": np.nan, "label": None})
    report = compare(*profiles(ref, cur))
    for name in ("mean radius", "label"):
        col = report.columns[name]
        assert col.drifted and col.status == "drift" and col.n_cur == 0 and col.null_cur == 1.0
        assert col.statistic is None and "null rate 0.0% -> 100.0%" in col.reason
        assert "fewer than min_samples" in col.reason
    assert report.columns["mean texture"].status == "ok"


def test_small_windows_are_too_small_never_an_alarm(cancer: pd.DataFrame) -> None:
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    report = compare(*profiles(benign, malignant.head(40)))
    assert report.drifted == [] and report.share == 0.0
    for col in report.columns.values():
        assert col.status == "too_small" and not col.drifted
        assert "40 rows in the current data, fewer than min_samples=100" in col.reason
    looser = compare(*profiles(benign, malignant.head(40)), DriftConfig(min_samples=20))
    assert "mean radius" in looser.drifted


def test_missing_new_and_retyped_columns(cancer: pd.DataFrame) -> None:
    ref, cur = halves(cancer)
    cur = cur.drop(columns=["mean texture"]).assign(
        extra=1.0, **{"mean symmetry": cur["mean symmetry"].map(lambda x: f"{x:.3f}")}
    )
    report = compare(*profiles(ref, cur))
    missing, new = report.columns["mean texture"], report.columns["extra"]
    assert missing.status == "missing" and not missing.drifted and missing.null_cur == 1.0
    assert new.status == "new" and not new.drifted and new.n_ref == 0
    assert report.missing == ["mean texture"] and report.new == ["extra"]
    assert list(report.columns)[-1] == "extra"  # the reference's order, then the new ones
    retyped = report.columns["mean symmetry"]
    assert retyped.drifted and retyped.test == "kind"
    assert retyped.reason == "kind changed: numeric -> string"
    assert report.drifted == ["mean symmetry"]


def test_histograms_with_other_edges_fall_back_to_the_sketch(cancer: pd.DataFrame) -> None:
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    reference = profile_data(resample(benign, 5000, 1))
    again = resample(benign, 5000, 2)
    shared = compare(reference, profile_data(again, reference=reference))
    own = profile_data(again, reference=profile_data(malignant))  # other edges
    for name in MEASURES:
        assert own[name].hist["start"] != reference[name].hist["start"]
    apart = compare(reference, own)
    for name in MEASURES:
        a, b = shared.columns[name].stats, apart.columns[name].stats
        assert b["psi"] == pytest.approx(a["psi"], abs=0.02)
        assert b["js"] == pytest.approx(a["js"], abs=0.03)
        assert b["ks"] <= a["ks"] + 1e-12  # fewer CDF points, never a larger D
    assert apart.drifted == []
    config = DriftConfig(numeric_test="psi")
    shifted = compare(reference, profile_data(malignant), config)  # own edges again
    assert {"mean radius", "worst area"} <= set(shifted.drifted)
    assert shifted.columns["mean radius"].reason.startswith("PSI ")


def test_prediction_drift_is_a_column_like_any_other(cancer: pd.DataFrame) -> None:
    benign, malignant = cancer[cancer.target], cancer[~cancer.target]
    ref = pd.DataFrame({"output.prediction": benign["mean radius"] * 0.1})
    cur = pd.DataFrame({"output.prediction": malignant["mean radius"] * 0.1})
    report = compare(*profiles(ref, cur))
    assert report.drifted == ["output.prediction"]


def test_merged_windows_compare_like_one_profile(cancer: pd.DataFrame) -> None:
    ref, cur = halves(cancer)
    reference = profile_data(ref)
    whole = profile_data(cur, reference=reference)
    parts = [profile_data(cur.iloc[i::3], reference=reference) for i in range(3)]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    a, b = compare(reference, whole), compare(reference, merged)
    for name in a.columns:
        assert a.columns[name].stats == pytest.approx(b.columns[name].stats)


def test_columns_subset_and_unknown_names(cancer: pd.DataFrame) -> None:
    ref, cur = profiles(*halves(cancer))
    report = compare(ref, cur, columns=["mean radius", "target"])
    assert list(report.columns) == ["mean radius", "target"]
    with pytest.raises(NotFoundError, match="did you mean 'mean radius'"):
        compare(ref, cur, columns=["mean radios"])


# ------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("name", sorted(TESTS))
def test_every_registered_drift_test_passes_the_shipped_suite(name: str) -> None:
    check_drift_test(TESTS[name])


class Squared:
    """A user's own test: the squared difference of the means over the reference's variance."""

    name = "mean_shift"
    kinds = ("numeric",)
    threshold = 0.05
    p_value = False

    def __call__(self, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
        if ref.mean is None or cur.mean is None or not ref.std:
            return 0.0, None
        return (cur.mean - ref.mean) ** 2 / ref.std**2, None


class TestAUsersOwnDriftTest(DriftTestSuite):
    @pytest.fixture
    def drift_test(self) -> Squared:
        return Squared()


def test_a_registered_test_is_reported_and_can_decide(cancer: pd.DataFrame) -> None:
    register_drift_test(Squared())
    try:
        assert "mean_shift" in DEFAULT_THRESHOLDS and "null_rate" not in DEFAULT_THRESHOLDS
        config = DriftConfig(numeric_test="mean_shift", thresholds={"mean_shift": 0.5})
        report = compare(*profiles(cancer[cancer.target], cancer[~cancer.target]), config)
        radius = report.columns["mean radius"]
        assert radius.test == "mean_shift" and radius.drifted and "mean_shift" in radius.stats
        assert radius.reason.startswith("mean_shift ") and radius.threshold == 0.5
        with pytest.raises(ConfigError, match="registered already"):
            register_drift_test(Squared())
    finally:
        TESTS.pop("mean_shift")
    with pytest.raises(ConfigError, match="is not a drift test"):
        register_drift_test(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="numeric_test: unknown test 'mean_shift'"):
        DriftConfig(numeric_test="mean_shift")


# ------------------------------------------------------------------------- config and JSON


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numeric_test": "kss"}, r"numeric_test: unknown test 'kss' \(did you mean 'ks'\?\)"),
        ({"categorical_test": "ks"}, "categorical_test: unknown test 'ks'.*auto, psi, js, chi2"),
        ({"thresholds": {"pis": 0.1}}, r"thresholds.pis: unknown test \(did you mean 'psi'\?\)"),
        ({"thresholds": {"psi": -1}}, "thresholds.psi: -1 is not a positive number"),
        ({"thresholds": {"ks": 5}}, "thresholds.ks: 5 is a p-value threshold"),
        ({"thresholds": ["psi"]}, "thresholds: expected a mapping"),
        ({"null_rate_threshold": 2}, "null_rate_threshold: 2 must be a number between 0 and 1"),
        ({"min_samples": 0}, "min_samples: 0 must be a whole number"),
    ],
)
def test_config_errors_name_the_field_and_the_choices(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DriftConfig(**kwargs)


def test_config_keeps_default_thresholds_of_tests_left_out() -> None:
    config = DriftConfig(thresholds={"psi": 0.1})
    assert config.thresholds == {**DEFAULT_THRESHOLDS, "psi": 0.1}


def test_reports_round_trip_through_json(penguins: pd.DataFrame) -> None:
    gentoo = penguins[penguins.species == "Gentoo"]
    adelie = penguins[penguins.species == "Adelie"].drop(columns="sex").assign(extra=1)
    report = compare(*profiles(gentoo, adelie))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["drifted"] == report.drifted and data["share"] == report.share
    again = DriftReport.from_dict(data)
    assert again == report
    assert {c.status for c in again.columns.values()} >= {"drift", "ok", "missing", "new"}
    odd = ColumnDrift(
        "x", "numeric", "psi", float("inf"), None, 0.2, True, "drift", "r", 0, 0, 1, 1
    )
    assert ColumnDrift.from_dict(json.loads(json.dumps(odd.to_dict()))) == odd


def test_bonferroni_keeps_small_windows_of_many_columns_quiet(cancer: pd.DataFrame) -> None:
    """30 columns, 20 windows of 300 rows drawn from the reference itself: with the correction
    at most about 1 window in 20 raises a (false) alarm, and never more than without it."""
    features = cancer.drop(columns="target")
    reference = profile_data(features)
    alarms = {"bonferroni": 0, "none": 0}
    for seed in range(20):
        window = profile_data(resample(features, 300, seed), reference=reference)
        for correction in alarms:
            report = compare(reference, window, DriftConfig(correction=correction))
            alarms[correction] += bool(report.drifted)
    assert alarms["bonferroni"] <= 1
    assert alarms["none"] >= alarms["bonferroni"]
