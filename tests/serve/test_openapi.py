"""The OpenAPI document describes the served model's own input and every answer of every route,
so that `schemathesis run --checks all` against a served model finds nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ROW, LiveServer

COLUMNS = list(ROW)


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    path = str(found) if found.exists() else shutil.which("schemathesis")
    if path is None:
        pytest.skip("schemathesis is not installed")
    return path


def test_document_describes_the_model(live: LiveServer) -> None:
    doc = httpx.get(live.url + "/openapi.json").json()
    body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    records, split = body["schema"]["oneOf"]
    row = records["properties"]["records"]["items"]
    assert list(row["properties"]) == COLUMNS
    assert row["properties"]["island"]["type"] == ["string", "null"]
    assert row["properties"]["bill_length_mm"]["type"] == ["number", "null"]
    assert row["required"] == COLUMNS and row["additionalProperties"] is False
    columns = split["properties"]["columns"]["prefixItems"]
    assert [c["const"] for c in columns] == COLUMNS
    infer = doc["paths"]["/v2/models/{name}/infer"]["post"]
    tensors = infer["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert [t["properties"]["name"]["const"] for t in tensors["inputs"]["prefixItems"]] == COLUMNS
    assert "application/octet-stream" in infer["responses"]["200"]["content"]
    (name,) = [p for p in infer["parameters"] if p["in"] == "path"]
    assert name["schema"]["enum"] == ["penguins"]
    assert set(infer["responses"]) == {"200", "400", "404", "408", "413", "422"}
    assert set(doc["paths"]["/predict"]["post"]["responses"]) == {
        "200",
        "400",
        "408",
        "413",
        "422",
    }
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
    assert "securitySchemes" not in doc.get("components", {})
    mlflow = doc["paths"]["/invocations"]["post"]["requestBody"]["content"]["application/json"]
    assert {next(iter(o["required"])) for o in mlflow["schema"]["oneOf"]} == {
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
    }


def test_document_with_a_token_and_extra_columns(served_project: Any) -> None:
    with LiveServer(served_project, token="s3cret", extra_columns="ignore") as server:
        doc = httpx.get(
            server.url + "/openapi.json", headers={"Authorization": "Bearer s3cret"}
        ).json()
        assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert doc["security"] == [{"bearer": []}]
        assert doc["paths"]["/health"]["get"]["security"] == []
        assert "401" in doc["paths"]["/metrics"]["get"]["responses"]
        schema = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
        row = schema["schema"]["oneOf"][0]["properties"]["records"]["items"]
        assert row["additionalProperties"] is True


def test_schemathesis_all_checks_pass(live: LiveServer) -> None:
    """Before: 6 failures (schema-valid requests refused for want of the signature, undocumented
    404s, an undocumented content type on /metrics)."""
    command = [
        _schemathesis(),
        "run",
        live.url + "/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "5",
        "--seed",
        "1",
        "--workers",
        "1",
    ]
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
    assert time.monotonic() - started < 120  # about 15 s on an idle machine


def test_schemathesis_with_a_token(served_project: Any) -> None:
    """Every route but the health checks refuses a request without the token (ignored_auth)."""
    with LiveServer(served_project, token="s3cret") as server:
        command = [
            _schemathesis(),
            "run",
            server.url + "/openapi.json",
            "--checks",
            "all",
            "--phases",
            "fuzzing",
            "--max-examples",
            "3",
            "--seed",
            "1",
            "--workers",
            "1",
            "-H",
            "Authorization: Bearer s3cret",
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_document_follows_the_alias(live: LiveServer, penguins_models: Any) -> None:
    from noria.registry import promote

    from .conftest import register

    def versions() -> list[str]:
        doc = httpx.get(live.url + "/openapi.json").json()
        operation = doc["paths"]["/v2/models/{name}/versions/{version}"]["get"]
        (version,) = [p for p in operation["parameters"] if p["name"] == "version"]
        return version["schema"]["enum"]

    assert versions() == ["1"]
    _, second, x = penguins_models
    register(live.project, second, x, {"accuracy": 0.99})
    promote(live.project.metadata, "penguins", 2, reason="test")
    deadline = time.monotonic() + 30
    while live.server.predictor.version != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert versions() == ["2"]
