"""The roles a govledger user may hold, the submitter a write is made for, and which roles
an approval can be made as.

A role says what a user may do (`ledger.governance._permissions`); the approval policy counts
approvals per role (`ledger.governance._policy`). Who a caller is (an API key, a web session)
is decided above the core (`api/service/_identity.py`); what reaches the store is the
`Principal` that authentication produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import Forbidden, GovledgerError, InvalidConfiguration


class Role(StrEnum):
    """What a user may do; a user holds one or more."""

    ADMIN = "admin"
    DATA_SCIENTIST = "data_scientist"
    VALIDATOR = "validator"
    APPROVER = "approver"
    COMPLIANCE = "compliance"
    VIEWER = "viewer"
    MODEL_RISK_COMMITTEE = "model_risk_committee"
    """A member of the model risk committee, whose approval a high-materiality policy may
    require (SR 26-2: senior oversight of material models)."""
    SCORING_SERVICE = "scoring_service"
    """A scoring service's credential: it records the decisions it makes (`scoring.batch`)
    and reads their receipts, and nothing else: a key that scores applicants at volume
    cannot log a run, approve or deploy, and cannot read the rest of the ledger."""


NOT_DECIDING = frozenset({Role.ADMIN, Role.VIEWER, Role.DATA_SCIENTIST, Role.SCORING_SERVICE})
"""Roles nobody decides as: approvals come from reviewers, never from the model's builders
(SR 26-2's effective challenge), and neither administration, reading nor scoring
applicants is a review."""
DECIDING = frozenset(Role) - NOT_DECIDING
"""The roles an approval or rejection can be made as, and so the only roles an approval
policy can require."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user a write is made for: its name becomes the statement's actor."""

    name: str
    roles: frozenset[Role]

    def has_any(self, *roles: Role) -> bool:
        """True if the user holds any of the roles (admin holds all)."""
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)

    def require(self, *roles: Role, action: str) -> None:
        """Raise Forbidden unless the user holds one of `roles`."""
        if not self.has_any(*roles):
            wanted = " or ".join(r.value for r in roles)
            raise Forbidden(
                f"{action} needs the {wanted} role; {self.name} has "
                f"{', '.join(sorted(r.value for r in self.roles)) or 'none'}"
            )


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


def parse_roles(values: list[str] | str) -> frozenset[Role]:
    """Parse role names; raise a GovledgerError naming the valid ones."""
    items = values.split(",") if isinstance(values, str) else values
    roles: set[Role] = set()
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            roles.add(Role(item))
        except ValueError:
            raise GovledgerError(
                f"unknown role {item!r}; roles are: {', '.join(r.value for r in Role)}"
            ) from None
    if not roles:
        raise GovledgerError("a user needs at least one role")
    return frozenset(roles)


def check_policy_roles(required: Mapping[str, int], *, source: str = "the approval policy") -> None:
    """Refuse an approval policy that counts a role no approval can be made as.

    A policy requiring `validatr`, or `viewer`, could never be met: every deployment would
    be refused as unapproved. Raised when the policy is built (settings load, store open),
    so the mistake stops the start-up instead of the first deployment.
    """
    for name in required:
        if name in DECIDING:
            continue
        known = name in {r.value for r in Role}
        why = f"nobody decides as {name}" if known else f"{name!r} is not a govledger role"
        raise InvalidConfiguration(
            f"{source} requires approvals by role {name!r}, but {why}: approvals are made "
            f"as {_names(DECIDING)} (roles: {_names(Role)})"
        )
