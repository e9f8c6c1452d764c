"""A run's metric keys and histories: one pass, no full count, spikes kept."""

from __future__ import annotations

import pytest

from noria.project import Project
from noria.ui.histories import COUNT_UP_TO, load_history, metric_keys
from tests.ui.conftest import UIProject


@pytest.fixture
def store(ui_project: UIProject):
    project = Project(ui_project.root)
    yield project.metadata
    project.close()


def test_long_history_is_downsampled_keeping_spikes(ui_project: UIProject, store) -> None:
    found = load_history(store, ui_project.history_id, "loss", buckets=200)
    assert 100 <= len(found.points) <= 200
    assert found.count == 5000  # counted by the same pass
    assert max(hi for _, _, hi in found.points) > 5.0  # the spike at step 2500 survives
    assert found.points[0][2] == pytest.approx(1.0)
    steps = [s for s, _, _ in found.points]
    assert steps == sorted(steps) and steps[0] == 0.0


def test_the_generic_statement_agrees_with_sqlite(ui_project: UIProject, store) -> None:
    fast = load_history(store, ui_project.history_id, "loss", buckets=150, sqlite=True)
    generic = load_history(store, ui_project.history_id, "loss", buckets=150, sqlite=False)
    assert generic.count == fast.count == 5000
    flat = [v for point in fast.points for v in point]
    assert [v for point in generic.points for v in point] == pytest.approx(flat, rel=1e-12)


def test_a_short_history_comes_point_by_point(ui_project: UIProject, store) -> None:
    found = load_history(store, ui_project.history_id, "loss", buckets=4000)
    assert found.count == len(found.points) == 5000
    assert all(lo == hi for _, lo, hi in found.points)
    assert load_history(store, ui_project.history_id, "no such key").points == []


def test_metric_keys_read_the_ends_without_scanning(ui_project: UIProject, store) -> None:
    [loss] = metric_keys(store, ui_project.history_id)
    assert loss.key == "loss" and loss.many
    assert (loss.first_step, loss.last_step) == (0, 4999)
    assert loss.last == pytest.approx(1 / 5000)
    assert loss.points == 5000  # under COUNT_UP_TO rows apart: counted from the index
    assert COUNT_UP_TO > 5000
    keys = metric_keys(store, ui_project.run_id)
    assert keys and [k.key for k in keys] == sorted(k.key for k in keys)
    assert all(k.points == 1 and not k.many for k in keys if k.first_id == k.last_id)


def test_a_history_too_long_to_count_says_so(ui_project: UIProject, store, monkeypatch) -> None:
    import noria.ui.histories as h

    monkeypatch.setattr(h, "COUNT_UP_TO", 100)
    [loss] = h.metric_keys(store, ui_project.history_id)
    assert loss.points is None and loss.many
