"""Profiles: the statistics, JSON round trip, mergeability (hypothesis) and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noria.data.profile import QUANTILES, Profile, merge_profiles, profile_data
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
    values = frame.x.dropna().to_numpy()
    for q in (0.05, 0.5, 0.95):
        assert rank_error(values, x.quantile(q), q) <= RANK_TOLERANCE
    assert sum(x.hist["counts"]) + x.hist["below"] + x.hist["above"] == x.non_null
    assert 0.9 * 1800 <= x.distinct <= 1.1 * 1800  # HyperLogLog estimate
    k = p["k"]
    assert k.hist["step"] == 1 and k.hist["counts"] == list(frame.k.value_counts().sort_index())
    cat = p["cat"]
    assert cat.values_complete and cat.distinct == 3 and cat.len_min == cat.len_max == 1
    assert dict(cat.top()) == frame.cat.value_counts().to_dict()
    assert p["flag"].values[True] == int(frame.flag.sum())
    assert p["empty"].nulls == len(frame) and p["empty"].min is None  # an all-null column


#: The rank error a quantile may have: 1.5 % of the rows (the sketch's own is about 0.5 %).
RANK_TOLERANCE = 0.015


def rank_error(values: np.ndarray, answer: float, q: float) -> float:
    """How far (as a share of the rows) ``answer`` is from the rank ``floor(q * (n - 1))`` of
    ``values``: 0 when the answer is the value at that rank (``np.quantile(method="lower")``),
    else the distance to the nearest rank the answer holds in the sorted values (or would
    hold, for a value not in the data)."""
    ordered = np.sort(values)
    n = ordered.size
    first = int(np.searchsorted(ordered, answer, side="left"))  # ranks holding `answer`:
    last = int(np.searchsorted(ordered, answer, side="right")) - 1  # first..last
    rank = int(np.floor(q * (n - 1)))
    if first <= rank <= last:
        return 0.0
    return min(abs(first - rank), abs(last - rank)) / n


_MAGNITUDES = st.sampled_from([0.0, 1e3, -1e3, 2009.0, 1e6, -1e6, 1e9, -1e9, 1.7e9])
_SPREADS = st.sampled_from([1e-3, 0.5, 1.0, 7.0, 100.0, 1e4])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.sampled_from([1, 2, 37, 400, 401, 2_000, 30_000]),
    offset=_MAGNITUDES,
    spread=_SPREADS,
    shape=st.sampled_from(["uniform", "normal", "lognormal", "spike", "integers"]),
    seed=st.integers(0, 2**16),
)
def test_quantiles_match_numpy_in_rank(
    n: int, offset: float, spread: float, shape: str, seed: int
) -> None:
    """Every quantile a profile gives is the value at its rank, within RANK_TOLERANCE of the
    rows, on columns of any magnitude and range: years (2,009 ± 7), epoch seconds (1.7e9 plus
    a month), prices (1e6 plus a few units), tiny ranges far from zero, negative values,
    integers and floats. At 400 values or fewer they are exactly numpy's ``lower`` quantiles."""
    rng = np.random.default_rng(seed)
    if shape == "uniform":
        x = rng.uniform(0, spread, n)
    elif shape == "normal":
        x = rng.normal(0, spread, n)
    elif shape == "lognormal":
        x = rng.lognormal(0, 1, n) * spread
    elif shape == "spike":  # most values in a narrow spike, a few far out
        x = np.where(rng.random(n) < 0.9, rng.normal(0, spread * 1e-3, n), rng.normal(0, spread, n))
    else:
        x = rng.integers(0, max(int(spread), 1) + 1, n)
    values = (x + int(offset)) if shape == "integers" else (x + offset)
    column = profile_data(pd.DataFrame({"v": values}))["v"]
    for q in QUANTILES:
        got = column.quantile(q)
        assert column.min <= got <= column.max
        if n <= 400:
            assert got == np.quantile(values, q, method="lower"), (q, got)
        else:
            assert rank_error(values, got, q) <= RANK_TOLERANCE, (q, got)
    if shape == "integers":
        assert all(isinstance(column.quantile(q), int) for q in QUANTILES)


def test_quantiles_of_a_year_column_are_the_years() -> None:
    """The data report printed p5 = p25 = p50 = p75 = p95 = 2,009 for years 2003-2010 (the log
    sketch's buckets are 1 % of the value wide, 40 years at 2,000)."""
    years = np.random.default_rng(1).integers(2003, 2011, 5_000)
    q = profile_data(pd.DataFrame({"year": years}))["year"].quantiles()
    expected = {f"p{round(p * 100)}": int(np.quantile(years, p, method="lower")) for p in QUANTILES}
    assert q == expected
    assert q["p5"] == 2003 and q["p50"] in (2006, 2007) and q["p95"] == 2010


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 3_000), min_size=2, max_size=8),
    offset=_MAGNITUDES,
    seed=st.integers(0, 2**16),
)
def test_merged_quantiles_stay_within_the_rank_tolerance(
    sizes: list[int], offset: float, seed: int
) -> None:
    """Windows merged one after another (as a monitor merges them) keep the rank bound."""
    rng = np.random.default_rng(seed)
    parts = [offset + rng.lognormal(0, 1, size) for size in sizes]
    ref = profile_data(pd.DataFrame({"v": np.concatenate(parts)}))
    merged = merge_profiles(profile_data(pd.DataFrame({"v": p}), reference=ref) for p in parts)
    values = np.concatenate(parts)
    for q in QUANTILES:
        assert rank_error(values, merged["v"].quantile(q), q) <= RANK_TOLERANCE


def test_a_profile_stored_without_the_rank_sketch_still_answers() -> None:
    """Profiles stored before the rank sketch (no ``ranks`` in their JSON) use the log sketch."""
    p = profile_data(pd.DataFrame({"v": np.arange(1.0, 1001.0)})).to_dict()
    for column in p["columns"]:
        column.pop("ranks")
    median = Profile.from_dict(p)["v"].quantile(0.5)
    assert median == pytest.approx(500, rel=0.02)


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

    from noria.data import hll as hll_sketch
    from noria.data import sketch as log_sketch
    from noria.data.histogram import bin_sql, bins_of, nice_hist

    rng = np.random.default_rng(5)
    x = np.concatenate(
        [
            rng.normal(0, 1e3, 5000),
            rng.lognormal(0, 5, 5000),
            [0.0, 1e-12, -1e-12, 1.0, -1.0, 2.5, 1e300, -1e300, np.inf, -np.inf],
        ]
    )
    hist = nice_hist(-2000.0, 2000.0, integer=False)
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"x": x}))
    keys = f"{log_sketch.key_sql('x')}, {bin_sql('x', hist)}, {hll_sketch.key_sql('x')}"
    sql = f"SELECT {keys}, hash(x) FROM t"
    sketch, bins, hll, h = (np.array(c) for c in zip(*con.execute(sql).fetchall(), strict=True))
    assert (log_sketch.keys_of(x) == sketch).all()
    assert (bins_of(x, hist) == bins).all()
    assert (hll_sketch.keys_of(h.astype(np.uint64)) == hll).all()
