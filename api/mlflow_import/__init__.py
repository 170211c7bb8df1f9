"""`govledger import-mlflow`: runs and registry states of an MLflow tracking server copied
into the ledger as `run.imported` and `registry.imported` entries.

Read over MLflow's REST API 2.0 with httpx (`_source`), turned into payloads by pure
functions (`_records`), written one record per atomic batch through the store's write gate
as the importing user (`_importer`). The imported entries are records of what MLflow
said, with its times as claims in the payload; no rule of this ledger (approvals,
deployments, four eyes) reads them.
"""

from __future__ import annotations

from api.mlflow_import._importer import ImportReport, OnBadRun, import_mlflow
from api.mlflow_import._records import claimed_time, run_payload, version_payload
from api.mlflow_import._source import MLflowSource

__all__ = [
    "ImportReport",
    "MLflowSource",
    "OnBadRun",
    "claimed_time",
    "import_mlflow",
    "run_payload",
    "version_payload",
]
