"""The Open Inference Protocol (KServe V2, Triton's HTTP/REST API), with binary tensor data.

Routes: ``GET /v2`` (server metadata, extensions ``["binary_tensor_data"]``), ``GET
/v2/health/live`` and ``/v2/health/ready``, ``GET /v2/models/{name}[/versions/{version}]``
(model metadata), ``GET /v2/models/{name}/ready`` and ``POST
/v2/models/{name}[/versions/{version}]/infer``.

An inference request has one input tensor per signature column (shape ``[n]`` or ``[n, 1]``),
numbers as any of the numeric datatypes, strings as ``BYTES``, booleans as ``BOOL``. The outputs
are ``predict`` (``BYTES`` labels for a classifier, ``FP64`` values for a regressor) and, for a
classifier, ``predict_proba`` (``FP64``, ``[n, classes]``); a request may name the ones it wants.

The binary tensor data extension, as Triton and KServe define it: when the request has an
``Inference-Header-Content-Length`` header, the body is that many bytes of JSON followed by the
raw data of every input whose ``parameters`` has ``binary_data_size`` (in input order):
little-endian, row-major, ``BOOL`` one byte per element, ``BYTES`` each element a 4-byte
little-endian length then its bytes. An output is answered in binary when the request asks with
``outputs[i].parameters.binary_data`` or, for all outputs not named, with the request's
``parameters.binary_data_output``; the answer then has the same header and layout, content type
``application/octet-stream``. In a binary floating-point tensor, NaN is a missing value (JSON
tensors use ``null``). Errors are ``{"error": message}``.

Not here: the checks of values against the signature (:mod:`noria.serve.schema`), the HTTP
plumbing (:mod:`noria.serve.wire`).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

from noria.errors import DataError, NotFoundError, UserError
from noria.serve.wire import exchange, only, parse_json, read_body, request_id

if TYPE_CHECKING:
    from noria.serve.app import Server
    from noria.serve.openapi import Shapes
    from noria.serve.predictor import Prediction, Predictor
    from noria.serve.schema import Columns

__all__ = [
    "EXTENSIONS",
    "HEADER",
    "InferRequest",
    "add_routes",
    "encode_bytes",
    "metadata",
    "outputs_of",
    "parse_infer",
    "request_schema",
    "split_body",
]

#: The protocol extensions this server speaks (in the server metadata).
EXTENSIONS = ("binary_tensor_data",)

#: The header giving the size of the JSON part of a binary request or answer.
HEADER = "inference-header-content-length"

#: Little-endian NumPy types of the fixed-size datatypes (``BF16`` is widened by hand).
NUMERIC = {
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
    "BF16": "<u2",
}
DATATYPES = ("BOOL", *NUMERIC, "BYTES")

#: The datatypes each kind of signature column takes, the first being the one metadata names.
FOR_KIND = {
    "numeric": ("FP64", *(t for t in NUMERIC if t != "FP64")),
    "string": ("BYTES",),
    "temporal": ("BYTES",),
    "boolean": ("BOOL",),
}


# --------------------------------------------------------------------------- requests


def split_body(body: bytes, header_length: str | None) -> tuple[Any, bytes]:
    """The JSON part of an inference request, parsed, and the binary part after it."""
    if header_length is None:
        return parse_json(body), b""
    text = header_length.strip()
    if not text.isdigit() or not 0 < int(text) <= len(body):
        raise UserError(
            f"header Inference-Header-Content-Length: {text[:20]!r} is not the size of the JSON "
            f"part of a {len(body):,}-byte body; send the JSON's size in bytes"
        )
    size = int(text)
    return parse_json(body[:size], where="inference header"), body[size:]


@dataclass
class InferRequest:
    """An inference request, checked: its columns, id and the outputs it asks for."""

    columns: dict[str, list[Any]]
    datatypes: dict[str, tuple[int, str]]  # column -> (input index, datatype)
    id: str | None = None
    outputs: dict[str, bool] | None = None  # name -> binary; None: every output
    binary_output: bool = False

    def columns_of(self, predictor: Predictor) -> Columns:
        """The request's columns, checked against ``predictor``'s signature."""
        if self.outputs is not None:
            available = outputs_of(predictor)
            for name in self.outputs:
                if name not in available:
                    raise DataError(
                        f"outputs: unknown output '{name[:64]}'; this model has "
                        f"{', '.join(available)}"
                    )
        kinds = predictor.signature.kinds
        for name, (i, datatype) in self.datatypes.items():
            kind = kinds.get(name)
            if kind is not None and datatype not in FOR_KIND[kind]:
                raise DataError(
                    f"inputs[{i}].datatype: {datatype} does not fit column '{name}', which takes "
                    f"{_article(kind)}; send {' or '.join(FOR_KIND[kind][:3])}"
                )
        return predictor.signature.from_mapping(self.columns, where="inputs")


def outputs_of(predictor: Predictor) -> list[str]:
    """The names of a model's outputs."""
    return ["predict", "predict_proba"] if predictor.classes else ["predict"]


def _article(kind: str) -> str:
    return {"numeric": "numbers", "boolean": "booleans"}.get(kind, "strings")


def parse_infer(payload: Any, binary: bytes = b"") -> InferRequest:
    """Check an inference request's JSON (and binary part) and gather its columns.

    Raises:
        DataError: a malformed tensor, request or output (422). UserError: binary data that does
            not match what the JSON says (400).
    """
    only(payload, ("id", "inputs", "outputs", "parameters"))
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise DataError("inputs: expected a non-empty list of tensors, one per column")
    request = InferRequest({}, {})
    if "id" in payload:
        if not isinstance(payload["id"], str):
            raise DataError("id: expected a string")
        request.id = request_id(payload["id"], where="id")
    parameters = payload.get("parameters", {})
    if not isinstance(parameters, dict):
        raise DataError("parameters: expected an object")
    request.binary_output = _flag(parameters, "binary_data_output", "parameters")
    offset = 0
    for i, tensor in enumerate(inputs):
        where = f"inputs[{i}]"
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise DataError(f"{where}: expected a tensor with name, shape, datatype, data")
        only(tensor, ("name", "shape", "datatype", "data", "parameters"), where=where)
        name = tensor["name"]
        if name in request.columns:
            raise DataError(f"{where}: tensor '{name}' appears twice")
        datatype = tensor.get("datatype")
        if datatype not in DATATYPES:
            raise DataError(
                f"{where}.datatype: expected one of {', '.join(DATATYPES)}, got {datatype!r:.40}"
            )
        shape = tensor.get("shape")
        if (
            not isinstance(shape, list)
            or not shape
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
        ):
            raise DataError(f"{where}.shape: expected a list of sizes such as [rows] or [rows, 1]")
        count = math.prod(shape)
        if len(shape) > 2 or count != shape[0]:
            raise DataError(
                f"{where}.shape: {shape} has {count} values for {shape[0]} rows; send one column "
                "per tensor, shape [rows] or [rows, 1]"
            )
        tparams = tensor.get("parameters", {})
        if not isinstance(tparams, dict):
            raise DataError(f"{where}.parameters: expected an object")
        size = tparams.get("binary_data_size")
        if size is not None:
            if "data" in tensor:
                raise DataError(f"{where}: send either data or binary_data_size, not both")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise DataError(f"{where}.parameters.binary_data_size: expected a size in bytes")
            if offset + size > len(binary):
                raise UserError(
                    f"{where}.parameters.binary_data_size: {size:,} bytes, but the body has "
                    f"{len(binary) - offset:,} bytes of binary data left; send the tensor's "
                    "bytes after the JSON, with the Inference-Header-Content-Length header"
                )
            values = decode(datatype, binary[offset : offset + size], count, where)
            offset += size
        else:
            if "data" not in tensor:
                raise DataError(f"{where}: missing field 'data' (or parameters.binary_data_size)")
            values = _flat(tensor["data"], count, where)
        request.columns[name] = values
        request.datatypes[name] = (i, datatype)
    if offset != len(binary):
        raise UserError(
            f"body: {len(binary) - offset:,} bytes of binary data after the tensors' data; each "
            "binary input needs parameters.binary_data_size"
        )
    if payload.get("outputs", []) != []:  # none named (or an empty list): every output
        request.outputs = _outputs(payload["outputs"], request.binary_output)
    return request


def _flag(parameters: dict[str, Any], key: str, where: str) -> bool:
    value = parameters.get(key, False)
    if not isinstance(value, bool):
        raise DataError(f"{where}.{key}: expected true or false")
    return value


def _outputs(outputs: Any, binary_default: bool) -> dict[str, bool]:
    if not isinstance(outputs, list):
        raise DataError('outputs: expected a list of {"name": …} objects')
    wanted: dict[str, bool] = {}
    for i, output in enumerate(outputs):
        where = f"outputs[{i}]"
        only(output, ("name", "parameters"), where=where)
        if not isinstance(output.get("name"), str):
            raise DataError(f"{where}.name: expected the name of an output")
        parameters = output.get("parameters", {})
        if not isinstance(parameters, dict):
            raise DataError(f"{where}.parameters: expected an object")
        if parameters.get("classification"):
            raise DataError(f"{where}.parameters.classification: not supported; ask predict_proba")
        wanted[output["name"]] = (
            _flag(parameters, "binary_data", f"{where}.parameters")
            if "binary_data" in parameters
            else binary_default
        )
    return wanted


def _flat(data: Any, count: int, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise DataError(f"{where}.data: expected a list of values")
    if data and isinstance(data[0], list):
        data = [v[0] if isinstance(v, list) and len(v) == 1 else v for v in data]
    if len(data) != count:
        raise DataError(f"{where}.shape: says {count} values, data has {len(data)}")
    return data


def decode(datatype: str, raw: bytes, count: int, where: str) -> list[Any]:
    """``count`` values of ``datatype`` from their binary form (NaN read as a missing value)."""
    if datatype == "BYTES":
        return _decode_bytes(raw, count, where)
    if datatype == "BOOL":
        array = np.frombuffer(raw, dtype=np.uint8)
        if len(array) != count:
            raise UserError(
                f"{where}: {len(raw):,} bytes hold {len(array)} BOOL values, not {count}"
            )
        if (array > 1).any():
            raise DataError(f"{where}: BOOL values are bytes 0 or 1")
        return array.astype(bool).tolist()
    dtype = np.dtype(NUMERIC[datatype])
    if len(raw) != count * dtype.itemsize:
        raise UserError(
            f"{where}: {len(raw):,} bytes is not {count} {datatype} values "
            f"({count * dtype.itemsize:,} bytes)"
        )
    array = np.frombuffer(raw, dtype=dtype)
    if datatype == "BF16":
        array = (array.astype("<u4") << 16).view("<f4")
    if array.dtype.kind == "f":
        array = array.astype(float)
        missing = np.isnan(array)
        if missing.any():
            values = array.tolist()
            return [None if m else v for v, m in zip(values, missing.tolist(), strict=True)]
    return array.tolist()


def _decode_bytes(raw: bytes, count: int, where: str) -> list[Any]:
    values: list[Any] = []
    offset, end = 0, len(raw)
    while offset < end:
        if offset + 4 > end:
            raise UserError(f"{where}: BYTES element {len(values)} is cut short")
        (n,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + n > end:
            raise UserError(f"{where}: BYTES element {len(values)} is cut short")
        try:
            values.append(raw[offset : offset + n].decode())
        except UnicodeDecodeError:
            raise DataError(f"{where}: BYTES element {len(values)} is not UTF-8 text") from None
        offset += n
    if len(values) != count:
        raise UserError(f"{where}: {len(values)} BYTES elements, but the shape says {count}")
    return values


def encode_bytes(values: list[Any]) -> bytes:
    """``BYTES`` elements in binary form: each a 4-byte little-endian length, then UTF-8."""
    parts = []
    for value in values:
        text = value if isinstance(value, str) else _text(value)
        data = text.encode()
        parts.append(struct.pack("<I", len(data)))
        parts.append(data)
    return b"".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- answers


def metadata(p: Predictor) -> dict[str, Any]:
    """A model's metadata: its inputs (one per column) and outputs."""
    inputs = [
        {"name": n, "datatype": FOR_KIND[p.signature.kinds[n]][0], "shape": [-1]}
        for n in p.signature.names
    ]
    outputs = [{"name": "predict", "datatype": "BYTES" if p.classes else "FP64", "shape": [-1]}]
    if p.classes:
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(p.classes)]})
    return {
        "name": p.name,
        "versions": [str(p.version)],
        "platform": f"noria-{p.path}",
        "inputs": inputs,
        "outputs": outputs,
    }


def answer(p: Predictor, result: Prediction, request: InferRequest, rid: str) -> bytes | Response:
    """The inference answer: JSON, or JSON then binary outputs as the request asked."""
    n = len(result.predictions)
    available = ["predict"] + (["predict_proba"] if result.probabilities is not None else [])
    wanted = request.outputs
    if wanted is None:
        wanted = dict.fromkeys(available, request.binary_output)
    outputs: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for name in available:
        if name not in wanted:
            continue
        if name == "predict":
            datatype = "BYTES" if p.classes else "FP64"
            tensor: dict[str, Any] = {"name": name, "shape": [n], "datatype": datatype}
            if wanted[name]:
                blob = (
                    encode_bytes(result.predictions)
                    if p.classes
                    else np.asarray(result.predictions, dtype="<f8").tobytes()
                )
            else:
                tensor["data"] = result.predictions
        else:
            proba = result.probabilities
            assert proba is not None
            tensor = {"name": name, "shape": [n, proba.shape[1]], "datatype": "FP64"}
            if wanted[name]:
                blob = np.ascontiguousarray(proba, dtype="<f8").tobytes()
            else:
                tensor["data"] = proba.reshape(-1)
        if wanted[name]:
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        outputs.append(tensor)
    header = orjson.dumps(
        {"model_name": p.name, "model_version": str(p.version), "id": rid, "outputs": outputs},
        option=orjson.OPT_SERIALIZE_NUMPY,
    )
    if not blobs:
        return header
    return Response(
        b"".join([header, *blobs]),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(header))},
    )


# --------------------------------------------------------------------------- documents


def request_schema(shapes: Shapes) -> dict[str, Any]:
    """An inference request (JSON tensors) as JSON Schema, for the served model's columns.

    One tensor per column, in signature order, one row each: the server takes any order and
    any number of rows, which a schema cannot say while keeping the columns' lengths equal.
    """
    from noria.serve.wire import REQUEST_ID_PATTERN

    tensors = []
    for name in shapes.names:
        kind = shapes.kinds[name]
        tensors.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": name},
                    "datatype": {"enum": list(FOR_KIND[kind])},
                    "shape": {"type": "array", "items": {"const": 1}, "minItems": 1, "maxItems": 2},
                    "data": {
                        "type": "array",
                        "items": shapes.values[name],
                        "minItems": 1,
                        "maxItems": 1,
                    },
                    "parameters": {"type": "object", "properties": {"binary_data_size": False}},
                },
                "required": ["name", "datatype", "shape", "data"],
                "additionalProperties": False,
            }
        )
    outputs = ["predict", "predict_proba"] if shapes.classifier else ["predict"]
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": REQUEST_ID_PATTERN},
            "inputs": {
                "type": "array",
                "prefixItems": tensors,
                "items": False,
                "minItems": len(tensors),
            },
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"enum": outputs},
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "binary_data": {"type": "boolean"},
                                "classification": False,
                            },
                        },
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            },
            "parameters": {
                "type": "object",
                "properties": {"binary_data_output": {"type": "boolean"}},
            },
        },
        "required": ["inputs"],
        "additionalProperties": False,
    }


# --------------------------------------------------------------------------- routes


def add_routes(app: Any, server: Server) -> None:
    """Add the ``/v2`` routes to ``app``."""

    def model(name: str, version: str | None = None) -> Predictor:
        p = server.ready_predictor()
        if name != p.name:
            raise NotFoundError(
                f"model '{name[:64]}' is not served here; this server serves '{p.name}'"
            )
        if version is not None and version != str(p.version):
            raise NotFoundError(
                f"model '{name}' version '{version[:64]}' is not loaded; serving version "
                f"{p.version}"
            )
        return p

    @app.get("/v2", summary="Open Inference Protocol: server metadata")
    async def v2_server(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return orjson.dumps({"name": "noria", "version": "1", "extensions": list(EXTENSIONS)})

        return await exchange(server, request, "/v2", "v2", work)

    @app.get("/v2/health/live", summary="Open Inference Protocol: liveness")
    async def v2_live() -> Response:
        return Response(orjson.dumps({"live": True}), media_type="application/json")

    @app.get("/v2/health/ready", summary="Open Inference Protocol: readiness")
    async def v2_ready() -> Response:
        ok = server.predictor is not None
        return Response(
            orjson.dumps({"ready": ok}), 200 if ok else 503, media_type="application/json"
        )

    async def infer(request: Request, name: str, version: str | None) -> Response:
        async def work(request_id: str, started: float) -> bytes | Response:
            model(name, version)
            body = await read_body(request, server.max_body)
            payload, binary = split_body(body, request.headers.get(HEADER))
            parsed = parse_infer(payload, binary)
            rid = parsed.id or request_id
            p, result = await server.run(parsed.columns_of, rid, started)
            return answer(p, result, parsed, rid)

        return await exchange(server, request, "/v2/infer", "v2", work)

    @app.get("/v2/models/{name}", summary="Open Inference Protocol: model metadata")
    async def v2_model_metadata(request: Request, name: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return orjson.dumps(metadata(model(name)))

        return await exchange(server, request, "/v2/models", "v2", work)

    @app.get(
        "/v2/models/{name}/versions/{version}", summary="Open Inference Protocol: version metadata"
    )
    async def v2_version_metadata(request: Request, name: str, version: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return orjson.dumps(metadata(model(name, version)))

        return await exchange(server, request, "/v2/models", "v2", work)

    @app.get("/v2/models/{name}/ready", summary="Open Inference Protocol: model readiness")
    async def v2_model_ready(request: Request, name: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            model(name)
            return orjson.dumps({"name": name, "ready": True})

        return await exchange(server, request, "/v2/models/ready", "v2", work)

    @app.post("/v2/models/{name}/infer", summary="Open Inference Protocol: inference")
    async def v2_infer_latest(request: Request, name: str) -> Response:
        return await infer(request, name, None)

    @app.post(
        "/v2/models/{name}/versions/{version}/infer",
        summary="Open Inference Protocol: inference on a version",
    )
    async def v2_infer_version(request: Request, name: str, version: str) -> Response:
        return await infer(request, name, version)
