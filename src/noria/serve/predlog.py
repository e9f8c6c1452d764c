"""The prediction log's writer, under the name it had before :mod:`noria.predlog` (re-exports).

The log is one package below serving and monitoring: :mod:`noria.predlog` (the folder and
names in :mod:`noria.predlog.layout`, the writer in :mod:`noria.predlog.writer`, the readers in
:mod:`noria.predlog.reader`). Import from there.
"""

from __future__ import annotations

from noria.predlog.layout import segment_name
from noria.predlog.reader import read_log
from noria.predlog.writer import LIST_ROWS, SLICE, STALE_SECONDS, PredictionLog

__all__ = ["LIST_ROWS", "SLICE", "STALE_SECONDS", "PredictionLog", "read_log", "segment_name"]
