"""One vocabulary of column kinds: a profile (DuckDB's types), a model's signature and the
server's request checks (pandas dtypes) sort a column the same way."""

from __future__ import annotations

import pandas as pd

from noria.data.kinds import KINDS, kind_of, kind_of_dtype
from noria.data.profile import profile_data
from noria.data.schema import signature_of
from noria.serve.schema import Signature


def test_a_profile_and_a_signature_agree_on_every_column_kind() -> None:
    frame = pd.DataFrame(
        {
            "count": pd.Series([1, 2, None], dtype="Int64"),
            "price": [1.5, None, 2.0],
            "flag": pd.Series([True, False, None], dtype="boolean"),
            "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
            "name": ["a", None, "c"],
        }
    )
    profiled = {name: col.kind for name, col in profile_data(frame).columns.items()}
    signature = Signature(signature_of(frame))
    assert profiled == {n: kind_of_dtype(str(t)) for n, t in frame.dtypes.items()}
    assert signature.kinds == profiled
    assert set(profiled.values()) == set(KINDS)


def test_duckdb_types() -> None:
    assert [kind_of(t) for t in ("BIGINT", "DECIMAL(18,3)", "BOOLEAN", "DATE", "VARCHAR")] == [
        "numeric",
        "numeric",
        "boolean",
        "temporal",
        "string",
    ]
