"""A project: a folder with ``noria.yaml`` and a home ``.noria/`` holding its stores.

:class:`Project` finds and opens a project, its spec and its stores, and runs pipelines on them:
the built-in supervised pipeline (with the user's steps from ``steps.module``) or any
:class:`~noria.pipeline.Pipeline`. A folder without ``noria.yaml`` is still a project for the
Python API: it gets a ``.noria/`` home and runs the pipelines it is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError, DataError
from noria.store import DEFAULT_ARTIFACTS_URL, DEFAULT_METADATA_URL

if TYPE_CHECKING:
    from noria.pipeline import Pipeline, RunResult
    from noria.pipeline.runner import RunObserver
    from noria.spec import Spec
    from noria.store.artifacts import ArtifactStore
    from noria.store.metadata import MetadataStore, RunRecord
    from noria.tracking import ActiveRun

__all__ = ["HOME", "Project"]

HOME = ".noria"
SPEC_FILE = "noria.yaml"  # the same as noria.spec.SPEC_FILE, without importing pydantic


class Project:
    """A noria project rooted at ``path``.

    Args:
        path: the project folder (created with its ``.noria/`` home when absent).

    Raises:
        ConfigError: ``noria.yaml`` exists but is invalid.
    """

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        self.root = Path(path).resolve()
        self.spec_path = self.root / SPEC_FILE
        self.home = self.root / HOME
        self.spec: Spec | None = None
        if self.spec_path.is_file():
            from noria.spec import load_spec

            self.spec = load_spec(self.spec_path)
        self._metadata: MetadataStore | None = None
        self._artifacts: ArtifactStore | None = None

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    # ------------------------------------------------------------------ finding, creating

    @classmethod
    def find(cls, start: str | os.PathLike[str] = ".") -> Project:
        """The project whose ``noria.yaml`` is in ``start`` or the nearest folder above it.

        Raises:
            ConfigError: no ``noria.yaml`` there or above.
        """
        here = Path(start).resolve()
        for folder in (here, *here.parents):
            if (folder / SPEC_FILE).is_file():
                return cls(folder)
        raise ConfigError(
            f"no {SPEC_FILE} in {here} or above: create a project with "
            "`noria init --data FILE --target COLUMN`"
        )

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        data: str,
        target: str,
        name: str | None = None,
        task: str = "auto",
        force: bool = False,
    ) -> Project:
        """Write a commented ``noria.yaml`` for ``data`` and ``target``, and create ``.noria/``.

        The data file is read once to check that it is readable and has the target column.
        A relative ``data`` is taken from the current directory (from the project folder when
        nothing is there, as a path inside the project); ``noria.yaml`` records it relative to the
        project folder when it is inside it, else as an absolute path.

        Raises:
            ConfigError: ``noria.yaml`` exists (and not ``force``), or ``task`` is invalid.
            DataError: the data cannot be read, or has no column ``target``.
        """
        from noria.data.reserved import check_feature_names
        from noria.data.sources import read_source
        from noria.errors import did_you_mean
        from noria.spec import render_spec

        root = Path(path).resolve()
        spec_path = root / SPEC_FILE
        if spec_path.exists() and not force:
            raise ConfigError(f"{spec_path} exists already; pass --force to overwrite it")
        if task not in ("auto", "classification", "regression"):
            raise ConfigError(f"task '{task}' is unknown; use auto, classification or regression")
        source = _data_source(data, root)
        frame = read_source(source, base=root)
        if target not in frame.columns:
            raise DataError(
                f"{data}: no column '{target}'{did_you_mean(target, map(str, frame.columns))}; "
                f"columns are: {', '.join(map(str, frame.columns))}"
            )
        check_feature_names([str(c) for c in frame.columns if c != target], str(data))
        root.mkdir(parents=True, exist_ok=True)
        project_name = name or _slug(root.name)
        text = render_spec(name=project_name, source=source, target=target, task=task)
        tmp = spec_path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, spec_path)
        project = cls(root)
        project.metadata  # noqa: B018 — creates the store now, so `init` leaves a whole project
        return project

    # ------------------------------------------------------------------ stores

    @property
    def store_urls(self) -> tuple[str, str]:
        """``(metadata URL, artifacts URL)`` from ``noria.yaml``, or the defaults."""
        if self.spec is None:
            return DEFAULT_METADATA_URL, DEFAULT_ARTIFACTS_URL
        return self.spec.store.metadata, self.spec.store.artifacts

    @property
    def metadata_url(self) -> str:
        """The metadata URL, a relative SQLite path resolved against the project."""
        return self._resolve_db_url(self.store_urls[0])

    @property
    def metadata(self) -> MetadataStore:
        """The metadata store (opened, and created or migrated, on first use)."""
        if self._metadata is None:
            from noria.store.metadata import MetadataStore

            self._metadata = MetadataStore(self.metadata_url)
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

    def _resolve_db_url(self, url: str) -> str:
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str(self.root / url.removeprefix(prefix))
        return url

    def close(self) -> None:
        """Close the stores."""
        if self._metadata is not None:
            self._metadata.close()
            self._metadata = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ running

    def pipeline(self) -> Pipeline:
        """The built-in supervised pipeline with the user's steps (``steps.module``) applied."""
        spec = self._require_spec()
        from noria.pipeline.dag import load_module, steps_of
        from noria.supervised import supervised_pipeline

        pipeline = supervised_pipeline(name=spec.name)
        if spec.steps.module:
            module = load_module(spec.steps.module, base=self.root)
            pipeline = pipeline.with_steps(steps_of(module))
        return pipeline

    def params(self) -> dict[str, Any]:
        """The params the supervised pipeline takes from ``noria.yaml``."""
        from noria.supervised import params_from_spec

        return params_from_spec(self._require_spec(), self.root)

    def run(
        self,
        pipeline: Pipeline | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        targets: Iterable[str] | None = None,
        executor: str | None = None,
        observer: RunObserver | None = None,
        fresh: bool = False,
        name: str | None = None,
    ) -> RunResult:
        """Run a pipeline; by default the project's supervised pipeline from ``noria.yaml``.

        Args:
            pipeline: any pipeline; the project's own by default.
            params: param values (for the project's pipeline, on top of ``noria.yaml``'s).
            targets: only these steps and what they need.
            executor: ``local``, ``processes``, ``ray`` or one registered with
                :func:`~noria.pipeline.executors.register_executor`; ``noria.yaml``'s (or
                ``local``) by default. Its settings come from its section of ``noria.yaml``
                (``ray:``).
            observer: receives progress (the CLI's live view).
            fresh: ignore the cache.
            name: the run's name.

        Raises:
            PipelineError: the DAG is invalid. StepError: a step failed (the run is recorded).
            ConfigError: the executor is unknown or its settings are wrong (nothing ran).
        """
        from noria.pipeline.executors import create_executor
        from noria.pipeline.runner import execute

        own = pipeline is None  # the project's pipeline: its versions get the model tests
        spec = self.spec
        kind = executor or (spec.executor if spec else "local")
        section = getattr(spec, kind, None) if spec is not None else None
        settings = section.model_dump() if hasattr(section, "model_dump") else {}
        runner = create_executor(kind, settings=settings)  # its settings checked before any work
        try:
            if pipeline is None:
                pipeline = self.pipeline()
                taken = {a for s in pipeline.steps.values() for a in s.arguments}
                from_spec = {k: v for k, v in self.params().items() if k in taken}
                params = {**from_spec, **(params or {})}
                if spec is not None and spec.tests:
                    self.check_tests()  # before anything is trained
            pipeline = _with_step_policy(pipeline, spec)
            result = execute(
                pipeline,
                metadata=self.metadata,
                artifacts=self.artifacts,
                params=params,
                targets=targets,
                executor=runner,
                observer=observer,
                run_name=name,
                fresh=fresh,
            )
        finally:
            runner.shutdown()
        if own and spec is not None and spec.tests and "registered_model" in result.steps:
            registered = result["registered_model"]
            self.test_version(registered["name"], registered["version"])
        return result

    def check_tests(self, frame: Any = None) -> None:
        """Refuse ``tests:`` that cannot run on the project's data (read unless ``frame``).

        Raises:
            ConfigError: a test names an unknown column or a value its column never holds;
                the message names ``noria.yaml``'s line, the key and the fix.
        """
        from noria.registry.evidence import check_tests_against, project_tests

        spec = self._require_spec()
        if not spec.tests:
            return
        if frame is None:
            from noria.data.sources import read_source

            frame = read_source(spec.data.source, format=spec.data.format, base=self.root)
        if spec.target not in frame.columns:
            return  # the pipeline says so, with the columns
        check_tests_against(
            project_tests(spec),
            frame,
            target=spec.target,
            task=_task(spec.task, frame[spec.target]),
            spec_path=self.spec_path,
        )

    def test_version(self, name: str, version: int, *, when: str = "registration") -> list[Any]:
        """Run ``tests:`` on a version and store the results with it (model tests)."""
        from noria.registry import get_version
        from noria.registry.evidence import project_tests, record_tests, run_version_tests

        spec = self._require_spec()
        found = get_version(self.metadata, name, version)
        results = run_version_tests(
            self.metadata, self.artifacts, found, project_tests(spec), seed=spec.seed
        )
        record_tests(self.metadata, found, results, when=when)
        return results

    def start_run(self, name: str | None = None) -> ActiveRun:
        """Open a manual tracking run on this project (``with project.start_run(): …``)."""
        from noria.tracking import start_run

        return start_run(self.metadata, name=name)

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """The newest top-level runs first."""
        return self.metadata.list_runs(limit=limit)

    def _require_spec(self) -> Spec:
        if self.spec is None:
            raise ConfigError(
                f"no {SPEC_FILE} in {self.root}: create one with "
                "`noria init --data FILE --target COLUMN`, or pass a pipeline to run()"
            )
        return self.spec


def _with_step_policy(pipeline: Pipeline, spec: Spec | None) -> Pipeline:
    """Apply ``steps.retries`` / ``steps.timeout`` to steps that set neither themselves."""
    if spec is None or (spec.steps.retries == 0 and spec.steps.timeout is None):
        return pipeline
    from dataclasses import replace

    from noria.pipeline.dag import Pipeline as _Pipeline

    steps = [
        replace(
            s,
            retries=s.retries or spec.steps.retries,
            timeout=s.timeout if s.timeout is not None else spec.steps.timeout,
        )
        for s in pipeline.steps.values()
    ]
    return _Pipeline(steps, name=pipeline.name)


def _data_source(data: str, root: Path) -> str:
    """``data`` (a file, folder or glob) as ``noria.yaml`` records it for a project at ``root``.

    A relative ``data`` is found from the current directory first, then from ``root`` (``root``
    may not exist yet: paths are joined as text, never resolved through it). Inside ``root`` the
    source is relative to it; outside, absolute.
    """
    import glob

    expanded = os.path.expanduser(data.strip())
    if os.path.isabs(expanded):
        absolute = os.path.normpath(expanded)
    else:
        here = os.path.normpath(os.path.join(os.getcwd(), expanded))
        there = os.path.normpath(os.path.join(root, expanded))

        def names_files(path: str) -> bool:
            if any(c in path for c in "*?["):
                return bool(glob.glob(path, recursive=True))
            return os.path.exists(path)

        absolute = there if not names_files(here) and names_files(there) else here
    relative = os.path.relpath(absolute, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute
    return relative


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in name).strip("-.")
    return cleaned or "project"


def _task(task: str, y: Any) -> str:
    """``task: auto`` decided as the supervised pipeline decides it (by the target's values)."""
    import pandas as pd

    from noria.supervised import MAX_INTEGER_CLASSES

    if task != "auto":
        return task
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    integral = numeric and bool((y.dropna().astype("float64") % 1 == 0).all())
    many = y.nunique() > MAX_INTEGER_CLASSES
    return "regression" if numeric and (not integral or many) else "classification"
