"""Logs what the MLflow import tests read, with MLflow's own client (run by the Python of
`.venv-mlflow`, never imported by the tests).

Usage: python mlflow_seed.py TRACKING_URI. It imports MLflow while the server starts,
waits for /health, logs the first state and prints its ids as one line, `SEED {json}` (MLflow prints
lines of its own); then, when a
line `more` arrives on stdin, logs the second state (a new run and version, the alias moved,
version 1 archived) and prints its ids too.
"""

import json
import math
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

url = sys.argv[1]
deadline = time.monotonic() + 600
while True:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
            if answer.status == 200:
                break
    except OSError:
        if time.monotonic() > deadline:
            raise
    time.sleep(0.2)

mlflow.set_tracking_uri(url)
client = MlflowClient(url)
MODEL = "credit-scoring"
mlflow.set_experiment("credit-pd")
with mlflow.start_run(run_name="train") as parent:
    mlflow.log_params({"max_depth": 4, "learning_rate": 0.1})
    mlflow.log_metric("auc", 0.71, step=0)
    mlflow.log_metric("auc", 0.74, step=1)
    mlflow.set_tags({"team": "risk", "mlflow.note.content": "first model"})
    folder = Path(tempfile.mkdtemp())
    (folder / "model.txt").write_text("weights 1\n")
    (folder / "card.md").write_text("# card\n")
    mlflow.log_artifact(str(folder / "model.txt"), artifact_path="model")
    mlflow.log_artifact(str(folder / "card.md"))
    with mlflow.start_run(run_name="fold-1", nested=True) as child:
        mlflow.log_metric("auc", 0.70)
client.create_registered_model(MODEL, description="PD model")
v1 = client.create_model_version(MODEL, f"runs:/{parent.info.run_id}/model", parent.info.run_id)
client.transition_model_version_stage(MODEL, v1.version, "Production")
client.set_registered_model_alias(MODEL, "champion", v1.version)

bad = client.create_experiment("credit-bad")
start = int(time.time() * 1000)
ids = {}
for offset, (name, value) in enumerate(
    [("good_before", 0.5), ("bad", math.nan), ("good_after", 0.6)]
):
    run = client.create_run(bad, start_time=start + offset * 1000, run_name=name)
    client.log_metric(run.info.run_id, "loss", value)
    client.set_terminated(run.info.run_id)
    ids[name] = run.info.run_id
print(
    "SEED",
    json.dumps({"parent": parent.info.run_id, "child": child.info.run_id, **ids}),
    flush=True,
)

if sys.stdin.readline().strip() == "more":
    mlflow.set_experiment("credit-pd")
    with mlflow.start_run(run_name="train-2") as second:
        mlflow.log_metric("auc", 0.76)
    v2 = client.create_model_version(MODEL, f"runs:/{second.info.run_id}/model", second.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", v2.version)
    client.transition_model_version_stage(MODEL, v1.version, "Archived")
    print("SEED", json.dumps({"second": second.info.run_id}), flush=True)
