"""Each kind validates its statement: payload fields, names, reasons, numbers and size."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import pytest

from ledger.errors import (
    InvalidStatement,
    MissingReason,
    NonCanonicalValue,
    PayloadTooLarge,
    UnknownEntry,
    UnknownKind,
    VersionAlreadyLogged,
)
from ledger.log.entries import MAX_STATEMENT_BYTES, build_statement
from ledger.log.kinds import RULE_KINDS, Kind
from ledger.store import LedgerStore
from tests.ledger.factories import MODEL, digest, evaluation, note, recalibration, training

RUN = digest("run")
KEY_ID = "0" * 32

# The smallest valid statement of each kind (as build_statement arguments).
MINIMAL: dict[Kind, dict[str, Any]] = {
    Kind.MODEL_REGISTERED: {"model": MODEL, "payload": {}},
    Kind.RUN_TRAINING: {"model": MODEL, "version": "1.0", "payload": {}},
    Kind.RUN_RECALIBRATION: {
        "model": MODEL,
        "version": "1.1",
        "reason": "drift",
        "payload": {"parent_run": RUN},
    },
    Kind.EVALUATION_RECORDED: {
        "model": MODEL,
        "version": "1.0",
        "payload": {"evaluation": "fairness"},
    },
    Kind.APPROVAL_GRANTED: {
        "model": MODEL,
        "version": "1.0",
        "reason": "ok",
        "payload": {"role": "validator", "run": RUN},
    },
    Kind.APPROVAL_REJECTED: {
        "model": MODEL,
        "version": "1.0",
        "reason": "no",
        "payload": {"role": "validator", "run": RUN},
    },
    Kind.DEPLOYMENT_PROMOTED: {"model": MODEL, "version": "1.0", "reason": "go", "payload": {}},
    Kind.MONITORING_PLAN: {
        "model": MODEL,
        "version": "1.0",
        "reason": "monthly monitoring",
        "payload": {
            "measures": {"score_psi": {"amber": 0.1, "red": 0.25}},
            "features": ["age"],
            "reference": {"name": "ref", "rows": 10, "sha256": "ab" * 32},
            "responders": ["validator"],
        },
    },
    Kind.MONITORING_REPORTED: {
        "model": MODEL,
        "version": "1.0",
        "payload": {
            "plan": "ab" * 32,
            "period": {"start": "2026-11-01", "end": "2026-11-30"},
            "rows": 10,
            "measures": {"score_psi": {"value": 0.02, "status": "green"}},
        },
    },
    Kind.MONITORING_RESPONDED: {
        "model": MODEL,
        "version": "1.0",
        "reason": "within appetite",
        "payload": {
            "report": "ab" * 32,
            "role": "validator",
            "action": "accept",
            "review_by": "2027-01-31",
        },
    },
    Kind.SERVING_CHECKED: {
        "model": MODEL,
        "payload": {
            "environment": "production",
            "model_sha256": "ab" * 32,
            "host": "scorer-1",
            "outcome": "refused",
            "tree_size": 12,
        },
    },
    Kind.MODEL_RETIRED: {"model": MODEL, "reason": "replaced", "payload": {}},
    Kind.KEY_REGISTERED: {"payload": {"key_id": KEY_ID, "public_key": "A" * 43 + "="}},
    Kind.KEY_REVOKED: {"reason": "lost", "payload": {"key_id": KEY_ID}},
    Kind.REQUEST_REFUSED: {
        "reason": "four eyes",
        "payload": {"attempted_kind": "approval.granted", "problem": "four-eyes-violation"},
    },
    Kind.NOTE: {"payload": {}},
    Kind.CATALOGUE_RECORDED: {
        "model": MODEL,
        "version": "1.0",
        "reason": "first catalogue",
        "payload": {
            "catalogue_version": "1",
            "entries": [{"feature": "income", "code": "R1", "statement": "Income too low"}],
        },
    },
    Kind.OVERSIGHT_RECORDED: {
        "model": MODEL,
        "version": "1.0",
        "reason": "complaint upheld",
        "payload": {"action": "stop"},
    },
    Kind.ACCESS_USER_CREATED: {"payload": {"user": "victor"}},
    Kind.ACCESS_GRANTED: {
        "reason": "joins validation",
        "payload": {"user": "victor", "role": "validator"},
    },
    Kind.ACCESS_CONFIRMED: {
        "reason": "checked the request",
        "payload": {"grant": "abababababababababababababababababababababababababababababababab"},
    },
    Kind.ACCESS_REVOKED: {
        "reason": "left the team",
        "payload": {"user": "victor", "role": "validator"},
    },
    Kind.ACCESS_KEY_ISSUED: {
        "payload": {
            "user": "victor",
            "key_id": "0123456789abcdef",
            "secret_sha256": "abababababababababababababababababababababababababababababababab",
        }
    },
    Kind.ACCESS_KEY_REVOKED: {
        "reason": "laptop lost",
        "payload": {"user": "victor", "key_id": "0123456789abcdef"},
    },
    Kind.ACCESS_FEDERATED: {
        "reason": "single sign-on: GOVLEDGER_OIDC_ROLES",
        "payload": {
            "issuer": "https://idp.bank.example",
            "claim": "groups",
            "value": "risk-officers",
            "role": "approver",
            "user": "rita",
        },
    },
    Kind.POLICY_PROPOSED: {"reason": "SR 26-2 tiering", "payload": {"required": {"validator": 1}}},
    Kind.POLICY_APPROVED: {
        "reason": "reviewed",
        "payload": {"policy": "abababababababababababababababababababababababababababababababab"},
    },
    Kind.SCORING_BATCH: {
        "model": "credit",
        "version": "1.0.0",
        "payload": {
            "environment": "production",
            "count": 1,
            "first_decided_at": "2026-03-04T10:00:00.000000Z",
            "last_decided_at": "2026-03-04T10:00:00.000000Z",
            "root": "ab" * 32,
            "outcomes": {"approve": 1, "decline": 0, "refer": 0},
            "leaf_format": "govledger/scoring-decision/v1",
        },
    },
    Kind.SCORING_ERASED: {
        "payload": {"decision_ids": ["d-1"], "legal_basis": "GDPR Art. 17(1)(a)"},
    },
    Kind.SCORING_PURGED: {
        "payload": {"before": "2024-01-01T00:00:00.000000Z", "legal_basis": "12 CFR 1002.12(b)"},
    },
    Kind.RUN_IMPORTED: {
        "payload": {
            "source": {
                "system": "mlflow",
                "server": "http://m",
                "experiment_id": "1",
                "run_id": "r",
            }
        },
    },
    Kind.REGISTRY_IMPORTED: {
        "payload": {
            "source": {
                "system": "mlflow",
                "server": "http://m",
                "registered_model": "credit",
                "model_version": "1",
            }
        },
    },
}


def build(kind: Kind, **overrides: Any) -> Any:
    arguments = {"kind": kind.value, "actor": "dana", **MINIMAL[kind], **overrides}
    return build_statement(**arguments)


def test_every_kind_has_a_minimal_statement() -> None:
    missing = sorted(kind.value for kind in set(Kind) - set(MINIMAL))
    assert not missing, f"add the smallest valid statement of {missing} to MINIMAL"


@pytest.mark.parametrize("kind", list(MINIMAL), ids=str)
def test_the_minimal_statement_of_each_kind_is_valid_and_kept_as_sent(kind: Kind) -> None:
    statement = build(kind)
    assert statement.kind == kind.value
    assert statement.payload == MINIMAL[kind]["payload"]


@pytest.mark.parametrize("kind", list(MINIMAL), ids=str)
def test_an_unknown_payload_field_is_refused(kind: Kind) -> None:
    payload = {**MINIMAL[kind]["payload"], "metircs": {"auc": 0.8}}
    with pytest.raises(InvalidStatement, match="metircs"):
        build(kind, payload=payload)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"datasets": [{"name": "d", "rows": 1, "sha256": RUN, "colour": "red"}]}, "colour"),
        ({"artifacts": [{"name": "a.csv", "sha256": RUN, "bytes": 3}]}, "bytes"),
    ],
)
def test_an_unknown_field_in_a_nested_object_is_refused(
    payload: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidStatement, match=where):
        build(Kind.RUN_TRAINING, payload=payload)


def test_an_unknown_kind_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(UnknownKind, match=r"run\.training"):
        build_statement(kind="run.trained", model=MODEL, version="1", actor="dana")


@pytest.mark.parametrize("kind", sorted(k.value for k in MINIMAL if "reason" in MINIMAL[k]))
def test_kinds_that_need_a_reason_refuse_a_statement_without_one(kind: str) -> None:
    with pytest.raises(MissingReason):
        build(Kind(kind), reason="")


@pytest.mark.parametrize("kind", sorted(k.value for k in RULE_KINDS))
def test_a_rule_entry_is_about_no_model(kind: str) -> None:
    with pytest.raises(InvalidStatement, match="not a model"):
        build(Kind(kind), model=MODEL)


@pytest.mark.parametrize("count", [0, -1, 101])
def test_a_policy_counts_each_role_from_1_to_100(count: int) -> None:
    with pytest.raises(InvalidStatement, match=r"payload\.required"):
        build(Kind.POLICY_PROPOSED, payload={"required": {"validator": count}})


def test_a_policy_requires_some_approval() -> None:
    with pytest.raises(InvalidStatement, match="at least one approval"):
        build(Kind.POLICY_PROPOSED, payload={"required": {}})


def test_a_recalibration_must_name_its_parent_run() -> None:
    with pytest.raises(InvalidStatement, match="parent_run"):
        build(Kind.RUN_RECALIBRATION, payload={"metrics": {"auc": 0.8}})


@pytest.mark.parametrize("bad", ["abc", RUN.upper(), RUN + "0", 42])
def test_digests_must_be_lowercase_hex_sha256(bad: object) -> None:
    with pytest.raises(InvalidStatement, match="parent_run"):
        build(Kind.RUN_RECALIBRATION, payload={"parent_run": bad})


def test_a_recalibration_whose_parent_is_not_a_run_is_refused(store: LedgerStore) -> None:
    """The entry exists but is no run: 422 (an unknown hash is 404, below)."""
    remark = store.append(note("not a run"))
    with pytest.raises(InvalidStatement, match=r"parent_run .* not a run of"):
        store.append(recalibration("1.1", remark))
    assert store.size() == 1


def test_a_recalibration_of_an_unknown_hash_is_refused(store: LedgerStore) -> None:
    orphan = build(Kind.RUN_RECALIBRATION, payload={"parent_run": RUN})
    with pytest.raises(UnknownEntry, match=r"parent_run .* names no earlier entry"):
        store.append(orphan)
    assert store.size() == 0


def test_a_recalibration_whose_parent_belongs_to_another_model_is_refused(
    store: LedgerStore,
) -> None:
    other = store.append(training("1.0", model="fraud-scoring"))
    with pytest.raises(InvalidStatement, match="fraud-scoring"):
        store.append(recalibration("1.1", other))
    assert store.size() == 1


def test_a_recalibration_of_a_logged_run_is_accepted(store: LedgerStore) -> None:
    parent = store.append(training("1.0"))
    child = store.append(recalibration("1.1", parent))
    assert child.statement.payload["parent_run"] == parent.entry_hash.hex()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("field", ["metrics", "params"])
def test_nan_and_infinity_in_numbers_are_refused(field: str, value: float) -> None:
    with pytest.raises(NonCanonicalValue, match=f"payload.{field}.auc"):
        build(Kind.RUN_TRAINING, payload={field: {"auc": value}})


def test_nan_deep_in_an_evaluation_summary_is_refused() -> None:
    with pytest.raises(NonCanonicalValue, match="nan"):
        evaluation(summary={"groups": [{"selection_rate": 0.4}, {"selection_rate": math.nan}]})


def test_an_integer_beyond_2_53_is_refused() -> None:
    with pytest.raises(NonCanonicalValue, match="safe range"):
        build(Kind.RUN_TRAINING, payload={"params": {"seed": 2**63}})


def _evaluation_of_size(size: int) -> Any:
    overhead = len(evaluation(summary={"padding": ""}).signing_bytes())
    return evaluation(summary={"padding": "x" * (size - overhead)})


def test_a_statement_of_exactly_1_mib_is_accepted(store: LedgerStore) -> None:
    statement = _evaluation_of_size(MAX_STATEMENT_BYTES)
    assert len(statement.signing_bytes()) == MAX_STATEMENT_BYTES
    store.append(training("1.0"))
    assert store.append(statement).statement == statement


def test_a_statement_over_1_mib_is_refused() -> None:
    with pytest.raises(PayloadTooLarge, match="1,048,576"):
        _evaluation_of_size(MAX_STATEMENT_BYTES + 1)


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    with pytest.raises(PayloadTooLarge):
        evaluation(summary={"text": "\u00e9" * (MAX_STATEMENT_BYTES // 2 + 1)})


@pytest.mark.parametrize(
    "name", ["../model.pkl", "dir/model.pkl", "..", ".", "a\\b.csv", "tab\there", "nul\x00"]
)
def test_artifact_names_must_be_plain_file_names(name: str) -> None:
    with pytest.raises(InvalidStatement, match="artifacts"):
        evaluation(artifacts=[{"name": name, "sha256": RUN}])


@pytest.mark.parametrize("name", ["shap_values.csv", "model v2.pkl", "..hidden", "é.svg"])
def test_plain_artifact_names_are_accepted(name: str) -> None:
    assert evaluation(artifacts=[{"name": name, "sha256": RUN}]).payload["artifacts"][0]["name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", " credit"),
        ("model", "credit\n"),
        ("model", "cre\u200bdit"),
        ("version", ""),
        ("version", "v" * 65),
        ("actor", ""),
    ],
)
def test_unsafe_or_missing_names_are_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidStatement, match=field):
        build(Kind.RUN_TRAINING, **{field: value})


def test_model_registration_is_about_a_model_not_a_version() -> None:
    with pytest.raises(InvalidStatement, match="version"):
        build(Kind.MODEL_REGISTERED, version="1.0")


def test_a_payload_must_be_an_object() -> None:
    with pytest.raises(InvalidStatement, match="object"):
        build(Kind.NOTE, payload=["text"])


def test_nfc_and_nfd_spellings_of_a_model_name_are_one_model(store: LedgerStore) -> None:
    nfc, nfd = (
        unicodedata.normalize("NFC", "modèle-crédit"),
        unicodedata.normalize("NFD", "modèle-crédit"),
    )
    assert nfc != nfd
    first = store.append(training("1.0", model=nfd))
    assert first.statement.model == nfc
    with pytest.raises(VersionAlreadyLogged):
        store.append(training("1.0", model=nfc))
    assert store.size() == 1
    evaluated = store.append(evaluation_of(nfd))
    assert evaluated.statement.model == nfc


def evaluation_of(model: str) -> Any:
    return build_statement(
        kind="evaluation.recorded",
        model=model,
        version="1.0",
        actor="dana",
        payload={"evaluation": "performance", "summary": {"auc": 0.8}},
    )


def test_a_version_is_logged_once(store: LedgerStore) -> None:
    store.append(training("1.0"))
    with pytest.raises(VersionAlreadyLogged, match="seq 0"):
        store.append(training("1.0", params={"depth": 5}))
    assert store.size() == 1


def test_the_statement_fields_are_what_build_statement_takes() -> None:
    """`govledger log` accepts these fields of a JSON statement; none is forgotten."""
    import inspect

    from ledger.log.entries import STATEMENT_FIELDS

    assert set(STATEMENT_FIELDS) == set(inspect.signature(build_statement).parameters)
