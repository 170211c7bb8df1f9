"""The main governance flow through real HTTP: log, evaluate, approve (signed), deploy."""

from __future__ import annotations

import pytest

from ledger import errors
from tests.api.conftest import Service, register_model
from tests.model_files import model_file_for


def test_run_logged_approved_by_two_roles_and_deployed(any_service: Service) -> None:
    svc = any_service
    dana, victor, alice = svc.client("dana"), svc.client("victor"), svc.client("alice")
    dana.register_model("credit-scoring", description="PD model", intended_use="consumer loans")
    register_model(dana, "credit-scoring")
    with dana.run("credit-scoring", version="1.0.0", algorithm="lightgbm") as run:
        run.log_params({"num_leaves": 31, "learning_rate": 0.05})
        run.log_metrics({"auc": 0.79, "ks": 0.41})
        run.set_tag("team", "risk")
        run.log_artifact_bytes = None  # attribute set by users is harmless
        run.log_model(model_file_for("credit-scoring", "1.0.0"))
    assert run.entry is not None and run.entry["statement"]["kind"] == "run.training"
    assert run.entry["statement"]["actor"] == "dana"

    with pytest.raises(errors.PolicyViolation, match="missing"):
        dana.deploy("credit-scoring", "1.0.0", reason="go live")

    victor.register_key(svc.signing_keys["victor"])
    alice.register_key(svc.signing_keys["alice"])
    victor.approve("credit-scoring", "1.0.0", "validation passed", key=svc.signing_keys["victor"])
    alice.approve("credit-scoring", "1.0.0", "business sign-off", key=svc.signing_keys["alice"])
    assert dana.version("credit-scoring", "1.0.0")["status"] == "approved"
    deployed = dana.deploy("credit-scoring", "1.0.0", reason="go live")
    assert deployed["statement"]["kind"] == "deployment.promoted"
    assert dana.version("credit-scoring", "1.0.0")["status"] == "deployed"
    report = svc.client("carol").verify()
    assert report["ok"], report
    kinds = [e["statement"]["kind"] for e in svc.client("carol").entries()]
    assert "request.refused" in kinds  # the refused deployment is on the record


def test_self_approval_is_refused_with_403_and_recorded(service: Service) -> None:
    dana = service.client("dana")
    register_model(dana, "credit-scoring")
    with dana.run("credit-scoring", version="2.0"):
        pass
    # dana also holds a validator role here? No: she may not decide as validator at all.
    with pytest.raises(errors.GovledgerError) as info:
        dana.approve(
            "credit-scoring",
            "2.0",
            "looks fine",
            key=service.signing_keys["dana"],
            role="validator",
        )
    assert info.value.status == 403
