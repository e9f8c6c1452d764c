"""Leases: a named, expiring claim on work, so that two processes never do it at once.

The loop takes ``loop:<model>`` for each iteration, so that two ``noria loop`` processes (on one
machine or several, over one PostgreSQL store) never retrain or register the same model twice.
Who may take a lease over (a dead holder on this host) is the caller's business.
"""

from __future__ import annotations

import time

from noria.store.backend import ConcernStore

__all__ = ["LeaseStore"]


class LeaseStore(ConcernStore):
    """Take, extend, give back and read leases."""

    def acquire_lease(
        self, name: str, owner: str, ttl: float, *, replace: str | None = None
    ) -> bool:
        """Take (or extend) the lease ``name`` for ``ttl`` seconds; ``False`` if another holds it.

        One atomic upsert: a free, expired or own lease is taken (also one held by ``replace``,
        an owner known to be dead); a live one of another owner is left alone. Works the same on
        SQLite and PostgreSQL (``ON CONFLICT … WHERE``).
        """
        now = time.time()
        with self._backend.write() as tx:
            rows = tx.execute(
                "INSERT INTO leases (name, owner, acquired_at, expires_at) "
                "VALUES (:n, :o, :now, :exp) ON CONFLICT (name) DO UPDATE SET "
                "owner = excluded.owner, acquired_at = excluded.acquired_at, "
                "expires_at = excluded.expires_at "
                "WHERE leases.expires_at < :now OR leases.owner = :o OR leases.owner = :dead "
                "RETURNING owner",
                {"n": name, "o": owner, "now": now, "exp": now + ttl, "dead": replace or owner},
            )
        return bool(rows)

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease ``name`` back (nothing happens if ``owner`` no longer holds it)."""
        with self._backend.write() as tx:
            tx.execute("DELETE FROM leases WHERE name = :n AND owner = :o", {"n": name, "o": owner})

    def lease(self, name: str) -> tuple[str, float] | None:
        """``(owner, expires_at)`` of the live lease ``name``, or ``None``."""
        rows = self._backend.read(
            "SELECT owner, expires_at FROM leases WHERE name = :n AND expires_at >= :now",
            {"n": name, "now": time.time()},
        )
        return (rows[0][0], float(rows[0][1])) if rows else None
