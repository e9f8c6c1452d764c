"""Steps: plain typed functions whose parameters name what they depend on.

``def features(clean_data: pd.DataFrame, scale: bool = True)`` depends on the step
``clean_data`` and takes the param ``scale``. Which names are steps and which are params is
decided when a :class:`~noria.pipeline.dag.Pipeline` is built from a set of steps, not here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from noria.errors import PipelineError

__all__ = ["Step", "as_step", "parse_resources", "step"]

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__noria_step__"


@dataclass(frozen=True, slots=True)
class Step:
    """A step: its function and how the engine treats it.

    Attributes:
        name: the step's name, which is also the name of its output for other steps.
        func: the function.
        arguments: the function's parameter names, in order.
        defaults: the parameters that have a default, with it.
        retries: how many times to try again after an exception.
        timeout: seconds after which a running attempt counts as failed (``None``: no limit).
        cache: whether a matching fingerprint may reuse an earlier output.
        resources: what one attempt needs where it runs: ``cpu``, ``gpu`` (counts),
            ``memory`` (bytes) and any custom resource of a cluster; honoured by executors that
            place tasks (``ray``), ignored by the local ones. Not part of the fingerprint.
    """

    name: str
    func: Callable[..., Any]
    arguments: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    retries: int = 0
    timeout: float | None = None
    cache: bool = True
    resources: dict[str, float] = field(default_factory=dict)


_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*$")


def _bytes(step_name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        match = _SIZE.match(str(value))
        if match is None or match.group(2).lower() not in _UNITS:
            raise PipelineError(
                f"step '{step_name}': resources memory {value!r} is not a size; write bytes or "
                "a number with a unit such as '512MB' or '4GiB'"
            )
        number, unit = float(match.group(1)), match.group(2).lower()
    return float(int(number * _UNITS[unit]))


def parse_resources(step_name: str, resources: Mapping[str, object] | None) -> dict[str, float]:
    """Check and normalize a step's ``resources``: counts as floats, ``memory`` in bytes.

    Raises:
        PipelineError: a value is not a non-negative number (or, for ``memory``, a size).
    """
    out: dict[str, float] = {}
    for key, value in (resources or {}).items():
        if not isinstance(key, str) or not key:
            raise PipelineError(f"step '{step_name}': resource names are strings, got {key!r}")
        if key == "memory":
            amount = _bytes(step_name, value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            amount = float(value)
        else:
            raise PipelineError(
                f"step '{step_name}': resources {key} must be a number, got {value!r}"
            )
        if amount < 0:
            raise PipelineError(f"step '{step_name}': resources {key} must be >= 0, got {value}")
        out[key] = amount
    return out


def _make(
    func: Callable[..., Any],
    *,
    name: str | None,
    retries: int,
    timeout: float | None,
    cache: bool,
    resources: Mapping[str, object] | None = None,
) -> Step:
    if not callable(func):
        raise PipelineError(f"{func!r} is not a function: a step must be a function")
    step_name = name or func.__name__
    if not step_name.isidentifier():
        raise PipelineError(f"step name '{step_name}' is not a Python identifier")
    if retries < 0:
        raise PipelineError(f"step '{step_name}': retries must be >= 0, got {retries}")
    if timeout is not None and timeout <= 0:
        raise PipelineError(f"step '{step_name}': timeout must be > 0 seconds, got {timeout}")
    arguments: list[str] = []
    defaults: dict[str, Any] = {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise PipelineError(
                f"step '{step_name}': parameter '{p.name}' must be a plain named parameter "
                "(no *args, **kwargs or positional-only)"
            )
        arguments.append(p.name)
        if p.default is not p.empty:
            defaults[p.name] = p.default
    needs = parse_resources(step_name, resources)
    return Step(step_name, func, tuple(arguments), defaults, retries, timeout, cache, needs)


@overload
def step(func: F, /) -> F: ...


@overload
def step(
    *,
    name: str | None = None,
    retries: int = 0,
    timeout: float | None = None,
    cache: bool = True,
    resources: Mapping[str, float | str] | None = None,
) -> Callable[[F], F]: ...


def step(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    timeout: float | None = None,
    cache: bool = True,
    resources: Mapping[str, float | str] | None = None,
) -> F | Callable[[F], F]:
    """Mark a function as a pipeline step; the function itself is returned unchanged.

    Use bare (``@noria.step``) or with options (``@noria.step(retries=2, timeout=60)``).

    Args:
        func: the function (when used bare).
        name: the step's name; the function's name by default.
        retries: attempts after the first when the function raises.
        timeout: seconds an attempt may run before it counts as failed.
        cache: ``False`` runs the step every time (e.g. it reads a clock or a live service).
        resources: what an attempt needs on a cluster, e.g. ``{"cpu": 2, "gpu": 1,
            "memory": "4GB"}`` (the ``ray`` executor places the task accordingly).
    """

    def mark(f: F) -> F:
        made = _make(
            f, name=name, retries=retries, timeout=timeout, cache=cache, resources=resources
        )
        setattr(f, _ATTR, made)
        return f

    return mark(func) if func is not None else mark


def as_step(obj: Callable[..., Any] | Step) -> Step:
    """The :class:`Step` of a decorated function, a plain function, or a ``Step``."""
    if isinstance(obj, Step):
        return obj
    marked = getattr(obj, _ATTR, None)
    if isinstance(marked, Step):
        return marked
    return _make(obj, name=None, retries=0, timeout=None, cache=True)


def is_step(obj: object) -> bool:
    """Whether ``obj`` was decorated with :func:`step`."""
    return isinstance(getattr(obj, _ATTR, None), Step)
