"""The HTML monitor report: every window's drift with its evidence, data quality, live metrics.

One self-contained file that opens offline (no script, nothing fetched):

- the table of every monitored window, each linked to its section;
- the newest window in detail: the drift of every column (test, statistic, threshold, null
  rates), the reference and current distributions of the drifted columns side by side, its
  failed data checks;
- every earlier window the same, one click away (a ``<details>`` section each), from the report
  stored with the window, so that the drift a window found stays in the report after later
  passes;
- the live metrics per window and version, with a chart of the main one over the windows
  (integer window ticks) on which the champion's promotions, rollbacks and manual moves from the
  audit log are vertical markers.

The distribution charts are small SVGs written here (two bars per bin, the below and above
overflow bins of the reference's edges always drawn and marked, shares labelled), sized by their
``viewBox`` to 100 % of their box: nothing is clipped at any width. Their data,
:func:`drift_bars`, is kept in the stored window report, so earlier windows keep their charts.
The live chart is matplotlib's, inlined the same way.

Reports read plain dicts and duck-typed profiles only: nothing here imports a domain module.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from noria.reports.data_report import inline_svg, template, write_page
from noria.reports.numbers import number, plain_integers, tick

__all__ = [
    "alias_moves",
    "bars_svg",
    "drift_bars",
    "render_monitor_report",
    "stored_reports",
    "window_bars",
    "window_position",
    "write_monitor_report",
]

_TEMPLATE = "monitor_report.html.j2"
_REF, _CUR = "#4a78b5", "#e07b39"
_MARKERS = {"promote": ("#2e7d32", "promoted"), "rollback": ("#c62828", "rolled back"),
            "set_alias": ("#757575", "moved by hand")}  # fmt: skip
#: Audit actions that move an alias.
_MOVES = tuple(_MARKERS)
_MAX_CATEGORIES = 18
#: Windows shown in detail, the newest first; older ones keep their row in the windows table.
DETAILED_WINDOWS = 200


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------------ distribution charts


def drift_bars(ref: Any, cur: Any) -> dict[str, Any] | None:
    """The bars of one column's reference and current distributions (JSON-able).

    Numbers: the reference's histogram bins plus its two overflow bins (``below`` the first
    edge, ``above`` the last), when both profiles share the edges; categories: the reference's
    most frequent values and the current data's new ones. ``None`` when there is nothing to draw.

    Args:
        ref, cur: The column's profiles (``hist``, ``hist_edges()``, ``top()``, ``values``).

    Returns:
        ``{"labels", "reference", "current", "overflow"}``: a label per bin, the counts of each
        side per bin, and which bins are overflow bins.
    """
    if ref.hist and cur.hist:
        edges = ref.hist_edges()
        if edges != cur.hist_edges():
            return None
        group = not plain_integers(getattr(ref, "name", ""))
        first, last = tick(edges[0], group=group), tick(edges[-1], group=group)
        labels = [f"< {first}", *(tick(e, group=group) for e in edges[:-1]), f"> {last}"]
        r = [ref.hist.get("below", 0), *ref.hist["counts"], ref.hist.get("above", 0)]
        c = [cur.hist.get("below", 0), *cur.hist["counts"], cur.hist.get("above", 0)]
        overflow = [True, *(False for _ in edges[:-1]), True]
    elif ref.values or cur.values:
        keys = [k for k, _ in ref.top(12)]
        keys += [k for k, _ in cur.top(12) if k not in keys][: _MAX_CATEGORIES - len(keys)]
        labels = [str(k) for k in keys]
        r = [ref.values.get(k, 0) for k in keys]
        c = [cur.values.get(k, 0) for k in keys]
        overflow = [False] * len(keys)
    else:
        return None
    return {
        "labels": labels,
        "reference": [int(v) for v in r],
        "current": [int(v) for v in c],
        "overflow": overflow,
    }


def bars_svg(bars: Mapping[str, Any]) -> str:
    """Two bars per bin (shares of each side), overflow bins shaded, in a 100 %-wide SVG."""
    labels = list(bars["labels"])
    ref, cur = list(bars["reference"]), list(bars["current"])
    overflow = list(bars.get("overflow") or [False] * len(labels))
    n = len(labels)
    if not n:
        return ""
    r_total, c_total = max(sum(ref), 1), max(sum(cur), 1)
    r_share = [v / r_total for v in ref]
    c_share = [v / c_total for v in cur]
    top = max(max(r_share), max(c_share), 1e-9)
    width, height = 420.0, 190.0
    left, right, head, foot = 30.0, 6.0, 24.0, 46.0
    plot_w, plot_h = width - left - right, height - head - foot
    slot = plot_w / n
    y0 = head + plot_h
    out = [
        f'<svg viewBox="0 0 {width:g} {height:g}" xmlns="http://www.w3.org/2000/svg" '
        'role="img" style="width: 100%; height: auto; display: block" '
        'font-family="system-ui, sans-serif" font-size="11">',
        # legend, inside the box
        f'<rect x="{left}" y="6" width="10" height="10" fill="{_REF}"/>'
        f'<text x="{left + 14}" y="15">reference</text>'
        f'<rect x="{left + 84}" y="6" width="10" height="10" fill="{_CUR}"/>'
        f'<text x="{left + 98}" y="15">current</text>',
        f'<text x="{left - 4}" y="{head + 4:.1f}" text-anchor="end" font-size="9" fill="#666">'
        f"{_pct(top)}</text>",
        f'<text x="{left - 4}" y="{y0:.1f}" text-anchor="end" font-size="9" fill="#666">0</text>',
    ]
    if any(overflow):
        legend_x = left + 150
        out.append(
            f'<rect x="{legend_x}" y="6" width="10" height="10" fill="#f3e5e5" stroke="#c9a0a0"/>'
            f'<text x="{legend_x + 14}" y="15">outside the reference\'s range</text>'
        )
    every = max(1, math.ceil(n / 9))
    for i in range(n):
        x = left + i * slot
        if overflow[i]:
            out.append(
                f'<rect x="{x:.1f}" y="{head}" width="{slot:.1f}" height="{plot_h:.1f}" '
                'fill="#f3e5e5"/>'
            )
        for share, count, total, dx, color, side in (
            (r_share[i], ref[i], r_total, 0.1, _REF, "reference"),
            (c_share[i], cur[i], c_total, 0.5, _CUR, "current"),
        ):
            h = plot_h * share / top
            tip = (
                f"{html.escape(labels[i])}: {side} {number(count)} of {number(total)} "
                f"({_pct(share)})"
            )
            out.append(
                f'<rect x="{x + dx * slot:.1f}" y="{y0 - h:.1f}" width="{0.4 * slot:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{tip}</title></rect>'
            )
        if overflow[i] or i % every == 0:
            text = html.escape(labels[i] if len(labels[i]) <= 14 else labels[i][:13] + "…")
            cx, cy = x + slot / 2, y0 + 8
            out.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="9" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {cy:.1f})">{text}</text>'
            )
    out.append(
        f'<line x1="{left}" y1="{y0:.1f}" x2="{width - right}" y2="{y0:.1f}" stroke="#999"/>'
    )
    out.append("</svg>")
    return "".join(out)


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %" if share >= 0.1 else f"{100 * share:.1f} %"


# ------------------------------------------------------------------------ live metrics chart


def alias_moves(
    events: Iterable[Mapping[str, Any]], model: str, alias: str = "champion"
) -> list[dict[str, Any]]:
    """The moves of ``model``'s ``alias`` in audit events (``MetadataStore.audit_events()``):
    ``{"time", "action", "version", "reason", "actor"}``, oldest first."""
    out = []
    for event in events:
        name, _, number_ = str(event.get("object", "")).rpartition("/")
        detail = event.get("detail") or {}
        if name != model or event.get("action") not in _MOVES or detail.get("alias") != alias:
            continue
        if event["action"] == "set_alias" and detail.get("previous") is None:
            continue  # the first version became champion: not a move
        out.append(
            {
                "time": float(event["time"]),
                "action": event["action"],
                "version": int(number_) if number_.isdigit() else number_,
                "reason": detail.get("reason") or "",
                "actor": event.get("actor") or "",
            }
        )
    return sorted(out, key=lambda e: e["time"])


def window_position(windows: Sequence[Mapping[str, Any]], time: float) -> float:
    """Where on the window axis a moment falls: inside a window's span of prediction times
    (``id`` ± 0.4), or halfway between the windows it fell between."""
    spans = sorted(
        (int(w["id"]), float(w["first_time"]), float(w["last_time"]))
        for w in windows
        if w.get("first_time") is not None and w.get("last_time") is not None
    )
    if not spans:
        return 0.0
    points: list[tuple[float, float]] = []
    for wid, first, last in spans:
        if points and first < points[-1][0]:
            first = points[-1][0]
        points += [(first, wid - 0.4), (max(last, first), wid + 0.4)]
    if time <= points[0][0]:
        return spans[0][0] - 0.5
    if time >= points[-1][0]:
        return spans[-1][0] + 0.5
    for (t0, x0), (t1, x1) in itertools.pairwise(points):
        if t0 <= time <= t1:
            return x0 if t1 == t0 else x0 + (x1 - x0) * (time - t0) / (t1 - t0)
    return spans[-1][0] + 0.5


def _live_svg(
    live: Sequence[Mapping[str, Any]],
    metric: str,
    windows: Sequence[Mapping[str, Any]] = (),
    moves: Sequence[Mapping[str, Any]] = (),
) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7.5, 2.4), dpi=72)
    versions = sorted({m["version"] for m in live})
    xs_all: list[float] = []
    for version in versions:
        points = [
            (m["window"], m["metrics"][metric])
            for m in live
            if m["version"] == version and metric in m["metrics"] and m["window"] is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            xs_all += xs
            ax.plot(xs, ys, marker="o", markersize=3, label=f"v{version}")
    handles, names = ax.get_legend_handles_labels()
    ids = [int(w["id"]) for w in windows if w.get("id") is not None]
    if xs_all:  # the axis spans every window, so that a move falls where it happened
        lo, hi = min([*xs_all, *ids]) - 0.5, max([*xs_all, *ids]) + 0.5
        seen: set[str] = set()
        for move in moves:
            x = window_position(windows, move["time"])
            color, word = _MARKERS[move["action"]]
            x = min(max(x, lo), hi)
            ax.axvline(x, color=color, linestyle="--", linewidth=1)
            ax.annotate(f"v{move['version']}", (x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", fontsize=6, color=color,
                        va="top")  # fmt: skip
            if word not in seen:
                seen.add(word)
                handles.append(Line2D([], [], color=color, linestyle="--", linewidth=1))
                names.append(word)
        ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10, min_n_ticks=1))
    ax.set_xlabel("window", fontsize=7)
    ax.set_ylabel(metric, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(handles, names, fontsize=6, frameon=False, loc="center left",
              bbox_to_anchor=(1.01, 0.5))  # fmt: skip
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return inline_svg(fig)


# ------------------------------------------------------------------------ windows


def _stat(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return format(value, spec) if math.isfinite(value) else str(value)


def _window_view(
    record: Mapping[str, Any], stored: Mapping[str, Any] | None, bars: Mapping[str, Any]
) -> dict[str, Any]:
    """One window's section: its record, its drift table and charts, its quality checks."""
    stored = stored or {}
    columns = []
    for col in (stored.get("drift") or {}).get("columns", []):
        chart = bars.get(col["column"])
        columns.append(
            {
                "name": col["column"],
                "status": col.get("status", ""),
                "drifted": bool(col.get("drifted")),
                "test": col.get("test", ""),
                "statistic": _stat(col.get("statistic"), ".4g"),
                "p_value": _stat(col.get("p_value"), ".3g"),
                "threshold": _stat(col.get("threshold"), ".3g"),
                "nulls": f"{_stat(100 * float(col.get('null_ref') or 0), '.1f')} % → "
                f"{_stat(100 * float(col.get('null_cur') or 0), '.1f')} %",
                "n": f"{number(col.get('n_ref', 0))} / {number(col.get('n_cur', 0))}",
                "reason": col.get("reason", ""),
                "svg": bars_svg(chart) if chart and col.get("drifted") else "",
            }
        )
    columns.sort(key=lambda c: (not c["drifted"], c["name"]))
    return {
        "id": record.get("id"),
        "rows": number(record.get("rows", stored.get("rows", 0))),
        "versions": ", ".join(str(v) for v in record.get("versions") or stored.get("versions", [])),
        "reference_version": stored.get("reference_version"),
        "from": _when(record.get("first_time")),
        "to": _when(record.get("last_time")),
        "status": record.get("status") or stored.get("status", ""),
        "drifted": list(record.get("drifted") or stored.get("drifted") or []),
        "columns": columns,
        "quality": list(stored.get("quality") or []),
        "stored": bool(stored),
    }


def render_monitor_report(
    model: str,
    windows: Sequence[Mapping[str, Any]],
    latest: Any = None,
    live: Sequence[Mapping[str, Any]] = (),
    metric: str | None = None,
    *,
    stored: Mapping[int, Mapping[str, Any]] | None = None,
    events: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The report as one HTML string.

    Args:
        model: The model's name.
        windows: Every recorded window, newest first (:func:`noria.monitor.logs.windows`).
        latest: The newest :class:`~noria.monitor.monitor.WindowReport` of this pass, if any
            (its profiles give the charts when its stored report has none).
        live: Live metrics (``LiveMetrics.to_dict()``), per window and version.
        metric: The live metric to plot (the first one when ``None``).
        stored: The stored report (``WindowReport.to_dict()``) of each window, by window id:
            the drift, charts and checks of the earlier windows.
        events: Audit events (``MetadataStore.audit_events()``): the champion's moves are drawn
            on the live chart.
    """
    stored = dict(stored or {})
    extra: dict[int, dict[str, Any]] = {}
    if latest is not None:
        extra[latest.id] = latest.to_dict()
        if not extra[latest.id].get("bars"):
            extra[latest.id]["bars"] = window_bars(latest)
    views = []
    known = {int(w["id"]) for w in windows}
    records = list(windows)
    if latest is not None and latest.id not in known:
        records.insert(0, {**extra[latest.id], "drifted": latest.drifted})
    for i, record in enumerate(records):
        wid = int(record["id"])
        data = extra.get(wid) or stored.get(wid)
        view = _window_view(record, data, (data or {}).get("bars") or {})
        views.append({**view, "detailed": i < DETAILED_WINDOWS})
    metric_names = sorted({k for m in live for k in m["metrics"]})
    metric = metric or (metric_names[0] if metric_names else None)
    moves = alias_moves(events, model)
    return template(_TEMPLATE).render(
        model=model,
        windows=views,
        latest=views[0] if views else None,
        earlier=views[1:DETAILED_WINDOWS],
        older=max(len(views) - DETAILED_WINDOWS, 0),
        live=live,
        metric_names=metric_names,
        live_svg=_live_svg(live, metric, records, moves) if live and metric else "",
        moves=[{**m, "when": _when(m["time"]), "word": _MARKERS[m["action"]][1]} for m in moves],
        metric=metric,
        number=number,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def window_bars(window: Any) -> dict[str, Any]:
    """The charts of a window's drifted columns from the two profiles it compared."""
    ref, cur = window.reference, window.current
    out: dict[str, Any] = {}
    if ref is None or cur is None:
        return out
    for name in window.drifted:
        if name in ref.columns and name in cur.columns:
            bars = drift_bars(ref[name], cur[name])
            if bars:
                out[name] = bars
    return out


def stored_reports(artifacts: Any, records: Sequence[Mapping[str, Any]]) -> dict[int, Any]:
    """The stored reports of the :data:`DETAILED_WINDOWS` newest ``records`` (windows, newest
    first), by window id, read from ``artifacts`` (an artifact store: ``get(id) -> bytes``); a
    report that is missing or unreadable is left out (its window keeps its summary)."""
    import orjson

    from noria.errors import NoriaError

    out: dict[int, Any] = {}
    for record in list(records)[:DETAILED_WINDOWS]:
        artifact = record.get("report_artifact")
        if not artifact:
            continue
        try:
            out[int(record["id"])] = orjson.loads(artifacts.get(artifact))
        except (NoriaError, OSError, ValueError):
            continue
    return out


def write_monitor_report(path: str | Path, *args: Any, **kw: Any) -> Path:
    """Write :func:`render_monitor_report` to ``path`` (atomically); returns the path."""
    return write_page(path, render_monitor_report(*args, **kw))
