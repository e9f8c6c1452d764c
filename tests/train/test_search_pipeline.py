"""The search through the user's path: ``noria run`` on a budget too small for any trial, the
champion's own trial as the warm start's mark, and the leaderboard that says what it hides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from noria.store.metadata import MetadataStore
from tests.conftest import cli, fast_search


@pytest.fixture
def project(tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, err = cli(
        capsys, "init", "--data", str(penguins_csv), "--target", "species", "--path", str(tmp_path)
    )
    assert code == 0, err
    fast_search(tmp_path / "noria.yaml")
    return tmp_path


def test_a_budget_too_small_for_any_trial_still_gives_the_baseline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # before: the NaN CV score of the fallback was logged, and the run died on an internal
    # "IntegrityError: NOT NULL constraint failed: metrics.value"
    spec = project / "noria.yaml"
    spec.write_text(re.sub(r"time_budget: 120 ", "time_budget: 1   ", spec.read_text()))
    with pytest.warns(UserWarning, match="no trial finished within the budget"):
        code, out, err = cli(capsys, "run", "--path", str(project))
    assert code == 0, err
    assert "note: no trial finished within the budget (time_budget 1 s)" in out
    assert "raise models.time_budget" in out and "model: " in out
    store = MetadataStore(f"sqlite:///{project / '.noria' / 'noria.db'}")
    [version] = store.model_versions()
    assert version.params["family"] == "linear"
    assert "cv_roc_auc" not in {k for k, *_ in store.metrics(version.run_id)}  # no score: none
    store.close()


def test_the_warm_start_carries_the_champions_own_trial(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from noria.supervised import _warm_start

    code, _, err = cli(capsys, "run", "--path", str(project))
    assert code == 0, err
    store = MetadataStore(f"sqlite:///{project / '.noria' / 'noria.db'}")
    [version] = store.model_versions()
    trials = {run.id: store.params(run.id) for run in store.list_runs(parent_id=version.run_id)}
    [own] = [
        rid
        for rid, p in trials.items()
        if p == {"family": version.params["family"], **version.params["params"]}
    ]
    score = next(v for k, v, *_ in store.metrics(own) if k == "cv_roc_auc")
    problem = {"task": "classification", "greater_is_better": True}
    records = _warm_start(store, version.name, "roc_auc", problem)
    store.close()
    champion = records[0]
    assert (champion["family"], champion["params"]) == (
        version.params["family"],
        version.params["params"],
    )
    assert champion["score"] == score and len(champion["fold_scores"]) == 3


def test_the_leaderboard_says_how_many_trials_it_hides(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from noria.cli.project_cmds import print_leaderboard

    rows = [
        {
            "number": n,
            "family": "linear" if n == 0 else "lightgbm",
            "status": "complete",
            "score": 0.5 if n == 0 else 0.9 + n / 100,
            "seconds": 0.1,
            "params": {} if n < 2 else {"num_leaves": n},
            "error": None,
        }
        for n in range(8)
    ]
    board = sorted(rows, key=lambda t: -t["score"])
    cands = {"leaderboard": board, "elapsed": 2.0, "metric": "roc_auc", "warnings": []}
    print_leaderboard(cands, top=3)
    out = capsys.readouterr().out
    assert "… and 3 more trials" in out  # 8 scored: the best 3 and 2 defaults shown
    assert re.search(r"│\s+8\s+│\s+0\s+│ linear", out)  # the baseline, ranked last, still shown
