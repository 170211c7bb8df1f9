"""Configuration from the environment (GOVLEDGER_*), with pydantic-settings.

Every setting has a safe default for a single-user SQLite ledger; nothing here is a
credential (API keys live in the database as hashes, private keys in files). A setting that
names what cannot exist (an approval policy role nobody approves as) raises
InvalidConfiguration when the settings load, so the CLI says so in one line and the
service does not start.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import InvalidConfiguration
from ledger.governance import (
    ApprovalPolicy,
    DecisionRetention,
    FreshnessWindow,
    check_policy_roles,
)

_ENVIRONMENT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class LedgerSettings(BaseSettings):
    """Where the ledger lives and the rules it enforces."""

    model_config = SettingsConfigDict(env_prefix="GOVLEDGER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///govledger.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    home: Path = Field(
        default=Path(".govledger"),
        description="Folder for the ledger key (ledger.key, mode 0600) and the artifact store",
    )
    approval_policy: dict[str, int] = Field(
        default_factory=lambda: {"validator": 1, "approver": 1},
        description='Approvals needed before deployment, as JSON: {"validator": 1, "approver": 1}',
    )
    materiality_tiers: list[str] = Field(
        default_factory=lambda: ["low", "medium", "high"],
        description='The inventory\'s materiality tiers, as JSON: ["low", "medium", "high"]; '
        "a registration naming another tier is refused; [] accepts any tier",
    )
    environments: list[str] = Field(
        default_factory=lambda: ["production", "staging", "shadow"],
        description='The environments a version may be promoted into, as JSON: ["production", '
        '"staging", "shadow"]; [] accepts any name',
    )
    shadow_environments: list[str] = Field(
        default_factory=lambda: ["shadow"],
        description="The environments that may serve several versions at once (challengers "
        'scored in shadow), as JSON: ["shadow"]; every other environment serves one version '
        "at a time and a promotion replaces it",
    )
    champion_comparison: bool = Field(
        default=False,
        description="Where the ledger records no policy: a challenger replaces the serving "
        "version only after a champion/challenger comparison cited by a validator's approval",
    )
    rollback_approvals: bool = Field(
        default=False,
        description="Where the ledger records no policy: a rollback needs the approvals anew",
    )
    max_statement_age_seconds: int = Field(
        default=86_400, ge=1, description="How old a signed statement's issued_at may be"
    )
    max_future_skew_seconds: int = Field(
        default=300, ge=0, description="How far in the future a signed issued_at may be"
    )
    decision_retention: str = Field(
        default="25 months",
        description="How long scoring decisions' details are kept before a recorded purge may "
        "remove them: '25 months' (Regulation B, 12 CFR 1002.12(b)), 'N months' or 'N days'",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite durability: FULL (default) syncs every commit to disk, so a "
        "committed entry survives a power cut; NORMAL (WAL) survives a crash of the process "
        "but may lose the last commits to a power cut or OS crash, for several times the "
        "single-writer append rate on disks with slow fsync. Ignored for PostgreSQL",
    )

    @field_validator("approval_policy", mode="before")
    @classmethod
    def _parse_policy(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, dict):
            if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in value.values()):
                raise InvalidConfiguration(
                    "GOVLEDGER_APPROVAL_POLICY maps role names to non-negative integers, "
                    'e.g. {"validator": 1, "approver": 1}'
                )
            check_policy_roles(value, source="GOVLEDGER_APPROVAL_POLICY")
        return value

    @field_validator("decision_retention")
    @classmethod
    def _check_retention(cls, value: str) -> str:
        DecisionRetention.parse(value)
        return value

    @field_validator("materiality_tiers")
    @classmethod
    def _check_tiers(cls, value: list[str]) -> list[str]:
        if any(not t.strip() or t != t.strip() for t in value) or len(set(value)) != len(value):
            raise ValueError("materiality_tiers are distinct, non-empty names")
        return value

    @field_validator("environments", "shadow_environments")
    @classmethod
    def _check_environments(cls, value: list[str]) -> list[str]:
        bad = [e for e in value if not _ENVIRONMENT.fullmatch(e)]
        if bad or len(set(value)) != len(value):
            raise InvalidConfiguration(
                "environments are distinct lowercase names (letters, digits, '_', '-', '.'), "
                f'e.g. ["production", "staging", "shadow"]; not {", ".join(bad) or value}'
            )
        return value

    @model_validator(mode="after")
    def _shadow_is_an_environment(self) -> LedgerSettings:
        unknown = set(self.shadow_environments) - set(self.environments)
        if self.environments and unknown:
            raise InvalidConfiguration(
                f"GOVLEDGER_SHADOW_ENVIRONMENTS names {', '.join(sorted(unknown))}, which "
                "GOVLEDGER_ENVIRONMENTS does not list"
            )
        return self

    @property
    def ledger_key_path(self) -> Path:
        """The ledger's checkpoint-signing private key."""
        return self.home / "ledger.key"

    @property
    def ledger_public_key_path(self) -> Path:
        """The ledger's signed-note verifier key (public; give it to verifiers)."""
        return self.home / "ledger.pub"

    @property
    def applicant_key_path(self) -> Path:
        """The secret for applicant references' keyed hashes (`ledger.store._applicant_key`)."""
        return self.home / "applicant.key"

    @property
    def artifacts_path(self) -> Path:
        """Root folder of the content-addressed artifact store."""
        return self.home / "artifacts"

    def policy(self) -> ApprovalPolicy:
        """The approval policy object."""
        return ApprovalPolicy(
            required=dict(self.approval_policy),
            materiality_tiers=tuple(self.materiality_tiers),
            champion_comparison=self.champion_comparison,
            rollback_approvals=self.rollback_approvals,
            environments=tuple(self.environments),
            shadow_environments=tuple(self.shadow_environments),
        )

    def retention(self) -> DecisionRetention:
        """How long decision details are kept (GOVLEDGER_DECISION_RETENTION)."""
        return DecisionRetention.parse(self.decision_retention)

    def window(self) -> FreshnessWindow:
        """The freshness window for signed statements."""
        return FreshnessWindow(
            max_age=timedelta(seconds=self.max_statement_age_seconds),
            max_future=timedelta(seconds=self.max_future_skew_seconds),
        )
