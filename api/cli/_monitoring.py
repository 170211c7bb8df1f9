"""`govledger monitor`: one period of production monitoring from a Parquet or CSV sample.

Measures the period and records it with `api.monitoring.monitor_period`, the one path the
Python client's `MonitoringClient.monitor` takes too: the thresholds, features and reference
profile of the plan in force for the version in the environment, the tables into the
artifact store, the report (`monitoring.reported`) through the store's write gate as the
user of GOVLEDGER_API_KEY, so the ledger checks it like any report: the plan in force, the
statuses its thresholds give, a period in which the version served there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli._ledger_access import acting_user, ledger_settings, open_store
from api.cli._terminal import console, fail, friendly_errors
from ledger.errors import NotFound

if TYPE_CHECKING:
    from api.monitoring import PlanInForce
    from ledger.governance import Principal
    from ledger.store import ArtifactStore, LedgerStore

commands = typer.Typer()


@dataclass
class _StoreLedger:
    """`api.monitoring.MonitoringLedger` over the store, writing as the acting user."""

    store: LedgerStore
    principal: Principal
    artifacts: ArtifactStore

    def plan_in_force(self, model: str, version: str, environment: str) -> PlanInForce:
        from api.monitoring import PlanInForce
        from ledger.store import version_view

        view = version_view(self.store, model, version)
        state = next((m for m in view.monitoring if m.environment == environment), None)
        if state is None or state.plan is None:
            raise NotFound(
                f"{model} {version} has no monitoring plan in force in {environment}: record "
                "one and have it approved"
            )
        wanted = state.plan.plan.entry_hash
        entry = next(e for e in view.monitoring_entries if e.entry_hash == wanted)
        measures = {k: v.model_dump() for k, v in state.plan.plan.measures.items()}
        return PlanInForce(wanted.hex(), measures, dict(entry.statement.payload))

    def download_artifact(self, sha256: str) -> bytes:
        return self.artifacts.get(sha256)

    def put_table(self, name: str, data: bytes) -> dict[str, Any]:
        digest = self.artifacts.put(data)
        return {"name": name, "sha256": digest, "size": len(data), "stored": True, "role": "table"}

    def record_report(
        self, model: str, version: str, payload: dict[str, Any], reason: str
    ) -> dict[str, Any]:
        from ledger.governance import Submission
        from ledger.log.entries import build_statement

        statement = build_statement(
            kind="monitoring.reported",
            model=model,
            version=version,
            actor=self.principal.name,
            reason=reason,
            payload=payload,
        )
        return self.store.submit(self.principal, [Submission(statement)])[0].to_dict()


def _period(text: str, option: str) -> tuple[str, str]:
    """START:END, days (2026-11-01:2026-11-30) or RFC 3339 UTC times, which hold colons
    themselves (2026-11-01T00:00:00Z:2026-11-30T23:59:59Z: split after the first `Z`)."""
    head, sep, tail = text.partition("Z:")
    start, end = (head + "Z", tail) if sep else text.partition(":")[::2]
    if not start or not end:
        fail(f"{option} {text!r}: write START:END, e.g. 2026-11-01:2026-11-30")
    return start, end


@commands.command()
@friendly_errors
def monitor(
    model: Annotated[str, typer.Argument(help="The model")],
    version: Annotated[str, typer.Argument(help="The version serving in the environment")],
    sample: Annotated[
        Path, typer.Argument(help="The period's sample: a Parquet file or folder, or a CSV")
    ],
    period: Annotated[str, typer.Option(help="START:END, days or RFC 3339 times, included")],
    score_column: Annotated[str, typer.Option(help="The column of scores (P(good))")] = "score",
    env: Annotated[str, typer.Option(help="The environment")] = "production",
    cut_off: Annotated[float, typer.Option(help="Approve at or above this score")] = 0.5,
    outcome_column: Annotated[
        str | None, typer.Option(help="The column of matured outcomes (1 = good)")
    ] = None,
    outcome_window: Annotated[
        str | None,
        typer.Option(help="START:END over which the outcomes were observed (with outcomes)"),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="The reference profile JSON (default: the plan's reference-profile.json)"
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="A note for auditors")] = "",
) -> None:
    """Measure one period of production against the plan in force, and record it."""
    import pandas as pd

    from api.monitoring import monitor_period
    from explain.errors import ExplainError
    from explain.monitoring_reference import ReferenceProfile
    from ledger.store import ArtifactStore

    decided = _period(period, "--period")
    window = None if outcome_window is None else _period(outcome_window, "--outcome-window")
    if (outcome_column is None) != (window is None):
        fail("give --outcome-column and --outcome-window together (when the outcomes matured)")
    if not sample.exists():
        fail(f"{sample} does not exist: give the period's sample as Parquet or CSV")
    profile = None
    if reference is not None:
        if not reference.is_file():
            fail(f"--reference {reference}: no such file")
        profile = ReferenceProfile.model_validate_json(reference.read_text(encoding="utf-8"))
    frame: Any
    outcomes: Any = outcome_column
    if sample.suffix.lower() == ".csv" or sample.is_file():
        frame = pd.read_csv(sample) if sample.suffix.lower() == ".csv" else pd.read_parquet(sample)
        if outcome_column is not None and outcome_column in frame.columns:
            outcomes = frame[[outcome_column]]
            frame = frame.drop(columns=[outcome_column])
    else:
        frame = str(sample)  # a partitioned Parquet folder: explain reads it with Dask
    store = open_store()
    artifacts = ArtifactStore(ledger_settings().artifacts_path)
    ledger = _StoreLedger(store, acting_user(store, "monitor"), artifacts)
    try:
        done = monitor_period(
            ledger,
            model,
            version,
            env,
            decided,
            frame,
            outcomes,
            outcome_window=window,
            score_column=score_column,
            outcome_column=outcome_column or "good",
            cut_off=cut_off,
            reference=profile,
            reason=reason,
        )
    except ExplainError as exc:
        fail(f"{sample}: {exc}")
    red = done.breaches
    verdict = f"breach: {', '.join(red)} red, a response is due" if red else "no breach"
    console.print(
        f"Recorded the {env} report of {model} {version} for {decided[0]}..{decided[1]} at "
        f"seq {done.entry['seq']} ({done.report.n} rows; {verdict})",
        markup=False,
    )
