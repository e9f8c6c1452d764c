"""noria.yaml and the schema file refuse YAML aliases: no recursion, no alias bomb."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from noria.errors import ConfigError
from noria.spec import load_spec

BASE = "name: p\ndata: {source: d.csv}\ntarget: y\n"


def test_self_recursive_alias_is_a_config_error(tmp_path: Path) -> None:
    """It was an internal RecursionError."""
    spec = tmp_path / "noria.yaml"
    spec.write_text(BASE + "features:\n  drop: &loop [*loop]\n")
    with pytest.raises(ConfigError, match=r"noria.yaml:5: YAML aliases \(\*loop\) are not allowed"):
        load_spec(spec)


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """A 'billion laughs' noria.yaml used 4.2 GB and ran past 30 s."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    spec = tmp_path / "noria.yaml"
    spec.write_text(BASE + "\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"noria.yaml:5: YAML aliases"):
        load_spec(spec)
    assert time.perf_counter() - started < 2


def test_merge_keys_are_aliases_too(tmp_path: Path) -> None:
    spec = tmp_path / "noria.yaml"
    spec.write_text(BASE + "split: &s {test_size: 0.2}\nserve:\n  <<: *s\n")
    with pytest.raises(ConfigError, match=r"noria\.yaml:6"):
        load_spec(spec)


def test_schema_file_refuses_aliases(tmp_path: Path) -> None:
    from noria.data.schema import load_schema

    schema = tmp_path / "noria.schema.yaml"
    schema.write_text("columns:\n  a: &t {type: integer}\n  b: *t\n")
    with pytest.raises(ConfigError, match=r"noria.schema.yaml:3: YAML aliases \(\*t\)"):
        load_schema(schema)


def test_too_deep_nesting_is_a_config_error(tmp_path: Path) -> None:
    spec = tmp_path / "noria.yaml"
    spec.write_text(BASE + "features: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_spec(spec)


def test_plain_files_still_load(tmp_path: Path) -> None:
    spec = tmp_path / "noria.yaml"
    spec.write_text(BASE + "# a comment with *star and &amp\nsplit: {test_size: 0.3}\n")
    assert load_spec(spec).split.test_size == 0.3


def test_a_key_given_twice_names_both_lines(tmp_path) -> None:
    """PyYAML kept the later value silently: `not_worse: true` added under `promotion:` was
    overridden by the template's own `not_worse: false` further down."""
    from noria.errors import ConfigError
    from noria.yamlfile import load_yaml

    text = "promotion:\n  not_worse: true\n  metric: auto\n  not_worse: false\n"
    with pytest.raises(ConfigError, match=r"noria.yaml:4: key 'not_worse' is given twice.*line 2"):
        load_yaml(text, tmp_path / "noria.yaml")
    assert load_yaml("a: {x: 1}\nb: {x: 2}\n", "f.yaml")[0] == {"a": {"x": 1}, "b": {"x": 2}}
