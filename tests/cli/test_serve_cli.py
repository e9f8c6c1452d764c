"""``noria serve`` refuses to listen beyond loopback without a token, unless told ``--insecure``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cli


def test_serve_on_every_address_needs_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NORIA_TOKEN", raising=False)
    (tmp_path / "noria.yaml").write_text("name: penguins\ndata: {source: data.csv}\ntarget: y\n")
    code, _, err = cli(capsys, "serve", "--host", "0.0.0.0", "--port", "0", "--path", str(tmp_path))
    assert code == 2 and "Traceback" not in err
    assert "refusing to serve beyond this machine without a token" in err
    assert "NORIA_TOKEN" in err and "--insecure" in err
