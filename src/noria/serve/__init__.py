"""Serving: a registered model version as a predictor, a REST server, batch scoring.

- :mod:`noria.serve.predictor` loads a version once (hash checked) and predicts vectorised,
  through a compiled NumPy path (:mod:`noria.serve.fast`), ONNX Runtime or scikit-learn;
- :mod:`noria.serve.schema` checks request payloads against the version's signature;
- :mod:`noria.serve.app` is the FastAPI server (``noria serve``): micro-batching, MLflow and
  Open Inference Protocol routes, metrics, alias following;
- :mod:`noria.serve.predlog` logs every prediction to append-only Parquet segments;
- :mod:`noria.serve.batch` scores files (``noria predict``).

Not here: training, the registry's rules (:mod:`noria.registry`), monitoring.
"""
