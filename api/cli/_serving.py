"""What serves where: `govledger status` (as of now, a seq or a time, with proofs) and
`govledger verify-model` (is this file the one serving?).

Thin over the core: the answer is `ledger.store.serving_answer`, its check
`ledger.verify.verify_serving_answer` with the pinned ledger key, and the verdict on a file
`ledger.log.serving_answer.serving_tenure_for`, the same rule `LedgerClient.assert_serving`
applies. `commands` is merged into the top level of `govledger` by `api.cli._app`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from api.cli._ledger_access import ledger_settings, open_store
from api.cli._output_files import write_atomically
from api.cli._terminal import console, err_console, fail, friendly_errors
from api.cli._witness_options import WitnessesRequiredOption, WitnessOption, witness_policy

if TYPE_CHECKING:
    from ledger.log.witness_policy import WitnessPolicy
    from ledger.store import LedgerStore

commands = typer.Typer()
"""The commands of this module, at the top level of `govledger`."""


@commands.command()
@friendly_errors
def status(
    model: Annotated[str, typer.Argument(help="The model's name")],
    env: Annotated[str, typer.Option("--env", help="The environment")] = "production",
    at: Annotated[
        str | None, typer.Option(help="As of a time (RFC 3339 UTC) or a day (its end)")
    ] = None,
    seq: Annotated[int | None, typer.Option(help="As of the entry at this seq")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer (with its proofs) as JSON")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write the answer, with its proofs, to this file")
    ] = None,
) -> None:
    """What serves MODEL in an environment now, or as of --seq or --at, with proofs.

    Shows the environment's history too; the answer's proofs are checked with the ledger's
    key (GOVLEDGER_HOME's ledger.pub). The JSON (--json, --out) verifies offline:
    `python standalone.py serving FILE --key ledger.pub`."""
    from ledger.store import serving_answer

    store = open_store()
    answer = serving_answer(store, model, env, at=at, seq=seq)
    _check(store, answer)
    if out is not None:
        write_atomically(out, json.dumps(answer, indent=2, ensure_ascii=False).encode("utf-8"))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    _print_status(answer)
    if out is not None:
        console.print(f"Answer with its proofs written to {out}")


def _pinned_key(store: LedgerStore, key: str | None) -> str:
    """The ledger key to check answers with: --key (text or a file), else the ledger.pub
    of GOVLEDGER_HOME, else the database's own (which proves consistency, not origin)."""
    if key is not None:
        return key if "+" in key else Path(key).expanduser().read_text(encoding="utf-8").strip()
    path = ledger_settings().ledger_public_key_path
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    return store.meta()["verifier_key"]


def _check(
    store: LedgerStore,
    answer: Mapping[str, Any],
    key: str | None = None,
    witnesses: WitnessPolicy | None = None,
) -> None:
    from ledger.verify import verify_serving_answer

    report = verify_serving_answer(answer, _pinned_key(store, key), witnesses=witnesses)
    if not report.ok:
        fail(f"the ledger's answer does not verify: {report.summary()}")


def _with_cosignatures(store: LedgerStore, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with the cosignature lines the ledger stored for its checkpoint merged
    into the note (signed-note allows more lines; the verifier checks each again)."""
    from ledger.log.cosignature import merge_signatures
    from ledger.store import cosignature_lines

    evidence = dict(answer["evidence"])
    lines = "\n".join(cosignature_lines(store, int(answer["tree_size"])))
    evidence["checkpoint"] = merge_signatures(str(evidence["checkpoint"]), lines)
    return {**answer, "evidence": evidence}


def _print_status(answer: Mapping[str, Any]) -> None:
    model, env = answer["model"], answer["environment"]
    question = answer["question"]
    when = (
        "now"
        if "now" in question
        else f"at {question['at']}"
        if "at" in question
        else f"after seq {question['seq']}"
    )
    console.print(
        f"[bold]{model}[/] in [bold]{env}[/] {when} (as of seq {answer['as_of_seq']}, proven "
        f"against the signed checkpoint of {answer['tree_size']} entries)",
        soft_wrap=True,
    )
    table = Table("version", "since", "promoted by", "approvals", "model file")
    deciders = {
        e["entry_hash"]: f"{e['statement']['actor']} ({e['statement']['payload'].get('role')})"
        for e in answer["evidence"]["entries"]
        if e["statement"]["kind"] == "approval.granted"
    }
    for tenure in answer["serving"]:
        table.add_row(
            str(tenure["version"]) + (" (rollback)" if tenure["rollback"] else ""),
            f"seq {tenure['since_seq']}, {tenure['since']}",
            str(tenure["promoted_by"]),
            ", ".join(deciders.get(a, a[:12]) for a in tenure["approvals"]) or "none cited",
            str(tenure["model_sha256"])[:12] + "…",
        )
    if answer["serving"]:
        console.print(table)
        for tenure in answer["serving"]:  # whole digests, unwrapped, for sha256sum -c
            console.print(
                f"{tenure['version']}: model file sha256 {tenure['model_sha256']}, promotion "
                f"{tenure['promotion']}",
                soft_wrap=True,
            )
    else:
        console.print(f"Nothing of {model} served in {env} then.")
    if answer["history"]:
        console.print(f"History in {env}:")
    for tenure in answer["history"]:
        console.print(f"  {tenure['version']}: {tenure['description']}", soft_wrap=True)


@commands.command("verify-model")
@friendly_errors
def verify_model(
    file: Annotated[Path, typer.Argument(help="The model file the scoring host loaded")],
    model: Annotated[str, typer.Option(help="The model's name")],
    env: Annotated[str, typer.Option("--env", help="The environment")] = "production",
    key: Annotated[
        str | None,
        typer.Option(help="The ledger's verifier key, or its ledger.pub (default: GOVLEDGER_HOME)"),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Append the outcome as a serving.checked entry, as the user of GOVLEDGER_API_KEY",
        ),
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="The host named in the record (default: this host)")
    ] = None,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Exit 0 only if FILE's SHA-256 is the model file of the version serving MODEL in the
    environment now, with the promotion's inclusion proof and the checkpoint checked;
    otherwise print one line naming what serves and what the file is, and exit 1.

    With --witness, the answer's checkpoint must carry the cosignatures of
    --witnesses-required of them (those the ledger stored for it are merged in)."""
    from ledger.errors import NotServing
    from ledger.log.serving_answer import serving_tenure_for
    from ledger.store import serving_answer

    policy = witness_policy(witness, witnesses_required)
    with file.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    store = open_store()
    principal = _recorder(store) if record else None
    answer = serving_answer(store, model, env)
    if policy:
        answer = _with_cosignatures(store, answer)
    _check(store, answer, key, policy)
    try:
        tenure = serving_tenure_for(answer, digest, file.name)
    except NotServing as refused:
        if principal is not None:
            _record(store, principal, answer, digest, host, "refused", refused.message)
        err_console.print(refused.message, soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    line = (
        f"accepted: {file.name} (sha256 {digest[:12]}…) is {model} {tenure['version']}'s "
        f"model file, serving in {env} since seq {tenure['since_seq']} (promotion "
        f"{str(tenure['promotion'])[:12]}…, proven against the signed checkpoint of "
        f"{answer['tree_size']} entries"
        + (
            f", {policy.describe(policy.check(answer['evidence']['checkpoint']))})"
            if policy
            else ")"
        )
    )
    if principal is not None:
        _record(store, principal, answer, digest, host, "accepted", line, tenure)
    console.print(line, soft_wrap=True, markup=False)


def _recorder(store: LedgerStore) -> Any:
    """The user of GOVLEDGER_API_KEY, who records the check (before any work is done)."""
    from api.service import IdentityStore

    api_key = os.environ.get("GOVLEDGER_API_KEY")
    if not api_key:
        fail(
            "set GOVLEDGER_API_KEY to your API key: --record writes the check as the user it "
            "belongs to (`govledger users add` or `users key` issues one)"
        )
    return IdentityStore(store).authenticate(api_key)


def _record(
    store: LedgerStore,
    principal: Any,
    answer: Mapping[str, Any],
    digest: str,
    host: str | None,
    outcome: str,
    detail: str,
    tenure: Mapping[str, Any] | None = None,
) -> None:
    """Append the outcome as `serving.checked` through the write gate (roles, admission)."""
    from ledger.log.entries import build_statement

    model, env = answer["model"], answer["environment"]
    # a refusal is about the model: the file's own version may be retired (no entry then)
    version = tenure["version"] if tenure else ""
    serving = tenure or (answer["serving"][-1] if answer["serving"] else None)
    payload: dict[str, Any] = {
        "environment": env,
        "model_sha256": digest,
        "host": host or socket.gethostname(),
        "outcome": outcome,
        "tree_size": answer["tree_size"],
        "detail": detail[:2000],
    }
    if serving is not None:
        payload["promotion"] = serving["promotion"]
    statement = build_statement(
        kind="serving.checked",
        model=model,
        version=str(version),
        actor=principal.name,
        reason="",
        payload=payload,
    )
    entry = store.submit(principal, [statement])[0]
    console.print(f"recorded: seq {entry.seq} serving.checked ({outcome})", markup=False)
