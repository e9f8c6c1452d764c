"""Benchmark `engine`: per-step overhead, whole-process time and cached rerun of a pipeline.

A 20-step linear pipeline of no-op steps and a 1-step one; per-step overhead =
(t20 - t1) / 19; the whole-process wall time of a fresh 20-step run and of a fully cached
rerun; against Kedro, Prefect 3, Apache Hamilton and Metaflow (local), alternating in one run.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import (
    WORK,
    BenchError,
    Column,
    Report,
    Row,
    ensure_venv,
    fmt_number,
    fresh_dir,
    log,
    median,
    noria_python,
    run_timed,
)
from bench.engine import gen

NAME = "engine"
TITLE = "engine: 20-step vs 1-step linear no-op pipeline; whole process fresh and fully cached"
DEFAULT_ROUNDS = 3
LONG = 20
PEERS_DIR = Path(__file__).resolve().parent / "peers"
HELP_REPS = 5

PINS: dict[str, tuple[str, ...]] = {
    "kedro": ("kedro==1.7.0",),
    # 3.9.x needs certifi>=2026.10.19, absent from this index; 3.8.8 needs a FastAPI that
    # still accepts Body(min_items=...), i.e. <= 0.154.0.
    "prefect": ("prefect==3.8.8", "fastapi==0.154.0"),
    "hamilton": ("sf-hamilton==1.90.0",),
    "metaflow": ("metaflow==2.19.39",),
}

COLUMNS = [
    Column("t1", "1 step", "ms", 1e3),
    Column("t20", "20 steps", "ms", 1e3),
    Column("per_step", "per step", "ms", 1e3, target=0.5),
    Column("whole20", "20 steps, process", "s", target=0.5),
    Column("cached", "cached rerun, process", "s", target=0.3),
    Column("help", "--help", "s", target=0.3),
]

NOTES = [
    "1 step / 20 steps: in-process time of one fresh run that executes and records (median over "
    "repetitions; imports, store creation and a warm-up run excluded); per step = (t20 - t1) / 19.",
    "process: wall time of the whole subprocess (python start, imports, server start if any).",
    "hamilton: .with_cache() in every figure; prefect: tasks with cache_policy=INPUTS + "
    "TASK_SOURCE, persist_result=True in every figure (in-process runs forced to execute with "
    "refresh_cache); each process starts its temporary local server (startup timeout raised "
    "from 20 to 120 s: on a new database it can miss 20 s here).",
    "† metaflow: whole-process `python flow.py run` of 2- and 20-step flows (start and end are "
    "mandatory); per step = (t20 - t2) / 18.",
    "‡ metaflow: `python flow.py resume` of the finished 20-step run (clones every task).",
    "kedro: no cache (MemoryDataset outputs, nothing persisted).",
    "prefect: a flow call ends by shipping its logs to its server, which makes its run times "
    "bimodal; the line 'inside the flow' below gives the cost of its task calls alone.",
]


@dataclass
class Framework:
    """A framework measured through its script in `peers/` (noria, kedro, prefect, hamilton)."""

    name: str
    source: Callable[[int], str]  # the generated module of an n-step pipeline
    reps: int
    caches: bool
    row: Row = field(init=False)
    python: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.row = Row(self.name, version=_pin_version(self.name))

    def setup(self) -> None:
        """Create or reuse the framework's interpreter."""
        if self.name == "noria":
            self.python = noria_python()
        else:
            self.python = str(ensure_venv(self.name, PINS[self.name]))

    def env(self, workdir: Path) -> dict[str, str]:
        """Environment of its subprocesses: state lives in the work dir."""
        if self.name == "prefect":
            # On 2 busy cores its server, migrating a new database, can miss the default 20 s.
            return {
                "PREFECT_HOME": str(workdir / ".prefect"),
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            }
        return {}

    def workdir(self, rnd: int, kind: str, steps: tuple[int, ...]) -> Path:
        """A fresh work dir holding the generated modules `linear<n>.py`."""
        path = fresh_dir(WORK / NAME / self.name / f"r{rnd}-{kind}")
        for n in steps:
            gen.write_module(path, f"linear{n:02d}.py", self.source(n))
        return path

    def script(self, mode: str, workdir: Path, number: int) -> dict[str, object]:
        """Run `peers/run_<name>.py`; returns its figures plus `wall_s`."""
        cmd = [self.python, str(PEERS_DIR / f"run_{self.name}.py"), mode, str(workdir), str(number)]
        measured = run_timed(cmd, cwd=workdir, env=self.env(workdir))
        return {**measured.data, "wall_s": measured.wall_s}

    def measure(self, rnd: int) -> None:
        """One round: in-process repetitions, a fresh whole process, a cached rerun."""
        row = self.row
        try:
            data = self.script("inproc", self.workdir(rnd, "inproc", (1, LONG)), self.reps)
            for t in data["t1"]:
                row.add("t1", t)
            for t in data["t20"]:
                row.add("t20", t)
            _keep_variants(row, data)
            row.extra.setdefault("import_s", []).append(data.get("import_s"))
            if data.get("version"):
                row.version = str(data["version"])
        except BenchError as exc:
            row.fail("t1", str(exc))
            row.fail("t20", str(exc))
        if self.name == "noria":
            self.measure_help()
        workdir = self.workdir(rnd, "whole", (LONG,))
        try:
            data = self.script("once", workdir, LONG)
            _expect(data, executed=LONG)
            row.add("whole20", float(data["wall_s"]))
        except BenchError as exc:
            row.fail("whole20", str(exc))
            row.fail("cached", "no fresh run to rerun")
            return
        if self.caches:
            try:
                data = self.script("once", workdir, LONG)
                _expect(data, cached=LONG)
                row.add("cached", float(data["wall_s"]))
            except BenchError as exc:
                row.fail("cached", str(exc))

    def measure_help(self) -> None:
        """Wall time of `.venv/bin/noria --help`, HELP_REPS times."""
        exe = Path(self.python).parent / "noria"
        if not exe.exists():
            self.row.fail("help", f"{exe} not found")
            return
        for _ in range(HELP_REPS):
            try:
                self.row.add("help", run_timed([str(exe), "--help"], expect_json=False).wall_s)
            except BenchError as exc:
                self.row.fail("help", str(exc))
                return


@dataclass
class Metaflow(Framework):
    """Metaflow, local: every figure is a whole `python flow.py run|resume` process."""

    def env(self, workdir: Path) -> dict[str, str]:
        return {
            "METAFLOW_HOME": str(workdir / ".metaflow_home"),
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(workdir),
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DEFAULT_METADATA": "local",
        }

    def flow(self, workdir: Path, steps: int, command: str, expect: str) -> float:
        """Run a generated flow file; check its closing message; return the wall time."""
        cmd = [self.python, f"linear{steps:02d}.py", command]
        measured = run_timed(cmd, cwd=workdir, env=self.env(workdir), expect_json=False)
        if expect not in measured.output:
            raise BenchError(f"{command}: no {expect!r} in its output")
        return measured.wall_s

    def measure(self, rnd: int) -> None:
        row = self.row
        try:
            row.add("t1", self.flow(self.workdir(rnd, "flow02", (2,)), 2, "run", "Done!"))
        except BenchError as exc:
            row.fail("t1", str(exc))
        workdir = self.workdir(rnd, "flow20", (LONG,))
        try:
            wall = self.flow(workdir, LONG, "run", "Done!")
            row.add("t20", wall)
            row.add("whole20", wall)
        except BenchError as exc:
            for key in ("t20", "whole20", "cached"):
                row.fail(key, str(exc))
            return
        try:
            row.add("cached", self.flow(workdir, LONG, "resume", "cloned!"))
        except BenchError as exc:
            row.fail("cached", str(exc))


def _pin_version(name: str) -> str:
    pins = PINS.get(name, ())
    return pins[0].split("==")[1] if pins else ""


def _expect(data: dict[str, object], executed: int = 0, cached: int = 0) -> None:
    got = (data.get("executed"), data.get("cached"))
    if got != (executed, cached):
        raise BenchError(f"expected {executed} executed / {cached} cached steps, got {got}")


def _keep_variants(row: Row, data: dict[str, object]) -> None:
    variants = data.get("variants") or {}
    assert isinstance(variants, dict)
    store = row.extra.setdefault("variants", {})
    for vname, figures in variants.items():
        slot = store.setdefault(vname, {"t1": [], "t20": []})
        slot["t1"] += figures["t1"]
        slot["t20"] += figures["t20"]


def frameworks() -> list[Framework]:
    """noria first, then the peers, in the order they alternate within a round."""
    return [
        Framework("noria", gen.noria_source, reps=20, caches=True),
        Framework("kedro", gen.kedro_source, reps=15, caches=False),
        Framework("prefect", gen.prefect_source, reps=6, caches=True),
        Framework("hamilton", gen.hamilton_source, reps=15, caches=True),
        Metaflow("metaflow", gen.metaflow_source, reps=0, caches=True),
    ]


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Set up every framework, measure them alternating for `rounds` rounds, summarise."""
    fws = frameworks()
    active: list[Framework] = []
    for fw in fws:
        try:
            fw.setup()
            active.append(fw)
        except BenchError as exc:
            log(f"{fw.name}: setup failed: {exc}")
            fw.row.error = str(exc)
    for rnd in range(1, rounds + 1):
        for fw in active:
            log(f"engine round {rnd}/{rounds}: {fw.name}")
            fw.measure(rnd)
    notes = list(NOTES)
    for fw in fws:
        notes += _settle(fw)
        notes += _variant_notes(fw.row)
    for fw in fws:
        if fw.name == "kedro":
            fw.row.values["cached"] = "n/a (no cache)"
        if fw.name == "metaflow":
            fw.row.marks.update({"t1": " †", "t20": " †", "per_step": " †", "cached": " ‡"})
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        [fw.row for fw in fws],
        notes,
        meta={"rounds": rounds, "pins": PINS, "python": sys.version.split()[0]},
    )


def _settle(fw: Framework) -> list[str]:
    """Medians and per-step overhead of a framework; notes when per step is within noise."""
    row = fw.row
    if row.error:
        return []
    if not row.samples:
        row.error = next(iter(row.extra.get("errors", {}).values()), "no figures")
        return []
    row.settle([c.key for c in COLUMNS])
    t1, t20 = row.values.get("t1"), row.values.get("t20")
    if not (isinstance(t1, float) and isinstance(t20, float)):
        if "t1" in row.values or "t20" in row.values:
            row.values["per_step"] = "failed"
        return []
    short = 2 if isinstance(fw, Metaflow) else 1
    row.values["per_step"] = (t20 - t1) / (LONG - short)
    # Uncertainty of a median: about its samples' interquartile range / sqrt(count).
    n = min(len(row.samples["t1"]), len(row.samples["t20"]))
    noise = max(_iqr(row.samples["t1"]), _iqr(row.samples["t20"])) / math.sqrt(n)
    if t20 - t1 < noise:
        return [
            f"{fw.name}: per step is within noise: t20 - t1 = {fmt_number((t20 - t1) * 1e3)} ms, "
            f"less than the uncertainty of the medians (about {fmt_number(noise * 1e3)} ms)."
        ]
    return []


def _iqr(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4)
    return q3 - q1


def _variant_notes(row: Row) -> list[str]:
    notes = []
    for vname, figures in row.extra.get("variants", {}).items():
        if figures["t1"] and figures["t20"]:
            t1, t20 = median(figures["t1"]), median(figures["t20"])
            per_step = (t20 - t1) / (LONG - 1)
            notes.append(
                f"{row.framework} {vname}: 1 step {fmt_number(t1 * 1e3)} ms, 20 steps "
                f"{fmt_number(t20 * 1e3)} ms, per step {fmt_number(per_step * 1e3)} ms."
            )
    if row.error:
        return notes
    by_message: dict[str, list[str]] = {}
    for key, message in row.extra.get("errors", {}).items():
        by_message.setdefault(message, []).append(key)
    for message, keys in by_message.items():
        notes.append(f"{row.framework} {', '.join(keys)} failed: {message}")
    return notes
