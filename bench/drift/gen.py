"""Deterministic data of the `drift` benchmark: a reference, a drifted and an undrifted batch.

20 columns (numpy, seeded; written with pyarrow): 10 numeric (ints and floats, normal, lognormal,
exponential, gamma, Poisson, uniform; four with nulls), 9 categorical strings (3 to about 2,000
categories, one with nulls) and a boolean. ``kind="drifted"`` changes exactly the columns of
:data:`DRIFTED`, each in one way:

- ``score``: the mean moves by 0.3 standard deviations (600 -> 624, sd 80);
- ``latency``: the scale grows by half (gamma, scale 40 -> 60);
- ``plan``: the mix of plans moves (``free`` 40 % -> 25 %, ``pro`` 10 % -> 25 %);
- ``amount``: nulls jump from 1 % to 15 %, the values keep their distribution.

``kind="undrifted"`` is a fresh sample of the reference's distribution (another seed). Run as
``python -m bench.drift.gen OUT ROWS KIND`` to write one file by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

COUNTRIES = [f"C{i:02d}" for i in range(30)]
PLANS = ["free", "basic", "plus", "pro", "enterprise"]
PLAN_MIX = [0.40, 0.25, 0.15, 0.10, 0.10]
PLAN_MIX_DRIFTED = [0.25, 0.25, 0.15, 0.25, 0.10]
CHANNELS = ["web", "ios", "android", "email", "partner", "store", "phone", "other"]
DEVICES = ["desktop", "mobile", "tablet", "tv"]
SEGMENTS = [f"S{i}" for i in range(12)]
STATUSES = ["active", "paused", "closed"]
LANGUAGES = ["en", "es", "fr", "de", "pt", "it", "nl", "pl", "ja", "zh"]
ZIP3 = [f"{i:03d}" for i in range(1000)] + [f"X{i:03d}" for i in range(1000)]

COLUMNS = [
    "age", "income", "score", "balance", "tenure", "rate", "amount", "visits", "temp", "latency",
    "country", "plan", "channel", "device", "segment", "status", "language", "zip3", "referrer",
    "is_active",
]  # fmt: skip
#: The columns ``kind="drifted"`` changes.
DRIFTED = ("score", "latency", "plan", "amount")
SEEDS = {"reference": 1, "drifted": 2, "undrifted": 3}


def _masked(rng: np.random.Generator, values: np.ndarray, fraction: float) -> np.ma.MaskedArray:
    return np.ma.masked_array(values, mask=rng.random(len(values)) < fraction)


def _choice(rng: np.random.Generator, names: list[str], rows: int, p=None) -> np.ndarray:
    return np.array(names, dtype=object)[rng.choice(len(names), rows, p=p)]


def frame_arrays(rows: int, seed: int, drifted: bool) -> dict[str, object]:
    """The 20 columns as numpy arrays (masked arrays where a column has nulls)."""
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, len(ZIP3) + 1) ** 0.8
    referrers = [f"site{i}.example" for i in range(200)]
    cols: dict[str, object] = {
        "age": rng.integers(18, 90, rows).astype(np.int64),
        "income": _masked(rng, np.round(rng.lognormal(10.5, 0.6, rows), 2), 0.02),
        "score": rng.normal(624 if drifted else 600, 80, rows),
        "balance": _masked(rng, np.round(rng.normal(2_000, 1_500, rows), 2), 0.05),
        "tenure": rng.integers(0, 240, rows).astype(np.int64),
        "rate": rng.random(rows),
        "amount": _masked(rng, np.round(rng.exponential(80, rows), 2), 0.15 if drifted else 0.01),
        "visits": rng.poisson(12, rows).astype(np.int64),
        "temp": _masked(rng, rng.normal(20, 6, rows), 0.10),
        "latency": rng.gamma(2.0, 60.0 if drifted else 40.0, rows),
        "country": _choice(rng, COUNTRIES, rows),
        "plan": _choice(rng, PLANS, rows, PLAN_MIX_DRIFTED if drifted else PLAN_MIX),
        "channel": _masked(rng, _choice(rng, CHANNELS, rows), 0.03),
        "device": _choice(rng, DEVICES, rows, [0.5, 0.35, 0.1, 0.05]),
        "segment": _choice(rng, SEGMENTS, rows),
        "status": _choice(rng, STATUSES, rows, [0.8, 0.15, 0.05]),
        "language": _choice(rng, LANGUAGES, rows),
        "zip3": _choice(rng, ZIP3, rows, zipf / zipf.sum()),
        "referrer": _choice(rng, referrers, rows),
        "is_active": rng.random(rows) < 0.7,
    }
    return cols


def write(path: Path, rows: int, kind: str, chunk: int = 250_000) -> Path:
    """Write ``rows`` rows of ``kind`` (``reference``, ``drifted``, ``undrifted``) to ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind not in SEEDS:
        raise SystemExit(f"unknown kind {kind!r}; use one of {', '.join(SEEDS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = None
    try:
        for part, start in enumerate(range(0, rows, chunk)):
            n = min(chunk, rows - start)
            arrays = frame_arrays(n, SEEDS[kind] * 1000 + part, kind == "drifted")
            fields = {}
            for name in COLUMNS:
                value = arrays[name]
                if isinstance(value, np.ma.MaskedArray):
                    fields[name] = pa.array(value.data, mask=value.mask)
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
    write(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
