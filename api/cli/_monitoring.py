"""`govledger monitor`: one period of production monitoring from a Parquet or CSV sample.

Computes the report with `explain.monitoring.monitor` against the reference profile and the
thresholds of the plan in force for the version in the environment, stores its tables in
the artifact store, and records it (`monitoring.reported`) as the user of GOVLEDGER_API_KEY
through the store's write gate, so the ledger checks it like any report: the plan in force,
the statuses its thresholds give, a period in which the version served there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli._ledger_access import acting_user, ledger_settings, open_store
from api.cli._terminal import console, fail, friendly_errors

if TYPE_CHECKING:
    from ledger.store import ArtifactStore

commands = typer.Typer()

REFERENCE_ARTIFACT = "reference-profile.json"
"""The plan's artifact holding the reference profile (`explain.ReferenceProfile` JSON)."""


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
        str | None, typer.Option(help="Over which outcomes matured, e.g. '12 months'")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help=f"The reference profile JSON (default: the plan's {REFERENCE_ARTIFACT})"),
    ] = None,
    reason: Annotated[str, typer.Option(help="A note for auditors")] = "",
) -> None:
    """Measure one period of production against the plan in force, and record it."""
    import pandas as pd

    from explain.monitoring import monitor as compute
    from explain.monitoring_reference import ReferenceProfile
    from ledger.governance import Submission
    from ledger.log.entries import build_statement
    from ledger.store import ArtifactStore, version_view

    start, sep, end = period.partition(":")
    if not sep or not start or not end:
        fail(f"--period {period!r}: write START:END, e.g. 2026-11-01:2026-11-30")
    if not sample.exists():
        fail(f"{sample} does not exist: give the period's sample as Parquet or CSV")
    store = open_store()
    principal = acting_user(store, "monitor")
    artifacts = ArtifactStore(ledger_settings().artifacts_path)
    view = version_view(store, model, version)
    state = next((m for m in view.monitoring if m.environment == env and m.plan), None)
    if state is None or state.plan is None:
        fail(f"{model} {version} has no monitoring plan in force in {env}: record one first")
    plan = state.plan.plan
    profile_text = _reference_text(reference, plan_entry_payload(view, plan.entry_hash), artifacts)
    profile = ReferenceProfile.model_validate_json(profile_text)
    frame: Any
    if sample.suffix.lower() == ".csv":
        frame = pd.read_csv(sample)
    elif sample.is_file():
        frame = pd.read_parquet(sample)
    else:
        frame = str(sample)  # a partitioned Parquet folder: explain reads it with Dask
    missing = [c for c in (score_column, outcome_column) if c and isinstance(frame, pd.DataFrame)
               and c not in frame.columns]  # fmt: skip
    if missing:
        fail(f"{sample} has no column {', '.join(missing)} (--score-column, --outcome-column)")
    if isinstance(frame, pd.DataFrame):
        scores, outcomes = frame[score_column], frame[outcome_column] if outcome_column else None
        inputs: Any = frame.drop(columns=[c for c in (score_column, outcome_column) if c])
    else:
        scores, outcomes, inputs = score_column, outcome_column, frame
    report = compute(
        profile,
        scores,
        inputs,
        period=(start, end),
        cut_off=cut_off,
        outcomes=outcomes,
        outcome_window=outcome_window,
        thresholds={k: v.model_dump() for k, v in plan.measures.items()},
    )
    summary, tables = report.to_ledger()
    refs = [
        {"name": name, "sha256": artifacts.put(data), "size": len(data), "stored": True,
         "role": "table"}
        for name, data in tables.items()
    ]  # fmt: skip
    monitored = set(plan.measures)
    measures = {
        str(m["name"]): {k: m.get(k) for k in ("value", "status", "ci_low", "ci_high")
                         if k == "value" or m.get(k) is not None}
        for m in summary["measures"]
        if m["name"] in monitored or str(m["name"]).partition(":")[0] in monitored
    }  # fmt: skip
    statement = build_statement(
        kind="monitoring.reported",
        model=model,
        version=version,
        actor=principal.name,
        reason=reason,
        payload={
            "plan": plan.entry_hash.hex(),
            "environment": env,
            "period": {"start": start, "end": end},
            "rows": int(summary["n"]),
            "measures": measures,
            "artifacts": refs,
        },
    )
    entry = store.submit(principal, [Submission(statement)])[0]
    red = [n for n, m in measures.items() if m.get("status") == "red"]
    verdict = f"breach: {', '.join(red)} red, a response is due" if red else "no breach"
    console.print(
        f"Recorded the {env} report of {model} {version} for {start}..{end} at seq {entry.seq} "
        f"({summary['n']} rows; {verdict})",
        markup=False,
    )


def plan_entry_payload(view: Any, entry_hash: bytes) -> dict[str, Any]:
    """The payload of the version's plan entry with this hash."""
    entry = next(e for e in view.monitoring_entries if e.entry_hash == entry_hash)
    return dict(entry.statement.payload)


def _reference_text(given: Path | None, plan: dict[str, Any], artifacts: ArtifactStore) -> str:
    if given is not None:
        if not given.is_file():
            fail(f"--reference {given}: no such file")
        return given.read_text(encoding="utf-8")
    for ref in plan.get("artifacts", []):
        if ref.get("name") == REFERENCE_ARTIFACT and ref.get("stored"):
            return artifacts.get(str(ref["sha256"])).decode("utf-8")
    fail(
        f"the plan cites no stored {REFERENCE_ARTIFACT}: pass the reference profile with "
        "--reference (explain.monitoring_reference.reference_profile(...).model_dump_json())"
    )
