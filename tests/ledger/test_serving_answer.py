"""As-of serving answers: which version served where after each seq and at each time, with
proofs that both verifiers (`ledger.verify.verify_serving_answer`, `standalone.py`) accept
when honest and reject when an entry, a proof, a claim or the key is not the ledger's.

The story (`tests.ledger.serving_story`): 1.0 promoted at seq 6, replaced by 1.1 at 11,
1.0 and 1.1 in shadow at 12 and 13, 1.0 rolled back into production at 14, 1.1 retired at 15.
"""

from __future__ import annotations

import copy
import importlib.util
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ledger.errors import (
    InvalidAsOf,
    InvalidTimeBound,
    ServingAnswerInvalid,
    UnknownEnvironment,
    UnknownModelVersion,
)
from ledger.log import signing
from ledger.log.checkpoint import verifier_key
from ledger.log.serving_answer import check_serving_answer
from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import LedgerStore, serving_answer
from ledger.verify import Problem, verify_serving_answer
from tests.ledger.factories import MODEL, deployment, model_file, note, training
from tests.ledger.serving_story import ServingStory, write_serving_story

SCRIPT = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


def _standalone() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standalone_serving", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sv = _standalone()

PRODUCTION = {  # seq -> the version serving in production after it
    **dict.fromkeys(range(0, 6), None),
    **dict.fromkeys(range(6, 11), "1.0"),
    **dict.fromkeys(range(11, 14), "1.1"),
    **dict.fromkeys(range(14, 17), "1.0"),
}
SHADOW = {
    **dict.fromkeys(range(0, 12), ()),
    12: ("1.0",),
    13: ("1.0", "1.1"),
    14: ("1.0", "1.1"),
    15: ("1.0",),
    16: ("1.0",),
}


@pytest.fixture
def story(store: LedgerStore) -> ServingStory:
    return write_serving_story(store)


def _key(store: LedgerStore) -> str:
    return store.meta()["verifier_key"]


def _both_accept(answer: dict[str, Any], key: str) -> None:
    report = verify_serving_answer(answer, key)
    assert report.ok, report.summary()
    import json

    assert sv.verify_serving(json.dumps(answer).encode(), key).startswith("OK: ")


def _both_reject(answer: dict[str, Any], key: str, problem: Problem, why: str) -> None:
    import json

    report = verify_serving_answer(answer, key)
    assert not report.ok and report.problem is problem, report.summary()
    with pytest.raises(sv.Failed, match=why):
        sv.verify_serving(json.dumps(answer).encode(), key)


def _versions(answer: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t["version"] for t in answer["serving"])


def test_production_after_each_seq_follows_promotion_replacement_and_rollback(
    store: LedgerStore, story: ServingStory
) -> None:
    key = _key(store)
    for seq, version in PRODUCTION.items():
        answer = serving_answer(store, MODEL, seq=seq)
        assert answer["as_of_seq"] == seq and answer["question"] == {"seq": seq}
        assert _versions(answer) == (() if version is None else (version,)), seq
        if version is not None:
            (tenure,) = answer["serving"]
            assert tenure["model_sha256"] == model_file(version)
            assert tenure["model_files"] == [model_file(version)]
            assert tenure["status"] == "serving"  # as of that seq, not as of now
            assert tenure["rollback"] is (seq >= 14)
            cited = {e["seq"] for e in answer["evidence"]["entries"]}
            assert {tenure["since_seq"], tenure["run_seq"], seq} <= cited
            assert len(cited) == len({tenure["since_seq"], seq}) + 1 + len(tenure["approvals"])
            _both_accept(answer, key)
    rollback = serving_answer(store, MODEL, seq=14)["serving"][0]
    assert rollback["since_seq"] == 14 and rollback["approvals"] == []


def test_shadow_holds_two_until_a_retirement_ends_one(
    store: LedgerStore, story: ServingStory
) -> None:
    key = _key(store)
    for seq, versions in SHADOW.items():
        answer = serving_answer(store, MODEL, "shadow", seq=seq)
        assert answer["shadow"] is True
        assert _versions(answer) == versions, seq
        if versions:
            _both_accept(answer, key)
    now = serving_answer(store, MODEL, "shadow")
    assert _versions(now) == ("1.0",) and now["question"] == {"now": True}
    (retired,) = [t for t in now["history"] if t["version"] == "1.1"]
    assert (retired["end"], retired["ended_seq"]) == ("retired", 15)


def test_the_history_names_every_tenure_and_how_it_ended(
    store: LedgerStore, story: ServingStory
) -> None:
    history = serving_answer(store, MODEL, seq=6)["history"]  # the whole history, at any seq
    assert [(t["version"], t["since_seq"], t["end"], t["ended_seq"]) for t in history] == [
        ("1.0", 6, "replaced", 11),
        ("1.1", 11, "replaced", 14),
        ("1.0", 14, None, None),
    ]
    assert history[0]["ended_by_version"] == "1.1"
    assert "replaced by 1.1 at seq 11" in history[0]["description"]


def _last_at_or_before(story: ServingStory, moment: str) -> int:
    return max(e.seq for e in story.entries if e.recorded_at <= moment)


def test_a_time_maps_to_the_last_entry_recorded_at_or_before_it(
    store: LedgerStore, story: ServingStory
) -> None:
    key = _key(store)
    times = []
    for entry in story.entries[:16]:
        after = story.entries[entry.seq + 1]
        times.append(entry.recorded_at)  # exactly an entry's time
        middle = (
            parse_rfc3339(entry.recorded_at)
            + (parse_rfc3339(after.recorded_at) - parse_rfc3339(entry.recorded_at)) / 2
        )
        times.append(format_rfc3339(middle))  # between two entries
    times.append(format_rfc3339(datetime.now(UTC) - timedelta(microseconds=1)))  # after all
    for moment in times:
        answer = serving_answer(store, MODEL, at=moment)
        expected = _last_at_or_before(story, moment)
        assert answer["as_of_seq"] == expected, moment
        assert _versions(answer) == tuple(v for v in [PRODUCTION[expected]] if v), moment
        bracket = {e["seq"] for e in answer["evidence"]["entries"]}
        assert expected in bracket and (expected + 1 in bracket or expected == 16)
        _both_accept(answer, key)


@pytest.mark.parametrize(
    ("question", "error", "says"),
    [
        ({"seq": 17}, InvalidAsOf, "beyond the log of 17 entries"),
        ({"seq": 10**9}, InvalidAsOf, "beyond the log"),
        ({"at": "2026-01-01T00:00:00Z", "seq": 3}, InvalidAsOf, "not both"),
        ({"at": "2001-01-01T00:00:00Z"}, InvalidAsOf, "before credit-scoring's first entry"),
        ({"at": "2999-01-01T00:00:00Z"}, InvalidAsOf, "in the future"),
        ({"at": "next tuesday"}, InvalidTimeBound, "neither a date nor a time"),
        ({"at": "2026-13-01T00:00:00Z"}, InvalidTimeBound, "neither a date nor a time"),
    ],
)
def test_questions_the_ledger_cannot_answer_are_refused(
    store: LedgerStore, story: ServingStory, question: dict[str, Any], error: type, says: str
) -> None:
    with pytest.raises(error, match=says):
        serving_answer(store, MODEL, **question)


def test_a_day_means_its_end_and_one_not_yet_ended_is_refused(
    store: LedgerStore, story: ServingStory
) -> None:
    today = datetime.now(UTC).date()
    with pytest.raises(InvalidAsOf, match="has not ended"):
        serving_answer(store, MODEL, at=today.isoformat())
    with pytest.raises(InvalidAsOf, match="first entry"):
        serving_answer(store, MODEL, at=(today - timedelta(days=1)).isoformat())
    with pytest.raises(InvalidAsOf, match="has not ended"):
        serving_answer(store, MODEL, at=date.max.isoformat())


def test_unknown_models_and_environments_are_refused_and_a_configured_one_answers_nothing(
    store: LedgerStore, story: ServingStory
) -> None:
    with pytest.raises(UnknownModelVersion, match="not in the ledger"):
        serving_answer(store, "fraud-model")
    with pytest.raises(UnknownEnvironment, match="production, staging, shadow"):
        serving_answer(store, MODEL, "canary")
    staging = serving_answer(store, MODEL, "staging")
    assert staging["serving"] == [] and staging["history"] == []
    report = verify_serving_answer(staging, _key(store))
    assert report.ok and "nothing" in report.summary()


def _tampered(answer: dict[str, Any], change: str) -> dict[str, Any]:
    bad = copy.deepcopy(answer)
    promotion_seq = bad["serving"][0]["since_seq"]
    entries = {e["seq"]: e for e in bad["evidence"]["entries"]}
    if change == "entry":
        entries[promotion_seq]["statement"]["payload"]["model_sha256"] = "ab" * 32
    elif change == "proof":
        hashes = bad["evidence"]["proofs"][str(promotion_seq)]["hashes"]
        hashes[0] = ("00" if hashes[0][:2] != "00" else "11") + hashes[0][2:]
    elif change == "claimed-version":
        bad["serving"][0]["model_sha256"] = model_file("1.0")
    elif change == "claimed-seq":
        bad["as_of_seq"] = bad["as_of_seq"] - 1
    elif change == "dropped-bracket":
        bad["evidence"]["entries"] = [
            e for e in bad["evidence"]["entries"] if e["seq"] != bad["as_of_seq"] + 1
        ]
        del bad["evidence"]["proofs"][str(bad["as_of_seq"] + 1)]
    return bad


@pytest.mark.parametrize(
    ("change", "problem", "why"),
    [
        ("entry", Problem.HASH_MISMATCH, "altered"),
        ("proof", Problem.NOT_INCLUDED, "inclusion proof does not place"),
        ("claimed-version", Problem.CLAIM_NOT_PROVEN, "another model file"),
        ("claimed-seq", Problem.CLAIM_NOT_PROVEN, "not show seq"),
        ("dropped-bracket", Problem.CLAIM_NOT_PROVEN, "not show seq 13 recorded after"),
    ],
)
def test_a_tampered_answer_is_rejected_by_both_verifiers(
    store: LedgerStore, story: ServingStory, change: str, problem: Problem, why: str
) -> None:
    answer = serving_answer(store, MODEL, at=story.entries[12].recorded_at)
    assert answer["as_of_seq"] == 12
    _both_accept(answer, _key(store))
    _both_reject(_tampered(answer, change), _key(store), problem, why)


def test_an_answer_checked_with_another_ledgers_key_is_rejected(
    store: LedgerStore, story: ServingStory
) -> None:
    answer = serving_answer(store, MODEL)
    other = verifier_key(store.origin, signing.generate_private_key())
    _both_reject(answer, other, Problem.KEY_MISMATCH, "another ledger key")
    forged = copy.deepcopy(answer)
    forged["evidence"]["verifier_key"] = other  # the answer names the other key too
    _both_reject(forged, other, Problem.CHECKPOINT_INVALID, "signature")
    with pytest.raises(ServingAnswerInvalid) as caught:
        check_serving_answer(forged, other)
    assert caught.value.problem == "checkpoint-invalid"


def test_a_stale_promotion_claimed_as_serving_is_caught_by_the_replacement_in_the_evidence(
    store: LedgerStore, story: ServingStory
) -> None:
    """An answer that claims 1.0 still serves at seq 12 while carrying 1.1's promotion
    (seq 11) is refuted by its own evidence."""
    honest = serving_answer(store, MODEL, seq=12)
    stale = serving_answer(store, MODEL, seq=10)
    forged = copy.deepcopy(stale)
    forged["question"], forged["as_of_seq"] = {"seq": 12}, 12
    merged = {e["seq"]: e for e in [*stale["evidence"]["entries"], *honest["evidence"]["entries"]]}
    forged["evidence"]["entries"] = [merged[s] for s in sorted(merged)]
    forged["evidence"]["proofs"] = {
        **stale["evidence"]["proofs"],
        **honest["evidence"]["proofs"],
    }
    _both_reject(forged, _key(store), Problem.CLAIM_NOT_PROVEN, "seq 11 ended the tenure")


def test_an_answer_after_new_entries_sees_them_and_older_answers_do_not_change(
    store: LedgerStore, story: ServingStory
) -> None:
    """The store keeps its last fold of the model's promotions; appends after it (a new
    version promoted, then unrelated entries) are folded in, and nothing before changes."""
    assert _versions(serving_answer(store, MODEL)) == ("1.0",)
    run = store.append(training("1.2"))
    approvals = [
        store.append(story.validator.approve(run, role="validator")),
        store.append(story.approver.approve(run, role="approver")),
    ]
    promoted = store.append(deployment("1.2", approvals=[a.entry_hash.hex() for a in approvals]))
    now = serving_answer(store, MODEL)
    assert _versions(now) == ("1.2",) and now["serving"][0]["since_seq"] == promoted.seq
    store.append(note("after the promotion"))
    assert _versions(serving_answer(store, MODEL)) == ("1.2",)
    assert _versions(serving_answer(store, MODEL, seq=16)) == ("1.0",)
    assert [t["version"] for t in serving_answer(store, MODEL)["history"]] == [
        "1.0",
        "1.1",
        "1.0",
        "1.2",
    ]
    _both_accept(now, _key(store))
