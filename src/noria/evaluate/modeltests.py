"""Model tests (``tests:`` in ``noria.yaml``): behaviour a model must show, checked like code.

Four kinds, each a plain dict (``{"name", "kind", ...}``, as ``noria.spec`` gives them):

* ``expect`` — minimum functionality: the given rows (answers in the target column) must get
  their answer (a regressor: within ``tolerance``), at least ``min_share`` of them;
* ``invariance`` — setting ``column`` to each of ``values`` must not move a row's prediction by
  more than ``eps`` (a classifier: each class probability; without probabilities, the label
  must not change), on ``rows`` holdout rows;
* ``directional`` — adding ``change`` to the numeric ``column`` must not lower
  (``expect: not_lower``) or raise (``not_higher``) the score by more than ``eps``: a classifier's
  probability of the class ``score`` (two classes: the positive one by default), a regressor's
  prediction;
* ``floor`` — a holdout metric at least ``min`` / at most ``max``, on every row or on the rows
  ``where`` columns have the given values.

:func:`check_tests` finds what cannot be run before anything is trained (an unknown column, a
value the column never holds, an answer that is not a class, a metric of the other task), each
with the key path to name in the message; :func:`run_tests` runs the tests on a model.

Rows of ``expect`` may leave columns out: a missing column is a missing value, as in a
prediction request. Not here: reading ``noria.yaml`` (:mod:`noria.spec`), recording results
with a version (:mod:`noria.registry.evidence`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TestProblem", "TestResult", "check_tests", "run_tests"]

_CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
_REGRESSION = ("rmse", "mae", "r2")


@dataclass(frozen=True)
class TestProblem:
    """A test that cannot run: where (``("tests", "2", "invariance", "column")``) and why."""

    key: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class TestResult:
    """One test's verdict: its name and kind, whether it passed, and one line of why."""

    name: str
    kind: str
    passed: bool
    detail: str

    def line(self) -> str:
        """``PASS  name: detail`` or ``FAIL  name: detail``."""
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON values."""
        return {"name": self.name, "kind": self.kind, "passed": self.passed, "detail": self.detail}


# --------------------------------------------------------------------------- checks


def _is_numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _known(series: Any) -> dict[str, Any]:
    """The column's values by their text (YAML gives ``2007`` or ``"2007"`` alike)."""
    return {str(v): v for v in series.dropna().unique().tolist()}


def _number(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _value_problem(frame: Any, column: str, value: Any) -> str | None:
    """Why ``value`` cannot be in ``column`` (``None``: it can)."""
    if value is None:
        return None  # a missing value is always possible
    series = frame[column]
    if _is_numeric(series):
        if not _number(value):
            return f"{value!r} is not a number, but column '{column}' holds numbers"
        return None
    known = _known(series)
    if str(value) not in known:
        shown = ", ".join(sorted(known)[:10]) + (", …" if len(known) > 10 else "")
        return f"column '{column}' never holds {value!r} (its values: {shown})"
    return None


def _column_problem(frame: Any, column: Any, target: str) -> str | None:
    from noria.errors import did_you_mean

    columns = [str(c) for c in frame.columns if c != target]
    if column == target:
        return f"'{column}' is the target, not an input column"
    if column not in columns:
        return (
            f"'{column}' is not a column of the data{did_you_mean(str(column), columns)} "
            f"(columns: {', '.join(columns)})"
        )
    return None


def check_tests(
    tests: Sequence[Mapping[str, Any]], frame: Any, *, target: str, task: str
) -> list[TestProblem]:
    """What in ``tests`` cannot be run against data like ``frame`` (with its target column).

    Args:
        tests: the tests (plain dicts with ``name`` and ``kind``).
        frame: the training data, or any rows with the same columns and values.
        target: the target column.
        task: ``classification`` or ``regression``.

    Returns:
        Every problem, with the key path of the ``tests:`` entry it concerns.
    """
    problems: list[TestProblem] = []

    def add(i: int, *key: Any, message: str) -> None:
        problems.append(TestProblem(("tests", str(i), *map(str, key)), message))

    answers = _known(frame[target]) if target in frame.columns else {}
    for i, test in enumerate(tests):
        kind = test["kind"]
        if kind == "expect":
            for j, row in enumerate(test["rows"]):
                if target not in row:
                    add(i, kind, "rows", j, message=f"the row has no answer: add '{target}: …'")
                for column, value in row.items():
                    if column == target:
                        if task == "regression" and not _number(value):
                            add(
                                i,
                                kind,
                                "rows",
                                j,
                                column,
                                message=f"the answer {value!r} is not a number",
                            )
                        elif task == "classification" and str(value) not in answers:
                            add(
                                i,
                                kind,
                                "rows",
                                j,
                                column,
                                message=f"{value!r} is not a class of '{target}' (classes: "
                                f"{', '.join(sorted(answers))})",
                            )
                        continue
                    problem = _column_problem(frame, column, target) or _value_problem(
                        frame, column, value
                    )
                    if problem:
                        add(i, kind, "rows", j, column, message=problem)
        elif kind in ("invariance", "directional"):
            column = test["column"]
            problem = _column_problem(frame, column, target)
            if problem:
                add(i, kind, "column", message=problem)
                continue
            if kind == "invariance":
                for j, value in enumerate(test["values"]):
                    problem = _value_problem(frame, column, value)
                    if problem:
                        add(i, kind, "values", j, message=problem)
                continue
            if not _is_numeric(frame[column]):
                add(
                    i,
                    kind,
                    "column",
                    message=f"'{column}' is not numeric: a directional test adds `change` to "
                    "a number (use invariance for categories)",
                )
            score = test.get("score")
            if task == "regression" and score is not None:
                add(
                    i,
                    kind,
                    "score",
                    message="a regressor's score is its prediction: remove `score:`",
                )
            elif task == "classification":
                if score is None and len(answers) > 2:
                    add(
                        i,
                        kind,
                        "score",
                        message="which class's probability? add `score: CLASS` (classes: "
                        f"{', '.join(sorted(answers))})",
                    )
                elif score is not None and str(score) not in answers:
                    add(
                        i,
                        kind,
                        "score",
                        message=f"{score!r} is not a class of '{target}' (classes: "
                        f"{', '.join(sorted(answers))})",
                    )
        elif kind == "floor":
            valid = _CLASSIFICATION if task == "classification" else _REGRESSION
            if test["metric"] not in valid:
                add(
                    i,
                    kind,
                    "metric",
                    message=f"'{test['metric']}' is not a {task} metric; use one of "
                    f"{', '.join(valid)}",
                )
            for column, value in test.get("where", {}).items():
                problem = _column_problem(frame, column, target) or _value_problem(
                    frame, column, value
                )
                if problem:
                    add(i, kind, "where", column, message=problem)
    return problems


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class _Model:
    """A model seen through its input columns, with the task's scores."""

    model: Any
    columns: list[str]
    task: str
    classes: list[Any]
    threshold: float | None

    def proba(self, x: Any) -> np.ndarray | None:
        if self.task != "classification" or not hasattr(self.model, "predict_proba"):
            return None
        return np.asarray(self.model.predict_proba(x[self.columns]), dtype=float)

    def labels(self, x: Any, proba: np.ndarray | None = None) -> np.ndarray:
        if proba is None:
            proba = self.proba(x) if self.threshold is not None else None
        if proba is not None and self.threshold is not None and proba.shape[1] == 2:
            return np.asarray(self.classes, dtype=object)[(proba[:, 1] >= self.threshold) * 1]
        return np.asarray(self.model.predict(x[self.columns]))

    def values(self, x: Any) -> np.ndarray:
        return np.asarray(self.model.predict(x[self.columns]), dtype=float)

    def class_index(self, score: Any) -> int:
        names = [str(c) for c in self.classes]
        if score is None:
            return len(names) - 1  # the positive class of two
        return names.index(str(score))


def _rows(frame: Any, count: int, seed: int, target: str) -> Any:
    rows = frame.drop(columns=[target], errors="ignore")
    if len(rows) > count:
        rows = rows.sample(n=count, random_state=seed)
    return rows.reset_index(drop=True)


def _as_column(frame: Any, column: str, value: Any) -> Any:
    """``value`` typed like ``frame[column]`` (YAML's ``2007`` for an integer column)."""
    known = _known(frame[column]) if not _is_numeric(frame[column]) else {}
    if str(value) in known:
        return known[str(value)]
    return value


def _expect(m: _Model, test: Mapping[str, Any], frame: Any, target: str) -> tuple[bool, str]:
    import pandas as pd

    rows = pd.DataFrame([dict(r) for r in test["rows"]])
    answers = rows.pop(target) if target in rows.columns else pd.Series([None] * len(rows))
    x = pd.DataFrame(index=rows.index)
    for column in m.columns:
        if column in rows.columns:
            values = [_as_column(frame, column, v) if column in frame else v for v in rows[column]]
            x[column] = pd.Series(values, index=rows.index)
            if column in frame.columns:
                with contextlib.suppress(TypeError, ValueError):
                    x[column] = x[column].astype(frame[column].dtype)
        else:
            x[column] = frame[column].iloc[:0].reindex(rows.index) if column in frame else None
    wrong = []
    if m.task == "classification":
        got = m.labels(x)
        right = [str(g) == str(a) for g, a in zip(got, answers, strict=True)]
        for j, ok in enumerate(right):
            if not ok:
                wrong.append(f"row {j + 1}: {got[j]!r}, expected {answers.iloc[j]!r}")
    else:
        got = m.values(x)
        tol = float(test.get("tolerance", 0.0))
        right = [abs(g - float(a)) <= tol for g, a in zip(got, answers, strict=True)]
        for j, ok in enumerate(right):
            if not ok:
                wrong.append(f"row {j + 1}: {got[j]:.4g}, expected {answers.iloc[j]} ± {tol:g}")
    share = sum(right) / len(right)
    need = float(test.get("min_share", 1.0))
    detail = f"{sum(right)} of {len(right)} rows get their answer"
    if need < 1:
        detail += f" ({share:.0%}, at least {need:.0%} required)"
    if wrong:
        detail += "; " + "; ".join(wrong[:3]) + ("; …" if len(wrong) > 3 else "")
    return share >= need, detail


def _scores(m: _Model, x: Any, score: Any = None, *, all_classes: bool = False) -> np.ndarray:
    """``(rows, k)`` scores: class probabilities (or label codes), or predicted values."""
    if m.task == "regression":
        return m.values(x)[:, None]
    proba = m.proba(x)
    if proba is None:
        names = {str(c): i for i, c in enumerate(m.classes)}
        return np.array([[names.get(str(v), -1)] for v in m.labels(x)], dtype=float)
    if all_classes:
        return proba
    return proba[:, [m.class_index(score)]]


def _invariance(m: _Model, test: Mapping[str, Any], frame: Any, target: str, seed: int) -> Any:
    column, eps = test["column"], float(test.get("eps", 0.0))
    rows = _rows(frame, int(test.get("rows", 200)), seed, target)
    outcomes = []
    for value in test["values"]:
        x = rows.copy()
        x[column] = _filled(frame, column, value, len(x))
        outcomes.append(_scores(m, x, all_classes=True))
    stacked = np.stack(outcomes)  # (values, rows, k)
    change = (stacked.max(axis=0) - stacked.min(axis=0)).max(axis=1)
    worst = int(np.argmax(change))
    moved = int((change > eps + 1e-12).sum())
    what = "prediction" if m.task == "regression" else "probability"
    if m.task == "classification" and m.proba(rows.iloc[:1]) is None:
        what = "label"
    detail = (
        f"setting '{column}' to {', '.join(map(str, test['values']))} moves the {what} by at "
        f"most {change[worst]:.4g} (eps {eps:g}) on {len(rows)} holdout rows"
    )
    if moved:
        detail += f"; {moved} row(s) beyond eps"
    return moved == 0, detail


def _filled(frame: Any, column: str, value: Any, n: int) -> Any:
    """A column of ``n`` copies of ``value``, typed like ``frame[column]``."""
    import pandas as pd

    series = pd.Series([_as_column(frame, column, value)] * n)
    try:
        return series.astype(frame[column].dtype).to_numpy()
    except (TypeError, ValueError):
        return series.to_numpy()


def _directional(m: _Model, test: Mapping[str, Any], frame: Any, target: str, seed: int) -> Any:
    import pandas as pd

    column, change = test["column"], float(test["change"])
    eps, expect = float(test.get("eps", 0.0)), test.get("expect", "not_lower")
    rows = _rows(frame, int(test.get("rows", 200)), seed, target)
    rows = rows[rows[column].notna()].reset_index(drop=True)
    if rows.empty:
        return False, f"no holdout row has a value in '{column}'"
    moved = rows.copy()
    moved[column] = pd.to_numeric(moved[column]).astype(float) + change
    before = _scores(m, rows, test.get("score"))[:, 0]
    after = _scores(m, moved, test.get("score"))[:, 0]
    delta = after - before
    bad = delta < -eps - 1e-12 if expect == "not_lower" else delta > eps + 1e-12
    score = "the prediction"
    if m.task == "classification":
        index = m.class_index(test.get("score"))
        score = f"P({m.classes[index]})"
    verb = "lowers" if expect == "not_lower" else "raises"
    extreme = float(delta.min() if expect == "not_lower" else delta.max())
    detail = (
        f"adding {change:g} to '{column}' {verb} {score} in {int(bad.sum())} of {len(rows)} "
        f"holdout rows (largest change {extreme:+.4g}, eps {eps:g})"
    )
    return not bool(bad.any()), detail


def _floor(m: _Model, test: Mapping[str, Any], frame: Any, target: str) -> Any:
    from noria.evaluate.metrics import compute_metrics

    rows = frame
    where = test.get("where") or {}
    for column, value in where.items():
        rows = rows[rows[column].astype(str) == str(value)]
    metric = test["metric"]
    scope = " and ".join(f"{c} = {v}" for c, v in where.items()) or "all"
    if rows.empty:
        return False, f"no holdout row where {scope}"
    x = rows.drop(columns=[target])
    truth = rows[target].to_numpy()
    if m.task == "classification":
        proba = m.proba(x)
        values = compute_metrics(m.task, truth, m.labels(x, proba), proba, m.classes)
    else:
        values = compute_metrics(m.task, truth, m.values(x))
    value = values.get(metric)
    if value is None or not math.isfinite(value):
        return False, f"{metric} is undefined on the {len(rows)} holdout rows ({scope})"
    low, high = test.get("min"), test.get("max")
    ok = (low is None or value >= low) and (high is None or value <= high)
    bounds = " and ".join(
        b
        for b in (
            f">= {low:g}" if low is not None else "",
            f"<= {high:g}" if high is not None else "",
        )
        if b
    )
    return ok, f"{metric} {value:.4g} on {len(rows)} holdout rows ({scope}); required {bounds}"


def run_tests(
    tests: Sequence[Mapping[str, Any]],
    model: Any,
    frame: Any,
    *,
    target: str,
    task: str,
    columns: Sequence[str],
    classes: Sequence[Any] = (),
    threshold: float | None = None,
    seed: int = 0,
) -> list[TestResult]:
    """Run every test on ``model``; one verdict each (a test that raises fails, saying why).

    Args:
        tests: the tests (plain dicts with ``name`` and ``kind``).
        model: a fitted model (``predict``; ``predict_proba`` for probabilities).
        frame: the holdout rows with the target column (invariance, directional and floor
            tests run on them; expect rows take their column types).
        target: the target column.
        task: ``classification`` or ``regression``.
        columns: the model's input columns.
        classes: the classes in the order of ``predict_proba``'s columns.
        threshold: a binary classifier's decision threshold (``None``: the most probable).
        seed: the seed of the holdout rows sampled.
    """
    m = _Model(model, list(columns), task, list(classes), threshold)
    results = []
    for test in tests:
        kind = test["kind"]
        try:
            if kind == "expect":
                ok, detail = _expect(m, test, frame, target)
            elif kind == "invariance":
                ok, detail = _invariance(m, test, frame, target, seed)
            elif kind == "directional":
                ok, detail = _directional(m, test, frame, target, seed)
            else:
                ok, detail = _floor(m, test, frame, target)
        except Exception as exc:  # a test that cannot run is a failed test, with the reason
            ok, detail = False, f"could not run: {type(exc).__name__}: {exc}"
        results.append(TestResult(str(test["name"]), kind, bool(ok), detail))
    return results
