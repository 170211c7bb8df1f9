"""MLflow's JSON turned into the payloads of `run.imported` and `registry.imported`.

Pure functions: what the server said goes in as it said it (params and tags as strings,
each metric's latest value with its step and time), times become RFC 3339 claims in the
payload, and a value the ledger cannot carry (a NaN or infinite metric) is refused here,
naming the run and the field, before anything is written.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.errors import ImportedRunRefused

PARENT_RUN_TAG = "mlflow.parentRunId"
"""The tag MLflow sets on a nested run: its parent's run id."""

DATASET_CONTEXT_TAG = "mlflow.data.context"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def claimed_time(millis: Any) -> str | None:
    """MLflow's milliseconds since the epoch as RFC 3339 UTC (None when absent)."""
    if millis in (None, "", 0, "0"):
        return None
    moment = _EPOCH + timedelta(milliseconds=int(millis))
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _pairs(items: Any) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


def _metric_value(run_id: str, key: str, value: Any) -> float:
    """A metric's value as a finite float; ImportedRunRefused for NaN or infinity (MLflow
    sends them as the strings "NaN", "Infinity", "-Infinity")."""
    number = float(value)
    if not math.isfinite(number):
        raise ImportedRunRefused(
            f"run {run_id}: metric {key!r} is {value}; the ledger refuses NaN and infinite "
            "numbers: fix or delete the metric in MLflow, or pass --on-bad-run skip to import "
            "the other runs"
        )
    return number


def run_payload(
    server: str,
    experiment: dict[str, Any],
    run: dict[str, Any],
    artifacts: list[dict[str, Any]],
) -> dict[str, Any]:
    """The `run.imported` payload of one MLflow run (`runs/search` item), with its files."""
    info, data = run.get("info", {}), run.get("data", {})
    run_id = str(info.get("run_id") or info.get("run_uuid"))
    tags = _pairs(data.get("tags"))
    metrics = {
        str(m["key"]): {
            "value": _metric_value(run_id, str(m["key"]), m.get("value")),
            "step": int(m.get("step", 0)),
            **({"timestamp": t} if (t := claimed_time(m.get("timestamp"))) else {}),
        }
        for m in data.get("metrics", []) or []
    }
    payload: dict[str, Any] = {
        "source": {
            "system": "mlflow",
            "server": server,
            "experiment_id": str(experiment["experiment_id"]),
            "experiment": str(experiment.get("name", "")),
            "run_id": run_id,
        },
        "run_name": str(info.get("run_name", "")),
        "status": str(info.get("status", "")),
        "user_id": str(info.get("user_id", "")),
        "params": _pairs(data.get("params")),
        "metrics": metrics,
        "tags": tags,
        "artifacts": [_artifact(f) for f in artifacts],
        "datasets": [_dataset(d) for d in (run.get("inputs") or {}).get("dataset_inputs", [])],
    }
    for field, millis in (
        ("start_time", info.get("start_time")),
        ("end_time", info.get("end_time")),
    ):
        if (moment := claimed_time(millis)) is not None:
            payload[field] = moment
    if PARENT_RUN_TAG in tags:
        payload["parent_run_id"] = tags[PARENT_RUN_TAG]
    return payload


def _artifact(item: dict[str, Any]) -> dict[str, Any]:
    """A listed file: path, size (when listed), SHA-256 (when the importer hashed it)."""
    found: dict[str, Any] = {"path": str(item["path"])}
    if "file_size" in item:
        found["size"] = int(item["file_size"])
    if "sha256" in item:
        found["sha256"] = str(item["sha256"])
    return found


def _dataset(item: dict[str, Any]) -> dict[str, str]:
    dataset = item.get("dataset", {})
    context = _pairs(item.get("tags")).get(DATASET_CONTEXT_TAG, "")
    return {
        "name": str(dataset.get("name", "")),
        "digest": str(dataset.get("digest", "")),
        "source_type": str(dataset.get("source_type", "")),
        "context": context,
    }


def version_payload(server: str, version: dict[str, Any], aliases: list[str]) -> dict[str, Any]:
    """The `registry.imported` payload of one model version (`model-versions/search` item)
    with the aliases the registered model points at it."""
    payload: dict[str, Any] = {
        "source": {
            "system": "mlflow",
            "server": server,
            "registered_model": str(version["name"]),
            "model_version": str(version["version"]),
        },
        "source_uri": str(version.get("source", "")),
        "status": str(version.get("status", "")),
        "current_stage": str(version.get("current_stage", "")),
        "aliases": sorted(aliases),
        "user_id": str(version.get("user_id", "")),
        "description": str(version.get("description", "")),
        "tags": _pairs(version.get("tags")),
    }
    if version.get("run_id"):
        payload["run_id"] = str(version["run_id"])
    for field, millis in (
        ("creation_time", version.get("creation_timestamp")),
        ("last_updated_time", version.get("last_updated_timestamp")),
    ):
        if (moment := claimed_time(millis)) is not None:
            payload[field] = moment
    return payload


def aliases_by_version(registered_model: dict[str, Any]) -> dict[str, list[str]]:
    """The registered model's aliases (`registered-models/get`), grouped by version."""
    grouped: dict[str, list[str]] = {}
    for item in registered_model.get("aliases", []) or []:
        grouped.setdefault(str(item["version"]), []).append(str(item["alias"]))
    return grouped
