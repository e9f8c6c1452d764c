"""``noria demo``: a real data set, a fresh project, the whole pipeline, in under a minute.

The data is the Palmer penguins (344 penguins, 3 species; numeric and categorical columns with
missing values), from the ``palmerpenguins`` package that noria installs: nothing is downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from noria.cli._output import console


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)


def write_demo_data(folder: Path) -> Path:
    """Copy the penguins CSV that ships in ``palmerpenguins`` to ``folder/penguins.csv``."""
    from importlib import resources

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "penguins.csv"
    source = resources.files("palmerpenguins") / "data" / "penguins.csv"
    with resources.as_file(source) as path:
        shutil.copyfile(path, target)
    return target


def demo(
    path: Path = typer.Option(Path("noria-demo"), "--path", help="Where to create the project."),
    force: bool = typer.Option(False, "--force", help="Start over if the folder exists."),
) -> None:
    """Create a demo project on the Palmer penguins data and run it end to end."""
    from noria.cli.progress import LiveView
    from noria.cli.project_cmds import print_summary
    from noria.errors import UserError
    from noria.project import Project

    if path.exists() and any(path.iterdir()):
        if not force:
            raise UserError(f"{path} exists and is not empty; pass --force or --path ELSEWHERE")
        shutil.rmtree(path)
    data = write_demo_data(path / "data")
    project = Project.init(path, data=str(data), target="species", name="penguins")
    out = console()
    out.print(f"demo project: {project.root} (data: {data.name}, target: species)")
    view = LiveView()
    try:
        result = project.run(observer=view)
    finally:
        view.close()
    print_summary(project, result)
    out.print(
        f"next: cd {path} && noria run   (every step comes from the cache), noria runs, "
        f"noria show {result.run_id[:8]}"
    )
