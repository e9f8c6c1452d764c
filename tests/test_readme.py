"""The README's Python examples run as written (those that need no project of their own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
STANDALONE = [b for b in BLOCKS if 'noria.Project(".")' not in b]


def test_readme_has_standalone_examples() -> None:
    assert len(STANDALONE) >= 2


@pytest.mark.parametrize("block", STANDALONE, ids=lambda b: b.splitlines()[0][:40])
def test_readme_example_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "readme_example.py"  # steps need a source file to be fingerprinted
    module.write_text("import noria\n" + block)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    if "result" in namespace:
        assert namespace["result"]["total"] == 4950


def test_every_file_the_readme_links_to_exists() -> None:
    """The README pointed to a DESIGN.md that is not in the repository."""
    root = README.parent
    text = README.read_text()
    links = re.findall(r"\]\(([^)#:]+)\)", text)
    named = re.findall(r"\b([\w/.-]+\.md)\b", text)
    assert "docs/ARCHITECTURE.md" in links
    missing = [p for p in {*links, *named} if not (root / p).exists()]
    assert not missing, missing
