"""Storage: the metadata database and the content-addressed artifact store.

Nothing here knows about pipelines, models or serving; everything above stores through here.
"""

#: The default stores of a project, relative to its folder.
DEFAULT_METADATA_URL = "sqlite:///.noria/noria.db"
DEFAULT_ARTIFACTS_URL = ".noria/artifacts"
