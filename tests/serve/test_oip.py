"""The Open Inference Protocol with its binary tensor data extension: Triton's own client in both
modes, the binary layout byte for byte, and the refusals of malformed binary requests."""

from __future__ import annotations

import struct
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from noria.errors import DataError, UserError
from noria.serve.oip import decode, encode_bytes, parse_infer, split_body

from .conftest import ROW, LiveServer

COLUMNS = list(ROW)


def _arrays(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    out = {}
    for name in COLUMNS:
        values = [r[name] for r in rows]
        if isinstance(values[0], str):
            out[name] = np.array(values, dtype=object)
        else:
            out[name] = np.array(values, dtype=np.float64)
    return out


def test_tritonclient_json_and_binary(live: LiveServer) -> None:
    """Triton's client speaks to noria in JSON and, its default, binary tensors; both give the
    predictions of /predict."""
    http = pytest.importorskip("tritonclient.http")
    rows = [ROW, dict(ROW, island="Dream", bill_length_mm=39.1), dict(ROW, sex="female")]
    expected = httpx.post(live.url + "/predict", json={"records": rows}, timeout=30).json()
    client = http.InferenceServerClient(url=live.url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_model_ready("penguins")
        assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
        meta = client.get_model_metadata("penguins")
        datatypes = {i["name"]: i["datatype"] for i in meta["inputs"]}
        arrays = _arrays(rows)
        for binary in (False, True):
            inputs = []
            for name in COLUMNS:
                tensor = http.InferInput(name, [len(rows)], datatypes[name])
                tensor.set_data_from_numpy(arrays[name], binary_data=binary)
                inputs.append(tensor)
            outputs = [
                http.InferRequestedOutput("predict", binary_data=binary),
                http.InferRequestedOutput("predict_proba", binary_data=binary),
            ]
            result = client.infer("penguins", inputs, outputs=outputs, request_id="t-1")
            labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predict")]
            assert labels == expected["predictions"], binary
            proba = result.as_numpy("predict_proba")
            assert proba.shape == (3, 3)
            np.testing.assert_allclose(proba, expected["probabilities"], rtol=1e-12)
            assert result.get_response()["id"] == "t-1"
        # the client's defaults: binary inputs, no outputs named (binary_data_output: all binary)
        inputs = []
        for name in COLUMNS:
            tensor = http.InferInput(name, [len(rows), 1], datatypes[name])
            tensor.set_data_from_numpy(arrays[name].reshape(-1, 1))
            inputs.append(tensor)
        result = client.infer("penguins", inputs, model_version="1")
        assert [v.decode() for v in result.as_numpy("predict")] == expected["predictions"]
        assert result.as_numpy("predict_proba").shape == (3, 3)
    finally:
        client.close()


def _binary_request(rows: list[dict[str, Any]], **request: Any) -> tuple[bytes, int]:
    arrays = _arrays(rows)
    tensors, blobs = [], []
    for name in COLUMNS:
        if arrays[name].dtype == object:
            blob = encode_bytes(list(arrays[name]))
            datatype = "BYTES"
        else:
            blob = arrays[name].astype("<f4").tobytes()
            datatype = "FP32"
        tensors.append(
            {
                "name": name,
                "shape": [len(rows)],
                "datatype": datatype,
                "parameters": {"binary_data_size": len(blob)},
            }
        )
        blobs.append(blob)
    header = orjson.dumps({"inputs": tensors, **request})
    return header + b"".join(blobs), len(header)


def test_binary_layout_on_the_wire(live: LiveServer) -> None:
    """The answer's bytes: the JSON header (its size in Inference-Header-Content-Length), then
    each binary output: BYTES as 4-byte little-endian lengths and UTF-8, FP64 little-endian."""
    body, size = _binary_request(
        [ROW, dict(ROW, island="Dream")],
        outputs=[
            {"name": "predict", "parameters": {"binary_data": True}},
            {"name": "predict_proba"},
        ],
    )
    r = httpx.post(
        live.url + "/v2/models/penguins/infer",
        content=body,
        headers={"Inference-Header-Content-Length": str(size)},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    n = int(r.headers["inference-header-content-length"])
    header = orjson.loads(r.content[:n])
    predict, proba = header["outputs"]
    assert "data" not in predict and predict["parameters"]["binary_data_size"] == len(r.content) - n
    raw = r.content[n:]
    labels = []
    offset = 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<I", raw, offset)
        labels.append(raw[offset + 4 : offset + 4 + length].decode())
        offset += 4 + length
    assert labels[0] in ("Adelie", "Chinstrap", "Gentoo") and len(labels) == 2
    assert len(proba["data"]) == 6  # predict_proba asked without binary_data: JSON


@pytest.mark.parametrize(
    ("mutate", "status", "needle"),
    [
        (lambda b, s: (b, str(len(b) + 5)), 400, "Inference-Header-Content-Length"),
        (lambda b, s: (b, "abc"), 400, "Inference-Header-Content-Length"),
        (lambda b, s: (b[:-3], str(s)), 400, "bytes of binary data left"),
        (lambda b, s: (b + b"xx", str(s)), 400, "after the tensors' data"),
        (lambda b, s: (b, None), 400, "malformed JSON"),
    ],
)
def test_malformed_binary_requests(live: LiveServer, mutate: Any, status: int, needle: str) -> None:
    body, size = _binary_request([ROW])
    content, header = mutate(body, size)
    headers = {} if header is None else {"Inference-Header-Content-Length": header}
    r = httpx.post(
        live.url + "/v2/models/penguins/infer", content=content, headers=headers, timeout=30
    )
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]


def test_decode_every_datatype() -> None:
    assert decode("BOOL", b"\x01\x00", 2, "x") == [True, False]
    with pytest.raises(DataError, match="0 or 1"):
        decode("BOOL", b"\x02", 1, "x")
    assert decode("INT64", np.array([3, -4], "<i8").tobytes(), 2, "x") == [3, -4]
    assert decode("UINT8", bytes([7]), 1, "x") == [7]
    assert decode("FP16", np.array([1.5], "<f2").tobytes(), 1, "x") == [1.5]
    bf16 = (np.array([2.5], "<f4").view("<u4") >> 16).astype("<u2").tobytes()
    assert decode("BF16", bf16, 1, "x") == [2.5]
    # NaN is the missing value of a binary float tensor
    assert decode("FP64", np.array([1.0, np.nan], "<f8").tobytes(), 2, "x") == [1.0, None]
    assert decode("BYTES", encode_bytes(["a", "ßé", ""]), 3, "x") == ["a", "ßé", ""]
    with pytest.raises(UserError, match="cut short"):
        decode("BYTES", encode_bytes(["abc"])[:-1], 1, "x")
    with pytest.raises(DataError, match="not UTF-8"):
        decode("BYTES", struct.pack("<I", 1) + b"\xff", 1, "x")
    with pytest.raises(UserError, match="is not 2 FP32 values"):
        decode("FP32", b"\x00" * 4, 2, "x")


def test_request_checks() -> None:
    tensor = {"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]}
    assert parse_infer({"inputs": [tensor]}).columns == {"a": [1.0]}
    for bad, needle in [
        ({"inputs": [dict(tensor, datatype="FLOAT")]}, "datatype: expected one of"),
        ({"inputs": [dict(tensor, shape=[1, 2])]}, "one column per tensor"),
        ({"inputs": [dict(tensor, shape=[2])]}, "says 2 values, data has 1"),
        ({"inputs": [tensor, tensor]}, "appears twice"),
        ({"inputs": [tensor], "id": 3}, "id: expected a string"),
        ({"inputs": [tensor], "parameters": {"binary_data_output": 1}}, "true or false"),
        ({"inputs": [tensor], "outputs": [{"name": "p", "x": 1}]}, "unknown field 'x'"),
    ]:
        with pytest.raises(DataError, match=needle):
            parse_infer(bad)
    with pytest.raises(UserError, match="128"):
        parse_infer({"inputs": [tensor], "id": "x" * 200})
    payload, binary = split_body(b'{"inputs": []}rest', "14")
    assert payload == {"inputs": []} and binary == b"rest"


def test_datatype_must_fit_the_column(live: LiveServer) -> None:
    inputs = [
        {
            "name": k,
            "shape": [1],
            "datatype": "BYTES" if isinstance(v, str) else "FP64",
            "data": [v],
        }
        for k, v in ROW.items()
    ]
    inputs[1]["datatype"] = "BYTES"  # bill_length_mm is a number column
    r = httpx.post(live.url + "/v2/models/penguins/infer", json={"inputs": inputs}, timeout=30)
    assert r.status_code == 422
    assert "inputs[1].datatype: BYTES does not fit column 'bill_length_mm'" in r.json()["error"]
    r = httpx.post(
        live.url + "/v2/models/penguins/infer",
        json={"inputs": inputs[:1], "outputs": [{"name": "nope"}]},
        timeout=30,
    )
    assert r.status_code == 422 and "unknown output 'nope'" in r.json()["error"]
