"""The evidence a policy requires before a promotion: one pure rule over a version's facts.

SR 26-2 scales the rigour of validation with materiality, and the EU AI Act wants the test
reports and the risk documentation in place before a high-risk system is put into service
(Art. 9, Art. 11 and Annex IV 2(g)). So a policy for a tier and an environment may require,
besides approvals: named evaluations recorded (`required_evaluations`), regime checklists
without gaps (`required_regimes`), and a reason catalogue approved under the policy
(`reviewed_catalogue`, Regulation B 12 CFR 1002.9(b)(2)). `evidence_missing` says, in words,
each piece still missing. Admission refuses a promotion with exactly that list
(`EvidenceMissing`), the approval review shows it to the approver before they sign, and the
version's view lists it, so the three can never disagree.

The regime checklists are data of `reports.regulatory`, which the core may not import (the
layers of docs/architecture.md): their gaps arrive through `RegimeGaps`, a function the layer
that owns the checklists hands to the store (`LedgerStore.regime_gaps`). A writer without one
cannot tell whether a checklist has gaps, so a required regime then counts as missing (fail
closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ledger.errors import EvidenceMissing
from ledger.governance._policy import ApprovalPolicy

GAPS_SHOWN = 3
"""How many of a checklist's gaps a refusal names (the regulatory report lists them all)."""


@dataclass(frozen=True, slots=True)
class RegimeFinding:
    """A regime checklist's gaps for a version, as a promotion sees them: `title` the
    regime's short name (e.g. 'EU AI Act'), `gaps` each unsatisfied item in words."""

    title: str
    gaps: tuple[str, ...] = ()


RegimeGaps = Callable[[str, str, str], RegimeFinding]
"""(model, version, regime id) -> the checklist's gaps that a promotion cannot close itself
(items about serving and monitoring in operation are met only after it)."""


@dataclass(frozen=True, slots=True)
class VersionEvidence:
    """What a version has that a policy may require: the evaluations recorded (their
    `evaluation` names), whether a reason catalogue is approved under the policy, and the
    findings of the regime checklists (those that could be evaluated)."""

    evaluations: frozenset[str] = frozenset()
    catalogue_reviewed: bool = False
    regimes: Mapping[str, RegimeFinding] = field(default_factory=dict)


def gather_evidence(
    policy: ApprovalPolicy,
    model: str,
    version: str,
    *,
    evaluations: Iterable[str],
    catalogue_reviewed: bool,
    regime_gaps: RegimeGaps | None,
) -> VersionEvidence:
    """The evidence of a version for `policy`; regime checklists are evaluated only when the
    policy requires them and a `regime_gaps` function is given."""
    regimes = (
        {r: regime_gaps(model, version, r) for r in policy.required_regimes}
        if regime_gaps is not None
        else {}
    )
    return VersionEvidence(frozenset(evaluations), catalogue_reviewed, regimes)


def evidence_missing(policy: ApprovalPolicy, evidence: VersionEvidence) -> list[str]:
    """Each piece of evidence `policy` requires that `evidence` lacks, in words, in the
    order of the policy's fields; [] when nothing is missing (and for a policy that
    requires none, as every policy recorded before these fields existed)."""
    missing = [
        f"no {name} evaluation recorded"
        for name in policy.required_evaluations
        if name not in evidence.evaluations
    ]
    for regime in policy.required_regimes:
        finding = evidence.regimes.get(regime)
        if finding is None:
            missing.append(
                f"{regime} checklist: not evaluated (this writer has no regime checklists; "
                "promote through the govledger service or CLI)"
            )
        elif finding.gaps:
            shown = ", ".join(finding.gaps[:GAPS_SHOWN])
            more = ", ..." if len(finding.gaps) > GAPS_SHOWN else ""
            count = len(finding.gaps)
            missing.append(
                f"{finding.title} checklist: {count} gap{'s' if count > 1 else ''}: {shown}{more}"
            )
    if policy.reviewed_catalogue and not evidence.catalogue_reviewed:
        missing.append("reason catalogue not reviewed (none approved under the policy)")
    return missing


def check_evidence(
    policy: ApprovalPolicy, model: str, version: str, evidence: VersionEvidence
) -> None:
    """Raise EvidenceMissing, naming each missing piece, unless `evidence` meets `policy`."""
    missing = evidence_missing(policy, evidence)
    if missing:
        scope = f"in force for {policy.scope[0]} / {policy.scope[1]} " if policy.scope else ""
        raise EvidenceMissing(
            f"{model} {version} cannot be deployed yet: the policy {scope}requires evidence "
            f"still missing: {'; '.join(missing)}",
            missing,
        )
