"""noria.yaml: errors name the file, line and key, and suggest the nearest valid key."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import ConfigError
from noria.spec import load_spec, render_spec


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "noria.yaml"
    path.write_text(text)
    return path


def test_rendered_spec_loads_with_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, render_spec(name="churn", source="data/c.csv", target="y")))
    assert spec.name == "churn" and spec.data.source == "data/c.csv" and spec.target == "y"
    assert spec.split.method == "stratified" and spec.models.metric == "auto"


def test_unknown_key_names_line_and_nearest_key(tmp_path: Path) -> None:
    text = "name: x\ndata:\n  source: d.csv\ntarget: y\nmodles:\n  metric: f1\n"
    with pytest.raises(ConfigError) as info:
        load_spec(write(tmp_path, text))
    assert str(info.value) == (
        f"{tmp_path / 'noria.yaml'}:5: unknown key 'modles' (did you mean 'models'?)"
    )


def test_nested_unknown_key(tmp_path: Path) -> None:
    text = "name: x\ndata:\n  source: d.csv\n  fromat: csv\ntarget: y\n"
    with pytest.raises(ConfigError, match=r":4: unknown key 'data.fromat' \(did you mean 'format'"):
        load_spec(write(tmp_path, text))


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    text = "name: x\ndata:\n  source: d.csv\ntarget: y\nsplit:\n  test_size: lots\n"
    with pytest.raises(ConfigError, match=r":6: split.test_size: .*got 'lots'"):
        load_spec(write(tmp_path, text))


def test_missing_required_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing key 'target'"):
        load_spec(write(tmp_path, "name: x\ndata:\n  source: d.csv\n"))


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"noria.yaml:2: not valid YAML"):
        load_spec(write(tmp_path, "name: x\n  data: [\n"))


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="noria init"):
        load_spec(tmp_path / "noria.yaml")


def test_check_kinds_of_noria_yaml_are_the_validators_kinds() -> None:
    from noria.data.validate import CHECK_KINDS
    from noria.spec import _CHECK_OPTIONS, CheckSpec

    assert tuple(k for k in CheckSpec.model_fields if k not in _CHECK_OPTIONS) == CHECK_KINDS
