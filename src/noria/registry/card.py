"""Model cards: what a version is, what it was trained on, how good it is, what it went through.

:func:`card_data` gathers the figures; :func:`model_card` renders them in Markdown or HTML.

Not here: computing an evaluation (``noria evaluate`` stores one; the card shows the newest).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from noria.errors import NotFoundError, UserError
from noria.registry.audit import MOVES
from noria.store.metadata import MetadataStore, ModelVersion

if TYPE_CHECKING:
    from noria.store.artifacts import ArtifactStore

__all__ = ["card_data", "model_card"]


def card_data(
    metadata: MetadataStore, version: ModelVersion, artifacts: ArtifactStore | None = None
) -> dict[str, Any]:
    """What a model card shows: data, metrics, params, lineage, aliases, history; with
    ``artifacts``, also the training data's shape and the evidence (the newest stored
    evaluation's metrics with intervals, baseline, top features and weak segments; the model
    tests)."""
    run = None
    run_metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    lineage: list[tuple[str, str, str, str]] = []
    if version.run_id:
        try:
            run = metadata.get_run(version.run_id)
        except NotFoundError:
            run = None
        if run is not None:
            for key, value, _, _ in metadata.metrics(run.id):
                run_metrics[key] = value
            tags = metadata.tags(run.id)
            lineage = metadata.lineage_of_run(run.id)
    produced = {step: artifact for step, d, _, artifact in lineage if d == "out"}
    aliases = [a for _, a, v in metadata.aliases(version.name) if v == version.version]
    history = [
        e
        for e in metadata.audit_events(f"{version.name}/{version.version}")
        if e["action"] in (*MOVES, "register", "promote_refused", "evaluate", "model_tests")
    ]
    data: dict[str, Any] = {k: v for k, v in run_metrics.items() if k.startswith("rows_")}
    evidence: dict[str, Any] = {"evaluation": None, "tests": None}
    if artifacts is not None:
        data.update(_trained_on(metadata, artifacts, lineage, version))
        evidence = _evidence(metadata, artifacts, version)
    return {
        **evidence,
        "name": version.name,
        "version": version.version,
        "created": _when(version.created_at),
        "description": version.description or "",
        "aliases": aliases,
        "artifact_id": version.artifact_id,
        "run_id": version.run_id,
        "run_status": run.status if run else None,
        "pipeline": run.pipeline if run else None,
        "owner": run.owner if run else None,
        "params": dict(version.params),
        "metrics": dict(version.metrics),
        "tags": tags,
        "data": data,
        "signature": list(version.signature),
        "artifacts": produced,
        "history": [
            {
                "time": _when(e["time"]),
                "actor": e["actor"],
                "action": e["action"],
                "alias": e["detail"].get("alias", ""),
                "reason": e["detail"].get("reason") or _said(e),
            }
            for e in history
        ],
    }


def _said(event: dict[str, Any]) -> str:
    """What an evidence event says, for the history table."""
    detail = event["detail"]
    if event["action"] == "evaluate":
        return f"{detail.get('rows', '?')} rows of {detail.get('data', '?')}"
    if event["action"] == "model_tests":
        return (
            f"{detail.get('passed', 0)} passed, {detail.get('failed', 0)} failed "
            f"({detail.get('when', '')})"
        )
    return ""


def _trained_on(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    lineage: list[tuple[str, str, str, str]],
    version: ModelVersion,
) -> dict[str, Any]:
    """The training data: its artifact, rows and columns, the holdout's rows, the target."""
    from noria.errors import StoreError
    from noria.pipeline.runner import load_artifact

    found = {(s, d, n): a for s, d, n, a in lineage}
    out: dict[str, Any] = {}
    raw = found.get(("raw_data", "out", "output"))
    if raw:
        out["data artifact"] = raw
    splits = found.get(("evaluation", "in", "splits"))
    if splits:
        try:
            parts = load_artifact(metadata, artifacts, splits)
        except (NotFoundError, StoreError, OSError, KeyError):
            return out
        train, test = parts.get("train"), parts.get("test")
        if train is not None:
            out["training rows"] = len(train)
            out["columns"] = ", ".join(map(str, train.columns))
        if test is not None:
            out["holdout rows"] = len(test)
    if version.params.get("target"):
        out["target"] = version.params["target"]
    return out


def _evidence(
    metadata: MetadataStore, artifacts: ArtifactStore, version: ModelVersion
) -> dict[str, Any]:
    from noria.registry.evidence import stored_evaluation, stored_tests

    evaluation = stored_evaluation(metadata, artifacts, version)
    summary = None
    if evaluation is not None:
        features = (evaluation.get("importance") or {}).get("features") or []
        weak = evaluation.get("weak_segments") or {}
        summary = {
            "data": evaluation.get("data"),
            "rows": evaluation.get("rows"),
            "baseline": evaluation.get("baseline"),
            "metrics": evaluation.get("metrics", {}),
            "top_features": features[:5],
            "importance_metric": (evaluation.get("importance") or {}).get("metric", ""),
            "weak_segments": [
                {
                    "where": " and ".join(
                        f"{c} = {v}" for c, v in zip(s["columns"], s["values"], strict=False)
                    ),
                    "rows": s["rows"],
                    "metric": s.get("metric"),
                    "rest": s.get("rest_metric"),
                }
                for s in weak.get("segments", [])[:5]
            ],
            "weak_metric": weak.get("metric", ""),
            "weak_tested": weak.get("tested", 0),
        }
    return {"evaluation": summary, "tests": stored_tests(metadata, version)}


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def model_card(
    metadata: MetadataStore,
    version: ModelVersion,
    *,
    fmt: str = "markdown",
    artifacts: ArtifactStore | None = None,
) -> str:
    """The model card of a version in Markdown (``fmt="markdown"``) or HTML (``"html"``);
    with ``artifacts``, the evidence too (see :func:`card_data`).

    Raises:
        UserError: an unknown format.
    """
    if fmt not in ("markdown", "html"):
        raise UserError(f"card format '{fmt}' is unknown; use markdown or html")
    card = card_data(metadata, version, artifacts)
    from jinja2 import Environment

    env = Environment(autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_MARKDOWN if fmt == "markdown" else _HTML)
    return template.render(card=card, fmt=_fmt)


def _fmt(value: Any) -> str:
    if isinstance(value, float):  # whole numbers as 10,000 (not 1e+04)
        return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    if isinstance(value, dict):  # hyperparameters: C=0.5236, class_weight=balanced
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "defaults"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    if value is None:
        return "-"
    return str(value)


_MARKDOWN = """\
# Model card: {{ card.name }} version {{ card.version }}

{% if card.description %}{{ card.description }}

{% endif %}
| | |
| --- | --- |
| registered | {{ card.created }} |
| aliases | {{ card.aliases | join(", ") or "none" }} |
| family | {{ card.params.get("family", "-") }} |
| task | {{ card.params.get("task", "-") }} |
| artifact | `{{ card.artifact_id }}` |
| run | `{{ card.run_id or "-" }}` ({{ card.run_status or "-" }}, by {{ card.owner or "-" }}) |

## Data it was trained on

{% for k, v in card.data.items() %}
- {{ k }}: {{ fmt(v) }}
{% else %}
- no data figures recorded
{% endfor %}

## Metrics (holdout)

| metric | value |
| --- | --- |
{% for k, v in card.metrics.items() %}
| {{ k }} | {{ fmt(v) }} |
{% endfor %}

## Evaluation

{% if card.evaluation %}
On {{ "{:,}".format(card.evaluation.rows) }} rows of {{ card.evaluation.data }}; the baseline:
{{ card.evaluation.baseline }}.

| metric | value | 95 % interval | baseline |
| --- | --- | --- | --- |
{% for k, m in card.evaluation.metrics.items() %}
| {{ k }} | {{ fmt(m.value) }} | {{ fmt(m.low) }} – {{ fmt(m.high) }} | {{ fmt(m.baseline) }} |
{% endfor %}

Top features ({{ card.evaluation.importance_metric or "permutation importance" }}):
{% for f in card.evaluation.top_features %}
- {{ f.feature }}: {{ fmt(f.importance) }}
{% else %}
- not computed (`noria evaluate` with --explain)
{% endfor %}

Weak segments ({{ card.evaluation.weak_metric }}, {{ card.evaluation.weak_tested }} tested):
{% for w in card.evaluation.weak_segments %}
- {{ w.where }}: {{ w.rows }} rows, {{ fmt(w.metric) }} against {{ fmt(w.rest) }} elsewhere
{% else %}
- none significant
{% endfor %}
{% else %}
- no evaluation stored: `noria evaluate {{ card.name }}@{{ card.version }}`
{% endif %}

## Model tests

{% if card.tests %}
{{ card.tests.passed }} passed, {{ card.tests.failed }} failed (at {{ card.tests.when }}):

{% for r in card.tests.results %}
- {{ "PASS" if r.passed else "FAIL" }} {{ r.name }}: {{ r.detail }}
{% endfor %}
{% else %}
- none run
{% endif %}

## Params

{% for k, v in card.params.items() %}
- {{ k }}: {{ fmt(v) }}
{% endfor %}

## Input signature

| column | dtype |
| --- | --- |
{% for c in card.signature %}
| {{ c.name }} | {{ c.dtype }} |
{% endfor %}

## Lineage

{% for step, artifact in card.artifacts.items() %}
- {{ step }} → `{{ artifact }}`
{% else %}
- no lineage recorded
{% endfor %}

## History

| time | who | what | alias | why |
| --- | --- | --- | --- | --- |
{% for e in card.history %}
| {{ e.time }} | {{ e.actor }} | {{ e.action }} | {{ e.alias }} | {{ e.reason }} |
{% endfor %}
"""

_HTML = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ card.name }} v{{ card.version }} — model card</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .6rem}
th{background:#f4f4f4;text-align:left}code{font-size:90%}
</style></head><body>
<h1>Model card: {{ card.name }} version {{ card.version }}</h1>
{% if card.description %}<p>{{ card.description }}</p>{% endif %}
<table>
<tr><th>registered</th><td>{{ card.created }}</td></tr>
<tr><th>aliases</th><td>{{ card.aliases | join(", ") or "none" }}</td></tr>
<tr><th>family</th><td>{{ card.params.get("family", "-") }}</td></tr>
<tr><th>task</th><td>{{ card.params.get("task", "-") }}</td></tr>
<tr><th>artifact</th><td><code>{{ card.artifact_id }}</code></td></tr>
<tr><th>run</th><td><code>{{ card.run_id or "-" }}</code> ({{ card.run_status or "-" }})</td></tr>
</table>
<h2>Data</h2><ul>
{% for k, v in card.data.items() %}<li>{{ k }}: {{ fmt(v) }}</li>
{% else %}<li>none recorded</li>{% endfor %}
</ul>
<h2>Metrics (holdout)</h2><table><tr><th>metric</th><th>value</th></tr>
{% for k, v in card.metrics.items() %}<tr><td>{{ k }}</td><td>{{ fmt(v) }}</td></tr>{% endfor %}
</table>
<h2>Evaluation</h2>
{% if card.evaluation %}
<p>On {{ card.evaluation.rows }} rows of {{ card.evaluation.data }}; the baseline:
{{ card.evaluation.baseline }}.</p>
<table><tr><th>metric</th><th>value</th><th>95 % interval</th><th>baseline</th></tr>
{% for k, m in card.evaluation.metrics.items() %}<tr><td>{{ k }}</td><td>{{ fmt(m.value) }}</td>
<td>{{ fmt(m.low) }} – {{ fmt(m.high) }}</td><td>{{ fmt(m.baseline) }}</td></tr>{% endfor %}
</table>
<h3>Top features</h3><ul>
{% for f in card.evaluation.top_features %}<li>{{ f.feature }}: {{ fmt(f.importance) }}</li>
{% else %}<li>not computed</li>{% endfor %}</ul>
<h3>Weak segments ({{ card.evaluation.weak_metric }})</h3><ul>
{% for w in card.evaluation.weak_segments %}<li>{{ w.where }}: {{ w.rows }} rows,
{{ fmt(w.metric) }} against {{ fmt(w.rest) }} elsewhere</li>
{% else %}<li>none significant</li>{% endfor %}</ul>
{% else %}<p>No evaluation stored.</p>{% endif %}
<h2>Model tests</h2><ul>
{% if card.tests %}{% for r in card.tests.results %}
<li>{{ "PASS" if r.passed else "FAIL" }} {{ r.name }}: {{ r.detail }}</li>{% endfor %}
{% else %}<li>none run</li>{% endif %}</ul>
<h2>Params</h2><table>
{% for k, v in card.params.items() %}<tr><th>{{ k }}</th><td>{{ fmt(v) }}</td></tr>{% endfor %}
</table>
<h2>Input signature</h2><table><tr><th>column</th><th>dtype</th></tr>
{% for c in card.signature %}<tr><td>{{ c.name }}</td><td>{{ c.dtype }}</td></tr>{% endfor %}
</table>
<h2>Lineage</h2><ul>
{% for step, artifact in card.artifacts.items() %}<li>{{ step }} → <code>{{ artifact }}</code></li>
{% else %}<li>none recorded</li>{% endfor %}
</ul>
<h2>History</h2><table><tr><th>time</th><th>who</th><th>what</th><th>alias</th><th>why</th></tr>
{% for e in card.history %}<tr><td>{{ e.time }}</td><td>{{ e.actor }}</td><td>{{ e.action }}</td>
<td>{{ e.alias }}</td><td>{{ e.reason }}</td></tr>{% endfor %}
</table>
</body></html>
"""
