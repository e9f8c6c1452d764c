"""``noria models``, ``promote``, ``rollback``, ``predict`` on a project with two versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noria.project import Project
from tests.conftest import cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from serve.conftest import fit_penguins, register

    (tmp_path / "noria.yaml").write_text(
        "name: penguins\ndata: {source: data.csv}\ntarget: species\n"
        "promotion: {min_metrics: {accuracy: 0.9}, metric: accuracy, min_improvement: 0.0,"
        " require_validation: false}\n"
    )
    p = Project(tmp_path)
    model, x = fit_penguins()
    register(p, model, x, {"accuracy": 0.95})
    register(p, model, x, {"accuracy": 0.85})
    register(p, model, x, {"accuracy": 0.97})
    x.head(30).to_csv(tmp_path / "in.csv", index=False)
    p.close()
    return tmp_path


def test_models_promote_rollback_card_predict(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = str(project)
    code, out, _ = cli(capsys, "models", "list", "--path", p)
    assert code == 0 and "champion" in out and out.count("penguins") == 3
    code, _, err = cli(capsys, "promote", "penguins", "2", "--path", p)
    assert code == 2 and "accuracy 0.85 < 0.9" in err and "Traceback" not in err
    code, out, err = cli(capsys, "promote", "penguins", "3", "--reason", "better", "--path", p)
    assert code == 0, err
    assert "penguins@champion" in out and "version 3" in out
    code, out, _ = cli(capsys, "rollback", "penguins", "--path", p)
    assert code == 0 and "version 3 → version 1" in out
    code, out, _ = cli(capsys, "models", "card", "penguins@3", "--path", p)
    assert code == 0 and "# Model card: penguins version 3" in out and "better" in out
    card = project / "card.html"
    code, _, _ = cli(
        capsys, "models", "card", "penguins", "--format", "html", "-o", str(card), "--path", p
    )
    assert code == 0 and card.read_text().startswith("<!doctype html>")
    code, out, err = cli(
        capsys,
        "predict",
        "--model",
        "penguins@champion",
        "--input",
        str(project / "in.csv"),
        "--output",
        str(project / "out.parquet"),
        "--chunk-rows",
        "7",
        "--path",
        p,
    )
    assert code == 0, err
    scored: Any = pd.read_parquet(project / "out.parquet")
    assert len(scored) == 30 and "prediction" in scored and "proba_Gentoo" in scored
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        "penguins@nope",
        "--input",
        str(project / "in.csv"),
        "--output",
        str(project / "o.csv"),
        "--path",
        p,
    )
    assert code == 2 and "no alias 'nope'" in err
    bad = project / "bad.csv"
    pd.read_csv(project / "in.csv").drop(columns=["island"]).to_csv(bad, index=False)
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        "penguins",
        "--input",
        str(bad),
        "--output",
        str(project / "o.csv"),
        "--path",
        p,
    )
    assert code == 2 and "island" in err and not (project / "o.csv").exists()
