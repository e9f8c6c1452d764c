"""Charts of the dashboard as server-rendered inline SVG.

Why SVG from the server rather than a vendored JavaScript chart library: every chart the pages
draw is static (a history, a scatter, parallel coordinates, a timeline), its data is already cut
down on the server (histories to a few hundred min/max buckets, comparisons to at most 1,000
runs), and SVG then costs nothing to ship or to trust: no script runs in the page at all, so the
Content-Security-Policy forbids scripts outright, the charts print, and the package carries no
third-party JavaScript to keep up to date. Points carry ``<title>`` tooltips and links.

Every piece of text that reaches the SVG (metric keys, run names, values) is escaped here.
Not here: fetching or downsampling data (:mod:`noria.ui.queries`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "bars",
    "importance",
    "line_chart",
    "multi_line_chart",
    "parallel_coordinates",
    "scatter",
    "timeline",
]

_W, _H = 640, 240
_PAD = (48, 12, 16, 28)  # left, right, top, bottom
_BLUE, _ORANGE, _GREY = "#3b6fb6", "#e07b39", "#b8b8b8"
#: Line colours of overlaid series (colour-blind safe, Okabe-Ito order).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.3g}"
    return f"{v:.4g}"


def _finite(values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if math.isfinite(v):
            out.append(float(v))
    return out


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _frame(x: _Scale, y: _Scale, xlabel: str, ylabel: str) -> list[str]:
    left, right, top, bottom = _PAD
    parts = [
        f'<line x1="{left}" y1="{_H - bottom}" x2="{_W - right}" y2="{_H - bottom}" '
        'stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{_H - bottom}" stroke="#888"/>',
    ]
    for v in (y.lo, (y.lo + y.hi) / 2, y.hi):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    for v in (x.lo, (x.lo + x.hi) / 2, x.hi):
        parts.append(
            f'<text x="{x(v):.1f}" y="{_H - bottom + 14}" text-anchor="middle">{_fmt(v)}</text>'
        )
    parts.append(
        f'<text x="{_W - right}" y="{_H - 2}" text-anchor="end" class="axis">{escape(xlabel)}'
        "</text>"
    )
    parts.append(f'<text x="{left + 4}" y="{top - 4}" class="axis">{escape(ylabel)}</text>')
    return parts


def _svg(parts: list[str], label: str, width: int = _W, height: int = _H) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def line_chart(points: Sequence[tuple[float, float, float]], label: str) -> Markup:
    """A metric history from ``(step, min, max)`` buckets: a line, and the min/max band."""
    if not points:
        return Markup("")
    left, right, top, bottom = _PAD
    xs = [p[0] for p in points]
    x = _Scale(min(xs), max(xs), left, _W - right)
    y = _Scale(min(p[1] for p in points), max(p[2] for p in points), _H - bottom, top)
    parts = _frame(x, y, "step", label)
    if len(points) == 1:
        s, _, hi = points[0]
        parts.append(
            f'<circle cx="{x(s):.1f}" cy="{y(hi):.1f}" r="3" fill="{_BLUE}">'
            f"<title>step {_fmt(s)}: {_fmt(hi)}</title></circle>"
        )
        return _svg(parts, label)
    if any(lo != hi for _, lo, hi in points):
        upper = " ".join(f"{x(s):.1f},{y(hi):.1f}" for s, _, hi in points)
        lower = " ".join(f"{x(s):.1f},{y(lo):.1f}" for s, lo, _ in reversed(points))
        parts.append(f'<polygon points="{upper} {lower}" fill="{_BLUE}" fill-opacity="0.25"/>')
    line = " ".join(f"{x(s):.1f},{y((lo + hi) / 2):.1f}" for s, lo, hi in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="{_BLUE}" stroke-width="1.5"/>')
    last = points[-1]
    parts.append(
        f"<title>{escape(label)}: {len(points)} points shown, last {_fmt(last[2])}</title>"
    )
    return _svg(parts, label)


def scatter(
    points: Sequence[tuple[Any, Any, str, str]],
    xlabel: str,
    ylabel: str,
    *,
    best_line: bool = False,
) -> Markup:
    """A scatter of ``(x, y, tooltip, href)``; non-numbers are skipped.

    ``best_line`` adds the running best (max) of ``y`` in ``x`` order: a search's convergence.
    """
    pts = [(float(a), float(b), t, h) for a, b, t, h in points if _finite([a]) and _finite([b])]
    if not pts:
        return Markup('<p class="muted">nothing numeric to plot on these axes</p>')
    left, right, top, bottom = _PAD
    x = _Scale(min(p[0] for p in pts), max(p[0] for p in pts), left + 4, _W - right - 4)
    y = _Scale(min(p[1] for p in pts), max(p[1] for p in pts), _H - bottom - 4, top + 4)
    parts = _frame(x, y, xlabel, ylabel)
    if best_line:
        best, line = -math.inf, []
        for a, b, _, _ in sorted(pts):
            best = max(best, b)
            line.append(f"{x(a):.1f},{y(best):.1f}")
        parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{_ORANGE}"/>')
    for a, b, tip, href in pts:
        dot = (
            f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3.5" fill="{_BLUE}" '
            f'fill-opacity="0.7"><title>{escape(tip)} ({_fmt(a)}, {_fmt(b)})</title></circle>'
        )
        parts.append(f'<a href="{escape(href)}">{dot}</a>' if href else dot)
    return _svg(parts, f"{ylabel} against {xlabel}")


def _colour(t: float) -> str:
    """Blue (0) to orange (1)."""
    t = min(max(t, 0.0), 1.0)
    a, b = (59, 111, 182), (224, 123, 57)
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def parallel_coordinates(
    axes: Sequence[str], rows: Sequence[tuple[str, Sequence[Any]]], colour_by: int = -1
) -> Markup:
    """One polyline per row across vertical axes (numbers only; a missing value breaks the line).

    Args:
        axes: axis labels.
        rows: ``(tooltip, values)`` with one value per axis.
        colour_by: the axis whose value colours the line (the last by default).
    """
    if len(axes) < 2 or not rows:
        return Markup('<p class="muted">parallel coordinates need two numeric columns</p>')
    width, height, top, bottom = max(_W, 110 * len(axes)), 310, 36, 20
    xs = [40 + i * (width - 80) / (len(axes) - 1) for i in range(len(axes))]
    scales = []
    for i in range(len(axes)):
        col = _finite([r[1][i] for r in rows])
        lo, hi = (min(col), max(col)) if col else (0.0, 1.0)
        scales.append(_Scale(lo, hi, height - bottom, top))
    ci = colour_by % len(axes)
    parts = []
    for tip, values in rows:
        segs, cur = [], []
        for i, v in enumerate(values):
            if _finite([v]):
                cur.append(f"{xs[i]:.1f},{scales[i](float(v)):.1f}")
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        c = values[ci]
        t = (
            (scales[ci](float(c)) - (height - bottom)) / (top - (height - bottom))
            if _finite([c])
            else 0.0
        )
        colour = _colour(t) if _finite([c]) else _GREY
        for seg in segs:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-opacity="0.55"><title>{escape(tip)}</title></polyline>'
                )
    for i, label in enumerate(axes):
        s = scales[i]
        parts.append(
            f'<line x1="{xs[i]:.1f}" y1="{top}" x2="{xs[i]:.1f}" '
            f'y2="{height - bottom}" stroke="#555"/>'
        )
        short = label.partition(".")[2] if label.startswith(("params.", "metrics.")) else label
        parts.append(
            f'<text x="{xs[i]:.1f}" y="{top - 8 - 12 * (i % 2)}" text-anchor="middle" '
            f'class="axis"><title>{escape(label)}</title>{escape(short[:22])}</text>'
        )
        parts.append(f'<text x="{xs[i] + 3:.1f}" y="{top + 8}">{_fmt(s.hi)}</text>')
        parts.append(f'<text x="{xs[i] + 3:.1f}" y="{height - bottom + 12}">{_fmt(s.lo)}</text>')
    return _svg(parts, "parallel coordinates of " + ", ".join(axes), width, height)


def timeline(windows: Sequence[dict[str, Any]]) -> Markup:
    """Monitor windows on a time axis: one bar per window, coloured by status, height = rows."""
    spans = [w for w in windows if w.get("first_time") is not None]
    if not spans:
        return Markup("")
    left, right, top, bottom = _PAD
    x = _Scale(
        min(w["first_time"] for w in spans),
        max(w["last_time"] or w["first_time"] for w in spans),
        left,
        _W - right,
    )
    most = max(w["rows"] for w in spans) or 1
    parts = [
        f'<line x1="{left}" y1="{_H - bottom}" x2="{_W - right}" y2="{_H - bottom}" stroke="#888"/>'
    ]
    colours = {"ok": "#4c9a5b", "drift": "#c0392b", "too_small": _GREY}
    for w in spans:
        a, b = x(w["first_time"]), x(w["last_time"] or w["first_time"])
        h = max(2.0, (w["rows"] / most) * (_H - top - bottom))
        parts.append(
            f'<rect x="{a:.1f}" y="{_H - bottom - h:.1f}" width="{max(b - a, 3):.1f}" '
            f'height="{h:.1f}" fill="{colours.get(w["status"], _GREY)}"><title>window '
            f"{escape(str(w['id']))}: {escape(str(w['status']))}, {int(w['rows'])} rows"
            "</title></rect>"
        )
    return _svg(parts, "monitored windows over time")


def bars(
    items: Sequence[tuple[str, Any]], label: str, width: int = 220, height: int = 56
) -> Markup:
    """A small bar chart (a histogram or the top values of a column); each bar has a tooltip."""
    counts = [(str(k), float(n)) for k, n in items if _finite([n])]
    if not counts:
        return Markup("")
    most = max(n for _, n in counts) or 1.0
    step = width / len(counts)
    parts = []
    for i, (name, n) in enumerate(counts):
        h = max(1.0, n / most * (height - 4)) if n else 0.0
        parts.append(
            f'<rect x="{i * step + 0.5:.1f}" y="{height - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{_BLUE}"><title>{escape(name)}: {n:.0f}</title></rect>'
        )
    return _svg(parts, f"distribution of {label}", width, height)


def multi_line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float, float]]]], label: str
) -> Markup:
    """Several histories of one metric on shared axes (one colour per run, a legend below)."""
    drawn = [(name, pts) for name, pts in series if pts]
    if not drawn:
        return Markup("")
    left, right, top, bottom = _PAD
    xs = [p[0] for _, pts in drawn for p in pts]
    x = _Scale(min(xs), max(xs), left, _W - right)
    y = _Scale(
        min(p[1] for _, pts in drawn for p in pts),
        max(p[2] for _, pts in drawn for p in pts),
        _H - bottom,
        top,
    )
    parts = _frame(x, y, "step", label)
    legend = []
    for i, (name, pts) in enumerate(drawn):
        colour = PALETTE[i % len(PALETTE)]
        line = " ".join(f"{x(s):.1f},{y((lo + hi) / 2):.1f}" for s, lo, hi in pts)
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.4">'
            f"<title>{escape(name)}</title></polyline>"
        )
        legend.append((name, colour))
    height = _H + 14 * ((len(legend) + 2) // 3)
    for i, (name, colour) in enumerate(legend):
        cx, cy = left + (i % 3) * 200, _H + 10 + 14 * (i // 3)
        parts.append(
            f'<rect x="{cx}" y="{cy - 8}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{cx + 14}" y="{cy - 4}">{escape(name[:28])}</text>'
        )
    return _svg(parts, f"{label} of {len(drawn)} runs", _W, height)


def importance(items: Sequence[tuple[str, float]], label: str) -> Markup:
    """Horizontal bars of a share in [0, 1] per name (parameter importance), largest first."""
    rows = sorted(((n, v) for n, v in items if _finite([v])), key=lambda t: -t[1])
    if not rows:
        return Markup('<p class="muted">not enough trials with a score to say</p>')
    width, bar, text = _W, 16, 180
    parts = []
    for i, (name, share) in enumerate(rows):
        yy = 4 + i * (bar + 4)
        w = max(0.0, min(share, 1.0)) * (width - text - 60)
        parts.append(
            f'<text x="{text - 6}" y="{yy + 12}" text-anchor="end">{escape(name[:28])}</text>'
            f'<rect x="{text}" y="{yy}" width="{w:.1f}" height="{bar}" fill="{_BLUE}">'
            f"<title>{escape(name)}: {share:.1%}</title></rect>"
            f'<text x="{text + w + 4:.1f}" y="{yy + 12}">{share:.0%}</text>'
        )
    return _svg(parts, label, width, 8 + len(rows) * (bar + 4))
