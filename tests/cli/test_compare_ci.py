"""``noria compare``, the evidence gates of ``noria promote``, ``noria ci`` and its workflow."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from noria.project import Project
from tests.conftest import cli, fast_search

GENTOO = ("{island: Biscoe, bill_length_mm: 48.0, bill_depth_mm: 15.0, flipper_length_mm: 220, "
          "body_mass_g: 5200, sex: male, year: 2008, species: Gentoo}")  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    p = str(tmp_path)
    code, _, err = cli(capsys, "init", "--data", str(penguins_csv), "--target", "species",
                       "--path", p)  # fmt: skip
    assert code == 0, err
    fast_search(tmp_path / "noria.yaml", families="[linear]", trials=1)
    spec = tmp_path / "noria.yaml"
    spec.write_text(spec.read_text().replace("sensitive: []", "sensitive: [sex]"))
    return tmp_path


def _edit(project: Path, old: str, new: str) -> None:
    spec = project / "noria.yaml"
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new))


def test_compare_two_versions_gates_on_evidence_and_refuses_other_tasks(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p, name = str(project), project.name
    assert cli(capsys, "run", "--path", p)[0] == 0
    _edit(project, "drop: []", "drop: [bill_length_mm, bill_depth_mm, flipper_length_mm]")
    assert cli(capsys, "run", "--path", p)[0] == 0  # version 2: a weak model, same holdout

    code, out, err = cli(capsys, "compare", f"{name}@1", f"{name}@2", "--path", p)
    assert code == 0, err
    assert "69 rows of the shared holdout" in out and "A better" in out
    page = project / ".noria" / "reports" / "compare" / f"{name}@1-vs-{name}@2.html"
    figures = json.loads(page.with_suffix(".json").read_text())
    accuracy = figures["metrics"]["accuracy"]
    assert accuracy["diff"] == pytest.approx(accuracy["a"] - accuracy["b"])
    assert accuracy["diff_low"] > 0 and accuracy["verdict"] == "A better"
    text = page.read_text()
    assert text.count("<svg") == 7  # ROC and PR per class, calibration: both models overlaid
    assert "features.dropped" in text and "<script" not in text
    assert "param features.dropped:" in out
    dropped = next(x for x in figures["params"] if x["param"] == "features.dropped")
    assert dropped == {"param": "features.dropped", "a": "-", "same": False,
                       "b": "bill_depth_mm, bill_length_mm, flipper_length_mm"}  # fmt: skip

    with Project(project) as opened:  # two runs compare the same way, by run id
        runs = [r.id[:8] for r in opened.runs()]
    code, out, _ = cli(capsys, "compare", runs[1], runs[0], "--path", p)
    assert code == 0 and "A better" in out and f"run {runs[1]}" in out

    for key, value in [("not_worse", "true"), ("slice_floor", "0.9"), ("max_ece", "0.01"),
                       ("max_fairness_gap", "0.01")]:  # fmt: skip
        _edit(project, f"  {key}: {'false' if key == 'not_worse' else 'null'}", f"  {key}: {value}")
    code, _, err = cli(capsys, "promote", name, "2", "--path", p)
    assert code == 2, err
    assert f"not worse than {name}/1: roc_auc 0.9" in err and ": significantly worse" in err
    assert f"beats {name}/1: roc_auc" in err  # the gates of before, with their messages
    assert "slice_floor:" in err and "max_ece: ECE" in err and "fairness sex:" in err
    with Project(project) as opened:
        refused = [e for e in opened.metadata.audit_events(f"{name}/2")
                   if e["action"] == "promote_refused"]  # fmt: skip
        evidence = refused[-1]["detail"]["evidence"][f"not worse than {name}/1"]
        assert evidence["metrics"]["roc_auc"]["diff_high"] < 0  # A (version 2) is worse
        assert evidence["a"] == f"{name}@2" and evidence["b"] == f"{name}@1"
    code, out, err = cli(capsys, "promote", name, "2", "--force", "--path", p)
    assert code == 0, err
    with Project(project) as opened:  # a forced promotion keeps its evidence too
        moved = [e for e in opened.metadata.audit_events(f"{name}/2") if e["action"] == "promote"]
        assert moved[-1]["detail"]["forced"] and moved[-1]["detail"]["evidence"]

    _edit(project, 'target: "species"', 'target: "body_mass_g"')
    _edit(project, f"name: {name}", "name: mass")
    _edit(project, "sensitive: [sex]", "sensitive: []")
    _edit(project, "  max_fairness_gap: 0.01", "")
    assert cli(capsys, "run", "--path", p)[0] == 0
    code, _, err = cli(capsys, "compare", f"{name}@1", "mass@1", "--path", p)
    assert code == 2 and "Traceback" not in err
    assert f"cannot compare {name}@1 (classification) with mass@1 (regression)" in err


def _workflow_commands(project: Path) -> list[list[str]]:
    """The ``noria …`` commands of the workflow ``noria ci --init github`` wrote."""
    workflow = yaml.safe_load((project / ".github" / "workflows" / "noria.yml").read_text())
    steps = workflow["jobs"]["model"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("pip install") for r in runs)
    return [shlex.split(r)[1:] for r in runs if r.startswith("noria ")]


def test_ci_runs_every_stage_with_exit_codes_junit_and_summary(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # as the workflow runs: in the repository's root
    code, out, err = cli(capsys, "ci", "--init", "github")
    assert code == 0 and "noria.yml" in out, err
    assert cli(capsys, "ci", "--init", "github")[0] == 2  # never overwritten
    commands = _workflow_commands(project)
    assert commands == [["ci", "--junit", "noria-junit.xml", "--summary", "noria-summary.md"]]
    spec = project / "noria.yaml"
    template = spec.read_text()
    assert "\ntests: []" in template  # replaced below: a second `tests:` key is an error
    spec.write_text(
        template.replace("\ntests: []", "\n#", 1)
        + f"""
tests:
  - name: a big Biscoe bird is a Gentoo
    expect: {{rows: [{GENTOO}]}}
  - name: the year does not matter
    invariance: {{column: year, values: [2007, 2009], eps: 0.2}}
  - floor: {{metric: log_loss, max: 0.001}}
"""
    )

    code, out, err = cli(capsys, *commands[0])  # a failing floor: exit 1
    assert code == 1, err
    assert "FAIL  tests" in out and "FAIL  floor #3: log_loss" in out and "skip  gate" in out
    suites = {s.get("name"): s for s in ET.parse(project / "noria-junit.xml").getroot()}
    assert list(suites) == ["validate", "run", "evaluate", "tests", "gate"]
    assert suites["tests"].get("tests") == "3" and suites["tests"].get("failures") == "1"
    failure = suites["tests"].find("testcase[@name='floor #3']/failure")
    assert failure is not None and "required <= 0.001" in failure.get("message")
    assert suites["gate"].find("testcase/skipped") is not None
    summary = (project / "noria-summary.md").read_text()
    assert "## noria ci: ❌" in summary and "| tests | **FAIL** |" in summary
    assert "✅ **a big Biscoe bird is a Gentoo**" in summary and "| roc_auc |" in summary
    with Project(project) as opened:  # the tests ran at registration, stored with the version
        events = [e for e in opened.metadata.audit_events(f"{project.name}/1")
                  if e["action"] == "model_tests"]  # fmt: skip
        assert events[0]["detail"]["when"] == "registration"
        assert events[0]["detail"]["failed"] == 1

    _edit(project, "max: 0.001", "max: 0.5")
    code, out, err = cli(capsys, *commands[0])
    assert code == 0, out + err
    assert "pass  gate" in out
    assert "## noria ci: ✅" in (project / "noria-summary.md").read_text()
    code, out, _ = cli(capsys, "models", "card", f"{project.name}@1")
    assert "## Evaluation" in out and "Top features" in out and "3 passed, 0 failed" in out
    assert "training rows: 275" in out and "Weak segments" in out

    _edit(project, "column: year", "column: yeer")  # bad input: exit 2, the line and the fix
    code, out, err = cli(capsys, *commands[0])
    assert code == 2
    assert "'yeer' is not a column of the data (did you mean 'year'?)" in out
    error = ET.parse(project / "noria-junit.xml").getroot().find("testsuite/testcase/error")
    assert error is not None and "noria.yaml:" in error.get("message")
    code, _, err = cli(capsys, "run")
    assert code == 2 and "tests.1.invariance.column" in err and "Traceback" not in err
