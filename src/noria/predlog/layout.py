"""Where a prediction log lives and what its files are called: one place for the folder, the
segment names and their order, for the writer (serving) and the readers (monitoring, labels).

A model's log is ``<.noria>/predictions/<model>/`` (:func:`log_folder`); a complete segment is
``segment-<time>-<hash>.parquet`` (:func:`segment_name`: the write's time in nanoseconds, 19
digits, and the XXH3-64 of the file's bytes), written under a temporary name
``.segment-<random>.tmp`` first (:data:`TEMP_GLOB`) and then linked to its name, so a reader
globbing :data:`SEGMENT_GLOB` sees only complete segments. Logs of older versions
(``segment-NNNNNN.parquet``) are still read, and sort first (:func:`segment_paths`).

Not here: writing (:mod:`noria.predlog.writer`), reading (:mod:`noria.predlog.reader`).
"""

from __future__ import annotations

from pathlib import Path

from noria.errors import UserError

__all__ = [
    "SEGMENT_GLOB",
    "TEMP_GLOB",
    "log_folder",
    "segment_name",
    "segment_paths",
    "temp_path",
]

#: The names of complete segments.
SEGMENT_GLOB = "segment-*.parquet"
#: The names of segments being written (never read).
TEMP_GLOB = ".segment-*.tmp"


def log_folder(home: Path, model: str) -> Path:
    """Where the prediction log of ``model`` lives under a project's ``.noria`` folder.

    Raises:
        UserError: ``model`` is not a plain name (a path separator or ``..`` would put the log
            outside ``.noria/predictions``).
    """
    if not model or model in (".", "..") or any(c in model for c in "/\\\0"):
        raise UserError(
            f"'{model}' is not a model name (no '/', '\\' or '..'); `noria models` lists them"
        )
    return Path(home) / "predictions" / model


def segment_name(time_ns: int, data: bytes | memoryview) -> str:
    """The file name of a segment written at ``time_ns`` with these bytes.

    ``segment-<time>-<hash>.parquet``: 19 digits of nanoseconds (names sort by time) and 16 hex
    digits of the bytes' XXH3-64, so two different segments never share a name, whatever was
    deleted and however often the server restarted.
    """
    import xxhash

    return f"segment-{time_ns:019d}-{xxhash.xxh3_64_hexdigest(data)}.parquet"


def temp_path(folder: Path) -> Path:
    """A fresh temporary name for a segment being written in ``folder`` (:data:`TEMP_GLOB`)."""
    import uuid

    return Path(folder) / f".segment-{uuid.uuid4().hex}.tmp"


def _order(path: Path) -> tuple[int, str] | None:
    """Sort key of a segment's name: its time (or number, for older logs); ``None`` if not one."""
    stamp, _, digest = path.stem.removeprefix("segment-").partition("-")
    if not stamp.isdigit() or (digest and not all(c in "0123456789abcdef" for c in digest)):
        return None
    return int(stamp), digest


def segment_paths(folder: Path) -> list[Path]:
    """Every complete segment of a prediction log's folder, oldest first (none if no folder).

    ``segment-<time>-<hash>.parquet`` by time; older logs' ``segment-NNNNNN.parquet`` first.
    """
    keyed = [(key, p) for p in Path(folder).glob(SEGMENT_GLOB) if (key := _order(p))]
    return [p for _, p in sorted(keyed)]
