"""``noria demo``: a real data set, a fresh project, the whole pipeline, then the whole cycle.

The data is the Palmer penguins (344 penguins, 3 species; numeric and categorical columns with
missing values), from the ``palmerpenguins`` package that noria installs: nothing is downloaded.

After the first run (``--no-cycle`` stops there), the demo plays the model's life on
127.0.0.1: it serves the champion, sends it real HTTP traffic, and runs ``noria loop --once``
after each of three acts: quiet traffic (nothing to do); a colony of heavier penguins arrives
(drift is detected, the model is retrained on the new data and promoted, and the server swaps
it in); a feed bug labels 1,500 new rows with the wrong species (the retrained model passes its
gates on its own mislabelled holdout and is promoted, the true labels of its live predictions
arrive, its live accuracy falls below the floor, and the loop rolls it back). Then the bad feed
is quarantined (moved to ``data/quarantine/``, out of the ``data/*.csv`` the project reads), so
that the next ``noria run`` trains on the same data as the model that serves and reuses its run
from the cache; the demo ends on the champion actually serving. Every decision is in the audit
log, and the monitor report is in ``.noria/reports/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

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
    cycle: bool = typer.Option(
        True, "--cycle/--no-cycle", help="Then serve, drift, retrain, promote and roll back."
    ),
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
    project = _demo_settings(project)
    out = console()
    out.print(f"demo project: {project.root} (data: {data.name}, target: species)")
    view = LiveView()
    try:
        result = project.run(observer=view)
    finally:
        view.close()
    print_summary(project, result)
    closing = run_cycle(project) if cycle else ""
    out.print(
        f"next: cd {path} && noria run   (every step comes from the cache), noria runs, "
        f"noria show {result.run_id[:8]}"
    )
    if closing:
        out.print(closing)  # the last word: the model that serves


def _demo_settings(project: Any) -> Any:
    """The demo's noria.yaml: every CSV of data/, a search that fits the demo's minute, and a
    rollback floor for the loop."""
    from noria.project import Project

    text = project.spec_path.read_text()
    for old, new in (
        ('source: "data/penguins.csv"', 'source: "data/*.csv"'),
        ("n_trials: null", "n_trials: 12  "),
        ("time_budget: 120 ", "time_budget: 30  "),
        ("  rollback: null  ", "  rollback: {metric: accuracy, below: 0.8, min_labels: 50}\n  #"),
    ):
        if old not in text:
            raise RuntimeError(f"the demo cannot set {old!r} in noria.yaml")
        text = text.replace(old, new, 1)
    project.spec_path.write_text(text)
    project.close()
    return Project(project.root)


def _penguins(project: Any) -> Any:
    import pandas as pd

    frame = pd.read_csv(project.root / "data" / "penguins.csv")
    return frame.dropna(subset=["species"]).reset_index(drop=True)


def _send(url: str, frame: Any) -> list[tuple[str, int]]:
    """POST each row to /predict; ``(request id, version)`` of each answer."""
    import json
    import math
    import urllib.request

    answers = []
    features = [c for c in frame.columns if c != "species"]
    for record in frame[features].to_dict("records"):
        record = {
            k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()
        }
        body = json.dumps({"records": [record]}).encode()
        request = urllib.request.Request(
            f"{url}/predict", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        answers.append((answer["request_id"], int(answer["version"])))
    return answers


def _wait_for_version(server: Any, version: int, timeout: float = 30.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.predictor is not None and server.predictor.version == version:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not swap in version {version} within {timeout:g} s")


def run_cycle(project: Any) -> str:
    """Serve, drift, retrain, promote, roll back: the loop's whole cycle (see the module).

    Returns the closing line: the version that serves (see :func:`finish_cycle`).
    """
    import socket
    import threading

    import pandas as pd

    from noria.monitor.loop import loop_once
    from noria.project import Project
    from noria.serve.app import ServeSettings, serve

    out = console()
    say = out.print
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def on_ready(server: Any) -> None:
        holder["server"] = server
        ready.set()

    settings = ServeSettings(reference="penguins@champion", poll_seconds=0.2)
    thread = threading.Thread(
        target=serve, args=(Project(project.root), settings),
        kwargs={"on_ready": on_ready, "sock": sock}, daemon=True,
    )  # fmt: skip
    thread.start()
    if not ready.wait(60):
        raise RuntimeError("the demo's server did not start")
    server = holder["server"]
    penguins = _penguins(project)
    try:
        out.rule("act 1: the champion serves quiet traffic")
        say(f"serving penguins@champion at {url}")
        _send(url, penguins.sample(150, random_state=1))
        server.log.flush()
        loop_once(project, say=say)

        out.rule("act 2: a colony of heavier penguins arrives")
        heavy = penguins.sample(300, replace=True, random_state=2).reset_index(drop=True)
        heavy["body_mass_g"] = heavy["body_mass_g"] + 1500
        heavy.to_csv(project.root / "data" / "penguins-heavy.csv", index=False)
        _send(url, heavy)
        server.log.flush()
        decisions = loop_once(project, say=say)
        promoted = [d for d in decisions if d.action == "promote"]
        if promoted:
            _wait_for_version(server, int(promoted[0].reason.rsplit(" ", 1)[1]))
            say(f"the server swapped in version {server.predictor.version}, no request failed")

        out.rule("act 3: a feed bug labels new penguins with the wrong species")
        shift = {"Adelie": "Gentoo", "Gentoo": "Chinstrap", "Chinstrap": "Adelie"}
        bad = pd.concat([penguins, heavy]).sample(1500, replace=True, random_state=3)
        bad["species"] = bad["species"].map(shift)
        bad.to_csv(project.root / "data" / "penguins-feed.csv", index=False)
        decisions = loop_once(project, say=say)
        promoted = [d for d in decisions if d.action == "promote"]
        if promoted:
            _act_3_live_labels(project, url, server, penguins, heavy, promoted[0], say)
        else:
            say("the gates refused the mislabelled model: nothing to roll back")
    finally:
        server.uvicorn.should_exit = True
        thread.join(30)
    return finish_cycle(project, say)


def _act_3_live_labels(
    project: Any, url: str, server: Any, penguins: Any, heavy: Any, promoted: Any, say: Any
) -> None:
    """The mislabelled model serves, the true labels arrive, the loop rolls it back."""
    import pandas as pd

    from noria.monitor.labels import add_labels
    from noria.monitor.loop import loop_once

    _wait_for_version(server, int(promoted.reason.rsplit(" ", 1)[1]))
    live = pd.concat([penguins, heavy]).sample(200, random_state=4).reset_index(drop=True)
    answers = _send(url, live)
    server.log.flush()
    truth = project.home / "demo-truth.csv"
    pd.DataFrame({"request_id": [a[0] for a in answers], "label": live["species"]}).to_csv(
        truth, index=False
    )
    batch = add_labels(project.home, "penguins", truth)
    say(f"the true species of {batch.matched} served predictions arrive (noria labels add)")
    loop_once(project, say=say)
    _wait_for_version(server, _champion(project))
    say(f"the server is back on version {server.predictor.version}")


def finish_cycle(project: Any, say: Any) -> str:
    """Quarantine the mislabelled feed; the closing line: which version serves, and why.

    The feed's file moves to ``data/quarantine/`` (the project reads ``data/*.csv``): the data
    is again the data of the model that serves, so ``noria run`` afterwards reuses that model's
    run from the cache instead of reporting the rolled-back version as its model.
    """
    feed = project.root / "data" / "penguins-feed.csv"
    if feed.exists():
        folder = feed.parent / "quarantine"
        folder.mkdir(exist_ok=True)
        feed.replace(folder / feed.name)
        say(f"the mislabelled feed is quarantined: data/quarantine/{feed.name}")
    champion = _champion(project)
    say(
        f"monitor report: {project.home / 'reports' / 'monitor-penguins.html'}; "
        "decisions: noria models show penguins, or the audit log"
    )
    rolled = _rolled_back(project)
    why = f"; version {rolled} was rolled back" if rolled and rolled != champion else ""
    return f"serving: penguins@champion = version {champion}{why}"


def _rolled_back(project: Any) -> int | None:
    """The version the champion was last rolled back from, if any."""
    events = project.metadata.audit_events()
    for event in reversed(events):
        name, _, _ = event["object"].rpartition("/")
        if name == "penguins" and event["action"] == "rollback":
            return event["detail"].get("from")
    return None


def _champion(project: Any) -> int:
    from noria.registry import alias_holder

    version = alias_holder(project.metadata, "penguins", "champion")
    if version is None:
        raise RuntimeError("penguins has no champion")
    return version
