"""A monitor pass: new prediction-log windows against the training profile, and live metrics.

:func:`run_monitor` reads the segments of a model's prediction log (:mod:`noria.predlog`) that
no window has consumed (:mod:`noria.monitor.logs`), groups them into windows of at most
``monitor.window_rows`` rows, and for each window:

1. profiles the logged inputs and predictions on the reference's histogram edges
   (:func:`noria.data.profile.profile_data` with ``reference=``): one pass, O(window);
2. compares that profile with the reference (:func:`noria.monitor.drift.compare`): the
   training data's profile (the ``data_profile`` artifact of the run that made the version) for
   the inputs, and the profile of the version's predictions on its own training data for
   ``output.prediction`` (prediction drift; computed once per version and kept under
   ``.noria/monitor/``);
3. checks the inputs against the project's schema and checks (data quality);
4. stores the window's report as a JSON artifact and records the window with its segments in
   one transaction (exactly once: see :mod:`noria.monitor.logs`).

Then the live metrics of every window whose predictions have labels are computed
(:mod:`noria.monitor.live`). A window holding several versions (the champion moved within it)
is compared with the reference of the version that served most of its rows.

Not here: the HTML report (:mod:`noria.reports.monitor_report`), alerts
(:mod:`noria.monitor.alerts`), what to do about it (:mod:`noria.monitor.loop`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import NotFoundError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from noria.data.profile import Profile
    from noria.monitor.drift import DriftConfig, DriftReport
    from noria.monitor.live import LiveMetrics
    from noria.project import Project
    from noria.store.metadata import ModelVersion

__all__ = [
    "MonitorResult",
    "WindowReport",
    "drift_config",
    "live_performance",
    "monitor_and_report",
    "reference_profile",
    "run_monitor",
]

PREDICTION = "output.prediction"
_INPUT = "input."


@dataclass(frozen=True)
class WindowReport:
    """What one monitor window found.

    Attributes:
        id: The window's id in the metadata store.
        model: The model.
        rows: Logged predictions in the window.
        versions: Model versions that served them.
        reference_version: The version whose reference the window was compared with.
        first_time, last_time: Times of its first and last prediction (Unix seconds).
        status: ``drift``, ``ok`` or ``too_small``.
        drift: Drift per input column and of the predictions.
        quality: Failed data-quality checks (``check``, ``severity``, ``failing``, ``message``).
        segments: The log segments it consumed.
        reference, current: The two profiles compared (for plots; not in :meth:`to_dict`).
    """

    id: int
    model: str
    rows: int
    versions: list[int]
    reference_version: int
    first_time: float | None
    last_time: float | None
    status: str
    drift: DriftReport
    quality: list[dict[str, Any]] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    reference: Profile | None = field(default=None, repr=False, compare=False)
    current: Profile | None = field(default=None, repr=False, compare=False)

    @property
    def drifted(self) -> list[str]:
        """Drifted columns (inputs, and ``output.prediction`` for prediction drift)."""
        return self.drift.drifted

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the window's report artifact; ``bars``: the distributions of its
        drifted columns, the charts of the monitor report)."""
        from noria.reports.monitor_report import window_bars

        return {
            "format": "noria.monitor-window/1",
            "id": self.id,
            "model": self.model,
            "rows": self.rows,
            "versions": self.versions,
            "reference_version": self.reference_version,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "status": self.status,
            "drift": self.drift.to_dict(),
            "quality": self.quality,
            "segments": self.segments,
            "bars": window_bars(self),
        }


@dataclass
class MonitorResult:
    """The outcome of :func:`run_monitor`.

    Attributes:
        model: The model monitored.
        windows: The windows recorded by this pass, oldest first.
        warnings: Segments skipped (unreadable), windows not recorded, and why.
        live: Live metrics per window and version, over every labelled window.
    """

    model: str
    windows: list[WindowReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    live: list[LiveMetrics] = field(default_factory=list)


def drift_config(project: Project) -> DriftConfig:
    """The drift settings of ``monitor:`` in noria.yaml."""
    from noria.monitor.drift import DriftConfig

    spec = project.spec.monitor if project.spec is not None else None
    if spec is None:
        return DriftConfig()
    defaults = DriftConfig()
    return DriftConfig(
        numeric_test=spec.numeric_test,
        categorical_test=spec.categorical_test,
        thresholds={**defaults.thresholds, **spec.thresholds},
        null_rate_threshold=spec.null_rate_threshold,
        min_samples=spec.min_samples,
        correction=spec.correction,
    )


def reference_profile(project: Project, version: ModelVersion) -> Profile:
    """The reference a version's live traffic is compared with (see the module docstring).

    Raises:
        NotFoundError: the run that made the version left no training profile.
    """
    from noria.data.profile import Profile

    cache = project.home / "monitor" / f"reference-{version.name}-{version.version}.json"
    if cache.is_file():
        return Profile.from_dict(json.loads(cache.read_text()))
    from noria.pipeline.runner import load_artifact
    from noria.registry import step_artifacts

    metadata, artifacts = project.metadata, project.artifacts
    profile = step_artifacts(metadata, version, "data_profile", "out")
    profile_id = next(iter(profile.values()), None)
    if profile_id is None:
        raise NotFoundError(
            f"model {version.name} version {version.version} has no training profile (it was "
            "not made by the built-in pipeline's data_profile step): nothing to compare with"
        )
    reference = Profile.from_dict(load_artifact(metadata, artifacts, profile_id))
    columns = dict(reference.columns)
    predictions = _holdout_predictions(project, version)
    if predictions is not None:
        columns[PREDICTION] = predictions
    reference = Profile(rows=reference.rows, columns=columns, source=reference.source)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.tmp")
    tmp.write_text(json.dumps(reference.to_dict()))
    tmp.replace(cache)
    return reference


def _holdout_predictions(project: Project, version: ModelVersion) -> Any:
    """The profile of the version's predictions on its training and holdout data.

    Both parts, not the holdout alone: a small holdout is too few predictions to judge drift
    by, and the share of each predicted class (or the spread of predicted values) on the
    training part differs from the holdout's far less than a drifted window does.
    ``None`` when the version has no recorded splits.
    """
    import pandas as pd

    from noria.data.profile import profile_data
    from noria.pipeline.runner import load_artifact
    from noria.registry import holdout_artifacts

    splits_id, problem_id = holdout_artifacts(project.metadata, version)
    if splits_id is None or problem_id is None:
        return None
    metadata, artifacts = project.metadata, project.artifacts
    splits = load_artifact(metadata, artifacts, splits_id)
    data = pd.concat([splits["train"], splits["test"]], ignore_index=True)
    target = load_artifact(metadata, artifacts, problem_id)["target"]
    model = load_artifact(metadata, artifacts, version.artifact_id)
    predicted = model.predict(data.drop(columns=[target]))
    frame = pd.DataFrame({PREDICTION: predicted})
    return profile_data(frame)[PREDICTION]


def _window_frame(tables: list[pa.Table]) -> pa.Table:
    """The window's inputs under their own names, and the predictions."""
    import pyarrow as pa

    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
    keep = [c for c in table.column_names if c.startswith(_INPUT) or c == PREDICTION]
    table = table.select(keep)
    return table.rename_columns([c.removeprefix(_INPUT) for c in keep])


def _quality(project: Project, frame: pa.Table, target: str) -> list[dict[str, Any]]:
    """Failed checks of the window's inputs against the schema and noria.yaml's checks."""
    from dataclasses import replace

    from noria.data.schema import load_schema
    from noria.data.validate import parse_checks, validate_frame

    spec = project.spec
    if spec is None:
        return []
    schema_file = project.root / spec.validation.schema_file
    schema = load_schema(schema_file) if schema_file.is_file() else None
    if schema is not None:  # the log has no target, and has the predictions
        columns = {n: c for n, c in schema.columns.items() if n != target}
        schema = replace(
            schema,
            columns=columns,
            extra_columns="ignore",
            duplicates="ignore",
            min_rows=None,
            max_rows=None,
        )
    checks = [c for c in spec.validation.check_dicts() if c.get("column") != target]
    inputs = frame.drop_columns([PREDICTION]) if PREDICTION in frame.column_names else frame
    result = validate_frame(inputs.to_pandas(), schema, parse_checks(checks))
    return [
        {
            "check": r.check.label,
            "severity": r.severity,
            "failing": r.failing,
            "message": r.message,
        }
        for r in result.results
        if not r.passed
    ]


def _version(project: Project, model: str, number: int) -> ModelVersion:
    from noria.registry import get_version

    return get_version(project.metadata, model, number)


def run_monitor(
    project: Project,
    *,
    model: str | None = None,
    max_rows: int | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
) -> MonitorResult:
    """Monitor the new windows of a model's prediction log (see the module docstring).

    Args:
        project: The project.
        model: The model (``monitor.model`` of noria.yaml, else the project's name).
        max_rows: Most rows per window (``monitor.window_rows``).
        on_window: Called with each window once it is recorded.

    Raises:
        NotFoundError: the model is not registered (the message names the registered ones), or
            has no training profile.
        UserError: an invalid model name (``../x``): nothing is read or written for it.
    """
    import duckdb
    import numpy as np
    import orjson

    from noria.data.profile import profile_data
    from noria.errors import StoreError
    from noria.monitor.drift import compare
    from noria.monitor.logs import commit_window, pending_segments
    from noria.predlog import log_folder, read_segments, split_windows
    from noria.registry import known_model

    spec = project.spec
    name = model or _monitored_model(project)
    known_model(project.metadata, name)
    max_rows = max_rows or (spec.monitor.window_rows if spec else 50_000)
    config = drift_config(project)
    min_samples = config.min_samples
    folder = log_folder(project.home, name)
    result = MonitorResult(name)
    names = pending_segments(project.metadata, folder, name)
    segments, result.warnings = read_segments(folder, names)
    references: dict[int, Profile] = {}
    con = duckdb.connect()  # one connection for every window: no set-up cost per window
    for group in split_windows(segments, max_rows):
        tables = [s.table for s in group]
        versions = np.concatenate([t.column("version").to_numpy() for t in tables])
        numbers, counts = np.unique(versions, return_counts=True)
        served = int(numbers[np.argmax(counts)])
        version = _version(project, name, served)
        if served not in references:
            references[served] = reference_profile(project, version)
        reference = references[served]
        frame = _window_frame(tables)
        columns = [c for c in frame.column_names if c in reference.columns]
        current = profile_data(frame, reference=reference, columns=columns, con=con)
        drift = compare(reference, current, config, columns=columns)
        target = spec.target if spec is not None else ""
        quality = _quality(project, frame, target)
        rows = sum(s.rows for s in group)
        times = np.concatenate([t.column("time").to_numpy() for t in tables])
        status = "drift" if drift.drifted else ("too_small" if rows < min_samples else "ok")
        report = WindowReport(
            id=0,
            model=name,
            rows=rows,
            versions=[int(v) for v in numbers],
            reference_version=served,
            first_time=float(times.min()) if len(times) else None,
            last_time=float(times.max()) if len(times) else None,
            status=status,
            drift=drift,
            quality=quality,
            segments=[s.name for s in group],
            reference=reference,
            current=current,
        )
        artifact = project.artifacts.put(orjson.dumps(report.to_dict(), default=str))
        try:
            window_id = commit_window(
                project.metadata,
                model=name,
                segments=group,
                versions=report.versions,
                status=status,
                drifted=drift.drifted,
                report_artifact=artifact,
                first_time=report.first_time,
                last_time=report.last_time,
            )
        except StoreError as exc:
            result.warnings.append(str(exc))
            break
        report = WindowReport(**{**report.__dict__, "id": window_id})
        result.windows.append(report)
        if on_window is not None:
            on_window(report)
    con.close()
    result.live = live_performance(project, name)
    return result


def _monitored_model(project: Project) -> str:
    spec = project.spec
    reference = spec.monitor.model if spec is not None else None
    if reference:
        return reference.partition("@")[0]
    if spec is None:
        raise NotFoundError("no noria.yaml here: name the model with --model NAME")
    return spec.name


def labelled(
    project: Project, model: str, columns: Sequence[str] = ()
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labelled predictions of the monitored windows (with the logged ``columns`` asked
    for), and ``{segment name: window id}``."""
    from noria.monitor.labels import labelled_predictions
    from noria.monitor.logs import window_of_segments
    from noria.predlog import log_folder

    window_of = window_of_segments(project.metadata, model)
    folder = log_folder(project.home, model)
    segments = [folder / s for s in sorted(window_of)]
    return labelled_predictions(project.home, model, segments, columns=columns), window_of


def live_performance(project: Project, model: str) -> list[LiveMetrics]:
    """Live metrics per monitored window and version, from the labels that have arrived."""
    from noria.monitor.live import live_metrics

    frame, window_of = labelled(project, model)
    if frame.empty:
        return []
    out: list[LiveMetrics] = []
    for number, part in frame.groupby("version"):
        version = _version(project, model, int(number))
        out += live_metrics(
            part,
            task=version.params.get("task", "classification"),
            classes=version.params.get("classes") or (),
            window_of=window_of,
        )
    return sorted(out, key=lambda m: (m.window or 0, m.version))


def report_path(project: Project, model: str) -> Path:
    """Where ``noria monitor`` writes the HTML report of a model."""
    return project.home / "reports" / f"monitor-{model}.html"


def monitor_and_report(
    project: Project,
    *,
    model: str | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
) -> tuple[MonitorResult, Path]:
    """:func:`run_monitor`, then the HTML report and the alerts: what ``noria monitor`` does.

    Returns the result (undelivered alerts added to its warnings) and the report's path.
    """
    from noria.monitor.alerts import send_alerts, window_alerts
    from noria.monitor.logs import windows
    from noria.reports.monitor_report import stored_reports, write_monitor_report

    result = run_monitor(project, model=model, on_window=on_window)
    records = windows(project.metadata, result.model, limit=1 << 62)
    path = write_monitor_report(
        report_path(project, result.model),
        result.model,
        records,
        result.windows[-1] if result.windows else None,
        [m.to_dict() for m in result.live],
        stored=stored_reports(project.artifacts, records),
        events=project.metadata.audit_events(),
    )
    webhook = project.spec.monitor.webhook if project.spec else None
    alerts = [a for w in result.windows for a in window_alerts(w)]
    result.warnings += send_alerts(alerts, webhook)
    return result, path
