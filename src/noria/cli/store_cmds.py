"""``noria store status`` and ``noria store upgrade``: where the stores are, and their schema."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from noria.cli._output import console

store_app = typer.Typer(
    help="The project's stores: where they are, and the metadata schema's revision.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``store`` group to ``app``."""
    app.add_typer(store_app, name="store")
    store_app.command("status")(status)
    store_app.command("upgrade")(upgrade)


def _urls(path: Path, url: str | None) -> tuple[str, str | None]:
    """``(metadata URL, artifacts URL or None)`` of ``--url`` or of the project at ``path``."""
    if url:
        return url, None
    from noria.project import Project

    project = Project.find(path)
    return project.metadata_url, project.store_urls[1]


def status(
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    url: Optional[str] = typer.Option(None, "--url", help="A metadata URL instead."),  # noqa: UP045
) -> None:
    """Where the metadata and the artifacts are, and the metadata schema's revision."""
    from noria.store.backend import open_backend, redact
    from noria.store.revisions import HEAD_REVISION

    metadata_url, artifacts_url = _urls(path, url)
    backend = open_backend(metadata_url)
    try:
        revision = backend.revision()
    finally:
        backend.close()
    if revision == HEAD_REVISION:
        state = "up to date"
    elif revision is None:
        state = "new: created when first used"
    elif revision < HEAD_REVISION:
        state = "behind: run `noria store upgrade`"
    else:
        state = "newer than this noria: upgrade noria"
    out = console()
    out.print(f"metadata:  {redact(metadata_url)} ({backend.dialect})")
    out.print(f"schema:    {revision or 'none'} (this noria: {HEAD_REVISION}; {state})")
    if artifacts_url is not None:
        out.print(f"artifacts: {artifacts_url}")


def upgrade(
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    url: Optional[str] = typer.Option(None, "--url", help="A metadata URL instead."),  # noqa: UP045
) -> None:
    """Create or upgrade the metadata database's schema to this noria's (back it up first)."""
    from noria.store.backend import redact
    from noria.store.metadata import MetadataStore
    from noria.store.revisions import HEAD_REVISION

    metadata_url, _ = _urls(path, url)
    store = MetadataStore(metadata_url, upgrade=True)
    before = store.opened_at_revision
    store.close()
    where = redact(metadata_url)
    if before == HEAD_REVISION:
        console().print(f"{where}: already at schema {HEAD_REVISION}")
    else:
        console().print(f"{where}: schema {before or 'none'} -> {HEAD_REVISION}")
