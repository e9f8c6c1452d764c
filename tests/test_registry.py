"""The registry: gates, promote, rollback from the audit log, model cards."""

from __future__ import annotations

import pytest

from noria.errors import NotFoundError, UserError
from noria.registry import (
    PromotionGates,
    PromotionRefused,
    alias_history,
    model_card,
    promote,
    register_model,
    resolve,
    rollback,
)
from noria.store.metadata import MetadataStore


def _register(metadata: MetadataStore, accuracy: float) -> int:
    v = register_model(
        metadata,
        name="m",
        artifact_id="0" * 32,
        run_id=None,
        signature=[{"name": "x", "dtype": "float64"}],
        metrics={"accuracy": accuracy, "log_loss": 1 - accuracy},
        params={"family": "linear", "task": "classification", "classes": [0, 1]},
    )
    return v.version


def test_gates_refuse_with_every_reason_and_audit(metadata: MetadataStore) -> None:
    _register(metadata, 0.90)
    _register(metadata, 0.91)
    gates = PromotionGates(
        min_metrics={"accuracy": 0.95},
        max_metrics={"log_loss": 0.05},
        metric="accuracy",
        min_improvement=0.02,
    )
    with pytest.raises(PromotionRefused) as info:
        promote(metadata, "m", 2, gates=gates, reason="try")
    reasons = info.value.reasons
    assert len(reasons) == 3
    assert any("min_metrics.accuracy" in r and "0.91 < 0.95" in r for r in reasons)
    assert any("max_metrics.log_loss" in r for r in reasons)
    assert any("beats m/1" in r and "does not improve" in r for r in reasons)
    assert resolve(metadata, "m@champion").version == 1
    refused = [e for e in metadata.audit_events("m/2") if e["action"] == "promote_refused"]
    assert refused and refused[0]["detail"]["reason"] == "try"
    with pytest.raises(UserError):
        promote(metadata, "m", 2, gates=PromotionGates(metric="accuracy", min_improvement=0.5))


def test_promote_passes_and_rollback_walks_history(metadata: MetadataStore) -> None:
    for acc in (0.90, 0.93, 0.96):
        _register(metadata, acc)
    gates = PromotionGates(min_metrics={"accuracy": 0.9}, metric="accuracy", min_improvement=0.01)
    results = promote(metadata, "m", 2, gates=gates, reason="better", actor="ana")
    assert all(r.passed for r in results)
    promote(metadata, "m", 3, gates=gates)
    assert alias_history(metadata, "m") == [1, 2, 3]
    event = next(e for e in metadata.audit_events("m/2") if e["action"] == "promote")
    assert event["actor"] == "ana" and event["detail"]["reason"] == "better"
    assert event["detail"]["previous"] == 1
    assert rollback(metadata, "m", reason="bad latency") == (3, 2)
    assert rollback(metadata, "m") == (2, 1)  # two steps back, not a flip
    assert resolve(metadata, "m@champion").version == 1
    with pytest.raises(UserError, match="no previous holder"):
        rollback(metadata, "m")
    moves = [e["action"] for e in metadata.audit_events() if e["action"] != "register"]
    assert moves == ["set_alias", "promote", "promote", "rollback", "rollback"]


def test_any_alias_and_unknowns(metadata: MetadataStore) -> None:
    _register(metadata, 0.9)
    _register(metadata, 0.8)
    promote(metadata, "m", 2, to="challenger")
    assert resolve(metadata, "m@challenger").version == 2
    with pytest.raises(NotFoundError, match="no alias 'champio'"):
        resolve(metadata, "m@champio")
    with pytest.raises(NotFoundError, match="no model 'n'"):
        promote(metadata, "n", 1)
    with pytest.raises(NotFoundError, match="no version 9"):
        promote(metadata, "m", 9)
    with pytest.raises(UserError, match="alias"):
        promote(metadata, "m", 1, to="bad alias")


def test_validation_gate(metadata: MetadataStore) -> None:
    _register(metadata, 0.9)
    _register(metadata, 0.95)
    with pytest.raises(PromotionRefused, match="no run"):
        promote(metadata, "m", 2, gates=PromotionGates(require_validation=True))


def test_model_card_markdown_and_html(metadata: MetadataStore) -> None:
    _register(metadata, 0.9)
    version = resolve(metadata, "m")
    md = model_card(metadata, version)
    assert md.startswith("# Model card: m version 1")
    for needle in ("| accuracy | 0.9 |", "| x | float64 |", "champion", "first version"):
        assert needle in md
    html = model_card(metadata, version, fmt="html")
    assert html.startswith("<!doctype html>") and "<td>accuracy</td>" in html
    with pytest.raises(UserError):
        model_card(metadata, version, fmt="pdf")
