"""The adverse-action reason catalogue: which features a version scores, and the rules.

Regulation B (12 CFR 1002.9) asks for the specific principal reasons for an adverse action,
drawn from the factors the model actually scored. A catalogue is recorded per model version
(`catalogue.recorded`, its own `catalogue_version`), so that the ledger can refuse, at the
door, an entry naming a feature the version does not score. A catalogue is in force only
once approved like a model change: signed `approval.granted` decisions whose `subject` is the
catalogue entry, by the roles of the approval policy, never by the person who recorded it
(`ledger.policy` counts them, exactly as for a run).

The features a version scores are its run's `payload.features` when the run lists them (the
authoritative source: a list of the model's input columns), else the `columns` of the run's
training datasets; a run with neither cannot have a catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import Conflict, FeatureNotScored
from ledger.governance._policy import ApprovalPolicy, DecisionFact, RunFact, approvals_missing


@dataclass(frozen=True, slots=True)
class ScoredFeatures:
    """The features a version scores and where the ledger read them."""

    features: frozenset[str]
    source: str


def scored_features(run_payload: Mapping[str, Any]) -> ScoredFeatures | None:
    """The features a run's model scores: `features`, else its training datasets' columns."""
    listed = run_payload.get("features")
    if isinstance(listed, list) and listed:
        return ScoredFeatures(frozenset(str(f) for f in listed), "the run's payload.features")
    columns: set[str] = set()
    for dataset in run_payload.get("datasets") or []:
        if isinstance(dataset, dict) and dataset.get("role", "training") == "training":
            columns.update(str(c) for c in dataset.get("columns") or [])
    if columns:
        return ScoredFeatures(frozenset(columns), "the columns of the run's training datasets")
    return None


def check_catalogue(
    model: str,
    version: str,
    payload: Mapping[str, Any],
    scored: ScoredFeatures | None,
    recorded_versions: Iterable[str],
) -> None:
    """Refuse a catalogue naming a feature the version does not score, or a reused version."""
    catalogue_version = str(payload["catalogue_version"])
    if catalogue_version in set(recorded_versions):
        raise Conflict(
            f"catalogue version {catalogue_version!r} of {model} {version} is already recorded: "
            "give the changed catalogue a new catalogue_version"
        )
    if scored is None:
        raise FeatureNotScored(
            f"{model} {version} declares no features: log its run with payload.features (the "
            "model's input features) or training datasets with columns before its catalogue"
        )
    named = [str(e["feature"]) for e in payload["entries"]]
    unknown = sorted({f for f in named if f not in scored.features})
    if unknown:
        raise FeatureNotScored(
            f"catalogue names {', '.join(repr(f) for f in unknown)}, which {model} {version} "
            f"does not score (features from {scored.source}: "
            f"{', '.join(sorted(scored.features))}); reasons may only use scored features"
        )


@dataclass
class CatalogueState:
    """A recorded catalogue with the decisions on it and its derived status.

    `status` is "approved" (the policy's approvals are complete and nobody's latest decision
    is a rejection), "rejected", or "pending"; `in_force` marks the latest approved catalogue
    of the version, the one adverse-action notices must use."""

    seq: int
    entry_hash: bytes
    actor: str
    catalogue_version: str
    entries: list[dict[str, Any]]
    status: str
    missing: list[str]
    approvals: list[DecisionFact] = field(default_factory=list)
    rejections: list[DecisionFact] = field(default_factory=list)
    in_force: bool = False


def catalogue_states(
    policy: ApprovalPolicy,
    catalogues: Iterable[tuple[RunFact, Mapping[str, Any]]],
    decisions: Iterable[DecisionFact],
) -> list[CatalogueState]:
    """Each catalogue (as a subject fact and its payload) with its status, oldest first."""
    decided = list(decisions)
    states = []
    for subject, payload in sorted(catalogues, key=lambda c: c[0].seq):
        missing, counted, rejections = approvals_missing(policy, subject, decided)
        status = "rejected" if rejections else "pending" if missing else "approved"
        states.append(
            CatalogueState(
                seq=subject.seq,
                entry_hash=subject.entry_hash,
                actor=subject.actor,
                catalogue_version=str(payload.get("catalogue_version", "")),
                entries=[dict(e) for e in payload.get("entries") or [] if isinstance(e, dict)],
                status=status,
                missing=missing,
                approvals=counted,
                rejections=rejections,
            )
        )
    approved = [s for s in states if s.status == "approved"]
    if approved:
        approved[-1].in_force = True
    return states
