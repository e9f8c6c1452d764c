"""The project as ``noria ui`` opens it: the stores at once, the rest of ``noria.yaml`` on demand.

:class:`noria.project.Project` validates the whole ``noria.yaml`` (its pydantic model) when it is
created; the dashboard needs only the ``store:`` section to show anything, so
:class:`DashboardProject` reads that section from the YAML (two plain strings) and validates the
full spec only when something asks for it: a promotion's gates. This keeps ``noria.spec`` and its
models out of the start-up path (``noria ui`` ready in well under a second). A ``store:`` section
that is not two plain strings is left to the full validation, so its error is the usual one-line
:class:`~noria.errors.ConfigError`.

Not here: what the pages read (:mod:`noria.ui.pages`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError
from noria.store import DEFAULT_ARTIFACTS_URL, DEFAULT_METADATA_URL

if TYPE_CHECKING:
    from noria.spec import Spec
    from noria.store.artifacts import ArtifactStore
    from noria.store.metadata import MetadataStore

__all__ = ["DashboardProject", "find_root"]

HOME = ".noria"
SPEC_FILE = "noria.yaml"


def find_root(start: str | os.PathLike[str] = ".") -> Path:
    """The folder of the nearest ``noria.yaml`` at or above ``start``.

    Raises:
        ConfigError: none there or above.
    """
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / SPEC_FILE).is_file():
            return folder
    raise ConfigError(
        f"no {SPEC_FILE} in {here} or above: create a project with "
        "`noria init --data FILE --target COLUMN`"
    )


def _store_section(spec_path: Path) -> tuple[str, str] | None:
    """``(metadata URL, artifacts URL)`` from the YAML, or ``None`` to let the full spec decide."""
    import yaml

    from noria.yamlfile import load_yaml

    try:
        raw, _ = load_yaml(spec_path.read_text(encoding="utf-8"), spec_path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ConfigError):
        return None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None
    store = raw.get("store") or {}
    if not isinstance(store, dict) or set(store) - {"metadata", "artifacts"}:
        return None
    metadata = store.get("metadata", DEFAULT_METADATA_URL)
    artifacts = store.get("artifacts", DEFAULT_ARTIFACTS_URL)
    if not isinstance(metadata, str) or not isinstance(artifacts, str):
        return None
    return metadata, artifacts


class DashboardProject:
    """A project for the dashboard: ``root``, ``home``, the stores, and ``spec`` when asked.

    Args:
        root: the project folder (holding ``noria.yaml``).

    Raises:
        ConfigError: the ``store:`` section is invalid (then the whole spec is checked, and its
            first problem is the message).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.spec_path = self.root / SPEC_FILE
        self.home = self.root / HOME
        self._spec: Spec | None = None
        urls = _store_section(self.spec_path) if self.spec_path.is_file() else None
        if urls is None and self.spec_path.is_file():
            urls = (self.spec.store.metadata, self.spec.store.artifacts)
        self.store_urls = urls or (DEFAULT_METADATA_URL, DEFAULT_ARTIFACTS_URL)
        self._metadata: MetadataStore | None = None
        self._artifacts: ArtifactStore | None = None

    def __repr__(self) -> str:
        return f"DashboardProject({str(self.root)!r})"

    @property
    def spec(self) -> Spec | None:
        """The validated ``noria.yaml`` (read on first use; ``None`` without one).

        Raises:
            ConfigError: the file is invalid.
        """
        if self._spec is None and self.spec_path.is_file():
            from noria.spec import load_spec

            self._spec = load_spec(self.spec_path)
        return self._spec

    @property
    def metadata(self) -> MetadataStore:
        """The metadata store (opened on first use; runs of dead processes marked, as usual)."""
        if self._metadata is None:
            from noria.store.metadata import MetadataStore

            url = self.store_urls[0]
            prefix = "sqlite:///"
            if url.startswith(prefix) and not url.startswith(prefix + "/"):
                url = prefix + str(self.root / url.removeprefix(prefix))
            self._metadata = MetadataStore(url)
            self._metadata.mark_abandoned_runs()
        return self._metadata

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store."""
        if self._artifacts is None:
            from noria.store.artifacts import open_artifact_store

            url = self.store_urls[1]
            if "://" not in url and not Path(url).is_absolute():
                url = str(self.root / url)
            self._artifacts = open_artifact_store(url)
        return self._artifacts

    def close(self) -> None:
        """Close the stores."""
        if self._metadata is not None:
            self._metadata.close()
            self._metadata = None

    def __enter__(self) -> DashboardProject:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
