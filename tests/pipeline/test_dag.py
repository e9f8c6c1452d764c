"""The DAG is checked before anything runs, with every problem in one error."""

from __future__ import annotations

import pytest

import noria
from noria.errors import PipelineError


def load() -> int:
    return 1


def clean(load: int, factor: int = 2) -> int:
    return load * factor


def report(clean: int, load: int) -> str:
    return f"{load}->{clean}"


def test_order_inputs_and_params() -> None:
    plan = noria.Pipeline([report, clean, load]).validate({"factor": 3})
    assert plan.order.index("load") < plan.order.index("clean") < plan.order.index("report")
    assert plan.inputs["report"] == ("clean", "load")
    assert plan.params["clean"] == {"factor": 3}


def test_targets_plan_only_what_they_need() -> None:
    plan = noria.Pipeline([report, clean, load]).validate(targets=["clean"])
    assert set(plan.order) == {"load", "clean"}


def test_missing_input_names_step_and_suggests() -> None:
    def features(claen: int) -> int:
        return claen

    with pytest.raises(PipelineError) as info:
        noria.Pipeline([load, clean, features]).validate()
    message = str(info.value)
    assert "step 'features' needs 'claen'" in message
    assert "did you mean 'clean'" in message


def test_unknown_param_and_cycle_reported_together() -> None:
    def a(b: int) -> int:
        return b

    def b(a: int) -> int:
        return a

    with pytest.raises(PipelineError) as info:
        noria.Pipeline([a, b, load]).validate({"factr": 1})
    message = str(info.value)
    assert "cycle: " in message and "a" in message
    assert "param 'factr' is taken by no step" in message


def test_duplicate_step_names_rejected() -> None:
    with pytest.raises(PipelineError, match="two steps are named 'load'"):
        noria.Pipeline([load, noria.step(name="load")(clean)])


def test_with_steps_replaces_by_name() -> None:
    def clean(load: int) -> int:
        return -load

    pipe = noria.Pipeline([load, report]).with_steps([clean])
    assert pipe.steps["clean"].func is clean


def test_library_versions_skip_an_editable_installs_egg_info(tmp_path, monkeypatch) -> None:
    """With ``src`` on PYTHONPATH, ``src/noria.egg-info`` (no version in its name) came first:
    noria's version read as '' and every fingerprint changed with the environment."""
    from noria.pipeline.cache import library_versions

    src, site = tmp_path / "src", tmp_path / "site"
    (src / "noria.egg-info").mkdir(parents=True)
    (site / "noria-1.2.3.dist-info").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(src), str(site)])
    library_versions.cache_clear()
    try:
        assert library_versions() == "noria==1.2.3"
    finally:
        library_versions.cache_clear()
