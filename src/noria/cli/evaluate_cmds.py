"""``noria evaluate NAME@VERSION [--data FILE]``: the evidence behind a registered version.

Evaluates a version on its own holdout (the test part of the run that made it; by default) or
on any labelled file (``--data``), prints the metrics with their 95 % intervals beside the
trivial baseline and the weak segments, and writes the HTML report and the JSON of every figure
to ``.noria/reports/evaluation/NAME-vVERSION[-FILE].html|json`` (or ``--output DIR``).

The evaluation's JSON is also stored in the artifact store and linked to the version by an
``evaluate`` event in the audit log (object ``NAME/VERSION``, detail: the artifact, the data,
the rows, the report's path): the registry has no other public link from a version to an
artifact.

What comes from where:

* the model: the version's artifact; on the holdout, the model that was evaluated there when the
  version was refitted on all rows (its ``holdout_model`` param), so that the holdout stays
  unseen;
* the target, task and classes: the run's ``problem``, else the version's params and
  ``noria.yaml``;
* the baseline: learned from the run's training part (:func:`~noria.evaluate.evaluation.
  trivial_baseline`); from the evaluated rows when the version has no run (said in the report);
* the decision threshold: :func:`~noria.evaluate.evaluation.decision_threshold`;
* the settings: ``noria.yaml``'s ``evaluation:`` and ``seed``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from noria.cli._output import console, seconds

if TYPE_CHECKING:
    from noria.evaluate.evaluation import Evaluation
    from noria.project import Project
    from noria.store.metadata import ModelVersion


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate)


def evaluate(
    reference: str = typer.Argument(..., help="NAME@VERSION, NAME@ALIAS or NAME (champion)."),
    data: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--data", help="A labelled file to evaluate on (default: the version's holdout)."
    ),
    target: Optional[str] = typer.Option(  # noqa: UP045
        None, "--target", help="The target column (default: the one the version learned)."
    ),
    output: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--output", "-o", help="Folder for the report (default .noria/reports/evaluation)."
    ),
    explain: bool = typer.Option(
        True, "--explain/--no-explain", help="Permutation importance and partial dependence."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Evaluate a registered version: metrics with intervals and baseline, curves, slices,
    weak segments, fairness, importance; an HTML report and a JSON file."""
    from noria.project import Project
    from noria.registry import resolve

    started = time.perf_counter()
    project = Project.find(path)
    version = resolve(project.metadata, reference)
    result = evaluate_version(project, version, data=data, target=target, explain=explain)
    html, json_path = write_outputs(project, version, result, data, output)
    print_evaluation(result)
    console().print(
        f"report: {html}\nfigures: {json_path}\n({seconds(time.perf_counter() - started)})"
    )


def evaluate_version(
    project: Project,
    version: ModelVersion,
    *,
    data: Path | None = None,
    target: str | None = None,
    explain: bool = True,
) -> Evaluation:
    """Evaluate ``version`` on its holdout, or on the labelled file ``data``.

    Raises:
        UserError: no holdout and no ``--data``; no target known. DataError: the file lacks a
            column the model needs, the target, or a sensitive column; a target of the wrong
            type.
    """
    from noria.data.sources import read_source
    from noria.errors import DataError, UserError
    from noria.evaluate.evaluation import (
        EvaluationSettings,
        decision_threshold,
        evaluate_model,
        trivial_baseline,
    )
    from noria.pipeline.runner import load_artifact
    from noria.registry import holdout_artifacts

    metadata, artifacts = project.metadata, project.artifacts
    splits_id, problem_id = holdout_artifacts(metadata, version)
    problem: dict[str, Any] = load_artifact(metadata, artifacts, problem_id) if problem_id else {}
    splits = load_artifact(metadata, artifacts, splits_id) if splits_id else None
    spec = project.spec
    target = target or problem.get("target") or (spec.target if spec else None)
    label = f"{version.name}@{version.version}"
    if not target:
        raise UserError(f"which column is the target of {label}? pass --target COLUMN")
    artifact = version.artifact_id
    if data is None:
        if splits is None:
            raise UserError(
                f"{label} has no recorded holdout (it was not made by `noria run`): "
                "evaluate it on a labelled file with --data FILE"
            )
        frame, source = splits["test"], "holdout"
        artifact = version.params.get("holdout_model") or artifact
    else:
        frame, source = read_source(str(data)), str(data)
        needed = [s["name"] for s in version.signature if s["name"] != target]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(
                f"{data}: column(s) {', '.join(missing)} that {label} needs are not in the file "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
    model = load_artifact(metadata, artifacts, artifact)
    task = version.params.get("task") or problem.get("task")
    if task is None:
        task = "classification" if hasattr(model, "predict_proba") else "regression"
    classes = version.params.get("classes") or problem.get("classes") or None
    if task == "classification" and not classes:
        classes = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    baseline = None
    if splits is not None and target in splits["train"].columns:
        baseline = trivial_baseline(task, splits["train"][target], classes)
    binary = task == "classification" and len(classes or []) == 2
    threshold = decision_threshold(version.params, model) if binary else None
    ev_spec = spec.evaluation if spec is not None else None
    settings = EvaluationSettings(
        seed=spec.seed if spec is not None else 0,
        replicates=ev_spec.bootstrap if ev_spec else 200,
        min_segment_rows=ev_spec.min_segment_rows if ev_spec else None,
        alpha=ev_spec.alpha if ev_spec else 0.05,
        sensitive=tuple(ev_spec.sensitive) if ev_spec else (),
        explain=explain,
    )
    keep = [s["name"] for s in version.signature if s["name"] in frame.columns]
    extra = [c for c in settings.sensitive if c in frame.columns and c not in keep]
    columns = [*keep, *extra, target] if keep else list(frame.columns)
    if target not in frame.columns:
        cols = ", ".join(map(str, frame.columns))
        raise DataError(
            f"{source}: target column '{target}' is not in the data (columns: {cols}); the "
            "evaluation needs the true values"
        )
    frame = frame[list(dict.fromkeys(columns))]
    return evaluate_model(
        _Inputs(model, keep) if extra else model,
        frame,
        target=target,
        task=task,
        classes=classes,
        threshold=threshold,
        baseline=baseline,
        settings=settings,
        name=label,
        data=source,
    )


class _Inputs:
    """A model seen through its own input columns, so that the evaluated frame may carry
    sensitive columns the model does not take."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        self.model, self.columns = model, columns
        self.classes_ = getattr(model, "classes_", None)

    def predict(self, x: Any) -> Any:
        return self.model.predict(x[self.columns])

    def predict_proba(self, x: Any) -> Any:
        return self.model.predict_proba(x[self.columns])


def write_outputs(
    project: Project,
    version: ModelVersion,
    result: Evaluation,
    data: Path | None,
    output: Path | None,
) -> tuple[Path, Path]:
    """Write the HTML and JSON files, store the JSON as an artifact linked to the version by an
    audit event; ``(html path, json path)``."""
    from noria.pipeline import materializers
    from noria.reports.data_report import write_page
    from noria.reports.evaluation_report import render_evaluation_report

    folder = output or project.home / "reports" / "evaluation"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{version.name}-v{version.version}"
    if data is not None:
        stem += "-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", data.stem)
    record = result.to_dict()
    json_path = write_page(folder / f"{stem}.json", result.to_json().decode())
    html = write_page(folder / f"{stem}.html", render_evaluation_report(record))
    kind, payload = materializers.dump(record)
    artifact = project.artifacts.put(payload)
    metadata = project.metadata
    with metadata.write() as tx:
        metadata.insert_artifacts(
            tx,
            [{"id": artifact, "materializer": kind, "type_name": "noria.evaluation",
              "size": len(payload), "created_at": time.time()}],
        )  # fmt: skip
        metadata.audit(
            tx,
            action="evaluate",
            object=f"{version.name}/{version.version}",
            detail={"artifact_id": artifact, "data": result.data, "rows": result.rows,
                    "report": str(html)},
        )  # fmt: skip
    return html, json_path


def print_evaluation(result: Evaluation) -> None:
    """The metrics with intervals and baseline, and the first weak segments."""
    from rich.table import Table

    out = console()
    out.print(
        f"{result.model} on {result.data}: {result.rows:,} rows, {result.task} of "
        f"'{result.target}'; baseline: {result.baseline}"
    )
    table = Table(show_edge=False)
    for col in ("metric", "model", "95 % interval", "baseline"):
        table.add_column(col)
    for name, m in result.metrics.items():
        interval = f"{m['low']:.4g} – {m['high']:.4g}" if m["low"] is not None else "-"
        base = m["baseline"]
        table.add_row(name, _num(m["value"]), interval, _num(base))
    out.print(table)
    weak = result.weak_segments
    segments = weak["segments"]
    if not segments:
        out.print(f"weak segments: none significant ({weak['tested']:,} tested)")
    for i, s in enumerate(segments[:5], 1):
        where = " and ".join(f"{c} = {v}" for c, v in zip(s["columns"], s["values"], strict=True))
        out.print(
            f"weak segment {i}: {where} — {s['rows']:,} rows, {weak['metric']} "
            f"{s['metric']:.4g} vs {s['rest_metric']:.4g} elsewhere (q = {s['q']:.2g})",
            markup=False,
        )
    for note in result.notes:
        out.print(f"note: {note}", markup=False)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"
