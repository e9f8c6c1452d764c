"""``noria validate DATA``, ``noria schema infer`` and ``noria schema show``.

``noria validate`` checks a file against the project's schema (``validation.schema`` in
``noria.yaml``, default ``noria.schema.yaml``) and user checks (``validation.checks``), prints a
table of the checks, and exits 1 when an error-level check fails (2 on a user error such as an
unreadable file). Outside a project it runs with ``--schema`` alone. With ``--scoring``, or by
itself when the batch has no target column, it checks a scoring batch: the target's schema
rules and checks are left out. ``noria schema infer``
profiles the training data (``data.source``, or ``--data``), writes the schema YAML, and keeps
the training profile in ``.noria/reference_profile.json`` for the skew checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from noria.cli._output import console, seconds

if TYPE_CHECKING:
    from noria.project import Project

#: Where ``noria schema infer`` keeps the training profile, under the project's home.
REFERENCE_PROFILE = "reference_profile.json"

schema_app = typer.Typer(
    help="The data contract: infer it from the training data, show it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add ``validate`` and the ``schema`` group to ``app``."""
    app.command("validate")(validate)
    app.add_typer(schema_app, name="schema")
    schema_app.command("infer")(infer)
    schema_app.command("show")(show)


def _find_project(path: Path) -> Project | None:
    """The project in ``path`` or above, or ``None`` when there is no ``noria.yaml``."""
    from noria.project import SPEC_FILE, Project

    here = path.resolve()
    for folder in (here, *here.parents):
        if (folder / SPEC_FILE).is_file():
            return Project(folder)
    return None


def _schema_path(project: Project | None, schema: Path | None) -> Path | None:
    if schema is not None:
        return schema
    if project is None:
        return None
    name = project.spec.validation.schema_file if project.spec else "noria.schema.yaml"
    return project.root / name


def validate(
    data: str = typer.Argument(..., help="The batch: a CSV, Parquet or JSON file, folder or glob."),
    schema: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--schema", help="The schema file (default: the project's)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    report: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--report", help="Also write the HTML data report here."
    ),
    data_format: str = typer.Option("auto", "--format", help="auto, csv, parquet or json."),
    skew: bool = typer.Option(True, "--skew/--no-skew", help="Compare with the training profile."),
    scoring: bool = typer.Option(
        False, "--scoring", help="A batch to score: no target (automatic when it is missing)."
    ),
) -> None:
    """Check DATA against the schema and the checks of noria.yaml; exit 1 if an error fails."""
    import time

    from noria.data.schema import load_schema
    from noria.data.validate import DEFAULT_SKEW_THRESHOLD, parse_checks, validate_file
    from noria.errors import ConfigError

    project = _find_project(path)
    schema_file = _schema_path(project, schema)
    loaded = None
    if schema_file is not None and (schema is not None or schema_file.is_file()):
        loaded = load_schema(schema_file)
    checks = []
    threshold = DEFAULT_SKEW_THRESHOLD
    if project is not None and project.spec is not None:
        checks = parse_checks(project.spec.validation.check_dicts())
        threshold = project.spec.validation.skew_threshold
    if loaded is None and not checks:
        raise ConfigError(
            "nothing to check against: no schema file and no `validation.checks`; run "
            "`noria schema infer` in the project, or pass --schema FILE"
        )
    reference = _reference(project) if skew else None
    base = Path.cwd()
    target = project.spec.target if project is not None and project.spec is not None else None
    if target and not scoring:
        from noria.data.sources import columns_of

        if target not in columns_of(data, format=data_format, base=base):
            scoring = True
            console().print(
                f"no target column '{target}' in {data}: checking it as a scoring batch "
                "(--scoring)",
                markup=False,
            )
    if scoring and target:
        loaded, checks = _without_target(loaded, checks, target)
    start = time.perf_counter()
    result = validate_file(
        data,
        loaded,
        checks,
        format=data_format,
        base=base,
        reference=reference,
        skew_threshold=threshold,
    )
    took = time.perf_counter() - start
    _print_result(result, took)
    if report is not None:
        from noria.data.profile import profile_data
        from noria.reports.data_report import write_data_report

        prof = result.profile or profile_data(data, format=data_format, base=base)
        written = write_data_report(report, prof, result, title="Data report")
        console().print(f"report: {written}")
    if not result.passed:
        raise SystemExit(1)  # an error-level check failed (not a user error: exit 1, not 2)


def _without_target(schema: Any, checks: list[Any], target: str) -> tuple[Any, list[Any]]:
    """The schema and checks of a scoring batch: the target's rules left out."""
    from dataclasses import replace

    kept = [c for c in checks if getattr(c, "column", None) != target]
    if schema is None or target not in schema.columns:
        return schema, kept
    columns = {name: col for name, col in schema.columns.items() if name != target}
    return replace(schema, columns=columns), kept


def _reference(project: Project | None) -> Any:
    if project is None:
        return None
    file = project.home / REFERENCE_PROFILE
    if not file.is_file():
        return None
    from noria.data.profile import Profile

    return Profile.from_dict(json.loads(file.read_text(encoding="utf-8")))


def _print_result(result: Any, took: float) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"{result.source}: {result.rows:,} rows", title_justify="left")
    for col in ("check", "severity", "status", "failing", "share", "first example"):
        table.add_column(col, justify="right" if col in ("failing", "share") else "left")
    for r in result.results:
        status = (
            "[green]ok[/]"
            if r.passed
            else ("[red]FAIL[/]" if r.severity == "error" else "[yellow]warn[/]")
        )
        share = f"{r.failing / r.rows:.2%}" if r.rows and r.check.kind in _ROWWISE else ""
        if r.value is not None and r.check.kind in ("skew", "max_null_fraction"):
            share = f"{r.value:.3f}"
        example = ""
        if r.examples:
            first = dict(r.examples[0])
            first.pop("file", None)
            example = ", ".join(f"{k}={v}" for k, v in first.items())[:60]
        table.add_row(r.check.label[:60], r.severity, status, f"{r.failing:,}", share, example)
    out.print(table)
    for r in result.errors + result.warnings:
        out.print(f"[{'red' if r.severity == 'error' else 'yellow'}]{r.severity}:[/] {r.message}")
    verdict = "[green]passed[/]" if result.passed else "[red]failed[/]"
    out.print(
        f"{verdict}: {len(result.results)} checks, {len(result.errors)} failed, "
        f"{len(result.warnings)} warnings, in {seconds(took)}"
    )


_ROWWISE = ("type", "not_null", "range", "in_set", "regex", "sql", "unique", "duplicates")


def infer(
    data: Optional[str] = typer.Option(  # noqa: UP045
        None, "--data", help="The training data (default: data.source of noria.yaml)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    output: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--output", "-o", help="The schema file (default: validation.schema)."
    ),
    max_categories: int = typer.Option(
        50, "--max-categories", help="Most distinct strings a column may have to get a domain."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing schema file."),
) -> None:
    """Infer the schema from the training data and write it as YAML (edit it by hand after)."""
    import time

    from noria.data.schema import infer_schema_from_data
    from noria.errors import ConfigError

    project = _find_project(path)
    if data is None:
        if project is None or project.spec is None:
            raise ConfigError("no noria.yaml here or above: pass --data FILE (and --output)")
        data, base, fmt = project.spec.data.source, project.root, project.spec.data.format
    else:
        base, fmt = Path.cwd(), "auto"
    target = output or _schema_path(project, None) or Path("noria.schema.yaml")
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; edit it, or pass --force to infer it again")
    start = time.perf_counter()
    schema, profile = infer_schema_from_data(data, format=fmt, base=base,
                                             max_categories=max_categories)  # fmt: skip
    schema.write(target)
    out = console()
    out.print(
        f"wrote {target}: {len(schema.columns)} columns from {profile.rows:,} rows "
        f"in {seconds(time.perf_counter() - start)}"
    )
    if project is not None:
        project.home.mkdir(parents=True, exist_ok=True)
        ref = project.home / REFERENCE_PROFILE
        tmp = ref.with_name(f".{ref.name}.tmp")
        tmp.write_text(json.dumps(profile.to_dict()), encoding="utf-8")
        tmp.replace(ref)
        out.print(f"kept the training profile in {ref} (for skew checks)")
    out.print("next: review it, then `noria validate DATA`")


def show(
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    schema: Optional[Path] = typer.Option(None, "--schema", help="The schema file."),  # noqa: UP045
) -> None:
    """Show the schema as a table."""
    from rich.table import Table

    from noria.data.schema import load_schema
    from noria.errors import ConfigError

    file = _schema_path(_find_project(path), schema)
    if file is None:
        raise ConfigError("no noria.yaml here or above: pass --schema FILE")
    loaded = load_schema(file)
    table = Table(title=str(file), title_justify="left")
    for col in ("column", "type", "nullable", "range", "values", "unique", "warn"):
        table.add_column(col)
    for c in loaded.columns.values():
        rng = "" if c.min is None and c.max is None else f"[{c.min}, {c.max}]"
        values = "" if c.values is None else ", ".join(map(str, c.values))
        table.add_row(
            c.name,
            c.type,
            "yes" if c.nullable else "no",
            rng,
            values if len(values) <= 50 else values[:47] + "...",
            "yes" if c.unique else "",
            ", ".join(c.warn),
        )
    out = console()
    out.print(table)
    bounds = f"[{loaded.min_rows}, {loaded.max_rows}]"
    out.print(
        f"extra columns: {loaded.extra_columns}; duplicate rows: {loaded.duplicates}; "
        f"rows: {bounds}"
    )
