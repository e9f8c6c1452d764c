"""``noria.yaml``'s ``tests:`` and the evidence gates of ``promotion:``, as loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import ConfigError
from noria.registry import PromotionGates
from noria.spec import load_spec

HEAD = "name: p\ndata:\n  source: d.csv\ntarget: species\n"


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    file = tmp_path / "noria.yaml"
    file.write_text(HEAD + text)
    return load_spec(file)


def test_tests_and_gates_reach_the_promotion_gates(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """\
evaluation: {sensitive: [sex]}
promotion: {not_worse: true, not_worse_margin: 0.01, slice_floor: 0.8, max_ece: 0.1,
            max_fairness_gap: 0.2}
tests:
  - name: gentoo
    expect: {rows: [{island: Biscoe, species: Gentoo}]}
  - invariance: {column: year, values: [2007, 2008]}
  - directional: {column: body_mass_g, change: 100, score: Gentoo}
  - floor: {metric: accuracy, min: 0.9, where: {island: Dream}}
""",
    )
    gates = PromotionGates.from_spec(spec.promotion, default_metric="accuracy")
    assert gates.not_worse and gates.not_worse_margin == 0.01 and gates.slice_floor == 0.8
    assert gates.max_ece == 0.1 and gates.max_fairness_gap == 0.2 and gates.needs_evidence()
    tests = gates.evidence["tests"]
    assert [t["name"] for t in tests] == ["gentoo", "invariance #2", "directional #3", "floor #4"]
    assert [t["kind"] for t in tests] == ["expect", "invariance", "directional", "floor"]
    assert gates.evidence["sensitive"] == ["sex"]
    plain = PromotionGates.from_spec(_load(tmp_path, "").promotion, default_metric="accuracy")
    assert not plain.needs_evidence() and plain.evidence["tests"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tests:\n  - {name: x}\n", "tests.0: a test needs exactly one of expect, invariance"),
        ("tests:\n  - invariance: {column: a, values: [1, 2]}\n    floor: {metric: r2, min: 0}\n",
         "(got invariance, floor)"),
        ("tests:\n  - invariance: {column: a, valus: [1, 2]}\n",
         "noria.yaml:6: unknown key 'tests.0.invariance.valus' (did you mean 'values'?)"),
        ("tests:\n  - floor: {metric: accuracy}\n", "a floor needs min: or max:"),
        ("tests:\n  - floor: {metric: acuracy, min: 1}\n", "unknown metric 'acuracy'"),
        ("tests:\n  - directional: {column: a, change: 0}\n", "change: 0 changes nothing"),
        ("tests:\n  - invariance: {column: a, values: [1], eps: -1}\n", "tests.0.invariance"),
        ("promotion: {max_fairness_gap: 0.1}\n", "needs the columns it judges"),
        ("promotion: {not_worse_margin: -1}\n", "promotion.not_worse_margin"),
        ("promotion: {max_ece: 2}\n", "promotion.max_ece"),
    ],
)  # fmt: skip
def test_bad_tests_and_gates_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert message in str(info.value)
