"""The records of a drift comparison: :class:`ColumnDrift` per column and :class:`DriftReport`.

Both round-trip through JSON (:meth:`~DriftReport.to_dict`, :meth:`~DriftReport.from_dict`):
the ``drift`` part of a stored monitor window report. Non-finite numbers are written as the
strings ``"inf"``, ``"-inf"`` and ``"nan"``.

Not here: how the verdicts are reached (:mod:`noria.monitor.drift`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["UNSEEN_KEPT", "ColumnDrift", "DriftReport"]

#: Unseen categories kept in :attr:`ColumnDrift.unseen` (and named in the reason: the first 3).
UNSEEN_KEPT = 10


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column.

    Attributes:
        column: The column's name.
        kind: ``numeric``, ``boolean``, ``temporal`` or ``string`` (the reference's).
        test: The test that decided: ``ks``, ``wasserstein``, ``psi``, ``js``, ``chi2``,
            ``null_rate`` (time columns), ``kind`` (a change of kind), or ``""`` when none ran.
        statistic: The deciding test's statistic (KS D, a distance, chi-square), or ``None``.
        p_value: Its p-value (``ks``, ``chi2``, ``null_rate``), else ``None``.
        threshold: Its threshold (a p-value for ``ks`` and ``chi2``).
        drifted: Whether the column drifted (``status == "drift"``).
        status: ``drift``, ``ok``, ``too_small``, ``missing`` or ``new``.
        reason: One short sentence for people (``"PSI 0.41 > 0.2"``).
        null_ref, null_cur: Null fractions of the reference and the current data.
        n_ref, n_cur: Non-null values compared.
        stats: Every test that applies (``ks``, ``ks_p``, ``wasserstein``, ``psi``, ``js``,
            ``chi2``, ``chi2_p``) and the null-rate test (``null_rate_delta``,
            ``null_rate_p``), for reports.
        unseen: The most frequent categories of the current data that the reference never saw
            (at most :data:`UNSEEN_KEPT`).
    """

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    status: str
    reason: str
    null_ref: float
    null_cur: float
    n_ref: int
    n_cur: int
    stats: dict[str, float] = field(default_factory=dict)
    unseen: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (non-finite numbers as the strings ``"inf"``, ``"-inf"``, ``"nan"``)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _jnum(self.statistic),
            "p_value": _jnum(self.p_value),
            "threshold": _jnum(self.threshold),
            "drifted": self.drifted,
            "status": self.status,
            "reason": self.reason,
            "null_ref": _jnum(self.null_ref),
            "null_cur": _jnum(self.null_cur),
            "n_ref": self.n_ref,
            "n_cur": self.n_cur,
            "stats": {k: _jnum(v) for k, v in self.stats.items()},
            "unseen": list(self.unseen),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnDrift:
        """The inverse of :meth:`to_dict`."""
        return cls(
            column=data["column"],
            kind=data["kind"],
            test=data["test"],
            statistic=_unjnum(data.get("statistic")),
            p_value=_unjnum(data.get("p_value")),
            threshold=float(_unjnum(data["threshold"])),
            drifted=bool(data["drifted"]),
            status=data["status"],
            reason=data["reason"],
            null_ref=float(_unjnum(data["null_ref"])),
            null_cur=float(_unjnum(data["null_cur"])),
            n_ref=int(data["n_ref"]),
            n_cur=int(data["n_cur"]),
            stats={k: float(_unjnum(v)) for k, v in data.get("stats", {}).items()},
            unseen=tuple(data.get("unseen", ())),
        )


@dataclass(frozen=True)
class DriftReport:
    """The verdicts on every column compared.

    Attributes:
        columns: :class:`ColumnDrift` by column name: the reference's columns in order, then
            the columns only the current data has.
        rows_ref, rows_cur: Rows of the reference and the current data.
    """

    columns: dict[str, ColumnDrift]
    rows_ref: int
    rows_cur: int

    @property
    def drifted(self) -> list[str]:
        """The columns that drifted, in order."""
        return [name for name, c in self.columns.items() if c.drifted]

    @property
    def share(self) -> float:
        """Drifted columns over the columns with a verdict (``drift`` or ``ok``); 0 if none."""
        judged = [c for c in self.columns.values() if c.status in ("drift", "ok")]
        return sum(c.drifted for c in judged) / len(judged) if judged else 0.0

    @property
    def missing(self) -> list[str]:
        """Columns of the reference that the current data lacks."""
        return [name for name, c in self.columns.items() if c.status == "missing"]

    @property
    def new(self) -> list[str]:
        """Columns of the current data that the reference lacks."""
        return [name for name, c in self.columns.items() if c.status == "new"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``drifted`` and ``share`` included for readers; ignored on load)."""
        return {
            "rows_ref": self.rows_ref,
            "rows_cur": self.rows_cur,
            "drifted": self.drifted,
            "share": self.share,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The inverse of :meth:`to_dict`."""
        cols = [ColumnDrift.from_dict(c) for c in data.get("columns", [])]
        return cls(
            columns={c.column: c for c in cols},
            rows_ref=int(data["rows_ref"]),
            rows_cur=int(data["rows_cur"]),
        )


def _jnum(value: float | None) -> float | str | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _unjnum(value: Any) -> float | None:
    return None if value is None else float(value)
