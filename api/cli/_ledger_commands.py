"""The ledger's own commands: `init`, `log`, `checkpoint`, `verify`, `export`,
`verify-bundle` and `import`.

Thin over the core (parse, call `ledger`, render); verification exits 1 when the ledger does
not verify. `commands` is merged into the top level of `govledger` by `api.cli._app`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._ledger_access import ledger_settings, open_store
from api.cli._output_files import writing_atomically
from api.cli._terminal import console, err_console, fail, friendly_errors
from api.cli._witness_options import WitnessesRequiredOption, WitnessOption, witness_policy

commands = typer.Typer()
"""The commands of this module, at the top level of `govledger`."""


@commands.command()
@friendly_errors
def init(
    origin: Annotated[
        str | None, typer.Option(help="Log name in checkpoints, e.g. bank.example/credit-models")
    ] = None,
) -> None:
    """Create the ledger: schema (Alembic), ledger key (0600) and the empty log."""
    from ledger.store import init_ledger

    settings = ledger_settings()
    store = init_ledger(settings, origin=origin)
    console.print(f"Ledger [bold]{store.origin}[/] ready at {settings.database_url}")
    console.print(f"  entries:      {store.size()}")
    console.print(f"  ledger key:   {settings.ledger_key_path} (private, mode 0600)")
    console.print(f"  verifier key: {store.meta()['verifier_key']}")


@commands.command()
@friendly_errors
def verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="A signed checkpoint you kept earlier (repeatable)"),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Pin the ledger's verifier key (name+hash+base64)")
    ] = None,
    artifacts: Annotated[bool, typer.Option(help="Re-hash stored artifacts")] = True,
    deep: Annotated[
        bool, typer.Option(help="Also re-derive every stored Merkle node that proofs use")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules",
            help="Then replay every entry against the rules in force at its seq (roles, "
            "four eyes, the deployment policy of its tier and environment)",
        ),
    ] = False,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Recompute every hash, link, signature and the Merkle root; exit 1 on any problem.

    With --rules, once the ledger verifies, replay the rules audit (`ledger.verify`:
    `replay_ledger_rules`) and exit 1 on the first violation, or when the ledger records no
    access set (no rules to replay). With --witness, a stored checkpoint must carry the
    cosignatures of --witnesses-required of them and match the recomputed tree at its
    size ("witnessed up to size N of M"), else exit 1."""
    from ledger.store import ArtifactStore
    from ledger.verify import verify_ledger

    policy = witness_policy(witness, witnesses_required)
    settings = ledger_settings()
    store = open_store()
    pinned = key
    if pinned is None and settings.ledger_public_key_path.exists():
        pinned = settings.ledger_public_key_path.read_text().strip()
    report = verify_ledger(
        store,
        verifier_key=pinned,
        trusted_checkpoints=[p.read_text() for p in checkpoint or []],
        artifact_store=ArtifactStore(settings.artifacts_path) if artifacts else None,
        witnesses=policy,
    )
    decisions = None
    if report.ok:
        from ledger.verify import verify_decisions

        decisions = verify_decisions(store)
    if deep and report.ok:
        from ledger.verify import verify_stored_tree

        tree = verify_stored_tree(store, report.size)
        if not tree.ok:
            fail(f"FAILED: stored Merkle tree: {tree.message}")
    if rules and report.ok:
        from ledger.verify import replay_ledger_rules

        _print_replay(report, replay_ledger_rules(store), as_json)
    if decisions is not None and not decisions.ok:
        report = decisions
    _print_report(report, as_json, decisions)


def _print_replay(report: Any, replay: Any, as_json: bool) -> None:
    """The verification's OK line, then the replay's line; exit 1 unless the replay is ok
    (a ledger with no access set: one error line saying how to record one)."""
    if as_json:
        console.print_json(json.dumps({**report.to_dict(), "rules": replay.to_dict()}))
        if not replay.ok:
            raise typer.Exit(1)
        raise typer.Exit(0)
    console.print(f"[bold green]{report.summary()}[/]", soft_wrap=True)
    if not replay.recorded:
        fail(replay.summary())
    if replay.ok:
        console.print(f"[bold green]{replay.summary()}[/]", soft_wrap=True)
        raise typer.Exit(0)
    err_console.print(f"[bold red]{replay.summary()}[/]", soft_wrap=True)
    raise typer.Exit(1)


def _print_report(report: Any, as_json: bool, decisions: Any = None) -> None:
    """The report's line (and, when the ledger verifies, the scoring decisions' line);
    exit 1 unless both are ok."""
    if as_json:
        out = report.to_dict()
        if decisions is not None:
            out["decisions"] = decisions.to_dict()
        console.print_json(json.dumps(out))
    elif report.ok:
        console.print(f"[bold green]{report.summary()}[/]", soft_wrap=True)
        if decisions is not None and decisions.entries_checked:
            console.print(f"[bold green]{decisions.summary()}[/]", soft_wrap=True)
    else:
        err_console.print(f"[bold red]{report.summary()}[/]", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@commands.command()
@friendly_errors
def export(
    out: Annotated[Path, typer.Option(help="Bundle file to write (JSON Lines)")],
) -> None:
    """Write the ledger as a bundle (entries, keys, signed checkpoint) for offline checks."""
    from ledger.verify import export_bundle

    store = open_store()
    with writing_atomically(out) as handle:
        checkpoint = export_bundle(store, handle)
    console.print(f"Exported {checkpoint.size} entries to {out} (root {checkpoint.root.hex()})")


@commands.command("verify-bundle")
@friendly_errors
def verify_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle written by `govledger export`")],
    key: Annotated[
        str | None, typer.Option(help="The ledger's published verifier key, to pin the signer")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules",
            help="Then replay every entry against the rules in force at its seq (the bundle "
            "must hold the whole ledger)",
        ),
    ] = False,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Verify an export bundle with no database and no network.

    With --rules, once the bundle verifies, replay the rules audit over its entries
    (deployments of a ledger that records no policy are checked against
    GOVLEDGER_APPROVAL_POLICY, default one validator and one approver). With --witness,
    the bundle's checkpoint must carry the cosignatures of --witnesses-required of them."""
    from ledger.verify import read_header, verify_bundle

    policy = witness_policy(witness, witnesses_required)
    header, _ = read_header(bundle)
    if key is None and not as_json:
        console.print(
            f"[yellow]note:[/] trusting the key in the bundle ({header.get('verifier_key')}); "
            "pass --key to pin the ledger's published key",
            soft_wrap=True,
        )
    report = verify_bundle(bundle, verifier_key=key, witnesses=policy)
    if rules and report.ok:
        from ledger.verify import replay_bundle_rules

        replay = replay_bundle_rules(bundle, policy=ledger_settings().policy())
        _print_replay(report, replay, as_json)
    _print_report(report, as_json)


@commands.command("import")
@friendly_errors
def import_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle written by `govledger export`")],
    key: Annotated[str | None, typer.Option(help="Pin the source ledger's verifier key")] = None,
) -> None:
    """Verify a bundle and copy its entries into this (empty or prefix) ledger."""
    from ledger.verify import import_bundle

    store = open_store()
    added = import_bundle(store, bundle, verifier_key=key)
    cp = store.checkpoint()
    console.print(f"Imported {added} entries; ledger now {cp.size} entries, root {cp.root.hex()}")


@commands.command()
@friendly_errors
def log(
    file: Annotated[Path, typer.Argument(help="JSON statement (or list of them); '-' for stdin")],
    idempotency_key: Annotated[str | None, typer.Option(help="Retry-safe request key")] = None,
    allow_unregistered: Annotated[
        bool,
        typer.Option(
            "--allow-unregistered",
            help="Log runs even for a model that is not registered (refused otherwise)",
        ),
    ] = False,
) -> None:
    """Append entries from a JSON file: {kind, model, version, reason, payload, ...}.

    Written as the user whose API key is in $GOVLEDGER_API_KEY, under the same rules as the
    HTTP API (`LedgerStore.submit`: roles, stored artifacts, admission, recorded refusals).
    A run for a model with no registration is refused unless `--allow-unregistered`, which
    the run's entry records (`allow_unregistered` in its payload)."""
    from api.service import IdentityStore
    from ledger.governance import Submission
    from ledger.log.entries import STATEMENT_FIELDS, build_statement

    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    api_key = os.environ.get("GOVLEDGER_API_KEY")
    if not api_key:
        fail(
            "set GOVLEDGER_API_KEY to your API key: `govledger log` writes as the user it "
            "belongs to (`govledger users add` or `users key` issues one)"
        )
    store = open_store()
    principal = IdentityStore(store).authenticate(api_key)
    submissions = []
    for item in items:
        if not isinstance(item, dict):
            fail("each statement must be a JSON object")
        allowed = {*STATEMENT_FIELDS, "signature", "key_id"}
        unknown = set(item) - allowed
        if unknown:
            fail(
                f"unknown field(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        if "kind" not in item:
            fail("a statement needs a 'kind'")
        statement = build_statement(
            kind=item["kind"],
            model=item.get("model", ""),
            version=item.get("version", ""),
            actor=item.get("actor", principal.name),
            reason=item.get("reason", ""),
            payload=_run_allowance(item, allow_unregistered),
            issued_at=item.get("issued_at"),
        )
        submissions.append(Submission(statement, item.get("signature"), item.get("key_id")))
    entries = store.submit(principal, submissions, idempotency_key=idempotency_key)
    for entry in entries:
        console.print(f"seq {entry.seq}  {entry.statement.kind}  {entry.entry_hash.hex()}")


_RUN_KINDS = ("run.training", "run.recalibration")


def _run_allowance(item: dict[str, Any], allow_unregistered: bool) -> Any:
    """The statement's payload, asking for a run of an unregistered model when told to."""
    payload = item.get("payload", {})
    if allow_unregistered and item["kind"] in _RUN_KINDS and isinstance(payload, dict):
        return {**payload, "allow_unregistered": True}
    return payload


@commands.command()
@friendly_errors
def checkpoint() -> None:
    """Print the latest signed checkpoint (issuing one if the log grew)."""
    console.print(open_store().checkpoint().note, end="", soft_wrap=True, markup=False)
