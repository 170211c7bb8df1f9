"""Evidence a policy requires, through the real service and the CLI: proposed with its
fields, listed, shown to the approver before signing, and a refused promotion's problem
lists what is missing (`evidence_missing`) and writes nothing but the recorded refusal."""

from __future__ import annotations

import json

from tests.api.conftest import Service
from tests.api.test_names import cli
from tests.model_files import model_file_for

M = "evidence-model"
REG_B_GAPS = "Regulation B (ECOA) checklist: 4 gaps: Controlled catalogue of principal reasons"


def _put_in_force(svc: Service) -> None:
    body = {
        "tier": "high",
        "environment": "production",
        "required": {"validator": 1, "approver": 1},
        "required_evaluations": ["fairness"],
        "required_regimes": ["reg-b"],
        "reason": "high-tier models need their fairness screen and Reg B (SR 26-2 tiering)",
    }
    with svc.http("carol") as carol, svc.http("adam") as adam:
        unknown = carol.post("/v1/policies", json={**body, "required_regimes": ["reg-z"]})
        assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-regime")
        proposed = carol.post("/v1/policies", json=body)
        assert proposed.status_code == 201, proposed.text
        seq = proposed.json()["seq"]
        approved = adam.post(f"/v1/policies/{seq}/approve", json={"reason": "signed off"})
        assert approved.status_code == 201, approved.text


def test_a_policy_requiring_evidence_is_shown_before_signing_and_refuses_the_promotion(
    service: Service,
) -> None:
    svc = service
    _put_in_force(svc)
    listed = cli(svc, "policy", "list", user="carol")
    assert listed.returncode == 0, listed.stderr
    assert "evaluations before promotion: fairness" in listed.stdout
    assert "no checklist gaps before promotion: reg-b" in listed.stdout
    as_json = json.loads(cli(svc, "policy", "list", "--json", user="carol").stdout)
    in_force = [p for p in as_json["policies"] if p["in_force"] and p["tier"] == "high"]
    assert in_force[0]["required_regimes"] == ["reg-b"]
    assert in_force[0]["required_evaluations"] == ["fairness"]

    with svc.client("dana") as dana, svc.client("alice") as alice:
        svc_victor_key, svc_alice_key = svc.signing_keys["victor"], svc.signing_keys["alice"]
        alice.register_key(svc_alice_key)
        dana.register_model(M, description="PD", materiality_tier="high")
        with dana.run(M, version="1.0") as run:
            run.log_model(model_file_for(M, "1.0"))
        alice.approve(M, "1.0", "signed off", key=svc_alice_key)
    with svc.client("victor") as victor:
        victor.register_key(svc_victor_key)
    approve = cli(
        svc, "approve", M, "1.0", "--reason", "validated", "--key", str(svc_victor_key),
        user="victor",
    )  # fmt: skip
    assert approve.returncode == 0, approve.stderr
    shown = " ".join(approve.stdout.split())
    assert "evidence missing" in shown and "no fairness evaluation recorded" in shown
    warning = "Warning: the policy in force will refuse the deployment of evidence-model 1.0 "
    assert warning + "until this evidence is recorded: no fairness evaluation recorded; " in shown

    with svc.http("dana") as http:
        size = svc.size()
        refused = http.post("/v1/deployments", json={"model": M, "version": "1.0", "reason": "go"})
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["type"].endswith("/evidence-missing")
        missing = problem["evidence_missing"]
        assert missing[0] == "no fairness evaluation recorded"
        assert missing[1].startswith(REG_B_GAPS) and len(missing) == 2
        assert "no fairness evaluation recorded" in problem["detail"]
        assert svc.size() == size + 1  # only the recorded refusal
        shown_view = http.get(f"/v1/models/{M}/versions/1.0").json()
        assert shown_view["evidence_missing"] == missing
        assert shown_view["policy"]["required_regimes"] == ["reg-b"]

    with svc.client("dana") as dana:
        dana.log_evaluation(
            M, "1.0", {"evaluation": "fairness", "summary": {"threshold": 0.8, "confidence": 0.95}}
        )
    with svc.http("dana") as http:
        again = http.post("/v1/deployments", json={"model": M, "version": "1.0", "reason": "go"})
    assert again.status_code == 409
    assert again.json()["evidence_missing"] == [
        "Regulation B (ECOA) checklist: 3 gaps: Controlled catalogue of principal reasons, from "
        "factors the model scores (12 CFR 1002.9(a)(2) and (b)(2)), Specific principal "
        "reasons, four or fewer (12 CFR 1002.9(b)(2) and its Official Interpretation), Reasons "
        "per applicant, as they appear on notices (12 CFR 1002.9(a)(2))"
    ]
