"""One period of production monitoring in one call: measured against the plan in force, recorded.

Measuring is `explain`'s (`explain.monitoring.monitor`, pure, over pandas, Dask or Parquet)
and recording is the ledger's (`monitoring.reported`, checked by admission against the plan
in force); neither package may import the other (docs/architecture.md), so what joins them
stands above both, here, once, for the two ways in:

- `MonitoringClient`, a `LedgerClient` that also measures, over HTTP:
  `lc.monitor(model, env, period, scores_df, outcomes_df)` (SR 26-2 ongoing monitoring;
  EU AI Act Art. 72 post-market monitoring);
- `govledger monitor`, over the store's write gate as the user of GOVLEDGER_API_KEY
  (`api.cli._monitoring`).

Both hand `monitor_period` a `MonitoringLedger`: where the plan in force and its reference
profile are read, where the report's tables are stored, and how the report is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from explain.monitoring import MonitoringReport, monitor
from explain.monitoring_reference import ReferenceProfile
from explain.monitoring_sources import Period, is_frame_source
from ledger import errors
from ledger.client import LedgerClient

__all__ = [
    "REFERENCE_ARTIFACT",
    "MonitoredPeriod",
    "MonitoringClient",
    "MonitoringLedger",
    "PlanInForce",
    "monitor_period",
]

REFERENCE_ARTIFACT = "reference-profile.json"
"""The plan's artifact holding the reference profile (`ReferenceProfile` JSON)."""


@dataclass(frozen=True)
class PlanInForce:
    """The approved plan reports of a version in an environment are measured under."""

    entry_hash: str
    measures: Mapping[str, Mapping[str, Any]]
    """Each measure's thresholds as the ledger reads them (amber, red, direction)."""
    payload: Mapping[str, Any]
    """The plan entry's payload: features, artifacts, cadence..."""


class MonitoringLedger(Protocol):
    """What `monitor_period` needs of a ledger: `MonitoringClient` over HTTP, the CLI's
    store through its write gate."""

    def plan_in_force(self, model: str, version: str, environment: str) -> PlanInForce: ...

    def download_artifact(self, sha256: str) -> bytes: ...

    def put_table(self, name: str, data: bytes) -> dict[str, Any]:
        """Store one of the report's tables; its artifact reference (role `table`)."""
        ...

    def record_report(
        self, model: str, version: str, payload: dict[str, Any], reason: str
    ) -> dict[str, Any]:
        """Record a `monitoring.reported` payload; the entry (JSON form)."""
        ...


@dataclass(frozen=True)
class MonitoredPeriod:
    """A period measured and recorded: which version, the report, the entry."""

    version: str
    report: MonitoringReport
    entry: dict[str, Any]

    @property
    def breaches(self) -> list[str]:
        """The red measures (a breach the plan's responders must answer)."""
        return list(self.report.red)


def monitor_period(
    ledger: MonitoringLedger,
    model: str,
    version: str,
    environment: str,
    period: tuple[str, str] | Period,
    sample: Any,
    outcomes: Any = None,
    *,
    outcome_window: tuple[str, str] | Period | None = None,
    score_column: str = "score",
    outcome_column: str = "good",
    ids: str | None = None,
    groups: Sequence[str] | None = None,
    cut_off: float = 0.5,
    reference: ReferenceProfile | None = None,
    reason: str = "",
    **options: Any,
) -> MonitoredPeriod:
    """Measure one period of `version` in `environment` against the plan in force there and
    record it: the plan's thresholds, features and reference profile (its
    `reference-profile.json` artifact unless `reference` is given).

    `sample` holds the period's decisions: the plan's features and `score_column` (the
    probability of good risk), plus `ids` and `groups` columns if named; a pandas frame, a
    Dask frame or a Parquet dataset's path. `outcomes` are the matured outcomes (1 = good,
    0 = default) observed over `outcome_window`: a frame with `outcome_column` (and the
    `ids` column to match them to decisions by id; by position otherwise), a Series, or for
    a Dask or Parquet sample the name of its outcome column. `options` go to
    `explain.monitoring.monitor` (confidence, bands, n_bootstrap...).

    Nothing is recorded when the input is wrong: the errors are `explain.errors` (columns
    that differ from the plan's features, an empty period, outcomes for decisions not in
    the sample) or the ledger's own (no plan in force, a period the version did not serve)."""
    plan = ledger.plan_in_force(model, version, environment)
    profile = reference or _reference_profile(ledger, plan)
    features = [str(f) for f in plan.payload.get("features", [])]
    if features and sorted(features) != sorted(profile.feature_names):
        raise errors.InvalidStatement(
            f"the reference profile's features ({', '.join(profile.feature_names)}) are not "
            f"the plan's ({', '.join(features)}): use the profile the plan was approved with"
        )
    report = monitor(
        profile,
        score_column,
        sample,
        period=period,
        cut_off=cut_off,
        outcomes=_outcomes(outcomes, outcome_column, ids, frame_source=is_frame_source(sample)),
        outcome_window=outcome_window,
        ids=ids,
        groups=None if groups is None else list(groups),
        thresholds={str(k): dict(v) for k, v in plan.measures.items()},
        **options,
    )
    payload = {"plan": plan.entry_hash, "environment": environment, **report.report_payload()}
    payload["artifacts"] = [ledger.put_table(n, d) for n, d in report.to_ledger()[1].items()]
    entry = ledger.record_report(model, version, payload, reason)
    return MonitoredPeriod(version, report, entry)


def _reference_profile(ledger: MonitoringLedger, plan: PlanInForce) -> ReferenceProfile:
    for ref in plan.payload.get("artifacts", []):
        if ref.get("name") == REFERENCE_ARTIFACT and ref.get("stored"):
            text = ledger.download_artifact(str(ref["sha256"])).decode("utf-8")
            return ReferenceProfile.model_validate_json(text)
    raise errors.ArtifactNotFound(
        f"the plan cites no stored {REFERENCE_ARTIFACT}: pass the reference profile "
        "(explain.monitoring_reference.reference_profile(...)), or record a plan that cites it"
    )


def _outcomes(outcomes: Any, column: str, ids: str | None, *, frame_source: bool) -> Any:
    """The outcomes as `monitor` takes them: a Series by decision id, an array by position,
    or the sample's outcome column."""
    if outcomes is None or isinstance(outcomes, str):
        return outcomes
    import pandas as pd

    if isinstance(outcomes, pd.DataFrame):
        for needed in (column, ids):
            if needed is not None and needed not in outcomes.columns:
                raise errors.InvalidStatement(
                    f"the outcomes have no column {needed!r} (they have "
                    f"{', '.join(map(str, outcomes.columns))}): name it with "
                    f"{'ids' if needed == ids else 'outcome_column'}="
                )
        if ids is not None:
            return outcomes.set_index(ids)[column]
        if frame_source:
            raise errors.InvalidStatement(
                "outcomes of a Dask or Parquet sample are one of its columns (name it) or, "
                "matched by decision id (ids=), a frame of their own"
            )
        return outcomes[column].to_numpy()
    return outcomes


class MonitoringClient(LedgerClient):
    """A `LedgerClient` that also measures: `monitor` computes a period's report with
    `explain` and records it under the plan in force, in one call."""

    def monitor(
        self,
        model: str,
        env: str,
        period: tuple[str, str] | Period,
        scores_df: Any,
        outcomes_df: Any = None,
        *,
        version: str | None = None,
        **options: Any,
    ) -> MonitoredPeriod:
        """Measure and record one period of the version serving `model` in `env` (or of
        `version`): see `monitor_period` for the sample, the outcomes and the options
        (`outcome_window=` is needed with outcomes)."""
        chosen = version or self.serving_version(model, env)
        return monitor_period(self, model, chosen, env, period, scores_df, outcomes_df, **options)

    def serving_version(self, model: str, env: str) -> str:
        """The version serving `model` in `env` now; NotServing when none does, or when
        several do (a shadow environment): then name the version."""
        serving = self.model(model).get("serving", {}).get(env, [])
        versions = sorted({str(t["version"]) for t in serving})
        if len(versions) != 1:
            which = f"{', '.join(versions)} serve" if versions else "no version serves"
            raise errors.NotServing(f"{which} {model} in {env}: name the version to monitor")
        return versions[0]

    def plan_in_force(self, model: str, version: str, environment: str) -> PlanInForce:
        """The approved plan in force for the version in `environment`, with its payload;
        NotFound without one."""
        view = self.version(model, version)
        state = next(
            (s for s in view.get("monitoring", []) if s["environment"] == environment), None
        )
        if state is None or state["plan"] is None:
            raise errors.NotFound(
                f"{model} {version} has no monitoring plan in force in {environment}: record "
                "one (monitoring_plan) and have it approved"
            )
        wanted = state["plan"]["entry_hash"]
        entry = next(e for e in view["monitoring_entries"] if e["entry_hash"] == wanted)
        return PlanInForce(wanted, dict(state["plan"]["measures"]), dict(entry["payload"]))

    def put_table(self, name: str, data: bytes) -> dict[str, Any]:
        return {**self.upload_artifact(data, name), "role": "table"}

    def record_report(
        self, model: str, version: str, payload: dict[str, Any], reason: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._write(
            "/v1/monitoring/reports",
            {"model": model, "version": version, "reason": reason, "payload": payload},
        )
        return result
