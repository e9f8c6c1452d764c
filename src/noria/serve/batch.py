"""Batch scoring: a file in, a file of predictions out, streamed in chunks.

The input (CSV, Parquet or JSON) is read by the reader training uses
(:func:`noria.data.sources.iter_frames`), in chunks of ``chunk_rows`` rows; the columns the model
knows are read with the types of its signature, so a value means in scoring what it meant in
training (``yes`` stays ``yes``; ``01234`` stays text where training had text). Each chunk is
checked with the server's rules (:mod:`noria.serve.schema`) and predicted by the same
:class:`~noria.serve.predictor.Predictor`.

Columns of a scoring file:

* the model's columns (a column training dropped may be absent);
* the target, when present: it is not given to the model, it is kept in the output next to the
  prediction, and the metrics it allows are computed over the rows that have it;
* any other column is an error unless it is passed through: ``keep`` names such columns, and
  ``extra="ignore"`` passes every one.

The output has the kept input columns, ``prediction`` and ``proba_<class>`` for classifiers; it
is written to a temporary name and renamed at the end, so a failed run leaves no half file. An
error names the row (counted over the whole file) and the column.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import DataError, UserError, did_you_mean
from noria.serve.schema import InputCounts, Signature

if TYPE_CHECKING:
    from noria.serve.predictor import Predictor

__all__ = ["BatchResult", "score_file", "signature_types"]

_OUTPUTS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".json": "json",
}
_DUCKDB_TYPES = {"numeric": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN"}


@dataclass
class BatchResult:
    """What a scoring run did.

    Attributes:
        rows: Rows scored.
        target: The target column when the file had it, else ``None``.
        labelled: Rows with a target value (the metrics are computed over these).
        metrics: Metric name → value on the labelled rows, or ``{}``.
        metrics_error: Why no metric could be computed from the target, or ``""``.
        passed: Input columns written to the output besides the model's (target, kept).
        counts: Unseen categories, out-of-range and fractional-integer values, per column.
    """

    rows: int = 0
    target: str | None = None
    labelled: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    metrics_error: str = ""
    passed: list[str] = field(default_factory=list)
    counts: InputCounts = field(default_factory=InputCounts)


def _output_format(path: Path) -> str:
    fmt = _OUTPUTS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: unknown file type '{path.suffix}'; use .csv, .parquet or .jsonl")
    return fmt


def signature_types(
    signature: Signature, *, target: str | None = None, task: str = "", classes: Sequence[Any] = ()
) -> dict[str, str]:
    """The DuckDB types to read a scoring CSV's known columns with (the model's own types).

    Numbers are read as ``DOUBLE`` (a fractional value in an integer column is then counted,
    not refused), strings as ``VARCHAR``, booleans as ``BOOLEAN``; dates are left to the reader's
    guess. The target gets the type of the classes (or ``DOUBLE`` for regression).
    """
    types = {n: _DUCKDB_TYPES[k] for n, k in signature.kinds.items() if k in _DUCKDB_TYPES}
    if target:
        if task == "regression":
            types[target] = "DOUBLE"
        elif classes and all(isinstance(c, bool) for c in classes):
            types[target] = "BOOLEAN"
        elif classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
            types[target] = "BIGINT"
        elif classes and all(isinstance(c, str) for c in classes):
            types[target] = "VARCHAR"
    return types


def _chunks(path: Path, chunk_rows: int, types: dict[str, str]) -> Iterator[Any]:
    """pandas frames of at most ``chunk_rows`` rows, read by the training reader."""
    from noria.data.sources import format_of, iter_frames

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if format_of(path) is None:
        raise UserError(
            f"{path}: unknown file type '{''.join(path.suffixes) or '(none)'}'; "
            "use .csv, .parquet or .jsonl"
        )
    for frame in iter_frames(path, chunk_rows=chunk_rows, types=types):
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]


def score_file(
    predictor: Predictor,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
    target: str | None = None,
    keep: Sequence[str] = (),
    extra: str = "reject",
) -> BatchResult:
    """Score every row of ``input_path`` into ``output_path``.

    Args:
        predictor: The loaded model version.
        input_path: A CSV, Parquet or JSON file.
        output_path: ``.csv``, ``.parquet`` or ``.jsonl``.
        chunk_rows: Rows read, checked and predicted at a time.
        progress: Called with the rows of each chunk done.
        target: The model's target column (its ``params["target"]``): dropped from the model's
            input when present, kept in the output, scored against.
        keep: Other input columns to pass through to the output.
        extra: ``"reject"`` an input column that is none of these, or ``"ignore"`` (pass it
            through too).

    Raises:
        UserError: An unreadable or unknown file type, an unknown ``extra``.
        DataError: A row that does not fit the signature (the message names the row and the
            column), an unknown column, a ``keep`` column the file lacks.
    """
    import numpy as np
    import pyarrow as pa

    if extra not in ("reject", "ignore"):
        raise UserError(f"--extra: '{extra}' is not one of reject, ignore")
    source, out_path = Path(input_path), Path(output_path)
    out_format = _output_format(out_path)
    signature = Signature(predictor.model_version.signature, extra_columns="ignore")
    types = signature_types(
        signature, target=target, task=predictor.task, classes=predictor.classes
    )
    known = set(signature.names)
    result = BatchResult()
    truth: list[Any] = []
    predicted: list[Any] = []
    probas: list[Any] = []
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    writer: Any = None
    try:
        for frame in _chunks(source, chunk_rows, types):
            if len(frame) == 0:
                continue
            done = result.rows
            if writer is None:
                result.target, result.passed = _plan_columns(
                    list(map(str, frame.columns)), signature, target, keep, extra, source
                )
            try:
                columns = signature.from_frame(frame, where=str(source))
            except DataError as exc:
                raise DataError(f"{exc} (rows {done}-{done + len(frame) - 1})") from None
            result.counts.add(columns.counts)
            prediction = predictor.predict(columns)
            kept = [str(c) for c in frame.columns if c in known or c in result.passed]
            out = frame[kept].reset_index(drop=True).copy()
            out["prediction"] = prediction.predictions
            if prediction.probabilities is not None:
                for j, label in enumerate(predictor.classes):
                    out[f"proba_{label}"] = prediction.probabilities[:, j]
            if result.target is not None:
                labelled = frame[result.target].notna().to_numpy()
                truth += frame[result.target][labelled].tolist()
                predicted += [p for p, keep_row in zip(prediction.predictions, labelled,
                                                       strict=True) if keep_row]  # fmt: skip
                if prediction.probabilities is not None:
                    probas.append(prediction.probabilities[labelled])
            writer = _write(writer, out, tmp, out_format, pa)
            result.rows += len(frame)
            if progress is not None:
                progress(len(frame))
        if writer is None:
            raise DataError(f"{source}: no rows to score")
        writer.close()
        os.replace(tmp, out_path)
    except BaseException:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        tmp.unlink(missing_ok=True)
        raise
    result.labelled = len(truth)
    if truth:
        proba = np.concatenate(probas) if probas else None
        _score(result, predictor, truth, predicted, proba)
    return result


def _plan_columns(
    names: list[str],
    signature: Signature,
    target: str | None,
    keep: Sequence[str],
    extra: str,
    source: Path,
) -> tuple[str | None, list[str]]:
    """The target (when in the file) and the pass-through columns; raises on unknown ones."""
    present, known = set(names), set(signature.names)
    for name in keep:
        if name not in present:
            raise DataError(
                f"{source}: --keep '{name}': no such column{did_you_mean(name, names)}; "
                f"the file has {', '.join(names)}"
            )
    found = target if target and target in present and target not in known else None
    passed = [found] if found else []
    for name in names:
        if name in known or name == found:
            continue
        if name in keep or extra == "ignore":
            passed.append(name)
        else:
            raise DataError(
                f"{source}: unknown column '{name}'{did_you_mean(name, signature.names)}; the "
                f"model takes {', '.join(signature.names)}; pass --keep {name} to carry it into "
                "the output, or --extra ignore to carry every other column"
            )
    return found, passed


def _score(
    result: BatchResult, predictor: Predictor, truth: list[Any], predicted: list[Any], proba: Any
) -> None:
    """The metrics of the predictions on the rows that have a target (or why there are none)."""
    from noria.evaluate.metrics import compute_metrics

    classes = predictor.classes or None
    if classes is not None:
        unknown = sorted({str(v) for v in truth} - {str(c) for c in classes})
        if unknown:
            result.metrics_error = (
                f"the target column '{result.target}' has values the model never saw as classes "
                f"({', '.join(unknown[:5])}); the model knows {', '.join(map(str, classes))}"
            )
            return
    try:
        result.metrics = compute_metrics(
            predictor.task, truth, predicted, y_proba=proba, classes=classes
        )
    except (DataError, ValueError, TypeError) as exc:
        result.metrics_error = f"cannot compute metrics from '{result.target}': {exc}"


class _TextWriter:
    def __init__(self, path: Path, fmt: str) -> None:
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self.fmt = fmt
        self.first = True

    def write(self, frame: Any) -> None:
        if self.fmt == "csv":
            frame.to_csv(self.fh, index=False, header=self.first)
        else:
            text = frame.to_json(orient="records", lines=True, date_format="iso")
            self.fh.write(text if text.endswith("\n") else text + "\n")
        self.first = False

    def close(self) -> None:
        self.fh.close()


def _write(writer: Any, frame: Any, tmp: Path, fmt: str, pa: Any) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
        writer.write_table(table.cast(writer.schema))
        return writer
    if writer is None:
        writer = _TextWriter(tmp, fmt)
    writer.write(frame)
    return writer
