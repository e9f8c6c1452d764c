"""The demo's ending: the bad feed quarantined, the last word on the version that serves."""

from __future__ import annotations

from pathlib import Path

from noria.cli.demo import finish_cycle, write_demo_data
from noria.project import Project
from noria.registry import register_model, rollback, set_alias


def test_the_demo_ends_on_the_champion_that_serves(tmp_path: Path) -> None:
    """`make demo` ended on "model: penguins version 3", the rolled-back mislabelled model: the
    feed's file stayed in data/, so the `noria run` after the demo reused the feed's run."""
    data = write_demo_data(tmp_path / "data")
    project = Project.init(tmp_path, data=str(data), target="species", name="penguins")
    for n in range(3):  # 1 the first model, 2 the retrained one, 3 the mislabelled one
        register_model(project.metadata, name="penguins", artifact_id=str(n) * 64, run_id=None,
                       signature=[], metrics={}, params={})  # fmt: skip
    set_alias(project.metadata, "penguins", "champion", 2, reason="act 2")
    set_alias(project.metadata, "penguins", "champion", 3, reason="act 3")
    rollback(project.metadata, "penguins", reason="live accuracy 0.11 below 0.8")
    feed = tmp_path / "data" / "penguins-feed.csv"
    feed.write_text("species\nGentoo\n")
    said: list[str] = []
    closing = finish_cycle(project, said.append)
    assert closing == "serving: penguins@champion = version 2; version 3 was rolled back"
    assert not feed.exists() and (tmp_path / "data" / "quarantine" / feed.name).exists()
    assert sorted(p.name for p in (tmp_path / "data").glob("*.csv")) == ["penguins.csv"]
    assert any("quarantine" in line for line in said)
    project.close()
