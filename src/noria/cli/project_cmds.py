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


def _store_project(path: Path) -> Project:
    """The project whose runs ``noria runs``/``noria show`` read: the nearest folder, from
    ``path`` up, with a ``noria.yaml`` or a ``.noria/`` home (runs made from Python in a
    folder without noria.yaml have only the home)."""
    from noria.errors import ConfigError
    from noria.project import HOME, SPEC_FILE, Project

    here = path.resolve()
    for folder in (here, *here.parents):
        if (folder / SPEC_FILE).is_file() or (folder / HOME).is_dir():
            return Project(folder)
    raise ConfigError(
        f"no {SPEC_FILE} and no {HOME}/ in {here} or above: nothing has run here; pass the "
        "folder of a project (or of a Python run) with --path"
    )


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
    """The end of ``noria run``: status, cache hits, leaderboard (with the baseline), holdout
    metrics of the model and of the baseline, the verdict, and the registered version."""

    out = console()
    out.print(
        f"[green]run {result.run_id}[/] {result.status} in {seconds(result.duration)}: "
        f"{len(result.steps)} steps, {result.cache_hits} from the cache"
    )
    if "features" in result.steps:
        from rich.markup import escape

        for note in result["features"].get("notes", []):  # e.g. dates kept as text
            out.print(f"[yellow]note:[/] {escape(note)}")
    base = result["baseline"] if "baseline" in result.steps else None
    if "candidates" in result.steps:
        print_leaderboard(result["candidates"], baseline=base)
    if "evaluation" in result.steps:
        scores = result["evaluation"]
        out.print("holdout: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    if base is not None:
        out.print(
            f"baseline ({base['rule']}): "
            + ", ".join(f"{k}={v:.4f}" for k, v in base["holdout"].items())
        )
    if "registered_model" in result.steps:
        reg = result["registered_model"]
        if reg.get("warning"):
            out.print(f"[yellow]{reg['warning']}[/]")
        fitted = ""
        if reg.get("rows_fitted") is not None:
            which = "all labelled rows" if reg.get("refit") == "all" else "the training part"
            fitted = f", fitted on {which} ({reg['rows_fitted']:,})"
        out.print(f"model: {reg['name']} version {reg['version']}{fitted}")
        from noria.cli.ci_cmds import print_stored_tests

        print_stored_tests(project, reg["name"], reg["version"])
    out.print(f"details: noria show {short(result.run_id)}   store: {project.home}")


def print_leaderboard(
    cands: dict[str, Any], top: int = 10, baseline: dict[str, Any] | None = None
) -> None:
    """The search's best trials, how many ended how, and the trivial baseline's row."""
    from collections import Counter

    from rich.table import Table

    from noria.train.ranking import board as board_rows

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
    shown = board_rows(board, top=top, maximize=None, always=[cands.get("best_number")])
    for i, t in shown.rows:  # the best `top`, then the defaults and the winner where they ranked
        table.add_row(
            str(i),
            str(t["number"]),
            t["family"],
            f"{t['score']:.4f}",
            seconds(t["seconds"]),
            params_text(t["params"]),
        )
    if baseline is not None:
        cv = baseline.get("cv")
        table.add_row(
            "-", "-", "baseline", f"{cv:.4f}" if cv is not None else "-", "-", baseline["rule"]
        )
    out.print(table)
    if shown.hidden_line():
        out.print(f"{shown.hidden_line()} (all of them: noria runs <run> --trials)")


def params_text(params: dict[str, Any]) -> str:
    """Hyperparameters for people: ``C=0.5236, class_weight=balanced`` (``defaults`` if none)."""
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items()) or "defaults"


def number_text(value: Any) -> str:
    """A number for people: ``10,000`` for a whole number, else 6 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e5:
        return f"{value:,.1f}"
    return f"{value:.6g}"


def value_text(value: Any) -> str:
    """A param's or tag's value for people: numbers formatted, mappings as ``k=v`` lists."""
    if isinstance(value, dict):
        return params_text(value) if value else "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "-"
    if isinstance(value, float):
        return _short(value)
    return str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def runs(
    run_id: Optional[str] = typer.Argument(None, help="With --trials: the run whose trials."),  # noqa: UP045
    path: Path = typer.Option(
        Path("."), "--path", help="The project folder, or a folder where Python made runs."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="How many runs."),
    trials: bool = typer.Option(False, "--trials", help="The search trials of RUN_ID."),
) -> None:
    """What ran: status, duration, cache hits, best metric (or a run's search trials)."""
    from rich.table import Table

    project = _store_project(path)
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
    path: Path = typer.Option(
        Path("."), "--path", help="The project folder, or a folder where Python made runs."
    ),
) -> None:
    """A run's steps, params, metrics, tags, artifacts, lineage and timings."""
    from rich.table import Table

    project = _store_project(path)
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
            table.add_row(key, number_text(value), str(step), str(n))
        out.print(table)
    _print_mapping("tags", store.tags(r.id))
    models = [m for m in store.model_versions() if m.run_id == r.id]
    for m in models:
        out.print(
            f"registered: model {m.name} version {m.version} (artifact {short(m.artifact_id)})"
        )
        if m.description:
            out.print(
                f"[yellow]{m.description}[/]" if "warning" in m.description else m.description
            )
        _print_mapping(f"model {m.name} version {m.version}", _version_facts(m))


def _version_facts(m: Any) -> dict[str, Any]:
    """What a version says about itself: family, params, threshold, rows, the baseline."""
    p = m.params
    facts: dict[str, Any] = {"family": p.get("family", "-"), "params": p.get("params") or {}}
    if "threshold" in p:
        facts["threshold"] = p["threshold"]
    if p.get("calibration"):
        facts["calibration"] = p["calibration"]
    if "rows_fitted" in p:
        which = "all labelled rows" if p.get("refit") == "all" else "the training part only"
        facts["fitted on"] = f"{which} ({number_text(p['rows_fitted'])} rows)"
    if "baseline" in p:
        facts["beats the baseline"] = {True: "yes", False: "NO"}.get(p.get("beats_baseline"), "-")
        scores = [f"{k}={v:.4f}" for k, v in m.metrics.items() if k.startswith("baseline_")]
        facts["baseline"] = "; ".join([p["baseline"], ", ".join(s[9:] for s in scores)])
    return facts


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
        text = value_text(v)
        table.add_row(k, text if len(text) <= 300 else text[:297] + "...")
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
            params_text(params),
        )
    console().print(table)
