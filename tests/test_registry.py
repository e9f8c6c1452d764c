"""The registry: gates, promote, rollback from the audit log, model cards."""

from __future__ import annotations

from pathlib import Path

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
    assert any(
        "beats m/1" in r and "better by only 0.01 (at least 0.02 required)" in r for r in reasons
    )
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
    beat = next(r.detail for r in results if r.gate == "beats m/1")
    assert beat == (
        "accuracy 0.93 against 0.9 of version 1, from the stored holdout metrics (the holdouts "
        "could not be matched): better by 0.03 (at least 0.01 required)"
    )
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


def test_two_promotions_at_once_never_replace_a_version_not_beaten(
    metadata: MetadataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both gates compare with version 1 at the same moment; the slower move must not replace
    version 2 (which version 3 never beat) while its audit says "beats m/1"."""
    import threading
    import time

    import noria.registry.gates as registry

    _register(metadata, 0.90)
    _register(metadata, 0.96)  # v2: the better one
    _register(metadata, 0.93)  # v3: beats v1, not v2
    gates = PromotionGates(metric="accuracy", min_improvement=0.0)
    both_judged = threading.Barrier(2, timeout=10)
    mine = threading.local()
    original = registry.check_gates

    def judged_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        results = original(*args, **kwargs)
        if not getattr(mine, "judged", False):
            mine.judged = True
            both_judged.wait()  # both promotions have compared with the same holder
            time.sleep(mine.delay)  # then version 3's move comes second
        return results

    monkeypatch.setattr(registry, "check_gates", judged_together)
    url = f"sqlite:///{tmp_path / 'noria.db'}"
    outcome: dict[int, object] = {}

    def promote_with_own_store(version: int, delay: float) -> None:
        mine.delay = delay
        store = MetadataStore(url)  # its own connection, as a second `noria promote` has
        try:
            outcome[version] = promote(store, "m", version, gates=gates, reason="race")
        except Exception as exc:  # the test inspects it
            outcome[version] = exc
        finally:
            store.close()

    threads = [
        threading.Thread(target=promote_with_own_store, args=(2, 0.0)),
        threading.Thread(target=promote_with_own_store, args=(3, 0.3)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert resolve(metadata, "m@champion").version == 2
    assert isinstance(outcome[3], PromotionRefused), outcome
    assert "beats m/2" in str(outcome[3]) and "worse by 0.03" in str(outcome[3])
    promoted = [e for e in metadata.audit_events() if e["action"] == "promote"]
    assert [(e["object"], e["detail"]["previous"]) for e in promoted] == [("m/2", 1)]
    for event in promoted:  # every "beats m/N" in the audit names the holder it replaced
        assert f"beats m/{event['detail']['previous']}" in event["detail"]["gates"]


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x\\\\y"])
def test_model_names_that_could_leave_the_store_are_refused(
    metadata: MetadataStore, name: str
) -> None:
    with pytest.raises(UserError, match=r"model name .* is not valid"):
        register_model(
            metadata,
            name=name,
            artifact_id="0" * 32,
            run_id=None,
            signature=[],
            metrics={},
            params={},
        )
    assert metadata.model_versions() == []


def test_the_same_artifact_with_the_same_metrics_reuses_its_version(
    metadata: MetadataStore,
) -> None:
    assert _register(metadata, 0.9) == 1
    assert _register(metadata, 0.9) == 1  # `noria run --fresh` fitting the very same model
    assert [v.version for v in metadata.model_versions("m")] == [1]
    (reused,) = [e for e in metadata.audit_events("m/1") if e["action"] == "register_reused"]
    assert "same model artifact" in reused["detail"]["reason"]
    assert _register(metadata, 0.8) == 2  # same bytes, other holdout metrics: a new version


def test_beats_baseline_is_read_defensively(metadata: MetadataStore) -> None:
    from noria.registry import beats_baseline

    def version(params: dict, run_id: str | None = None):  # type: ignore[no-untyped-def]
        return register_model(
            metadata,
            name="b",
            artifact_id=f"{len(metadata.model_versions()):032d}",
            run_id=run_id,
            signature=[],
            metrics={},
            params=params,
        )

    assert beats_baseline(metadata, version({"beats_baseline": False})) is False
    assert beats_baseline(metadata, version({"beats_baseline": True})) is True
    assert beats_baseline(metadata, version({})) is None  # absent: unknown, allowed
    assert beats_baseline(metadata, version({"beats_baseline": "n/a"})) is None
    metadata.create_run("r1", name="r", kind="pipeline")
    with metadata.write() as tx:
        metadata.log_batch(tx, tags=[("r1", "beats_baseline", "false")])
    assert beats_baseline(metadata, version({}, run_id="r1")) is False
