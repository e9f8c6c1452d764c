"""``noria models``, ``noria promote``, ``noria rollback``, ``noria serve``, ``noria predict``."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from noria.cli._output import console, short

if TYPE_CHECKING:
    from noria.project import Project

models_app = typer.Typer(
    name="models",
    help="Registered models: versions, aliases, model cards.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(models_app, name="models")
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("serve")(serve)
    app.command("predict")(predict)


def _project(path: Path) -> Project:
    from noria.project import Project

    return Project.find(path)


def _default_name(project: Project, name: str | None) -> str:
    if name:
        return name
    if project.spec is not None:
        return project.spec.name
    from noria.errors import UserError

    raise UserError("which model? give its NAME (no noria.yaml here names one)")


@models_app.command("list")
def list_models(
    name: Optional[str] = typer.Argument(None, help="Only this model."),  # noqa: UP045
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Every registered version with its aliases and main metrics."""
    from rich.table import Table

    project = _project(path)
    store = project.metadata
    versions = store.model_versions(name)
    if not versions:
        if name:
            from noria.registry import get_version

            get_version(store, name, 1)  # the "no model" error with suggestions
        console().print("no models registered yet: `noria run` registers one")
        return
    aliases: dict[tuple[str, int], list[str]] = {}
    for model, alias, version in store.aliases(name):
        aliases.setdefault((model, version), []).append(alias)
    table = Table()
    for col in ("model", "version", "aliases", "family", "metrics", "run", "registered"):
        table.add_column(col)
    for v in versions:
        metrics = ", ".join(f"{k}={val:.4g}" for k, val in list(v.metrics.items())[:4])
        table.add_row(
            v.name,
            str(v.version),
            ", ".join(aliases.get((v.name, v.version), [])),
            str(v.params.get("family", "-")),
            metrics,
            short(v.run_id),
            dt.datetime.fromtimestamp(v.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        )
    console().print(table)


@models_app.command("show")
def show_model(
    reference: str = typer.Argument(..., help="NAME, NAME@ALIAS or NAME@VERSION."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """One version: signature, metrics, params, aliases, history."""
    from noria.registry import model_card, resolve

    project = _project(path)
    version = resolve(project.metadata, reference)
    console().print(model_card(project.metadata, version, fmt="markdown"), markup=False)


@models_app.command("card")
def card(
    reference: str = typer.Argument(..., help="NAME, NAME@ALIAS or NAME@VERSION."),
    fmt: str = typer.Option("markdown", "--format", help="markdown or html."),
    output: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--output", "-o", help="Write to this file instead of printing."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """The model card of a version (data, metrics, params, lineage) in Markdown or HTML."""
    from noria.registry import model_card, resolve

    project = _project(path)
    version = resolve(project.metadata, reference)
    text = model_card(project.metadata, version, fmt=fmt, artifacts=project.artifacts)
    if output is None:
        import sys

        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console().print(f"wrote {output}")


def promote(
    name: str = typer.Argument(..., help="The model."),
    version: int = typer.Argument(..., help="The version to promote."),
    to: str = typer.Option("champion", "--to", help="The alias to move."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),  # noqa: UP045
    force: bool = typer.Option(False, "--force", help="Move it even if a gate fails (audited)."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Move an alias to VERSION if the promotion gates of noria.yaml pass; else say why not."""
    from noria.registry import PromotionGates, judged_metric
    from noria.registry import promote as do_promote

    project = _project(path)
    gates = PromotionGates()
    if project.spec is not None:
        metric = judged_metric(project.metadata, name, project.spec.models.metric)
        gates = PromotionGates.from_spec(project.spec.promotion, default_metric=metric)
    results = do_promote(
        project.metadata,
        name,
        version,
        to=to,
        gates=gates,
        reason=reason,
        artifacts=project.artifacts,
        force=force,
    )
    out = console()
    for r in results:
        out.print(f"  {'pass' if r.passed else '[red]FAIL[/]'}  {r.gate}: {r.detail}")
    forced = " (forced past failed gates)" if any(not r.passed for r in results) else ""
    out.print(f"[green]{name}@{to}[/] → version {version}{forced}")


def rollback(
    name: str = typer.Argument(..., help="The model."),
    alias: str = typer.Option("champion", "--alias", help="The alias to move back."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),  # noqa: UP045
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Move an alias back to the version that held it before."""
    from noria.registry import rollback as do_rollback

    project = _project(path)
    old, new = do_rollback(project.metadata, name, alias=alias, reason=reason)
    console().print(f"[green]{name}@{alias}[/]: version {old} → version {new}")


def serve(
    model: Optional[str] = typer.Option(  # noqa: UP045
        None, "--model", "-m", help="NAME@ALIAS to serve (default: serve.model, or the champion)."
    ),
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (127.0.0.1)."),  # noqa: UP045
    port: Optional[int] = typer.Option(None, "--port", help="Port (8000; 0 picks a free one)."),  # noqa: UP045
    no_log: bool = typer.Option(False, "--no-log", help="Do not log predictions."),
    onnx: str = typer.Option("auto", "--onnx", help="auto, never or always use ONNX Runtime."),
    insecure: bool = typer.Option(
        False, "--insecure", help="Serve beyond loopback without NORIA_TOKEN (a warning)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Serve a model over HTTP: /predict, /invocations (MLflow), /v2 (KServe), /metrics."""
    import socket

    from noria.serve.app import exposure, settings_from_project
    from noria.serve.app import serve as run_server

    project = _project(path)
    settings = settings_from_project(
        project,
        reference=model,
        host=host,
        port=port,
        log_predictions=False if no_log else None,
        onnx=onnx,
        insecure=insecure or None,
    )
    exposure(settings)  # refuse before binding; serve() prints the warning of --insecure
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        from noria.errors import UserError

        raise UserError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "pick another --port"
        ) from None
    bound = sock.getsockname()[1]

    def ready(server: object) -> None:
        p = server.predictor  # type: ignore[attr-defined]
        auth = " (bearer token required)" if settings.token else ""
        print(
            f"serving {p.name} version {p.version} ({p.path}) on "
            f"http://{settings.host}:{bound}{auth}; Ctrl-C stops",
            flush=True,
        )

    with contextlib.suppress(KeyboardInterrupt):
        run_server(project, settings, on_ready=ready, sock=sock)


def predict(
    model: str = typer.Option(..., "--model", "-m", help="NAME@ALIAS or NAME@VERSION."),
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV, Parquet or JSON lines."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV, Parquet or JSON lines."),
    keep: list[str] = typer.Option(
        [], "--keep", "-k", help="An input column to carry into the output (repeatable)."
    ),
    extra: str = typer.Option(
        "reject", "--extra", help="reject or ignore (carry into the output) unknown columns."
    ),
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", help="Rows per chunk."),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Score a file with a registered model, streaming in chunks.

    The target column, when the file has it, is not given to the model: it is kept in the output
    and the metrics it allows are printed. Other columns the model does not take pass through
    with --keep COLUMN, or all of them with --extra ignore.
    """
    from noria.serve.batch import score_file
    from noria.serve.predictor import Predictor

    project = _project(path)
    predictor = Predictor.load(
        project.metadata, project.artifacts, model, cache_dir=project.home / "serve"
    )
    target = predictor.model_version.params.get("target")
    if target is None and project.spec is not None and project.spec.name == predictor.name:
        target = project.spec.target  # a version registered before the target was recorded
    out = console()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    ) as bar:
        task = bar.add_task("score", total=None)
        result = score_file(
            predictor,
            input_path,
            output,
            chunk_rows=chunk_rows,
            progress=lambda n: bar.advance(task, n),
            target=target,
            keep=keep,
            extra=extra,
        )
    out.print(
        f"scored {result.rows:,} rows with {predictor.name} version {predictor.version} "
        f"({predictor.path}) → {output}",
        markup=False,
    )
    if result.passed:
        out.print(f"passed through: {', '.join(result.passed)}", markup=False)
    if result.target is not None:
        if result.metrics:
            scores = ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items())
            out.print(
                f"against '{result.target}' ({result.labelled:,} labelled rows): {scores}",
                markup=False,
            )
        elif result.metrics_error:
            out.print(f"note: no metrics: {result.metrics_error}", markup=False)
        else:
            out.print(f"note: '{result.target}' is empty in every row: no metrics", markup=False)
    if result.counts:
        out.print(f"note: accepted, but new to the model: {result.counts.summary()}", markup=False)
