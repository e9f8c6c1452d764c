"""``noria compare A B``: two runs or two versions on the same rows, with paired intervals.

A and B are run ids (or prefixes) or versions (``NAME@VERSION``, ``NAME@ALIAS``). Both models
predict the same rows — the holdout they share, else A's holdout (said), or a labelled
``--data FILE`` — and every metric is shown for both with its 95 % interval, with the
difference A − B and its paired-bootstrap interval and a verdict; the params that differ; and
an HTML page with the curves overlaid (``.noria/reports/compare/A-vs-B.html``, or
``--output DIR``) beside a JSON of every figure. A classifier and a regressor are not compared
(exit 2, with the reason).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Optional

import typer

from noria.cli._output import console, seconds


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app``."""
    app.command("compare")(compare)


def compare(
    a: str = typer.Argument(..., help="A run id, NAME@VERSION or NAME@ALIAS."),
    b: str = typer.Argument(..., help="The other one (differences are A - B)."),
    data: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--data", help="A labelled file to compare on (default: the shared holdout)."
    ),
    output: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--output", "-o", help="Folder for the page (default .noria/reports/compare)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Compare two runs or versions: params, metrics with paired 95 % intervals of the
    differences on the same rows, overlaid curves (HTML)."""
    from noria.project import Project
    from noria.registry.evidence import compare as do_compare
    from noria.registry.evidence import subject_of

    started = time.perf_counter()
    project = Project.find(path)
    metadata, artifacts = project.metadata, project.artifacts
    first, second = subject_of(metadata, artifacts, a), subject_of(metadata, artifacts, b)
    frame = None
    if data is not None:
        from noria.data.sources import read_source

        frame = read_source(str(data))
    spec = project.spec
    result = do_compare(
        metadata,
        artifacts,
        first,
        second,
        frame=frame,
        data=str(data) if data else None,
        replicates=spec.evaluation.bootstrap if spec else 200,
        seed=spec.seed if spec else 0,
    )
    html, json_path = write_comparison(project.home, result, output)
    print_comparison(result)
    console().print(
        f"page: {html}\nfigures: {json_path}\n({seconds(time.perf_counter() - started)})",
        markup=False,
    )


def write_comparison(home: Path, result: dict[str, Any], output: Path | None) -> tuple[Path, Path]:
    """Write the HTML page and the JSON; ``(html path, json path)``."""
    import orjson

    from noria.reports.comparison_report import render_comparison_report
    from noria.reports.data_report import write_page

    folder = output or home / "reports" / "compare"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{result['a']}-vs-{result['b']}")
    json_path = write_page(
        folder / f"{stem}.json", orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    )
    html = write_page(folder / f"{stem}.html", render_comparison_report(result))
    return html, json_path


def print_comparison(result: dict[str, Any]) -> None:
    """The metric table (A, B, A − B with its interval, verdict) and the params that differ."""
    from rich.table import Table

    from noria.reports.comparison_report import interval

    out = console()
    out.print(
        f"A = {result['a']}, B = {result['b']}: {result['task']} of '{result['target']}' on "
        f"{result['rows']:,} rows of {result['data']}",
        markup=False,
    )
    if result.get("rows_note"):
        out.print(f"note: {result['rows_note']}", markup=False)
    table = Table(show_edge=False)
    for col in ("metric", "A", "B", "A - B", "95 % interval", "verdict"):
        table.add_column(col, justify="right" if col in ("A", "B", "A - B") else "left")
    for name, m in result["metrics"].items():
        table.add_row(
            name,
            _num(m["a"]),
            _num(m["b"]),
            "-" if m["diff"] is None else f"{m['diff']:+.4g}",
            interval(m["diff_low"], m["diff_high"], True),
            m["verdict"],
        )
    out.print(table)
    differ = [p for p in result["params"] if not p["same"]]
    for p in differ:
        out.print(f"param {p['param']}: {p['a']} vs {p['b']}", markup=False)
    if not differ:
        out.print("params: the same", markup=False)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"
