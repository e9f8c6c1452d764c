"""``noria monitor``, ``noria labels add`` and ``noria loop``.

``noria monitor`` reads the new segments of a model's prediction log exactly once, prints a table
per window (drift per column, data quality) and the live metrics, writes the HTML report to
``.noria/reports/monitor-NAME.html`` and sends alerts (log, webhook). Its exit status is 0 even
when drift is found (drift is news, not a failure); 2 for a user error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from noria.cli._output import console

if TYPE_CHECKING:
    from noria.monitor.monitor import MonitorResult, WindowReport
    from noria.project import Project

labels_app = typer.Typer(
    help="The truth that arrives after the predictions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add ``monitor``, the ``labels`` group and ``loop`` to ``app``."""
    app.command("monitor")(monitor)
    app.add_typer(labels_app, name="labels")
    labels_app.command("add")(add)
    app.command("loop")(loop)


def _project(path: Path) -> Project:
    from noria.project import Project

    return Project.find(path)


def _warn(line: str) -> None:
    console().print(f"[yellow]warning:[/yellow] {line}")


def print_window(window: WindowReport) -> None:
    """One window: its status line and the table of its columns."""
    from rich.table import Table

    out = console()
    style = {"drift": "red", "ok": "green"}.get(window.status, "yellow")
    out.print(
        f"window {window.id}: {window.rows:,} predictions of version(s) "
        f"{', '.join(map(str, window.versions))} — [{style}]{window.status}[/{style}]"
        + (f" in {', '.join(window.drifted)}" if window.drifted else "")
    )
    table = Table(show_edge=False)
    for col in ("column", "status", "test", "statistic", "nulls ref→cur", "why"):
        table.add_column(col)
    for name, col in window.drift.columns.items():
        mark = "red" if col.drifted else ("yellow" if col.status != "ok" else "green")
        table.add_row(
            name,
            f"[{mark}]{col.status}[/{mark}]",
            col.test,
            "-" if col.statistic is None else f"{col.statistic:.4g}",
            f"{col.null_ref:.1%}→{col.null_cur:.1%}",
            col.reason,
        )
    out.print(table)
    for q in window.quality:
        _warn(f"{q['severity']}: {q['message'] or q['check']} ({q['failing']:,} rows)")


def print_live(result: MonitorResult) -> None:
    """The live metrics table."""
    from rich.table import Table

    if not result.live:
        console().print("live metrics: no labelled predictions yet (`noria labels add FILE`)")
        return
    names = sorted({k for m in result.live for k in m.metrics})
    table = Table(title="live metrics", show_edge=False)
    for col in ("window", "version", "labels", *names):
        table.add_column(col)
    for m in result.live:
        table.add_row(
            str(m.window),
            str(m.version),
            f"{m.labels:,}",
            *(f"{m.metrics[k]:.4g}" if k in m.metrics else "-" for k in names),
        )
    console().print(table)


def run_and_report(project: Project, model: str | None = None) -> MonitorResult:
    """Monitor, print, write the HTML report and send the alerts (what ``noria monitor`` does)."""
    from noria.monitor.monitor import monitor_and_report

    result, path = monitor_and_report(project, model=model, on_window=print_window)
    for line in result.warnings:
        _warn(line)
    if not result.windows:
        console().print(f"{result.model}: no new predictions since the last `noria monitor`")
    print_live(result)
    console().print(f"report: {path}")
    return result


def monitor(
    model: Optional[str] = typer.Option(  # noqa: UP045
        None, "--model", help="The model (default: monitor.model, else the project's)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Drift, data quality and live metrics of the predictions logged since the last run."""
    run_and_report(_project(path), model)


def add(
    file: Path = typer.Argument(..., help="A CSV, Parquet or JSON file of keys and labels."),
    key: str = typer.Option(
        "request_id", "--key", help="request_id (with an optional row column) or an input column."
    ),
    label: Optional[str] = typer.Option(  # noqa: UP045
        None, "--label", help="The label column (default: monitor.label_column)."
    ),
    model: Optional[str] = typer.Option(None, "--model", help="The model."),  # noqa: UP045
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Add the truth for logged predictions, joined on the request id or a key column."""
    from noria.monitor.labels import add_labels

    project = _project(path)
    spec = project.spec
    if model is None and spec is not None:
        model = (spec.monitor.model or spec.name).partition("@")[0]
    name = model
    if not name:
        from noria.errors import UserError

        raise UserError("which model? give --model NAME (no noria.yaml here names one)")
    label = label or (spec.monitor.label_column if spec else "label")
    batch = add_labels(project.home, name, file, key=key, label_column=label)
    with project.metadata.write() as tx:
        project.metadata.audit(
            tx,
            action="labels_add",
            object=name,
            detail={
                "file": str(file),
                "rows": batch.rows,
                "matched": batch.matched,
                "unknown": batch.unknown,
                "skipped": batch.skipped,
                "duplicates": batch.duplicates,
            },
        )
    console().print(
        f"{batch.rows:,} labels added for {name}: {batch.matched:,} match a logged prediction"
    )
    if batch.unknown:
        _warn(
            f"{batch.unknown:,} labels match no logged prediction ({key}); they are kept and "
            "joined if those predictions appear in the log later"
        )
    if batch.skipped:
        _warn(f"{batch.skipped:,} rows without a {key} or a {label} were not added")
    if batch.duplicates:
        _warn(
            f"{batch.duplicates:,} labels have a request id that was logged more than once; "
            "each labels only the latest of those predictions made before it was added (send "
            "a new X-Request-Id with every request)"
        )


def loop(
    once: bool = typer.Option(False, "--once", help="One iteration, then exit (for cron, CI)."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Monitor, then retrain, promote or roll back by the policies of noria.yaml's loop."""
    from noria.monitor.loop import run_loop

    out = console()
    run_loop(
        _project(path),
        once=once,
        on_window=print_window,
        say=lambda line: out.print(line, markup=False, highlight=False),
    )
