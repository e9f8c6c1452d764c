"""Profiles: the statistics, JSON round trip, mergeability (hypothesis) and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noria.data.profile import SKETCH_ALPHA, Profile, merge_profiles, profile_data
from noria.errors import DataError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2000
    return pd.DataFrame(
        {
            "x": rng.normal(10, 3, n),
            "k": rng.integers(0, 7, n),
            "cat": rng.choice(["a", "b", "c"], n),
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10, n), unit="D"),
            "flag": rng.random(n) < 0.3,
            "empty": [None] * n,
        }
    ).assign(x=lambda d: d.x.where(np.arange(n) % 10 != 0))


def test_statistics_match_pandas(frame: pd.DataFrame) -> None:
    p = profile_data(frame)
    assert p.rows == len(frame)
    x = p["x"]
    assert x.nulls == 200 and x.kind == "numeric"
    assert x.min == pytest.approx(frame.x.min()) and x.max == pytest.approx(frame.x.max())
    assert x.mean == pytest.approx(frame.x.mean()) and x.std == pytest.approx(frame.x.std())
    values = np.sort(frame.x.dropna().to_numpy())
    for q in (0.05, 0.5, 0.95):
        true = values[math.floor(q * (len(values) - 1))]
        assert abs(x.quantile(q) - true) <= SKETCH_ALPHA * abs(true) + 1e-12
    assert sum(x.hist["counts"]) + x.hist["below"] + x.hist["above"] == x.non_null
    assert 0.9 * 1800 <= x.distinct <= 1.1 * 1800  # HyperLogLog estimate
    k = p["k"]
    assert k.hist["step"] == 1 and k.hist["counts"] == list(frame.k.value_counts().sort_index())
    cat = p["cat"]
    assert cat.values_complete and cat.distinct == 3 and cat.len_min == cat.len_max == 1
    assert dict(cat.top()) == frame.cat.value_counts().to_dict()
    assert p["flag"].values[True] == int(frame.flag.sum())
    assert p["empty"].nulls == len(frame) and p["empty"].min is None  # an all-null column


def test_timestamps_range_and_gaps() -> None:
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-06", "2024-01-07"])
    p = profile_data(pd.DataFrame({"t": days}))["t"]
    assert p.kind == "temporal"
    assert p.min == pd.Timestamp("2024-01-01").timestamp()
    assert p.max == pd.Timestamp("2024-01-07").timestamp()
    assert p.gap_count() == 1
    [(start, end)] = p.gaps()
    assert pd.Timestamp("2024-01-02").timestamp() < start < end <= days[2].timestamp()
    regular = pd.date_range("2024-01-01", periods=50, freq="h")
    assert profile_data(pd.DataFrame({"t": regular}))["t"].gap_count() == 0


def test_json_round_trip(frame: pd.DataFrame) -> None:
    p = profile_data(frame)
    again = Profile.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again.to_dict() == p.to_dict()


def _exact(p: Profile) -> dict:
    """Everything merge keeps exactly (mean and M2 compared separately)."""
    out = {}
    for name, c in p.columns.items():
        d = c.to_dict()
        for key in ("mean", "m2", "std", "quantiles", "distinct", "distinct_exact"):
            d.pop(key)
        out[name] = d
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.lists(st.tuples(st.floats(-1e6, 1e6) | st.none(), st.sampled_from("xyz") | st.none()),
               min_size=1, max_size=40),
    b=st.lists(st.tuples(st.floats(-1e6, 1e6) | st.none(), st.sampled_from("xyzw") | st.none()),
               min_size=1, max_size=40),
)  # fmt: skip
def test_merge_equals_profile_of_union(a: list, b: list) -> None:
    def frame(rows: list) -> pd.DataFrame:
        return pd.DataFrame(
            {"v": pd.array([r[0] for r in rows], dtype="Float64"),
             "s": pd.array([r[1] for r in rows], dtype="string")}
        )  # fmt: skip

    union = pd.concat([frame(a), frame(b)], ignore_index=True)
    ref = profile_data(pd.DataFrame({"v": [-2e6, 2e6], "s": ["x", "y"]}))
    pa_, pb = profile_data(frame(a), reference=ref), profile_data(frame(b), reference=ref)
    pu = profile_data(union, reference=ref)
    merged = merge_profiles([pa_, pb])
    assert merged.rows == pu.rows
    assert _exact(merged) == _exact(pu)
    for name in ("v",):
        m, u = merged[name], pu[name]
        if u.non_null:
            assert m.mean == pytest.approx(u.mean, rel=1e-9, abs=1e-6)
            assert m.m2 == pytest.approx(u.m2, rel=1e-6, abs=1e-3)
            assert m.quantile(0.5) == u.quantile(0.5)  # the same sketch, the same answer
    assert merged["s"].distinct == pu["s"].distinct  # every value kept: exact


def test_merge_of_different_edges_is_an_error() -> None:
    a = profile_data(pd.DataFrame({"v": [1.0, 2.0]}))
    b = profile_data(pd.DataFrame({"v": [100.0, 500.0]}))
    with pytest.raises(DataError, match=r"column 'v'.*reference="):
        merge_profiles([a, b])


def test_profile_from_parquet_and_csv_files(tmp_path: Path, frame: pd.DataFrame) -> None:
    pq = tmp_path / "d.parquet"
    frame.drop(columns="empty").to_parquet(pq)
    p = profile_data(pq)
    assert p.rows == len(frame) and p.source == str(pq)
    csv = tmp_path / "d.csv"
    frame[["x", "cat"]].to_csv(csv, index=False)
    assert profile_data(csv)["cat"].distinct == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.parquet", b"PAR1 this is not parquet", "not a valid Parquet file"),
        ("empty.csv", b"", "the file is empty"),
        ("latin.csv", b"a,b\n1,caf\xe9\n", "line 2 is not valid UTF-8"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "row 2 .*has 3 fields"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        profile_data(path)
    assert str(path) in str(info.value)


def test_truncated_parquet_is_named(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pd.DataFrame({"a": range(1000)}).to_parquet(good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"cut\.parquet.*corrupt or truncated"):
        profile_data(cut)


def test_numpy_keys_equal_the_sql_keys() -> None:
    """The sketch, histogram and HLL keys NumPy computes are those of the SQL formulas."""
    import duckdb

    from noria.data import profile as p

    rng = np.random.default_rng(5)
    x = np.concatenate(
        [
            rng.normal(0, 1e3, 5000),
            rng.lognormal(0, 5, 5000),
            [0.0, 1e-12, -1e-12, 1.0, -1.0, 2.5, 1e300, -1e300, np.inf, -np.inf],
        ]
    )
    hist = p._nice_hist(-2000.0, 2000.0, integer=False)
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"x": x}))
    sql = f"SELECT {p._sketch_key('x')}, {p._bin_key('x', hist)}, {p._hll_key('x')}, hash(x) FROM t"
    sketch, bins, hll, h = (np.array(c) for c in zip(*con.execute(sql).fetchall(), strict=True))
    assert (p._sketch_keys(x) == sketch).all()
    assert (p._bin_keys(x, hist) == bins).all()
    assert (p._hll_keys(h.astype(np.uint64)) == hll).all()
