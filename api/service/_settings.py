"""Service configuration (GOVLEDGER_*): the ledger's settings plus the HTTP service's.

`GOVLEDGER_WEBHOOKS` names the endpoints notifications are delivered to (Standard Webhooks
1.0). Each endpoint's secret is a credential: it is held as a `SecretStr` (never in a repr,
a log line or an answer), and a bad endpoint stops start-up with one line that names the
endpoint by its position and URL, never by its secret.

`GOVLEDGER_OIDC_*` configure single sign-on through the bank's OpenID Connect provider
(`api.web._oidc`): the client secret is a `SecretStr` as well, and the claim-to-role mapping
is checked at start-up (known roles only, never admin: admins are made by admins).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from ledger.errors import InvalidConfiguration
from ledger.governance import EVENT_TYPES, Role, parse_roles
from ledger.store import LedgerSettings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = (24, 64)
"""A Standard Webhooks symmetric secret: `whsec_` and the base64 of 24 to 64 random bytes
(192 to 512 bits), one per endpoint."""


def _webhook_problem(position: int, url: object, what: str) -> InvalidConfiguration:
    """The one line a bad endpoint stops start-up with: its position and host (a URL's
    path, query or user part may hold a token), never its secret."""
    host = urlsplit(url).hostname if isinstance(url, str) else None
    where = f"endpoint {position}" + (f" (host {host})" if host else "")
    return InvalidConfiguration(f"GOVLEDGER_WEBHOOKS {where}: {what}")


class WebhookEndpoint(BaseModel):
    """One receiver of notifications: where, with which secret, for which event types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    secret: SecretStr
    events: frozenset[str] | None = None
    """The event types it receives; None (omitted): every type."""
    name: str
    """Its name in the delivery log: as configured, or made from the URL's host and a
    digest of the URL (the URL itself may hold a token, so the log never shows it)."""

    @property
    def signing_key(self) -> str:
        """The secret, for the signer only."""
        return self.secret.get_secret_value()


class WitnessEndpoint(BaseModel):
    """One witness the ledger asks to cosign its checkpoints (c2sp.org/tlog-witness)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """Its submission prefix: POST <url>/add-checkpoint."""
    vkey: str
    """Its cosignature/v1 verifier key, as `govledger witness keygen` printed it."""


def parse_witnesses(raw: str) -> list[WitnessEndpoint]:
    """Parse GOVLEDGER_WITNESSES: `URL=VKEY` items separated by commas or whitespace; raise
    InvalidConfiguration naming the item that is wrong."""
    from ledger.errors import CheckpointInvalid
    from ledger.log.cosignature import WitnessKey

    found = []
    for position, item in enumerate(raw.replace(",", " ").split(), start=1):
        url, sep, vkey = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise InvalidConfiguration(
                f"GOVLEDGER_WITNESSES item {position} must be URL=VKEY, e.g. "
                "http://127.0.0.1:8080=audit.example/w1+1a2b3c4d+BA..."
            )
        try:
            WitnessKey.parse(vkey)
        except CheckpointInvalid as exc:
            raise InvalidConfiguration(
                f"GOVLEDGER_WITNESSES item {position}: {exc.message}"
            ) from None
        found.append(WitnessEndpoint(url=url.rstrip("/"), vkey=vkey))
    return found


def parse_webhooks(raw: str) -> list[WebhookEndpoint]:
    """Parse GOVLEDGER_WEBHOOKS (JSON: `[{"url", "secret", "events"?, "name"?}]`), or raise
    InvalidConfiguration saying which endpoint is wrong and how, without its secret."""
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidConfiguration(
            f"GOVLEDGER_WEBHOOKS is not valid JSON ({exc.msg} at column {exc.colno}); write "
            '[{"url": "https://...", "secret": "whsec_...", "events": ["model.deployed"]}]'
        ) from None
    if not isinstance(items, list):
        raise InvalidConfiguration(
            'GOVLEDGER_WEBHOOKS is a JSON list: [{"url": "https://...", "secret": "whsec_..."}]'
        )
    endpoints = [_endpoint(position, item) for position, item in enumerate(items, start=1)]
    names = [e.name for e in endpoints]
    if len(set(names)) != len(names):
        raise InvalidConfiguration(
            "GOVLEDGER_WEBHOOKS names two endpoints alike (the same URL twice, or the same "
            '"name"): give each endpoint its own "name"'
        )
    return endpoints


def _endpoint(position: int, item: Any) -> WebhookEndpoint:
    if not isinstance(item, dict):
        raise _webhook_problem(position, None, 'is an object: {"url": ..., "secret": ...}')
    url = item.get("url")
    unknown = set(item) - {"url", "secret", "events", "name"}
    if unknown:
        raise _webhook_problem(
            position,
            url,
            f"unknown field(s) {', '.join(sorted(unknown))}; use url, secret, events, name",
        )
    if not isinstance(url, str):
        raise _webhook_problem(position, None, 'needs a "url" (http:// or https://)')
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _webhook_problem(position, url, "the url must be http:// or https:// with a host")
    _check_secret(position, url, item.get("secret"))
    events = item.get("events")
    if events is not None:
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            raise _webhook_problem(position, url, '"events" is a non-empty list of event types')
        unknown_types = sorted(set(events) - EVENT_TYPES)
        if unknown_types:
            raise _webhook_problem(
                position,
                url,
                f"unknown event type(s) {', '.join(unknown_types)}; known: "
                + ", ".join(sorted(EVENT_TYPES)),
            )
    name = item.get("name")
    if name is None:
        name = f"{parts.hostname}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise _webhook_problem(position, url, '"name" is 1 to 100 characters')
    return WebhookEndpoint(
        url=url,
        secret=SecretStr(item["secret"]),
        events=None if events is None else frozenset(events),
        name=name,
    )


def _check_secret(position: int, url: str, secret: object) -> None:
    what = (
        f'"secret" is a Standard Webhooks secret: {SECRET_PREFIX} and the base64 of '
        f"{SECRET_BYTES[0]} to {SECRET_BYTES[1]} random bytes"
    )
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise _webhook_problem(position, url, what)
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise _webhook_problem(position, url, what) from None
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise _webhook_problem(position, url, what)


def parse_oidc_roles(raw: str) -> dict[str, frozenset[Role]]:
    """Parse GOVLEDGER_OIDC_ROLES (JSON: claim value -> list of govledger roles), or raise
    InvalidConfiguration saying which value is wrong and how."""
    if not raw.strip():
        return {}
    example = '{"risk-officers": ["viewer", "approver"], "model-validation": ["validator"]}'
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidConfiguration(
            f"GOVLEDGER_OIDC_ROLES is not valid JSON ({exc.msg} at column {exc.colno}); "
            f"write {example}"
        ) from None
    if not isinstance(items, dict):
        raise InvalidConfiguration(f"GOVLEDGER_OIDC_ROLES is a JSON object: {example}")
    mapping: dict[str, frozenset[Role]] = {}
    for value, names in items.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidConfiguration(
                f"GOVLEDGER_OIDC_ROLES[{value!r}] is a list of role names: {example}"
            )
        roles = parse_roles(names)
        if Role.ADMIN in roles:
            raise InvalidConfiguration(
                f"GOVLEDGER_OIDC_ROLES[{value!r}] grants admin: the admin role is granted by "
                "an admin and confirmed by a second one (govledger users grant), never by a "
                "provider's claim"
            )
        mapping[value] = roles
    return mapping


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
    webhooks: Annotated[list[WebhookEndpoint], NoDecode] = Field(
        default_factory=list,
        description='Webhook endpoints, as JSON: [{"url": "https://...", "secret": '
        '"whsec_...", "events": ["model.deployed", ...], "name": "risk-office"}] (events and '
        "name optional); none: no notifier runs",
    )
    webhook_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the notifier tails the log and delivers"
    )
    webhook_timeout_seconds: float = Field(
        default=15.0, gt=0, description="How long a receiver has to answer one delivery"
    )
    webhook_backoff_seconds: float = Field(
        default=1.0, gt=0, description="The first retry's delay; each next one doubles"
    )
    webhook_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="The longest delay between two attempts"
    )
    webhook_max_attempts: int = Field(
        default=50, ge=1, description="Attempts before a delivery is marked failed"
    )
    webhook_max_age_seconds: float = Field(
        default=3 * 86_400.0,
        gt=0,
        description="How long after its event a delivery is still retried before it fails",
    )

    monitoring_check_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How often the notifier looks for overdue monitoring (a missed cadence, "
        "a breach unanswered past its deadline) to announce as monitoring.overdue",
    )

    witnesses: Annotated[list[WitnessEndpoint], NoDecode] = Field(
        default_factory=list,
        description="Witnesses that cosign each new checkpoint (c2sp.org/tlog-witness): "
        "URL=VKEY items separated by commas or spaces; none: checkpoints go uncosigned",
    )
    witness_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the cosigner looks for a new checkpoint"
    )
    witness_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a card, report, receipt or serving answer waits for the "
        "witnesses to cosign the current checkpoint before it is built on the latest one "
        "they did cosign (a witness known to be down costs no wait)",
    )

    oidc_issuer: str = Field(
        default="",
        description="OpenID Connect issuer URL of the bank's identity provider (its "
        "/.well-known/openid-configuration is read at each sign-in); empty: no single sign-on",
    )
    oidc_client_id: str = Field(default="", description="This service's client id there")
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="The client secret (client_secret_basic); none: a public client (PKCE only)",
    )
    oidc_provider_name: str = Field(
        default="your identity provider",
        max_length=80,
        description='Shown on the sign-in button: "Sign in with <name>"',
    )
    oidc_roles_claim: str = Field(
        default="groups", min_length=1, description="The ID token claim listing groups or roles"
    )
    oidc_user_claim: str = Field(
        default="preferred_username",
        min_length=1,
        description="The ID token claim holding the govledger user name",
    )
    oidc_roles: Annotated[dict[str, frozenset[Role]], NoDecode] = Field(
        default_factory=dict,
        description='Claim value to govledger roles, as JSON: {"risk-officers": ["viewer", '
        '"approver"]} (never admin); a value not listed grants nothing',
    )
    oidc_redirect_url: str = Field(
        default="",
        description="The callback URL registered at the provider; empty: this service's "
        "own /signin/oidc/callback as the request reached it",
    )

    @property
    def oidc_enabled(self) -> bool:
        """True when single sign-on is configured (an issuer and a client id)."""
        return bool(self.oidc_issuer and self.oidc_client_id)

    @field_validator("oidc_roles", mode="before")
    @classmethod
    def _parse_oidc_roles(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_oidc_roles(value)
        return value

    @field_validator("oidc_issuer", mode="after")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise InvalidConfiguration(
                "GOVLEDGER_OIDC_ISSUER is the provider's issuer URL, https://idp.bank.example/..."
            )
        return value

    @field_validator("witnesses", mode="before")
    @classmethod
    def _parse_witnesses(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_witnesses(value)
        return value

    @field_validator("webhooks", mode="before")
    @classmethod
    def _parse_webhooks(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_webhooks(value)
        return value
