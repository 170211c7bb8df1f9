"""Create a ledger (`govledger init`) and open an existing one from settings."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ledger.errors import KeyFileError, LedgerNotInitialised
from ledger.log import merkle, signing
from ledger.log.checkpoint import validate_origin, verifier_key
from ledger.log.entries import ZERO_HASH
from ledger.log.timestamps import format_rfc3339
from ledger.store._access_upgrade import carry_over_access
from ledger.store._applicant_key import create_applicant_key, read_applicant_key
from ledger.store._artifacts import ArtifactStore
from ledger.store._database import make_engine
from ledger.store._ledger_store import LedgerStore
from ledger.store._settings import LedgerSettings
from ledger.store._tables import ledger_head, ledger_meta

ACCESS_IN_THE_LOG = "0007"
"""The revision that drops the access tables; init carries their rows into the log first."""
BEFORE_ACCESS_IN_THE_LOG = "0006"


def default_origin() -> str:
    """A log origin unique enough for a single installation."""
    return f"{socket.gethostname() or 'localhost'}/govledger"


def init_ledger(settings: LedgerSettings, *, origin: str | None = None) -> LedgerStore:
    """Create the schema, the ledger key and the applicant key (0600) and the empty log;
    idempotent.

    Re-running init on an existing ledger only applies pending migrations; a key file that
    does not match the key the ledger was created with is refused.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.home, 0o700)
    key_path = settings.ledger_key_path
    if key_path.exists():
        key = signing.read_private_key(key_path)
    else:
        key = signing.generate_private_key()
        signing.write_private_key(key_path, key)
    create_applicant_key(settings.applicant_key_path)
    from ledger.store._migrate import current_revision, upgrade  # heavy; only init needs it

    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    revision = current_revision(engine)
    carry_access = revision is None or revision < ACCESS_IN_THE_LOG
    upgrade(engine, BEFORE_ACCESS_IN_THE_LOG if carry_access else "head")
    with engine.begin() as conn:
        meta = {
            str(k): str(v) for k, v in conn.execute(select(ledger_meta.c.key, ledger_meta.c.value))
        }
        if "origin" in meta:
            origin = meta["origin"]
            if meta.get("verifier_key") != verifier_key(origin, key):
                raise KeyFileError(
                    f"{key_path} is not the key this ledger was created with; restore the "
                    "original ledger.key"
                )
        else:
            origin = validate_origin(origin or default_origin())
            now = format_rfc3339(datetime.now(UTC))
            conn.execute(
                insert(ledger_meta),
                [
                    {"key": "origin", "value": origin},
                    {"key": "verifier_key", "value": verifier_key(origin, key)},
                    {"key": "created_at", "value": now},
                    {"key": "format", "value": "govledger/1"},
                ],
            )
            conn.execute(
                insert(ledger_head).values(
                    id=1,
                    size=0,
                    last_hash=ZERO_HASH,
                    last_recorded_at=now,
                    frontier=merkle.MerkleFrontier().to_bytes(),
                )
            )
    settings.ledger_public_key_path.write_text(verifier_key(origin, key) + "\n")
    ArtifactStore(settings.artifacts_path).root.mkdir(parents=True, exist_ok=True)
    store = _store(engine, settings, origin, key)
    if carry_access:
        carry_over_access(store, settings.policy())
        upgrade(engine)
    return store


def open_ledger(settings: LedgerSettings, *, engine: Engine | None = None) -> LedgerStore:
    """Open an initialised ledger; the checkpoint key is loaded when present."""
    engine = engine or make_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    try:
        with engine.connect() as conn:
            meta = {
                str(k): str(v)
                for k, v in conn.execute(select(ledger_meta.c.key, ledger_meta.c.value))
            }
    except Exception as exc:  # the table does not exist yet
        if "ledger_meta" in str(exc) or "no such table" in str(exc):
            raise LedgerNotInitialised(
                f"no ledger at {settings.database_url}: run `govledger init`"
            ) from None
        raise
    if "origin" not in meta:
        raise LedgerNotInitialised(f"no ledger at {settings.database_url}: run `govledger init`")
    key = (
        signing.read_private_key(settings.ledger_key_path)
        if settings.ledger_key_path.exists()
        else None
    )
    if key is not None and meta.get("verifier_key") != verifier_key(meta["origin"], key):
        raise KeyFileError(f"{settings.ledger_key_path} is not this ledger's key")
    return _store(engine, settings, meta["origin"], key)


def _store(
    engine: Engine, settings: LedgerSettings, origin: str, key: signing.Ed25519PrivateKey | None
) -> LedgerStore:
    return LedgerStore(
        engine,
        origin=origin,
        checkpoint_key=key,
        policy=settings.policy(),
        window=settings.window(),
        artifacts=ArtifactStore(settings.artifacts_path),
        applicant_key=read_applicant_key(settings.applicant_key_path),
        retention=settings.retention(),
    )
