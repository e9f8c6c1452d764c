"""The monitor report keeps every window's evidence, charts fit their boxes, moves are drawn."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from noria.monitor.labels import add_labels
from noria.monitor.monitor import monitor_and_report
from noria.project import Project
from noria.registry import get_version, register_model, rollback, set_alias
from noria.reports.monitor_report import (
    alias_moves,
    bars_svg,
    drift_bars,
    render_monitor_report,
    window_position,
)
from tests.monitor.conftest import log_traffic, penguins


def _sections(html: str) -> dict[str, str]:
    """The HTML of each window's section, by window id."""
    parts = re.split(r'(?=<(?:section|details class="window") id="window-)', html)
    return {re.match(r'<\w+[^>]*id="window-(\d+)"', p).group(1): p for p in parts[1:]}


def test_every_window_keeps_its_drift_and_the_champion_moves_are_drawn(
    project: Project, tmp_path: Path
) -> None:
    """Before: the report detailed only the newest window (the drift of window 2 vanished on
    the next pass), its drift chart was 302 pt wide in a 320 px box (legend and overflow bin
    clipped), and the live chart had fractional ticks and no promotion or rollback."""
    text = project.spec_path.read_text().replace("window_rows: 50000", "window_rows: 120")
    project.spec_path.write_text(text)
    project = Project(project.root)
    birds = penguins().dropna(subset=["species"]).reset_index(drop=True)
    quiet = birds.sample(120, random_state=1).reset_index(drop=True)
    ids = log_traffic(project, quiet)  # one request a row: a request id a row
    monitor_and_report(project)  # window 1
    heavy = birds.sample(120, random_state=2).reset_index(drop=True)
    heavy["body_mass_g"] += 3000  # beyond the reference's histogram: the overflow bin
    log_traffic(project, heavy, batch=40)
    result, path = monitor_and_report(project)  # window 2: drift
    assert "body_mass_g" in result.windows[-1].drifted

    # the champion moves: a second version promoted by hand, then rolled back
    one = get_version(project.metadata, "penguins", 1)
    register_model(project.metadata, name="penguins", artifact_id=one.artifact_id,
                   run_id=one.run_id, signature=one.signature,
                   metrics={**one.metrics, "copy": 1.0},  # the same metrics reuse version 1
                   params=one.params)  # fmt: skip
    set_alias(project.metadata, "penguins", "champion", 2, reason="a test")
    log_traffic(project, birds.sample(120, random_state=3).reset_index(drop=True), batch=40)
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"request_id": ids, "label": quiet["species"]}).to_csv(truth, index=False)
    add_labels(project.home, "penguins", truth)
    rollback(project.metadata, "penguins", reason="live accuracy fell")
    result, path = monitor_and_report(project)  # window 3: quiet again
    assert [w.id for w in result.windows] == [3]

    html = path.read_text()
    sections = _sections(html)
    assert sorted(sections) == ["1", "2", "3"]  # every window, the newest open
    assert sections["3"].startswith("<section") and sections["2"].startswith("<details")
    assert "body_mass_g" in sections["2"] and 'class="badge drift"' in sections["2"]
    chart = re.search(r"<h4>body_mass_g</h4>(<svg.*?</svg>)", sections["2"], re.S).group(1)
    head = chart[: chart.find(">")]
    assert "viewBox" in head and 'width="' not in head and "width: 100%" in head
    assert "outside the reference" in chart and "&gt; " in chart  # the overflow bin is drawn
    # the live chart: moves from the audit log, integer window ticks only
    live = html[html.index("<h2>Live performance</h2>") :]
    assert "rolled back" in live and "moved by hand" in live
    x_axis = live[live.index('id="matplotlib.axis_1"') : live.index('id="matplotlib.axis_2"')]
    ticks = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", x_axis) if t != "window"]
    assert ticks and all(t.isdigit() for t in ticks), ticks  # windows are whole numbers
    assert not re.search(r"(src|href)=\"https?://", html) and "<script" not in html


def test_overflow_bins_are_always_drawn_and_labelled() -> None:
    class Col:
        def __init__(self, counts: list[int], below: int, above: int) -> None:
            self.name = "year"
            self.hist = {"start": 2000.0, "step": 1.0, "counts": counts, "below": below,
                         "above": above}  # fmt: skip
            self.values: dict = {}

        def hist_edges(self) -> list[float]:
            return [2000.0 + i for i in range(len(self.hist["counts"]) + 1)]

    bars = drift_bars(Col([5, 5, 5], 0, 0), Col([1, 1, 1], 0, 40))
    assert bars["labels"] == ["< 2000", "2000", "2001", "2002", "> 2003"]
    assert bars["overflow"] == [True, False, False, False, True]
    svg = bars_svg(bars)
    assert svg.count("<rect") >= 2 * 5 and "&gt; 2003" in svg and "2,00" not in svg


def test_a_move_is_placed_between_the_windows_it_fell_between() -> None:
    windows = [{"id": 1, "first_time": 0.0, "last_time": 10.0},
               {"id": 2, "first_time": 20.0, "last_time": 30.0}]  # fmt: skip
    assert window_position(windows, 15.0) == 1.5
    assert window_position(windows, 25.0) == 2.0
    assert window_position(windows, -5.0) == 0.5 and window_position(windows, 99.0) == 2.5
    events = [
        {"time": 1.0, "action": "promote", "object": "m/2", "detail": {"alias": "champion"}},
        {"time": 2.0, "action": "promote", "object": "other/2", "detail": {"alias": "champion"}},
        {"time": 3.0, "action": "set_alias", "object": "m/3", "detail": {"alias": "staging"}},
        {"time": 4.0, "action": "rollback", "object": "m/1", "detail": {"alias": "champion"}},
    ]
    assert [(m["action"], m["version"]) for m in alias_moves(events, "m")] == [
        ("promote", 2),
        ("rollback", 1),
    ]


def test_a_report_without_windows_says_what_to_do() -> None:
    html = render_monitor_report("m", [])
    assert "No window monitored yet" in html and "No labelled predictions yet" in html
