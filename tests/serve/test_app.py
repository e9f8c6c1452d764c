"""The server end to end on 127.0.0.1: every payload shape, every bad input of the issue,
micro-batching, the prediction log, the token, and a model swap under load."""

from __future__ import annotations

import concurrent.futures as cf
import os
from typing import Any

import httpx
import pytest

from noria.predlog import read_log
from noria.registry import promote

from .conftest import ROW, LiveServer, register

COLUMNS = list(ROW)


def post(server: LiveServer, path: str, body: Any = None, **kw: Any) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=30, **kw)


def test_predict_records_and_split(live: LiveServer) -> None:
    r = post(live, "/predict", {"records": [ROW, dict(ROW, island="Dream")]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "penguins" and body["version"] == 1
    assert len(body["predictions"]) == 2 and body["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert all(abs(sum(p) - 1) < 1e-9 for p in body["probabilities"])
    r2 = post(live, "/predict", {"columns": COLUMNS, "data": [list(ROW.values())]})
    assert r2.json()["predictions"] == body["predictions"][:1]
    # null is a missing value, imputed by the model
    assert post(live, "/predict", {"records": [dict(ROW, sex=None)]}).status_code == 200


def test_scoring_routes_answered_before_fastapi_behave_as_routed(live: LiveServer) -> None:
    """POST /predict and /invocations skip FastAPI's routing; the same paths with another
    method, or with a trailing slash, still get FastAPI's answers."""
    r = post(live, "/predict", {"records": [ROW]}, headers={"x-request-id": "abc"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "abc"
    assert r.headers["content-type"] == "application/json" and r.json()["request_id"] == "abc"
    assert httpx.get(live.url + "/predict", timeout=30).status_code == 405
    assert httpx.get(live.url + "/invocations", timeout=30).status_code == 405
    assert post(live, "/predict/", {"records": [ROW]}).status_code in (307, 404)
    bad = post(live, "/invocations", {"dataframe_split": {"columns": ["x"], "data": [[1]]}})
    assert bad.status_code == 422 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_mlflow_payloads(live: LiveServer) -> None:
    expected = post(live, "/predict", {"records": [ROW]}).json()["predictions"]
    for payload in (
        {"dataframe_split": {"columns": COLUMNS, "data": [list(ROW.values())]}},
        {"dataframe_records": [ROW]},
        {"instances": [ROW]},
        {"instances": [list(ROW.values())]},
        {"inputs": {k: [v] for k, v in ROW.items()}},
        {"inputs": [ROW]},
    ):
        r = post(live, "/invocations", payload)
        assert r.status_code == 200, (payload, r.text)
        assert r.json() == {"predictions": expected}
    bad = post(live, "/invocations", {"dataframe_records": [{"island": "Biscoe"}]})
    assert bad.status_code == 422 and "bill_length_mm" in bad.json()["message"]


def test_open_inference_protocol(live: LiveServer) -> None:
    meta = httpx.get(live.url + "/v2/models/penguins").json()
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    inputs = [
        {
            "name": k,
            "shape": [1],
            "datatype": "BYTES" if isinstance(v, str) else "FP64",
            "data": [v],
        }
        for k, v in ROW.items()
    ]
    r = post(live, "/v2/models/penguins/infer", {"id": "a", "inputs": inputs})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "a" and out["outputs"][0]["name"] == "predict"
    assert httpx.get(live.url + "/v2/health/ready").json() == {"ready": True}
    assert post(live, "/v2/models/nope/infer", {"inputs": inputs}).status_code == 404
    r = post(live, "/v2/models/penguins/versions/7/infer", {"inputs": inputs})
    assert r.status_code == 404 and "version" in r.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b'{"records": [', 400, "malformed JSON"),
        (b'{"records": [{"island": NaN}]}', 400, "NaN"),
        (b"", 400, "empty"),
        (b'{"records": [{"bill_length_mm": 1e400}]}', 400, "infinity"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"records": []}', 422, "empty batch"),
        (b'{"rows": []}', 422, "unknown field 'rows'"),
        (b'{"columns": ["island"]}', 422, "missing field 'data'"),
        (b'{"records": [{"island": "Biscoe"}]}', 422, "missing column 'bill_length_mm'"),
        (b'{"records": "x"}', 422, "records"),
    ],
)
def test_bad_bodies(live: LiveServer, body: bytes, status: int, needle: str) -> None:
    r = httpx.post(live.url + "/predict", content=body, timeout=30)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (dict(ROW, bill_length_mm="long"), "records[1].bill_length_mm: expected a number"),
        (dict(ROW, bill_length_mm=True), "records[1].bill_length_mm: expected a number"),
        (dict(ROW, island=3), "records[1].island: expected a string"),
        (dict(ROW, colour="red"), "records[1]: unknown column 'colour'"),
    ],
)
def test_bad_values(live: LiveServer, row: dict[str, Any], needle: str) -> None:
    r = post(live, "/predict", {"records": [ROW, row]})
    assert r.status_code == 422, r.text
    assert needle in r.json()["error"]["message"]
    # the server keeps serving
    assert post(live, "/predict", {"records": [ROW]}).status_code == 200


def test_body_over_the_limit(served_project: Any) -> None:
    with LiveServer(served_project, max_body_mb=0.001) as server:
        r = post(server, "/predict", {"records": [ROW] * 100})
        assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
        assert post(server, "/predict", {"records": [ROW]}).status_code == 200


def test_token(served_project: Any) -> None:
    with LiveServer(served_project, token="s3cret") as server:
        assert post(server, "/predict", {"records": [ROW]}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert post(server, "/predict", {"records": [ROW]}, headers=wrong).status_code == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert post(server, "/predict", {"records": [ROW]}, headers=ok).status_code == 200
        assert httpx.get(server.url + "/health").status_code == 200
        assert httpx.get(server.url + "/metrics").status_code == 401


def test_metrics_batching_and_prediction_log(live: LiveServer) -> None:
    with cf.ThreadPoolExecutor(16) as pool:
        codes = list(
            pool.map(lambda _: post(live, "/predict", {"records": [ROW]}).status_code, range(200))
        )
    assert codes == [200] * 200
    text = httpx.get(live.url + "/metrics").text
    assert 'noria_requests_total{route="/predict",status="200"} 200' in text
    assert 'noria_model_version{model="penguins",path="compiled"} 1' in text
    assert "noria_request_duration_seconds_bucket" in text
    batches = int(text.split("\nnoria_predict_batches_total ")[1].split()[0])
    assert batches <= 200
    live.server.log.flush()
    table = read_log(live.project.home / "predictions" / "penguins")
    assert table.num_rows == 200
    names = table.column_names
    for col in (
        "request_id",
        "time",
        "version",
        "latency_ms",
        "input.island",
        "output.prediction",
        "output.proba.Gentoo",
    ):
        assert col in names
    assert not [
        p for p in os.listdir(live.project.home / "predictions" / "penguins") if p.endswith(".tmp")
    ]


def test_swap_under_load_fails_no_request(live: LiveServer, penguins_models: Any) -> None:
    _, second, x = penguins_models
    register(live.project, second, x, {"accuracy": 0.99, "roc_auc": 0.995})
    versions: set[int] = set()
    errors: list[str] = []

    def hammer(_: int) -> None:
        for _ in range(40):
            r = post(live, "/predict", {"records": [ROW]})
            if r.status_code != 200:
                errors.append(r.text)
            else:
                versions.add(r.json()["version"])

    with cf.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer, i) for i in range(4)]
        promote(live.project.metadata, "penguins", 2, reason="test")
        for f in futures:
            f.result()
    import time

    deadline = time.monotonic() + 30
    while live.server.predictor.version != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert errors == []
    assert live.server.predictor.version == 2
    assert post(live, "/predict", {"records": [ROW]}).json()["version"] == 2
