"""What the access, policy and webhook operations answer.

Documentation only (see `api.service._responses`). An API key's secret appears in exactly
two answers (a user created, a key issued), once; the access set names key ids, never keys.
Webhook endpoints appear by name only (their URLs may carry tokens). Events follow the
Standard Webhooks specification (webhook-id, type, data).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.service._responses import Answer, Sha256


class Me(Answer):
    """Who the API key belongs to and what they may do."""

    name: str
    roles: list[str] = Field(description="The roles in force for the caller")
    approval_policy: dict[str, int] = Field(
        description="Approvals per role the policy in force for production requires"
    )
    decides_as: list[str] = Field(description="Caller's roles some policy in force counts")


class ApiKeyRecord(Answer):
    """An API key by its id: when it was issued and revoked (entries' seqs)."""

    key_id: str
    issued_seq: int | None
    revoked_seq: int | None


class UserRecord(Answer):
    """A user of the ledger, their team (for independent validation) and roles in force."""

    name: str
    team: str | None
    roles: list[str]
    created_seq: int | None
    api_keys: list[ApiKeyRecord]


class PendingGrant(Answer):
    """A privileged role granted by one admin, waiting for a second (four eyes)."""

    entry_hash: Sha256
    seq: int
    user: str
    role: str
    granter: str


class AccessSet(Answer):
    """Users, roles in force, pending grants and API key ids, as the ledger records them."""

    users: list[UserRecord]
    pending_grants: list[PendingGrant]


class UserCreated(Answer):
    """A user created, with their first API key: shown once, stored only as a hash."""

    user: str
    api_key: str = Field(description="The key's secret (glk_...): shown this once")
    roles_in_force: list[str]
    pending_confirmation: list[str] = Field(
        description="Privileged roles a second admin must confirm before they are in force"
    )
    created_seq: int | None


class KeyIssued(Answer):
    """A new API key for a user: shown once, stored only as a hash."""

    user: str
    api_key: str = Field(description="The key's secret (glk_...): shown this once")


class KeysRevoked(Answer):
    """A user's API keys revoked."""

    user: str
    revoked: int = Field(description="How many keys were revoked")


class PolicyTerms(Answer):
    """What an approval policy requires before a promotion."""

    required: dict[str, int] = Field(description="Approvals needed per role")
    independent_validation: bool = Field(description="Validators outside the team (SR 26-2)")
    champion_comparison: bool = Field(description="An evaluation against the champion")
    rollback_approvals: bool = Field(description="A rollback needs the approvals too")
    monitoring_plan: bool = Field(description="An approved ongoing-monitoring plan (SR 26-2)")
    required_evaluations: list[str] = Field(description="Evaluations to record, e.g. fairness")
    required_regimes: list[str] = Field(description="Checklists to pass without a gap")
    reviewed_catalogue: bool = Field(
        description="An approved adverse-action reason catalogue (12 CFR 1002.9(b)(2))"
    )
    description: str = Field(description="The terms in words")


class PolicyRecord(PolicyTerms):
    """An approval policy recorded in the ledger: its scope, terms and standing."""

    entry_hash: Sha256
    seq: int
    tier: str = Field(description="Materiality tier, or * for any")
    environment: str = Field(description="Environment, or * for any")
    proposed_by: str
    approved_seq: int | None
    approved_by: str | None
    superseded_seq: int | None
    in_force: bool
    initial: str | None = Field(description="bootstrap or migrated for the initial policy")


class PolicyList(Answer):
    """Approval policies: in force, proposed and replaced, in seq order."""

    policies: list[PolicyRecord]


class WebhookEvent(Answer):
    """A notification event (Standard Webhooks: webhook-id, type, data)."""

    id: str = Field(description="The webhook-id a receiver deduplicates on")
    type: str
    key: str
    seq: int | None = Field(description="The entry the event is about")
    occurred_at: str
    data: dict[str, Any]


class WebhookDelivery(Answer):
    """An event's delivery to one endpoint, and where it stands."""

    id: int
    endpoint: str = Field(description="The endpoint's name (never its URL)")
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: str | None
    last_status: int | None = Field(description="The receiver's last HTTP status")
    last_error: str | None
    created_at: str
    delivered_at: str | None
    event: WebhookEvent


class WebhookEndpoint(Answer):
    """A configured endpoint, by name, and the event types it receives (null: all)."""

    name: str
    events: list[str] | None


class DeliveryLog(Answer):
    """Deliveries, newest first, with the endpoints and counts per status."""

    endpoints: list[WebhookEndpoint]
    counts: dict[str, int] = Field(description="Deliveries pending, delivered and failed")
    items: list[WebhookDelivery]
    next_before: int | None = Field(description="Pass as `before` for the next page")
