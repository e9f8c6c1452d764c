"""Feature names the prediction log reserves (output.*) are refused at init and at run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noria.errors import DataError

from ..conftest import cli


def _data(tmp_path: Path, penguins_csv: Path) -> Path:
    frame = pd.read_csv(penguins_csv).rename(columns={"island": "output.prediction"})
    path = tmp_path / "clash.csv"
    frame.to_csv(path, index=False)
    return path


def test_init_refuses_a_feature_named_like_the_log_outputs(
    tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`noria monitor` failed with an internal KeyError on such a model's log."""
    data = _data(tmp_path, penguins_csv)
    code, _, err = cli(
        capsys, "init", "--data", str(data), "--target", "species", "--path", str(tmp_path)
    )
    assert code == 2
    assert "'output.prediction'" in err and "rename" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "noria.yaml").exists()


def test_run_refuses_it_too(tmp_path: Path, penguins_csv: Path) -> None:
    from noria.supervised import validated_data

    frame = pd.read_csv(_data(tmp_path, penguins_csv))
    with pytest.raises(DataError, match=r"the training data: column 'output\.prediction'"):
        validated_data(frame, "species", None, [], "fail")


def test_only_features_are_checked() -> None:
    from noria.data.reserved import check_feature_names

    check_feature_names(["island", "outputs", "input.x"], "d.csv")  # not reserved
    with pytest.raises(DataError, match=r"d\.csv: column 'output\.proba\.x'"):
        check_feature_names(["island", "output.proba.x"], "d.csv")
