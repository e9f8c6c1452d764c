"""Benchmark `drift`: reference and current Parquet files of 1M rows × 20 columns, drifted or not.

The data (numpy, seeded: `bench/drift/gen.py`) has numeric and categorical columns with nulls;
the drifted file changes exactly 4 columns (a mean shift, a scale change, a category mix, and a
null-rate jump from 1 % to 15 % with the same values), the undrifted one is a fresh sample of
the reference's distribution. noria profiles both files and compares the profiles
(`profile_data` + `noria.monitor.drift.compare`), and, as a monitor does, compares a current
file with the reference profile already stored; Evidently 0.7 runs `DataDriftPreset` on the
files read into pandas. Each side also monitors one more 10,000-row window (noria: profile on
the reference's edges + merge into the running profile + compare; Evidently: the report of the
window against the reference held in memory). Each measurement is a subprocess reporting its
compute time, peak RSS and the columns it flags.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench._common import (
    WORK,
    BenchError,
    Column,
    Report,
    Row,
    ensure_venv,
    fmt_number,
    log,
    noria_python,
    run_timed,
)

NAME = "drift"
TITLE = "drift: 1M × 20 reference vs current from Parquet, and one more 10k window (2 cores)"
DEFAULT_ROUNDS = 1
PEERS_DIR = Path(__file__).resolve().parent / "peers"
ROWS = 1_000_000
WINDOW_ROWS = 10_000
#: Windows timed per round (after one untimed warm-up window).
WINDOWS = {"noria": 15, "evidently": 3}
DRIFTED = ("score", "latency", "plan", "amount")  # as bench/drift/gen.py writes them
PINS: dict[str, tuple[str, ...]] = {
    "evidently": ("evidently==0.7.23", "pandas==2.3.3", "numpy==2.2.6", "pyarrow==21.0.0"),
}
#: framework -> (venv name or None for noria's own, script)
FRAMEWORKS: dict[str, tuple[str | None, str]] = {
    "noria": (None, "run_noria.py"),
    "evidently": ("evidently", "run_evidently.py"),
}
TIMEOUT_S = 1800

COLUMNS = [
    Column("drifted_s", "1M drifted", "s", target_ratio=50),
    Column("undrifted_s", "1M undrifted", "s", target_ratio=50),
    Column("stored_s", "1M vs stored ref", "s"),
    Column("window_s", "+10k window", "ms", scale=1000, target=100),
    Column("peak_mb", "peak RSS 1M", "MB"),
    Column("caught", "drifts caught", "of 4", higher_is_better=True, target=4),
    Column("false", "false alarms", "cols", target=0),
]


def _data() -> dict[str, Path]:
    """The three files, written once by a subprocess (so that this process stays small)."""
    folder = WORK / NAME / "data"
    files = {}
    for kind in ("reference", "drifted", "undrifted"):
        path = folder / f"{kind}_{ROWS}.parquet"
        if not path.exists():
            log(f"writing {path.relative_to(WORK.parent.parent)} ({ROWS:,} rows)")
            subprocess.run(
                [noria_python(), "-m", "bench.drift.gen", str(path), str(ROWS), kind],
                cwd=WORK.parent.parent,
                check=True,
            )
        files[kind] = path
    return files


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Alternate noria and Evidently on each task for `rounds` rounds; medians."""
    files = _data()
    stored = WORK / NAME / f"reference_profile_{ROWS}.json"
    rows = {name: Row(name) for name in FRAMEWORKS}
    pythons: dict[str, str] = {}
    for name, (venv, _) in FRAMEWORKS.items():
        if venv is None:
            pythons[name] = noria_python()
            continue
        try:
            pythons[name] = str(ensure_venv(venv, PINS[venv]))
        except BenchError as exc:
            log(f"{name}: setup failed: {exc}")
            rows[name].error = str(exc)
    flags: dict[str, dict[str, list[str]]] = {name: {} for name in FRAMEWORKS}
    reasons: dict[str, dict[str, str]] = {}
    parts: dict[str, dict[str, list[float]]] = {name: {} for name in FRAMEWORKS}
    window_flags: dict[str, dict[str, dict[str, int]]] = {name: {} for name in FRAMEWORKS}

    def measure(name: str, key: str, *argv: str) -> dict | None:
        _, script = FRAMEWORKS[name]
        log(f"{key}: {name}")
        try:
            m = run_timed(
                [pythons[name], str(PEERS_DIR / script), *argv], cwd=PEERS_DIR, timeout=TIMEOUT_S
            )
        except BenchError as exc:
            log(f"{name}: {exc}")
            rows[name].fail(key, str(exc))
            return None
        rows[name].version = str(m.data.get("version") or "")
        rows[name].add(f"wall_{key}", m.wall_s)
        for part, value in m.data.items():
            if part.endswith("_s") and isinstance(value, float | int):
                parts[name].setdefault(f"{key}.{part}", []).append(float(value))
        return m.data

    for rnd in range(1, rounds + 1):
        log(f"round {rnd}/{rounds}")
        for kind in ("drifted", "undrifted"):
            key = f"{kind}_s"
            for name in FRAMEWORKS:
                if name not in pythons:
                    continue
                argv = ["full", str(files["reference"]), str(files[kind])]
                if name == "noria" and kind == "drifted":
                    argv.append(str(stored))
                data = measure(name, key, *argv)
                if data is None:
                    continue
                rows[name].add(key, float(data["seconds"]))
                if kind == "drifted":
                    rows[name].add("peak_mb", float(data["peak_mb"]))
                flags[name][kind] = list(data["drifted"])
                if name == "noria":
                    reasons[kind] = data.get("reasons", {})
        if "noria" in pythons and stored.exists():
            data = measure("noria", "stored_s", "stored", str(stored), str(files["drifted"]))
            if data is not None:
                rows["noria"].add("stored_s", float(data["seconds"]))
                flags["noria"]["stored"] = list(data["drifted"])
        for name in FRAMEWORKS:
            if name not in pythons:
                continue
            ref = str(stored) if name == "noria" else str(files["reference"])
            if name == "noria" and not stored.exists():
                continue
            for kind in ("drifted", "undrifted") if name == "noria" else ("drifted",):
                key = "window_s" if kind == "drifted" else "window_undrifted_s"
                argv = ["window", ref, str(files[kind]), str(WINDOW_ROWS), str(WINDOWS[name])]
                data = measure(name, key, *argv)
                if data is None:
                    continue
                for sample in data["window_samples_s"]:
                    rows[name].add(key, float(sample))
                window_flags[name][kind] = data["flagged"]
    for name, row in rows.items():
        if row.error:
            continue
        by_kind = flags[name]
        if "drifted" in by_kind:
            row.values["caught"] = float(sum(c in by_kind["drifted"] for c in DRIFTED))
        if "drifted" in by_kind and "undrifted" in by_kind:
            wrong = [c for c in by_kind["drifted"] if c not in DRIFTED] + by_kind["undrifted"]
            row.values["false"] = float(len(wrong))
        row.settle(["drifted_s", "undrifted_s", "stored_s", "window_s", "peak_mb"])
        row.settle([k for k in row.samples if k.startswith("wall_") or k == "window_undrifted_s"])
        row.extra["flags"] = by_kind
        row.extra["window_flags"] = window_flags[name]
        row.extra["parts"] = parts[name]
    notes = _notes(rows, flags, reasons, parts, window_flags)
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        list(rows.values()),
        notes,
        meta={
            "rounds": rounds,
            "rows": ROWS,
            "window_rows": WINDOW_ROWS,
            "windows": WINDOWS,
            "drifted_columns": DRIFTED,
            "pins": PINS,
            "python": sys.version.split()[0],
            "reasons": reasons,
        },
    )


def _num(row: Row, key: str) -> float | None:
    value = row.values.get(key)
    return float(value) if isinstance(value, float | int) else None


def _median(values: list[float] | None) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _verdict(what: str, ok: bool | None, detail: str) -> str:
    mark = "n/a" if ok is None else ("ok" if ok else "MISS")
    return f"target {what}: {mark} ({detail})"


def _notes(
    rows: dict[str, Row],
    flags: dict[str, dict[str, list[str]]],
    reasons: dict[str, dict[str, str]],
    parts: dict[str, dict[str, list[float]]],
    window_flags: dict[str, dict[str, dict[str, int]]],
) -> list[str]:
    notes = [
        "Times are compute seconds inside each process from the Parquet files to the verdict "
        "(imports excluded; Evidently's include reading both files into pandas, which it "
        "needs); peak RSS is the whole process's. The machine's 2 cores are shared with other "
        "work, so figures are noisy. Whole-process wall times are in bench/results/drift.json.",
        "Drifted: score (mean +0.3 sd), latency (scale ×1.5), plan (category mix) and amount "
        "(nulls 1 % -> 15 %, same values); undrifted: a fresh sample of the reference.",
    ]
    noria, peer = rows["noria"], rows["evidently"]
    for name, row in rows.items():
        got = flags.get(name, {})
        for kind in ("drifted", "undrifted", "stored"):
            if kind in got:
                notes.append(f"{name} flags on {kind}: {', '.join(got[kind]) or 'nothing'}")
        if row.error:
            notes.append(f"{name} failed: {row.error}")
    for kind in ("drifted", "undrifted"):
        for column in (*DRIFTED, "zip3"):
            if column in reasons.get(kind, {}):
                notes.append(f"noria on {kind}, {column}: {reasons[kind][column]}")
    p = parts["noria"]
    for key, label in (("drifted_s", "profile ref + profile current + compare"),
                       ("stored_s", "load stored ref + profile current + compare")):  # fmt: skip
        figures = {k.split(".", 1)[1]: _median(v) for k, v in p.items() if k.startswith(key)}
        shown = ", ".join(f"{k} {fmt_number(v)} s" for k, v in figures.items() if v is not None)
        if shown:
            notes.append(f"noria {label}: {shown}")
    window = {k.split(".", 1)[1]: _median(v) for k, v in p.items() if k.startswith("window_s.")}
    pieces = [("window_profile_s", "profile"), ("window_merge_s", "merge"),
              ("window_compare_s", "compare")]  # fmt: skip
    shown = ", ".join(
        f"{label} {fmt_number(window[k] * 1000)} ms" for k, label in pieces if window.get(k)
    )
    if shown:
        notes.append(f"noria one more 10k window (median of per-round medians): {shown}")
    fresh = window.get("window_fresh_s")
    if fresh:
        notes.append(
            "noria one more 10k window opening a new DuckDB connection for it (the headline "
            f"keeps one open, as `noria monitor` does): {fmt_number(fresh * 1000)} ms"
        )
    for name, by_kind in window_flags.items():
        for kind, counts in by_kind.items():
            last = f"of the last round's {WINDOWS[name]} windows"
            notes.append(f"{name}, 10k windows of the {kind} data: columns flagged (times, "
                         f"{last}): {counts or 'none'}")  # fmt: skip
    undrifted_w = _num(noria, "window_undrifted_s")
    if undrifted_w is not None:
        notes.append(f"noria 10k window on undrifted data: {fmt_number(undrifted_w * 1000)} ms")

    def ratio(key: str) -> float | None:
        a, b = _num(noria, key), _num(peer, key)
        return b / a if a and b else None

    r = ratio("drifted_s")
    notes.append(_verdict("≥ 50× faster than Evidently on 1M × 20 (drifted)", None if r is None
                          else r >= 50, f"{fmt_number(r)}×" if r else "not measured"))  # fmt: skip
    stored_s, peer_s = _num(noria, "stored_s"), _num(peer, "drifted_s")
    if stored_s and peer_s:
        notes.append(f"with the reference profile stored, noria is {fmt_number(peer_s / stored_s)}"
                     "× faster than Evidently's run on the two files")  # fmt: skip
    caught = _num(noria, "caught")
    notes.append(_verdict("all 4 drifted columns flagged", None if caught is None else caught == 4,
                          f"noria {fmt_number(caught or 0)} of 4"))  # fmt: skip
    false = _num(noria, "false")
    notes.append(_verdict("no false alarm on the undrifted copy",
                          None if "undrifted" not in flags["noria"]
                          else not flags["noria"]["undrifted"],
                          f"noria flags {flags['noria'].get('undrifted') or 'nothing'}; "
                          f"false alarms in all {fmt_number(false or 0)}"))  # fmt: skip
    w = _num(noria, "window_s")
    notes.append(_verdict("one more 10k window ≤ 100 ms", None if w is None else w <= 0.1,
                          f"noria {fmt_number((w or 0) * 1000)} ms"))  # fmt: skip
    for row in rows.values():
        for key, message in row.extra.get("errors", {}).items():
            notes.append(f"{row.framework} {key} failed: {message}")
    return notes
