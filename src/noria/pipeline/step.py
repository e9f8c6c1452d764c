"""Steps: plain typed functions whose parameters name what they depend on.

``def features(clean_data: pd.DataFrame, scale: bool = True)`` depends on the step
``clean_data`` and takes the param ``scale``. Which names are steps and which are params is
decided when a :class:`~noria.pipeline.dag.Pipeline` is built from a set of steps, not here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from noria.errors import PipelineError

__all__ = ["Step", "as_step", "step"]

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
    """

    name: str
    func: Callable[..., Any]
    arguments: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    retries: int = 0
    timeout: float | None = None
    cache: bool = True


def _make(
    func: Callable[..., Any],
    *,
    name: str | None,
    retries: int,
    timeout: float | None,
    cache: bool,
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
    return Step(step_name, func, tuple(arguments), defaults, retries, timeout, cache)


@overload
def step(func: F, /) -> F: ...


@overload
def step(
    *, name: str | None = None, retries: int = 0, timeout: float | None = None, cache: bool = True
) -> Callable[[F], F]: ...


def step(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    timeout: float | None = None,
    cache: bool = True,
) -> F | Callable[[F], F]:
    """Mark a function as a pipeline step; the function itself is returned unchanged.

    Use bare (``@noria.step``) or with options (``@noria.step(retries=2, timeout=60)``).

    Args:
        func: the function (when used bare).
        name: the step's name; the function's name by default.
        retries: attempts after the first when the function raises.
        timeout: seconds an attempt may run before it counts as failed.
        cache: ``False`` runs the step every time (e.g. it reads a clock or a live service).
    """

    def mark(f: F) -> F:
        setattr(f, _ATTR, _make(f, name=name, retries=retries, timeout=timeout, cache=cache))
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
