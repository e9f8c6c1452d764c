"""The model registry: versions, aliases, promotion gates, rollback, the audit log, model cards.

One package, one module per concern; every public name is importable from here
(``from noria.registry import promote``):

* :mod:`~noria.registry.versions`: register a version, look one up (``NAME``, ``NAME@ALIAS``,
  ``NAME@VERSION``), model names;
* :mod:`~noria.registry.aliases`: set an alias, promote through the gates, roll back;
* :mod:`~noria.registry.gates`: the promotion gates of ``noria.yaml``'s ``promotion:``;
* :mod:`~noria.registry.evidence`: the comparison of two versions or runs on the same rows,
  the stored evaluation, the model tests (``tests:``), and the gates that judge them;
* :mod:`~noria.registry.audit`: the audit log read back (alias history, latest evidence);
* :mod:`~noria.registry.card`: the model card.

Not here: serving (:mod:`noria.serve`), the retraining loop that calls promote and rollback.
"""

from __future__ import annotations

from noria.errors import PromotionRefused
from noria.registry.aliases import AliasMoved, promote, rollback, rollback_target, set_alias
from noria.registry.audit import alias_history, latest_event
from noria.registry.card import card_data, model_card
from noria.registry.gates import (
    GateResult,
    PromotionGates,
    check_gates,
    holdout_artifacts,
    judged_metric,
    step_artifacts,
)
from noria.registry.versions import (
    CHAMPION,
    alias_holder,
    alias_since,
    beats_baseline,
    check_model_name,
    get_version,
    known_model,
    register_model,
    resolve,
)

__all__ = [
    "CHAMPION",
    "AliasMoved",
    "GateResult",
    "PromotionGates",
    "PromotionRefused",
    "alias_history",
    "alias_holder",
    "alias_since",
    "beats_baseline",
    "card_data",
    "check_gates",
    "check_model_name",
    "get_version",
    "holdout_artifacts",
    "judged_metric",
    "known_model",
    "latest_event",
    "model_card",
    "promote",
    "register_model",
    "resolve",
    "rollback",
    "rollback_target",
    "set_alias",
    "step_artifacts",
]
