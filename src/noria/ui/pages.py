"""What each page of the dashboard shows: the context its template renders.

Each function takes the :class:`Dashboard` and the request's query values and returns
``(template name, context, HTTP status)``. They only read (through :mod:`noria.ui.queries`, the
registry's and the monitor's public functions); the two actions (promote, rollback) are in
:mod:`noria.ui.app`, which also checks tokens and renders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from markupsafe import Markup, escape

from noria.errors import NotFoundError, UserError
from noria.ui import analysis, histories, previews, queries, svg
from noria.ui.caches import ColumnCache, sqlite_path
from noria.ui.filters import Column, FilterError, parse_column

if TYPE_CHECKING:
    from noria.project import Project
    from noria.store.metadata import MetadataStore
    from noria.ui.project import DashboardProject

__all__ = ["Dashboard"]

Page = tuple[str, dict[str, Any], int]
_MAX_CHARTS = 24


@dataclass
class Dashboard:
    """What the pages read: the project, its stores, the key catalog, the settings."""

    project: Project | DashboardProject
    allow_actions: bool = False
    catalogs: queries.Catalogs = field(init=False)
    columns: ColumnCache | None = field(init=False)

    def __post_init__(self) -> None:
        # nothing is read before the first request: the keys load in the background from then
        self.catalogs = queries.Catalogs(self.store)
        self.columns = ColumnCache(self.store.url) if sqlite_path(self.store.url) else None

    @property
    def store(self) -> MetadataStore:
        """The metadata store."""
        return self.project.metadata


def _int(q: Mapping[str, str], key: str, default: int, lo: int = 1, hi: int = 10**9) -> int:
    try:
        return min(max(int(q.get(key, default)), lo), hi)
    except ValueError:
        return default


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


# --------------------------------------------------------------------------- runs


def runs(d: Dashboard, q: Mapping[str, str]) -> Page:
    """The runs page: filter, search, status, sort, columns, pages."""
    query = queries.RunQuery(
        filter=q.get("filter", ""),
        search=q.get("q", ""),
        status=q.get("status", ""),
        sort=q.get("sort", "started") or "started",
        desc=q.get("desc", "1") != "0",
        page=_int(q, "page", 1),
        per_page=_int(q, "per", 50, 1, 1000),
        trials=q.get("trials") == "1",
        columns=[c for c in q.get("cols", "").split(",") if c.strip()],
    )
    ctx: dict[str, Any] = {"query": query, "error": None, "page": None}
    status = 200
    try:
        ctx["page"] = queries.page_of_runs(d.store, d.catalogs, query, d.columns)
    except FilterError as exc:
        ctx["error"] = {"message": exc.reason, "column": exc.column, "text": exc.expression}
        status = 400
    except UserError as exc:
        ctx["error"] = {"message": str(exc), "column": None, "text": ""}
        status = 400
    catalog = d.catalogs.peek()
    ctx["choices"] = (
        [Column("metric", k).label for k in sorted(catalog.metrics)[:500]]
        + [Column("param", k).label for k in sorted(catalog.params)[:500]]
        + [Column("tag", k).label for k in sorted(catalog.tags)[:200]]
    )
    page = ctx["page"]
    ctx["live"] = bool(page and any(r.status == "running" for r in page.runs))
    return "runs.html.j2", ctx, status


# --------------------------------------------------------------------------- one run


def run(d: Dashboard, run_id: str, q: Mapping[str, str]) -> Page:
    """A run: steps, params, tags, metric charts, artifacts, trials, registered versions."""
    store = d.store
    record = queries.run_or_404(store, run_id)
    keys = histories.metric_keys(store, record.id)
    chosen = q.get("metric")
    charted = [k for k in keys if k.many and (not chosen or k.key == chosen)][:_MAX_CHARTS]
    charts = []
    for k in charted:
        found = histories.load_history(store, record.id, k.key, ends=(k.first_id, k.last_id))
        k.points = found.count  # the chart's pass counted them
        charts.append((k.key, svg.line_chart(found.points, k.key)))
    trials = queries.children(store, record.id)
    trial_ids = [t.id for t in trials]
    trial_metrics = queries.many(store, "metrics", trial_ids)
    trial_params = queries.many(store, "params", trial_ids)
    trial_cols = queries.default_columns(trial_metrics, trial_params, 4, 6)
    convergence = None
    names = [c.key for c in trial_cols if c.kind == "metric"]
    first_metric = next((k for k in names if k.startswith("cv_")), names[0] if names else None)
    if trials and first_metric:
        convergence = svg.scatter(
            [
                (i, trial_metrics.get(t.id, {}).get(first_metric), t.name, f"/runs/{t.id}")
                for i, t in enumerate(trials)
            ],
            "trial",
            first_metric,
            best_line=True,
        )
    versions = queries.versions_of_run(store, record.id)
    ctx = {
        "run": record,
        "parent": _parent(store, record.parent_id),
        "steps": store.step_runs(record.id),
        "params": store.params(record.id),
        "tags": store.tags(record.id),
        "metrics": keys,
        "charts": charts,
        "more_charts": sum(1 for k in keys if k.many) - len(charts),
        "artifacts": queries.artifacts_of(store, record.id),
        "trials": trials,
        "trial_cols": trial_cols,
        "trial_values": {
            t.id: {
                c: (trial_metrics if c.kind == "metric" else trial_params).get(t.id, {}).get(c.key)
                for c in trial_cols
            }
            for t in trials
        },
        "convergence": convergence,
        "versions": versions,
        "previewable": previews.PREVIEWABLE,
        "reports": [
            r
            for r in reports(d.project)
            if any(r.startswith(f"evaluation/{name}-v{number}") for name, number in versions)
            or record.id[:12] in r
        ],
    }
    return "run.html.j2", ctx, 200


def _parent(store: MetadataStore, parent_id: str | None) -> Any:
    if not parent_id:
        return None
    try:
        return store.get_run(parent_id)
    except NotFoundError:
        return None


# --------------------------------------------------------------------------- compare


def compare(d: Dashboard, q: Mapping[str, str], refs: list[str]) -> Page:
    """2 to 1,000 runs side by side: params diff, metrics, scatter, parallel coordinates."""
    store = d.store
    parent = None
    if q.get("parent"):
        parent = queries.run_or_404(store, q["parent"])
        chosen = queries.children(store, parent.id, limit=1000)
    else:
        chosen = queries.resolve_runs(store, refs)
    if len(chosen) < 2 and parent is None:
        raise UserError("compare: choose at least two runs (tick them on the runs page)")
    ids = [r.id for r in chosen]
    params = queries.many(store, "params", ids)
    metrics = queries.many(store, "metrics", ids)
    param_keys = sorted({k for p in params.values() for k in p})
    metric_keys = sorted({k for m in metrics.values() for k in m})

    def dumps(v: Any) -> str:
        return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()

    differ, same = [], {}
    for key in param_keys:
        seen = {dumps(params.get(i, {}).get(key, "\0missing")) for i in ids}
        if len(seen) > 1:
            differ.append(key)
        else:
            same[key] = params[ids[0]].get(key)
    numeric = [
        Column("param", k)
        for k in differ
        if all(
            _number(params.get(i, {}).get(k)) is not None or k not in params.get(i, {}) for i in ids
        )
        and any(_number(params.get(i, {}).get(k)) is not None for i in ids)
    ]
    numeric.sort(
        key=lambda c: -sum(_number(params.get(i, {}).get(c.key)) is not None for i in ids)
    )  # the best-covered params first
    numeric += [Column("metric", k) for k in metric_keys]
    catalog = d.catalogs.peek()
    if any(q.get(a) and parse_column(q[a], catalog) is None for a in ("x", "y")):
        catalog = d.catalogs.refresh()

    def value(run_id: str, col: Column) -> Any:
        source = metrics if col.kind == "metric" else params
        return source.get(run_id, {}).get(col.key)

    x = parse_column(q.get("x", ""), catalog) if q.get("x") else None
    y = parse_column(q.get("y", ""), catalog) if q.get("y") else None
    x = x or (numeric[0] if numeric else None)
    y = (
        y
        or next((c for c in numeric if c != x and c.kind == "metric"), None)
        or (numeric[1] if len(numeric) > 1 else None)
    )
    scatter = None
    if x is not None and y is not None:
        scatter = svg.scatter(
            [
                (value(i, x), value(i, y), r.name, f"/runs/{i}")
                for i, r in zip(ids, chosen, strict=True)
            ],
            x.label,
            y.label,
        )
    axes = [c for c in numeric if c.kind == "param"][:8] + [
        c for c in numeric if c.kind == "metric"
    ][:4]
    if y is not None and y in axes:  # colour by the chosen metric: put it last
        axes.remove(y)
        axes.append(y)
    parallel = svg.parallel_coordinates(
        [a.label for a in axes], [(r.name, [value(r.id, a) for a in axes]) for r in chosen]
    )
    history = None
    if parent is not None and y is not None:
        history = svg.scatter(
            [(n, value(r.id, y), r.name, f"/runs/{r.id}") for n, r in enumerate(chosen)],
            "trial",
            y.label,
            best_line=True,
        )
    shares = []
    if y is not None and y.kind == "metric":
        shares = analysis.importance(params, {i: value(i, y) for i in ids})
    overlay_keys, overlay_key, series = analysis.overlaid_histories(store, chosen, q.get("history"))
    ctx = {
        "importance": svg.importance(shares, f"importance for {y.label}") if y else None,
        "importance_for": y.label if y else "",
        "overlay_keys": overlay_keys,
        "overlay_key": overlay_key,
        "overlay": svg.multi_line_chart(series, overlay_key) if overlay_key else None,
        "overlaid": len(series),
        "runs": chosen,
        "parent": parent,
        "differ": differ,
        "same": same,
        "metric_keys": metric_keys,
        "params": params,
        "metrics": metrics,
        "numeric": [c.label for c in numeric],
        "x": x.label if x else "",
        "y": y.label if y else "",
        "scatter": scatter,
        "parallel": parallel,
        "history": history,
        "refs": ",".join(r.id[:12] for r in chosen) if parent is None else "",
        "table_rows": _compare_rows(chosen, differ, metric_keys, params, metrics),
    }
    return "compare.html.j2", ctx, 200


def _compare_rows(
    chosen: list[Any],
    differ: list[str],
    metric_keys: list[str],
    params: dict[str, dict[str, Any]],
    metrics: dict[str, dict[str, Any]],
) -> Markup:
    """The comparison table's rows as one piece of HTML (1,000 runs × 20 columns: built here,
    every value escaped, rather than 20,000 template calls)."""
    from noria.ui.app import num_text, value_text

    out = []
    for r in chosen:
        p, m = params.get(r.id, {}), metrics.get(r.id, {})
        cells = "".join(f"<td>{escape(value_text(p.get(k)))}</td>" for k in differ)
        cells += "".join(f'<td class="n">{escape(num_text(m.get(k)))}</td>' for k in metric_keys)
        out.append(
            f'<tr><td><a href="/runs/{escape(r.id)}">{escape(r.name)}</a> '
            f'<span class="id">{escape(r.id[:8])}</span></td>{cells}</tr>\n'
        )
    return Markup("".join(out))


# --------------------------------------------------------------------------- models


def models(d: Dashboard) -> Page:
    """Every registered model with its versions and aliases."""
    store = d.store
    versions = store.model_versions()
    aliases = store.aliases()
    names: dict[str, dict[str, Any]] = {}
    for v in versions:
        entry = names.setdefault(v.name, {"versions": 0, "latest": v, "aliases": []})
        entry["versions"] += 1
        entry["latest"] = v
    for name, alias, number in aliases:
        if name in names:
            names[name]["aliases"].append((alias, number))
    return "models.html.j2", {"models": names}, 200


def model(d: Dashboard, name: str, q: Mapping[str, str]) -> Page:
    """A model: versions with their aliases and metrics, the audit log, the action forms."""
    store = d.store
    versions = list(reversed(store.model_versions(name)))
    if not versions:
        raise NotFoundError(f"no model '{name[:80]}' in the registry")
    holders: dict[int, list[str]] = {}
    for _, alias, number in store.aliases(name):
        holders.setdefault(number, []).append(alias)
    metric_keys = sorted({k for v in versions for k in v.metrics})[:8]
    ctx = {
        "name": name,
        "versions": versions,
        "holders": holders,
        "aliases": sorted({a for v in holders.values() for a in v}),
        "metric_keys": metric_keys,
        "events": _audit(store, name),
        "done": {k: q.get(k, "") for k in ("done", "version", "alias")},
    }
    return "model.html.j2", ctx, 200


def _audit(store: MetadataStore, name: str, limit: int = 500) -> list[dict[str, Any]]:
    rows = store.read(
        "SELECT time, actor, action, object, detail FROM audit_events WHERE object = :n OR "
        "(object >= :lo AND object < :hi) ORDER BY id DESC LIMIT :limit",
        {"n": name, "lo": name + "/", "hi": name + "0", "limit": limit},
    )
    out = []
    for t, actor, action, obj, detail in rows:
        data = orjson.loads(detail)
        gates = data.get("gates") if isinstance(data.get("gates"), dict) else {}
        rest = {k: v for k, v in data.items() if k not in ("gates", "reason")}
        out.append(
            {
                "time": t,
                "actor": actor,
                "action": action,
                "object": obj,
                "reason": data.get("reason") or "",
                "gates": gates,
                "detail": rest,
            }
        )
    return out


def card(d: Dashboard, name: str, version: str) -> Page:
    """A version's model card (the registry's card data, in the dashboard's layout)."""
    from noria.registry import card_data

    if not re.fullmatch(r"\d{1,9}", version):
        raise NotFoundError(f"no version '{version[:20]}' of '{name[:80]}'")
    record = d.store.model_version(name, int(version))
    if record is None:
        raise NotFoundError(f"no version {version} of model '{name[:80]}'")
    return "card.html.j2", {"card": card_data(d.store, record), "v": record}, 200


# --------------------------------------------------------------------------- monitor


def reports(project: Project | DashboardProject) -> list[str]:
    """The HTML reports under ``.noria/reports`` and its folders one level down (``name.html``,
    ``evaluation/name.html``)."""
    folder = project.home / "reports"
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            found += [
                f"{entry.name}/{p.name}"
                for p in entry.iterdir()
                if p.suffix == ".html" and p.is_file() and not p.is_symlink()
            ]
        elif entry.suffix == ".html" and entry.is_file() and not entry.is_symlink():
            found.append(entry.name)
    return sorted(found)


def report_file(project: Project | DashboardProject, name: str) -> Path:
    """The path of a report listed by :func:`reports` (nothing else is served).

    Raises:
        NotFoundError: not one of them.
    """
    if name not in reports(project):
        raise NotFoundError(f"no report '{name[:80]}' under .noria/reports")
    return project.home / "reports" / name


def monitor(d: Dashboard) -> Page:
    """Every monitored model: its windows on a timeline, the drifted columns, the reports."""
    from noria.monitor.logs import windows

    models_ = sorted({v.name for v in d.store.model_versions()})
    sections = []
    for name in models_:
        found = windows(d.store, name, limit=200)
        sections.append({"name": name, "windows": found, "timeline": svg.timeline(found)})
    return "monitor.html.j2", {"sections": sections, "reports": reports(d.project)}, 200


def window(d: Dashboard, name: str, window_id: str) -> Page:
    """One monitor window: drift per column (test, statistic, threshold) and quality checks."""
    from noria.monitor.logs import windows

    found = [w for w in windows(d.store, name, limit=100_000) if str(w["id"]) == window_id]
    if not found:
        raise NotFoundError(f"no monitor window '{window_id[:20]}' of model '{name[:80]}'")
    record = found[0]
    try:
        report = orjson.loads(d.project.artifacts.get(record["report_artifact"]))
    except (NotFoundError, FileNotFoundError, orjson.JSONDecodeError):
        report = {}
    columns = sorted(
        report.get("drift", {}).get("columns", []),
        key=lambda c: (not c.get("drifted"), str(c.get("column"))),
    )
    return (
        "window.html.j2",
        {"name": name, "window": record, "report": report, "columns": columns},
        200,
    )
