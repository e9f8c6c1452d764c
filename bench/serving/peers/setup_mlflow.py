"""Save the benchmark's fitted pipeline as an MLflow model (sklearn flavor).

usage: setup_mlflow.py WORKDIR   (noria's source on PYTHONPATH: the pipeline pickles its helpers)
"""

import json
import sys
from pathlib import Path

import joblib
import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature

work = Path(sys.argv[1])
model = joblib.load(work / "model.joblib")
x = pd.read_csv(work / "data" / "penguins.csv").drop(columns=["species"]).head(50)
mlflow.sklearn.save_model(
    model,
    str(work / "mlflow-model"),
    signature=infer_signature(x, model.predict(x)),
    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
)
print(json.dumps({"ok": True, "version": mlflow.__version__}))
