"""Materializers: how a step's output becomes bytes in the artifact store, and back.

Each materializer has a stable string id (recorded with the artifact, so a load picks the right
one forever) and three methods. The first that ``handles`` a value wins, in this order:

============  ======================================  ==========================================
id            values                                  format
============  ======================================  ==========================================
``parquet``   ``pandas.DataFrame``, ``pyarrow.Table``   Parquet (zstd); pandas index kept
``npy``       ``numpy.ndarray`` (not object dtype)    ``.npy`` (no pickle)
``joblib``    scikit-learn estimators and pipelines   joblib
``json``      ``None``, bool, int, float, str, and     JSON (orjson), only when it round-trips
              lists/dicts of them                     exactly
``pickle``    anything else                           cloudpickle
============  ======================================  ==========================================

Type checks go by module name, so a pipeline of plain Python values never imports pandas.
Register another with :func:`register` (it is tried first). Loading happens only from the
project's own store, after the artifact's hash was checked (see :mod:`noria.store.artifacts`).
"""

from __future__ import annotations

import io
import sys
from typing import Any, Protocol

import orjson

from noria.errors import StoreError

__all__ = ["Materializer", "dump", "load", "register"]


class Materializer(Protocol):
    """Turns one family of values into bytes and back."""

    id: str

    def handles(self, value: Any) -> bool:
        """Whether this materializer stores ``value``."""
        ...

    def dump(self, value: Any) -> bytes:
        """The bytes of ``value``."""
        ...

    def load(self, data: bytes) -> Any:
        """The value back from its bytes."""
        ...


def _module(value: Any) -> str:
    return type(value).__module__ or ""


class ParquetMaterializer:
    id = "parquet"

    def handles(self, value: Any) -> bool:
        mod = _module(value)
        name = type(value).__name__
        return (mod.startswith("pandas") and name == "DataFrame") or (
            mod.startswith("pyarrow") and name == "Table"
        )

    def dump(self, value: Any) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        is_pandas = not isinstance(value, pa.Table)
        if is_pandas and not all(isinstance(c, str) for c in value.columns):
            value = value.rename(columns=str)
        table = pa.Table.from_pandas(value) if is_pandas else value
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"noria.kind": b"pandas" if is_pandas else b"arrow"}
        )
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()

    def load(self, data: bytes) -> Any:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        if (table.schema.metadata or {}).get(b"noria.kind") == b"arrow":
            return table
        return table.to_pandas()


class NpyMaterializer:
    id = "npy"

    def handles(self, value: Any) -> bool:
        return (
            _module(value) == "numpy"
            and type(value).__name__ == "ndarray"
            and value.dtype.kind != "O"
        )

    def dump(self, value: Any) -> bytes:
        import numpy as np

        sink = io.BytesIO()
        np.save(sink, value, allow_pickle=False)
        return sink.getvalue()

    def load(self, data: bytes) -> Any:
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)


class JoblibMaterializer:
    id = "joblib"

    def handles(self, value: Any) -> bool:
        if _module(value).startswith(("sklearn", "lightgbm", "xgboost")):
            return True
        if "sklearn.base" not in sys.modules:  # nothing can be an estimator yet
            return False
        from sklearn.base import BaseEstimator

        return isinstance(value, BaseEstimator)

    def dump(self, value: Any) -> bytes:
        import joblib

        sink = io.BytesIO()
        joblib.dump(value, sink)
        return sink.getvalue()

    def load(self, data: bytes) -> Any:
        import joblib

        return joblib.load(io.BytesIO(data))


_JSON_SCALARS = (type(None), bool, int, float, str)


def _json_safe(value: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    t = type(value)
    if t in _JSON_SCALARS:
        return t is not int or -(2**63) <= value < 2**64
    if t is list:
        return all(_json_safe(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and _json_safe(v, depth + 1) for k, v in value.items())
    return False


class JsonMaterializer:
    id = "json"

    def handles(self, value: Any) -> bool:
        if type(value) is float and value != value:  # NaN does not round-trip through JSON
            return False
        return _json_safe(value) and orjson.loads(orjson.dumps(value)) == value

    def dump(self, value: Any) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)

    def load(self, data: bytes) -> Any:
        return orjson.loads(data)


class PickleMaterializer:
    id = "pickle"

    def handles(self, value: Any) -> bool:
        return True

    def dump(self, value: Any) -> bytes:
        import cloudpickle

        return cloudpickle.dumps(value)

    def load(self, data: bytes) -> Any:
        import pickle

        return pickle.loads(data)


_REGISTRY: list[Materializer] = [
    ParquetMaterializer(),
    NpyMaterializer(),
    JoblibMaterializer(),
    JsonMaterializer(),
    PickleMaterializer(),
]


def register(materializer: Materializer) -> None:
    """Add a materializer, tried before the built-in ones. Its ``id`` must be new and stable."""
    if any(m.id == materializer.id for m in _REGISTRY):
        raise ValueError(f"a materializer with id '{materializer.id}' is already registered")
    _REGISTRY.insert(0, materializer)


def dump(value: Any) -> tuple[str, bytes]:
    """``(materializer id, bytes)`` for a value."""
    for m in _REGISTRY:
        if m.handles(value):
            return m.id, m.dump(value)
    raise AssertionError("unreachable: the pickle materializer handles everything")


def load(materializer_id: str, data: bytes) -> Any:
    """The value back from bytes written by the materializer ``materializer_id``."""
    for m in _REGISTRY:
        if m.id == materializer_id:
            return m.load(data)
    raise StoreError(
        f"no materializer '{materializer_id}' is registered: import the package that registers "
        "it before loading this artifact"
    )
