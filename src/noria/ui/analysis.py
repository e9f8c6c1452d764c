"""What the Compare page works out: parameter importance of a search, overlaid metric histories.

**Parameter importance** is the share of the score's variance that each parameter's main effect
explains: the trials are grouped by the parameter (its value for a categorical one, one of up to
``BINS`` quantile bins for a number), and the variance of the group means, weighted by group size,
is divided by the variance of the score (the correlation ratio η², i.e. fANOVA's first-order term
on a piecewise-constant fit). It needs no model and no library, is exact for what it measures, and
is computed from the trials' params and scores in milliseconds for 1,000 trials. With few trials
per group it overstates (a group of one explains its own noise), so groups are merged until each
has at least ``MIN_GROUP`` trials, and parameters that take one value are left out. The shares are
shown as they are (they need not add up to 1: parameters interact, and correlated ones share).

**Overlaid histories**: one metric's history for several runs on shared axes, each read in one
pass and bucketed (:func:`noria.ui.histories.load_history`); at most ``MAX_OVERLAID`` runs.

Not here: the page's other parts (:mod:`noria.ui.pages`), drawing (:mod:`noria.ui.svg`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from noria.ui import histories

if TYPE_CHECKING:
    from noria.store.metadata import MetadataStore

__all__ = ["BINS", "MAX_OVERLAID", "MIN_GROUP", "importance", "overlaid_histories"]

BINS = 8
MIN_GROUP = 3
MAX_OVERLAID = 12


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _groups(values: list[Any], scores: list[float]) -> list[list[float]]:
    """Scores grouped by the value (categorical) or by quantile bins of it (numbers)."""
    numbers = [_number(v) for v in values]
    if all(n is not None for n in numbers) and len(set(numbers)) > BINS:
        order = sorted(range(len(values)), key=lambda i: numbers[i])  # type: ignore[arg-type,return-value]
        size = max(MIN_GROUP, math.ceil(len(order) / BINS))
        groups: list[list[float]] = []
        i = 0
        while i < len(order):
            j = min(i + size, len(order))
            # never split equal values across bins
            while j < len(order) and numbers[order[j]] == numbers[order[j - 1]]:
                j += 1
            groups.append([scores[k] for k in order[i:j]])
            i = j
    else:
        by: dict[str, list[float]] = {}
        for v, s in zip(values, scores, strict=True):
            by.setdefault(repr(v), []).append(s)
        groups = sorted(by.values(), key=len)
    # merge small groups into their neighbour so that no group explains only its own noise
    merged: list[list[float]] = []
    for g in groups:
        if merged and len(merged[-1]) < MIN_GROUP:
            merged[-1] = merged[-1] + g
        else:
            merged.append(list(g))
    if len(merged) > 1 and len(merged[-1]) < MIN_GROUP:
        last = merged.pop()
        merged[-1] += last
    return merged


def importance(
    params: Mapping[str, Mapping[str, Any]], scores: Mapping[str, float]
) -> list[tuple[str, float]]:
    """``(param, share of the score's variance its main effect explains)``, largest first.

    Args:
        params: ``{trial id: {param: value}}``.
        scores: ``{trial id: score}`` (trials without a finite score are left out).
    """
    ids = [i for i, s in scores.items() if _number(s) is not None and i in params]
    if len(ids) < 2 * MIN_GROUP:
        return []
    y = [float(scores[i]) for i in ids]
    mean = sum(y) / len(y)
    total = sum((v - mean) ** 2 for v in y)
    if total <= 0:
        return []
    keys = sorted({k for i in ids for k in params[i]})
    out = []
    for key in keys:
        values = [_hashable(params[i].get(key)) for i in ids]
        if len({repr(v) for v in values}) < 2:
            continue
        groups = _groups(values, y)
        if len(groups) < 2:
            continue
        between = sum(len(g) * (sum(g) / len(g) - mean) ** 2 for g in groups)
        out.append((key, between / total))
    return sorted(out, key=lambda t: -t[1])


def _hashable(v: Any) -> Any:
    return repr(v) if isinstance(v, (dict, list)) else v


def overlaid_histories(
    store: MetadataStore, runs: Sequence[Any], key: str | None, buckets: int = 200
) -> tuple[list[str], str | None, list[tuple[str, list[tuple[float, float, float]]]]]:
    """The metric keys with a history in the first runs, the key drawn, and its series.

    Args:
        store: the metadata store.
        runs: run records (the first :data:`MAX_OVERLAID` are read).
        key: the metric to draw (default: the first key with a history in most runs).
        buckets: buckets per history.

    Returns:
        ``(keys with histories, chosen key, [(run name, (step, min, max) points)])``.
    """
    first = list(runs)[:MAX_OVERLAID]
    found: dict[str, dict[str, histories.MetricKey]] = {}
    for r in first:
        for m in histories.metric_keys(store, r.id):
            if m.many:
                found.setdefault(m.key, {})[r.id] = m
    if not found:
        return [], None, []
    keys = sorted(found, key=lambda k: (-len(found[k]), k))
    chosen = key if key in found else keys[0]
    series = []
    for r in first:
        m = found[chosen].get(r.id)
        if m is None:
            continue
        points = histories.load_history(
            store, r.id, chosen, buckets, ends=(m.first_id, m.last_id)
        ).points
        series.append((r.name, points))
    return sorted(keys), chosen, series
