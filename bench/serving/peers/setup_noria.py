"""Train the benchmark model once: a noria project with the penguins HistGradientBoosting
pipeline registered as champion, and the same fitted pipeline as model.joblib for MLflow.

usage: setup_noria.py WORKDIR
"""

import json
import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

import noria
from noria.cli.demo import write_demo_data
from noria.features.preprocess import build_preprocessor, plan_columns
from noria.pipeline import materializers
from noria.registry import register_model
from noria.train.candidates import make_estimator

work = Path(sys.argv[1])
csv = write_demo_data(work / "data")
frame = pd.read_csv(csv).dropna(subset=["species"]).reset_index(drop=True)
plan = plan_columns(frame, target="species", drop=[], max_onehot_cardinality=20)
model = Pipeline(
    [
        ("preprocess", build_preprocessor(plan)),
        ("model", make_estimator("hist_gradient_boosting", "classification")),
    ]
)
x = frame.drop(columns=["species"])
model.fit(x, frame["species"])
(work / "noria.yaml").write_text(
    "name: penguins\ndata: {source: data/penguins.csv}\ntarget: species\n"
)
project = noria.Project(work)
mid, data = materializers.dump(model)
artifact = project.artifacts.put(data)
with project.metadata.write() as tx:
    project.metadata.insert_artifacts(
        tx,
        [
            {
                "id": artifact,
                "materializer": mid,
                "type_name": "Pipeline",
                "size": len(data),
                "created_at": 0.0,
            }
        ],
    )
register_model(
    project.metadata,
    name="penguins",
    artifact_id=artifact,
    run_id=None,
    signature=[{"name": str(c), "dtype": str(t)} for c, t in x.dtypes.items()],
    metrics={},
    params={
        "family": "hist_gradient_boosting",
        "task": "classification",
        "classes": sorted(model.classes_.tolist()),
    },
)
joblib.dump(model, work / "model.joblib")
# a deploy step: load once, which compiles the model and caches it for every later start
from noria.serve.predictor import Predictor  # noqa: E402

Predictor.load(project.metadata, project.artifacts, "penguins", cache_dir=project.home / "serve")
rows = json.loads(x.head(1000).to_json(orient="split", index=False))
one = {"dataframe_split": {"columns": rows["columns"], "data": rows["data"][:1]}}
batch = {"dataframe_split": {"columns": rows["columns"], "data": (rows["data"] * 3)[:1000]}}
(work / "one.json").write_text(json.dumps(one))
(work / "batch.json").write_text(json.dumps(batch))
print(json.dumps({"ok": True}))
