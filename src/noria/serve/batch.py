"""Batch scoring: a file in, a file of predictions out, streamed in chunks.

The input (CSV, Parquet or JSON lines) is read in chunks of ``chunk_rows`` rows — Parquet by
record batches, CSV by pyarrow's streaming reader — each chunk checked against the signature with
the same rules as the server (:mod:`noria.serve.schema`) and predicted by the same
:class:`~noria.serve.predictor.Predictor`. The output keeps the input's columns and adds
``prediction`` (and ``proba_<class>`` for classifiers); it is written to a temporary name and
renamed at the end, so a failed run leaves no half file. An error names the row (counted over
the whole file) and the column.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import DataError, UserError

if TYPE_CHECKING:
    from noria.serve.predictor import Predictor

__all__ = ["score_file"]

_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".json": "json",
}


def _format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: unknown file type '{path.suffix}'; use .csv, .parquet or .jsonl")
    return fmt


def _chunks(path: Path, chunk_rows: int) -> Iterator[Any]:
    """pandas frames of at most ``chunk_rows`` rows."""
    fmt = _format(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        options = pacsv.ReadOptions(block_size=1 << 22)
        reader = pacsv.open_csv(path, read_options=options)
        for batch in reader:
            frame = batch.to_pandas()
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start : start + chunk_rows]
    else:
        import pandas as pd

        yield from pd.read_json(path, lines=True, chunksize=chunk_rows)


def score_file(
    predictor: Predictor,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Score every row of ``input_path`` into ``output_path``; the number of rows.

    Raises:
        UserError: an unreadable or unknown file type. DataError: a row that does not fit the
            signature (the message names the row and the column).
    """
    import pyarrow as pa

    source, target = Path(input_path), Path(output_path)
    out_format = _format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    writer: Any = None
    done = 0
    try:
        for frame in _chunks(source, chunk_rows):
            if len(frame) == 0:
                continue
            try:
                columns = predictor.signature.from_frame(frame, where=str(source))
            except DataError as exc:
                raise DataError(f"{exc} (rows {done}-{done + len(frame) - 1})") from None
            result = predictor.predict(columns)
            out = frame.reset_index(drop=True).copy()
            out["prediction"] = result.predictions
            if result.probabilities is not None:
                for j, label in enumerate(predictor.classes):
                    out[f"proba_{label}"] = result.probabilities[:, j]
            writer = _write(writer, out, tmp, out_format, pa)
            done += len(frame)
            if progress is not None:
                progress(len(frame))
        if writer is None:
            raise DataError(f"{source}: no rows to score")
        writer.close()
        os.replace(tmp, target)
    except BaseException:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return done


class _TextWriter:
    def __init__(self, path: Path, fmt: str) -> None:
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self.fmt = fmt
        self.first = True

    def write(self, frame: Any) -> None:
        if self.fmt == "csv":
            frame.to_csv(self.fh, index=False, header=self.first)
        else:
            text = frame.to_json(orient="records", lines=True)
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
