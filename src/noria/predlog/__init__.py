"""The prediction log: every served prediction, in append-only Parquet segments per model.

One package below both serving (which writes it) and monitoring (which reads it exactly once):

- :mod:`noria.predlog.layout`: the folder (``.noria/predictions/<model>``), the segments' names
  and their order;
- :mod:`noria.predlog.writer`: :class:`PredictionLog`, the buffered writer the server appends to
  (a list append per request; a background thread writes segments; nothing lost silently);
- :mod:`noria.predlog.reader`: reading segments (:func:`read_segments`), the whole log
  (:func:`read_log`) and windows of it (:func:`split_windows`).

Columns of a segment: ``request_id``, ``time`` (Unix seconds), ``model``, ``version``,
``latency_ms``, ``row`` (position in its request), one ``input.<column>`` per signature column,
``output.prediction``, and ``output.proba.<class>`` for classifiers.

Not here: which segments a monitor consumed (:mod:`noria.monitor.logs`), joining labels
(:mod:`noria.monitor.labels`). Importing this package loads neither pandas nor pyarrow.
"""

from __future__ import annotations

from noria.predlog.layout import SEGMENT_GLOB, log_folder, segment_name, segment_paths
from noria.predlog.reader import Segment, read_log, read_segments, split_windows
from noria.predlog.writer import PredictionLog

__all__ = [
    "SEGMENT_GLOB",
    "PredictionLog",
    "Segment",
    "log_folder",
    "read_log",
    "read_segments",
    "segment_name",
    "segment_paths",
    "split_windows",
]
