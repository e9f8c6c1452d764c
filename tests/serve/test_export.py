"""``noria export docker``: the build context, its store, its commands run for real, the manifests.

No container engine works on the test machine (docker has no daemon; podman installs but cannot
pull ``python:3.11-slim`` without a registry), so the image's own commands are run instead: the
Dockerfile's ``pip install`` line in a fresh virtual environment, then its ENTRYPOINT (with the
model folder and port moved) and its HEALTHCHECK command against it. The fast test lends the
fresh environment this interpreter's third-party packages (a ``.pth`` line) so that it takes
seconds; the slow one installs everything from wheels packed from this environment with
``--no-index``, which proves that requirements.txt is complete.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from noria.project import Project
from tests.conftest import cli
from tests.serve.conftest import ROW, fit_penguins, register

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project with two versions of ``penguins``: 1 is champion, 2 is challenger."""
    from noria.cli.demo import write_demo_data
    from noria.registry import set_alias

    root = tmp_path_factory.mktemp("source")
    csv = write_demo_data(root / "data")
    project = Project.init(root, data=str(csv), target="species", name="penguins")
    first, x = fit_penguins(seed=0)
    second, _ = fit_penguins("linear", seed=1)
    register(project, first, x, {"accuracy": 0.97})
    register(project, second, x, {"accuracy": 0.95})
    set_alias(project.metadata, "penguins", "challenger", 2, reason="test")
    return project


@pytest.fixture(scope="module")
def exported(source: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ctx") / "penguins"
    from noria.cli import main

    main(
        [
            "export",
            "docker",
            "penguins@challenger",
            str(folder),
            "--k8s",
            "--path",
            str(source.root),
        ]
    )
    return folder


def _dockerfile(folder: Path) -> dict[str, Any]:
    """The Dockerfile's instructions we run: RUN pip install, ENTRYPOINT, HEALTHCHECK CMD."""
    text = (folder / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines()]
    install = next(ln[4:] for ln in lines if ln.startswith("RUN pip install"))
    entry = json.loads(
        next(ln[len("ENTRYPOINT ") :] for ln in lines if ln.startswith("ENTRYPOINT"))
    )
    health = next(ln for ln in lines if ln.startswith("HEALTHCHECK"))
    check = json.loads(health[health.index("CMD ") + 4 :])
    return {"install": install, "entry": entry, "health": check, "lines": lines}


# --------------------------------------------------------------------------- the context


def test_context_holds_what_the_image_needs(exported: Path) -> None:
    import importlib.metadata as md

    names = sorted(p.name for p in exported.iterdir())
    assert names == sorted(
        [".dockerignore", "Dockerfile", "README.md", "k8s", "model", "requirements.txt", "wheels"]
    )
    d = _dockerfile(exported)
    lines = d["lines"]
    assert (
        f"ARG PYTHON_IMAGE=python:{sys.version_info.major}.{sys.version_info.minor}-slim" in lines
    )
    assert "USER 10001:10001" in lines  # numeric: Kubernetes can check runAsNonRoot
    assert d["entry"][:2] == ["noria", "serve"] and "0.0.0.0" in d["entry"]
    assert "/ready" in d["health"][-1]
    assert "--insecure" not in d["entry"]  # the container needs NORIA_TOKEN
    # every pin is the version installed here; noria's own requirements are all pinned
    pins = dict(
        ln.split("==")
        for ln in (exported / "requirements.txt").read_text().splitlines()
        if ln and not ln.startswith("#")
    )
    for name, version in pins.items():
        assert md.version(name) == version, name
    lowered = {n.lower().replace("_", "-") for n in pins}
    for direct in ("numpy", "pandas", "scikit-learn", "fastapi", "uvicorn", "lightgbm", "pyyaml"):
        assert direct in lowered
    assert "threadpoolctl" in lowered  # a dependency of a dependency: the closure is pinned
    assert "noria" not in lowered and "pytest" not in lowered
    wheels = list((exported / "wheels").glob("noria-*.whl"))
    assert len(wheels) == 1 and wheels[0].name in d["install"]
    ignore = (exported / ".dockerignore").read_text().splitlines()
    assert ignore[1] == "*" and "!model/" in ignore and "k8s" not in "".join(ignore[2:])


def test_store_holds_just_that_version_under_its_number(exported: Path, source: Project) -> None:
    from noria.registry import resolve

    project = Project(exported / "model")
    spec = project.spec
    assert spec is not None and spec.serve.model == "penguins@challenger"
    assert spec.serve.follow_alias is False
    versions = project.metadata.model_versions()
    original = resolve(source.metadata, "penguins@challenger")
    assert [(v.name, v.version) for v in versions] == [("penguins", 2)]
    copied = versions[0]
    assert copied.signature == original.signature and copied.metrics == original.metrics
    assert copied.params == original.params and copied.artifact_id == original.artifact_id
    assert project.metadata.aliases() == [("penguins", "challenger", 2)]
    assert project.artifacts.get(copied.artifact_id) == source.artifacts.get(original.artifact_id)
    events = project.metadata.audit_events()
    assert [e["action"] for e in events] == ["import"]
    assert str(source.root) in json.dumps(events[0])
    compiled = json.loads((exported / "model" / ".noria" / "serve" / "compiled.json").read_text())
    assert copied.artifact_id in compiled  # the fast path is compiled at export, not at start
    project.close()


def test_cli_prints_where_and_how(source: Project, tmp_path: Path, capsys: Any) -> None:
    code, out, err = cli(
        capsys, "export", "docker", "penguins", str(tmp_path / "c"), "--path", str(source.root)
    )
    assert code == 0, err
    assert "penguins version 1 (penguins@champion)" in out
    assert "docker build -t noria-penguins:1" in out
    assert not (tmp_path / "c" / "k8s").exists()
    assert Project(tmp_path / "c" / "model").metadata.aliases() == [("penguins", "champion", 1)]


# --------------------------------------------------------------------------- bad input


def test_unknown_model_or_alias_is_exit_2_naming_the_known_ones(
    source: Project, tmp_path: Path, capsys: Any
) -> None:
    target = str(tmp_path / "out")
    code, _, err = cli(
        capsys, "export", "docker", "pengiuns@champion", target, "--path", str(source.root)
    )
    assert code == 2 and "no model 'pengiuns'" in err and "penguins" in err
    assert err.count("\n") == 1
    code, _, err = cli(
        capsys, "export", "docker", "penguins@champoin", target, "--path", str(source.root)
    )
    assert code == 2 and "no alias 'champoin'" in err and "aliases: challenger, champion" in err
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_empty_is_refused_unless_force(
    source: Project, tmp_path: Path, capsys: Any
) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    args = ["export", "docker", "penguins", str(folder), "--path", str(source.root)]
    code, _, err = cli(capsys, *args)
    assert code == 2 and "is not empty" in err and "--force" in err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    (folder / "k8s").mkdir()  # a past export's manifests: replaced (here: removed)
    (folder / "k8s" / "old.yaml").write_text("x")
    code, _, err = cli(capsys, *args, "--force")
    assert code == 0, err
    assert (folder / "notes.txt").read_text() == "mine"  # not the export's: left alone
    assert not (folder / "k8s").exists() and (folder / "Dockerfile").is_file()
    # the project itself is never a build context, even with --force
    code, _, err = cli(
        capsys,
        "export",
        "docker",
        "penguins",
        str(source.root),
        "--force",
        "--path",
        str(source.root),
    )
    assert code == 2 and "holds the project" in err
    assert (source.root / "noria.yaml").is_file()


# --------------------------------------------------------------------------- Kubernetes


def test_each_manifest_is_valid_against_the_kubernetes_schemas(exported: Path) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = {p.name: yaml.safe_load(p.read_text()) for p in (exported / "k8s").glob("*.yaml")}
    assert sorted(docs) == ["deployment.yaml", "hpa.yaml", "service.yaml"]
    for doc in docs.values():
        kubernetes_validate.validate(doc, "1.30", strict=True)  # raises on any error
    deployment = docs["deployment.yaml"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "noria-penguins-token"
    assert container["resources"]["requests"]["cpu"] and pod["securityContext"]["runAsNonRoot"]
    assert container["image"] == "noria-penguins:2"
    assert docs["hpa.yaml"]["apiVersion"] == "autoscaling/v2"
    assert docs["hpa.yaml"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    # the validator is strict: a misspelt field fails
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.30", strict=True)


def test_resource_names_are_dns_labels_for_any_model_name() -> None:
    from noria.serve.manifests import resource_name

    label = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
    for model in ("Churn_Model.v2", "a" * 80, "x--y", "9lives"):
        name = resource_name(model)
        assert label.match(name) and len(name + "-token") <= 63, name


# --------------------------------------------------------------------------- the image's commands


def _venv(root: Path, lend: bool) -> Path:
    """A fresh virtual environment; with ``lend``, this one's site-packages are visible to it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = (
        root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )
    if lend:
        (site / "_lent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root / "bin"


def _install(bin_dir: Path, context: Path, pip_args: list[str]) -> None:
    """The Dockerfile's ``RUN pip install`` line, with the context where the image has /app."""
    command = _dockerfile(context)["install"].replace("${PIP_ARGS}", shlex.join(pip_args))
    command = command.replace("/app/", f"{context}/")
    argv = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "--quiet"]
    argv += shlex.split(command)[1:]  # "pip install ..." → this pip, the new environment
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _start(bin_dir: Path, context: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """The Dockerfile's ENTRYPOINT, with the exported folder for /app/model and port 0."""
    entry = _dockerfile(context)["entry"]
    argv = [str(bin_dir / "noria") if a == "noria" else a for a in entry]
    argv = [str(context / "model") if a == "/app/model" else a for a in argv]
    argv[argv.index("--port") + 1] = "0"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NORIA_TOKEN")}
    proc = subprocess.Popen(
        argv, env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not env.get("NORIA_TOKEN"):
        return proc, 0
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://0\.0\.0\.0:(\d+)", line)
    assert found, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, int(found.group(1))


def _serve_and_predict(bin_dir: Path, context: Path, copy: Path) -> None:
    # the image's model folder is written by the server (prediction log): use a copy
    shutil.copytree(context, copy)
    proc, _ = _start(bin_dir, copy, {})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "NORIA_TOKEN" in err and "--insecure" in err
    proc, port = _start(bin_dir, copy, {"NORIA_TOKEN": TOKEN})
    try:
        # the HEALTHCHECK command, as the image runs it (python -c ..., port moved)
        health = [a.replace("8000", str(port)) for a in _dockerfile(copy)["health"]]
        health[0] = str(bin_dir / "python")
        assert subprocess.run(health, timeout=60, check=False).returncode == 0
        body = json.dumps({"records": [ROW]}).encode()
        url = f"http://127.0.0.1:{port}/predict"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, body), timeout=30)
        assert refused.value.code == 401
        request = urllib.request.Request(
            url,
            body,
            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            got = json.loads(answer.read())
        assert got["model"] == "penguins" and got["version"] == 2
        assert got["predictions"] and got["predictions"][0] in ("Adelie", "Chinstrap", "Gentoo")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    # the served noria is the wheel's, not this checkout
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import noria; print(noria.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert where.startswith(str(bin_dir.parent))


def test_image_commands_serve_the_model_in_a_fresh_environment(
    exported: Path, tmp_path: Path
) -> None:
    """RUN pip install (offline), ENTRYPOINT, HEALTHCHECK: a prediction comes back."""
    started = time.perf_counter()
    bin_dir = _venv(tmp_path / "venv", lend=True)
    _install(bin_dir, exported, ["--no-index"])
    _serve_and_predict(bin_dir, exported, tmp_path / "app")
    assert time.perf_counter() - started < 300


@pytest.mark.slow
@pytest.mark.timeout(900)  # packs and installs about 600 MB of wheels
def test_requirements_alone_install_everything_offline(exported: Path, tmp_path: Path) -> None:
    """Nothing lent: every pinned requirement from wheels packed here, --no-index (minutes)."""
    from importlib import metadata

    from noria.serve.export import repack_distribution

    wheelhouse = tmp_path / "wheelhouse"
    for line in (exported / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            repack_distribution(metadata.distribution(line.split("==")[0]), wheelhouse)
    bin_dir = _venv(tmp_path / "venv", lend=False)
    _install(bin_dir, exported, ["--no-index", "--find-links", str(wheelhouse)])
    _serve_and_predict(bin_dir, exported, tmp_path / "app")


def test_an_unknown_extra_is_refused_naming_the_declared_ones() -> None:
    from noria.errors import UserError
    from noria.serve.export import pinned_requirements

    with pytest.raises(UserError, match=r"--extra onxx: noria has no such extra; extras: .*onnx"):
        pinned_requirements(["onxx"])


def test_repacked_wheel_keeps_every_tag_and_a_true_record(tmp_path: Path) -> None:
    """python-dateutil is tagged py2 and py3: a wheel tagged py2 only would not install."""
    import base64
    import hashlib
    import zipfile
    from importlib import metadata

    from noria.serve.export import repack_distribution

    wheel = repack_distribution(metadata.distribution("python-dateutil"), tmp_path)
    assert (
        wheel.name == f"python_dateutil-{metadata.version('python-dateutil')}-py2.py3-none-any.whl"
    )
    with zipfile.ZipFile(wheel) as zf:
        record = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        rows = [r.split(",") for r in zf.read(record).decode().splitlines()]
        assert {"dateutil/parser/_parser.py", record} <= {r[0] for r in rows}
        for name, digest, size in rows:
            if name != record:
                data = zf.read(name)
                want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == f"sha256={want.decode()}" and int(size) == len(data)
