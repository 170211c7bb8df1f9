"""What an approver is about to sign, shown before `govledger approve` signs it.

An approval is evidence that a named person reviewed a version (SR 26-2 effective challenge;
EU AI Act Annex IV 2(g): the validation and testing procedures and their results): signing
blind defeats it. So the command first prints the version's run, its metrics, the
evaluations recorded, the decisions and approvals still missing, the evidence the policy
requires before a promotion that is still missing (with a warning that the deployment will
be refused until it is recorded), and every regime checklist's open gaps, read from the
service as the approver's own key sees them, and asks for confirmation on a terminal
(`--yes` skips the question, not the summary).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from api.cli._terminal import console

if TYPE_CHECKING:
    from ledger.client import LedgerClient


def _metrics_line(payload: dict[str, Any]) -> str:
    metrics = payload.get("metrics") or {}
    if not metrics:
        return "none recorded"
    shown = [f"{name} {value}" for name, value in list(metrics.items())[:8]]
    more = f" (+{len(metrics) - 8} more)" if len(metrics) > 8 else ""
    return ", ".join(shown) + more


def _evaluation_names(view: dict[str, Any]) -> str:
    names = [
        str(e["payload"].get("evaluation") or e["payload"].get("name") or e["kind"])
        for e in view.get("evaluations", [])
    ]
    return ", ".join(names) if names else "none recorded"


def open_gaps(client: LedgerClient, model: str, version: str) -> dict[str, list[str]]:
    """Each regime's checklist items that are gaps, by regime id."""
    regimes = client.request("GET", "/v1/regimes")["regimes"]
    gaps: dict[str, list[str]] = {}
    for regime in regimes:
        check = client.compliance(model, version, regime["id"])
        gaps[regime["id"]] = [i["title"] for i in check["items"] if i["status"] == "gap"]
    return gaps


def review_table(
    client: LedgerClient,
    model: str,
    version: str,
    *,
    reject: bool,
    view: dict[str, Any] | None = None,
) -> Table:
    """The summary of what the decision is about, as a table for the terminal (`view`: the
    version as the service shows it, read again when not given)."""
    view = view if view is not None else client.version(model, version)
    run = view["run"]
    statement = run["statement"]
    table = Table(
        title=f"You are about to sign {'a rejection' if reject else 'an approval'} of "
        f"{model} {version}",
        show_header=False,
    )
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("status", str(view["status"]))
    table.add_row(
        "run",
        f"{statement['kind']} at seq {run['seq']} by {statement['actor']}: "
        f"{statement.get('reason', '')}",
    )
    table.add_row("algorithm", str(statement["payload"].get("algorithm") or "not recorded"))
    table.add_row("metrics", _metrics_line(statement["payload"]))
    table.add_row("evaluations", _evaluation_names(view))
    decided = [f"{d['kind']} by {d['actor']} (seq {d['seq']})" for d in view["decisions"]]
    table.add_row("decisions so far", "; ".join(decided) or "none")
    missing = [str(m) for m in view.get("missing_approvals") or []]
    table.add_row("still needed", "; ".join(missing) or "nothing (the policy is met)")
    evidence = evidence_missing(view)
    if evidence is not None:
        table.add_row("evidence missing", "; ".join(evidence) or "none (the policy's is recorded)")
    for regime, titles in open_gaps(client, model, version).items():
        table.add_row(
            f"{regime} gaps",
            f"{len(titles)}: " + "; ".join(titles) if titles else "none",
        )
    table.add_row("run entry hash", str(run["entry_hash"]))
    return table


def evidence_missing(view: dict[str, Any]) -> list[str] | None:
    """The evidence the policy requires before a promotion that the version lacks, as the
    service derives it (`ledger.governance._evidence`); None from a service that does not."""
    found = view.get("evidence_missing")
    return None if found is None else [str(m) for m in found]


def show_review(client: LedgerClient, model: str, version: str, *, reject: bool) -> None:
    """Print the summary (see the module) and, for an approval, a warning when the policy
    will refuse the deployment for missing evidence whatever the approvals."""
    view = client.version(model, version)
    console.print(review_table(client, model, version, reject=reject, view=view))
    missing = evidence_missing(view) or []
    if missing and not reject:
        console.print(
            f"Warning: the policy in force will refuse the deployment of {model} {version} "
            f"until this evidence is recorded: {'; '.join(missing)}",
            style="bold yellow",
            markup=False,
        )
