"""`noria loop`: retrain on drift, promote through the gates, roll back on live performance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from noria.errors import ConfigError
from noria.monitor.loop import loop_once
from noria.project import Project
from noria.registry import alias_holder
from tests.conftest import cli
from tests.monitor.conftest import log_traffic, penguins

ROOT = Path(__file__).resolve().parents[2]


def _set(project: Project, old: str, new: str) -> Project:
    text = project.spec_path.read_text()
    assert old in text, old
    project.spec_path.write_text(text.replace(old, new))
    project.close()
    return Project(project.root)


def _new_data(project: Project) -> pd.DataFrame:
    """Heavier penguins arrive: served, and appended (with the truth) to the training data."""
    fresh = penguins().dropna(subset=["species"]).sample(300, replace=True, random_state=7)
    fresh["body_mass_g"] = fresh["body_mass_g"] + 1500
    data = project.root / "data" / "penguins.csv"
    pd.concat([pd.read_csv(data), fresh]).to_csv(data, index=False)
    return fresh.reset_index(drop=True)


def _actions(project: Project) -> list[str]:
    events = project.metadata.audit_events("penguins")
    return [e["detail"]["decision"] for e in events if e["action"] == "loop"]


def test_quiet_traffic_changes_nothing(project: Project) -> None:
    log_traffic(project, penguins().sample(300, replace=True, random_state=1))
    (decision,) = loop_once(project, say=lambda _: None)
    assert decision.action == "none"
    assert len(project.metadata.model_versions("penguins")) == 1


def test_drift_retrains_promotes_then_bad_live_metric_rolls_back(
    project: Project, tmp_path: Path
) -> None:
    project = _set(project, "  rollback: null", "  rollback: {metric: accuracy, below: 0.8}")
    fresh = _new_data(project)
    log_traffic(project, fresh)
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions] == ["retrain", "trained", "promote"]
    assert "body_mass_g" in decisions[0].evidence["drift"]["columns"]
    assert alias_holder(project.metadata, "penguins", "champion") == 2
    # version 2 serves, and the truth says it is wrong most of the time
    ids = log_traffic(project, fresh.head(120), batch=4)
    wrong = {"Adelie": "Gentoo", "Gentoo": "Chinstrap", "Chinstrap": "Adelie"}
    labels = pd.DataFrame(
        {
            "request_id": [i for i in ids for _ in range(4)][: len(fresh.head(120))],
            "row": [r for _ in ids for r in range(4)][: len(fresh.head(120))],
            "label": fresh.head(120)["species"].map(wrong).to_numpy(),
        }
    )
    labels_file = tmp_path / "truth.csv"
    labels.to_csv(labels_file, index=False)
    assert cli_ok(project, "labels", "add", str(labels_file))
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions] == ["rollback"]
    assert decisions[0].evidence["from"] == 2 and decisions[0].evidence["to"] == 1
    assert "below the floor 0.8 over 120 labelled predictions of version 2" in decisions[0].reason
    assert alias_holder(project.metadata, "penguins", "champion") == 1
    assert _actions(project) == ["retrain", "trained", "promote", "rollback"]


def cli_ok(project: Project, *args: str) -> bool:
    import io
    from contextlib import redirect_stdout

    from noria.cli import main

    with redirect_stdout(io.StringIO()):
        try:
            main([*args, "--path", str(project.root)])
        except SystemExit as exc:
            return not exc.code
    return True


def test_unknown_alias_in_policy_is_an_error_before_anything_runs(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _set(project, "  model: null                     # NAME@ALIAS whose",
                   "  model: penguins@champoin       # NAME@ALIAS whose")  # fmt: skip
    with pytest.raises(ConfigError, match=r"alias 'champoin'.*did you mean 'champion'"):
        loop_once(project)
    code, _, err = cli(capsys, "loop", "--once", "--path", str(project.root))
    assert code == 2 and "champoin" in err


def test_unknown_metric_in_policy_is_an_error_at_load(project: Project) -> None:
    with pytest.raises(ConfigError, match=r"loop\.rollback\.metric: unknown metric 'acuracy'"):
        _set(project, "  rollback: null", "  rollback: {metric: acuracy, below: 0.8}")


_KILLED = """
import os, sys
sys.path.insert(0, {root!r})
from noria.store.metadata import MetadataStore
from noria.monitor.loop import loop_once
from noria.project import Project

original = MetadataStore.insert_model_version

def dying(self, *args, **kwargs):
    version = original(self, *args, **kwargs)
    os.kill(os.getpid(), 9)  # inside the registration's transaction

MetadataStore.insert_model_version = dying
loop_once(Project({path!r}), say=lambda _: None)
"""


def test_loop_killed_during_retrain_leaves_registry_whole_and_resumes(project: Project) -> None:
    from noria.pipeline.runner import load_artifact

    log_traffic(project, _new_data(project))
    project.close()
    code = _KILLED.format(root=str(ROOT), path=str(project.root))
    log = project.root / "killed.log"
    with log.open("wb") as err:  # a file, not a pipe: orphaned search workers may hold pipes
        done = subprocess.run(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=err, timeout=300
        )
    assert done.returncode == -9, log.read_text()[-2000:]
    project = Project(project.root)
    assert [v.version for v in project.metadata.model_versions("penguins")] == [1]
    assert alias_holder(project.metadata, "penguins", "champion") == 1
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions] == ["retrain", "trained", "promote"]
    assert decisions[0].reason.startswith("resuming the interrupted retrain")
    run = project.metadata.get_run(decisions[1].evidence["run"])
    assert run.status == "completed"
    for _, alias, version in project.metadata.aliases("penguins"):
        record = project.metadata.model_version("penguins", version)
        assert record is not None, alias
        assert hasattr(load_artifact(project.metadata, project.artifacts, record.artifact_id),
                       "predict")  # fmt: skip
    assert alias_holder(project.metadata, "penguins", "champion") == 2


def test_shadow_scores_both_versions_on_labelled_live_traffic(
    project: Project, tmp_path: Path
) -> None:
    project = _set(project, "  shadow: false", "  shadow: true")
    fresh = _new_data(project)
    ids = log_traffic(project, fresh)
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"request_id": ids, "label": fresh["species"]}).to_csv(truth, index=False)
    assert cli_ok(project, "labels", "add", str(truth))
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions][:2] == ["retrain", "trained"]
    verdict = decisions[-1]
    assert verdict.action in ("promote", "refuse")
    shadow = verdict.evidence["shadow"]
    assert shadow["labels"] == len(fresh) and shadow["metric"]
    # the champion never saw heavy penguins; the challenger was trained on them
    assert shadow["challenger"] >= shadow["champion"]
    assert verdict.action == "promote"


_WRONG = {"Adelie": "Gentoo", "Gentoo": "Chinstrap", "Chinstrap": "Adelie"}


def _wrong_labels(project: Project, ids: list[str], frame: pd.DataFrame, path: Path) -> None:
    """The truth arrives, and says every one of these predictions was wrong."""
    truth = pd.DataFrame({"request_id": ids, "label": frame["species"].map(_WRONG).to_numpy()})
    truth.to_csv(path, index=False)
    assert cli_ok(project, "labels", "add", str(path))


def test_the_loop_remembers_what_it_acted_on_and_what_a_person_chose(
    project: Project, tmp_path: Path
) -> None:
    """The sequence of issue 10: no flip-flop on old labels, no rollback twice on the same
    labels, no re-promotion of a version a person moved off by a retrain on unchanged data."""
    project = _set(
        project, "  rollback: null", "  rollback: {metric: accuracy, below: 0.95, min_labels: 50}"
    )
    quiet = penguins().dropna(subset=["species"]).sample(80, random_state=3)
    old_v1 = log_traffic(project, quiet)  # version 1 serves; its labels come much later
    fresh = _new_data(project)
    log_traffic(project, fresh)
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions] == ["retrain", "trained", "promote"]
    old_v2 = log_traffic(project, quiet)  # version 2 serves
    # a person moves the champion back to version 1, past the gates
    assert cli_ok(project, "promote", "penguins", "1", "--force", "--reason", "v2 misbehaves")
    assert alias_holder(project.metadata, "penguins", "champion") == 1
    # the truth about the old predictions of both versions arrives: all wrong
    _wrong_labels(project, old_v1, quiet, tmp_path / "v1.csv")
    _wrong_labels(project, old_v2, quiet, tmp_path / "v2.csv")

    said: list[str] = []
    for _ in range(2):  # the same labels, twice: neither the old tenure nor spent evidence acts
        decisions = loop_once(project, say=said.append)
        assert "rollback" not in [d.action for d in decisions], said
        assert alias_holder(project.metadata, "penguins", "champion") == 1
    assert not any("impossible" in line for line in said), said

    # drift again, on data the loop already trained on: every step is a cache hit and gives
    # back version 2, which the person just moved off
    log_traffic(project, fresh)
    decisions = loop_once(project, say=said.append)
    assert [d.action for d in decisions] == ["retrain", "trained"], said
    assert "nothing new to learn from" in decisions[1].reason
    assert "cannot cure drift" in decisions[1].reason
    assert alias_holder(project.metadata, "penguins", "champion") == 1
    assert [v.version for v in project.metadata.model_versions("penguins")] == [1, 2]

    # new evidence against version 1, in its own tenure, is judged, once; the way back is to
    # version 2, which the person moved off and nothing new speaks for: their choice stands
    now_v1 = log_traffic(project, quiet)
    _wrong_labels(project, now_v1, quiet, tmp_path / "v1-now.csv")
    decisions = loop_once(project, say=said.append)
    wanted = decisions[0]
    assert wanted.action == "none", said
    assert "below the floor 0.95 over 80 labelled predictions of version 1" in wanted.reason
    assert "version 2 was moved off champion by" in wanted.reason
    assert "(v2 misbehaves)" in wanted.reason
    assert wanted.evidence["labels"] == 80 and wanted.evidence["spent"]["time"] > 0
    assert alias_holder(project.metadata, "penguins", "champion") == 1
    said.clear()
    decisions = loop_once(project, say=said.append)
    assert [d.action for d in decisions] == ["none"]
    assert not any("rollback" in line for line in said), said


def test_two_loops_at_once_retrain_and_register_once(project: Project) -> None:
    """Two `noria loop --once` processes started together: one works, the other says the
    model is busy; never two retrains, never a duplicate version."""
    import os

    assert [d.action for d in loop_once(project, say=lambda _: None)] == ["none"]
    _new_data(project)  # both loops will see new data in the source
    project.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get(
        "PYTHONPATH", "")])}  # fmt: skip
    command = [sys.executable, "-m", "noria.cli", "loop", "--once", "--path", str(project.root)]
    logs = [project.root / f"loop-{i}.log" for i in range(2)]
    handles = [log.open("wb") for log in logs]
    try:
        loops = [
            subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
            for out in handles
        ]
        codes = [p.wait(timeout=300) for p in loops]
    finally:
        for handle in handles:
            handle.close()
    said = [log.read_text() for log in logs]
    assert codes == [0, 0], said
    project = Project(project.root)
    assert [v.version for v in project.metadata.model_versions("penguins")] == [1, 2], said
    assert _actions(project).count("retrain") == 1, said
    assert sum("another loop is working on penguins" in text for text in said) == 1, said
    assert project.metadata.lease("loop:penguins") is None  # given back at the end


def test_a_fresh_run_that_fits_the_same_model_reuses_its_version(project: Project) -> None:
    run = project.run(fresh=True)
    assert run.cache_hits == 0
    assert run["registered_model"]["version"] == 1
    assert [v.version for v in project.metadata.model_versions("penguins")] == [1]
    reused = [e for e in project.metadata.audit_events("penguins/1")
              if e["action"] == "register_reused"]  # fmt: skip
    assert reused and reused[0]["detail"]["run_id"] == run.run_id


def test_a_version_that_does_not_beat_the_baseline_is_never_promoted(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import noria.registry as registry

    original = registry.register_model

    def flagged(*args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["params"] = {**kwargs["params"], "beats_baseline": False}
        return original(*args, **kwargs)

    monkeypatch.setattr(registry, "register_model", flagged)
    log_traffic(project, _new_data(project))
    decisions = loop_once(project, say=lambda _: None)
    assert [d.action for d in decisions] == ["retrain", "trained", "refuse"]
    assert "does not beat the trivial baseline" in decisions[-1].reason
    assert alias_holder(project.metadata, "penguins", "champion") == 1


def test_drift_on_unchanged_data_retrains_once_then_says_so_once(project: Project) -> None:
    """Issue 12: every new drifted window ran a cached retrain and audited "nothing new"."""
    heavy = penguins().dropna(subset=["species"]).sample(150, random_state=11)
    heavy["body_mass_g"] = heavy["body_mass_g"] + 1500  # served, never added to the data
    said: list[str] = []
    log_traffic(project, heavy)
    decisions = loop_once(project, say=said.append)
    assert [d.action for d in decisions] == ["retrain", "trained"], said
    assert "nothing new to learn from" in decisions[1].reason
    assert decisions[1].evidence["basis"]["champion"] == 1

    log_traffic(project, heavy)  # a new drifted window: the data and code are as they were
    said.clear()
    decisions = loop_once(project, say=said.append)
    assert [d.action for d in decisions] == ["none"], said
    assert decisions[0].evidence["skipped"] is True
    assert "not retraining until the data source or noria.yaml changes" in decisions[0].reason
    assert "cannot cure drift" in decisions[0].reason
    assert sum("not retraining" in line for line in said) == 1
    runs = len(project.runs())

    for _ in range(2):  # and again: nothing said, nothing audited, nothing run
        log_traffic(project, heavy)
        said.clear()
        audited = len(project.metadata.audit_events("penguins"))
        decisions = loop_once(project, say=said.append)
        assert [d.action for d in decisions] == ["none"] and decisions[0].evidence["repeat"]
        assert not any("not retraining" in line for line in said), said
        assert len(project.metadata.audit_events("penguins")) == audited
    assert len(project.runs()) == runs
    assert _actions(project) == ["retrain", "trained", "none"]

    # new data in the source: the loop retrains again
    data = project.root / "data" / "penguins.csv"
    pd.concat([pd.read_csv(data), heavy]).to_csv(data, index=False)
    log_traffic(project, heavy)
    decisions = loop_once(project, say=said.append)
    assert [d.action for d in decisions][:2] == ["retrain", "trained"], said
    assert "nothing new" not in decisions[1].reason
