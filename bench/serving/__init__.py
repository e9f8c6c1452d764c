"""Benchmark `serving`: the same model served by noria and by `mlflow models serve`.

A HistGradientBoosting pipeline (noria's preprocessing, fitted on the penguins) is registered in
a noria project and saved as an MLflow sklearn model; both servers run as subprocesses on
127.0.0.1 (MLflow with one worker, `--env-manager local`) and take the very same request bodies on
`/invocations` (MLflow's `dataframe_split`). The load generator is wrk (Debian: `apt-get install
wrk`), a separate process on the same 2 cores. noria and MLflow alternate each round.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from statistics import median

from bench._common import (
    QUIET_ENV,
    REPO,
    WORK,
    BenchError,
    Column,
    Report,
    Row,
    ensure_venv,
    fresh_dir,
    log,
    noria_python,
    run_timed,
)

NAME = "serving"
TITLE = "serving: one HistGradientBoosting model, noria vs mlflow models serve (wrk on 127.0.0.1)"
DEFAULT_ROUNDS = 2
DURATION_S = 5
#: Logging cost: pairs of 8-client runs, alternating between a logging and a non-logging server
#: that are both up, so that both see the same load from the other jobs on the machine. A run
#: lasts one flush interval of the log (5 s), so that every run holds one flush, not zero or two;
#: both servers are first warmed past their first flush.
LOG_PAIRS = 6
LOG_RUN_S = 5
LOG_WARM_S = 6
PEERS_DIR = Path(__file__).resolve().parent / "peers"
PINS: dict[str, tuple[str, ...]] = {
    # the same venv as the tracking benchmark; 3.18.0 needs an mlflow-skinny absent here
    "mlflow": ("mlflow==3.17.2",),
}

COLUMNS = [
    Column("p50_ms", "1 row p50", "ms", target=2.0),
    Column("p99_ms", "1 row p99", "ms", target=5.0),
    Column("rps_8", "8 clients", "req/s", higher_is_better=True, target_ratio=30),
    Column("rps_64", "64 clients", "req/s", higher_is_better=True),
    Column("batch_rows_s", "1,000-row batch", "rows/s", higher_is_better=True, target_ratio=5),
    Column("ready_s", "ready", "s", target=2.0),
    Column("rss_mib", "memory", "MiB"),
    Column("rps_8_log", "8 clients, log (paired)", "req/s", higher_is_better=True),
    Column("rps_8_nolog", "8 clients, no log (paired)", "req/s", higher_is_better=True),
    Column("log_cost_pct", "logging cost", "%", target=10.0),
    Column("log_cpu_pct", "logging CPU/request", "%"),
]

NOTES = [
    "Latency: wrk -t1 -c1 (one client, keep-alive), p50/p99 of single-row requests. "
    "Throughput: wrk -t2 -c8 and -c64, single-row requests. Batch: wrk -t1 -c1 with a "
    f"1,000-row body, rows/s = 1,000 × requests/s. Each for {DURATION_S} s.",
    "ready: from spawning the server process to its first 200 on the health route (noria "
    "/ready, MLflow /ping). noria's model was loaded once at setup (as a deploy step does), "
    "which compiles it and caches the compiled form; a first, cold start also compiles. "
    "memory: RSS of the server's process tree after the load.",
    "noria serves with prediction logging on (the default). Logging cost: a logging and a "
    f"non-logging noria server are both up and warmed for {LOG_WARM_S} s each (past the log's "
    f"first flush); {LOG_PAIRS} pairs of {LOG_RUN_S} s wrk -t2 -c8 runs (one flush interval: "
    "each run holds one flush) alternate between them, the order swapped every pair; "
    "'(paired)' are the medians of each side, the cost is the median over all pairs of "
    "1 - log/no log. 'logging CPU/request' is the server's own CPU time (user + system, from "
    "/proc) per request, logging against not, over the same runs: far less sensitive to the "
    "other jobs on the machine than a rate. Failed requests (non-2xx, socket errors) fail the "
    "figure.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return int(r.status)
    except Exception:
        return 0


def _rss_mib(pid: int) -> float:
    """RSS of a process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class _Served:
    def __init__(self, cmd: list[str], health: str, env: dict[str, str], cwd: Path) -> None:
        self.port = int(cmd[cmd.index("--port") + 1]) if "--port" in cmd else 0
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, **QUIET_ENV, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = start + 120
        while _get(health) != 200:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise BenchError(f"server exited {self.proc.returncode}: {err.strip()[-300:]}")
            if time.perf_counter() > deadline:
                self.stop()
                raise BenchError("server not ready after 120 s")
            time.sleep(0.01)
        self.ready_s = time.perf_counter() - start

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(
    url: str,
    body: Path,
    connections: int,
    threads: int,
    strict: bool = True,
    duration: int = DURATION_S,
) -> dict[str, float]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(PEERS_DIR / "post.lua"),
        url,
    ]
    out = run_timed(cmd, env={"BODY": str(body)}, expect_json=False, timeout=60).output
    figures: dict[str, float] = {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise BenchError(f"wrk: no rate in output: {out[-200:]}")
    figures["rps"] = float(rate.group(1))
    done = re.search(r"(\d+) requests in", out)
    figures["requests"] = float(done.group(1)) if done else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            figures[f"p{pct}_ms"] = float(m.group(1)) * _UNITS[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(int(g) for g in sock.groups()) if sock else 0
    if failed and strict:
        raise BenchError(f"wrk: {failed} failed requests at {connections} clients")
    figures["failed"] = failed
    return figures


def _measure(row: Row, served: _Served, url: str, work: Path) -> None:
    """Every figure of one server. noria's failed requests fail the figure; a peer's are counted
    in the notes (MLflow times out under 64 clients)."""
    strict = row.framework == "noria"

    def wrk(body: str, connections: int, threads: int) -> dict[str, float]:
        got = _wrk(url, work / body, connections, threads, strict)
        if got["failed"]:
            failed = row.extra.setdefault("failed", {})
            failed[connections] = failed.get(connections, 0) + int(got["failed"])
        return got

    row.add("ready_s", served.ready_s)
    wrk("one.json", 4, 1)  # warm-up
    single = wrk("one.json", 1, 1)
    row.add("p50_ms", single["p50_ms"])
    row.add("p99_ms", single["p99_ms"])
    row.add("rps_8", wrk("one.json", 8, 2)["rps"])
    row.add("rps_64", wrk("one.json", 64, 2)["rps"])
    row.add("batch_rows_s", 1000 * wrk("batch.json", 1, 1)["rps"])
    row.add("rss_mib", _rss_mib(served.proc.pid))


def _start_noria(work: Path, nolog: bool = False) -> tuple[_Served, str]:
    port = _free_port()
    noria = str(Path(noria_python()).with_name("noria"))
    cmd = [noria, "serve", "--path", str(work), "--port", str(port)]
    if nolog:
        cmd.append("--no-log")
    served = _Served(cmd, f"http://127.0.0.1:{port}/ready", {}, work)
    return served, f"http://127.0.0.1:{port}/invocations"


def _noria(row: Row, work: Path) -> None:
    served, url = _start_noria(work)
    try:
        _measure(row, served, url, work)
    finally:
        served.stop()


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _logging_cost(row: Row, work: Path) -> None:
    """Logging on against off, interleaved: both servers up, runs alternating."""
    (on, on_url), (off, off_url) = _start_noria(work), _start_noria(work, nolog=True)
    try:
        body = work / "one.json"
        for url in (on_url, off_url):
            _wrk(url, body, 8, 2, duration=LOG_WARM_S)  # warm-up, past the first flush
        rates: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}  # CPU seconds per request
        for pair in range(LOG_PAIRS):
            order = [(True, on, on_url), (False, off, off_url)]
            for logging, served, url in order if pair % 2 == 0 else order[::-1]:
                before = _cpu_s(served.proc.pid)
                got = _wrk(url, body, 8, 2, duration=LOG_RUN_S)
                rates[logging].append(got["rps"])
                cpu[logging].append((_cpu_s(served.proc.pid) - before) / max(got["requests"], 1))
    finally:
        on.stop()
        off.stop()
    ons, offs = rates[True], rates[False]
    row.add("rps_8_log", median(ons))
    row.add("rps_8_nolog", median(offs))
    row.extra.setdefault("log_pairs", []).append([ons, offs])
    row.extra.setdefault("log_cpu", []).append([cpu[True], cpu[False]])


def _mlflow(row: Row, python: str, work: Path) -> None:
    port = _free_port()
    mlflow = str(Path(python).with_name("mlflow"))
    cmd = [
        mlflow,
        "models",
        "serve",
        "-m",
        str(work / "mlflow-model"),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "--port",
        str(port),
        "-w",
        "1",
    ]
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": f"{Path(python).parent}:{os.environ['PATH']}"}
    served = _Served(cmd, f"http://127.0.0.1:{port}/ping", env, work)
    try:
        _measure(row, served, f"http://127.0.0.1:{port}/invocations", work)
    finally:
        served.stop()


def _quartiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if len(ordered) < 4:
        return ordered[0], ordered[-1]
    return ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Set up both servers' model, then alternate noria and MLflow for `rounds` rounds."""
    rows = {"noria": Row("noria"), "mlflow": Row("mlflow", version=PINS["mlflow"][0][8:])}
    keys = [c.key for c in COLUMNS]
    if shutil.which("wrk") is None:
        for row in rows.values():
            row.error = "wrk not found: apt-get install wrk"
        return Report(NAME, TITLE, COLUMNS, list(rows.values()), NOTES)
    work = fresh_dir(WORK / NAME)
    run_timed([noria_python(), str(PEERS_DIR / "setup_noria.py"), str(work)], cwd=work)
    python = None
    try:
        python = str(ensure_venv("mlflow", PINS["mlflow"]))
        setup = run_timed(
            [python, str(PEERS_DIR / "setup_mlflow.py"), str(work)],
            cwd=work,
            env={"PYTHONPATH": str(REPO / "src")},
        )
        rows["mlflow"].version = setup.data.get("version", rows["mlflow"].version)
    except BenchError as exc:
        log(f"mlflow: setup failed: {exc}")
        rows["mlflow"].error = str(exc)
        python = None
    for rnd in range(1, rounds + 1):
        for name in ("noria", "mlflow"):
            if name == "mlflow" and python is None:
                continue
            log(f"serving round {rnd}/{rounds}: {name}")
            try:
                if name == "noria":
                    _noria(rows["noria"], work)
                    _logging_cost(rows["noria"], work)
                else:
                    _mlflow(rows["mlflow"], python, work)  # type: ignore[arg-type]
            except BenchError as exc:
                log(f"{name}: {exc}")
                for key in keys:
                    rows[name].fail(key, str(exc))
    notes = list(NOTES)
    for row in rows.values():
        if row.error:
            continue
        if not row.samples:
            row.error = next(iter(row.extra.get("errors", {}).values()), "no figures")
            continue
        row.settle(keys)
        for clients, n in sorted(row.extra.get("failed", {}).items()):
            notes.append(f"{row.framework}: {n} failed requests (timeouts) at {clients} clients")
        errors = set(row.extra.get("errors", {}).values())
        notes += [f"{row.framework} failed in some rounds: {e}" for e in sorted(errors)]
    pairs = rows["noria"].extra.get("log_pairs", [])
    if pairs:
        costs = [[1 - a / b for a, b in zip(on, off, strict=True)] for on, off in pairs]
        rounds_text = "; ".join(
            f"round {i}: " + ", ".join(f"{c:+.1%}" for c in cs) for i, cs in enumerate(costs, 1)
        )
        pooled = sorted(c for cs in costs for c in cs)
        rows["noria"].values["log_cost_pct"] = 100 * median(pooled)
        q1, q3 = _quartiles(pooled)
        cpu = rows["noria"].extra.get("log_cpu", [])
        cpu_costs = sorted(1 - b / a for on, off in cpu for a, b in zip(on, off, strict=True))
        if cpu_costs:
            rows["noria"].values["log_cpu_pct"] = 100 * median(cpu_costs)
        cq1, cq3 = _quartiles(cpu_costs) if cpu_costs else (0.0, 0.0)
        per_request = median(a for on, _ in cpu for a in on) * 1e6 if cpu else 0.0
        notes.append(
            f"noria: logging cost per pair (1 - log/no log), {rounds_text}; median over all "
            f"{len(pooled)} pairs {median(pooled):.1%}, quartiles {q1:.1%} to {q3:.1%} "
            f"(target ≤ 10%). Server CPU per request with logging {per_request:.0f} µs; its "
            f"share spent on logging (1 - no log/log, per pair) median {median(cpu_costs):.1%}, "
            f"quartiles {cq1:.1%} to {cq3:.1%}."
            if cpu_costs
            else f"noria: logging cost per pair (1 - log/no log), {rounds_text}."
        )
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        list(rows.values()),
        notes,
        meta={
            "rounds": rounds,
            "pins": PINS,
            "python": sys.version.split()[0],
            "duration_s": DURATION_S,
            "load": "wrk",
        },
    )


__all__ = ["run"]
