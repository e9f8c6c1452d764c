"""The predictor: one model version loaded once, predicting vectorised on checked input.

:meth:`Predictor.load` resolves ``NAME@ALIAS`` (or ``NAME@VERSION``) in the registry and loads
the version's artifact from the project's own store, its hash checked. Then it picks the fastest
path that agrees with the original model:

``compiled``
    the pipeline compiled to NumPy by :mod:`noria.serve.fast` (noria's own preprocessing with
    gradient boosting, random forests or linear models): no pandas, no scikit-learn on the hot
    path, about 0.1 ms for a row. It is used only after a parity check on probe rows
    (:data:`noria.serve.fast.TOLERANCE`), and cached in the artifact store (an index under
    ``.noria/serve/``), so that the next start loads it without importing scikit-learn.
``onnx``
    the estimator converted by skl2onnx/onnxmltools and run by ONNX Runtime (optional extra:
    ``pip install noria[onnx]``), optionally with dynamic int8 quantization. ONNX works in
    float32, so its parity tolerance is :data:`ONNX_TOLERANCE`; it is used only when it agrees
    and is faster than ``compiled`` on one row.
``sklearn``
    the fitted scikit-learn pipeline itself on a pandas frame: always right, slowest.

Input is checked against the version's signature by :mod:`noria.serve.schema`. Not here: HTTP,
batching, logging.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from noria.errors import UserError
from noria.serve.fast import (
    TOLERANCE,
    FastModel,
    NotCompilable,
    compile_model,
    input_limits,
    probe_columns,
    warn_rebuild,
)
from noria.serve.schema import Columns, Signature
from noria.train.calibration import decide

if TYPE_CHECKING:
    from noria.store.artifacts import ArtifactStore
    from noria.store.metadata import MetadataStore, ModelVersion

__all__ = ["ONNX_TOLERANCE", "Prediction", "Predictor", "onnx_available"]

#: Largest absolute difference allowed between ONNX Runtime (float32) and the original model.
ONNX_TOLERANCE = 1e-4

_INDEX = "compiled.json"


@dataclass
class Prediction:
    """Predictions for a batch: classes or values, and class probabilities for classifiers."""

    predictions: list[Any]
    probabilities: np.ndarray | None


def onnx_available() -> bool:
    """Whether ONNX Runtime and the converters are installed (the ``onnx`` extra)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "skl2onnx", "onnx"))


class Predictor:
    """A loaded model version. Build it with :meth:`load`.

    Attributes:
        name: the model's name. version: its version number. path: ``compiled``, ``onnx`` or
        ``sklearn``. signature: the input :class:`~noria.serve.schema.Signature`.
        classes: the class labels (classifiers), else ``[]``.
    """

    def __init__(
        self,
        model_version: ModelVersion,
        *,
        fast: FastModel | None,
        sklearn_model: Any = None,
        onnx_session: Any = None,
        extra_columns: str = "reject",
        notes: list[str] | None = None,
    ) -> None:
        self.model_version = model_version
        self.name = model_version.name
        self.version = model_version.version
        self.task = str(model_version.params.get("task", "classification"))
        self.signature = Signature(model_version.signature, extra_columns=extra_columns)
        # numbers whose scaled form overflows: a 422 naming the column, on every path
        self.signature.set_limits(
            fast.input_limits() if fast is not None else input_limits(sklearn_model)
        )
        self._fast = fast
        self._sklearn = sklearn_model
        self._onnx = onnx_session
        classes = list(model_version.params.get("classes") or [])
        if fast is not None and fast.classes:
            classes = list(fast.classes)
        elif sklearn_model is not None and hasattr(sklearn_model, "classes_"):
            classes = [c.item() if hasattr(c, "item") else c for c in sklearn_model.classes_]
        self.classes = classes if self.task == "classification" else []
        self._class_array = np.asarray(self.classes, dtype=object)
        threshold = model_version.params.get("threshold")  # else the model's own, if any
        if threshold is None and fast is not None:
            threshold = fast.head.get("threshold")
        if threshold is None and sklearn_model is not None:
            threshold = getattr(sklearn_model, "threshold", None)
        binary = len(self.classes) == 2
        self.threshold = float(threshold) if binary and threshold is not None else None
        self.path = "onnx" if onnx_session else "compiled" if fast is not None else "sklearn"
        self.notes = notes or []

    def __repr__(self) -> str:
        return f"Predictor({self.name}@{self.version}, path={self.path})"

    # ------------------------------------------------------------------ predicting

    def predict(self, columns: Columns) -> Prediction:
        """Predict a checked batch (see :class:`~noria.serve.schema.Signature`)."""
        if self._onnx is not None and self._fast is not None:
            return self._predict_onnx(columns)
        if self._fast is not None:
            values, proba = self._fast.predict(columns.values, columns.n)
            if proba is not None:
                values = self._labels(proba)
            return Prediction(values.tolist(), proba)
        return self._predict_sklearn(columns)

    def _labels(self, proba: np.ndarray) -> np.ndarray:
        """The positive class where its probability reaches the version's threshold (binary),
        else the most probable class."""
        return decide(proba, self._class_array, self.threshold)

    def predict_records(self, records: list[dict[str, Any]]) -> Prediction:
        """Check and predict ``[{column: value}, …]`` (a convenience for Python callers)."""
        return self.predict(self.signature.from_records(records))

    def _predict_sklearn(self, columns: Columns) -> Prediction:
        import pandas as pd

        frame = pd.DataFrame(columns.values, columns=self.signature.names)
        model = self._sklearn
        if self.task == "classification" and hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(frame), dtype=float)
            classes = np.asarray(model.classes_, dtype=object)
            threshold = self.threshold if len(classes) == 2 else None
            return Prediction(decide(proba, classes, threshold).tolist(), proba)
        values = np.asarray(model.predict(frame))
        return Prediction(values.tolist(), None)

    def _predict_onnx(self, columns: Columns) -> Prediction:
        assert self._fast is not None
        x = self._fast.features(columns.values, columns.n).astype(np.float32)
        session, input_name = self._onnx
        outputs = session.run(None, {input_name: x})
        if self.task == "classification":
            proba = _onnx_proba(outputs[1], len(self.classes))
            return Prediction(self._labels(proba).tolist(), proba)
        return Prediction(np.asarray(outputs[0], dtype=float).reshape(-1).tolist(), None)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        reference: str,
        *,
        cache_dir: Path | None = None,
        extra_columns: str = "reject",
        onnx: str = "auto",
        quantize: bool = False,
    ) -> Predictor:
        """Load the version ``reference`` names (``NAME``, ``NAME@ALIAS``, ``NAME@VERSION``).

        Args:
            metadata: the project's metadata store.
            artifacts: the project's artifact store (every load is hash checked).
            reference: which version.
            cache_dir: where the index of compiled models is kept (``.noria/serve``);
                ``None`` compiles again on every load.
            extra_columns: ``reject`` or ``ignore`` columns the model does not know.
            onnx: ``auto`` (used when installed, faster and in agreement), ``never`` or
                ``always`` (an error when it cannot be used).
            quantize: with ONNX, quantize the model to int8 weights (dynamic quantization).

        Raises:
            NotFoundError: no such model, alias or version.
            UserError: ``onnx="always"`` without the extra, or a disagreeing ONNX model.
        """
        from noria.registry import resolve

        if onnx not in ("auto", "never", "always"):
            raise UserError(f"onnx '{onnx}' is unknown; use auto, never or always")
        version = resolve(metadata, reference)
        return cls.load_version(
            metadata,
            artifacts,
            version,
            cache_dir=cache_dir,
            extra_columns=extra_columns,
            onnx=onnx,
            quantize=quantize,
        )

    @classmethod
    def load_version(
        cls,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        version: ModelVersion,
        *,
        cache_dir: Path | None = None,
        extra_columns: str = "reject",
        onnx: str = "auto",
        quantize: bool = False,
    ) -> Predictor:
        """Load a :class:`ModelVersion` already resolved (see :meth:`load`)."""
        want_onnx = onnx == "always" or (onnx == "auto" and onnx_available())
        if onnx == "always" and not onnx_available():
            raise UserError(
                "the ONNX path needs the onnx extra: pip install 'noria[onnx]' "
                "(skl2onnx, onnxmltools, onnxruntime)"
            )
        index = _Index(cache_dir)
        entry = index.get(version.artifact_id)
        notes: list[str] = []
        if entry and entry.get("compiled"):
            try:
                fast = FastModel.loads(artifacts.get(entry["compiled"]))
                session = None
                if want_onnx and entry.get("onnx") and entry.get("onnx_wins"):
                    session = _session(artifacts.get(entry["onnx"]))
            except Exception as exc:  # missing, damaged, another format: made again below
                entry = None
                warn_rebuild(version.name, version.version, index.path, exc)
        if entry and entry.get("compiled"):
            if session is None and onnx == "always":
                raise UserError(f"{version.name} version {version.version}: {entry.get('why')}")
            return cls(version, fast=fast, onnx_session=session, extra_columns=extra_columns)
        from noria.pipeline.runner import load_artifact

        _single_thread()
        model = load_artifact(metadata, artifacts, version.artifact_id)
        task = str(version.params.get("task", "classification"))
        fast, why = _compile_checked(model, task, version.signature)
        record: dict[str, Any] = {"why": why}
        session = None
        if fast is not None:
            record["compiled"] = artifacts.put(fast.dumps())
            if want_onnx:
                session, onnx_record = _try_onnx(model, fast, task, version.signature, quantize)
                if onnx_record.get("onnx_bytes") is not None:
                    record["onnx"] = artifacts.put(onnx_record.pop("onnx_bytes"))
                record.update(onnx_record)
                if onnx == "always" and session is None:
                    raise UserError(
                        f"{version.name} version {version.version}: ONNX path unusable "
                        f"({onnx_record.get('why_onnx')})"
                    )
                if not record.get("onnx_wins"):
                    session = None
            index.put(version.artifact_id, record)
        else:
            notes.append(f"serving through scikit-learn: {why}")
            if onnx == "always":
                raise UserError(f"the ONNX path needs a compilable pipeline ({why})")
        return cls(
            version,
            fast=fast,
            sklearn_model=model,
            onnx_session=session,
            extra_columns=extra_columns,
            notes=notes,
        )


def _single_thread() -> None:
    """One thread for OpenMP/BLAS: small batches are slower with more, and the server's event
    loop needs the other core."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        pass


class _Index:
    """``.noria/serve/compiled.json``: model artifact id → compiled (and ONNX) artifacts."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / _INDEX if folder is not None else None

    def _read(self) -> dict[str, Any]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, artifact_id: str) -> dict[str, Any] | None:
        entry = self._read().get(artifact_id)
        return entry if isinstance(entry, dict) else None

    def put(self, artifact_id: str, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self._read()
        data[artifact_id] = record
        tmp = self.path.with_name(f".{_INDEX}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- parity


def _frame(columns: dict[str, np.ndarray], signature: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame({c["name"]: columns[c["name"]] for c in signature})


def _reference(model: Any, task: str, frame: Any) -> tuple[np.ndarray, np.ndarray | None]:
    if task == "classification":
        return np.asarray(model.predict(frame), dtype=object), np.asarray(
            model.predict_proba(frame), dtype=float
        )
    return np.asarray(model.predict(frame), dtype=float), None


def _agree(
    task: str,
    expected: tuple[np.ndarray, np.ndarray | None],
    got: tuple[Any, np.ndarray | None],
    tolerance: float,
) -> str | None:
    """``None`` when two outputs agree, else why not."""
    values, proba = expected
    got_values, got_proba = got
    if task == "classification":
        assert proba is not None and got_proba is not None
        if got_proba.shape != proba.shape:
            return f"probabilities of shape {got_proba.shape}, expected {proba.shape}"
        diff = float(np.max(np.abs(got_proba - proba)))
        if diff > tolerance:
            return f"probabilities differ by {diff:.2g} > {tolerance:g}"
        top = np.sort(proba, axis=1)
        clear = (top[:, -1] - top[:, -2]) > 2 * tolerance if proba.shape[1] > 1 else True
        same = np.asarray(got_values, dtype=object) == values
        if not np.all(same | ~clear):
            return "predicted classes differ"
        return None
    got_array = np.asarray(got_values, dtype=float)
    scale = np.maximum(1.0, np.abs(values))
    diff = float(np.max(np.abs(got_array - values) / scale))
    return None if diff <= tolerance else f"values differ by {diff:.2g} > {tolerance:g}"


def _compile_checked(
    model: Any, task: str, signature: list[dict[str, Any]]
) -> tuple[FastModel | None, str]:
    """The compiled model when it agrees with the original, and what was decided."""
    try:
        fast = compile_model(model, task)
    except NotCompilable as exc:
        return None, f"not compilable: {exc}"
    except Exception as exc:  # a model noria did not build: never fail the load for it
        return None, f"not compilable: {type(exc).__name__}: {exc}"
    probes = probe_columns(fast, signature)
    n = len(next(iter(probes.values())))
    try:
        expected = _reference(model, task, _frame(probes, signature))
        problem = _agree(task, expected, fast.predict(probes, n), TOLERANCE)
    except Exception as exc:
        return None, f"parity check failed: {type(exc).__name__}: {exc}"
    if problem:
        return None, f"compiled model disagrees with the original ({problem})"
    return fast, f"compiled; agrees within {TOLERANCE:g} on {n} probe rows"


# --------------------------------------------------------------------------- ONNX


def _session(data: bytes) -> tuple[Any, str]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


def _onnx_proba(output: Any, k: int) -> np.ndarray:
    if isinstance(output, list):  # ZipMap output: a dict per row
        return np.array([[row[j] for j in sorted(row)] for row in output], dtype=float)
    proba = np.asarray(output, dtype=float)
    return proba.reshape(-1, k) if proba.ndim == 1 else proba


def _convert(estimator: Any, n_features: int) -> bytes:
    name = type(estimator).__name__
    if name.startswith("LGBM"):
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType as LgbType

        onx = convert_lightgbm(
            estimator, initial_types=[("x", LgbType([None, n_features]))], zipmap=False
        )
    else:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType

        options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
        onx = to_onnx(
            estimator,
            initial_types=[("x", FloatTensorType([None, n_features]))],
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    return onx.SerializeToString()


def _quantize(data: bytes) -> bytes:
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "m.onnx", Path(tmp) / "q.onnx"
        src.write_bytes(data)
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
        return dst.read_bytes()


def _timed(func: Any, repeat: int = 30) -> float:
    func()
    start = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - start) / repeat


def _try_onnx(
    model: Any, fast: FastModel, task: str, signature: list[dict[str, Any]], quantize: bool
) -> tuple[tuple[Any, str] | None, dict[str, Any]]:
    """Convert the estimator, check parity, time it against the compiled path."""
    if not hasattr(model, "steps"):  # e.g. a CalibratedClassifier: its map is not in ONNX
        return None, {"why_onnx": f"{type(model).__name__} is not converted to ONNX"}
    probes = probe_columns(fast, signature)
    n = len(next(iter(probes.values())))
    x = fast.features(probes, n)
    try:
        data = _convert(model.steps[-1][1], x.shape[1])
        if quantize:
            data = _quantize(data)
        session = _session(data)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return None, {"why_onnx": f"conversion failed: {why}"}
    sess, input_name = session
    outputs = sess.run(None, {input_name: x.astype(np.float32)})
    expected = _reference(model, task, _frame(probes, signature))
    if task == "classification":
        proba = _onnx_proba(outputs[1], len(fast.classes))
        classes = np.asarray(fast.classes, dtype=object)
        got: tuple[Any, np.ndarray | None] = (classes[np.argmax(proba, axis=1)], proba)
    else:
        got = (np.asarray(outputs[0], dtype=float).reshape(-1), None)
    problem = _agree(task, expected, got, ONNX_TOLERANCE)
    if problem:
        return None, {"why_onnx": f"ONNX disagrees with the original ({problem})"}
    one = {k: v[:1] for k, v in probes.items()}
    t_fast = _timed(lambda: fast.predict(one, 1))
    t_onnx = _timed(lambda: sess.run(None, {input_name: fast.features(one, 1).astype(np.float32)}))
    wins = t_onnx < 0.9 * t_fast
    return session, {
        "onnx_bytes": data,
        "onnx_wins": wins,
        "quantized": quantize,
        "why_onnx": f"one row: onnx {t_onnx * 1e3:.3f} ms, compiled {t_fast * 1e3:.3f} ms",
    }
