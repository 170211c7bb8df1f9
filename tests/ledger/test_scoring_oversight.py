"""Decisions from a version under a human oversight stop are refused whole, as decisions
outside its tenure are; the audit report flags a batch that was decided while a stop was in
force (one rule: `governance.not_serving_at` over the serving fold with its stops). Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.errors import DecisionNotServing
from ledger.log.entries import Entry, build_statement
from ledger.store import ArtifactStore, LedgerStore
from reports.audit import build_audit
from tests.ledger.factories import MODEL
from tests.ledger.scoring_story import decisions, record, write_scoring_story


def _oversee(store: LedgerStore, action: str, version: str = "1.0") -> Entry:
    return store.append(
        build_statement(
            kind="oversight.recorded",
            model=MODEL,
            version=version,
            actor="carol",
            reason="declines of self-employed applicants under review",
            payload={"action": action},
        )
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _count(store: LedgerStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM scoring_decisions").scalar() or 0)


def _at(rows: list[dict[str, Any]], index: int, moment: datetime) -> list[dict[str, Any]]:
    rows[index]["decided_at"] = _rfc3339(moment)
    return rows


def test_a_batch_decided_while_the_version_was_stopped_is_refused_whole(
    store: LedgerStore,
) -> None:
    story = write_scoring_story(store)
    promoted = _time(story.promoted_at)
    stop = _oversee(store, "stop")
    stopped = _time(stop.recorded_at)
    before = record(store, decisions(3, prefix="before", at=promoted))
    assert before.statement.payload["count"] == 3  # decided before the stop: admitted
    count, size = _count(store), store.size()
    late = _at(decisions(4, prefix="late", at=promoted), 2, stopped + timedelta(microseconds=1))
    with pytest.raises(DecisionNotServing, match=f"stopped by carol at seq {stop.seq}") as refused:
        record(store, late)
    assert refused.value.row == 2 and "not resumed since" in str(refused.value)
    assert (_count(store), store.size()) == (count, size)  # nothing written
    with pytest.raises(DecisionNotServing, match="stopped") as at_the_stop:
        record(store, _at(decisions(2, prefix="edge", at=promoted), 1, stopped))
    assert at_the_stop.value.row == 1  # the stop's own time is already stopped

    resume = _oversee(store, "resume")
    resumed = _time(resume.recorded_at)
    with pytest.raises(DecisionNotServing, match=f"resumed at seq {resume.seq}") as between:
        record(store, _at(decisions(3, prefix="gap", at=resumed), 1, stopped))
    assert between.value.row == 1  # the resume does not admit what was decided meanwhile
    after = record(store, decisions(3, prefix="after", at=resumed))
    assert after.statement.payload["count"] == 3
    assert _count(store) == count + 3


def test_a_stop_of_one_version_refuses_nothing_of_another(store: LedgerStore) -> None:
    write_scoring_story(store)
    write_scoring_story(store, "1.1")  # 1.1 replaces 1.0 in production
    _oversee(store, "stop", version="1.0")
    entry = record(store, decisions(2, prefix="new"), version="1.1")
    assert entry.statement.version == "1.1" and _count(store) == 2


def test_the_audit_report_flags_a_batch_decided_while_a_stop_was_in_force(
    store: LedgerStore, artifact_store: ArtifactStore
) -> None:
    write_scoring_story(store)
    soon = datetime.now(UTC) + timedelta(seconds=120)  # within the allowed clock skew
    early = record(store, decisions(3, prefix="ok"))
    ahead = record(store, decisions(3, prefix="ahead", at=soon))  # admitted: not stopped yet
    stop = _oversee(store, "stop")  # recorded before the batch's decisions were made
    audit = build_audit(store, artifact_store, "0001-01-01", "9999-12-31", None)
    [row] = audit.scoring
    [flag] = row.not_serving
    assert flag.startswith(f"batch seq {ahead.seq} ") and f"at seq {stop.seq}" in flag
    assert f"batch seq {early.seq} " not in flag
