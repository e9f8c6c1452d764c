"""The outcome of validating a batch: a :class:`CheckResult` per check and the
:class:`ValidationResult` of the batch, with what a pipeline does under each policy.

Policies (:meth:`ValidationResult.apply`): ``fail`` raises a :class:`~noria.errors.DataError`;
``drop`` keeps the rows that pass every error-level row check; ``quarantine`` does the same and
hands the failing rows (with a ``__failed_checks`` column) back to be stored as an artifact of
their own. A table-level error (a missing column, a type that cannot be read, the row count)
fails the batch under every policy. :meth:`ValidationResult.to_dict` is the stored validation
report (what the data report reads).

Not here: running the checks (:mod:`noria.data.validate`), the checks (:mod:`noria.data.checks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.data.checks import ROW_KINDS, Check
from noria.errors import ConfigError, DataError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from noria.data.profile_record import Profile

__all__ = ["EXAMPLES", "POLICIES", "CheckResult", "ValidationResult"]

#: What a pipeline does with a batch that fails.
POLICIES = ("fail", "drop", "quarantine")
#: Example rows kept per failing check.
EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one batch.

    Attributes:
        check: The check.
        failing: Failing rows (row checks), or 1/0 for a table check.
        rows: Rows of the batch.
        examples: Up to :data:`EXAMPLES` failing rows as dicts (``row`` is 1-based, ``file``
            is set for files), or the offending values for ``unique``.
        message: One line: what failed, where, and the fix.
        value: A measured figure where there is one (null fraction, PSI, row count).
    """

    check: Check
    failing: int
    rows: int
    examples: tuple[Mapping[str, Any], ...] = ()
    message: str = ""
    value: float | None = None

    @property
    def passed(self) -> bool:
        """Whether nothing failed."""
        return self.failing == 0

    @property
    def severity(self) -> str:
        """The check's severity."""
        return self.check.severity

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "check": self.check.label,
            "kind": self.check.kind,
            "column": self.check.column,
            "severity": self.check.severity,
            "origin": self.check.origin,
            "passed": self.passed,
            "failing": self.failing,
            "rows": self.rows,
            "value": self.value,
            "message": self.message,
            "examples": [{k: _jsonable(v) for k, v in e.items()} for e in self.examples],
        }


@dataclass(frozen=True)
class ValidationResult:
    """All check results of one batch, and for frames the split into good and bad rows.

    Attributes:
        results: One :class:`CheckResult` per check, in order.
        rows: Rows of the batch.
        source: What was checked (a file name, or ``the data frame``).
        valid_rows: The rows that pass every error-level row check (frames only).
        bad_rows: The other rows with a ``__failed_checks`` column (frames only).
        profile: The batch's profile when a reference profile was given (for skew).
    """

    results: tuple[CheckResult, ...]
    rows: int
    source: str = ""
    valid_rows: pd.DataFrame | None = None
    bad_rows: pd.DataFrame | None = None
    profile: Profile | None = None

    @property
    def errors(self) -> list[CheckResult]:
        """Failed checks of severity ``error``."""
        return [r for r in self.results if not r.passed and r.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed checks of severity ``warn``."""
        return [r for r in self.results if not r.passed and r.severity == "warn"]

    @property
    def passed(self) -> bool:
        """Whether no error-level check failed."""
        return not self.errors

    @property
    def fatal(self) -> list[CheckResult]:
        """Error-level failures that dropping rows cannot fix (table-level checks)."""
        return [r for r in self.errors if r.check.kind not in ROW_KINDS or r.check.kind == "type"]

    @property
    def failing_counts(self) -> dict[str, int]:
        """Failing rows by check label."""
        return {r.check.label: r.failing for r in self.results}

    def summary(self) -> str:
        """One line: passed or failed, with the first error named."""
        if self.passed:
            warn = f" with {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"{self.source}: {len(self.results)} checks passed on {self.rows:,} rows{warn}"
        first = (self.fatal or self.errors)[0]
        more = f" (and {len(self.errors) - 1} more failed checks)" if len(self.errors) > 1 else ""
        return f"{first.message}{more}"

    def raise_for_errors(self) -> None:
        """Raise a :class:`DataError` naming the first failed error-level check, if any."""
        if not self.passed:
            raise DataError(self.summary())

    def apply(self, policy: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """What a pipeline goes on with under ``policy``: ``(rows to use, rows set aside)``.

        Raises:
            DataError: ``fail`` and an error-level check failed; or any policy and a
                table-level check failed (see :attr:`fatal`).
            ConfigError: An unknown policy.
        """
        if policy not in POLICIES:
            raise ConfigError(
                f"validation policy '{policy}' is not one of {', '.join(POLICIES)}"
                f"{did_you_mean(policy, POLICIES)}"
            )
        if policy == "fail" or self.fatal:
            self.raise_for_errors()
        return self.valid_rows, (self.bad_rows if policy == "quarantine" else None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what the engine stores, and what the data report reads)."""
        return {
            "source": self.source,
            "rows": self.rows,
            "passed": self.passed,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "checks": [r.to_dict() for r in self.results],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)
