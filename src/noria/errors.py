"""The one error hierarchy of noria.

Every error a user can act on is a :class:`NoriaError` whose message names the object (file, key,
column, row, step) and the fix. Each class carries the CLI exit status and the HTTP status it maps
to, so the command line and the server answer the same failure the same way:

=====================  ====  ====  ==========================================================
class                  exit  HTTP  for
=====================  ====  ====  ==========================================================
``NoriaError``         1     500   internal failures (a bug, a broken store)
``UserError``          2     400   anything the user can fix
``ConfigError``        2     400   ``noria.yaml`` and other settings
``DataError``          2     422   data files, columns, rows, targets
``PipelineError``      2     400   the DAG: cycles, missing inputs, unknown params
``StepError``          2     500   user code that raised inside a step (wrapped, cause chained)
``NotFoundError``      2     404   a run, artifact, model, version or alias that does not exist
``PromotionRefused``   2     409   a promotion gate failed; ``reasons`` lists each failure
``Unauthorized``       2     401   a missing or wrong bearer token (the server)
``PayloadTooLarge``    2     413   a request body over the server's size limit
``StoreError``         1     500   the metadata or artifact store is unusable or corrupt
``StoreUnavailable``   2     503   the store cannot be used now, for a reason the user can fix:
                                   locked by another process, a full disk, a damaged file
=====================  ====  ====  ==========================================================

This module imports nothing heavy: it is imported by everything.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "ConfigError",
    "DataError",
    "NoriaError",
    "NotFoundError",
    "PayloadTooLarge",
    "PipelineError",
    "PromotionRefused",
    "StepError",
    "StoreError",
    "StoreUnavailable",
    "Unauthorized",
    "UserError",
    "did_you_mean",
]


class NoriaError(Exception):
    """Base of every noria error; on its own, an internal error (exit 1, HTTP 500)."""

    exit_code: int = 1
    http_status: int = 500


class UserError(NoriaError):
    """Something the user can fix: bad input, bad settings, a wrong name (exit 2)."""

    exit_code = 2
    http_status = 400


class ConfigError(UserError):
    """``noria.yaml`` or another setting is invalid; the message names the key and the fix."""


class DataError(UserError, ValueError):
    """A data file, column, row or target is unusable; the message names which and why."""

    http_status = 422


class PipelineError(UserError):
    """The pipeline's DAG is invalid: a cycle, a missing input, an unknown param."""


class StepError(UserError):
    """User code raised inside a step. The message names the step; ``__cause__`` is the error."""

    http_status = 500

    def __init__(self, step: str, cause: BaseException) -> None:
        self.step = step
        self.cause = cause
        detail = f"{type(cause).__name__}: {cause}".strip()
        super().__init__(f"step '{step}' failed: {detail}")


class NotFoundError(UserError, KeyError):
    """A run, artifact, model version or alias that does not exist."""

    http_status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PromotionRefused(UserError):
    """A promotion gate failed; ``reasons`` lists each failure."""

    http_status = 409

    def __init__(self, name: str, version: int, alias: str, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(
            f"not promoting {name} version {version} to '{alias}': " + "; ".join(self.reasons)
        )


class Unauthorized(UserError):
    """A missing or wrong bearer token."""

    http_status = 401


class PayloadTooLarge(UserError):
    """A request body over the size limit."""

    http_status = 413


class StoreError(NoriaError):
    """The metadata or artifact store is unusable (corrupt file, failed hash check)."""


class StoreUnavailable(StoreError):
    """The store cannot be used now, for a reason the user can fix (exit 2, HTTP 503).

    Locked by another process past the wait, a full disk, a damaged or missing database file:
    the message names the file and what to do.
    """

    exit_code = 2
    http_status = 503


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A `` (did you mean 'x'?)`` suffix naming the closest of ``choices``, or ``''``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
