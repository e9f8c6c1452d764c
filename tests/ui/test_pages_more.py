"""The Data pages, artifact previews, overlaid histories and parameter importance."""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path

import orjson
import pytest

from noria.project import Project
from noria.ui.analysis import importance
from tests.ui.conftest import EVIL, UIProject


def _data_version(c) -> str:
    body = c.get("/data").text
    found = re.findall(r'href="/data/([0-9a-f]{32})"', body)
    assert found, body[-2000:]
    return found[0]


def test_data_pages_show_profile_schema_and_validation(ui_project: UIProject, make_client) -> None:
    c = make_client()
    version = _data_version(c)
    r = c.get(f"/data/{version}")
    assert r.status_code == 200
    for needle in ('id="profile"', "bill_length_mm", "species", "Adelie", 'id="validations"'):
        assert needle in r.text, needle
    assert r.text.count("<svg") >= 5  # a distribution per column
    assert 'badge ok">passed' in r.text  # the verdict the run recorded
    assert c.get("/data/0123456789abcdef0123").status_code == 404
    assert c.get("/data/nothex").status_code == 404
    run = c.get(f"/runs/{ui_project.run_id}").text
    assert f'href="/data/{version}"' in run


@pytest.fixture
def own_project(ui_project: UIProject, tmp_path: Path) -> Path:
    """A copy of the project this test may change."""
    root = tmp_path / "copy"
    shutil.copytree(ui_project.root, root)
    return root


def test_failed_checks_come_with_examples(own_project: Path) -> None:
    from starlette.testclient import TestClient

    from noria.ui.app import UISettings, create_app
    from noria.ui.project import DashboardProject

    (own_project / "noria.schema.yaml").write_text(
        "version: 1\ncolumns:\n  body_mass_g: {type: integer, nullable: true, max: 4000}\n"
        "  species: {type: string, nullable: false, values: [Adelie, Gentoo]}\n",
        encoding="utf-8",
    )
    project = DashboardProject(own_project)
    with TestClient(create_app(project, UISettings()), base_url="http://127.0.0.1") as c:
        version = _data_version(c)
        page = c.get(f"/data/{version}").text
        assert 'id="schema"' in page and "body_mass_g" in page and 'id="check-now"' in page
        checked = c.get(f"/data/{version}?check=1").text
    project.close()
    assert "Chinstrap" in checked  # an example of the value outside the domain
    assert re.search(r"body_mass_g: (range|max)", checked), checked[-3000:]
    assert 'class="examples"' in checked


def test_previews_of_tables_and_json_never_unpickle(ui_project: UIProject, make_client) -> None:
    c = make_client()
    run = c.get(f"/runs/{ui_project.run_id}").text
    views = re.findall(r'href="/artifacts/([0-9a-f]+)/view"', run)
    assert views
    pages = {a: c.get(f"/artifacts/{a}/view") for a in dict.fromkeys(views)}
    assert all(r.status_code == 200 for r in pages.values())
    tables = [r.text for r in pages.values() if 'id="preview-table"' in r.text]
    assert tables and "Adelie" in tables[0] and re.search(r"First \d+ of 344 rows", tables[0])
    assert any('id="preview-json"' in r.text for r in pages.values())
    store = Project(ui_project.root).metadata
    model = [s.output_artifact for s in store.step_runs(ui_project.run_id) if s.step == "model"]
    r = c.get(f"/artifacts/{model[0]}/view")
    assert r.status_code == 200 and 'id="no-preview"' in r.text and "download" in r.text
    assert c.get("/artifacts/00000000000000000000000000000000/view").status_code == 404


def test_json_previews_are_escaped_and_cut(own_project: Path) -> None:
    from starlette.testclient import TestClient

    from noria.ui.app import UISettings, create_app

    project = Project(own_project)
    payload = orjson.dumps({"note": EVIL, "long": "x" * 100_000})
    artifact = project.artifacts.put(payload)
    with project.metadata.write() as tx:
        project.metadata.insert_artifacts(
            tx,
            [
                {
                    "id": artifact,
                    "materializer": "json",
                    "type_name": "builtins.dict",
                    "size": len(payload),
                    "created_at": time.time(),
                }
            ],
        )
    with TestClient(create_app(project, UISettings()), base_url="http://127.0.0.1") as c:
        body = c.get(f"/artifacts/{artifact}/view").text
    project.close()
    assert EVIL not in body and "&lt;script&gt;" in body
    assert "the first 60000 of" in body


def test_overlaid_histories_and_reports(own_project: Path, ui_project: UIProject) -> None:
    from starlette.testclient import TestClient

    from noria.tracking import log_metric, start_run
    from noria.ui.app import UISettings, create_app

    project = Project(own_project)
    with start_run(project.metadata, name="second-history") as second:
        for step in range(300):
            log_metric("loss", 2.0 / (step + 1), step=step)
    reports = project.home / "reports" / "evaluation"
    reports.mkdir(parents=True)
    (reports / f"{ui_project.model}-v1.html").write_text("<p>evaluation</p>", encoding="utf-8")
    (project.home / "secret.html").write_text("no", encoding="utf-8")
    with TestClient(create_app(project, UISettings()), base_url="http://127.0.0.1") as c:
        r = c.get(f"/compare?runs={ui_project.history_id},{second.id},{ui_project.run_id}")
        run = c.get(f"/runs/{ui_project.run_id}").text
        report = c.get(f"/reports/evaluation/{ui_project.model}-v1.html")
        escape = c.get("/reports/evaluation/..%2F..%2Fsecret.html")
    project.close()
    assert r.status_code == 200 and 'id="overlay"' in r.text
    assert "2 runs overlaid" in r.text and 'id="history"' in r.text
    assert r.text.count("<polyline") >= 2
    assert f"evaluation/{ui_project.model}-v1.html" in run
    assert report.status_code == 200 and "evaluation" in report.text
    assert escape.status_code == 404


def test_importance_finds_the_parameter_that_matters() -> None:
    rng = random.Random(0)
    params, scores = {}, {}
    for i in range(200):
        lr = rng.uniform(0.001, 0.3)
        family = rng.choice(["a", "b", "c"])
        params[str(i)] = {"lr": lr, "family": family, "noise": rng.random(), "fixed": 1}
        scores[str(i)] = -((lr - 0.1) ** 2) * 100 + rng.gauss(0, 0.01)
    shares = dict(importance(params, scores))
    assert shares["lr"] > 0.8
    assert shares["noise"] < 0.1 and shares["family"] < 0.1
    assert "fixed" not in shares  # one value: nothing to explain
    assert next(iter(shares)) == "lr"
    assert importance(dict(list(params.items())[:4]), scores) == []  # too few trials
    assert importance(params, dict.fromkeys(scores, 0.5)) == []  # nothing varies
