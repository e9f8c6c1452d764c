"""The pipeline engine: steps, the DAG of their signatures, fingerprints, materializers, runner.

``pipeline`` never imports ``serve``, ``monitor`` or ``ui``; it stores through :mod:`noria.store`.
"""

from noria.pipeline.dag import Pipeline, Plan
from noria.pipeline.runner import RunResult, StepContext, StepResult, current_context, execute
from noria.pipeline.step import Step, step

__all__ = [
    "Pipeline",
    "Plan",
    "RunResult",
    "Step",
    "StepContext",
    "StepResult",
    "current_context",
    "execute",
    "step",
]
