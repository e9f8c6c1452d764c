"""The one home of PSI (and the other distances): validation's skew and drift agree on the bins,
and differ, as decided and documented, only in whether the nulls are a bin.

Data: the Palmer penguins (shipped with the palmerpenguins package).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noria.data.distances import column_psi, paired_counts, psi
from noria.data.profile import profile_data
from noria.data.validate import validate_frame
from noria.monitor.drift import compare


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins().dropna().reset_index(drop=True)


def with_nulls(frame: pd.DataFrame, column: str, share: float, seed: int = 0) -> pd.DataFrame:
    out = frame.copy()
    rows = np.random.default_rng(seed).choice(len(out), int(share * len(out)), replace=False)
    out.loc[rows, column] = None
    return out


def test_a_null_jump_is_skew_for_validation_and_null_rate_drift_for_the_monitor(
    penguins: pd.DataFrame,
) -> None:
    reference = profile_data(penguins)
    batch = with_nulls(penguins, "body_mass_g", 0.3)
    current = profile_data(batch, reference=reference)
    ref, cur = reference["body_mass_g"], current["body_mass_g"]
    # validation: the nulls are a bin (nothing else there watches the null share)
    assert column_psi(ref, cur, nulls=True) > 0.25
    result = validate_frame(batch, reference=reference)
    skew = [r for r in result.results if r.check.kind == "skew" and r.check.column == "body_mass_g"]
    assert skew and not skew[0].passed and skew[0].value == column_psi(ref, cur, nulls=True)
    # drift: the values did not move (the PSI of the non-null values is small) ...
    drift = compare(reference, current).columns["body_mass_g"]
    assert drift.stats["psi"] == pytest.approx(column_psi(ref, cur, nulls=False))
    assert drift.stats["psi"] < 0.05
    # ... and the null rate, its own test, says drift (so the jump is not counted twice)
    assert drift.drifted and drift.reason.startswith("null rate 0.0% -> 29.7%")


def test_skew_and_drift_bin_categories_the_same_way(penguins: pd.DataFrame) -> None:
    """Unseen categories are bins of their own in both (validation used to lump them into one
    ``other`` bin, and to count the values a high-cardinality batch kept as if complete)."""
    reference = profile_data(penguins[penguins.island != "Dream"])
    current = profile_data(penguins, reference=reference)
    ref, cur = reference["island"], current["island"]
    r, c = paired_counts(ref, cur)
    assert len(r) == 3 and r.min() == 0  # Biscoe, Torgersen, and Dream never seen
    drift = compare(reference, current).columns["island"]
    assert drift.stats["psi"] == pytest.approx(psi(r, c))
    assert column_psi(ref, cur, nulls=False) == pytest.approx(psi(r, c))
    # no nulls on either side: the null bin is empty and the PSI the same but for its epsilon
    assert column_psi(ref, cur, nulls=True) == pytest.approx(psi(r, c), rel=1e-3)


def test_an_all_null_numeric_batch_column_is_compared_like_a_string_one(
    penguins: pd.DataFrame,
) -> None:
    reference = profile_data(penguins)
    batch = penguins.assign(body_mass_g=np.nan, island=None)
    result = validate_frame(batch, reference=reference)
    skewed = {r.check.column for r in result.results if r.check.kind == "skew" and not r.passed}
    assert {"body_mass_g", "island"} <= skewed


def test_nothing_to_compare_is_none(penguins: pd.DataFrame) -> None:
    reference = profile_data(penguins)
    empty = profile_data(penguins.assign(body_mass_g=np.nan))
    assert column_psi(empty["body_mass_g"], reference["body_mass_g"], nulls=True) is None
    assert column_psi(reference["body_mass_g"], reference["island"], nulls=True) is None
    assert column_psi(reference["island"], reference["island"], nulls=True) == 0.0
