"""Deterministic data of the `validation` benchmark: 20 columns, a clean reference, a bad batch.

``write(path, rows, seed, bad)`` writes one Parquet file with numpy (seeded) and pyarrow. The
bad batch (``bad=True``) carries known invalid values at fixed rates: negative and too-large
ages, rates above 1, negative incomes, nulls in ``score`` (declared not null), unseen countries,
malformed e-mails and zip codes, duplicated ids, timestamps out of range, an unknown status.
Run as ``python -m bench.validation.gen OUT ROWS`` to write one file by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

COUNTRIES = [f"C{i:02d}" for i in range(30)]
PLANS = ["free", "basic", "plus", "pro", "enterprise"]
CHANNELS = ["web", "ios", "android", "email", "partner", "store", "phone", "other"]
DEVICES = ["desktop", "mobile", "tablet", "tv"]
SEGMENTS = [f"S{i}" for i in range(12)]
STATUSES = ["active", "paused", "closed"]
T0 = np.datetime64("2024-01-01T00:00:00", "s")
T_END = np.datetime64("2026-01-01T00:00:00", "s")
SPAN_S = int((T_END - T0) / np.timedelta64(1, "s"))

COLUMNS = [
    "id", "age", "income", "score", "balance", "tenure", "rate", "amount", "visits", "temp",
    "event_time", "country", "plan", "channel", "device", "segment", "status", "email", "zip",
    "is_active",
]  # fmt: skip


def _with_nulls(rng: np.random.Generator, values: np.ndarray, fraction: float) -> np.ndarray:
    mask = rng.random(len(values)) < fraction
    return np.ma.masked_array(values, mask=mask)


def frame_arrays(rows: int, seed: int, bad: bool) -> dict[str, object]:
    """The 20 columns as numpy arrays (masked arrays where a column has nulls)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    ids = np.arange(rows, dtype=np.int64) + seed * 10_000_000
    age = rng.integers(18, 90, rows).astype(np.int64)
    income = np.round(rng.lognormal(10.5, 0.6, rows), 2)
    score = rng.normal(600, 80, rows)
    balance = np.round(rng.normal(2_000, 1_500, rows), 2)
    tenure = rng.integers(0, 240, rows).astype(np.int64)
    rate = rng.random(rows)
    amount = np.round(rng.exponential(80, rows), 2)
    visits = rng.poisson(12, rows).astype(np.int64)
    temp = rng.normal(20, 6, rows)
    seconds = rng.integers(0, SPAN_S, rows)
    country = np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), rows)]
    plan = np.array(PLANS, dtype=object)[rng.integers(0, len(PLANS), rows)]
    channel = np.array(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), rows)]
    device = np.array(DEVICES, dtype=object)[rng.integers(0, len(DEVICES), rows)]
    segment = np.array(SEGMENTS, dtype=object)[rng.integers(0, len(SEGMENTS), rows)]
    status = np.array(STATUSES, dtype=object)[rng.integers(0, len(STATUSES), rows)]
    user = rng.integers(0, 2_000_000, rows)
    email = np.char.add(np.char.add("u", user.astype(str)), "@example.com").astype(object)
    zips = np.char.zfill(rng.integers(0, 100_000, rows).astype(str), 5).astype(object)
    active = rng.random(rows) < 0.7
    score_null = np.zeros(rows, dtype=bool)
    if bad:  # known invalid values, each at a fixed rate, positions seeded

        def pick(rate_: float) -> np.ndarray:
            return rng.random(rows) < rate_

        age[pick(0.001)] = -1
        age[pick(0.001)] = 150
        rate[pick(0.002)] = 1.5
        income[pick(0.0005)] *= -1
        score_null = pick(0.003)
        country[pick(0.002)] = "ZZ"
        email[pick(0.001)] = "not-an-email"
        zips[pick(0.001)] = "ABCDE"
        dup = np.flatnonzero(pick(0.0005))
        ids[dup] = ids[(dup + 1) % rows]
        seconds[pick(0.0005)] = -86_400 * 30
        status[pick(0.0005)] = "deleted"
    cols["id"] = ids
    cols["age"] = age
    cols["income"] = _with_nulls(rng, income, 0.02)
    cols["score"] = np.ma.masked_array(score, mask=score_null)
    cols["balance"] = _with_nulls(rng, balance, 0.05)
    cols["tenure"] = tenure
    cols["rate"] = rate
    cols["amount"] = _with_nulls(rng, amount, 0.01)
    cols["visits"] = visits
    cols["temp"] = _with_nulls(rng, temp, 0.1)
    cols["event_time"] = T0 + seconds.astype("timedelta64[s]")
    cols["country"] = country
    cols["plan"] = plan
    cols["channel"] = _with_nulls(rng, channel, 0.03)
    cols["device"] = device
    cols["segment"] = segment
    cols["status"] = status
    cols["email"] = email
    cols["zip"] = zips
    cols["is_active"] = active
    return cols


def write(path: Path, rows: int, seed: int, bad: bool, chunk: int = 1_000_000) -> Path:
    """Write ``rows`` rows to ``path`` (Parquet, row groups of ``chunk``); returns ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = None
    try:
        for part, start in enumerate(range(0, rows, chunk)):
            n = min(chunk, rows - start)
            arrays = frame_arrays(n, seed * 1000 + part, bad)
            arrays["id"] = np.asarray(arrays["id"]) - (seed * 1000 + part) * 10_000_000 + start
            fields = {}
            for name in COLUMNS:
                value = arrays[name]
                if isinstance(value, np.ma.MaskedArray):
                    fields[name] = pa.array(value.data, mask=value.mask)
                elif name == "event_time":
                    fields[name] = pa.array(value, type=pa.timestamp("us"))
                else:
                    fields[name] = pa.array(value)
            table = pa.table(fields)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return path


if __name__ == "__main__":
    write(Path(sys.argv[1]), int(sys.argv[2]), seed=7, bad=True)
