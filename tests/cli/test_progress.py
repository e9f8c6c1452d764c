"""The live view of a run, on a terminal and in a log."""

from __future__ import annotations

import io

from rich.console import Console

import noria
from noria.cli.progress import LiveView
from noria.pipeline.runner import execute


def first() -> int:
    return 1


def second(first: int) -> int:
    return first + 1


PIPE = noria.Pipeline([first, second], name="two")


def test_terminal_view_shows_steps_states_and_cache_hits(metadata, artifacts) -> None:
    execute(PIPE, metadata=metadata, artifacts=artifacts)
    sink = io.StringIO()
    view = LiveView(Console(file=sink, force_terminal=True, width=100))
    execute(PIPE, metadata=metadata, artifacts=artifacts, observer=view)
    screen = sink.getvalue()
    assert "first" in screen and "second" in screen
    assert screen.count("cached") >= 2 and "hit" in screen


def test_log_view_prints_one_line_per_step(metadata, artifacts) -> None:
    sink = io.StringIO()
    view = LiveView(Console(file=sink, force_terminal=False, width=100))
    execute(PIPE, metadata=metadata, artifacts=artifacts, observer=view)
    lines = sink.getvalue().splitlines()
    assert lines[0].startswith("run ") and "2 steps" in lines[0]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["first", "completed"],
        ["second", "completed"],
    ]


_VIEW: list[LiveView] = []
_SCREENS: list[str] = []


def searching() -> int:
    """A step that says how it is going, and looks at the live view meanwhile."""
    noria.tracking.report_progress(
        "14 trials (2 running), best roc_auc 0.9821 (lightgbm), 98 s left"
    )
    sink = io.StringIO()
    Console(file=sink, width=160).print(_VIEW[0]._table())
    _SCREENS.append(sink.getvalue())
    return 1


def test_a_running_step_shows_its_progress(metadata, artifacts) -> None:
    # before: a two-minute search showed only the step's elapsed time
    view = LiveView(Console(file=io.StringIO(), force_terminal=True, width=160))
    _VIEW[:] = [view]
    execute(
        noria.Pipeline([searching], name="one"),
        metadata=metadata,
        artifacts=artifacts,
        observer=view,
    )
    (screen,) = _SCREENS
    assert "progress" in screen and "best roc_auc 0.9821 (lightgbm), 98 s left" in screen
    assert "progress" not in _render(view)  # the step ended: its line is gone


def _render(view: LiveView) -> str:
    sink = io.StringIO()
    Console(file=sink, width=160).print(view._table())
    return sink.getvalue()
