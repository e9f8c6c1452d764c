"""Pipelines: the DAG that a set of steps' signatures forms, checked before anything runs.

A parameter whose name is another step's name is an edge; any other parameter is a param, given
to :meth:`Pipeline.validate` (or taking its default). :meth:`Pipeline.validate` reports every
problem at once — a cycle, an input that is neither a step nor a param, a param no step takes —
in one :class:`~noria.errors.PipelineError`, with near-miss suggestions.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from noria.errors import ConfigError, PipelineError, did_you_mean
from noria.pipeline.step import Step, as_step, is_step

__all__ = ["Pipeline", "Plan", "load_module"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run will execute: steps in a valid order, and the value of every param they use."""

    order: tuple[str, ...]
    inputs: dict[str, tuple[str, ...]]  # step -> the steps it consumes
    params: dict[str, dict[str, Any]]  # step -> {param: value}


class Pipeline:
    """A named, immutable set of steps; the DAG is their signatures.

    Args:
        steps: functions (decorated with ``@noria.step`` or plain) or :class:`Step` objects.
        name: the pipeline's name, recorded with every run.

    Raises:
        PipelineError: two steps share a name.
    """

    def __init__(self, steps: Iterable[Callable[..., Any] | Step], *, name: str = "pipeline"):
        self.name = name
        table: dict[str, Step] = {}
        for obj in steps:
            s = as_step(obj)
            if s.name in table:
                raise PipelineError(f"pipeline '{name}': two steps are named '{s.name}'")
            table[s.name] = s
        self.steps: Mapping[str, Step] = table

    @classmethod
    def from_module(cls, module: ModuleType, *, name: str | None = None) -> Pipeline:
        """Every public function defined in ``module`` (decorated or not) as a step."""
        return cls(_module_steps(module), name=name or module.__name__)

    def with_steps(self, steps: Iterable[Callable[..., Any] | Step]) -> Pipeline:
        """A new pipeline where ``steps`` replace same-named steps or are added."""
        table = dict(self.steps)
        for obj in steps:
            s = as_step(obj)
            table[s.name] = s
        return Pipeline(table.values(), name=self.name)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, steps={list(self.steps)})"

    def __contains__(self, name: object) -> bool:
        return name in self.steps

    def validate(
        self, params: Mapping[str, Any] | None = None, targets: Iterable[str] | None = None
    ) -> Plan:
        """Check the DAG for ``targets`` (all steps by default) and plan its execution.

        Args:
            params: values for parameters that are not steps; they override defaults.
            targets: the steps wanted; only they and what they need are planned.

        Raises:
            PipelineError: every problem found, one per line after the first.
        """
        params = dict(params or {})
        problems: list[str] = []
        wanted = list(targets) if targets is not None else list(self.steps)
        for t in wanted:
            if t not in self.steps:
                problems.append(f"unknown target step '{t}'{did_you_mean(t, self.steps)}")
        needed: list[str] = []
        seen: set[str] = set()
        stack = [t for t in wanted if t in self.steps]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            needed.append(n)
            stack.extend(a for a in self.steps[n].arguments if a in self.steps and a != n)

        taken: set[str] = set()
        inputs: dict[str, tuple[str, ...]] = {}
        step_params: dict[str, dict[str, Any]] = {}
        candidates = list(self.steps) + list(params)
        for n in needed:
            s = self.steps[n]
            deps, values = [], {}
            for a in s.arguments:
                if a == n:
                    problems.append(f"step '{n}' takes its own output '{a}' (a cycle)")
                elif a in self.steps:
                    deps.append(a)
                    if a in params:
                        problems.append(
                            f"param '{a}' has the name of a step; rename the param or the step"
                        )
                elif a in params:
                    values[a] = params[a]
                    taken.add(a)
                elif a in s.defaults:
                    values[a] = s.defaults[a]
                else:
                    problems.append(
                        f"step '{n}' needs '{a}', which is neither a step nor a given param"
                        f"{did_you_mean(a, candidates)}: add a step named '{a}', pass "
                        f"params={{'{a}': ...}} or give it a default"
                    )
            inputs[n] = tuple(deps)
            step_params[n] = values
        all_args = {a for s in self.steps.values() for a in s.arguments}
        for p in params:
            if p not in all_args:
                problems.append(
                    f"param '{p}' is taken by no step{did_you_mean(p, sorted(all_args))}"
                )
        order, cycle = _toposort(needed, inputs)
        if cycle:
            problems.append("cycle: " + " -> ".join(cycle))
        if problems:
            head = f"pipeline '{self.name}' is invalid: " + problems[0]
            raise PipelineError("\n".join([head, *(f"  - {p}" for p in problems[1:])]))
        return Plan(order=tuple(order), inputs=inputs, params=step_params)


def _toposort(
    nodes: list[str], inputs: Mapping[str, tuple[str, ...]]
) -> tuple[list[str], list[str]]:
    """A stable topological order, or ``([], cycle)`` naming one cycle."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(n: str) -> list[str]:
        state[n] = 1
        path.append(n)
        for d in inputs.get(n, ()):
            if state.get(d) == 1:
                return [*path[path.index(d) :], d]
            if state.get(d) is None:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[n] = 2
        order.append(n)
        return []

    for n in sorted(nodes, key=nodes.index):
        if state.get(n) is None:
            cycle = visit(n)
            if cycle:
                return [], cycle
    return order, []


def _module_steps(module: ModuleType) -> list[Step]:
    out = []
    for attr, obj in vars(module).items():
        if attr.startswith("_") or not inspect.isfunction(obj):
            continue
        if obj.__module__ == module.__name__ or is_step(obj):
            out.append(as_step(obj))
    return out


def load_module(
    path: str | Path, *, base: Path | None = None, key: str = "steps.module"
) -> ModuleType:
    """Import a Python file of steps by path (relative to ``base``).

    Raises:
        ConfigError: the file is missing, or importing it raised; the error names ``key`` and
            the file.
    """
    file = Path(path)
    if base is not None and not file.is_absolute():
        file = base / file
    if not file.is_file():
        raise ConfigError(f"{key}: no file {file}; create it or fix the path in noria.yaml")
    mod_name = f"noria_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, file)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{key}: {file} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[mod_name]
        raise ConfigError(f"{key}: importing {file} failed: {type(exc).__name__}: {exc}") from exc
    return module


def steps_of(module: ModuleType) -> list[Step]:
    """The steps a user module defines (its public functions)."""
    return _module_steps(module)
