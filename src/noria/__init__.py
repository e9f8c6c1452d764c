"""noria: the whole life of a machine-learning model, local-first.

The public API is small::

    import noria

    @noria.step
    def clean(raw: pd.DataFrame) -> pd.DataFrame: ...

    result = noria.Project(".").run()                 # the project's pipeline from noria.yaml
    result = noria.Project(".").run(noria.Pipeline([...]))

    with noria.start_run(name="notebook") as run:      # tracking outside pipelines
        noria.log_metric("loss", 0.1, step=1)

Names are imported on first use, so ``import noria`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "NoriaError",
    "Pipeline",
    "Project",
    "RunResult",
    "__version__",
    "current_context",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "start_run",
    "step",
]

_LAZY = {
    "NoriaError": "noria.errors",
    "Pipeline": "noria.pipeline.dag",
    "Project": "noria.project",
    "RunResult": "noria.pipeline.runner",
    "current_context": "noria.pipeline.runner",
    "step": "noria.pipeline.step",
    "log_metric": "noria.tracking",
    "log_metrics": "noria.tracking",
    "log_param": "noria.tracking",
    "log_params": "noria.tracking",
    "set_tag": "noria.tracking",
}

if TYPE_CHECKING:
    from noria.errors import NoriaError
    from noria.pipeline.dag import Pipeline
    from noria.pipeline.runner import RunResult, current_context
    from noria.pipeline.step import step
    from noria.project import Project
    from noria.tracking import ActiveRun, log_metric, log_metrics, log_param, log_params, set_tag


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noria' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def start_run(name: str | None = None, *, project: Any = None) -> ActiveRun:
    """Open a tracking run, as ``mlflow.start_run`` does; use it as a context manager.

    Args:
        name: the run's name (a time stamp by default).
        project: a :class:`Project` or a folder; the project around the current folder
            by default, or the current folder itself when there is none.
    """
    from noria.project import Project

    if not isinstance(project, Project):
        project = _tracking_project(project)
    return project.start_run(name)


_PROJECTS: dict[str, Any] = {}


def _tracking_project(where: Any) -> Any:
    """The project for ``start_run(project=where)``, opened once per folder and process.

    Opening a project reads noria.yaml and connects to its store; a script that starts
    thousands of runs must not pay that each time (MLflow keeps its tracking store, too).
    """
    import os

    from noria.errors import ConfigError
    from noria.project import Project

    key = os.path.abspath(os.fspath(where) if where is not None else ".")
    project = _PROJECTS.get(key)
    if project is None:
        if where is not None:
            project = Project(key)
        else:
            try:
                project = Project.find(key)
            except ConfigError:
                project = Project(key)
        _PROJECTS[key] = project
    return project
