"""``noria init``, ``noria run``, ``noria runs``, ``noria show``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from noria.cli._output import console, seconds, short

if TYPE_CHECKING:
    from noria.pipeline.runner import RunResult
    from noria.project import Project


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("init")(init)
    app.command("run")(run)
    app.command("runs")(runs)
    app.command("show")(show)


def _project(path: Path) -> Project:
    from noria.project import Project

    return Project.find(path)


def init(
    data: str = typer.Option(
        ..., "--data", help="The training data: CSV, Parquet, JSON or a glob."
    ),
    target: str = typer.Option(..., "--target", help="The column to predict."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    name: Optional[str] = typer.Option(None, "--name", help="Project and model name."),  # noqa: UP045
    task: str = typer.Option("auto", "--task", help="auto, classification or regression."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing noria.yaml."),
) -> None:
    """Write a commented noria.yaml for DATA and TARGET, and create the .noria/ home."""
    from noria.project import Project

    project = Project.init(path, data=data, target=target, name=name, task=task, force=force)
    out = console()
    out.print(f"wrote {project.spec_path}")
    out.print(f"created {project.home}/ (metadata database and artifact store)")
    out.print("next: `noria run`")


def run(
    path: Path = typer.Option(Path("."), "--path", help="The project folder (or one below it)."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore the cache: run every step."),
    target: Optional[list[str]] = typer.Option(  # noqa: UP045
        None, "--step", help="Run only this step and what it needs (repeatable)."
    ),
    executor: Optional[str] = typer.Option(None, "--executor", help="local, processes or ray."),  # noqa: UP045
) -> None:
    """Run the project's pipeline: validate, split, features, candidates, evaluate, register."""
    from noria.cli.progress import LiveView

    project = _project(path)
    view = LiveView()
    try:
        result = project.run(targets=target or None, executor=executor, observer=view, fresh=fresh)
    finally:
        view.close()
    print_summary(project, result)


def print_summary(project: Project, result: RunResult) -> None:
    """The end of ``noria run``: status, cache hits, leaderboard, holdout metrics, model."""

    out = console()
    out.print(
        f"[green]run {result.run_id}[/] {result.status} in {seconds(result.duration)}: "
        f"{len(result.steps)} steps, {result.cache_hits} from the cache"
    )
    if "candidates" in result.steps:
        print_leaderboard(result["candidates"])
    if "evaluation" in result.steps:
        scores = result["evaluation"]
        out.print("holdout: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    if "registered_model" in result.steps:
        reg = result["registered_model"]
        out.print(f"model: {reg['name']} version {reg['version']}")
    out.print(f"details: noria show {short(result.run_id)}   store: {project.home}")


def print_leaderboard(cands: dict[str, Any], top: int = 10) -> None:
    """The search's best trials, and how many ended how."""
    from collections import Counter

    from rich.table import Table

    board = cands["leaderboard"]
    counts = Counter(t["status"] for t in board)
    out = console()
    out.print(
        f"search: {len(board)} trials in {seconds(cands['elapsed'])} ("
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + ")"
    )
    for note in cands.get("warnings", []):
        out.print(f"[yellow]note:[/] {note}")
    table = Table(title=f"leaderboard (cross-validated {cands['metric']})", title_justify="left")
    for col in ("#", "trial", "model", cands["metric"], "time", "params"):
        table.add_column(col, justify="right" if col in ("#", "trial", "time") else "left")
    ranked = [t for t in board if t["score"] is not None][:top]
    for i, t in enumerate(ranked, 1):
        params = ", ".join(f"{k}={_short(v)}" for k, v in t["params"].items()) or "defaults"
        table.add_row(
            str(i),
            str(t["number"]),
            t["family"],
            f"{t['score']:.4f}",
            seconds(t["seconds"]),
            params,
        )
    out.print(table)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def runs(
    run_id: Optional[str] = typer.Argument(None, help="With --trials: the run whose trials."),  # noqa: UP045
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    limit: int = typer.Option(20, "--limit", "-n", help="How many runs."),
    trials: bool = typer.Option(False, "--trials", help="The search trials of RUN_ID."),
) -> None:
    """What ran: status, duration, cache hits, best metric (or a run's search trials)."""
    from rich.table import Table

    project = _project(path)
    store = project.metadata
    if trials:
        _print_trials(store, run_id)
        return
    records = store.list_runs(limit=limit)
    ids = [r.id for r in records]
    counts, metrics, tags = store.step_counts(ids), store.latest_metrics(ids), store.tags_of(ids)
    table = Table()
    for col in (
        "run",
        "name",
        "kind",
        "status",
        "started",
        "duration",
        "steps",
        "cached",
        "metric",
    ):
        table.add_column(col, justify="right" if col in ("duration", "steps", "cached") else "left")
    for r in records:
        c = counts.get(r.id, {})
        metric = tags.get(r.id, {}).get("metric")
        value = metrics.get(r.id, {}).get(f"test_{metric}") if metric else None
        table.add_row(
            short(r.id),
            r.name,
            r.kind,
            r.status,
            dt.datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M:%S"),
            seconds(r.duration),
            str(sum(c.values())),
            str(c.get("cached", 0)),
            f"{metric}={value:.4f}" if value is not None else "-",
        )
    if not records:
        console().print("no runs yet: `noria run`")
        return
    console().print(table)


def show(
    run_id: str = typer.Argument(..., help="A run id, or its first characters."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """A run's steps, params, metrics, tags, artifacts, lineage and timings."""
    from rich.table import Table

    project = _project(path)
    store = project.metadata
    r = store.get_run(run_id)
    out = console()
    out.print(f"[bold]run {r.id}[/]  {r.name}  ({r.kind}, pipeline {r.pipeline or '-'})")
    out.print(
        f"status {r.status}; started "
        f"{dt.datetime.fromtimestamp(r.started_at):%Y-%m-%d %H:%M:%S}; "
        f"duration {seconds(r.duration)}; host {r.host}; user {r.owner}"
    )
    if r.error:
        out.print(f"[red]error:[/] {r.error}")
    steps = store.step_runs(r.id)
    if steps:
        lineage = _lineage(store.lineage_of_run(r.id))
        table = Table(title="steps", title_justify="left")
        for col in ("step", "status", "time", "tries", "fingerprint", "output", "inputs"):
            table.add_column(col)
        for s in steps:
            status = (
                s.status if not s.cached_from else f"cached (from step run {short(s.cached_from)})"
            )
            table.add_row(
                s.step,
                status if not s.error else f"{status}: {s.error[:80]}",
                seconds(s.duration),
                str(s.attempts),
                short(s.fingerprint),
                short(s.output_artifact),
                ", ".join(f"{n}={short(a)}" for n, a in lineage.get(s.step, [])),
            )
        out.print(table)
    _print_mapping("params", store.params(r.id))
    points = store.metrics(r.id)
    latest: dict[str, Any] = {}
    for key, value, step, _ in points:
        latest[key] = (value, step, latest.get(key, (0, 0, 0))[2] + 1)
    if latest:
        table = Table(title="metrics (last value)", title_justify="left")
        for col in ("metric", "value", "step", "points"):
            table.add_column(col)
        for key, (value, step, n) in sorted(latest.items()):
            table.add_row(key, f"{value:.6g}", str(step), str(n))
        out.print(table)
    _print_mapping("tags", store.tags(r.id))
    models = [m for m in store.model_versions() if m.run_id == r.id]
    for m in models:
        out.print(
            f"registered: model {m.name} version {m.version} (artifact {short(m.artifact_id)})"
        )


def _lineage(rows: list[tuple[str, str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for step, direction, name, artifact in rows:
        if direction == "in":
            out.setdefault(step, []).append((name, artifact))
    return out


def _print_mapping(title: str, values: dict[str, Any]) -> None:
    if not values:
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("key")
    table.add_column("value")
    for k, v in values.items():
        text = str(v)
        table.add_row(k, text if len(text) <= 100 else text[:97] + "...")
    console().print(table)


def _print_trials(store: Any, run_id: str | None) -> None:
    """``noria runs RUN --trials``: the trials of a run's search, best first."""
    from rich.table import Table

    from noria.errors import UserError

    if run_id is None:
        raise UserError("--trials needs a run id: noria runs RUN_ID --trials")
    parent = store.get_run(run_id)
    children = store.list_runs(limit=100_000, parent_id=parent.id)
    if not children:
        console().print(f"run {short(parent.id)} has no search trials")
        return
    ids = [c.id for c in children]
    latest = store.latest_metrics(ids)
    metric = store.tags(parent.id).get("metric", "")
    key = f"cv_{metric}"
    maximize = metric not in ("log_loss", "rmse", "mae")

    def rank(c: Any) -> tuple[int, float]:
        value = latest.get(c.id, {}).get(key)
        if value is None:
            return (1, 0.0)
        return (0, -value if maximize else value)

    table = Table(title=f"trials of run {short(parent.id)} (cross-validated {metric})")
    for col in ("trial", "status", key, "time", "params"):
        table.add_column(col)
    for c in sorted(children, key=rank):
        value = latest.get(c.id, {}).get(key)
        params = store.params(c.id)
        table.add_row(
            c.name.rsplit("/", 1)[-1],
            c.status,
            f"{value:.4f}" if value is not None else "-",
            seconds(c.duration),
            ", ".join(f"{k}={_short(v)}" for k, v in params.items()),
        )
    console().print(table)
