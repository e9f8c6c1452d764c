"""Storage: the metadata database and the content-addressed artifact store.

Nothing here knows about pipelines, models or serving; everything above stores through here.

- :mod:`noria.store.metadata`: :class:`MetadataStore`, the facade over the concern stores
  (:mod:`~noria.store.run_store`, :mod:`~noria.store.tracking_store`,
  :mod:`~noria.store.registry_store`, :mod:`~noria.store.monitor_store`);
- :mod:`noria.store.backend`: the backend interface, with :mod:`~noria.store.sqlite_backend`
  (``sqlite3``) and :mod:`~noria.store.sqlalchemy_backend` (SQLAlchemy Core: PostgreSQL);
- :mod:`noria.store.revisions` and ``migrations/``: the schema's revisions and when a store is
  migrated; :mod:`noria.store.schema`: the tables;
- :mod:`noria.store.artifacts`: the artifact stores (:mod:`~noria.store.s3_artifacts` for S3).
"""

#: The default stores of a project, relative to its folder.
DEFAULT_METADATA_URL = "sqlite:///.noria/noria.db"
DEFAULT_ARTIFACTS_URL = ".noria/artifacts"
