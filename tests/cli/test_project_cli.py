"""``noria run``/``show``/``runs`` in the user's terms: the baseline, numbers, Python runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.cli.project_cmds import number_text, params_text, value_text
from tests.conftest import cli, fast_search


def test_run_shows_the_baseline_on_the_leaderboard_and_the_holdout(
    tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys, "init", "--data", str(penguins_csv), "--target", "species", "--path", str(tmp_path)
    )
    assert code == 0, err
    fast_search(tmp_path / "noria.yaml")
    code, out, err = cli(capsys, "run", "--path", str(tmp_path))
    assert code == 0, err
    row = next(line for line in out.splitlines() if "│ baseline" in line)
    assert "0.5000" in row and "majority class 'Adelie'" in row  # ROC AUC of a constant
    assert "baseline (majority class 'Adelie' (44.4% of training rows), prior probabilities)" in out
    assert "accuracy=0.4" in out.split("baseline (", 1)[1]  # 44 % of the holdout are Adelie
    assert "fitted on all labelled rows (344)" in out
    assert "warning" not in out

    run_id = out.split("noria show ", 1)[1].split()[0]
    code, out, _ = cli(capsys, "show", run_id, "--path", str(tmp_path))
    assert code == 0
    assert "beats the baseline │ yes" in out
    assert "baseline_roc_auc" in out and "fitted on" in out
    assert "{'" not in out  # params for people, not a Python dict


def test_runs_and_show_find_runs_made_from_python_without_noria_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10, item 8: runs made from Python in a folder without noria.yaml were invisible."""
    import noria

    @noria.step
    def numbers(n: int = 10) -> list[int]:
        return list(range(n))

    @noria.step
    def total(numbers: list[int]) -> int:
        noria.log_metric("total", sum(numbers))
        return sum(numbers)

    work = tmp_path / "work"
    project = noria.Project(work)
    result = project.run(noria.Pipeline([numbers, total]), params={"n": 200})
    project.close()
    assert not (work / "noria.yaml").exists()

    code, out, err = cli(capsys, "runs", "--path", str(work))
    assert code == 0, err
    assert result.run_id[:8] in out and "completed" in out
    code, out, err = cli(capsys, "show", result.run_id[:8], "--path", str(work / "sub"))
    assert code == 0, err
    assert "total" in out and "19,900" in out  # the metric, for people

    code, _, err = cli(capsys, "runs", "--path", str(tmp_path / "elsewhere"))
    assert code == 2 and "nothing has run here" in err


def test_numbers_and_params_for_people() -> None:
    assert number_text(10000.0) == "10,000" and number_text(0.948622) == "0.948622"
    assert number_text(1234567.25) == "1,234,567.2" and number_text(3) == "3"
    assert params_text({"C": 0.5235961873949361, "class_weight": "balanced"}) == (
        "C=0.5236, class_weight=balanced"
    )
    assert params_text({}) == "defaults" and value_text([False, True]) == "False, True"
    assert value_text({"num_leaves": 31}) == "num_leaves=31"
