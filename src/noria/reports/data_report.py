"""The HTML data report: per-column statistics, histograms and failed checks with examples.

:func:`render_data_report` takes the dicts of :meth:`noria.data.profile.Profile.to_dict` and
:meth:`noria.data.validate.ValidationResult.to_dict` (or the objects themselves) and returns one
self-contained HTML page: no script, no font or stylesheet from the network, histograms as inline
SVG drawn by matplotlib. :func:`write_data_report` writes it atomically.

Not here: computing the profile or the checks; the monitoring report.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noria.reports.numbers import column_formatter, number, plain_integers, tick

__all__ = ["render_data_report", "write_data_report"]

_TEMPLATE = "data_report.html.j2"


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return dict(obj)
    return obj.to_dict()


def render_data_report(profile: Any, validation: Any = None, *, title: str = "Data report") -> str:
    """The report as one HTML string.

    Args:
        profile: A profile or its ``to_dict()``.
        validation: A validation result or its ``to_dict()`` (optional).
        title: The page title.
    """
    prof = _as_dict(profile) or {"rows": 0, "columns": [], "source": ""}
    val = _as_dict(validation)
    columns = [_column_view(c) for c in prof.get("columns", [])]
    checks = (val or {}).get("checks", [])
    failed = [c for c in checks if not c.get("passed")]
    return template(_TEMPLATE).render(
        title=title,
        source=prof.get("source", ""),
        rows=prof.get("rows", 0),
        columns=columns,
        validation=val,
        failed=failed,
        passed=[c for c in checks if c.get("passed")],
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def write_data_report(path: str | Path, profile: Any, validation: Any = None, **kw: Any) -> Path:
    """Write :func:`render_data_report` to ``path`` (atomically); returns the path."""
    return write_page(path, render_data_report(profile, validation, **kw))


def template(name: str) -> Any:
    """A Jinja2 template of ``noria/reports/templates`` (HTML autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("noria.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name)


def write_page(path: str | Path, html: str) -> Path:
    """Write ``html`` to ``path`` under a temporary name, then rename; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target


def fmt(value: Any, kind: str = "") -> str:
    """A value for people: times as ISO, numbers by :func:`noria.reports.numbers.number`."""
    if kind == "temporal" and isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return number(value)


def _column_view(col: Mapping[str, Any]) -> dict[str, Any]:
    kind = col.get("kind", "")
    count, nulls = col.get("count", 0), col.get("nulls", 0)
    stats: list[tuple[str, str]] = [
        ("type", str(col.get("dtype"))),
        ("rows", fmt(count)),
        ("nulls", f"{fmt(nulls)} ({nulls / count:.1%})" if count else "0"),
        ("distinct", fmt(col.get("distinct"))),
    ]
    if kind == "numeric":
        num = column_formatter(col)
        stats += [("min", num(col.get("min"))), ("max", num(col.get("max")))]
        stats += [("mean", num(col.get("mean"))), ("std", num(col.get("std")))]
        q = col.get("quantiles") or {}
        stats += [(k, num(v)) for k, v in q.items() if k in ("p5", "p25", "p50", "p75", "p95")]
    elif kind in ("temporal", "string"):
        stats += [("min", fmt(col.get("min"), kind)), ("max", fmt(col.get("max"), kind))]
    if kind == "string" and col.get("len_max") is not None:
        n = count - nulls
        mean = (col.get("len_sum") or 0) / n if n else 0
        stats.append(("length", f"{col.get('len_min')}–{col.get('len_max')} (mean {mean:.1f})"))
    if kind == "temporal":
        gaps = col.get("gaps") or []
        if gaps:
            a, b = gaps[0]
            stats.append(("gaps", f"{col.get('gap_count', len(gaps))}; longest {fmt(a, kind)} "
                                  f"to {fmt(b, kind)}"))  # fmt: skip
        else:
            stats.append(("gaps", "none"))
    top = [(fmt(v), fmt(n), (n / (count - nulls)) if count - nulls else 0)
           for v, n in (col.get("values") or [])[:10]]  # fmt: skip
    return {
        "name": col.get("name"),
        "kind": kind,
        "stats": stats,
        "top": top,
        "more_values": max(len(col.get("values") or []) - 10, 0),
        "svg": _hist_svg(col) if col.get("hist") else "",
    }


def _hist_svg(col: Mapping[str, Any]) -> str:
    """The histogram as an inline SVG (matplotlib, no fonts embedded)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    hist = col["hist"]
    counts = list(hist["counts"])
    start, step = hist["start"], hist["step"]
    edges = [start + i * step for i in range(len(counts) + 1)]
    integer = col.get("kind") == "numeric" and str(col.get("dtype", "")).upper().endswith("INT")
    fig, ax = plt.subplots(figsize=(3.6, 1.5), dpi=72)
    try:
        if integer and step == 1:  # one bar per integer, centred on it
            ax.bar(edges[:-1], counts, width=0.9, align="center", color="#4a78b5")
        else:
            ax.bar(edges[:-1], counts, width=step, align="edge", color="#4a78b5",
                   edgecolor="white", linewidth=0.3)  # fmt: skip
        if col.get("kind") == "temporal":
            ax.set_xticks([edges[0], edges[-1]])
            ax.set_xticklabels([fmt(edges[0], "temporal")[:10], fmt(edges[-1], "temporal")[:10]])
        else:  # a few ticks, written as the report writes numbers (no offset, no 1e7)
            group = not plain_integers(col.get("name", ""))
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=integer, min_n_ticks=2))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: tick(v, group=group)))
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_yticks([])
        below, above = hist.get("below", 0), hist.get("above", 0)
        if below or above:
            ax.set_title(
                f"outside the edges: {number(below)} below, {number(above)} above", fontsize=7
            )
        return inline_svg(fig, pad=0.2)
    finally:
        plt.close(fig)


def inline_svg(fig: Any, *, pad: float = 0.3) -> str:
    """A matplotlib figure as an inline ``<svg>`` (text kept as text); the figure is closed."""
    import matplotlib
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout(pad=pad)
        buf = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(buf, format="svg")
    finally:
        plt.close(fig)
    return fit_svg(buf.getvalue())


def fit_svg(text: str) -> str:
    """The ``<svg>`` element of matplotlib's output, sized to its box: no fixed width or
    height, only its ``viewBox``, drawn 100 % wide (so a chart never overflows its card)."""
    import re

    text = text[text.find("<svg") :]
    end = text.find(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:end])
    return f'{head} style="width: 100%; height: auto; display: block"{text[end:]}'


def escape(text: str) -> str:
    """HTML-escape ``text`` (for callers that build fragments)."""
    return html.escape(text)
