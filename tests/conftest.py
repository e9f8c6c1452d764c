"""Shared fixtures: stores and projects in temporary folders, real data from packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.store.artifacts import LocalArtifactStore
from noria.store.metadata import MetadataStore


@pytest.fixture
def metadata(tmp_path: Path) -> MetadataStore:
    store = MetadataStore(f"sqlite:///{tmp_path / 'noria.db'}")
    yield store
    store.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def penguins_csv(tmp_path: Path) -> Path:
    """The Palmer penguins CSV that ships in the palmerpenguins package."""
    from noria.cli.demo import write_demo_data

    return write_demo_data(tmp_path / "data")


def fast_search(spec_path: Path, *, families: str = "[linear, lightgbm]", trials: int = 4) -> None:
    """Shrink the search of a noria.yaml written by ``noria init``: tests stay quick."""
    text = spec_path.read_text()
    default = "candidates: [linear, lightgbm, hist_gradient_boosting, random_forest, extra_trees]"
    assert default in text and "n_trials: null" in text
    text = text.replace(default, f"candidates: {families}").replace(
        "n_trials: null", f"n_trials: {trials}"
    )
    spec_path.write_text(text)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``noria ARGS`` in this process: (exit code, stdout, stderr)."""
    from noria.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    """A real full disk: a 1 MiB tmpfs (root only; skipped where it cannot be mounted)."""
    import os
    import subprocess

    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)
