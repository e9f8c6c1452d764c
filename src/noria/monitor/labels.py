"""Labels that arrive after the predictions, and their join with the prediction log.

``noria labels add FILE`` reads a CSV/Parquet/JSON file of the truth — a key and a label per
row — and keeps it as a Parquet file under ``.noria/labels/<model>/`` (written under a
temporary name, then renamed: never half-written). The key is either the ``request_id`` that
``/predict`` answered (with an optional ``row`` column for requests of several rows; 0 when
absent) or any input column of the model (``--key customer_id``), matched against
``input.<column>`` of the log. Labels whose key matches no logged prediction are counted and
reported, and kept: their prediction may still be in the server's buffer, and a later join finds
it. A key labelled twice keeps its latest label.

One label is the truth of one prediction. A request id is the client's (``X-Request-Id``), and a
client may send one id twice: a label whose request id (and row) was logged more than once joins
only the latest of those predictions made before the label was added (the latest of all when
none was: clocks differ), never all of them; the others stay unlabelled. ``noria labels add``
counts such labels (:attr:`LabelBatch.duplicates`), says so and records it in the audit log. An
input-column key (``--key customer_id``) names an entity rather than a request: its label joins
every logged prediction with that value.

:func:`labelled_predictions` joins the labels with the log (DuckDB, over the Parquet files);
:mod:`noria.monitor.live` turns the joined rows into metrics per window and model version.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from noria.errors import DataError, did_you_mean

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["LabelBatch", "add_labels", "labelled_predictions", "labels_folder"]

REQUEST_ID = "request_id"
_EMPTY = ("segment", "time", "version", "output.prediction", "label", "label_added")


@dataclass(frozen=True)
class LabelBatch:
    """What ``noria labels add`` stored.

    Attributes:
        path: The Parquet file the labels were kept in.
        rows: Labels stored.
        matched: Of them, labels whose key matches a logged prediction now.
        skipped: Rows without a key or a label (not stored).
        duplicates: Of the matched labels, those whose request id (and row) was logged more than
            once: each joins only the latest of those predictions (see the module docstring).
    """

    path: Path
    rows: int
    matched: int
    skipped: int
    duplicates: int = 0

    @property
    def unknown(self) -> int:
        """Labels whose key matches no logged prediction (yet)."""
        return self.rows - self.matched


def labels_folder(home: Path, model: str) -> Path:
    """Where the labels of ``model`` are kept under a project's ``.noria`` folder.

    Raises:
        UserError: ``model`` is not a valid model name (``../x`` would leave ``.noria/``).
    """
    from noria.registry import check_model_name

    return Path(home) / "labels" / check_model_name(model)


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def add_labels(
    home: Path,
    model: str,
    file: str | Path,
    *,
    key: str = REQUEST_ID,
    label_column: str = "label",
) -> LabelBatch:
    """Store the labels of ``file`` for ``model`` and count how many match a prediction.

    Args:
        home: The project's ``.noria`` folder.
        model: The model whose predictions the labels are for.
        file: A CSV, Parquet or JSON file with the key and the label column.
        key: ``request_id`` (with an optional ``row`` column) or an input column's name.
        label_column: The column with the truth.

    Raises:
        DataError: the file cannot be read, lacks the key or label column, or has no labels.
        UserError: ``model`` is not a valid model name.
    """
    import duckdb

    folder = labels_folder(home, model)  # checks the name before any path is built from it

    from noria.data.profile import open_source
    from noria.monitor.logs import log_folder, segment_paths

    con = duckdb.connect()
    try:
        source = open_source(con, str(file))
        names = source.names
        for column, what, fix in (
            (key, "key", "--key COLUMN"),
            (label_column, "label", "--label COLUMN or monitor.label_column in noria.yaml"),
        ):
            if column not in names:
                raise DataError(
                    f"{file}: no {what} column '{column}'{did_you_mean(column, names)}; "
                    f"columns: {', '.join(names)} (choose another with {fix})"
                )
        row = 'CAST("row" AS BIGINT)' if key == REQUEST_ID and "row" in names else "0"
        rel = con.sql(
            f"SELECT '{_key_column(key)}' AS key_column, CAST({_quote(key)} AS VARCHAR) AS key, "
            f'{row if key == REQUEST_ID else "CAST(NULL AS BIGINT)"} AS "row", '
            f"{_quote(label_column)} AS label, {time.time()!r} AS added "
            f"FROM {source.relation}"
        )
        total = int(con.execute(f"SELECT count(*) FROM {source.relation}").fetchall()[0][0])
        kept = rel.filter("key IS NOT NULL AND label IS NOT NULL").to_arrow_table()
        if kept.num_rows == 0:
            raise DataError(f"{file}: no row has both a {key} and a {label_column}; nothing to add")
        matched, duplicates = _matches(con, kept, segment_paths(log_folder(home, model)), key)
    finally:
        con.close()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"labels-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
    _write_atomic(kept, path)
    return LabelBatch(path, kept.num_rows, matched, total - kept.num_rows, duplicates)


def _key_column(key: str) -> str:
    return REQUEST_ID if key == REQUEST_ID else f"input.{key}"


def _write_atomic(table: object, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _matches(
    con: duckdb.DuckDBPyConnection, labels: object, segments: Sequence[Path], key: str
) -> tuple[int, int]:
    """Labels whose key matches a logged prediction, and of them those whose request id
    matches more than one."""
    if not segments:
        return 0, 0
    con.register("__labels", labels)
    logged = con.sql(f"SELECT * FROM read_parquet({_sql_list(segments)}, union_by_name=true)")
    column = _key_column(key)
    if column not in logged.columns:
        inputs = [c.removeprefix("input.") for c in logged.columns if c.startswith("input.")]
        raise DataError(
            f"key column '{key}' is not an input of the logged predictions"
            f"{did_you_mean(key, inputs)}; use --key request_id or one of: {', '.join(inputs)}"
        )
    on = _join_condition(column, "p", "l")
    sql = (
        "SELECT count(*) FILTER (WHERE n > 0), count(*) FILTER (WHERE n > 1) FROM ("
        f"SELECT (SELECT count(*) FROM read_parquet({_sql_list(segments)}, "
        f"union_by_name=true) p WHERE {on}) AS n FROM __labels l)"
    )
    matched, duplicates = con.execute(sql).fetchall()[0]
    return int(matched), int(duplicates) if column == REQUEST_ID else 0


def _join_condition(column: str, p: str, lab: str) -> str:
    if column == REQUEST_ID:
        return f'{p}.request_id = {lab}.key AND {p}."row" = {lab}."row"'
    return f"CAST({p}.{_quote(column)} AS VARCHAR) = {lab}.key"


def labelled_predictions(
    home: Path, model: str, segments: Sequence[Path], *, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Logged predictions of ``segments`` that have a label, with it: one row per prediction.

    Columns: ``segment`` (file name), ``time``, ``version``, ``output.prediction``, the
    ``output.proba.*`` columns, any extra logged ``columns`` asked for, ``label`` (the
    latest label of the prediction's key) and ``label_added`` (when that label was added, Unix
    seconds: which evidence is new). A request id logged more than once gives its label to one
    of its predictions only: the latest made before the label was added.
    """
    import duckdb
    import pandas as pd

    label_files = sorted(labels_folder(home, model).glob("labels-*.parquet"))
    if not label_files or not segments:
        return pd.DataFrame(columns=[*_EMPTY])
    con = duckdb.connect()
    try:
        con.sql(
            "CREATE TEMP VIEW l AS SELECT * FROM read_parquet("
            f"{_sql_list(label_files)}, union_by_name=true) "
            'QUALIFY row_number() OVER (PARTITION BY key_column, key, "row" '
            "ORDER BY added DESC) = 1"
        )
        con.sql(
            f"CREATE TEMP VIEW p AS SELECT * FROM read_parquet({_sql_list(segments)}, "
            "union_by_name=true, filename=true)"
        )
        logged = con.sql("SELECT * FROM p LIMIT 0").columns
        wanted = ["time", "version", "output.prediction"]
        wanted += [c for c in logged if c.startswith("output.proba.")]
        wanted += [c for c in columns if c in logged and c not in wanted]
        select = ", ".join(f"p.{_quote(c)}" for c in wanted)
        parts = []
        for (column,) in con.sql("SELECT DISTINCT key_column FROM l").fetchall():
            if column != REQUEST_ID and column not in logged:
                continue
            one = ""
            if column == REQUEST_ID:  # a client's id sent twice: the latest prediction only
                one = (
                    ' QUALIFY row_number() OVER (PARTITION BY l.key, l."row" '
                    "ORDER BY (p.time <= l.added) DESC, p.time DESC, p.filename DESC) = 1"
                )
            parts.append(
                f"(SELECT p.filename AS segment, {select}, l.label, l.added AS label_added "
                "FROM p JOIN l ON "
                f"l.key_column = '{column}' AND {_join_condition(column, 'p', 'l')}{one})"
            )
        if not parts:
            return pd.DataFrame(columns=["segment", *wanted, "label", "label_added"])
        frame = con.sql(" UNION ALL ".join(parts)).df()
    finally:
        con.close()
    frame["segment"] = frame["segment"].map(lambda f: Path(f).name)
    return frame
