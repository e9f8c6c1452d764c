"""The metadata store: every concern of noria's metadata over one database.

:class:`MetadataStore` is the facade the rest of noria uses. It opens a backend from a URL
(:func:`~noria.store.backend.open_backend`: ``sqlite:///path/noria.db``, the default in
``.noria/``, by the standard library's ``sqlite3``; any other SQLAlchemy URL, such as
``postgresql+psycopg://…``, by SQLAlchemy Core), brings its schema to head where the policy of
:mod:`noria.store.revisions` allows, and offers the methods of each concern store:

=====================  ==========================================================
concern                module
=====================  ==========================================================
runs and the cache     :mod:`noria.store.run_store` (:class:`RunStore`)
tracking               :mod:`noria.store.tracking_store` (:class:`TrackingStore`)
registry and audit     :mod:`noria.store.registry_store` (:class:`RegistryStore`)
monitoring             :mod:`noria.store.monitor_store` (:class:`MonitorStore`)
=====================  ==========================================================

A new concern is a new module with a :class:`~noria.store.backend.ConcernStore` subclass, added
to the bases of :class:`MetadataStore`. Each concern store also works on its own over a backend
(``TrackingStore(open_backend(url))``). The conformance suite every backend passes is
:mod:`noria.testing.metadata`.

This module is not for domain logic: promotion rules live in :mod:`noria.registry`, run
orchestration in :mod:`noria.pipeline`.
"""

from __future__ import annotations

from noria.store.backend import Backend, Connection, open_backend
from noria.store.lease_store import LeaseStore
from noria.store.monitor_store import MonitorStore
from noria.store.records import ModelVersion, RunRecord, StepRunRecord, dumps
from noria.store.registry_store import RegistryStore
from noria.store.revisions import HEAD_REVISION, SQLITE_HEAD, alembic_sqlite_ddl, prepare
from noria.store.run_store import RunStore
from noria.store.tracking_store import TrackingStore

__all__ = [
    "HEAD_REVISION",
    "SQLITE_HEAD",
    "Connection",
    "MetadataStore",
    "ModelVersion",
    "RunRecord",
    "StepRunRecord",
    "alembic_sqlite_ddl",
    "dumps",
]


class MetadataStore(RunStore, TrackingStore, RegistryStore, MonitorStore, LeaseStore):
    """Runs, step runs, artifacts, lineage, cache entries, params/metrics/tags, models, audit,
    monitored windows: one object over one database.

    Args:
        url: a SQLAlchemy URL; ``sqlite:///…`` is served by ``sqlite3`` directly.
        upgrade: also upgrade a server database that is behind (``noria store upgrade``);
            SQLite files are upgraded at open regardless (see :mod:`noria.store.revisions`).
        backend: an already open backend to use instead of opening ``url``.

    Raises:
        StoreError: the database is unreadable, or was written by a newer noria.
        StoreUnavailable: the database cannot be reached, or is behind (run
            ``noria store upgrade``), or is not noria's.
    """

    def __init__(
        self, url: str | None = None, *, upgrade: bool = False, backend: Backend | None = None
    ) -> None:
        if backend is None:
            if url is None:
                raise TypeError("MetadataStore needs a url or a backend")
            backend = open_backend(url)
        super().__init__(backend)
        try:
            #: The schema revision the store was at when opened (``None``: it was new).
            self.opened_at_revision = prepare(backend, allow_upgrade=upgrade)
        except BaseException:
            backend.close()
            raise

    def close(self) -> None:
        """Close the connections (the store object is unusable afterwards)."""
        self._backend.close()
