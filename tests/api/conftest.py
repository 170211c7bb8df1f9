"""A real `govledger serve` (uvicorn) on a free loopback port, with one user per role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.service import IdentityStore
from ledger.client import LedgerClient
from ledger.errors import MissingReason
from ledger.governance import parse_roles
from ledger.log import signing
from ledger.log.entries import build_statement
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger, open_ledger
from ledger.verify import VerificationReport, verify_ledger
from tests.access import add_user_by_admins

ROLES = {
    "dana": ["data_scientist"],
    "victor": ["validator"],
    "alice": ["approver"],
    "carol": ["compliance"],
    "vera": ["viewer"],
    "adam": ["admin"],
    "ada": ["admin"],
}
"""The service's users: its initial access set (`ada` is the second admin of four eyes)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running service: its URL, environment, the users' API keys and signing keys."""

    url: str
    env: dict[str, str]
    home: Path
    api_keys: dict[str, str]
    signing_keys: dict[str, Path] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client(self, user: str) -> LedgerClient:
        return LedgerClient(self.url, self.api_keys[user], retries=1)

    def http(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_keys[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def register(self, *models: str, user: str = "dana") -> None:
        """Put models in the inventory (as a data scientist would before logging runs: a
        run for an unregistered model is refused); one already registered stays as it is."""
        with self.client(user) as client:
            for model in models:
                register_model(client, model)

    def size(self) -> int:
        """The ledger's size, as /healthz reports it."""
        return int(httpx.get(f"{self.url}/healthz", timeout=30).json()["size"])

    def open_store(self) -> LedgerStore:
        """The service's ledger opened directly (dispose its engine when done)."""
        settings = LedgerSettings(database_url=self.env["GOVLEDGER_DATABASE_URL"], home=self.home)
        return open_ledger(settings)

    def add_user(self, name: str, roles: list[str], team: str | None = None) -> str:
        """Create another user as the admins do (adam grants, ada confirms); remember and
        return the API key."""
        store = self.open_store()
        try:
            key = add_user_by_admins(store, name, roles, team=team)
        finally:
            store.engine.dispose()
        self.api_keys[name] = key
        return key

    def verify(self) -> VerificationReport:
        """verify_ledger over the service's database, artifacts included."""
        store = self.open_store()
        try:
            return verify_ledger(store, artifact_store=ArtifactStore(self.home / "artifacts"))
        finally:
            store.engine.dispose()

    def all_entries(self) -> list[dict[str, Any]]:
        """Every entry, read through the API (as the compliance user)."""
        with self.client("carol") as carol:
            return list(carol.entries(limit=1000))


def register_model(client: LedgerClient, model: str) -> None:
    """Register `model` unless it is registered (an amendment would need a reason)."""
    try:
        client.register_model(model)
    except MissingReason:
        pass


def start_server(
    env: dict[str, str], port: int, workers: int = 1, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `govledger serve` and wait until /healthz answers."""
    log = log or Path(env["GOVLEDGER_HOME"]) / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + 120  # generous: a loaded CI machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 120 s")


def make_service(url: str, tmp: Path, **env_extra: str) -> Service:
    home = tmp / "home"
    with _environment(env_extra):  # GOVLEDGER_APPROVAL_POLICY: the ledger's initial policy
        settings = LedgerSettings(database_url=url, home=home)
    store = init_ledger(settings, origin="test.example/service")
    identities = IdentityStore(store)
    keys = identities.bootstrap({name: parse_roles(roles) for name, roles in ROLES.items()})
    store.engine.dispose()
    env = {
        **os.environ,
        "GOVLEDGER_DATABASE_URL": url,
        "GOVLEDGER_HOME": str(home),
        "GOVLEDGER_AUTH_CACHE_SECONDS": "0",
        **env_extra,
    }
    port = free_port()
    service = Service(f"http://127.0.0.1:{port}", env, home, keys)
    service.processes.append(start_server(env, port))
    for name in ("victor", "alice", "dana"):
        path = tmp / f"{name}.key"
        signing.write_private_key(path, signing.generate_private_key())
        service.signing_keys[name] = path
    return service


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def signed_decision(
    key_path: Path,
    *,
    actor: str,
    model: str,
    version: str,
    run_hash: str,
    role: str,
    reason: str = "reviewed",
    kind: str = "approval.granted",
    sign_as: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A /v1/decisions body signed with `key_path` as the client does it.

    `sign_as` overrides statement fields in what is signed only (not in what is sent), to
    build a signature over another statement than the one submitted."""
    payload = {"role": role, "run": run_hash}
    fields: dict[str, Any] = {
        "kind": kind,
        "model": model,
        "version": version,
        "actor": actor,
        "reason": reason,
        "payload": payload,
        "issued_at": utc_now_rfc3339(),
    }
    statement = build_statement(**{**fields, **(sign_as or {})})
    key = signing.read_private_key(key_path)
    body = {k: v for k, v in fields.items() if k != "actor"}
    body["signature"] = signing.sign(key, statement.signing_bytes())
    body["key_id"] = signing.key_id_for(signing.public_key_raw(key))
    return body


def stop(service: Service) -> None:
    for process in service.processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A service on a SQLite ledger."""
    svc = make_service(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
    yield svc
    stop(svc)


@pytest.fixture(scope="module")
def module_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service on SQLite shared by a whole test module (starting one takes seconds).

    Tests that share it name their own models and compare ledger sizes, never absolutes."""
    tmp = tmp_path_factory.mktemp("module-service")
    svc = make_service(f"sqlite:///{tmp / 'ledger.db'}", tmp)
    yield svc
    stop(svc)


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A brand-new PostgreSQL database (its SQLAlchemy URL), dropped afterwards."""
    import psycopg

    name = f"govledger_api_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = admin_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_any_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """`module_service` on SQLite and, as a second run of the module's tests, on PostgreSQL."""
    tmp = tmp_path_factory.mktemp(f"module-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'ledger.db'}"
        else:
            url = stack.enter_context(fresh_pg_database(request.getfixturevalue("pg_server")))
        svc = make_service(url, tmp)
        stack.callback(stop, svc)
        yield svc


@pytest.fixture
def any_service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """A service on SQLite and, as a second run, on PostgreSQL."""
    svc = make_service(database_url, tmp_path)
    yield svc
    stop(svc)


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    made: list[Service] = []

    def factory(url: str, **env: str) -> Service:
        svc = make_service(url, tmp_path / f"svc{len(made)}", **env)
        made.append(svc)
        return svc

    yield factory
    for svc in made:
        stop(svc)
