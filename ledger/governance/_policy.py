"""The approval policy and the four-eyes rule, as pure functions over ledger facts.

This is the one place those rules live (docs/architecture.md): the store calls them inside
the append transaction, the API only reports what they raise. Which roles must approve before a
deployment is configuration (`ApprovalPolicy`, from GOVLEDGER_APPROVAL_POLICY), not code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import DecisionRepeated, FourEyesViolation, PolicyViolation
from ledger.governance._roles import check_policy_roles


@dataclass(frozen=True, slots=True)
class RunFact:
    """The run that logged a model version, or another entry decided on like one.

    Decisions decide on a *subject*: the version's run, or one of its
    `catalogue.recorded` entries; `kind` tells which. The same rules count their approvals.
    """

    seq: int
    entry_hash: bytes
    actor: str
    kind: str
    model: str
    version: str


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """An approval or rejection of a version's run (or of another subject: `run_hash`)."""

    seq: int
    entry_hash: bytes
    actor: str
    role: str
    granted: bool
    run_hash: bytes
    reason: str = ""
    evidence: tuple[bytes, ...] = ()
    """The entries the decision cites as the evidence reviewed (EU AI Act Annex IV 2(g))."""


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """How many distinct approvers of each role a version needs before deployment.

    Approvals count only if they decide on the version's run and come from someone other
    than the actor who logged it; one person counts for one role at most; a later rejection
    by an actor in a role withdraws that actor's approval.
    """

    required: Mapping[str, int] = field(default_factory=lambda: {"validator": 1, "approver": 1})
    materiality_tiers: tuple[str, ...] = ()
    """The inventory's materiality tiers (ledger.inventory); empty: any tier is accepted."""
    independent_validation: bool = False
    """A validator of the builder's team does not count (SR 26-2: validation independent of
    development)."""
    entry_hash: bytes | None = None
    """The `policy.proposed` entry this policy is, when it is in the ledger; None for the
    configured policy of a ledger that records none (`ledger.governance._rules`)."""
    scope: tuple[str, str] | None = None
    """The (materiality tier, environment) a ledger policy is for (`*`: any)."""
    monitoring_plan: bool = False
    """A version is promoted only with a monitoring plan in force for the environment."""
    champion_comparison: bool = False
    """A challenger replaces the serving version only after a `champion_challenger`
    evaluation against it that a counted validator approval cites as evidence."""
    rollback_approvals: bool = False
    """A rollback needs the approvals anew (by default a rollback to a version that served
    before and is still approved needs none)."""
    environments: tuple[str, ...] = ()
    """The environments a version may be promoted into (configured); empty: any name."""
    shadow_environments: tuple[str, ...] = ("shadow",)
    """Environments that may serve several versions at once (challengers in shadow)."""
    required_evaluations: tuple[str, ...] = ()
    """Evaluations (`evaluation.recorded` payload `evaluation`, e.g. performance, fairness)
    that must be recorded for a version before it is promoted (`ledger.governance._evidence`)."""
    required_regimes: tuple[str, ...] = ()
    """Regime checklists (e.g. eu-ai-act, reg-b) that must have no gap a promotion cannot
    close itself, at the time of the promotion."""
    reviewed_catalogue: bool = False
    """A version is promoted only with a reason catalogue approved under the policy."""

    def __post_init__(self) -> None:
        check_policy_roles(self.required)  # a role nobody approves as: InvalidConfiguration

    def describe(self) -> str:
        """Human-readable summary, e.g. '1 validator and 1 approver'."""
        return " and ".join(f"{n} {role}" for role, n in sorted(self.required.items())) or "none"


class VersionStatus(StrEnum):
    """Where a version stands, derived from the ledger (never stored)."""

    LOGGED = "logged"
    REJECTED = "rejected"
    APPROVED = "approved"
    DEPLOYED = "deployed"
    """Serving in at least one environment now."""
    REPLACED = "replaced"
    """Served before, serves nowhere now: every environment it served in has promoted
    another version since."""
    STOPPED = "stopped"
    RETIRED = "retired"


def check_four_eyes(run: RunFact, actor: str) -> None:
    """The actor who logged a version (or recorded a catalogue) may not decide on it."""
    if run.actor == actor and run.kind == "catalogue.recorded":
        raise FourEyesViolation(
            f"{actor} recorded this reason catalogue of {run.model} {run.version} and so "
            "cannot decide on it (four eyes): ask a validator or approver who did not write it"
        )
    if run.actor == actor:
        raise FourEyesViolation(
            f"{actor} logged {run.model} {run.version} and so cannot decide on it (four eyes): "
            "ask a validator or approver who did not build it"
        )


def check_not_repeated(
    decisions: Sequence[DecisionFact],
    subject: bytes,
    actor: str,
    role: str,
    granted: bool,
    evidence: Sequence[bytes] = (),
) -> None:
    """A person's decision on a subject in a role counts once: the same approval (or
    rejection) again, in the same role, citing no evidence it did not cite before, adds
    nothing and would show twice on the card, so it is refused. Changing one's mind (a
    rejection after an approval), deciding in another role (which the approval policy then
    judges) or deciding again on new evidence (a champion comparison reviewed) is a new
    decision."""
    latest = None
    for decision in decisions:
        if decision.actor == actor and decision.run_hash == subject and decision.role == role:
            latest = decision
    if latest is None or latest.granted != granted:
        return
    if set(evidence) - set(latest.evidence):
        return
    what = "approved" if granted else "rejected"
    raise DecisionRepeated(
        f"{actor} already {what} this as {role} at seq {latest.seq} and has not changed that "
        f"decision; a second identical decision adds nothing (to change it, record the "
        f"opposite decision with a reason, or cite the new evidence reviewed)"
    )


def check_oversight_four_eyes(run: RunFact, actor: str, action: str) -> None:
    """The actor who logged a version may not oversee it: no stop, resume, override or
    oversight measures of one's own work.

    Human oversight (EU AI Act Art. 14(4)) is only independent when the person who can stop
    a version, lift the stop or reverse its decisions is not the one who built it; otherwise
    a builder who also holds a reviewing role could stop and resume their own version at
    will, which is the self-review four eyes exists to prevent (SR 26-2 effective challenge).
    """
    if run.actor == actor:
        raise FourEyesViolation(
            f"{actor} logged {run.model} {run.version} and so cannot record its oversight "
            f"({action}) (four eyes): ask a validator, approver or compliance officer who did "
            "not build it"
        )


def _latest_decisions(
    run: RunFact, decisions: Iterable[DecisionFact]
) -> dict[tuple[str, str], DecisionFact]:
    latest: dict[tuple[str, str], DecisionFact] = {}
    for decision in sorted(decisions, key=lambda d: d.seq):
        if decision.run_hash == run.entry_hash and decision.actor != run.actor:
            latest[(decision.actor, decision.role)] = decision
    return latest


def _no_team(_: str) -> str | None:
    return None


def approvals_missing(
    policy: ApprovalPolicy,
    run: RunFact,
    decisions: Iterable[DecisionFact],
    team_of: Callable[[str], str | None] = _no_team,
) -> tuple[list[str], list[DecisionFact], list[DecisionFact]]:
    """What the policy still needs: (missing role descriptions, counted approvals, rejections).

    With `policy.independent_validation`, a validator whose team (`team_of`) is the
    builder's does not count."""
    latest = _latest_decisions(run, decisions)
    builder_team = team_of(run.actor)
    rejections = [d for d in latest.values() if not d.granted]
    used_actors: set[str] = set()
    counted: list[DecisionFact] = []
    missing: list[str] = []
    for role, needed in sorted(policy.required.items()):
        granted = [
            d
            for d in latest.values()
            if d.granted
            and d.role == role
            and d.actor not in used_actors
            and not _same_team(policy, d, builder_team, team_of)
        ]
        granted = granted[:needed]
        used_actors.update(d.actor for d in granted)
        counted.extend(granted)
        if len(granted) < needed:
            missing.append(f"{needed - len(granted)} more {role}")
    return missing, counted, rejections


_SOMEONE_ELSE = "\x00someone who has not decided"
"""A name no user can hold (`ledger.log.names`): the hypothetical approver of `role_needed`."""


def approval_would_count(
    policy: ApprovalPolicy,
    run: RunFact,
    decisions: Iterable[DecisionFact],
    actor: str,
    role: str,
    team_of: Callable[[str], str | None] = _no_team,
) -> bool:
    """Whether an approval by `actor` in `role`, recorded now, would count toward the policy.

    The question a review queue asks ("is this waiting for my decision?"). It is answered by
    `approvals_missing` itself over the decisions plus that hypothetical approval, so a page
    and admission cannot disagree: the builder's approval never counts (four eyes), nor a
    second role of someone already counted, nor a validator of the builder's team under
    independent validation, nor an approval of a role the policy no longer needs."""
    decided = list(decisions)
    counted_before = approvals_missing(policy, run, decided, team_of)[1]
    if any(d.actor == actor for d in counted_before):
        return False
    latest = max((d.seq for d in decided), default=run.seq)
    approval = DecisionFact(latest + 1, b"", actor, role, True, run.entry_hash)
    counted_after = approvals_missing(policy, run, [*decided, approval], team_of)[1]
    return any(d is approval for d in counted_after)


def role_needed(
    policy: ApprovalPolicy,
    run: RunFact,
    decisions: Iterable[DecisionFact],
    role: str,
    team_of: Callable[[str], str | None] = _no_team,
) -> bool:
    """Whether the policy still needs an approval in `role` from someone who has not decided
    (`approval_would_count` for such a person): what the builder is told someone else must
    give."""
    return approval_would_count(policy, run, decisions, _SOMEONE_ELSE, role, team_of)


def _same_team(
    policy: ApprovalPolicy,
    decision: DecisionFact,
    builder_team: str | None,
    team_of: Callable[[str], str | None],
) -> bool:
    return (
        policy.independent_validation
        and decision.role == "validator"
        and builder_team is not None
        and team_of(decision.actor) == builder_team
    )


def check_deployment(
    policy: ApprovalPolicy,
    run: RunFact,
    decisions: Iterable[DecisionFact],
    team_of: Callable[[str], str | None] = _no_team,
) -> list[DecisionFact]:
    """Raise PolicyViolation unless the policy's approvals are present; return them."""
    missing, counted, rejections = approvals_missing(policy, run, decisions, team_of)
    if rejections:
        who = ", ".join(f"{d.actor} ({d.role})" for d in rejections)
        raise PolicyViolation(
            f"{run.model} {run.version} was rejected by {who}; a new approval by the same "
            "person must supersede the rejection before deployment"
        )
    if missing:
        raise PolicyViolation(
            f"{run.model} {run.version} cannot be deployed yet: the policy "
            + (f"in force for {policy.scope[0]} / {policy.scope[1]} " if policy.scope else "")
            + f"needs {policy.describe()}, still missing {', '.join(missing)} "
            f"(approvals by {run.actor}, who logged it, do not count"
            + (", nor validators of their team" if policy.independent_validation else "")
            + ")"
        )
    return counted


def version_status(
    policy: ApprovalPolicy,
    run: RunFact,
    decisions: Iterable[DecisionFact],
    *,
    deployed: bool,
    retired: bool,
    stopped: bool = False,
    replaced: bool = False,
    team_of: Callable[[str], str | None] = _no_team,
) -> VersionStatus:
    """Derive a version's status from its facts (a stop in force: `ledger.oversight`);
    `deployed`: serving somewhere now, `replaced`: served before and nowhere now
    (`ledger.governance._serving`); `team_of` as in `approvals_missing`, so independence
    counts as it does in admission."""
    if retired:
        return VersionStatus.RETIRED
    if stopped:
        return VersionStatus.STOPPED
    if deployed:
        return VersionStatus.DEPLOYED
    if replaced:
        return VersionStatus.REPLACED
    missing, _, rejections = approvals_missing(policy, run, decisions, team_of)
    if rejections:
        return VersionStatus.REJECTED
    if not missing:
        return VersionStatus.APPROVED
    return VersionStatus.LOGGED
