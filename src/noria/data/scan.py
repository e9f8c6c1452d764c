"""What DuckDB scans: a file, a folder, a glob or a frame opened as one SQL relation.

:func:`open_source` makes data scannable on a DuckDB connection (files through DuckDB's readers,
with the one CSV dialect training uses; a pandas DataFrame or Arrow table registered as a view)
and returns a :class:`DataSource`: the relation's SQL, its columns and types, and a label that
names it in messages. Every reader error becomes a one-line :class:`~noria.errors.DataError`
that names the file and the fix. :func:`run_query` runs a query over a source the same way, and
:func:`quote` quotes a column name.

The profile (:mod:`noria.data.profiling`), validation (:mod:`noria.data.validate`) and the
uniqueness counts (:mod:`noria.data.uniques`) all scan through here.

Not here: finding files and sniffing CSV dialects (:mod:`noria.data.sources`), reading data
into pandas (:func:`noria.data.sources.read_source`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import DataError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["DataSource", "error_line", "open_source", "quote", "read_error", "run_query"]


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class DataSource:
    """A dataset DuckDB can scan: the SQL of its relation and how to name it in messages.

    Attributes:
        relation: A SQL table expression (``read_parquet([...])``, or a registered view).
        label: The file (or ``"N files under …"`` / ``"the data frame"``) for messages.
        columns: ``(name, DuckDB type)`` of every column, in order.
        files: The files read (empty for a frame).
        numbered: The relation with ``__file`` and ``__row`` columns added (Parquet: the file
            and the 0-based row in it), for fetching example rows; ``""`` when only a window
            ``row_number()`` can number the rows (CSV, JSON, frames).
    """

    relation: str
    label: str
    columns: tuple[tuple[str, str], ...]
    files: tuple[Path, ...] = ()
    numbered: str = ""

    @property
    def names(self) -> list[str]:
        """The column names."""
        return [name for name, _ in self.columns]


_FRAME_VIEW = "__noria_frame"


def open_source(
    con: duckdb.DuckDBPyConnection,
    data: str | Path | pd.DataFrame | Any,
    *,
    format: str = "auto",
    base: Path | None = None,
) -> DataSource:
    """Make ``data`` scannable on ``con``: files through DuckDB's readers, a frame registered.

    Args:
        con: A DuckDB connection (the frame is registered on it as a view).
        data: A file, folder or glob (as :func:`noria.data.sources.resolve_files` takes it),
            a pandas DataFrame or a pyarrow Table.
        format: ``auto``, ``csv``, ``parquet`` or ``json``.
        base: The folder a relative path is relative to.

    Raises:
        DataError: The file is missing, empty, corrupt or truncated, has a ragged row, is not
            UTF-8, has a duplicate column name, or has no rows (the message names the file).
    """
    import duckdb as _duckdb

    from noria.data import sources as src

    if not isinstance(data, str | Path):
        con.register(_FRAME_VIEW, data)
        described = con.execute(f"DESCRIBE SELECT * FROM {_FRAME_VIEW}").fetchall()
        return DataSource(_FRAME_VIEW, "the data frame", tuple((r[0], r[1]) for r in described))

    if format not in src.FORMATS:
        raise DataError(f"unknown format '{format}'; use one of {', '.join(src.FORMATS)}")
    files = src.resolve_files(str(data), base=base)
    fmt = src.decide_format(files, format, str(data))
    for file in files:
        if file.stat().st_size == 0:
            raise DataError(f"{file}: the file is empty (0 bytes); add data or use another file")
    listing = "[" + ", ".join(src.sql_str(str(f)) for f in files) + "]"
    label = str(files[0]) if len(files) == 1 else f"{len(files)} files ({files[0]}, …)"
    numbered = ""
    if fmt == "parquet":
        for file in files:
            try:
                names = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                        [str(file)],
                    ).fetchall()
                ]
            except _duckdb.Error as exc:
                raise DataError(
                    f"{file}: not a valid Parquet file (corrupt or truncated: "
                    f"{src.one_line(str(exc))}); write it again"
                ) from exc
            if any(re.search(r"_\d+$", n) for n in names):  # DuckDB renames duplicates a_1
                src.check_parquet_duplicates(file, names)
        relation = f"read_parquet({listing}, union_by_name=true)"
        numbered = (
            f"(SELECT * RENAME (file_row_number AS __row, filename AS __file) FROM "
            f"read_parquet({listing}, union_by_name=true, file_row_number=true, filename=true))"
        )
    elif fmt == "csv":
        relation, delimiters = src.csv_relation(files)  # one reader: training's dialect, types
        try:  # the sniffer and strict mode run over the whole file here: ragged rows, bad bytes
            con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        except _duckdb.Error as exc:
            raise DataError(src.diagnose_csv(files, delimiters, str(exc))) from exc
    else:
        relation = f"read_json_auto({listing}, union_by_name=true)"
        try:
            con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        except _duckdb.Error as exc:
            raise DataError(src.diagnose_json(files, str(exc))) from exc
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except _duckdb.Error as exc:
        raise DataError(f"{label}: cannot be read: {src.one_line(str(exc))}") from exc
    columns = tuple((r[0], r[1]) for r in described)
    return DataSource(relation, label, columns, tuple(files), numbered)


def error_line(exc: BaseException) -> str:
    """The first meaningful line of a DuckDB error, without its ``... Error:`` prefix."""
    from noria.data import sources as src

    return src.one_line(str(exc))


def read_error(source: DataSource, exc: BaseException) -> DataError:
    """The one-line :class:`DataError` of a DuckDB error met while scanning ``source``."""
    return DataError(
        f"{source.label}: cannot be read ({error_line(exc)}); if it is a Parquet "
        "file it may be corrupt or truncated: write it again"
    )


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, source: DataSource
) -> list[tuple[Any, ...]]:
    """Run ``sql``; a DuckDB error becomes a :class:`DataError` naming the source."""
    import duckdb as _duckdb

    try:
        return con.execute(sql).fetchall()
    except _duckdb.Error as exc:
        raise read_error(source, exc) from exc
