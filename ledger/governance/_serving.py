"""What serves where: a model's serving state per environment, and what a promotion needs.

Nothing about serving is stored. The state is folded from the model's `deployment.promoted`
and `model.retired` entries in seq order, so "which version scored applications in
production at seq N" has one answer, derived the same way by admission, the status views,
the as-of answers and the replay audit:

- An environment serves at most one version of a model; a promotion into it replaces the
  version serving there (its tenure ends at the promotion's seq, "replaced by 1.1.0").
  A *shadow* environment (configured, `shadow` by default) may hold several challengers
  at once, and a promotion there replaces nothing.
- A retirement of the version (or of the whole model) ends its tenures everywhere.
- A human oversight stop (`oversight.recorded`, action `stop`) interrupts a version in every
  environment until a `resume` (`oversee`, `stops`): its tenures go on, but it decides
  nothing in between (`_scoring.not_serving_at`).
- A rollback is a promotion of a version that served in that environment before and was
  replaced; it needs no new approvals unless the policy says so (`rollback_approvals`),
  but a version rejected since cannot come back.
- A promotion binds the deployment to one model file: the SHA-256 of an artifact with role
  `model` of the version's run, the bytes the approvals covered. A scoring host proves it
  loaded those bytes by their digest (`govledger verify-model`).
- With `champion_comparison` in the policy, a challenger replaces the champion only after a
  `champion_challenger` evaluation against the champion's run that a counted validator
  approval cites as evidence (SR 26-2: effective challenge of a model change before use).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import (
    AlreadyServing,
    ChampionComparisonMissing,
    Conflict,
    InvalidStatement,
    ModelFileMismatch,
    ModelFileMissing,
    PolicyViolation,
    RollbackRefused,
    UnknownEnvironment,
)
from ledger.governance._oversight import OversightFact
from ledger.governance._policy import (
    ApprovalPolicy,
    DecisionFact,
    RunFact,
    approvals_missing,
    check_deployment,
)
from ledger.log.payloads import DEFAULT_ENVIRONMENT, model_files

COMPARISON_EVALUATION = "champion_challenger"
"""The evaluation name of a champion/challenger comparison (`explain.comparison`)."""


@dataclass(frozen=True, slots=True)
class PromotionFact:
    """A `deployment.promoted` entry: a version into an environment, bound to a file."""

    seq: int
    entry_hash: bytes
    actor: str
    model: str
    version: str
    environment: str
    recorded_at: str = ""
    reason: str = ""
    model_sha256: str | None = None
    rollback: bool = False
    approvals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetirementFact:
    """A `model.retired` entry: a version (or, version empty, the whole model) leaves."""

    seq: int
    entry_hash: bytes
    actor: str
    model: str
    version: str
    recorded_at: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ComparisonFact:
    """A `champion_challenger` evaluation of a version: which run it compared with."""

    seq: int
    entry_hash: bytes
    version: str
    compared_with: bytes
    """The other side's run entry_hash (the champion's)."""


@dataclass(frozen=True, slots=True)
class Tenure:
    """One version's time serving in one environment: from its promotion until another
    promotion replaced it there or a retirement ended it (open while it serves)."""

    promotion: PromotionFact
    ended_by: PromotionFact | RetirementFact | None = None

    @property
    def version(self) -> str:
        return self.promotion.version

    @property
    def environment(self) -> str:
        return self.promotion.environment

    @property
    def since_seq(self) -> int:
        return self.promotion.seq

    @property
    def ended_seq(self) -> int | None:
        return None if self.ended_by is None else self.ended_by.seq

    @property
    def end(self) -> str | None:
        """How the tenure ended: `replaced`, `retired`, or None while it serves."""
        if self.ended_by is None:
            return None
        return "replaced" if isinstance(self.ended_by, PromotionFact) else "retired"

    def serves_at(self, seq: int) -> bool:
        """Serving after the entry at `seq` was appended (the promotion's own seq counts)."""
        return self.since_seq <= seq and (self.ended_by is None or seq < self.ended_by.seq)

    def describe(self) -> str:
        """e.g. 'serving in production since seq 12', 'replaced by 1.1.0 at seq 40'."""
        where = self.environment
        if self.ended_by is None:
            return f"serving in {where} since seq {self.since_seq}"
        if isinstance(self.ended_by, PromotionFact):
            return (
                f"served in {where} from seq {self.since_seq}; replaced by "
                f"{self.ended_by.version} at seq {self.ended_by.seq}"
            )
        return f"served in {where} from seq {self.since_seq}; retired at seq {self.ended_by.seq}"


@dataclass(frozen=True, slots=True)
class Stop:
    """A human oversight stop of a version, everywhere, until the resume that lifted it
    (open while it is in force)."""

    stop: OversightFact
    resumed_by: OversightFact | None = None

    @property
    def until(self) -> str:
        """The resume's recorded_at, or a time after every RFC 3339 time while in force."""
        return "\uffff" if self.resumed_by is None else self.resumed_by.recorded_at


class ServingHistory:
    """Every tenure of one model's versions, per environment, in seq order.

    Fold entries with `promote` and `retire` in seq order (`serving_history` does). A
    promotion of a version already serving in that environment changes nothing (ledgers
    written before the rule may hold one)."""

    def __init__(self, shadow_environments: Iterable[str] = ("shadow",)) -> None:
        self.shadow = frozenset(shadow_environments)
        self._tenures: dict[str, list[Tenure]] = {}
        self._open: dict[str, list[int]] = {}
        """Per environment, the indexes of the open tenures: a fold of a model's thousand
        promotions stays linear (an as-of answer folds them on every question)."""
        self._stops: dict[str, list[Stop]] = {}

    def oversee(self, version: str, record: OversightFact) -> None:
        """Fold an oversight record of `version` (in seq order): a stop opens a stop of
        the version, a resume lifts the one in force; other actions change nothing."""
        stops = self._stops.setdefault(version, [])
        in_force = bool(stops) and stops[-1].resumed_by is None
        if record.action == "stop" and not in_force:
            stops.append(Stop(record))
        elif record.action == "resume" and in_force:
            stops[-1] = dataclasses.replace(stops[-1], resumed_by=record)

    def stops(self, version: str) -> list[Stop]:
        """The version's stops, in the order they were recorded."""
        return list(self._stops.get(version, []))

    def promote(self, promotion: PromotionFact) -> None:
        tenures = self._tenures.setdefault(promotion.environment, [])
        open_ = self._open.setdefault(promotion.environment, [])
        if any(tenures[i].version == promotion.version for i in open_):
            return
        if promotion.environment not in self.shadow:
            for i in open_:
                tenures[i] = dataclasses.replace(tenures[i], ended_by=promotion)
            open_.clear()
        tenures.append(Tenure(promotion))
        open_.append(len(tenures) - 1)

    def retire(self, retirement: RetirementFact) -> None:
        for environment, tenures in self._tenures.items():
            still_open = []
            for i in self._open.get(environment, []):
                if retirement.version in ("", tenures[i].version):
                    tenures[i] = dataclasses.replace(tenures[i], ended_by=retirement)
                else:
                    still_open.append(i)
            self._open[environment] = still_open

    def environments(self) -> list[str]:
        """Every environment the model was ever promoted into, sorted."""
        return sorted(self._tenures)

    def tenures(self, environment: str | None = None) -> list[Tenure]:
        """The tenures in one environment (or all), in the order they began."""
        if environment is not None:
            return list(self._tenures.get(environment, []))
        every = [t for ts in self._tenures.values() for t in ts]
        return sorted(every, key=lambda t: t.since_seq)

    def serving(self, environment: str, *, at_seq: int | None = None) -> list[Tenure]:
        """The tenures serving in `environment` now (or after the entry at `at_seq`)."""
        return [
            t
            for t in self._tenures.get(environment, [])
            if (t.ended_by is None if at_seq is None else t.serves_at(at_seq))
        ]

    def champion(self, environment: str, *, at_seq: int | None = None) -> Tenure | None:
        """The one version serving in an environment that serves one at a time."""
        if environment in self.shadow:
            return None
        serving = self.serving(environment, at_seq=at_seq)
        return serving[-1] if serving else None

    def of_version(self, version: str) -> list[Tenure]:
        """A version's tenures in every environment, in the order they began."""
        return [t for t in self.tenures() if t.version == version]


def serving_history(
    promotions: Iterable[PromotionFact],
    retirements: Iterable[RetirementFact] = (),
    shadow_environments: Iterable[str] = ("shadow",),
    oversight: Mapping[str, Iterable[OversightFact]] | None = None,
) -> ServingHistory:
    """Fold a model's promotions and retirements, in seq order, into its history, and the
    oversight records of the versions `oversight` maps (version -> its records)."""
    history = ServingHistory(shadow_environments)
    events: list[PromotionFact | RetirementFact] = [*promotions, *retirements]
    for event in sorted(events, key=lambda e: e.seq):
        if isinstance(event, PromotionFact):
            history.promote(event)
        else:
            history.retire(event)
    for version, records in (oversight or {}).items():
        for record in sorted(records, key=lambda r: r.seq):
            history.oversee(version, record)
    return history


def promotion_fact(
    seq: int,
    entry_hash: bytes,
    actor: str,
    model: str,
    version: str,
    payload: Mapping[str, Any],
    *,
    recorded_at: str = "",
    reason: str = "",
) -> PromotionFact:
    """Build a PromotionFact from an entry's columns and parsed payload."""
    digest = payload.get("model_sha256")
    return PromotionFact(
        seq=seq,
        entry_hash=entry_hash,
        actor=actor,
        model=model,
        version=version,
        environment=str(payload.get("environment") or DEFAULT_ENVIRONMENT),
        recorded_at=recorded_at,
        reason=reason,
        model_sha256=None if digest is None else str(digest),
        rollback=bool(payload.get("rollback", False)),
        approvals=tuple(str(a) for a in payload.get("approvals", ())),
    )


def comparison_fact(
    seq: int, entry_hash: bytes, version: str, payload: Mapping[str, Any]
) -> ComparisonFact | None:
    """The comparison an evaluation entry is, or None (another evaluation, or one that
    names no other run)."""
    other = payload.get("compared_with")
    if payload.get("evaluation") != COMPARISON_EVALUATION or not isinstance(other, str):
        return None
    return ComparisonFact(seq, entry_hash, version, bytes.fromhex(other))


def bound_model_file(
    model: str, version: str, run_payload: Mapping[str, Any], named: str | None
) -> str:
    """The model file a promotion binds to: `named` if the run cites it as its model, or
    the run's only model file when none is named; the specific error otherwise."""
    files = model_files(run_payload)
    if not files:
        raise ModelFileMissing(
            f"the run of {model} {version} cites no model file (an artifact with role "
            "'model'), so no deployment can be bound to the bytes its approvals covered: "
            "log the model file with the run (Run.log_model) as a new version"
        )
    if named is None:
        if len(set(files)) > 1:
            raise InvalidStatement(
                f"the run of {model} {version} cites {len(set(files))} model files: name the "
                f"one to deploy (model_sha256, one of {', '.join(sorted(set(files)))})"
            )
        return files[0]
    if named not in files:
        raise ModelFileMismatch(
            f"model file {named} is not a model file of {model} {version}: its run cites "
            f"{', '.join(sorted(set(files)))}"
        )
    return named


def check_environment(environment: str, policy: ApprovalPolicy) -> None:
    """An environment is one of the configured ones (any name when none are configured)."""
    if policy.environments and environment not in policy.environments:
        raise UnknownEnvironment(
            f"unknown environment {environment!r}: the ledger serves in "
            f"{', '.join(policy.environments)} (GOVLEDGER_ENVIRONMENTS)"
        )


@dataclass(frozen=True, slots=True)
class PromotionRequest:
    """What a promotion asks (from its statement), and the facts its rules read."""

    model: str
    version: str
    environment: str
    model_sha256: str | None
    rollback: bool
    replaces: str | None
    history: ServingHistory
    run: RunFact
    run_payload: Mapping[str, Any]
    decisions: Sequence[DecisionFact]
    comparisons: Sequence[ComparisonFact] = ()
    run_of: Callable[[str], RunFact | None] = lambda _version: None
    """The run of another version of the model (the champion's)."""
    monitored_in: frozenset[str] = frozenset()
    """The environments where the version has a monitoring plan in force."""


def promotion_request(
    payload: Mapping[str, Any],
    *,
    history: ServingHistory,
    run: RunFact,
    run_payload: Mapping[str, Any],
    decisions: Sequence[DecisionFact],
    comparisons: Sequence[ComparisonFact] = (),
    run_of: Callable[[str], RunFact | None] = lambda _version: None,
    monitored_in: frozenset[str] = frozenset(),
) -> PromotionRequest:
    """The request a `deployment.promoted` payload makes for `run`'s version."""
    digest, replaces = payload.get("model_sha256"), payload.get("replaces")
    return PromotionRequest(
        model=run.model,
        version=run.version,
        environment=str(payload.get("environment") or DEFAULT_ENVIRONMENT),
        model_sha256=None if digest is None else str(digest),
        rollback=bool(payload.get("rollback", False)),
        replaces=None if replaces is None else str(replaces),
        history=history,
        run=run,
        run_payload=run_payload,
        decisions=decisions,
        comparisons=comparisons,
        run_of=run_of,
        monitored_in=monitored_in,
    )


def check_promotion(
    request: PromotionRequest,
    policy: ApprovalPolicy,
    team_of: Callable[[str], str | None],
) -> list[DecisionFact]:
    """Raise the specific error that refuses this promotion under `policy` (the one in
    force for the model's tier and the environment), or return the approvals it counts."""
    name = f"{request.model} {request.version}"
    env = request.environment
    check_environment(env, policy)
    if request.model_sha256 is None:
        bound_model_file(request.model, request.version, request.run_payload, None)
        raise InvalidStatement(
            f"a promotion of {name} must name its model file (model_sha256: the SHA-256 of "
            "the run's model artifact); POST /v1/deployments fills it in"
        )
    bound_model_file(request.model, request.version, request.run_payload, request.model_sha256)
    history = request.history
    for tenure in history.serving(env):
        if tenure.version == request.version:
            raise AlreadyServing(f"{name} already serves in {env} since seq {tenure.since_seq}")
    champion = history.champion(env)
    if request.replaces is not None and (
        champion is None or champion.promotion.entry_hash.hex() != request.replaces
    ):
        now = "nothing" if champion is None else f"{champion.version} (seq {champion.since_seq})"
        raise Conflict(
            f"promotion {request.replaces} no longer serves in {env}: {now} serves there now; "
            "read the serving state again and decide on the promotion anew"
        )
    if request.rollback:
        return _check_rollback(request, policy, team_of)
    counted = check_deployment(policy, request.run, request.decisions, team_of)
    if policy.monitoring_plan and env not in history.shadow and env not in request.monitored_in:
        raise PolicyViolation(
            f"{name} cannot be promoted to {env} yet: the policy requires a monitoring plan "
            f"in force for {env} (record monitoring.plan and have it approved)"
        )
    if policy.champion_comparison and champion is not None:
        _check_champion_comparison(request, champion, counted)
    return counted


def _check_rollback(
    request: PromotionRequest, policy: ApprovalPolicy, team_of: Callable[[str], str | None]
) -> list[DecisionFact]:
    name, env = f"{request.model} {request.version}", request.environment
    served = [
        t
        for t in request.history.tenures(env)
        if t.version == request.version and t.end == "replaced"
    ]
    if not served:
        raise RollbackRefused(
            f"{name} never served in {env} before, so there is nothing to roll back to: "
            "promote it with its approvals instead"
        )
    _, _, rejections = approvals_missing(policy, request.run, request.decisions, team_of)
    if rejections:
        who = ", ".join(f"{d.actor} ({d.role}, seq {d.seq})" for d in rejections)
        raise RollbackRefused(
            f"{name} was rejected by {who} since it served in {env}; it cannot be rolled "
            "back to until a new approval by the same person supersedes the rejection"
        )
    if policy.rollback_approvals:
        return check_deployment(policy, request.run, request.decisions, team_of)
    return []


def _check_champion_comparison(
    request: PromotionRequest, champion: Tenure, counted: Sequence[DecisionFact]
) -> None:
    name, env = f"{request.model} {request.version}", request.environment
    champion_run = request.run_of(champion.version)
    compared = [
        c
        for c in request.comparisons
        if c.version == request.version
        and champion_run is not None
        and c.compared_with == champion_run.entry_hash
    ]
    if not compared:
        raise ChampionComparisonMissing(
            f"{name} cannot replace {champion.version} in {env} yet: the policy requires a "
            f"champion/challenger comparison against {champion.version}'s run, recorded as a "
            f"'{COMPARISON_EVALUATION}' evaluation of {request.version} (compared_with)"
        )
    hashes = {c.entry_hash for c in compared}
    reviewed = [
        d for d in counted if d.role == "validator" and any(e in hashes for e in d.evidence)
    ]
    if not reviewed:
        raise ChampionComparisonMissing(
            f"{name} cannot replace {champion.version} in {env} yet: the comparison "
            f"(seq {compared[-1].seq}) must be reviewed: a validator's approval of "
            f"{request.version} that counts must cite it as evidence"
        )
