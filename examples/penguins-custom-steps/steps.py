"""The example's own steps.

- ``validated_data`` replaces the built-in step: it adds two features a biologist would
  (the bill's shape, and body mass per flipper length) and drops rows without a sex.
- ``data_summary`` is a new step: noria runs it, caches it and records its metrics, like any other.

A step is a plain function; its parameter names say what it needs (``raw_data`` is the built-in
step of that name, ``target`` a param from noria.yaml). Helpers start with ``_`` so that they are
not taken for steps.
"""

from __future__ import annotations

import pandas as pd

import noria


def validated_data(raw_data: pd.DataFrame, target: str) -> pd.DataFrame:
    frame = raw_data.dropna(subset=[target, "sex"]).reset_index(drop=True)
    frame["bill_ratio"] = frame["bill_length_mm"] / frame["bill_depth_mm"]
    frame["mass_per_flipper"] = frame["body_mass_g"] / frame["flipper_length_mm"]
    noria.log_metric("rows_valid", len(frame))
    return frame


def data_summary(validated_data: pd.DataFrame, target: str) -> dict[str, int]:
    counts = validated_data[target].value_counts()
    for label, count in counts.items():
        noria.log_metric(f"rows.{label}", int(count))
    return {str(k): int(v) for k, v in counts.items()}
