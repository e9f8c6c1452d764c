"""Dates written in several formats in one CSV column (issue 12: "silently becomes a
high-cardinality string"): read as dates when the formats are certain, the decision kept with the
model so that training, ``noria predict`` and ``POST /predict`` read a value alike; kept as text,
and said, when day and month could be read both ways."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noria.project import Project
from tests.conftest import cli, fast_search

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip


def _written(day: int, month: int, year: int, style: int) -> str:
    if style == 0:
        return f"{year}-{month:02d}-{day:02d}"
    if style == 1:
        return f"{day:02d}/{month:02d}/{year}"
    return f"{_MONTHS[month - 1]} {day}, {year}"


def dated_penguins(folder: Path) -> pd.DataFrame:
    """The penguins with the date each was seen, written three ways in one column (`seen`), and
    a column of dates that never tells day from month (`ringed`: no day above 12)."""
    from noria.cli.demo import write_demo_data

    frame = pd.read_csv(write_demo_data(folder / "raw")).dropna(subset=["species"])
    frame = frame.reset_index(drop=True)[
        ["species", "island", "bill_length_mm", "flipper_length_mm", "year"]
    ]
    days = [1 + (i * 7) % 28 for i in range(len(frame))]
    months = [1 + (i * 5) % 12 for i in range(len(frame))]
    frame["seen"] = [
        _written(d, m, int(y), i % 3)
        for i, (d, m, y) in enumerate(zip(days, months, frame["year"], strict=True))
    ]
    frame["ringed"] = [
        f"{1 + i % 12:02d}/{1 + (i // 12) % 12:02d}/{int(y)}" for i, y in enumerate(frame["year"])
    ]
    return frame.drop(columns=["year"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import noria

    root = tmp_path_factory.mktemp("dates")
    (root / "data").mkdir()
    dated_penguins(root).to_csv(root / "data" / "train.csv", index=False)
    project = noria.Project.init(root, data="data/train.csv", target="species", name="penguins")
    fast_search(project.spec_path, families="[linear]", trials=2)
    text = project.spec_path.read_text().replace("time_budget: 120", "time_budget: 60")
    project.spec_path.write_text(text)
    noria.Project(root).run()
    return root


def test_the_reader_never_guesses_day_and_month(tmp_path: Path) -> None:
    """DuckDB read `04/03/2021` day-first, silently, from the first rows of the file."""
    from noria.data.sources import read_source

    path = tmp_path / "d.csv"
    path.write_text("when,stamp,iso,y\n04/03/2021,04/03/2021 10:00:00,2021-03-04,1\n"
                    "05/06/2021,05/06/2021 11:00:00,2021-06-05,2\n")  # fmt: skip
    frame = read_source(str(path))
    assert frame["when"].tolist() == ["04/03/2021", "05/06/2021"]
    assert frame["stamp"].tolist() == ["04/03/2021 10:00:00", "05/06/2021 11:00:00"]
    assert str(frame["iso"].dtype).startswith("datetime64")  # ISO is never in doubt


def test_plan_reads_mixed_formats_and_says_why_not_when_ambiguous(tmp_path: Path) -> None:
    from noria.features.preprocess import build_preprocessor, plan_columns

    frame = dated_penguins(tmp_path)
    plan = plan_columns(frame, target="species")
    assert "seen" in plan.datetime and "ringed" not in plan.datetime
    assert set(plan.date_formats["seen"]) == {"ISO8601", "%d/%m/%Y", "%B %d, %Y"}
    (note,) = plan.notes
    assert "column 'ringed'" in note and "day-first and month-first" in note
    assert "data.date_formats: {ringed: '%d/%m/%Y'}" in note
    # the plan survives its JSON form, and the fitted preprocessing reads with the formats
    again = type(plan).from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    pre = build_preprocessor(plan, scale=False).fit(frame.drop(columns=["species"]))
    row = frame.drop(columns=["species"]).head(1).assign(seen="04/03/2008")
    out = pd.DataFrame(pre.transform(row), columns=pre.get_feature_names_out())
    assert (out["seen_day"].item(), out["seen_month"].item()) == (4.0, 3.0)
    # by hand: the user says how `ringed` is written
    by_hand = plan_columns(frame, target="species", date_formats={"ringed": "%m/%d/%Y"})
    assert by_hand.date_formats["ringed"] == ("%m/%d/%Y",) and not by_hand.notes


def test_training_predict_and_server_read_dates_alike(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from noria.registry import resolve
    from tests.serve.conftest import LiveServer

    root = trained
    code, said, err = cli(capsys, "run", "--path", str(root))  # from the cache: says it again
    assert code == 0, err
    assert "note: column 'ringed' has dates such as '" in said, said
    project = Project(root)
    version = resolve(project.metadata, "penguins@champion")
    seen = next(c for c in version.signature if c["name"] == "seen")
    assert seen["dayfirst"] is True and "%d/%m/%Y" in seen["formats"]
    assert "formats" not in next(c for c in version.signature if c["name"] == "ringed")

    # a scoring file whose dates alone would be ambiguous: the training decision reads them
    frame = pd.read_csv(root / "data" / "train.csv", dtype=str, keep_default_na=False)
    scoring = frame.head(30).drop(columns=["species"])
    scoring["seen"] = [f"{1 + i % 12:02d}/{1 + (i * 7) % 12:02d}/2008" for i in range(30)]
    scoring.to_csv(root / "score.csv", index=False)
    code, _, err = cli(capsys, "predict", "-m", "penguins", "-i", str(root / "score.csv"),
                       "-o", str(root / "scored.csv"), "--path", str(root))  # fmt: skip
    assert code == 0, err
    scored = pd.read_csv(root / "scored.csv")

    records = [
        {k: (float(v) if k.endswith("_mm") and v else v or None) for k, v in row.items()}
        for row in scoring.to_dict("records")
    ]
    with LiveServer(project, log_predictions=False) as server:
        body = _post(server.url, {"records": records})
        assert body["predictions"] == scored["prediction"].tolist()
        served = [round(p[0], 6) for p in body["probabilities"]]
        assert served == [round(v, 6) for v in scored[f"proba_{body['classes'][0]}"]]
        bad = dict(records[0], seen="the fourth of March")
        with pytest.raises(urllib.error.HTTPError) as refused:
            _post(server.url, {"records": [bad]})
        assert refused.value.code == 422
        message = refused.value.read().decode()
        assert "records[0].seen" in message and "%d/%m/%Y" in message

    from noria.data.sources import read_source
    from noria.pipeline.runner import load_artifact

    model = load_artifact(project.metadata, project.artifacts, version.artifact_id)
    assert model.predict(read_source(str(root / "score.csv"))).tolist() == body["predictions"]
    # and they are read day-first, as in training: 04/03/2008 is the 4th of March
    expand = model[0].named_transformers_["datetime"].named_steps["expand"]
    parts = expand.transform(read_source(str(root / "score.csv"))[["seen"]]).iloc[1]
    day, month = parts["seen_day"], parts["seen_month"]
    assert (round(day), round(month)) == (2, 8)  # the second row: 02/08/2008
    project.close()


def _post(url: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url + "/predict",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_date_formats_setting_reaches_the_features_step(tmp_path: Path) -> None:
    from noria.spec import load_spec, render_spec
    from noria.supervised import params_from_spec

    (tmp_path / "d.csv").write_text("ringed,y\n04/03/2021,1\n05/06/2021,0\n")
    text = render_spec(name="p", source="d.csv", target="y")
    assert "  date_formats: {}" in text
    spec_path = tmp_path / "noria.yaml"
    spec_path.write_text(text.replace("  date_formats: {}", "  date_formats: {ringed: '%m/%d/%Y'}"))
    params = params_from_spec(load_spec(spec_path), tmp_path)
    assert params["date_formats"] == {"ringed": "%m/%d/%Y"}
