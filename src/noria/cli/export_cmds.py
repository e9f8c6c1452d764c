"""``noria export docker NAME@ALIAS DIR``: a container build context (and Kubernetes manifests)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from noria.cli._output import console

export_app = typer.Typer(
    name="export",
    help="Package a registered model for somewhere else: a container image, a cluster.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add ``noria export`` to ``app``."""
    app.add_typer(export_app, name="export")


@export_app.command("docker")
def docker(
    reference: str = typer.Argument(..., help="NAME@ALIAS (or NAME@VERSION) to package."),
    folder: Path = typer.Argument(..., help="The build context to write (new or empty)."),
    k8s: bool = typer.Option(
        False, "--k8s", help="Also write Kubernetes manifests (Deployment, Service, HPA) in k8s/."
    ),
    image: Optional[str] = typer.Option(  # noqa: UP045
        None, "--image", help="Image name for the README and manifests (noria-NAME:VERSION)."
    ),
    extra: list[str] = typer.Option(
        [], "--extra", help="A noria extra to install in the image too, e.g. onnx (repeatable)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Write into a folder that is not empty (replacing a past export)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Write a Docker build context that serves one model version with `noria serve`.

    The image runs as a non-root user, checks /ready, and needs NORIA_TOKEN at run time.
    Making the context needs no network; building the image needs the package index.
    """
    from noria.project import Project
    from noria.serve.export import export_docker

    project = Project.find(path)
    spec = project.spec
    result = export_docker(
        project.metadata,
        project.artifacts,
        reference,
        folder,
        serve_settings=spec.serve.model_dump(mode="json") if spec is not None else None,
        target_column=spec.target if spec is not None else None,
        k8s=k8s,
        image=image,
        extras=extra,
        force=force,
        origin=str(project.root),
        protect=[project.root],
    )
    out = console()
    out.print(
        f"exported {result.name} version {result.version} ({result.name}@{result.alias}) to "
        f"{result.folder}: Dockerfile, {len(result.requirements)} pinned requirements, "
        f"{result.wheel}",
        markup=False,
    )
    for manifest in result.manifests:
        out.print(f"  {manifest}", markup=False)
    out.print(f"build: docker build -t {result.image} {result.folder}", markup=False)
    out.print(
        f"run:   docker run -e NORIA_TOKEN=<a secret> -p 8000:8000 {result.image}", markup=False
    )
