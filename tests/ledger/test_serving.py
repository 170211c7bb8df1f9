"""What serves where: promotions replace, shadow holds challengers, rollbacks, the bound
model file, the champion comparison a policy may require; every refusal writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

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
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerSettings, LedgerStore, init_ledger, model_serving, version_view
from ledger.verify import replay_ledger_rules
from tests.access import add_user_by_admins
from tests.ledger.factories import (
    MODEL,
    Actor,
    deployment,
    digest,
    model_artifact,
    model_file,
    training,
)
from tests.ledger.rules_history import deployment as rules_deployment
from tests.ledger.rules_history import make_history
from tests.ledger.tamper import append_bypassing_admission


@dataclass
class Ledger:
    store: LedgerStore
    vera: Actor
    arjun: Actor

    def approved(self, version: str, **payload: object) -> Entry:
        """A run of `version`, approved by a validator and an approver."""
        run = self.store.append(training(version, **payload))
        self.store.append_batch(
            [self.vera.approve(run, role="validator"), self.arjun.approve(run, role="approver")]
        )
        return run

    def refused(self, error: type[Exception], statement: object, match: str = "") -> None:
        size = self.store.size()
        with pytest.raises(error, match=match):
            self.store.append(statement)  # type: ignore[arg-type]
        assert self.store.size() == size


def _ledger(settings: LedgerSettings) -> Iterator[Ledger]:
    store = init_ledger(settings, origin="test.example/govledger")
    vera, arjun = Actor.make("vera"), Actor.make("arjun")
    store.append_batch([vera.register(), arjun.register()])
    yield Ledger(store, vera, arjun)
    store.engine.dispose()


@pytest.fixture
def ledger(settings: LedgerSettings) -> Iterator[Ledger]:
    yield from _ledger(settings)


@pytest.fixture
def strict(database_url: str, make_settings: Callable[..., LedgerSettings]) -> Iterator[Ledger]:
    """A ledger whose configured policy requires the champion comparison and approvals
    for rollbacks."""
    yield from _ledger(
        make_settings(database_url, champion_comparison=True, rollback_approvals=True)
    )


def test_a_promotion_replaces_the_version_serving_and_the_status_says_so(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0")
    first = store.append(deployment("1.0"))
    ledger.approved("1.1")
    second = store.append(deployment("1.1"))
    old, new = version_view(store, MODEL, "1.0"), version_view(store, MODEL, "1.1")
    assert (old.status.value, new.status.value) == ("replaced", "deployed")
    assert old.tenures[0].describe() == (
        f"served in production from seq {first.seq}; replaced by 1.1 at seq {second.seq}"
    )
    assert old.serving_in == [] and new.serving_in == ["production"]
    history = model_serving(store, MODEL)
    assert [t.version for t in history.serving("production")] == ["1.1"]
    assert [t.version for t in history.serving("production", at_seq=second.seq - 1)] == ["1.0"]
    assert history.serving("production", at_seq=first.seq - 1) == []
    served = old.to_dict()["serving"]
    assert served[0]["status"] == "replaced" and served[0]["ended_by"]["version"] == "1.1"  # type: ignore[index]
    assert served[0]["model_sha256"] == model_file("1.0")  # type: ignore[index]


def test_shadow_holds_several_challengers_and_replaces_nothing(ledger: Ledger) -> None:
    store = ledger.store
    for version in ("1.0", "1.1", "1.2"):
        ledger.approved(version)
    store.append(deployment("1.0"))
    store.append(deployment("1.1", environment="shadow"))
    store.append(deployment("1.2", environment="shadow"))
    history = model_serving(store, MODEL)
    assert [t.version for t in history.serving("shadow")] == ["1.1", "1.2"]
    assert [t.version for t in history.serving("production")] == ["1.0"]
    assert history.champion("shadow") is None


def test_a_retirement_ends_the_versions_tenures_everywhere(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0")
    store.append(deployment("1.0"))
    store.append(deployment("1.0", environment="staging"))
    store.append(
        build_statement(
            kind="model.retired", model=MODEL, version="1.0", actor="olga", reason="withdrawn"
        )
    )
    view = version_view(store, MODEL, "1.0")
    assert view.status.value == "retired" and view.serving_in == []
    assert {t.end for t in view.tenures} == {"retired"}


def test_a_rollback_needs_no_new_approvals_but_an_earlier_tenure(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0")
    store.append(deployment("1.0"))
    ledger.approved("1.1")
    store.append(deployment("1.1"))
    ledger.refused(AlreadyServing, deployment("1.1", rollback=True), "already serves")
    back = store.append(deployment("1.0", rollback=True))
    history = model_serving(store, MODEL)
    assert [t.version for t in history.serving("production")] == ["1.0"]
    assert history.champion("production").promotion.rollback  # type: ignore[union-attr]
    assert back.statement.payload["rollback"] is True
    ledger.refused(
        RollbackRefused, deployment("1.0", rollback=True, environment="staging"), "never"
    )


def test_a_rollback_to_a_version_rejected_since_is_refused(ledger: Ledger) -> None:
    store = ledger.store
    run = ledger.approved("1.0")
    store.append(deployment("1.0"))
    ledger.approved("1.1")
    store.append(deployment("1.1"))
    store.append(ledger.vera.reject(run, role="validator", reason="drift found in 1.0"))
    ledger.refused(RollbackRefused, deployment("1.0", rollback=True), "rejected by vera")


def test_the_policy_can_require_approvals_anew_for_a_rollback(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0")
    store.append(deployment("1.0"))
    ledger.approved("1.1")
    store.append(deployment("1.1"))
    stricter = {"validator": 2, "approver": 1}
    store.policy = dataclasses.replace(store.policy, required=stricter, rollback_approvals=True)
    ledger.refused(PolicyViolation, deployment("1.0", rollback=True), "1 more validator")
    store.policy = dataclasses.replace(store.policy, rollback_approvals=False)
    assert store.append(deployment("1.0", rollback=True)).statement.payload["rollback"]


def test_a_promotion_is_bound_to_a_model_file_the_run_cites(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0", artifacts=[])
    ledger.refused(ModelFileMissing, deployment("1.0"), "cites no model file")
    two = [model_artifact("2.0"), {**model_artifact("2.0"), "sha256": digest("other")}]
    ledger.approved("2.0", artifacts=two)
    ledger.refused(ModelFileMismatch, deployment("2.0", model_sha256=digest("x")), "is not")
    unnamed = build_statement(
        kind="deployment.promoted", model=MODEL, version="2.0", actor="olga", reason="go"
    )
    ledger.refused(InvalidStatement, unnamed, "cites 2 model files")
    bound = store.append(deployment("2.0", model_sha256=digest("other")))
    assert bound.statement.payload["model_sha256"] == digest("other")


def test_bad_promotions_get_specific_errors(ledger: Ledger) -> None:
    store = ledger.store
    ledger.approved("1.0")
    ledger.refused(UnknownEnvironment, deployment("1.0", environment="prod"), "production")
    first = store.append(deployment("1.0"))
    ledger.refused(AlreadyServing, deployment("1.0"), f"since seq {first.seq}")
    ledger.approved("1.1")
    ledger.approved("1.2")
    store.append(deployment("1.1", replaces=first.entry_hash.hex()))
    stale = deployment("1.2", replaces=first.entry_hash.hex())
    ledger.refused(Conflict, stale, "no longer serves in production: 1.1")


def test_the_champion_comparison_must_be_recorded_and_reviewed(strict: Ledger) -> None:
    store = strict.store
    champion = strict.approved("1.0")
    store.append(deployment("1.0"))
    challenger = store.append(training("1.1"))
    store.append_batch(
        [
            strict.vera.approve(challenger, role="validator"),
            strict.arjun.approve(challenger, role="approver"),
        ]
    )
    strict.refused(ChampionComparisonMissing, deployment("1.1"), "requires a champion")
    comparison = store.append(
        build_statement(
            kind="evaluation.recorded",
            model=MODEL,
            version="1.1",
            actor="dana",
            payload={
                "evaluation": "champion_challenger",
                "compared_with": champion.entry_hash.hex(),
                "summary": {"metrics": {"auc": {"difference": 0.01}}},
            },
        )
    )
    strict.refused(ChampionComparisonMissing, deployment("1.1"), "must be reviewed")
    reviewed = strict.vera.decision_statement(challenger, role="validator")
    payload = {**reviewed.payload, "evidence": [comparison.entry_hash.hex()]}
    store.append(
        strict.vera.sign(
            build_statement(
                kind="approval.granted",
                model=MODEL,
                version="1.1",
                actor="vera",
                reason="challenger beats the champion on the same sample",
                payload=payload,
                issued_at=reviewed.issued_at,
            )
        )
    )
    store.append(deployment("1.1"))
    assert version_view(store, MODEL, "1.0").status.value == "replaced"
    # the rollback needs its approvals anew under this policy: 1.0 still has them
    store.append(deployment("1.0", rollback=True))


def test_a_comparison_with_its_own_run_is_refused(ledger: Ledger) -> None:
    run = ledger.approved("1.0")
    itself = build_statement(
        kind="evaluation.recorded",
        model=MODEL,
        version="1.0",
        actor="dana",
        payload={"evaluation": "champion_challenger", "compared_with": run.entry_hash.hex()},
    )
    ledger.refused(InvalidStatement, itself, "itself")


def test_the_replay_names_a_promotion_slipped_past_the_serving_rules(store: LedgerStore) -> None:
    history = make_history(store)
    add_user_by_admins(store, "victor", ["validator"])
    history.register()
    history.approvals(history.run("1.0"))
    store.append(rules_deployment("1.0"))
    twice = append_bypassing_admission(store, rules_deployment("1.0"), signature=None, key_id=None)
    legacy = build_statement(
        kind="deployment.promoted",
        model=MODEL,
        version="1.0",
        actor="dana",
        reason="recorded before promotions were bound to a model file",
        payload={"environment": "staging"},
    )
    append_bypassing_admission(store, legacy, signature=None, key_id=None)

    report = replay_ledger_rules(store)

    assert [(v.seq, v.problem) for v in report.violations] == [(twice.seq, "already-serving")]
    assert report.unbound_promotions == 1 and report.to_dict()["unbound_promotions"] == 1
