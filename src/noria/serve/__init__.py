"""Serving: a registered model version as a predictor, a REST server, batch scoring.

- :mod:`noria.serve.predictor` loads a version once (hash checked) and predicts vectorised,
  through a compiled NumPy path (:mod:`noria.serve.fast`), ONNX Runtime or scikit-learn;
- :mod:`noria.serve.schema` checks request payloads against the version's signature;
- :mod:`noria.serve.app` is the FastAPI server (``noria serve``): micro-batching, metrics,
  alias following; its wire protocols are :mod:`noria.serve.noria_api` (``/predict``),
  :mod:`noria.serve.mlflow_api` (``/invocations``) and :mod:`noria.serve.oip` (``/v2``, with
  binary tensors), the HTTP plumbing they share :mod:`noria.serve.wire`, and the OpenAPI
  document and docs :mod:`noria.serve.openapi`;
- every prediction is logged to append-only Parquet segments (:mod:`noria.predlog`);
- :mod:`noria.serve.batch` scores files (``noria predict``).

Not here: training, the registry's rules (:mod:`noria.registry`), monitoring.
"""
