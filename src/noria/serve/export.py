"""``noria export docker``: a container build context that serves one registered model version.

The context (a folder) holds::

    Dockerfile            python:<this Python>-slim, a non-root user (uid 10001), HEALTHCHECK on
                          /ready, ``noria serve --host 0.0.0.0`` as the entrypoint
    .dockerignore         only what the image needs is sent to the builder
    requirements.txt      every runtime dependency of noria, pinned (``==``) to the version
                          installed here, with their own dependencies (the whole closure)
    wheels/               noria itself as a wheel
    model/noria.yaml      a minimal project that serves NAME@ALIAS
    model/.noria/         a fresh store holding just that version: its artifact (hash checked),
                          its signature, metrics and params, the alias, an audit event that says
                          where it came from, and the compiled fast path (so the container does
                          not compile it again at every start)
    k8s/                  with ``--k8s``: see :mod:`noria.serve.manifests`
    README.md             how to build, run and deploy it

Network: making the context needs none. noria's wheel is built from the source tree by ``pip
wheel --no-deps --no-index --no-build-isolation`` (so the build backend that pyproject.toml asks
for, setuptools>=77, must be installed here), or, for a noria installed from a wheel, the
installed files are packed again (:func:`repack_distribution`). Building the image needs what
``pip install -r requirements.txt`` needs: the package index (or a mirror set by ``PIP_INDEX_URL``
/ ``--build-arg PIP_ARGS=...``), and Debian's mirror when the base image lacks ``libgomp1``.

The container requires ``NORIA_TOKEN``: a server bound to 0.0.0.0 refuses to start without it
(exit 2, one line naming the fix). Behind a network that already guards the port, append
``--insecure`` to ``docker run IMAGE`` (the entrypoint takes extra ``noria serve`` options).

Not here: the Kubernetes manifests (:mod:`noria.serve.manifests`), the CLI (``noria.cli``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import UserError

if TYPE_CHECKING:
    from importlib.metadata import Distribution

    from noria.store.artifacts import ArtifactStore
    from noria.store.metadata import MetadataStore, ModelVersion

__all__ = [
    "CONTAINER_PORT",
    "CONTAINER_UID",
    "ExportResult",
    "copy_version",
    "export_docker",
    "noria_wheel",
    "pinned_requirements",
    "repack_distribution",
]

#: The port the server listens on inside the container.
CONTAINER_PORT = 8000
#: The unprivileged user the container runs as (numeric, so Kubernetes can check runAsNonRoot).
CONTAINER_UID = 10001
#: Where the exported project lives inside the image.
APP_MODEL = "/app/model"

#: What the export writes in DIR; ``--force`` replaces these and leaves anything else alone.
_OWNED = ("Dockerfile", ".dockerignore", "requirements.txt", "wheels", "model", "k8s", "README.md")


@dataclass
class ExportResult:
    """What :func:`export_docker` wrote."""

    folder: Path
    name: str
    version: int
    alias: str
    image: str
    wheel: str
    requirements: list[str]
    manifests: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------- requirements


def _target_environment() -> dict[str, str]:
    """Marker values of the container: this Python, on Linux."""
    from packaging.markers import default_environment

    env = dict(default_environment())
    env.update(
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
        implementation_name="cpython",
    )
    return env


def pinned_requirements(extras: Sequence[str] = ()) -> list[str]:
    """``name==version`` of every distribution noria needs at run time, as installed here.

    The closure: noria's requirements (and those of ``extras``), their requirements, and so on,
    markers evaluated for Linux on this Python. noria itself is not listed (it is installed from
    its wheel).

    Raises:
        UserError: a needed distribution is not installed here, or ``extras`` names an extra
            that noria does not declare.
    """
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    env = _target_environment()
    noria = metadata.distribution("noria")
    declared = set(noria.metadata.get_all("Provides-Extra") or [])
    unknown = sorted(set(extras) - declared)
    if unknown:
        raise UserError(
            f"--extra {unknown[0]}: noria has no such extra; extras: {', '.join(sorted(declared))}"
        )
    pins: dict[str, str] = {}
    queue: list[tuple[Distribution, set[str], str]] = [(noria, set(extras), "noria")]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        dist, wanted, via = queue.pop()
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": e}) for e in (wanted or {""})
            ):
                continue
            key = canonicalize_name(req.name)
            if key == "noria":
                continue
            try:
                found = metadata.distribution(req.name)
            except metadata.PackageNotFoundError:
                raise UserError(
                    f"{req.name} (needed by {via}) is not installed here, so its version cannot "
                    f"be pinned; install it (pip install '{req}') and export again"
                ) from None
            pins[key] = f"{found.metadata['Name']}=={found.version}"
            mark = (key, frozenset(req.extras))
            if mark not in seen:
                seen.add(mark)
                queue.append((found, set(req.extras), found.metadata["Name"]))
    return sorted(pins.values(), key=str.lower)


# --------------------------------------------------------------------------- noria's wheel


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _compressed_tag(tags: Sequence[str]) -> str:
    """``py2.py3-none-any`` from the tags ``py2-none-any`` and ``py3-none-any`` (PEP 425)."""
    if not tags:
        return "py3-none-any"
    parts = [t.split("-") for t in tags]
    return "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))


def repack_distribution(dist: Distribution, out_dir: Path) -> Path:
    """Pack an installed distribution into a wheel again (its files, as installed).

    Files outside the site folder (console scripts, data files) are left out: pip writes the
    scripts again from ``entry_points.txt``. The wheel's tag is the one its ``WHEEL`` file
    records. Compiled files (``.pyc``) are left out.

    Returns:
        The wheel's path.

    Raises:
        UserError: the distribution has no list of its files (``RECORD``), or was installed in
            editable mode (its files are elsewhere).
    """
    files = dist.files
    name = dist.metadata["Name"]
    if not files:
        raise UserError(f"{name}: the installed distribution lists no files (no RECORD)")
    info = next((f for f in files if f.parts[0].endswith(".dist-info")), None)
    if info is None:
        raise UserError(f"{name}: no .dist-info folder among its installed files")
    info_dir = info.parts[0]
    wheel_text = (Path(str(dist.locate_file(info_dir))) / "WHEEL").read_text()
    tags = [ln.split(":", 1)[1].strip() for ln in wheel_text.splitlines() if ln.startswith("Tag:")]
    tag = _compressed_tag(tags)
    direct = Path(str(dist.locate_file(info_dir))) / "direct_url.json"
    if direct.is_file() and json.loads(direct.read_text()).get("dir_info", {}).get("editable"):
        raise UserError(f"{name} is installed in editable mode: build its wheel from its source")
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{dist.version}"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{stem}-{tag}.whl"
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    record: list[str] = []
    tmp = target.with_suffix(".whl.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            if f.parts[0] == ".." or "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            if f.parts[0] == info_dir and f.name in skip:
                continue
            path = Path(str(dist.locate_file(f)))
            if not path.is_file():
                continue
            arcname = f.as_posix()
            data = path.read_bytes()
            info_z = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info_z.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            zf.writestr(info_z, data)
            record.append(_record_line(arcname, data))
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    os.replace(tmp, target)
    return target


def _source_tree() -> Path | None:
    """The source tree noria is imported from (``.../src/noria`` with pyproject.toml), if any."""
    package = Path(__file__).resolve().parent.parent  # .../noria (this file: noria/serve/…)
    root = package.parent.parent
    if package.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def noria_wheel(out_dir: Path) -> Path:
    """A wheel of the noria that runs here, written to ``out_dir``; no network needed.

    From a source tree (``src/noria`` next to pyproject.toml: a checkout, an editable install):
    ``pip wheel --no-deps --no-index --no-build-isolation`` on a copy of the tree (the tree
    itself is left clean). Otherwise the installed distribution is packed again.

    Raises:
        UserError: the build failed (most often: the build backend is not installed here).
    """
    from importlib import metadata

    root = _source_tree()
    if root is None:
        return repack_distribution(metadata.distribution("noria"), out_dir)
    with tempfile.TemporaryDirectory(prefix="noria-wheel-") as tmp:
        copy = Path(tmp) / "src-tree"
        copy.mkdir()
        for item in root.iterdir():
            if item.is_file() and (
                item.name in ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in")
                or item.name.upper().startswith(("README", "LICENSE", "NOTICE"))
            ):
                shutil.copy2(item, copy / item.name)
        shutil.copytree(
            root / "src" / "noria",
            copy / "src" / "noria",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"]
        cmd += ["--no-build-isolation", "--quiet", "--wheel-dir", str(out_dir), str(copy)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
            why = lines[-1].strip() if lines else f"exit {done.returncode}"
            raise UserError(
                f"building noria's wheel from {root} failed ({why}); the build needs "
                "pyproject.toml's build-system requirements installed here: "
                "pip install 'setuptools>=77' wheel"
            )
    wheels = sorted(out_dir.glob("noria-*.whl"))
    if not wheels:
        raise UserError(f"pip wheel wrote no noria wheel into {out_dir}")
    return wheels[-1]


# --------------------------------------------------------------------------- the store


def copy_version(
    source_metadata: MetadataStore,
    source_artifacts: ArtifactStore,
    version: ModelVersion,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    *,
    alias: str | None = None,
    origin: str | None = None,
) -> ModelVersion:
    """Copy one registered version into another store, keeping its number; point ``alias`` at it.

    The artifact is read from the source store (its hash checked) and written to the target
    store; its materializer record, the version's row (signature, metrics, params, run id,
    description) and the alias are written in one transaction, with an ``import`` audit event
    naming ``origin``. The run that made the version is not copied: its id stays as lineage.

    Raises:
        UserError: the target store already holds another version under that number.
    """
    from noria.store.metadata import dumps

    data = source_artifacts.get(version.artifact_id)
    record = source_metadata.artifact(version.artifact_id)
    artifact_id = artifacts.put(data)
    existing = metadata.model_version(version.name, version.version)
    if existing is not None and existing.artifact_id != artifact_id:
        raise UserError(
            f"{version.name} version {version.version} already exists in the target store with "
            "another artifact; export into an empty folder"
        )
    with metadata.write() as tx:
        metadata.insert_artifacts(tx, [{**record, "id": artifact_id}])
        if existing is None:
            tx.execute(
                "INSERT INTO model_versions (name, version, artifact_id, run_id, signature, "
                "metrics, params, description, created_at) VALUES (:name, :version, "
                ":artifact_id, :run_id, :signature, :metrics, :params, :description, :created_at)",
                {
                    "name": version.name,
                    "version": version.version,
                    "artifact_id": artifact_id,
                    "run_id": version.run_id,
                    "signature": dumps(version.signature),
                    "metrics": dumps(version.metrics),
                    "params": dumps(version.params),
                    "description": version.description,
                    "created_at": version.created_at,
                },
            )
        if alias is not None:
            metadata.set_alias(tx, version.name, alias, version.version)
        metadata.audit(
            tx,
            action="import",
            object=f"{version.name}/{version.version}",
            detail={"origin": origin, "artifact_id": artifact_id, "alias": alias},
        )
    copied = metadata.model_version(version.name, version.version)
    assert copied is not None  # written just above
    return copied


def _spec_text(
    version: ModelVersion, reference: str, serve: Mapping[str, Any], target: str | None
) -> str:
    """The exported project's noria.yaml: it serves ``reference`` and nothing else."""
    import yaml

    target = str(version.params.get("target") or target or "target")
    task = str(version.params.get("task") or "auto")
    settings = dict(serve)
    settings.update(model=reference, host="0.0.0.0", port=CONTAINER_PORT, follow_alias=False)
    doc = {
        "name": version.name,
        "data": {"source": "data/not-shipped.csv"},
        "target": target,
        "task": task if task in ("classification", "regression") else "auto",
        "serve": settings,
    }
    head = (
        f"# Made by `noria export docker`: serves {reference} (version {version.version}).\n"
        "# Only the model is here: no training data (data.source is a placeholder the\n"
        "# spec requires), and the store holds that one version. follow_alias is off: the\n"
        "# image is immutable; export again and roll the Deployment to change the model.\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False)


# --------------------------------------------------------------------------- the context


def _dockerfile(version: ModelVersion, reference: str, wheel: str) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    ready = (
        "import sys, urllib.request; "
        f"sys.exit(urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}/ready', "
        "timeout=2).status != 200)"
    )
    entry = ["noria", "serve", "--path", APP_MODEL, "--host", "0.0.0.0"]
    entry += ["--port", str(CONTAINER_PORT)]
    uid = CONTAINER_UID
    return f"""\
# Serves {reference} (version {version.version}); made by `noria export docker`.
# Build: docker build -t IMAGE .      Run: docker run -e NORIA_TOKEN=<secret> -p 8000:8000 IMAGE
# Without NORIA_TOKEN the server refuses to listen on 0.0.0.0 (exit 2); append --insecure to
# `docker run IMAGE` only where a proxy or a private network already guards the port.
ARG PYTHON_IMAGE=python:{python}-slim
FROM ${{PYTHON_IMAGE}}

ENV PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1

# LightGBM's OpenMP runtime; the slim image lacks it (nothing is fetched when it is there)
RUN if ! ldconfig -p | grep -q libgomp.so.1; then \\
        apt-get update && apt-get install -y --no-install-recommends libgomp1 \\
        && rm -rf /var/lib/apt/lists/*; \\
    fi
RUN groupadd --gid {uid} noria \\
    && useradd --uid {uid} --gid {uid} --no-create-home --home-dir /app \\
        --shell /usr/sbin/nologin noria

WORKDIR /app
# PIP_ARGS: e.g. --no-index --find-links /app/wheels for a build without the package index
ARG PIP_ARGS=""
COPY requirements.txt /app/requirements.txt
COPY wheels/ /app/wheels/
RUN pip install ${{PIP_ARGS}} -r /app/requirements.txt "/app/wheels/{wheel}"

COPY --chown={uid}:{uid} model/ {APP_MODEL}/
USER {uid}:{uid}
EXPOSE {CONTAINER_PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \\
    CMD {json.dumps(["python", "-c", ready])}
ENTRYPOINT {json.dumps(entry)}
CMD []
"""


_DOCKERIGNORE = """\
# Only the Dockerfile's inputs go to the builder.
*
!requirements.txt
!wheels/
!model/
model/.noria/predictions/
**/__pycache__/
"""


def _readme(result: ExportResult) -> str:
    k8s = ""
    if result.manifests:
        k8s = f"""
## Kubernetes

    kubectl create secret generic {_secret(result)} \\
        --from-literal=token="$(openssl rand -hex 32)"
    kubectl apply -f k8s/

Push the image where the cluster pulls from and set `image:` in k8s/deployment.yaml first.
"""
    return f"""\
# {result.name} version {result.version} ({result.name}@{result.alias}), packaged by noria

    docker build -t {result.image} .
    docker run --rm -e NORIA_TOKEN=<a secret> -p 8000:8000 {result.image}
    curl -H "Authorization: Bearer <the secret>" -H 'content-type: application/json' \\
        -d '{{"records": [{{...}}]}}' http://127.0.0.1:8000/predict

The server needs NORIA_TOKEN (it listens on 0.0.0.0). Where a proxy or a private network
already guards the port, `docker run {result.image} --insecure` serves without it.
Predictions are logged under {APP_MODEL}/.noria/predictions: mount a volume there to keep them.
Building needs the package index (pip) or `--build-arg PIP_ARGS="--index-url <mirror>"`.
{k8s}"""


def _secret(result: ExportResult) -> str:
    from noria.serve.manifests import resource_name

    return f"{resource_name(result.name)}-token"


def _check_folder(folder: Path, force: bool, protect: Iterable[Path]) -> None:
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give a folder for the build context")
    resolved = folder.resolve()
    for path in protect:
        p = path.resolve()
        if resolved == p or resolved in p.parents:
            raise UserError(
                f"{folder} holds the project {p}; export into a folder of its own "
                "(e.g. ./export/NAME)"
            )
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UserError(
            f"{folder} exists and is not empty; choose a new folder, or pass --force to "
            f"replace what an export writes there ({', '.join(_OWNED)})"
        )


def export_docker(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    reference: str,
    folder: str | os.PathLike[str],
    *,
    serve_settings: Mapping[str, Any] | None = None,
    target_column: str | None = None,
    k8s: bool = False,
    image: str | None = None,
    extras: Sequence[str] = (),
    force: bool = False,
    origin: str | None = None,
    protect: Iterable[Path] = (),
) -> ExportResult:
    """Write a container build context that serves ``reference`` (see the module docstring).

    Args:
        metadata: the source project's metadata store.
        artifacts: the source project's artifact store.
        reference: ``NAME@ALIAS`` (``NAME`` alone: champion; ``NAME@3``: version 3).
        folder: the build context to write; created, or empty, unless ``force``.
        serve_settings: the source project's ``serve:`` section, carried into the image's
            noria.yaml (the model, host, port and alias following are set by the export).
        k8s: also write Kubernetes manifests under ``k8s/``.
        image: the image name the README and manifests use (``noria-NAME:VERSION``).
        extras: noria extras to install in the image too (``onnx``).
        force: write into a folder that is not empty, replacing what an export writes there.
        origin: where the version comes from, for the exported store's audit log.
        protect: folders the context must not be or contain (the source project).

    Raises:
        NotFoundError: no such model, alias or version (the message lists the known ones).
        UserError: the folder is not empty (without ``force``), or the wheel cannot be built.
    """
    from noria.registry import CHAMPION, resolve
    from noria.serve.manifests import resource_name, write_manifests
    from noria.serve.predictor import Predictor
    from noria.store.artifacts import open_artifact_store
    from noria.store.metadata import MetadataStore

    version = resolve(metadata, reference)  # unknown model or alias: NotFoundError, exit 2
    name, _, which = reference.partition("@")
    alias = which or CHAMPION
    served = f"{name}@{alias}"
    target = Path(folder)
    _check_folder(target, force, protect)
    requirements = pinned_requirements(extras)
    image = image or f"noria-{resource_name(name).removeprefix('noria-')}:{version.version}"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.export-", dir=target.parent))
    try:
        wheel = noria_wheel(staging / "wheels")
        if extras:
            wheel_ref = f"{wheel.name}[{','.join(extras)}]"
            requirements_extra = f"# with noria's extras: {', '.join(extras)}\n"
        else:
            wheel_ref, requirements_extra = wheel.name, ""
        (staging / "requirements.txt").write_text(
            f"# noria {_installed_version()}'s run-time dependencies, pinned to the versions "
            f"this export ran with (Python {sys.version_info.major}.{sys.version_info.minor}, "
            "Linux markers)\n" + requirements_extra + "\n".join(requirements) + "\n"
        )
        model = staging / "model"
        home = model / ".noria"
        home.mkdir(parents=True)
        (model / "noria.yaml").write_text(
            _spec_text(version, served, serve_settings or {}, target_column)
        )
        store = MetadataStore(f"sqlite:///{home / 'noria.db'}")
        try:
            store_artifacts = open_artifact_store(str(home / "artifacts"))
            copied = copy_version(
                metadata,
                artifacts,
                version,
                store,
                store_artifacts,
                alias=None if which.isdigit() else alias,
                origin=origin,
            )
            # compile the fast path now: the container starts without compiling, and a version
            # that cannot be served fails here rather than in a crash-looping pod
            Predictor.load(store, store_artifacts, served, cache_dir=home / "serve")
        finally:
            store.close()
        (staging / "Dockerfile").write_text(_dockerfile(copied, served, wheel_ref))
        (staging / ".dockerignore").write_text(_DOCKERIGNORE)
        result = ExportResult(
            folder=target,
            name=name,
            version=version.version,
            alias=alias,
            image=image,
            wheel=wheel.name,
            requirements=requirements,
        )
        if k8s:
            written = write_manifests(
                staging / "k8s", model_name=name, version=version.version, image=image
            )
            result.manifests = [target / "k8s" / p.name for p in written]
        (staging / "README.md").write_text(_readme(result))
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _installed_version() -> str:
    from importlib import metadata

    return metadata.version("noria")


def _install(staging: Path, target: Path) -> None:
    """Move the staged export into ``target``, replacing what a previous export wrote there."""
    target.mkdir(parents=True, exist_ok=True)
    for owned in _OWNED:
        old = target / owned
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        elif old.exists() or old.is_symlink():
            old.unlink()
    for item in staging.iterdir():
        os.replace(item, target / item.name)
