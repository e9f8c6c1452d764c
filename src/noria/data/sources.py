"""Read the data a project names in ``data.source``: CSV, Parquet or JSON, one file or many.

:func:`resolve_files` turns a source (a file, a directory or a glob, relative to the project) into
the sorted list of files it names; :func:`read_source` reads them through an in-memory DuckDB
connection into one pandas DataFrame (several files are unioned by column name).

Every failure a user can cause is a :class:`~noria.errors.DataError` with a one-line message that
names the file (and the row or column where known) and the fix; DuckDB's own errors never reach
the user. Decisions worth knowing:

* CSV is read strictly (``strict_mode=true, null_padding=false``) with an explicit header and a
  delimiter taken from the header line (``,``, tab, ``;`` or ``|``; tab for ``.tsv``), so a ragged
  row is an error instead of a silently re-sniffed dialect or padded NULLs. ``#`` is not a comment
  marker (DuckDB's sniffer would otherwise drop rows starting with ``#``). All CSV files of one
  source must share the delimiter.
* Values keep the form they have in the file: DuckDB may guess integers, decimals, dates and
  timestamps for a CSV column, never booleans or times of day (:data:`CSV_TYPES`), so a column of
  ``yes``/``no`` (or ``Y``/``N``, ``T``/``F``, ``true``/``false``) stays text and a model trained
  on it answers ``yes``/``no``. Dates and timestamps only in ISO 8601 (``2021-03-04``): DuckDB
  guesses one other format per file from its first rows (``04/03/2021`` could be the 4th of
  March in one file and the 3rd of April in the next), so any other written date stays text
  here and the model's features decide its formats once, on the training data, and keep them
  with the model (:mod:`noria.dates`). Training, validation, batch scoring and the
  server all read through this module, so one file gives one set of column types everywhere.
* The dialect is read from the file: the delimiter from the header line, and a decimal comma
  (``1,5``) when the delimiter is not ``,`` and the numbers of the first lines use one.
* A spreadsheet (``.xlsx``, ``.xls``, ``.ods``) or a Parquet file with a ``.csv`` name is named as
  such, with the way to export a CSV, instead of a confusing encoding error.
* Parquet (or JSON) columns of lists, structs or maps are refused with the column's name: a model
  cannot use them, and scoring could not read them back.
* Duplicate column names are an error (DuckDB would silently rename the second ``a`` to ``a_1``).
* A file with a header and no rows, or an empty JSON array, is an error ("has no data rows").
* Compressed files (``.csv.gz``, ``.jsonl.zst``, …) are read by DuckDB as they are.

:func:`iter_frames` streams one file in chunks (batch scoring) with the same rules, reading the
columns a model knows with the types it was trained on.

The helpers other readers of the same files share (the profile's scan, the validator) are public
here: :func:`decide_format`, :func:`sql_str`, :func:`one_line`, :func:`check_parquet_duplicates`,
:func:`diagnose_csv` and :func:`diagnose_json`.

Not here: fingerprinting files (``fingerprint_files``), validation against a schema, profiling,
databases and remote URLs.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import itertools
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from noria.errors import ConfigError, DataError, did_you_mean

__all__ = [
    "CSV_TYPES",
    "FORMATS",
    "CsvDialect",
    "check_parquet_duplicates",
    "columns_of",
    "csv_dialect",
    "csv_relation",
    "decide_format",
    "diagnose_csv",
    "diagnose_json",
    "format_of",
    "iter_frames",
    "one_line",
    "read_source",
    "resolve_files",
    "sql_str",
]

#: The values ``data.format`` accepts.
FORMATS: tuple[str, ...] = ("auto", "csv", "parquet", "json")

_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_COMPRESSIONS: tuple[str, ...] = (".gz", ".gzip", ".zst")
_DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_HINT = "check `data.source` in noria.yaml"
#: The types DuckDB may guess for a CSV column. No BOOLEAN: ``yes``/``no``, ``T``/``F`` and
#: ``true``/``false`` stay the text they are in the file; no TIME: a time of day stays text.
CSV_TYPES: tuple[str, ...] = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR")
_GLOB_CHARS = re.compile(r"[*?\[]")


def format_of(path: Path) -> str | None:
    """The format a file's extension implies, ignoring a compression suffix.

    Args:
        path: A file path such as ``data/train.csv`` or ``events.jsonl.gz``.

    Returns:
        ``"csv"``, ``"parquet"`` or ``"json"``, or ``None`` for an unknown extension.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes = suffixes[:-1]
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def resolve_files(source: str, *, base: Path | None = None) -> list[Path]:
    """The files a data source names, sorted.

    Args:
        source: A file path, a directory (every CSV, Parquet or JSON file inside it, recursively;
            hidden files and names starting with ``_`` such as ``_SUCCESS`` are skipped) or a glob
            such as ``data/*.csv`` or ``data/**/*.parquet``. ``~`` is expanded.
        base: The folder a relative ``source`` is relative to (the project root); the current
            directory when ``None``.

    Returns:
        The matching files as absolute paths, sorted.

    Raises:
        DataError: The source is empty, nothing matches, the file does not exist, or a file is
            not readable.
    """
    if not source or not source.strip():
        raise DataError(f"`data.source` is empty; {_HINT} and set it to a file, folder or glob")
    root = Path(base).expanduser() if base is not None else Path.cwd()
    if not root.is_absolute():
        root = Path.cwd() / root
    expanded = os.path.expanduser(source.strip())
    absolute = Path(expanded).is_absolute()
    path = Path(expanded) if absolute else root / expanded

    if _GLOB_CHARS.search(expanded):
        pattern = expanded if absolute else os.path.join(glob.escape(str(root)), expanded)
        files = sorted(Path(m) for m in glob.glob(pattern, recursive=True) if os.path.isfile(m))
        if not files:
            raise DataError(f"no file matches '{source}' (looked for {pattern}); {_HINT}")
    elif path.is_dir():
        files = sorted(
            f
            for f in path.rglob("*")
            if f.is_file()
            and format_of(f) is not None
            and not any(part.startswith((".", "_")) for part in f.relative_to(path).parts)
        )
        if not files:
            raise DataError(
                f"folder '{path}' (from '{source}') has no CSV, Parquet or JSON file; {_HINT}"
            )
    elif path.exists():
        if not path.is_file():
            raise DataError(f"'{path}' (from '{source}') is not a regular file; {_HINT}")
        files = [path]
    else:
        hint = ""
        if path.parent.is_dir():
            hint = did_you_mean(path.name, [p.name for p in path.parent.iterdir()])
        raise DataError(f"file '{path}' (from '{source}') does not exist{hint}; {_HINT}")

    for file in files:
        if not os.access(file, os.R_OK):
            raise DataError(
                f"file '{file}' is not readable (permission denied); fix its permissions or {_HINT}"
            )
    return files


def read_source(source: str, *, format: str = "auto", base: Path | None = None) -> pd.DataFrame:
    """Read the file or files a source names into one DataFrame.

    Args:
        source: A file, folder or glob, as :func:`resolve_files` takes it.
        format: ``"csv"``, ``"parquet"``, ``"json"`` (JSON lines or a JSON array), or ``"auto"``
            to decide from the files' extensions (``.csv``/``.tsv``/``.txt``,
            ``.parquet``/``.pq``, ``.json``/``.jsonl``/``.ndjson``).
        base: The folder a relative ``source`` is relative to.

    Returns:
        The rows of all files (several files are unioned by column name; a column missing from
        one file is null there), with the column names as they are in the files.

    Raises:
        ConfigError: ``format`` is not one of :data:`FORMATS`.
        DataError: A file is missing, empty, has no data rows, has a ragged row, is not UTF-8,
            is a spreadsheet or a corrupt Parquet file, has a duplicate column name or a column
            of lists, structs or maps, or is otherwise unreadable; files of different formats;
            an unknown extension with ``format="auto"``.
    """
    files, fmt = _files_and_format(source, format, base)
    con = duckdb.connect()
    try:
        relation = _relation(con, files, fmt)
        df = _fetch_all(con, relation, files, fmt)
    finally:
        con.close()

    if len(df) == 0:
        where = str(files[0]) if len(files) == 1 else f"'{source}' ({len(files)} files)"
        only = " (only a header)" if fmt == "csv" else ""
        raise DataError(f"{where}: has no data rows{only}; add rows or {_HINT}")
    return df


def iter_frames(
    path: str | os.PathLike[str],
    *,
    chunk_rows: int = 50_000,
    types: Mapping[str, str] | None = None,
    format: str = "auto",
) -> Iterator[pd.DataFrame]:
    """Stream one file as DataFrames of ``chunk_rows`` rows, read as :func:`read_source` reads.

    Args:
        path: The file (CSV, Parquet or JSON; compressed CSV and JSON too).
        chunk_rows: Rows per frame (rounded up to DuckDB's vectors of 2,048 rows).
        types: DuckDB types of columns whose type is known (a model's signature): a CSV column
            is read as that type instead of a guess from this file's first rows, so ``01234``
            stays text where the training file had text. Names the file lacks are skipped.
        format: As in :func:`read_source`.

    Raises:
        DataError: As :func:`read_source`; a value that is not of its column's known type (the
            message names the column, the value and the line).
    """
    files, fmt = _files_and_format(str(path), format, None)
    vectors = max(1, -(-chunk_rows // 2048))
    con = duckdb.connect()
    try:
        relation = _relation(con, files, fmt, types=types)
        try:
            result = con.execute(f"SELECT * FROM {relation}")
            while True:
                frame = result.fetch_df_chunk(vectors)
                if len(frame) == 0:
                    break
                yield frame
        except duckdb.Error as exc:
            raise DataError(_read_error(files, fmt, str(exc), types)) from exc
    finally:
        con.close()


def columns_of(source: str, *, format: str = "auto", base: Path | None = None) -> list[str]:
    """The column names of a source's files (from the header or the schema; nothing else read)."""
    files, fmt = _files_and_format(source, format, base)
    con = duckdb.connect()
    try:
        relation = _relation(con, files, fmt)
        return [str(r[0]) for r in _describe(con, relation, files, fmt)]
    finally:
        con.close()


def _files_and_format(source: str, format: str, base: Path | None) -> tuple[list[Path], str]:
    if format not in FORMATS:
        raise ConfigError(
            f"`data.format`: unknown format '{format}'{did_you_mean(format, FORMATS)}; "
            f"use one of {', '.join(FORMATS)}"
        )
    files = resolve_files(source, base=base)
    fmt = decide_format(files, format, source)
    for file in files:
        if file.stat().st_size == 0:
            raise DataError(f"{file}: the file is empty (0 bytes); add data or {_HINT}")
    return files, fmt


def _relation(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    fmt: str,
    *,
    types: Mapping[str, str] | None = None,
) -> str:
    """The DuckDB table expression that reads ``files`` (checked: header, dialect, nesting)."""
    listing = "[" + ", ".join(sql_str(str(f)) for f in files) + "]"
    if fmt == "csv":
        return csv_relation(files, types=types)[0]
    if fmt == "parquet":
        for file in files:
            try:
                top = con.execute(
                    "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))", [str(file)]
                ).fetchall()
            except duckdb.Error as exc:
                raise DataError(
                    f"{file}: not a valid Parquet file (corrupt or truncated: "
                    f"{one_line(str(exc))}); write it again or {_HINT}"
                ) from exc
            check_parquet_duplicates(file, [name for (name,) in top])
        relation = f"read_parquet({listing}, union_by_name=true)"
    else:
        relation = f"read_json_auto({listing}, union_by_name=true)"
    _check_flat(_describe(con, relation, files, fmt), files)
    return relation


def _describe(
    con: duckdb.DuckDBPyConnection, relation: str, files: list[Path], fmt: str
) -> list[tuple[Any, ...]]:
    try:
        return con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise DataError(_read_error(files, fmt, str(exc), None)) from exc


def _fetch_all(
    con: duckdb.DuckDBPyConnection, relation: str, files: list[Path], fmt: str
) -> pd.DataFrame:
    try:
        return con.sql(f"SELECT * FROM {relation}").df()
    except duckdb.Error as exc:
        raise DataError(_read_error(files, fmt, str(exc), None)) from exc


def _read_error(files: list[Path], fmt: str, message: str, types: Mapping[str, str] | None) -> str:
    """A one-line explanation of a DuckDB error while reading ``files``."""
    if fmt == "csv":
        cast = re.search(r"Could not convert string \"(.*?)\" to '?(\w+)'?", message)
        column = re.search(r'(?:column|Column) "?([^"\s]+)"?', message)
        line = re.search(r"Line:\s*(\d+)", message)
        if cast and types:
            where = f" line {line.group(1)}" if line else ""
            name = f" column '{column.group(1)}'" if column else ""
            want = _TYPE_WORDS.get(cast.group(2), cast.group(2))
            return (
                f"{files[0]}{where}{name}: '{cast.group(1)}' is not {want} as the column was in "
                "the training data; fix the value (or leave it empty for a missing one)"
            )
        dialects = {f: csv_dialect(f)[0].delimiter for f in files}
        return diagnose_csv(files, dialects, message)
    if fmt == "parquet":
        return (
            f"{_culprit(files, message)}: cannot read the Parquet data: {one_line(message)}; "
            f"write the file again or {_HINT}"
        )
    return diagnose_json(files, message)


_TYPE_WORDS = {
    "DOUBLE": "a number",
    "BIGINT": "a whole number",
    "BOOLEAN": "true or false",
    "TIMESTAMP": "a date and time",
    "DATE": "a date",
}


def _check_flat(described: list[tuple[Any, ...]], files: list[Path]) -> None:
    """Refuse a column of lists, structs or maps, naming it (a model cannot use one)."""
    for name, dtype, *_ in described:
        upper = str(dtype).upper()
        kind = (
            "struct" if upper.startswith("STRUCT") else
            "map" if upper.startswith("MAP") else
            "union" if upper.startswith("UNION") else
            "list" if upper.endswith("]") else None
        )  # fmt: skip
        if kind is None:
            continue
        where = str(files[0]) if len(files) == 1 else f"{files[0]} (one of {len(files)} files)"
        raise DataError(
            f"{where}: column '{name}' holds {kind} values ({dtype}); noria reads flat columns "
            "only: write its parts as columns of their own (or as one JSON string), or leave the "
            "column out of the file"
        )


# --------------------------------------------------------------------------------------- format


def decide_format(files: list[Path], format: str, source: str) -> str:
    """The one format of ``files``: ``format`` itself, or the one their extensions imply.

    Raises:
        DataError: An extension that implies no format, or files of different formats.
    """
    if format != "auto":
        return format
    found: dict[str, Path] = {}
    for file in files:
        fmt = format_of(file)
        if fmt is None:
            raise DataError(
                f"{file}: unknown file type '{''.join(file.suffixes) or '(no extension)'}'; "
                "use a .csv, .parquet or .json file, or set `data.format` in noria.yaml"
            )
        found.setdefault(fmt, file)
    if len(found) > 1:
        listing = ", ".join(f"{fmt} ({path.name})" for fmt, path in found.items())
        raise DataError(
            f"'{source}' mixes file formats: {listing}; all files of a source must have one "
            f"format, {_HINT}"
        )
    return next(iter(found))


def sql_str(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def one_line(message: str) -> str:
    """The first meaningful line of a DuckDB error, without its ``... Error:`` prefix."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), message)
    return re.sub(r"^[A-Za-z ]*Error:\s*", "", first).rstrip(". ")


# ------------------------------------------------------------------------------------------ CSV


def _open_text_bytes(path: Path) -> io.BufferedIOBase:
    """``path`` opened for reading bytes, decompressing gzip."""
    if path.suffix.lower() in (".gz", ".gzip"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # the caller closes it


class _NotUtf8(Exception):
    """A line of a text file that is not UTF-8."""

    def __init__(self, line: int, error: UnicodeDecodeError) -> None:
        super().__init__(line, error)
        self.line = line
        self.error = error


def _utf8_lines(raw: io.BufferedIOBase) -> Iterator[str]:
    """The lines of a byte stream decoded as UTF-8 (a BOM dropped); raises :class:`_NotUtf8`."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for number, line in enumerate(raw, start=1):
        try:
            yield decoder.decode(line)
        except UnicodeDecodeError as exc:
            raise _NotUtf8(number, exc) from None


def _not_utf8_message(path: Path, exc: _NotUtf8) -> str:
    bad = exc.error.object[exc.error.start : exc.error.start + 1]
    return (
        f"{path}: line {exc.line} is not valid UTF-8 (byte 0x{bad.hex()} at position "
        f"{exc.error.start + 1}); save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
    )


_EXPORT = (
    "open it in Excel or LibreOffice Calc and save it with File > Save As > CSV UTF-8, or run "
    "`python -c \"import pandas as pd; pd.read_excel('{path}').to_csv('{stem}.csv', "
    'index=False)"`'
)


def _check_text(path: Path) -> None:
    """Refuse a file that is not text at all: a spreadsheet, a zip archive, a Parquet file."""
    if path.suffix.lower() in _COMPRESSIONS:
        return
    with open(path, "rb") as fh:
        magic = fh.read(8)
    what = None
    if magic.startswith(b"PK\x03\x04"):
        what = "a zip archive"
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            names = set()
        if "xl/workbook.xml" in names:
            what = "an Excel workbook (.xlsx, a zip archive)"
        elif "content.xml" in names:
            what = "an OpenDocument spreadsheet (.ods, a zip archive)"
    elif magic.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        what = "an old Excel workbook (.xls)"
    elif magic.startswith(b"PAR1"):
        raise DataError(
            f"{path}: this is a Parquet file, not CSV text, although its name ends in "
            f"'{path.suffix}'; rename it to .parquet or set `data.format: parquet` in noria.yaml"
        )
    if what is None:
        return
    if what == "a zip archive":
        fix = "unzip it and point `data.source` at the CSV file inside"
    else:
        fix = _EXPORT.format(path=path, stem=path.with_suffix(""))
    raise DataError(
        f"{path}: this is {what}, not a CSV file, although its name ends in '{path.suffix}'; {fix}"
    )


def _header(path: Path) -> tuple[str, list[str]]:
    """The delimiter and the column names of a CSV file, from its first line.

    The delimiter is tab for ``.tsv``, else whichever of ``,``, tab, ``;`` and ``|`` splits the
    header into the most fields (``,`` on a tie). A zstd file is not opened here: ``,``, no names.
    """
    name = path.name.lower().removesuffix(".gz").removesuffix(".gzip").removesuffix(".zst")
    tsv = name.endswith(".tsv")
    if path.suffix.lower() == ".zst":
        return ("\t" if tsv else ","), []
    _check_text(path)
    with _open_text_bytes(path) as raw:
        try:
            first = next(_utf8_lines(raw), "").rstrip("\r\n")
        except _NotUtf8 as exc:
            raise DataError(_not_utf8_message(path, exc)) from None
    best, best_fields = "", []
    for delimiter in ("\t",) if tsv else _DELIMITERS:
        fields = next(csv.reader([first], delimiter=delimiter), [])
        if len(fields) > len(best_fields):
            best, best_fields = delimiter, fields
    return best or ",", [f.strip() for f in best_fields]


def _check_duplicates(path: Path, columns: list[str]) -> None:
    counts = Counter(columns)
    dups = [name for name, n in counts.items() if n > 1]
    if dups:
        name = dups[0]
        raise DataError(
            f"{path}: column '{name}' appears {counts[name]} times in the header; "
            "rename or remove the duplicates"
        )


#: Cell values read as missing, as pandas' ``read_csv`` does by default (R writes ``NA``).
NULL_STRINGS = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "<NA>", "#N/A")


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: its delimiter and its decimal mark (``.`` or ``,``)."""

    delimiter: str = ","
    decimal: str = "."


def csv_dialect(path: Path) -> tuple[CsvDialect, list[str]]:
    """The dialect and the column names of a CSV file, from its first lines.

    The delimiter is tab for ``.tsv``, else whichever of ``,``, tab, ``;`` and ``|`` splits the
    header into the most fields (``,`` on a tie). The decimal mark is ``,`` when the delimiter is
    not ``,`` and the fields of the first lines have numbers with a comma (``1,5``) and none with
    a point (``1.5``).

    Raises:
        DataError: The file is a spreadsheet, a zip or a Parquet file, or is not UTF-8.
    """
    delimiter, names = _header(path)
    return CsvDialect(delimiter, _decimal(path, delimiter)), names


_COMMA_NUMBER = re.compile(r"^\s*[+-]?\d*,\d+\s*$")
_POINT_NUMBER = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")


def _decimal(path: Path, delimiter: str, lines: int = 500) -> str:
    if delimiter == "," or path.suffix.lower() == ".zst":
        return "."
    comma = point = 0
    with _open_text_bytes(path) as raw:
        try:
            head = list(itertools.islice(_utf8_lines(raw), lines + 1))
        except _NotUtf8:
            return "."
    for fields in csv.reader(head[1:], delimiter=delimiter):
        for field in fields:
            if _COMMA_NUMBER.match(field):
                comma += 1
            elif _POINT_NUMBER.match(field):
                point += 1
    return "," if comma and not point else "."


def _csv_options(delimiter: str, decimal: str = ".") -> str:
    # comment='' because DuckDB otherwise sniffs '#' as a comment marker and drops such rows
    nulls = "[" + ", ".join(sql_str(v) for v in NULL_STRINGS) + "]"
    candidates = "[" + ", ".join(sql_str(t) for t in CSV_TYPES) + "]"
    return (
        f"header=true, delim={sql_str(delimiter)}, quote='\"', escape='\"', comment='', "
        f"skip=0, strict_mode=true, null_padding=false, union_by_name=true, nullstr={nulls}, "
        f"auto_type_candidates={candidates}, decimal_separator={sql_str(decimal)}, "
        "dateformat='%Y-%m-%d'"
    )


#: Files sniffed for timestamps in a format other than ISO 8601 (the first ones of a source).
_SNIFFED_FILES = 8


def _text_timestamps(files: list[Path], options: str) -> set[str]:
    """Columns DuckDB would read as timestamps in a format other than ISO 8601 (day and month
    as numbers, guessed from the first rows of one file): they are read as text instead, and the
    features' date rules decide them once, for the model (:mod:`noria.dates`)."""
    sniff = options.replace(", union_by_name=true", "")
    out: set[str] = set()
    con = duckdb.connect()
    try:
        for file in files[:_SNIFFED_FILES]:
            if file.suffix.lower() == ".zst":
                continue
            try:
                ((columns, stamp),) = con.execute(
                    f"SELECT Columns, TimestampFormat FROM sniff_csv({sql_str(str(file))}, "
                    f"{sniff})"
                ).fetchall()
            except duckdb.Error:
                continue  # the read itself says what is wrong
            if stamp and not str(stamp).startswith("%Y"):
                out |= {c["name"] for c in columns if c["type"] == "TIMESTAMP"}
    finally:
        con.close()
    return out


def csv_relation(
    files: list[Path], *, types: Mapping[str, str] | None = None
) -> tuple[str, dict[Path, str]]:
    """The DuckDB ``read_csv(…)`` expression for ``files``, and each file's delimiter.

    Every file's header is checked (no duplicate names; one dialect for all files).

    Args:
        files: The CSV files of one source.
        types: DuckDB types of known columns (see :func:`iter_frames`).

    Raises:
        DataError: A duplicate column name, files of different dialects, a file that is not a
            CSV file (a spreadsheet, a zip, Parquet), or not UTF-8.
    """
    dialects: dict[Path, CsvDialect] = {}
    names: list[str] = []
    for file in files:
        dialect, columns = csv_dialect(file)
        _check_duplicates(file, columns)
        dialects[file] = dialect
        names = names or columns
    first = files[0]
    for file in files[1:]:
        if dialects[file].delimiter != dialects[first].delimiter:
            raise DataError(
                f"{file} is separated by {_shown(dialects[file].delimiter)} but {first} by "
                f"{_shown(dialects[first].delimiter)}; all CSV files of a source must use one "
                "delimiter"
            )
    decimal = "," if all(d.decimal == "," for d in dialects.values()) else "."
    listing = "[" + ", ".join(sql_str(str(f)) for f in files) + "]"
    options = _csv_options(dialects[first].delimiter, decimal)
    known = {name: t for name, t in (types or {}).items() if name in set(names)}
    for name in _text_timestamps(files, options):
        known.setdefault(name, "VARCHAR")
    if known:
        listed = ", ".join(f"{sql_str(n)}: {sql_str(t)}" for n, t in known.items())
        options += f", types={{{listed}}}"
    return f"read_csv({listing}, {options})", {f: d.delimiter for f, d in dialects.items()}


def _shown(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else f"'{delimiter}'"


def _scan_csv(path: Path, delimiter: str) -> str | None:
    """Find the first ragged row, unclosed quote or non-UTF-8 line of a CSV file in Python.

    Runs only after DuckDB failed, to say where; ``None`` when it finds nothing.
    """
    if path.suffix.lower() == ".zst":
        return None
    quotes = {"count": 0, "opened": 0}

    def counted(lines: Iterator[str]) -> Iterator[str]:
        for number, text in enumerate(lines, start=1):
            count = text.count('"')
            if quotes["count"] % 2 == 0 and count % 2 == 1:
                quotes["opened"] = number
            quotes["count"] += count
            yield text

    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with _open_text_bytes(path) as raw:
            reader = csv.reader(counted(_utf8_lines(raw)), delimiter=delimiter, strict=False)
            header = next(reader, None)
            if header is None:
                return None
            width, row, previous = len(header), 0, reader.line_num
            for fields in reader:
                start, previous = previous + 1, reader.line_num
                if not fields:  # a blank line
                    continue
                row += 1
                if len(fields) != width:
                    plural = "field" if len(fields) == 1 else "fields"
                    if start == previous:
                        lines = f"line {start}"
                        hint = f"quote values that contain {_shown(delimiter)}"
                    else:
                        lines = f"lines {start}-{previous}"
                        hint = f'look for an unclosed quote (") on line {start}'
                    return (
                        f"{path}: row {row} ({lines}) has {len(fields)} {plural}, the header has "
                        f"{width}; fix the row ({hint}) or remove it"
                    )
        if quotes["count"] % 2:
            return (
                f'{path}: line {quotes["opened"]} opens a quote (") that is never closed; '
                "close or remove it"
            )
    except _NotUtf8 as exc:
        return _not_utf8_message(path, exc)
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(old_limit)
    return None


def diagnose_csv(files: list[Path], delimiters: dict[Path, str], message: str) -> str:
    """A one-line explanation of why DuckDB could not read CSV ``files``.

    Args:
        files: The CSV files of the read.
        delimiters: Each file's delimiter (as :func:`csv_relation` returns them).
        message: DuckDB's error message.

    Returns:
        A message naming the file (and the row, line or byte where found) and the fix: a ragged
        row, an unclosed quote and a line that is not UTF-8 are found by scanning the files.
    """
    for file in files:
        found = _scan_csv(file, delimiters[file])
        if found:
            return found
    culprit = files[0]
    named = re.search(r"file\s*=\s*(.+)", message)
    if named:
        culprit = next((f for f in files if str(f) == named.group(1).strip()), culprit)
    line = re.search(r"CSV Error on Line:\s*(\d+)", message)
    where = f" (line {line.group(1)})" if line else ""
    if "not utf-8" in message.lower() or "invalid unicode" in message.lower():
        return (
            f"{culprit}{where}: the file is not valid UTF-8; save it as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
        )
    if "sniffing" in message.lower():
        return (
            f"{culprit}: cannot parse it as CSV separated by {_shown(delimiters[culprit])}; look "
            "for stray quotes or delimiters, or set `data.format` in noria.yaml"
        )
    return (
        f"{culprit}{where}: cannot read it as CSV: {one_line(message)}; fix the file or set "
        "`data.format` in noria.yaml"
    )


# -------------------------------------------------------------------------------------- Parquet


def check_parquet_duplicates(file: Path, described: list[str]) -> None:
    """Raise on duplicate column names, which DuckDB renames (``a``, ``a_1``) when reading."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(file).names
    except Exception:  # pyarrow disagrees with DuckDB: trust DuckDB, which read the schema
        names = described
    _check_duplicates(file, list(names))


def _culprit(files: list[Path], message: str) -> str:
    """The file a DuckDB error message names, else the first file (or the count of files)."""
    for file in files:
        if str(file) in message or file.name in message:
            return str(file)
    return str(files[0]) if len(files) == 1 else f"{files[0]} (one of {len(files)} files)"


# ----------------------------------------------------------------------------------------- JSON


def diagnose_json(files: list[Path], message: str) -> str:
    """A one-line explanation of why DuckDB could not read JSON ``files`` (from its ``message``).

    Names the file and the line or record, a duplicate key, or the first line that is not UTF-8.
    """
    culprit = files[0]
    named = re.search(r'in file "([^"]+)"', message)
    if named:
        culprit = next((f for f in files if str(f) == named.group(1)), Path(named.group(1)))
    where = ""
    line = re.search(r"in line (\d+)", message)
    record = re.search(r"record/value (\d+)", message)
    if line:
        where = f" (line {line.group(1)})"
    elif record:
        where = f" (record {record.group(1)})"
    duplicate = re.search(r'duplicate key "([^"]+)"', message)
    if duplicate:
        return (
            f"{culprit}{where}: key '{duplicate.group(1)}' appears twice in one record; "
            "remove the duplicate key"
        )
    if "utf-8" in message.lower() or "unicode" in message.lower():
        if culprit.exists() and culprit.suffix.lower() != ".zst":
            try:
                with _open_text_bytes(culprit) as raw:
                    for _ in _utf8_lines(raw):
                        pass
            except _NotUtf8 as exc:
                return _not_utf8_message(culprit, exc)
        return f"{culprit}{where}: the file is not valid UTF-8; save it as UTF-8"
    return (
        f"{culprit}{where}: cannot read it as JSON lines or a JSON array: {one_line(message)}; "
        "fix the file or set `data.format` in noria.yaml"
    )
