"""Human oversight records: override and stop decisions, and what a stop does to a version."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import (
    Conflict,
    FourEyesViolation,
    InvalidStatement,
    MissingReason,
    PolicyViolation,
    UnknownModelVersion,
    VersionStopped,
)
from ledger.governance import Submission
from ledger.log.entries import build_statement
from ledger.store import ArtifactStore, LedgerStore, version_view
from tests.ledger.factories import model_file
from tests.ledger.regulated import BUILDER, MODEL, RegulatedLedger, build_regulated_ledger


@pytest.fixture
def regulated(store: LedgerStore, artifact_store: ArtifactStore) -> RegulatedLedger:
    return build_regulated_ledger(store, artifact_store)


def oversight(action: str, version: str = "1.0", reason: str = "why", **payload: Any) -> Any:
    return build_statement(
        kind="oversight.recorded",
        model=MODEL,
        version=version,
        actor="carol",
        reason=reason,
        payload={"action": action, **payload},
    )


def deployment(version: str = "1.0", environment: str = "production") -> Any:
    return build_statement(
        kind="deployment.promoted",
        model=MODEL,
        version=version,
        actor="dana",
        reason="redeploy",
        payload={"environment": environment, "model_sha256": model_file(version, MODEL)},
    )


def test_a_stop_makes_the_version_stopped_and_refuses_deployment_until_resumed(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    stop = store.append(
        oversight(
            "stop",
            reason="complaints about declines of self-employed applicants",
            decisions={"since": "2026-11-01"},
        )
    )
    view = version_view(store, MODEL, "1.0")
    assert view.status.value == "stopped" and view.stop == stop
    assert view.to_dict()["stopped_by"]["actor"] == "carol"  # type: ignore[index]
    size = store.size()
    with pytest.raises(VersionStopped, match=r"stopped by carol .*'resume'") as info:
        store.append(deployment())
    assert isinstance(info.value, PolicyViolation) and info.value.status == 409
    assert store.size() == size
    with pytest.raises(VersionStopped):
        store.append(deployment(environment="staging"))
    store.append(oversight("resume", reason="root cause fixed", refers_to=[stop.entry_hash.hex()]))
    assert version_view(store, MODEL, "1.0").status.value == "deployed"  # serving again
    assert store.append(deployment(environment="staging")).statement.kind == "deployment.promoted"
    assert version_view(store, MODEL, "1.0").serving_in == ["production", "staging"]


def test_a_stop_and_a_deployment_in_one_batch_are_refused_together(
    regulated: RegulatedLedger,
) -> None:
    size = regulated.store.size()
    with pytest.raises(VersionStopped, match="statement 1 of the batch"):
        regulated.store.append_batch([Submission(oversight("stop")), Submission(deployment())])
    assert regulated.store.size() == size


def test_stopping_a_stopped_version_or_resuming_a_running_one_is_refused(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    with pytest.raises(Conflict, match="not stopped"):
        store.append(oversight("resume"))
    store.append(oversight("stop", version="2.0"))
    assert version_view(store, MODEL, "2.0").status.value == "stopped"
    with pytest.raises(Conflict, match="already stopped"):
        store.append(oversight("stop", version="2.0"))


@pytest.mark.parametrize(
    ("action", "payload", "problem"),
    [
        ("override", {"outcome": "approved"}, "must name the decisions"),
        ("override", {"decisions": {"application_ids": ["A-7"]}}, "human outcome"),
        ("measures", {"procedure": "call compliance"}, "who is assigned"),
        ("pause", {}, "action"),
        ("override", {"decisions": {"since": "last week"}, "outcome": "x"}, "since"),
    ],
)
def test_an_oversight_record_says_what_it_covers(
    action: str, payload: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidStatement, match=problem):
        oversight(action, **payload)


def test_an_oversight_record_needs_a_reason_and_a_logged_version(
    regulated: RegulatedLedger,
) -> None:
    with pytest.raises(MissingReason):
        oversight("stop", reason="")
    with pytest.raises(UnknownModelVersion):
        regulated.store.append(oversight("stop", version="9.9"))


def test_an_override_names_the_decisions_and_the_human_outcome(
    regulated: RegulatedLedger,
) -> None:
    override = regulated.entries["override"].statement
    assert override.actor == "omar" and override.reason == "income verified by phone"
    assert override.payload["decisions"] == {"application_ids": ["A-1001", "A-1002"]}
    view = version_view(regulated.store, MODEL, "1.0")
    assert [e.statement.payload["action"] for e in view.oversight] == ["measures", "override"]
    assert view.status.value == "deployed"


@pytest.mark.parametrize("action", ["stop", "override", "measures"])
def test_the_builder_of_a_version_cannot_record_its_oversight(
    regulated: RegulatedLedger, action: str
) -> None:
    """Four eyes covers oversight too: whoever logged a version may not stop, override or
    arrange the oversight of it, whatever roles they also hold."""
    payload: dict[str, Any] = {
        "stop": {},
        "override": {"decisions": {"application_ids": ["A-7"]}, "outcome": "approved"},
        "measures": {"assigned_to": ["dana"]},
    }[action]
    size = regulated.store.size()
    statement = build_statement(
        kind="oversight.recorded",
        model=MODEL,
        version="1.0",
        actor=BUILDER,
        reason="my own model",
        payload={"action": action, **payload},
    )
    with pytest.raises(FourEyesViolation, match="cannot record its oversight"):
        regulated.store.append(statement)
    assert regulated.store.size() == size


def test_the_builder_cannot_resume_a_version_someone_else_stopped(
    regulated: RegulatedLedger,
) -> None:
    regulated.store.append(oversight("stop"))
    resume = build_statement(
        kind="oversight.recorded",
        model=MODEL,
        version="1.0",
        actor=BUILDER,
        reason="I fixed it",
        payload={"action": "resume"},
    )
    with pytest.raises(FourEyesViolation):
        regulated.store.append(resume)
    assert version_view(regulated.store, MODEL, "1.0").status.value == "stopped"
    regulated.store.append(oversight("resume"))  # carol, who did not build it, may
    assert version_view(regulated.store, MODEL, "1.0").status.value != "stopped"
