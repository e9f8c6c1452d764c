"""Shared helpers: paths, peer virtual environments, timed subprocesses, tables, results."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
VENVS = BENCH / ".venvs"
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
PINS_MARKER = ".bench-pins"

#: Environment shared by every measured subprocess: no telemetry, no colour, a USER.
QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "NO_COLOR": "1",
    "USER": os.environ.get("USER") or "bench",
}


class BenchError(RuntimeError):
    """A measurement that could not be taken; its message goes into the table."""


# --------------------------------------------------------------------------- output


def log(message: str) -> None:
    """Print a progress line to stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def short_error(text: str, limit: int = 300) -> str:
    """The most telling line of an error output, shortened."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "no output"
    for ln in reversed(lines):
        if "Error" in ln or "error" in ln or "failed" in ln.lower():
            return ln[:limit]
    return lines[-1][:limit]


# --------------------------------------------------------------------------- venvs


def noria_python() -> str:
    """The interpreter that runs noria: the one running the harness (`.venv/bin/python`)."""
    return sys.executable


def ensure_venv(name: str, pins: Sequence[str]) -> Path:
    """Return the python of `bench/.venvs/<name>`, creating it with exactly `pins` if needed.

    The venv is reused when its marker file records the same pins; otherwise it is rebuilt.
    """
    root = VENVS / name
    python = root / "bin" / "python"
    marker = root / PINS_MARKER
    wanted = "\n".join(sorted(pins)) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if root.exists():
        shutil.rmtree(root)
    VENVS.mkdir(parents=True, exist_ok=True)
    log(f"creating venv {root.relative_to(REPO)} with {' '.join(pins)} (first run only)")
    _check([sys.executable, "-m", "venv", str(root)], f"python -m venv {root.name}", timeout=300)
    _check(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
        f"pip install {' '.join(pins)}",
        timeout=1800,
    )
    marker.write_text(wanted)
    return python


def _check(cmd: Sequence[str], what: str, timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{what}: timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise BenchError(f"{what}: {short_error(proc.stderr or proc.stdout)}")


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    """One subprocess: its whole-process wall time and the JSON figures it printed."""

    wall_s: float
    data: dict[str, Any]
    output: str


def run_timed(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    expect_json: bool = True,
) -> Measured:
    """Run `cmd`, timing the whole process with perf_counter; parse its last JSON line."""
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"timed out after {timeout:.0f} s: {' '.join(cmd[-3:])}") from exc
    wall = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BenchError(f"exit {proc.returncode}: {short_error(proc.stderr or proc.stdout)}")
    data: dict[str, Any] = {}
    if expect_json:
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith("{"):
                data = json.loads(line)
                break
        else:
            raise BenchError(f"no JSON figures in output: {short_error(output)}")
    return Measured(wall, data, output)


def fresh_dir(path: Path) -> Path:
    """Empty `path` (creating it) and return it."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return float(statistics.median(values))


# --------------------------------------------------------------------------- reports


@dataclass
class Column:
    """One figure of a benchmark: how to show it and which way is better."""

    key: str
    label: str
    unit: str = "s"
    scale: float = 1.0
    higher_is_better: bool = False
    target: float | None = None  # noria's target, in the column's own unit (after scale)
    target_ratio: float | None = None  # noria's target as a ratio (×) against every peer


@dataclass
class Row:
    """One framework's figures; a cell is a number (before scale) or a text such as 'n/a'."""

    framework: str
    version: str = ""
    values: dict[str, float | str] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # footnote marks per column
    error: str | None = None  # the whole framework failed
    samples: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """Record one sample of a figure."""
        self.samples.setdefault(key, []).append(value)

    def fail(self, key: str, message: str) -> None:
        """Record that a figure could not be measured (first message wins)."""
        self.extra.setdefault("errors", {}).setdefault(key, message)

    def settle(self, keys: Sequence[str]) -> None:
        """Turn samples into medians; figures without samples show their error."""
        errors: dict[str, str] = self.extra.get("errors", {})
        for key in keys:
            if self.samples.get(key):
                self.values[key] = median(self.samples[key])
            elif key in errors and key not in self.values:
                self.values[key] = "failed"


@dataclass
class Report:
    """The outcome of one benchmark."""

    name: str
    title: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def fmt_number(value: float) -> str:
    """A number with about three significant digits, thousands separated."""
    if value == 0:
        return "0"
    mag = abs(value)
    if mag >= 1000 or (mag >= 10 and float(value).is_integer()):
        return f"{value:,.0f}"
    if mag >= 100:
        return f"{value:.0f}"
    if mag >= 10:
        return f"{value:.1f}"
    if mag >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio(col: Column, noria: object, peer: object) -> float | None:
    """How many times better noria is on this figure, or None when not comparable."""
    if not isinstance(noria, float | int) or not isinstance(peer, float | int):
        return None
    if noria <= 0 or peer <= 0:
        return None
    return noria / peer if col.higher_is_better else peer / noria


def _cell(col: Column, row: Row, rows: Sequence[Row]) -> str:
    value = row.values.get(col.key, "-")
    mark = row.marks.get(col.key, "")
    if not isinstance(value, float | int):
        return f"{value}{mark}"
    text = f"{fmt_number(value * col.scale)}{mark}"
    if row.framework == "noria":
        verdict = _verdict(col, row, rows)
        return f"{text} {verdict}" if verdict else text
    noria = next((r for r in rows if r.framework == "noria" and not r.error), None)
    got = ratio(col, noria.values.get(col.key), value) if noria else None
    return f"{text} ({fmt_number(got)}×)" if got is not None else text


def _verdict(col: Column, noria: Row, rows: Sequence[Row]) -> str:
    """'ok' or 'MISS' for noria against its target ('' when there is none to judge)."""
    value = noria.values.get(col.key)
    if not isinstance(value, float | int):
        return ""
    if col.target is not None:
        shown = value * col.scale
        ok = shown >= col.target if col.higher_is_better else shown <= col.target
        return "ok" if ok else "MISS"
    if col.target_ratio is not None:
        ratios = [ratio(col, value, r.values.get(col.key)) for r in rows if r is not noria]
        known = [r for r in ratios if r is not None]
        if not known:
            return ""
        return "ok" if min(known) >= col.target_ratio else "MISS"
    return ""


def _target(col: Column) -> str:
    sign = "≥" if col.higher_is_better else "≤"
    if col.target is not None:
        return f"{sign} {fmt_number(col.target)}"
    if col.target_ratio is not None:
        return f"≥ {fmt_number(col.target_ratio)}× peer"
    return ""


def format_report(report: Report) -> list[list[str]]:
    """Rows of cells (header first) for one benchmark."""
    header = [report.name, *(f"{c.label} ({c.unit})" for c in report.columns)]
    out = [header]
    for row in report.rows:
        name = f"{row.framework} {row.version}".strip()
        if row.error:
            out.append([name, f"failed: {row.error}"])
        else:
            out.append([name, *(_cell(c, row, report.rows) for c in report.columns)])
        if row.framework == "noria":
            out.append(["  target", *(_target(c) for c in report.columns)])
    return out


def format_table(reports: Sequence[Report]) -> str:
    """One table for all reports; a framework's cell is 'value (ratio×)'.

    The ratio is how many times better noria is: peer time / noria time, or noria rate / peer
    rate. A whole-framework failure spans the row as 'failed: ...'.
    """
    blocks = [format_report(r) for r in reports]
    ncols = max(len(row) for block in blocks for row in block)
    widths = [0] * ncols
    for block in blocks:
        for row in block:
            if len(row) == 2 and row[1].startswith("failed: "):
                widths[0] = max(widths[0], len(row[0]))
                continue
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
    total = sum(widths) + 2 * (ncols - 1)
    lines: list[str] = []
    for report, block in zip(reports, blocks, strict=True):
        lines.append("=" * total)
        lines.append(f"{report.title}")
        lines.append("-" * total)
        for i, row in enumerate(block):
            if len(row) == 2 and row[1].startswith("failed: "):
                room = max(total - widths[0] - 2, 20)
                lines.append(f"{row[0]:<{widths[0]}}  {row[1][:room]}")
            else:
                lines.append("  ".join(c.ljust(widths[j]) for j, c in enumerate(row)).rstrip())
            if i == 0:
                lines.append("-" * total)
        for note in report.notes:
            lines += textwrap.wrap(
                note, width=max(total, 80), initial_indent="  ", subsequent_indent="    "
            )
    lines.append("=" * total)
    lines.append("(×) = how many times better noria is: peer time / noria time, noria rate / peer")
    lines.append("rate. Medians over all rounds; ok/MISS = noria against its target.")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    """A description of where the figures were taken."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_results(report: Report) -> Path:
    """Write `bench/results/<name>.json` with medians, samples, notes and machine info."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{report.name}.json"
    payload = {
        "name": report.name,
        "title": report.title,
        "machine": machine_info(),
        "meta": report.meta,
        "columns": [asdict(c) for c in report.columns],
        "rows": [asdict(r) for r in report.rows],
        "notes": report.notes,
        "table": format_table([report]),
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
