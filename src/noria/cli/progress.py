"""The live view of a run: a Rich table of steps, their state, time and cache hits.

On a terminal the table updates in place; elsewhere (CI, a pipe) each step prints one line when
it ends, so logs stay readable. A running step that reports progress
(:func:`noria.tracking.report_progress`: the search says trials done, the best score so far and
the time left) has that line in a ``progress`` column while it runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from noria import tracking
from noria.cli._output import console, seconds, short
from noria.pipeline.runner import RunResult, StepResult

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {
    "pending": "dim",
    "running": "yellow",
    "completed": "green",
    "cached": "cyan",
    "failed": "bold red",
}


class LiveView:
    """A :class:`~noria.pipeline.runner.RunObserver` that draws the run."""

    def __init__(self, out: Console | None = None) -> None:
        self._console = out or console()
        self._live: Any = None
        self._order: list[str] = []
        self._state: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._results: dict[str, StepResult] = {}
        self._run_id = ""

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=f"run {short(self._run_id)}", title_justify="left", expand=False)
        table.add_column("step")
        table.add_column("state")
        table.add_column("time", justify="right")
        table.add_column("attempts", justify="right")
        notes = {
            name: tracking.progress(self._run_id, name)
            for name in self._order
            if self._state.get(name) == "running" and name not in self._results
        }
        notes = {name: note for name, note in notes.items() if note}
        if notes:
            table.add_column("progress", overflow="fold")
        for name in self._order:
            state = self._state.get(name, "pending")
            result = self._results.get(name)
            if result is not None:
                took = seconds(result.duration) if state != "cached" else "hit"
            elif state == "running":
                took = seconds(time.perf_counter() - self._started[name])
            else:
                took = ""
            attempts = str(result.attempts) if result and result.attempts > 1 else ""
            cells = [name, f"[{_STYLE[state]}]{state}[/]", took, attempts]
            if notes:
                cells.append(notes.get(name, ""))
            table.add_row(*cells)
        return table

    def on_run_start(self, *, run_id: str, pipeline: str, steps: Sequence[str]) -> None:
        self._run_id = run_id
        self._order = list(steps)
        if self._console.is_terminal:
            from rich.live import Live

            self._live = Live(
                self._table(),
                console=self._console,
                refresh_per_second=8,
                get_renderable=self._table,
            )
            self._live.start()
        else:
            self._console.print(f"run {run_id} of pipeline '{pipeline}': {len(steps)} steps")

    def on_step(self, *, name: str, status: str, result: StepResult | None) -> None:
        self._state[name] = status
        if status == "running":
            self._started[name] = time.perf_counter()
        if result is not None:
            self._results[name] = result
            if self._live is None:
                took = "cache hit" if status == "cached" else seconds(result.duration)
                self._console.print(f"  {name:<22} {status:<10} {took}")

    def on_run_end(self, *, result: RunResult) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.stop()
            self._live = None

    def close(self) -> None:
        """Stop drawing (after an error or Ctrl-C)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
