"""Every write path runs the same admission: the HTTP API, `govledger log` and a Python
caller of `LedgerStore.submit` meet one write gate (docs/architecture.md, "Where each rule
lives").

Each test sends the same requests down the three paths, each onto its own ledger holding the
same users: a real `govledger serve` (uvicorn), the real `govledger` command, and a
`LedgerStore` in this process. The same forbidden submission must be refused on each with the
same message (and, where the path shows one, the same problem type); a four-eyes or policy
refusal must leave the same one `request.refused` entry and nothing else; every other refusal
must leave nothing. An approval policy naming a role nobody approves as stops the CLI and the
service at start-up with one clear line.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from api.service import IdentityStore
from ledger.errors import GovledgerError, InvalidConfiguration
from ledger.governance import Submission, parse_roles
from ledger.log import signing
from ledger.log.entries import build_statement
from ledger.log.signing import Ed25519PrivateKey
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import (
    ArtifactStore,
    EntryFilter,
    LedgerSettings,
    LedgerStore,
    init_ledger,
    open_ledger,
)
from tests.api.conftest import Service, make_service, stop
from tests.api.test_cli import GOVLEDGER, Cli, add_user, one_line_error
from tests.ledger.factories import model_artifact, model_file

USERS = {
    "fiona": ["data_scientist", "validator"],
    "dana": ["data_scientist"],
    "victor": ["validator"],
    "vera": ["viewer"],
}
"""The same users on every path (the service starts with dana, victor and vera already)."""
ORIGIN = "test.example/write-paths"
UNSTORED = "cd" * 32
"""The digest of bytes nobody stored."""


@dataclass(frozen=True)
class Outcome:
    """What one request did: the entry hashes it wrote, or the message that refused it."""

    hashes: tuple[str, ...] = ()
    error: str | None = None
    problem: str | None = None
    """The problem type (slug), where the path shows one (not the CLI's one line)."""


class WritePath(Protocol):
    name: str

    def submit(self, user: str, items: list[dict[str, Any]], key: str | None = None) -> Outcome: ...

    def ledger(self) -> LedgerStore: ...

    def put_artifact(self, user: str, data: bytes) -> str: ...


class StorePath:
    """A Python caller: builds its statements and calls `LedgerStore.submit`."""

    name = "store"

    def __init__(self, folder: Path) -> None:
        settings = LedgerSettings(database_url=f"sqlite:///{folder / 'ledger.db'}", home=folder)
        self.store = init_ledger(settings, origin=ORIGIN)
        identities = IdentityStore(self.store)
        identities.bootstrap({n: parse_roles(r) for n, r in USERS.items()})
        self.principals = {n: identities.principal(n) for n in USERS}

    def submit(self, user: str, items: list[dict[str, Any]], key: str | None = None) -> Outcome:
        try:
            subs = [
                Submission(
                    build_statement(
                        kind=item["kind"],
                        model=item.get("model", ""),
                        version=item.get("version", ""),
                        actor=item.get("actor", user),
                        reason=item.get("reason", ""),
                        payload=item.get("payload", {}),
                        issued_at=item.get("issued_at"),
                    ),
                    item.get("signature"),
                    item.get("key_id"),
                )
                for item in items
            ]
            entries = self.store.submit(self.principals[user], subs, idempotency_key=key)
        except GovledgerError as error:
            return Outcome(error=error.message, problem=error.slug)
        return Outcome(hashes=tuple(e.entry_hash.hex() for e in entries))

    def ledger(self) -> LedgerStore:
        return self.store

    def put_artifact(self, user: str, data: bytes) -> str:
        assert self.store.artifacts is not None
        return self.store.artifacts.put(data)


class CliPath:
    """`govledger log FILE` as each user, with that user's API key."""

    name = "cli"

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        folder.mkdir(parents=True)
        self.cli = Cli(folder, env)
        self.cli.ok("init", "--origin", ORIGIN)
        self.keys = {name: add_user(self.cli, name, *roles) for name, roles in USERS.items()}
        self.store = open_ledger(
            LedgerSettings(database_url=f"sqlite:///{self.cli.database}", home=self.cli.home)
        )

    def submit(self, user: str, items: list[dict[str, Any]], key: str | None = None) -> Outcome:
        self.cli.api_key = self.keys[user]
        path = self.cli.statement_file(items, name=f"{uuid.uuid4().hex}.json")
        result = self.cli.run("log", path, *(["--idempotency-key", key] if key else []))
        if result.returncode == 0:
            return Outcome(hashes=tuple(line.split()[-1] for line in result.stdout.splitlines()))
        line = one_line_error(result)
        assert line.startswith("error: ")
        return Outcome(error=line.removeprefix("error: "))

    def ledger(self) -> LedgerStore:
        return self.store

    def put_artifact(self, user: str, data: bytes) -> str:
        """The CLI has no upload command: the bytes go into its home's artifact store."""
        return ArtifactStore(self.cli.home / "artifacts").put(data)


class HttpPath:
    """The HTTP API: POST /v1/entries (one statement) or /v1/entries:batch (several)."""

    name = "http"

    def __init__(self, folder: Path) -> None:
        self.service: Service = make_service(f"sqlite:///{folder / 'ledger.db'}", folder)
        self.service.add_user("fiona", USERS["fiona"])
        self.store = self.service.open_store()

    def submit(self, user: str, items: list[dict[str, Any]], key: str | None = None) -> Outcome:
        bodies = []
        for item in items:
            assert item.get("actor", user) == user, "an HTTP body cannot name its actor"
            bodies.append({k: v for k, v in item.items() if k != "actor"})
        headers = {"Idempotency-Key": key} if key else {}
        with self.service.http(user) as http:
            if len(bodies) == 1:
                response = http.post("/v1/entries", json=bodies[0], headers=headers)
            else:
                response = http.post(
                    "/v1/entries:batch", json={"statements": bodies}, headers=headers
                )
        body = response.json()
        if response.status_code == 201:
            written = body["entries"] if "entries" in body else [body]
            return Outcome(hashes=tuple(e["entry_hash"] for e in written))
        assert response.headers["content-type"].startswith("application/problem+json")
        return Outcome(error=body["detail"], problem=body["type"].rsplit("/", 1)[-1])

    def ledger(self) -> LedgerStore:
        return self.store

    def put_artifact(self, user: str, data: bytes) -> str:
        with self.service.client(user) as client:
            return str(client.upload_artifact(data, name="upload.csv")["sha256"])


@pytest.fixture(scope="module")
def paths(
    tmp_path_factory: pytest.TempPathFactory, child_python_env: dict[str, str]
) -> Iterator[list[WritePath]]:
    """The three write paths, each over its own SQLite ledger with the same users.

    Shared by the module: each test names its own model and looks only at what it wrote."""
    tmp = tmp_path_factory.mktemp("write-paths")
    http = HttpPath(tmp / "http")
    made: list[WritePath] = [StorePath(tmp / "store"), CliPath(tmp / "cli", child_python_env)]
    made.append(http)
    yield made
    stop(http.service)
    for path in made:
        path.ledger().engine.dispose()


def written_since(path: WritePath, size: int) -> list[dict[str, Any]]:
    """The statements appended to a path's ledger since it had `size` entries."""
    ledger = path.ledger()
    return [e.statement.to_dict() for e in ledger.list_entries(after_seq=size - 1, limit=100)]


def same_on_every_path(
    paths: list[WritePath], user: str, items: Any, key: str | None = None
) -> tuple[Outcome, list[dict[str, Any]]]:
    """Send one request down each path; assert the outcome and what it wrote are the same on
    all of them (the problem type where the path shows one); return both.

    `items` is a list of statement objects, or a function of the path giving one (a
    statement that cites an entry hash of that path's ledger)."""
    results: dict[str, tuple[Outcome, list[dict[str, Any]]]] = {}
    for path in paths:
        size = path.ledger().size()
        outcome = path.submit(user, items(path) if callable(items) else items, key)
        results[path.name] = (outcome, written_since(path, size))
    store_outcome, store_written = results["store"]
    for name, (outcome, written) in results.items():
        assert outcome.error == store_outcome.error, name
        assert len(outcome.hashes) == len(store_outcome.hashes), name
        if outcome.error is None:
            assert len(written) == len(outcome.hashes), name
        if outcome.problem is not None or name == "http":
            assert outcome.problem == store_outcome.problem, name
        assert written == store_written, name
    return store_outcome, store_written


def signed(key: Ed25519PrivateKey, **fields: Any) -> dict[str, Any]:
    """A statement object (the CLI's file format) signed now with `key`."""
    fields = {**fields, "issued_at": utc_now_rfc3339()}
    statement = build_statement(**fields)
    return {
        **fields,
        "signature": signing.sign(key, statement.signing_bytes()),
        "key_id": signing.key_id_for(signing.public_key_raw(key)),
    }


def registration(actor: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    payload = {
        "algorithm": "ed25519",
        "key_id": signing.key_id_for(signing.public_key_raw(key)),
        "public_key": signing.public_key_b64(key),
    }
    return signed(key, kind="key.registered", actor=actor, payload=payload)


def registered(model: str) -> dict[str, Any]:
    """The model's registration: a user's run is refused for a model nobody registered."""
    return {"kind": "model.registered", "model": model}


def run(model: str, version: str = "1.0") -> dict[str, Any]:
    return {
        "kind": "run.training",
        "model": model,
        "version": version,
        "payload": {
            "params": {"depth": 3},
            "metrics": {"auc": 0.81},
            "artifacts": [model_artifact(version, model)],
        },
    }


def evaluation(model: str, digest: str) -> dict[str, Any]:
    return {
        "kind": "evaluation.recorded",
        "model": model,
        "version": "1.0",
        "payload": {
            "evaluation": "shap",
            "artifacts": [{"name": "shap.csv", "sha256": digest, "stored": True}],
        },
    }


def run_hash(path: WritePath, model: str) -> str:
    """The entry hash of the run of `model` 1.0 on this path's ledger."""
    runs = path.ledger().list_entries(EntryFilter(model=model, kind="run.training"), limit=1)
    return runs[0].entry_hash.hex()


# --- refusals the audit trail keeps -----------------------------------------------------------


def test_a_four_eyes_refusal_is_the_same_and_recorded_the_same_on_every_path(
    paths: list[WritePath],
) -> None:
    model = "paths-four-eyes"
    key = signing.generate_private_key()
    same_on_every_path(paths, "fiona", [registration("fiona", key)])
    same_on_every_path(paths, "fiona", [registered(model), run(model)])

    def own_approval(path: WritePath) -> list[dict[str, Any]]:
        payload = {"role": "validator", "run": run_hash(path, model)}
        decision = signed(
            key,
            kind="approval.granted",
            model=model,
            version="1.0",
            actor="fiona",
            reason="looks fine to me",
            payload=payload,
        )
        return [decision]

    outcome, written = same_on_every_path(paths, "fiona", own_approval)
    assert outcome.problem == "four-eyes-violation"
    assert outcome.error == (
        f"fiona logged {model} 1.0 and so cannot decide on it (four eyes): ask a validator "
        "or approver who did not build it"
    )
    assert written == [
        {
            "kind": "request.refused",
            "model": model,
            "version": "1.0",
            "actor": "fiona",
            "reason": outcome.error,
            "payload": {
                "attempted_kind": "approval.granted",
                "problem": "four-eyes-violation",
                "detail": outcome.error,
            },
            "issued_at": None,
        }
    ]


def test_a_policy_refusal_is_recorded_once_on_every_path_however_often_retried(
    paths: list[WritePath],
) -> None:
    model = "paths-policy"
    same_on_every_path(paths, "dana", [registered(model), run(model)])
    deploy = {
        "kind": "deployment.promoted",
        "model": model,
        "version": "1.0",
        "reason": "ship it",
        "payload": {"environment": "production", "model_sha256": model_file("1.0", model)},
    }
    outcome, written = same_on_every_path(paths, "dana", [deploy], key="paths-deploy-1")
    assert outcome.problem == "policy-violation"
    assert "cannot be deployed yet" in str(outcome.error)
    assert [(s["kind"], s["actor"], s["payload"]["problem"]) for s in written] == [
        ("request.refused", "dana", "policy-violation")
    ]
    again, rewritten = same_on_every_path(paths, "dana", [deploy], key="paths-deploy-1")
    assert again == outcome and rewritten == []


# --- refusals that leave nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "items", "message"),
    [
        (
            "vera",
            [{"kind": "note", "payload": {"text": "hello"}}],
            "submitting note needs the data_scientist or validator or approver or compliance "
            "or model_risk_committee role; vera has viewer",
        ),
        (
            "victor",
            [run("paths-role")],
            "submitting run.training needs the data_scientist role; victor has validator",
        ),
        (
            "dana",
            [
                {"kind": "note", "payload": {"text": "fine"}},
                {
                    "kind": "oversight.recorded",
                    "model": "paths-role",
                    "version": "1.0",
                    "reason": "drift",
                    "payload": {"action": "stop"},
                },
            ],
            "submitting oversight.recorded needs the validator or approver or compliance "
            "role; dana has data_scientist",
        ),
        (
            "dana",
            [
                {
                    "kind": "request.refused",
                    "reason": "made up",
                    "payload": {"attempted_kind": "note", "problem": "none"},
                }
            ],
            "request.refused entries are written by the ledger itself",
        ),
    ],
    ids=["viewer-note", "validator-run", "builder-stops-in-a-batch", "forged-refusal"],
)
def test_a_role_refusal_is_the_same_on_every_path_and_writes_nothing(
    paths: list[WritePath], user: str, items: list[dict[str, Any]], message: str
) -> None:
    outcome, written = same_on_every_path(paths, user, items)
    assert (outcome.problem, outcome.error, written) == ("forbidden", message, [])


def test_an_unstored_artifact_is_refused_on_every_path_until_its_bytes_are_stored(
    paths: list[WritePath],
) -> None:
    model = "paths-artifact"
    same_on_every_path(paths, "dana", [registered(model), run(model)])
    data = b"feature,mean_abs\nincome,0.31\n"
    digest = hashlib.sha256(data).hexdigest()
    outcome, written = same_on_every_path(paths, "dana", [evaluation(model, digest)])
    assert outcome.problem == "artifact-not-stored" and written == []
    assert outcome.error is not None and digest in outcome.error
    missing, _ = same_on_every_path(paths, "dana", [run(model, "2.0"), evaluation(model, UNSTORED)])
    assert missing.problem == "artifact-not-stored"
    for path in paths:
        assert path.put_artifact("dana", data) == digest
    outcome, written = same_on_every_path(paths, "dana", [evaluation(model, digest)])
    assert outcome.error is None and [s["kind"] for s in written] == ["evaluation.recorded"]


def test_nobody_writes_in_another_users_name_from_the_cli_or_python(
    paths: list[WritePath],
) -> None:
    """The HTTP body has no actor field at all (test_errors); the CLI file and a Python
    statement do, and both must name the submitter."""
    not_http = [p for p in paths if p.name != "http"]
    borrowed = {**run("paths-actor"), "actor": "fiona"}
    outcome, written = same_on_every_path(not_http, "dana", [borrowed])
    assert outcome.problem == "forbidden" and written == []
    assert outcome.error == (
        "dana cannot submit a statement as fiona: the actor of a statement is always the user "
        "who submits it"
    )


# --- the approval policy, at start-up ---------------------------------------------------------


def test_an_unknown_policy_role_stops_govledger_log_with_one_line(
    paths: list[WritePath],
) -> None:
    cli_path = next(p for p in paths if isinstance(p, CliPath))
    cli = cli_path.cli
    size = cli.size()
    cli.api_key = cli_path.keys["dana"]
    env = {**cli.env(), "GOVLEDGER_APPROVAL_POLICY": '{"validatr": 1}'}
    result = subprocess.run(
        [str(GOVLEDGER), "log", str(cli.statement_file(run("paths-policy-role")))],
        env=env,
        cwd=cli.folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = one_line_error(result)
    assert line == (
        "error: GOVLEDGER_APPROVAL_POLICY requires approvals by role 'validatr', but "
        "'validatr' is not a govledger role: approvals are made as approver, compliance, "
        "model_risk_committee, validator (roles: admin, approver, compliance, data_scientist, "
        "model_risk_committee, scoring_service, validator, viewer)"
    )
    assert cli.size() == size


def test_an_unknown_policy_role_stops_the_service_at_start_up(
    paths: list[WritePath], monkeypatch: pytest.MonkeyPatch
) -> None:
    http = next(p for p in paths if isinstance(p, HttpPath))
    env = {**http.service.env, "GOVLEDGER_APPROVAL_POLICY": '{"approver": 1, "validatr": 1}'}
    result = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = one_line_error(result)
    assert line.startswith("error: GOVLEDGER_APPROVAL_POLICY requires approvals by role")
    assert "'validatr' is not a govledger role" in line
    assert "approvals are made as approver, compliance, model_risk_committee, validator" in line
    from api.app import app_from_environment

    for name, value in env.items():
        if name.startswith("GOVLEDGER_"):
            monkeypatch.setenv(name, value)
    with pytest.raises(InvalidConfiguration, match="'validatr' is not a govledger role"):
        app_from_environment()  # what each uvicorn worker runs
