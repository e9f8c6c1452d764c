"""Benchmark `ui`: the dashboard on 100,000 runs, a 1,000,000-point history, 1,000 trials.

The store is built once (``bench/.work/ui``, by :mod:`bench.ui.build`), then ``noria ui`` is
started as a process and timed: until it prints its address (ready), then each page over HTTP
(server side: request to last byte) and in headless Chromium (navigation to the load event),
the size of each page, and the server's resident memory at the end. MLflow's UI side by side is
for a later round.

    python -m bench ui [--rounds N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench._common import WORK, Column, Report, Row, log

NAME = "ui"
TITLE = "ui: noria ui on 100,000 runs (10 params, 10 metrics), a 1M-point history, 1,000 trials"
DEFAULT_ROUNDS = 3
CHROMIUM = os.environ.get("NORIA_CHROMIUM", "/usr/bin/chromium")

PAGES = {
    "first_rows": "/runs",
    "filtered": "/runs?filter=m3+%3E+0.5+and+family+%3D+lightgbm",
    "sorted": "/runs?sort=metrics.m7&desc=1",
    "sorted_page2": "/runs?sort=metrics.m7&desc=1&page=2",
    "sorted_param": "/runs?sort=params.p3&desc=0",
    "sorted_filtered": "/runs?filter=m3+%3E+0.5+and+family+%3D+lightgbm&sort=metrics.m7",
    "parallel_1000": "/compare?parent={search}",
    "history_1m": "/runs/{long}",
}

COLUMNS = [
    Column("ready_s", "ready", "s", target=1.0),
    *[Column(f"http_{k}", f"{k} (server)", "ms", scale=1000) for k in PAGES],
    *[Column(f"chrome_{k}", f"{k} (Chromium)", "ms", scale=1000) for k in PAGES],
    Column("rss_mb", "server RSS", "MB", target=200),
    Column("max_page_kb", "largest page", "KB", target=2048),
]


def _store() -> tuple[Path, dict[str, str]]:
    root = WORK / "ui" / "store"
    marker = root / ".bench-ids"
    if not marker.exists():
        from bench.ui.build import build

        log("building the 100,000-run store (once; about a minute)")
        ids = build(root)
        marker.write_text(f"{ids['search']} {ids['long']}")
    search, long = marker.read_text().split()
    return root, {"search": search, "long": long}


def _start(root: Path) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "noria.cli", "ui", "--port", "0", "--path", str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    ready = time.perf_counter() - started
    if not line.startswith("noria ui on "):
        proc.kill()
        raise RuntimeError(f"noria ui did not start: {line!r}")
    return proc, line.split()[3].rstrip("/"), ready


def _get(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
    return time.perf_counter() - started, len(body)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Start ``noria ui`` ``rounds`` times on the store; medians of each figure."""
    root, ids = _store()
    row = Row("noria")
    sizes: dict[str, int] = {}
    for r in range(rounds):
        proc, base, ready = _start(root)
        try:
            row.add("ready_s", ready)
            urls = {k: base + v.format(**ids) for k, v in PAGES.items()}
            for key, url in urls.items():
                seconds, size = _get(url)
                row.add(f"http_{key}", seconds)
                sizes[key] = size
            for key, seconds in _chromium(urls).items():
                row.add(f"chrome_{key}", seconds)
            row.add("rss_mb", _rss_mb(proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)
        log(f"ui: round {r + 1}/{rounds} done")
    row.add("max_page_kb", max(sizes.values()) / 1024)
    row.settle([c.key for c in COLUMNS])
    row.extra["page_bytes"] = sizes
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        [row],
        notes=[
            "server: urllib GET to the last byte, after the first request of the round warmed "
            "nothing else; Chromium: page.goto to the load event, one fresh page per URL.",
            "sorted / sorted_param: the first sort by that key on a fresh server (100,001 "
            "runs, no index on metrics(key) or params(key)): one lookup per run builds the "
            "column's TEMP table; sorted_page2, sorted_filtered and every Chromium figure come "
            "after it and walk that table's index (noria.ui.caches).",
        ],
        meta={"rounds": rounds, "page_bytes": sizes},
    )


def _chromium(urls: dict[str, str]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        return {}
    from playwright.sync_api import sync_playwright

    out = {}
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        for key, url in urls.items():
            started = time.perf_counter()
            page.goto(url, wait_until="load", timeout=120_000)
            out[key] = time.perf_counter() - started
        browser.close()
    return out


if __name__ == "__main__":
    from bench._common import format_table

    print(format_table([run(int(sys.argv[1]) if len(sys.argv) > 1 else 1)]))
