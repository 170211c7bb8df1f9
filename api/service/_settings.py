"""Service configuration (GOVLEDGER_*): the ledger's settings plus the HTTP service's."""

from __future__ import annotations

from pydantic import Field

from ledger.store import LedgerSettings


class ServiceSettings(LedgerSettings):
    """Settings of `govledger serve`. No credential has a default: users are created with
    `govledger users add` and exist only as hashes."""

    auth_cache_seconds: float = Field(
        default=2.0, ge=0, description="How long a checked API key is trusted before re-checking"
    )
    max_artifact_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="Largest artifact upload accepted"
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-* headers are trusted "
        "(empty: none). Set it behind a TLS-terminating proxy so cookies get Secure",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, description="Lifetime of a web sign-in session"
    )
