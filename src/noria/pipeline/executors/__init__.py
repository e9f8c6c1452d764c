"""Executors: where a run's steps execute. A small protocol and a registry of them by name.

The runner schedules; an executor only runs the tasks it is given
(:class:`~noria.pipeline.tasks.Task`) and hands back futures of their
:class:`~noria.pipeline.tasks.Outcome`. Built in:

=============  ===========================================================================
``local``      threads of the runner's process (independent branches in parallel)
``processes``  a pool of spawned processes (steps and values must pickle)
``ray``        Ray tasks on a Ray cluster, each with its step's resources (``noria[ray]``)
=============  ===========================================================================

Your own: implement :class:`Executor` and register a factory, then name it in ``execute(...,
executor="mine")`` or ``Project.run(executor="mine")``; :mod:`noria.testing.executors` is the
conformance suite it should pass::

    from noria.pipeline.executors import register_executor

    register_executor("mine", lambda max_workers=None, **options: MyExecutor(**options))

An executor is created before a run starts (so a factory checks its settings there and fails
before any work) but must not start anything costly — a pool, a cluster connection — until its
first :meth:`Executor.submit`: a run whose steps are all cached never submits.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from noria.errors import ConfigError
from noria.pipeline.tasks import Outcome, Task

__all__ = [
    "Executor",
    "ExecutorFactory",
    "create_executor",
    "executor_names",
    "register_executor",
]


@runtime_checkable
class Executor(Protocol):
    """Runs tasks somewhere and hands back their outcomes.

    Attributes:
        name: the name it is registered under (for messages and records).
        in_process: ``True`` if tasks run in the runner's own process: input values are then
            passed in memory (never copied), outputs come back as values, and the runner may
            run a task itself in the calling thread when nothing else could run beside it.
            ``False``: tasks and outcomes cross a process boundary (they are pickled); inputs
            not in memory are loaded by the worker from the artifact store.
    """

    name: str
    in_process: bool

    def submit(self, task: Task) -> cf.Future[Outcome]:
        """Start ``task``; the future's result is its outcome.

        The future may instead raise when the task could not be run at all (a lost worker, an
        unpicklable value): the step then fails with that error. A step's own exceptions are
        never raised here: they are in the outcome.
        """
        ...

    def shutdown(self) -> None:
        """Stop, cancelling tasks not yet started and waiting for running ones; idempotent."""
        ...


#: A factory makes an executor from ``max_workers`` (``None``: the executor's default) and the
#: settings of its ``noria.yaml`` section (``ray:`` for ``ray``), as keyword arguments.
ExecutorFactory = Callable[..., Executor]

# name -> factory, or "module:attribute" of one (imported on first use).
_REGISTRY: dict[str, ExecutorFactory | str] = {
    "local": "noria.pipeline.executors.local:LocalExecutor",
    "processes": "noria.pipeline.executors.local:ProcessExecutor",
    "ray": "noria.pipeline.executors.ray_executor:RayExecutor",
}


def register_executor(name: str, factory: ExecutorFactory | str) -> None:
    """Make ``factory`` the executor called ``name`` (replacing any of that name).

    Args:
        name: what ``executor=`` names it by.
        factory: called as ``factory(max_workers=..., **settings)``; or a
            ``"module:attribute"`` string naming one, imported when first used.
    """
    if not name or not isinstance(name, str):
        raise ConfigError(f"an executor's name must be a non-empty string, got {name!r}")
    _REGISTRY[name] = factory


def executor_names() -> tuple[str, ...]:
    """The registered executors' names."""
    return tuple(_REGISTRY)


def _factory(name: str) -> ExecutorFactory:
    from noria.errors import did_you_mean

    if name not in _REGISTRY:
        names = executor_names()
        raise ConfigError(
            f"executor '{name}' is unknown{did_you_mean(name, names)}; use one of "
            f"{', '.join(names)} (or register your own with "
            "noria.pipeline.executors.register_executor)"
        )
    found = _REGISTRY[name]
    if isinstance(found, str):
        module, _, attribute = found.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        _REGISTRY[name] = found
    return found


def create_executor(
    name: str, *, max_workers: int | None = None, settings: Mapping[str, Any] | None = None
) -> Executor:
    """A new executor of the kind registered as ``name``.

    Args:
        name: ``local``, ``processes``, ``ray`` or one registered with
            :func:`register_executor`.
        max_workers: steps at once at most; the executor's default if ``None``.
        settings: its options (for ``ray``: ``address``, ``num_cpus``, ``max_retries``).

    Raises:
        ConfigError: the name is unknown, or its settings are wrong or point at something
            unreachable (checked here, before any work).
    """
    return _factory(name)(max_workers=max_workers, **dict(settings or {}))
