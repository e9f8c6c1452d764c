"""Promotion gates: what a version must show before an alias moves to it.

The gates of ``noria.yaml``'s ``promotion:`` section (:class:`PromotionGates`):

* absolute thresholds: ``min_metrics`` (at least) and ``max_metrics`` (at most) on the
  version's holdout metrics;
* the candidate must beat the alias's current holder by ``min_improvement`` on ``metric``, on
  the same holdout: when both versions were evaluated on the same ``splits`` artifact their
  stored metrics are compared; otherwise both models are scored again on the candidate's holdout;
* ``require_validation``: the run that made the version completed its data validation step
  (``validated_data``, or any step whose name starts with ``validat``), and no run tag
  ``validation_passed`` says ``false``;
* the gates on evidence (:mod:`noria.registry.evidence`): ``not_worse`` (the paired-bootstrap
  interval of the difference with the holder must not lie wholly on the worse side),
  ``slice_floor`` (every slice's metric), ``max_ece`` (calibration), ``max_fairness_gap``
  (the groups of ``evaluation.sensitive`` columns) and the model tests of ``tests:``.

Not here: moving the alias (:mod:`noria.registry.aliases`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import NotFoundError, UserError, did_you_mean
from noria.registry.versions import CHAMPION, alias_holder, get_version
from noria.store.metadata import MetadataStore, ModelVersion

if TYPE_CHECKING:
    from noria.spec import PromotionSpec
    from noria.store.artifacts import ArtifactStore

__all__ = [
    "GateResult",
    "PromotionGates",
    "check_gates",
    "evidence_gates",
    "holdout_artifacts",
    "judged_metric",
    "step_artifacts",
]

_ANY: Any = object()  # "the alias's holder now"


@dataclass(frozen=True)
class PromotionGates:
    """The gates a promotion must pass (built from ``noria.yaml``'s ``promotion:``).

    ``PromotionGates()`` has no gate at all; :meth:`from_spec` gives ``noria.yaml``'s.

    Attributes:
        min_metrics: holdout metrics that must be at least these values.
        max_metrics: holdout metrics that must be at most these values.
        metric: the metric compared with the current holder's (``None``: no comparison).
        greater_is_better: whether a higher ``metric`` is better.
        min_improvement: how much better than the current holder the candidate must be.
        require_validation: the version's data validation must have passed.
    """

    min_metrics: Mapping[str, float] = field(default_factory=dict)
    max_metrics: Mapping[str, float] = field(default_factory=dict)
    metric: str | None = None
    greater_is_better: bool = True
    min_improvement: float = 0.0
    require_validation: bool = False
    not_worse: bool = False
    not_worse_margin: float = 0.0
    slice_floor: float | None = None
    slice_min_rows: int = 30
    max_ece: float | None = None
    max_fairness_gap: float | None = None
    tests: bool = True
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def needs_evidence(self) -> bool:
        """Whether a gate needs the candidate scored on its holdout."""
        return bool(
            self.not_worse
            or self.slice_floor is not None
            or self.max_ece is not None
            or self.max_fairness_gap is not None
            or (self.tests and self.evidence.get("tests"))
        )

    @classmethod
    def from_spec(cls, spec: PromotionSpec, *, default_metric: str | None) -> PromotionGates:
        """Gates from ``promotion:``; ``metric: auto`` becomes ``default_metric``."""
        from noria.evaluate.metrics import greater_is_better

        metric = default_metric if spec.metric == "auto" else spec.metric
        return cls(
            min_metrics=dict(spec.min_metrics),
            max_metrics=dict(spec.max_metrics),
            metric=metric,
            greater_is_better=greater_is_better(metric) if metric else True,
            min_improvement=spec.min_improvement,
            require_validation=spec.require_validation,
            not_worse=spec.not_worse,
            not_worse_margin=spec.not_worse_margin,
            slice_floor=spec.slice_floor,
            slice_min_rows=spec.slice_min_rows,
            max_ece=spec.max_ece,
            max_fairness_gap=spec.max_fairness_gap,
            tests=spec.tests,
            evidence=spec.evidence_settings(),
        )


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: its name, whether it passed, and why (and the evidence it judged,
    e.g. the comparison with the holder, stored with the promotion in the audit log)."""

    gate: str
    passed: bool
    detail: str
    evidence: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


def check_gates(
    metadata: MetadataStore,
    candidate: ModelVersion,
    gates: PromotionGates,
    *,
    alias: str = CHAMPION,
    artifacts: ArtifactStore | None = None,
    holder: int | None = _ANY,
) -> list[GateResult]:
    """Every gate's verdict for promoting ``candidate`` to ``alias`` (nothing is changed).

    ``holder`` is the version the candidate is compared with (default: the alias's holder now).
    """
    results: list[GateResult] = []
    metrics = candidate.metrics
    for key, bound in sorted(gates.min_metrics.items()):
        value = metrics.get(key)
        if value is None or not math.isfinite(value):
            results.append(GateResult(f"min_metrics.{key}", False, _no_metric(key, metrics)))
        else:
            ok = value >= bound
            sign = ">=" if ok else "<"
            results.append(
                GateResult(f"min_metrics.{key}", ok, f"{key} {value:.4g} {sign} {bound:.4g}")
            )
    for key, bound in sorted(gates.max_metrics.items()):
        value = metrics.get(key)
        if value is None or not math.isfinite(value):
            results.append(GateResult(f"max_metrics.{key}", False, _no_metric(key, metrics)))
        else:
            ok = value <= bound
            sign = "<=" if ok else ">"
            results.append(
                GateResult(f"max_metrics.{key}", ok, f"{key} {value:.4g} {sign} {bound:.4g}")
            )
    if holder is _ANY:
        holder = alias_holder(metadata, candidate.name, alias)
    current = None
    if holder is not None and holder != candidate.version:
        current = get_version(metadata, candidate.name, holder)
    if gates.metric and current is not None:
        results.append(_compare(metadata, artifacts, candidate, current, gates))
    if gates.require_validation:
        results.append(_validation(metadata, candidate))
    results.extend(evidence_gates(metadata, artifacts, candidate, current, gates))
    return results


def _no_metric(key: str, metrics: Mapping[str, float]) -> str:
    known = ", ".join(sorted(metrics)) or "none"
    return f"the version has no metric '{key}'{did_you_mean(key, metrics)} (metrics: {known})"


def judged_metric(metadata: MetadataStore, name: str, configured: str = "auto") -> str | None:
    """The metric versions of ``name`` are judged by: ``configured`` (``models.metric``) unless
    it is ``auto``, else the metric tag of the newest run that registered a version."""
    if configured != "auto":
        return configured
    for version in reversed(metadata.model_versions(name)):
        if version.run_id:
            metric = metadata.tags(version.run_id).get("metric")
            if metric:
                return metric
    return None


def step_artifacts(
    metadata: MetadataStore, version: ModelVersion, step: str, direction: str
) -> dict[str, str]:
    """``{name: artifact}`` a step of the run that made ``version`` consumed (``in``) or
    produced (``out``), from lineage; empty without a run."""
    if version.run_id is None:
        return {}
    return {
        name: artifact
        for s, d, name, artifact in metadata.lineage_of_run(version.run_id)
        if s == step and d == direction
    }


def holdout_artifacts(
    metadata: MetadataStore, version: ModelVersion
) -> tuple[str | None, str | None]:
    """``(splits artifact, problem artifact)`` the version was evaluated on, from lineage."""
    found = step_artifacts(metadata, version, "evaluation", "in")
    return found.get("splits"), found.get("problem")


def _compare(
    metadata: MetadataStore,
    artifacts: ArtifactStore | None,
    candidate: ModelVersion,
    current: ModelVersion,
    gates: PromotionGates,
) -> GateResult:
    metric = gates.metric or ""
    gate = f"beats {current.name}/{current.version}"
    splits, problem = holdout_artifacts(metadata, candidate)
    same = splits is not None and splits == holdout_artifacts(metadata, current)[0]
    how = "on the same holdout"
    if same or splits is None or artifacts is None:
        new, old = candidate.metrics.get(metric), current.metrics.get(metric)
        if not same:
            how = "from the stored holdout metrics (the holdouts could not be matched)"
    else:
        new, old = _rescore(metadata, artifacts, splits, problem, metric, candidate, current)
        how = "both scored on the candidate's holdout"
    if new is None or old is None:
        missing = candidate if new is None else current
        return GateResult(
            gate, False, f"version {missing.version} has no metric '{metric}' to compare"
        )
    gain = new - old if gates.greater_is_better else old - new
    ok = gain >= gates.min_improvement
    need = f"at least {gates.min_improvement:g} required"
    verdict = (
        f"better by {gain:.4g} ({need})"
        if gain > 0
        else ("no better" if gain == 0 else f"worse by {-gain:.4g}") + f" ({need})"
    )
    if not ok and gain > 0:
        verdict = f"better by only {gain:.4g} ({need})"
    return GateResult(
        gate,
        ok,
        f"{metric} {new:.4g} against {old:.4g} of version {current.version}, {how}: {verdict}",
    )


def _rescore(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    splits_id: str,
    problem_id: str | None,
    metric: str,
    candidate: ModelVersion,
    current: ModelVersion,
) -> tuple[float | None, float | None]:
    """Score both models on the candidate's holdout (test part of its ``splits``)."""
    from noria.evaluate.metrics import compute_metrics
    from noria.pipeline.runner import load_artifact

    splits = load_artifact(metadata, artifacts, splits_id)
    problem = load_artifact(metadata, artifacts, problem_id) if problem_id else {}
    target = problem.get("target")
    test = splits["test"]
    if target not in test.columns:
        return candidate.metrics.get(metric), current.metrics.get(metric)
    x, y = test.drop(columns=[target]), test[target]
    task = candidate.params.get("task", problem.get("task", "classification"))
    scores: list[float | None] = []
    for version in (candidate, current):
        # a model refitted on every row has seen the holdout: score the one that has not
        model_id = version.params.get("holdout_model") or version.artifact_id
        model = load_artifact(metadata, artifacts, model_id)
        proba = model.predict_proba(x) if task == "classification" else None
        values = compute_metrics(
            task,
            y,
            model.predict(x),
            y_proba=proba,
            classes=list(getattr(model, "classes_", [])) or None,
        )
        scores.append(values.get(metric))
    return scores[0], scores[1]


def _validation(metadata: MetadataStore, version: ModelVersion) -> GateResult:
    gate = "validation"
    if version.run_id is None:
        return GateResult(gate, False, "the version has no run, so no data validation to check")
    try:
        run = metadata.get_run(version.run_id)
    except NotFoundError:
        return GateResult(gate, False, f"run {version.run_id} of the version is gone")
    if metadata.tags(run.id).get("validation_passed", "").lower() in ("false", "0", "no"):
        return GateResult(gate, False, f"run {run.id[:8]} has tag validation_passed=false")
    steps = [s for s in metadata.step_runs(run.id) if s.step.startswith("validat")]
    if not steps:
        return GateResult(gate, False, f"run {run.id[:8]} has no data validation step")
    failed = [s.step for s in steps if s.status not in ("completed", "cached")]
    if failed:
        return GateResult(gate, False, f"data validation did not pass: {', '.join(failed)}")
    return GateResult(gate, True, f"data validation passed ({', '.join(s.step for s in steps)})")


# --------------------------------------------------------------------------- evidence gates


def evidence_gates(
    metadata: MetadataStore,
    artifacts: ArtifactStore | None,
    candidate: ModelVersion,
    holder: ModelVersion | None,
    gates: PromotionGates,
) -> list[GateResult]:
    """The verdicts of the gates on evidence (see :class:`~noria.registry.gates.
    PromotionGates`), and the comparison with ``holder`` as evidence (every promotion that has
    a holder and a holdout records it, whatever the gates)."""
    from noria.registry.evidence import (
        compare,
        holdout_evaluation,
        record_tests,
        run_version_tests,
        subject_of,
    )

    results: list[GateResult] = []
    settings = dict(gates.evidence)
    if artifacts is None:
        if gates.needs_evidence():
            results.append(
                GateResult("evidence", False, "no artifact store to score the candidate with")
            )
        return results
    comparison = None
    if holder is not None and holder.version != candidate.version:
        try:
            a = subject_of(metadata, artifacts, f"{candidate.name}@{candidate.version}")
            b = subject_of(metadata, artifacts, f"{holder.name}@{holder.version}")
            comparison = compare(
                metadata,
                artifacts,
                a,
                b,
                replicates=int(settings.get("bootstrap", 200)),
                seed=int(settings.get("seed", 0)),
            )
        except Exception as exc:  # evidence that cannot be computed must not crash a promotion:
            # the gate that needs it (not_worse) fails with the reason, else it is only noted
            comparison = {"error": f"{exc}" if isinstance(exc, UserError) else repr(exc)}
    if comparison is not None:
        results.append(_comparison_gate(comparison, holder, gates))
    evaluation = None
    if gates.slice_floor is not None or gates.max_ece is not None or gates.max_fairness_gap:
        evaluation = holdout_evaluation(metadata, artifacts, candidate, settings)
        if evaluation is None:
            results.append(GateResult("evaluation", False, "the version has no holdout to judge"))
        else:
            results.extend(_evaluation_gates(evaluation, gates))
    tests = settings.get("tests") or []
    if gates.tests and tests:
        try:
            verdicts = run_version_tests(
                metadata, artifacts, candidate, tests, seed=int(settings.get("seed", 0))
            )
        except UserError as exc:
            results.append(GateResult("tests", False, str(exc)))
        else:
            record_tests(metadata, candidate, verdicts, when="promotion")
            for v in verdicts:
                results.append(GateResult(f"test {v.name}", v.passed, v.detail))
    return results


def _comparison_gate(comparison: Mapping[str, Any], holder: Any, gates: Any) -> Any:
    """The ``not_worse`` gate, or (without it) a passing record that carries the evidence."""
    name = f"not worse than {holder.name}/{holder.version}"
    if "error" in comparison:
        detail = f"no comparison on the same rows: {comparison['error']}"
        return GateResult(
            name if gates.not_worse else "comparison",
            not gates.not_worse,
            detail,
            evidence=dict(comparison),
        )
    metric = gates.metric or next(iter(comparison["metrics"]), "")
    row = comparison["metrics"].get(metric)
    if row is None or row["diff_low"] is None:
        detail = f"no interval of the {metric} difference"
        return GateResult(
            name if gates.not_worse else "comparison",
            not gates.not_worse,
            detail,
            evidence=dict(comparison),
        )
    gib = row["greater_is_better"]
    low, high = row["diff_low"], row["diff_high"]
    best_gain = high if gib else -low  # the most favourable end of the interval, as a gain
    margin = gates.not_worse_margin
    worse = best_gain < -margin
    detail = (
        f"{metric} {row['a']:.4g} vs {row['b']:.4g}: difference {row['diff']:+.4g}, 95 % "
        f"interval [{low:+.4g}, {high:+.4g}] on {comparison['rows']:,} rows of "
        f"{comparison['data']}"
    )
    if gates.not_worse:
        verdict = "significantly worse" if worse else "not significantly worse"
        if margin:
            verdict += f" (margin {margin:g})"
        return GateResult(name, not worse, f"{detail}: {verdict}", evidence=dict(comparison))
    return GateResult("comparison", True, detail, evidence=dict(comparison))


def _evaluation_gates(evaluation: Mapping[str, Any], gates: Any) -> list[Any]:
    out = []
    regression = evaluation["task"] == "regression"
    if gates.slice_floor is not None:
        floor = gates.slice_floor
        judged = [
            s
            for s in evaluation["slices"]
            if s["rows"] >= gates.slice_min_rows and s["metric"] is not None
        ]
        bad = [s for s in judged if (s["metric"] > floor if regression else s["metric"] < floor)]
        metric = "MAE" if regression else "accuracy"
        bound = "at most" if regression else "at least"
        if bad:
            worst = (
                max(bad, key=lambda s: s["metric"])
                if regression
                else min(bad, key=lambda s: s["metric"])
            )
            detail = (
                f"{len(bad)} of {len(judged)} slices break the floor ({metric} {bound} "
                f"{floor:g}); worst: {worst['column']} = {worst['slice']} ({worst['rows']} rows,"
                f" {metric} {worst['metric']:.4g})"
            )
        else:
            detail = f"every one of {len(judged)} slices has {metric} {bound} {floor:g}"
        out.append(GateResult("slice_floor", not bad, detail))
    if gates.max_ece is not None:
        ece = evaluation["metrics"].get("ece")
        if ece is None or ece.get("value") is None:
            out.append(GateResult("max_ece", False, "no calibration error (no probabilities)"))
        else:
            value = ece["value"]
            ok = value <= gates.max_ece
            sign = "<=" if ok else ">"
            out.append(GateResult("max_ece", ok, f"ECE {value:.4g} {sign} {gates.max_ece:g}"))
    if gates.max_fairness_gap is not None:
        bound = gates.max_fairness_gap
        keys = (
            ("mae_difference",)
            if regression
            else ("demographic_parity_difference", "equalized_odds_difference")
        )
        for column in evaluation.get("fairness", []):
            gaps = {k: column.get(k) for k in keys if column.get(k) is not None}
            bad = {k: v for k, v in gaps.items() if v > bound}
            shown = ", ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in gaps.items())
            out.append(
                GateResult(
                    f"fairness {column['column']}",
                    not bad,
                    f"{shown or 'no gap defined'} ({'>' if bad else '<='} {bound:g})",
                )
            )
        judged = {f["column"] for f in evaluation.get("fairness", [])}
        for name in gates.evidence.get("sensitive", []):
            if name not in judged:
                out.append(
                    GateResult(
                        f"fairness {name}",
                        False,
                        f"no fairness figures for '{name}' (not in the holdout, or a single group)",
                    )
                )
    return out
