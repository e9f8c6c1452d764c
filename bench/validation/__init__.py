"""Benchmark `validation`: profile and validate Parquet files of 1M and 5M rows × 20 columns.

The batch (numpy, seeded: `bench/validation/gen.py`) has numeric, categorical, string and
timestamp columns, nulls, and known invalid values. Profiling: noria's `profile_data` straight
from the file, against DuckDB's SUMMARIZE (the floor; in noria's venv) and ydata-profiling in
minimal mode. Validation: the same 14 checks (unique, not null, ranges, sets, regexes, a time
range) in noria, pandera on pandas, pandera on polars and Great Expectations 1.x; the failing-row
counts must agree. Each measurement is a subprocess reporting its compute time and peak RSS.
"""

from __future__ import annotations

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

NAME = "validation"
TITLE = "validation: profile and validate 1M and 5M rows × 20 columns from Parquet (2 cores)"
DEFAULT_ROUNDS = 1
PEERS_DIR = Path(__file__).resolve().parent / "peers"
SIZES = {"1m": 1_000_000, "5m": 5_000_000}
PINS: dict[str, tuple[str, ...]] = {
    "pandera-pandas": ("pandera[pandas]==0.35.0", "pandas==2.3.3", "pyarrow==21.0.0"),
    "pandera-polars": ("pandera[polars]==0.35.0", "polars==1.34.0"),
    "great-expectations": ("great_expectations==1.24.1", "pyarrow==21.0.0"),
    "ydata-profiling": ("ydata-profiling==4.18.4", "pyarrow==21.0.0"),
}
#: framework -> (venv name or None for noria's own, script, tasks)
FRAMEWORKS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "noria": (None, "run_noria.py", ("profile", "validate")),
    "duckdb SUMMARIZE": (None, "run_duckdb.py", ("profile",)),
    "ydata-profiling": ("ydata-profiling", "run_ydata.py", ("profile",)),
    "pandera (pandas)": ("pandera-pandas", "run_pandera_pandas.py", ("validate",)),
    "pandera (polars)": ("pandera-polars", "run_pandera_polars.py", ("validate",)),
    "great-expectations": ("great-expectations", "run_gx.py", ("validate",)),
}
#: Peers too slow for the 5M file within the benchmark's budget are run at 1M only.
ONLY_1M: set[str] = set()
TIMEOUT_S = 600

COLUMNS = [
    Column("profile_1m", "profile 1M", "s"),
    Column("profile_5m", "profile 5M", "s"),
    Column("validate_1m", "validate 1M", "s"),
    Column("validate_5m", "validate 5M", "s"),
    Column("peak_profile_5m", "peak RSS profile 5M", "MB"),
    Column("peak_validate_5m", "peak RSS validate 5M", "MB"),
]


def _data() -> dict[str, Path]:
    """The batch files, written once by a subprocess (so that this process stays small)."""
    import subprocess

    folder = WORK / NAME / "data"
    files = {}
    for label, rows in SIZES.items():
        path = folder / f"batch_{label}.parquet"
        if not path.exists():
            log(f"writing {path.relative_to(WORK.parent.parent)} ({rows:,} rows)")
            subprocess.run(
                [noria_python(), "-m", "bench.validation.gen", str(path), str(rows)],
                cwd=WORK.parent.parent,
                check=True,
            )
        files[label] = path
    return files


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Alternate the frameworks on each size and task for `rounds` rounds; medians."""
    files = _data()
    rows = {name: Row(name) for name in FRAMEWORKS}
    pythons: dict[str, str] = {}
    for name, (venv, _, _) in FRAMEWORKS.items():
        if venv is None:
            pythons[name] = noria_python()
            continue
        try:
            pythons[name] = str(ensure_venv(venv, PINS[venv]))
        except BenchError as exc:
            log(f"{name}: setup failed: {exc}")
            rows[name].error = str(exc)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for rnd in range(1, rounds + 1):
        for label, path in files.items():
            for task in ("profile", "validate"):
                for name, (_, script, tasks) in FRAMEWORKS.items():
                    if task not in tasks or name not in pythons:
                        continue
                    if label != "1m" and name in ONLY_1M:
                        rows[name].values[f"{task}_{label}"] = "1M only"
                        continue
                    key = f"{task}_{label}"
                    log(f"round {rnd}/{rounds}: {task} {label} {name}")
                    try:
                        m = run_timed(
                            [pythons[name], str(PEERS_DIR / script), task, str(path)],
                            cwd=PEERS_DIR,
                            timeout=TIMEOUT_S,
                        )
                    except BenchError as exc:
                        log(f"{name}: {exc}")
                        rows[name].fail(key, str(exc))
                        continue
                    data = m.data
                    rows[name].add(key, float(data["seconds"]))
                    rows[name].add(f"wall_{key}", m.wall_s)
                    if label == "5m":
                        rows[name].add(f"peak_{key}", float(data["peak_mb"]))
                    rows[name].extra.setdefault("peak_mb", {})[key] = data["peak_mb"]
                    rows[name].version = str(data.get("version") or "")
                    if "counts" in data:
                        counts.setdefault(label, {})[name] = data["counts"]
    keys = [c.key for c in COLUMNS]
    for row in rows.values():
        if not row.error:
            row.settle(keys + [f"wall_{k}" for k in keys])
    notes = _notes(rows, counts)
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        list(rows.values()),
        notes,
        meta={"rounds": rounds, "pins": PINS, "python": sys.version.split()[0], "counts": counts},
    )


def _num(row: Row, key: str) -> float | None:
    value = row.values.get(key)
    return float(value) if isinstance(value, float | int) else None


def _verdict(what: str, ok: bool | None, detail: str) -> str:
    mark = "n/a" if ok is None else ("ok" if ok else "MISS")
    return f"target {what}: {mark} ({detail})"


def _notes(rows: dict[str, Row], counts: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    notes = [
        "Times are compute seconds inside each process from reading the file to the result "
        "(imports excluded; pandas/polars peers include reading the Parquet file into a frame, "
        "as they must); peak RSS is the whole process's. Whole-process wall times are in "
        "bench/results/validation.json.",
        "noria's profile has per-column counts, nulls, min/max, mean/std, a quantile sketch, "
        "a fixed-edge histogram, top values, distinct counts (HyperLogLog or exact), string "
        "lengths and time buckets; SUMMARIZE has no histogram and no top values.",
    ]
    noria = rows["noria"]

    def ratio(peer: str, key: str) -> float | None:
        a, b = _num(noria, key), _num(rows[peer], key)
        return b / a if a and b else None

    def check(what: str, peer: str, key: str, need: float, *, within: bool = False) -> None:
        r = ratio(peer, key)
        if r is None:
            notes.append(_verdict(what, None, f"{peer} not measured"))
            return
        ok = r >= need
        shown = f"noria {fmt_number(_num(noria, key) or 0)} s, {peer} "
        shown += f"{fmt_number(_num(rows[peer], key) or 0)} s: {fmt_number(r)}×"
        notes.append(_verdict(what, ok, shown))

    check("profile 5M within 1.5× SUMMARIZE", "duckdb SUMMARIZE", "profile_5m", 1 / 1.5)
    key = "profile_5m" if _num(rows["ydata-profiling"], "profile_5m") else "profile_1m"
    check(f"profile ≥ 10× ydata-profiling ({key[-2:].upper()})", "ydata-profiling", key, 10)
    gx_key = "validate_5m" if _num(rows["great-expectations"], "validate_5m") else "validate_1m"
    check(f"validate ≥ 50× Great Expectations ({gx_key[-2:].upper()})", "great-expectations",
          gx_key, 50)  # fmt: skip
    check("validate 5M ≥ 5× pandera (pandas)", "pandera (pandas)", "validate_5m", 5)
    check("validate 5M no slower than pandera (polars)", "pandera (polars)", "validate_5m", 1)
    for peer in ("great-expectations", "pandera (pandas)"):
        a = _num(noria, "peak_validate_5m")
        b = _num(rows[peer], "peak_validate_5m")
        if a and b:
            notes.append(_verdict(f"peak memory ≤ half of {peer} (validate 5M)", a <= b / 2,
                                  f"noria {a:,.0f} MB, {peer} {b:,.0f} MB"))  # fmt: skip
    for label, by_framework in sorted(counts.items()):
        ref = by_framework.get("noria")
        if ref is None:
            continue
        for name, got in by_framework.items():
            if name == "noria":
                continue
            diff = {k: (ref.get(k), got.get(k)) for k in ref if ref.get(k) != got.get(k)}
            if diff:
                notes.append(f"failing-row counts DIFFER at {label}, noria vs {name}: {diff}")
            else:
                notes.append(f"failing-row counts at {label}: {name} agrees with noria on all "
                             f"{len(ref)} checks")  # fmt: skip
        if ref:
            total = sum(ref.values())
            notes.append(f"{label}: noria failing rows per check: {ref} (total {total:,})")
    for row in rows.values():
        for key, message in row.extra.get("errors", {}).items():
            notes.append(f"{row.framework} {key} failed: {message}")
    return notes
