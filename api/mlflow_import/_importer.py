"""An import from MLflow: incremental, idempotent, one atomic batch per record.

What is read first and checked before anything is written: the server answers, every named
experiment and registered model exists. Then each run is one batch through the store's
write gate (`LedgerStore.submit`, as the importing user: roles, admission), so a run is
either wholly in the ledger or not at all; a run already imported from this server (its
`run.imported` entry names the server and run id) is not written again, so a stopped
import resumes where it stopped. A model version is written again only when the registry
reports it changed (a new stage, an alias moved): the ledger keeps the registry's history
as the imports saw it, since MLflow keeps none of its stage transitions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from api.mlflow_import._records import aliases_by_version, run_payload, version_payload
from api.mlflow_import._source import MLflowSource
from ledger.errors import (
    ImportedRunRefused,
    ImportSourceError,
    InvalidStatement,
    PayloadTooLarge,
)
from ledger.governance import Principal
from ledger.log.entries import build_statement
from ledger.log.kinds import Kind
from ledger.store import EntryFilter, LedgerStore

OnBadRun = Literal["skip", "stop"]


@dataclass
class ImportReport:
    """What an import wrote and what it left: counts, and each refused run with why."""

    server: str
    runs_written: int = 0
    runs_already: int = 0
    versions_written: int = 0
    versions_unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    """One line per run refused (`--on-bad-run skip`), naming the run and the field."""
    stopped: str | None = None
    """The refusal that stopped the import (`--on-bad-run stop`), or None."""

    def summary(self) -> str:
        """One line: what was written and what was there already."""
        return (
            f"Imported from {self.server}: {self.runs_written} runs "
            f"({self.runs_already} already imported, {len(self.refused)} skipped), "
            f"{self.versions_written} model versions "
            f"({self.versions_unchanged} unchanged since the last import)"
        )


def import_mlflow(
    store: LedgerStore,
    principal: Principal,
    source: MLflowSource,
    *,
    experiments: Sequence[str] = (),
    registered_models: Sequence[str] = (),
    on_bad_run: OnBadRun = "stop",
    with_artifacts: bool = True,
    hash_artifacts: bool = False,
) -> ImportReport:
    """Import the named experiments' runs and registered models' versions (everything the
    server holds when neither is named) as entries by `principal`.

    Raises ImportSourceError (or ImportSourceNotFound) before writing anything when the
    server cannot be read or a named experiment or model does not exist there; a run the
    ledger refuses (a NaN metric) is skipped or stops the import, per `on_bad_run`, with
    the runs before it imported and nothing of it. With `hash_artifacts`, each listed file
    the server serves (its artifact proxy) is downloaded once and its SHA-256 recorded."""
    everything = not experiments and not registered_models
    chosen = (
        source.experiments()
        if everything
        else [source.experiment(name) for name in dict.fromkeys(experiments)]
    )
    models = (
        source.registered_models()
        if everything
        else [source.registered_model(name) for name in dict.fromkeys(registered_models)]
    )
    report = ImportReport(server=source.server)
    done, states = _imported(store, source.server)
    by_id = {str(e["experiment_id"]): e for e in chosen}
    runs = source.runs(list(by_id)) if by_id else iter(())
    for run in runs:
        run_id = str(run["info"]["run_id"])
        if run_id in done:
            report.runs_already += 1
            continue
        try:
            files = source.artifacts(run_id) if with_artifacts else []
            if hash_artifacts:
                files = [_hashed(source, run, f) for f in files]
            experiment = by_id[str(run["info"]["experiment_id"])]
            statement = build_statement(
                kind=Kind.RUN_IMPORTED,
                actor=principal.name,
                payload=run_payload(source.server, experiment, run, files),
            )
        except (InvalidStatement, PayloadTooLarge) as refusal:
            message = refusal.message
            if not isinstance(refusal, ImportedRunRefused):
                message = f"run {run_id}: {message}"
            if on_bad_run == "stop":
                report.stopped = message
                return report
            report.refused.append(message)
            continue
        store.submit(principal, [statement], idempotency_key=_key("run", source.server, run_id))
        done.add(run_id)
        report.runs_written += 1
    for model in models:
        full = source.registered_model(str(model["name"])) if everything else model
        aliases = aliases_by_version(full)
        for version in source.model_versions(str(full["name"])):
            payload = version_payload(
                source.server, version, aliases.get(str(version["version"]), [])
            )
            where = (str(version["name"]), str(version["version"]))
            if states.get(where) == payload:
                report.versions_unchanged += 1
                continue
            statement = build_statement(
                kind=Kind.REGISTRY_IMPORTED, actor=principal.name, payload=payload
            )
            store.submit(
                principal,
                [statement],
                idempotency_key=_key("version", source.server, *where, _digest(payload)),
            )
            states[where] = payload
            report.versions_written += 1
    return report


def _hashed(source: MLflowSource, run: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A listed file with its SHA-256 when the server serves its bytes; its size is then the
    bytes downloaded, which must be the size the listing gave."""
    uri = str(run["info"].get("artifact_uri", ""))
    found = source.artifact_digest(uri, str(item["path"]))
    if found is None:
        return item
    sha256, size = found
    if "file_size" in item and int(item["file_size"]) != size:
        raise ImportSourceError(
            f"artifact {item['path']!r} of run {run['info']['run_id']} on {source.server} is "
            f"listed as {item['file_size']} bytes but {size} arrived: re-run the import"
        )
    return {**item, "file_size": size, "sha256": sha256}


def _imported(
    store: LedgerStore, server: str
) -> tuple[set[str], dict[tuple[str, str], dict[str, Any]]]:
    """The run ids already imported from `server`, and each model version's latest
    imported state, read from the ledger's `run.imported` and `registry.imported` entries."""
    runs: set[str] = set()
    states: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in (Kind.RUN_IMPORTED, Kind.REGISTRY_IMPORTED):
        after = -1
        while batch := store.list_entries(
            EntryFilter(kind=kind.value), after_seq=after, limit=1000
        ):
            for entry in batch:
                payload = entry.statement.payload
                src = payload.get("source", {})
                if src.get("server") != server:
                    continue
                if kind is Kind.RUN_IMPORTED:
                    runs.add(str(src.get("run_id")))
                else:
                    where = (str(src.get("registered_model")), str(src.get("model_version")))
                    states[where] = payload
            after = batch[-1].seq
    return runs, states


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _key(*parts: str) -> str:
    """The Idempotency-Key of one record's write: a retry (two imports at once) of the same
    record returns the first entry instead of writing it twice."""
    return "mlflow-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()
