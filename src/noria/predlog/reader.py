"""Reading a prediction log: its segments as pyarrow tables, and windows of them.

:func:`read_segments` reads the named segments of a log (or all of them), skipping one that
cannot be read (cut off mid-write by a writer that did not use the temporary-name protocol, a
half-copied file) with a warning: it stays unread, to be picked up once it is complete.
:func:`read_log` is the whole log as one table (strict: an unreadable segment raises);
:func:`split_windows` groups segments into windows of at most so many rows.

Not here: which segments a monitor has consumed (:mod:`noria.monitor.logs`), the file names
(:mod:`noria.predlog.layout`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.predlog.layout import segment_paths

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Segment", "read_log", "read_segments", "split_windows"]


@dataclass(frozen=True)
class Segment:
    """One readable segment of a prediction log.

    Attributes:
        name: Its file name (``segment-<time>-<hash>.parquet``).
        table: Its rows (a pyarrow table).
    """

    name: str
    table: pa.Table

    @property
    def rows(self) -> int:
        """Rows of the segment."""
        return int(self.table.num_rows)


def read_segments(
    folder: Path, names: Sequence[str] | None = None
) -> tuple[list[Segment], list[str]]:
    """Read the named segments of a log's folder (every complete one, oldest first, when
    ``names`` is ``None``): ``(readable segments, one warning per unreadable one)``."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    if names is None:
        names = [p.name for p in segment_paths(folder)]
    segments: list[Segment] = []
    warnings: list[str] = []
    for name in names:
        path = folder / name
        try:
            table = pq.read_table(path)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            warnings.append(
                f"{path}: cannot be read ({first}); skipped, it is read once it is complete"
            )
            continue
        segments.append(Segment(name, table))
    return segments, warnings


def read_log(folder: Path) -> Any:
    """Every complete segment of a log as one pyarrow table, oldest first (an empty table when
    there is none).

    Raises:
        OSError: (or pyarrow's error) a segment cannot be read.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = segment_paths(Path(folder))
    if not paths:
        return pa.table({})
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default")


def split_windows(segments: Sequence[Segment], max_rows: int) -> list[list[Segment]]:
    """Group segments, in order, into windows of at most ``max_rows`` rows (whole segments).

    A segment larger than ``max_rows`` is a window on its own.
    """
    windows: list[list[Segment]] = []
    current: list[Segment] = []
    rows = 0
    for segment in segments:
        if current and rows + segment.rows > max_rows:
            windows.append(current)
            current, rows = [], 0
        current.append(segment)
        rows += segment.rows
    if current:
        windows.append(current)
    return windows
