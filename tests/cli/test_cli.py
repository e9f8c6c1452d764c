"""The command line end to end on real data, and every bad input of the issue."""

from __future__ import annotations

import subprocess
import sys
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


def test_init_run_runs_show_end_to_end(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert 'source: "data/penguins.csv"' in (project / "noria.yaml").read_text()
    code, out, err = cli(capsys, "run", "--path", str(project))
    assert code == 0, err
    assert "leaderboard" in out and "holdout: accuracy=" in out
    assert "model: " in out and "version 1" in out

    code, out, err = cli(capsys, "run", "--path", str(project))
    assert code == 0, err
    assert "12 steps, 12 from the cache" in out  # a second run hits the cache for every step

    code, out, _ = cli(capsys, "runs", "--path", str(project))
    assert code == 0 and out.count("completed") == 2 and "roc_auc=" in out

    store = MetadataStore(f"sqlite:///{project / '.noria' / 'noria.db'}")
    first = store.list_runs()[-1]
    [version] = store.model_versions()
    assert version.run_id == first.id and version.version == 1
    assert [c["name"] for c in version.signature][:2] == ["island", "bill_length_mm"]
    assert len(store.list_runs(parent_id=first.id)) == 4  # n_trials: 4, each a child run
    store.close()

    code, out, _ = cli(capsys, "runs", first.id[:8], "--trials", "--path", str(project))
    assert code == 0 and "trial-0" in out and "cv_roc_auc" in out

    code, out, _ = cli(capsys, "show", first.id[:8], "--path", str(project))
    assert code == 0
    for expected in ("raw_data", "registered_model", "test_accuracy", "metric", "registered"):
        assert expected in out


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_missing_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        capsys, "init", "--data", "nope.csv", "--target", "y", "--path", str(tmp_path)
    )
    one_line_error(code, err, "nope.csv")
    assert not (tmp_path / "noria.yaml").exists() and not (tmp_path / ".noria").exists()


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.csv").write_text("")
    code, _, err = cli(
        capsys,
        "init",
        "--data",
        str(tmp_path / "empty.csv"),
        "--target",
        "y",
        "--path",
        str(tmp_path),
    )
    one_line_error(code, err, "empty.csv")
    assert not (tmp_path / "noria.yaml").exists()


def test_unknown_target_column(
    tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys, "init", "--data", str(penguins_csv), "--target", "specie", "--path", str(tmp_path)
    )
    one_line_error(code, err, "'specie'", "did you mean 'species'")


def test_ragged_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,0\n3,4,1\n5,6,1,9\n7,8,0\n")
    code, _, err = cli(
        capsys, "init", "--data", str(ragged), "--target", "y", "--path", str(tmp_path)
    )
    one_line_error(code, err, "ragged.csv")


def test_single_class_target(
    project: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = penguins_csv.read_text().splitlines()
    adelie = [lines[0]] + [line for line in lines[1:] if ",Adelie," in f",{line},"]
    penguins_csv.write_text("\n".join(adelie) + "\n")
    code, _, err = cli(capsys, "run", "--path", str(project))
    one_line_error(code, err, "step 'problem' failed", "'species' has a single class 'Adelie'")


def test_unknown_key_in_noria_yaml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = project / "noria.yaml"
    spec.write_text(spec.read_text().replace("seed: 42", "sed: 42"))
    code, _, err = cli(capsys, "run", "--path", str(project))
    one_line_error(code, err, "noria.yaml:", "unknown key 'sed'", "did you mean 'seed'")


def test_wrong_type_in_noria_yaml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = project / "noria.yaml"
    spec.write_text(spec.read_text().replace("test_size: 0.2", "test_size: lots"))
    code, _, err = cli(capsys, "run", "--path", str(project))
    one_line_error(code, err, "split.test_size", "lots")


def test_step_that_raises_fails_run_and_next_run_resumes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = project / "steps.py"
    steps.write_text(
        "def evaluation(model, splits, problem):\n"
        "    raise RuntimeError('evaluation service is down')\n"
    )
    spec = project / "noria.yaml"
    spec.write_text(spec.read_text().replace("module: null", "module: steps.py"))
    code, _, err = cli(capsys, "run", "--path", str(project))
    one_line_error(code, err, "step 'evaluation' failed", "evaluation service is down")

    store = MetadataStore(f"sqlite:///{project / '.noria' / 'noria.db'}")
    failed = store.list_runs(limit=1)[0]
    assert failed.status == "failed"
    assert {s.step: s.status for s in store.step_runs(failed.id)}["evaluation"] == "failed"
    assert store.model_versions() == []  # nothing registered by the failed run

    steps.write_text("")  # fixed: no override left
    code, _, err = cli(capsys, "run", "--path", str(project))
    assert code == 0, err
    statuses = {s.step: s.status for s in store.step_runs(store.list_runs(limit=1)[0].id)}
    assert statuses["model"] == "cached" and statuses["evaluation"] == "completed"
    store.close()


def test_console_script_exit_code_and_debug(tmp_path: Path) -> None:
    noria = Path(sys.executable).with_name("noria")
    base = [str(noria)] if noria.exists() else [sys.executable, "-m", "noria.cli"]
    plain = subprocess.run([*base, "run", "--path", str(tmp_path)], capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert "noria init" in plain.stderr
    debug = subprocess.run(
        [*base, "--debug", "run", "--path", str(tmp_path)], capture_output=True, text=True
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_unknown_command_and_option_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "nosuch")
    assert code == 2 and "No such command 'nosuch'" in err and "internal error" not in err
    code, _, err = cli(capsys, "runs", "--nosuch")
    assert code == 2 and "--nosuch" in err


def test_init_resolves_relative_data_from_the_current_folder(
    tmp_path: Path,
    penguins_csv: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`noria init --data ../../x.csv --path NEWDIR`: the data is found from where the user is."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    shared = tmp_path / "x.csv"
    shared.write_text(penguins_csv.read_text())
    monkeypatch.chdir(work)
    code, _, err = cli(
        capsys, "init", "--data", "../../x.csv", "--target", "species", "--path", "NEWDIR"
    )
    assert code == 0, err
    # outside the project folder: recorded as an absolute path
    assert f'source: "{shared}"' in (work / "NEWDIR" / "noria.yaml").read_text()

    inside = work / "proj" / "data"
    inside.mkdir(parents=True)
    (inside / "p.csv").write_text(penguins_csv.read_text())
    code, _, err = cli(
        capsys, "init", "--data", "proj/data/p.csv", "--target", "species", "--path", "proj"
    )
    assert code == 0, err
    # inside it: relative to the project folder, wherever noria runs from later
    assert 'source: "data/p.csv"' in (work / "proj" / "noria.yaml").read_text()
