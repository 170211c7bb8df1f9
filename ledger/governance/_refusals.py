"""Which refused requests the audit trail keeps, and the `request.refused` statement for one.

A refusal by the four-eyes rule or the approval policy is a governance event in its own
right: someone tried to approve their own model, or to deploy what was not approved. The
audit report lists them (`reports/audit.py`), so the store's write gate
(`ledger.store._submit`) appends one `request.refused` entry for such a refusal before it
raises it. Other refusals (bad input, a missing role, a bad signature) leave nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger.errors import FourEyesViolation, GovledgerError, PolicyViolation
from ledger.log.entries import Statement, build_statement

RECORDED_REFUSALS: tuple[type[GovledgerError], ...] = (FourEyesViolation, PolicyViolation)
"""Refusals kept as `request.refused` entries (a stop refusing a deployment is a
PolicyViolation too: `VersionStopped`)."""

_MAX_TEXT = 2000
"""How much of a refusal's message the entry keeps (its reason and payload.detail)."""


def is_recorded(error: BaseException) -> bool:
    """True when the audit trail keeps this refusal as a `request.refused` entry."""
    return isinstance(error, RECORDED_REFUSALS)


def refusal_statement(
    actor: str, attempted: Sequence[Statement], error: GovledgerError
) -> Statement:
    """The `request.refused` statement recording that `actor`'s request was refused.

    It names the first statement of the request (its model, version and kind) and the
    problem, as the API would answer it (slug and message)."""
    first = attempted[0] if attempted else None
    return build_statement(
        kind="request.refused",
        model=first.model if first else "",
        version=first.version if first else "",
        actor=actor,
        reason=error.message[:_MAX_TEXT],
        payload={
            "attempted_kind": first.kind if first else "",
            "problem": error.slug,
            "detail": error.message[:_MAX_TEXT],
        },
    )


def refusal_idempotency_key(idempotency_key: str | None) -> str | None:
    """The Idempotency-Key of the refusal of a request sent with `idempotency_key`.

    A retry of the refused request finds this refusal instead of recording it twice; hashed
    so that it fits the key column whatever the length of the client's key."""
    if not idempotency_key:
        return None
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    return "refused:" + digest
