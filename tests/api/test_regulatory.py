"""Issue 8 over real HTTP and the real CLI: inventory, catalogues, oversight, compliance.

Bad input (an unknown tier or regime, a catalogue naming a feature the model does not score)
answers a 4xx problem and writes nothing; the CLI prints one line and exits non-zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import errors
from ledger.store import ArtifactStore, LedgerSettings, init_ledger
from tests.api.conftest import Service, register_model
from tests.api.test_errors import assert_problem
from tests.ledger.regulated import FEATURES, MODEL, REASONS, build_regulated_ledger
from tests.model_files import model_file_for

GOVLEDGER = Path(sys.executable).parent / "govledger"
M = "reg-api-pd"


def test_inventory_amendments_and_tiers_over_http(module_service: Service) -> None:
    svc = module_service
    dana = svc.client("dana")
    dana.register_model(M, owner="Retail Risk", materiality_tier="high", users=["lending"])
    with svc.http("dana") as http:
        size = svc.size()
        bad = http.post("/v1/models", json={"model": M, "materiality_tier": "Tier 1"})
        assert "low, medium, high" in assert_problem(bad, 422, "unknown-materiality-tier")["detail"]
        unexplained = http.post("/v1/models", json={"model": M, "validation_status": "validated"})
        assert_problem(unexplained, 422, "missing-reason")
        assert svc.size() == size
        amended = http.post(
            "/v1/models",
            json={
                "model": M,
                "reason": "validated by VR-3",
                "owner": "Retail Risk",
                "materiality_tier": "medium",
                "validation_status": "validated",
            },
        )
        assert amended.status_code == 201, amended.text
    with svc.http("vera") as viewer:
        summary = viewer.get(f"/v1/models/{M}").json()
        assert summary["registration"]["materiality_tier"] == "medium"
        assert [h["reason"] for h in summary["registration_history"]] == ["", "validated by VR-3"]
        rows = {r["model"]: r for r in viewer.get("/v1/inventory").json()["models"]}
        assert rows[M]["amendments"] == 1
        csv = viewer.get("/v1/inventory.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert f"\n{M},yes,Retail Risk" in csv.text
        pdf = viewer.get("/v1/inventory.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with svc.http() as anonymous:
        assert anonymous.get("/v1/inventory.csv").status_code == 401


def test_catalogue_oversight_and_compliance_over_http(module_service: Service) -> None:
    svc = module_service
    dana, victor, alice, carol = (svc.client(n) for n in ("dana", "victor", "alice", "carol"))
    register_model(dana, M)
    with dana.run(M, version="1.0", algorithm="logistic regression") as run:
        run.log_model(model_file_for(M, "1.0"))
        run.log_features(FEATURES)
    for name in ("victor", "alice"):
        svc.client(name).register_key(svc.signing_keys[name])
    size = svc.size()
    with pytest.raises(errors.FeatureNotScored, match="'postcode'") as info:
        dana.record_catalogue(
            M,
            "1.0",
            "first catalogue",
            catalogue_version="1",
            entries=[*REASONS, {"feature": "postcode", "code": "R9", "statement": "Area"}],
        )
    assert info.value.status == 422 and svc.size() == size
    recorded = dana.record_catalogue(
        M, "1.0", "first catalogue", catalogue_version="1", entries=REASONS
    )
    subject = recorded["entry_hash"]
    victor.approve(M, "1.0", "reasons specific", key=svc.signing_keys["victor"], subject=subject)
    alice.approve(M, "1.0", "reasons approved", key=svc.signing_keys["alice"], subject=subject)
    view = dana.version(M, "1.0")
    assert view["catalogues"][0]["status"] == "approved" and view["status"] == "logged"
    victor.approve(M, "1.0", "validated", key=svc.signing_keys["victor"])
    alice.approve(M, "1.0", "approved", key=svc.signing_keys["alice"])

    with pytest.raises(errors.GovledgerError) as forbidden:
        dana.record_oversight(M, "1.0", "stop", "I built it, I stop it")
    assert forbidden.value.status == 403
    stop = carol.record_oversight(
        M, "1.0", "stop", "complaints under review", decisions={"since": "2026-11-01"}
    )
    assert dana.version(M, "1.0")["status"] == "stopped"
    with pytest.raises(errors.VersionStopped, match="resume"):
        dana.deploy(M, "1.0", reason="go live")
    refused = [e for e in carol.entries(model=M, kind="request.refused")]
    assert refused[-1]["statement"]["payload"]["problem"] == "version-stopped"
    carol.record_oversight(M, "1.0", "resume", "fixed", refers_to=[stop["entry_hash"]])
    assert dana.deploy(M, "1.0", reason="go live")["statement"]["kind"] == "deployment.promoted"

    with svc.http("vera") as viewer:
        path = f"/v1/models/{M}/versions/1.0/compliance"
        reg_b = viewer.get(path, params={"regime": "reg-b"})
        assert reg_b.status_code == 200, reg_b.text
        items = {i["id"]: i for i in reg_b.json()["items"]}
        assert items["reg-b-catalogue"]["status"] == "satisfied"
        assert subject in {e["entry_hash"] for e in items["reg-b-catalogue"]["evidence"]}
        assert items["reg-b-principal-reasons"]["status"] == "gap"
        unknown = viewer.get(path, params={"regime": "basel-iii"})
        assert (
            "eu-ai-act, reg-b, sr-26-2" in assert_problem(unknown, 422, "unknown-regime")["detail"]
        )
        assert_problem(viewer.get(path), 422)
        assert viewer.get("/v1/regimes").json()["regimes"][0]["id"] == "eu-ai-act"
    assert carol.compliance(M, "1.0", "sr-26-2")["regime"] == "sr-26-2"


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger_env(
    tmp_path_factory: pytest.TempPathFactory, child_python_env: dict[str, str]
) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli-regulated")
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "home")
    store = init_ledger(settings, origin="bank.example/cli")
    build_regulated_ledger(store, ArtifactStore(settings.artifacts_path))
    store.engine.dispose()
    env = {k: v for k, v in child_python_env.items() if not k.startswith("GOVLEDGER_")}
    return env | {
        "GOVLEDGER_DATABASE_URL": settings.database_url,
        "GOVLEDGER_HOME": str(settings.home),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def govledger(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GOVLEDGER), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_check_prints_the_table_and_exits_1_on_gaps_2_on_an_unknown_regime(
    ledger_env: dict[str, str], tmp_path: Path
) -> None:
    ok = govledger(ledger_env, "check", MODEL, "1.0", "--regime", "eu-ai-act", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "Validation and testing: test reports dated and signed" in ok.stdout
    assert "eu-ai-act: 21 of 21 items satisfied, 0 gaps" in ok.stdout
    data = govledger(ledger_env, "check", MODEL, "1.0", "--regime", "eu-ai-act", "--json",
                     cwd=tmp_path)  # fmt: skip
    checked = json.loads(data.stdout)  # stdout is the JSON alone, the summary on stderr
    assert "eu-ai-act: 21 of 21 items satisfied, 0 gaps" in data.stderr
    art_72 = next(i for i in checked["items"] if i["id"] == "art-72")
    assert art_72["status"] == "satisfied"
    assert art_72["statements"][0].startswith("monitoring in production: ok, as of ")
    gaps = govledger(ledger_env, "check", MODEL, "2.0", "--regime", "reg-b", cwd=tmp_path)
    assert gaps.returncode == 1
    assert gaps.stdout.startswith("reg-b: 0 of 4 items satisfied, 4 gaps")  # the verdict first
    assert "GAP" in gaps.stdout
    unknown = govledger(ledger_env, "check", MODEL, "1.0", "--regime", "basel", cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [
        "error: unknown regime 'basel'; known regimes: eu-ai-act, reg-b, sr-26-2"
    ]
    missing = govledger(ledger_env, "check", MODEL, "7.0", "--regime", "reg-b", cwd=tmp_path)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_report_inventory_writes_the_pdf_and_the_csv(
    ledger_env: dict[str, str], tmp_path: Path
) -> None:
    result = govledger(
        ledger_env, "report", "inventory", "--out", "inv.pdf", "--csv", "inv.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Wrote inv.pdf: 1 models (0 not registered)")
    assert (tmp_path / "inv.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "inv.csv").read_text().splitlines()[1].startswith(f"{MODEL},yes")


def test_a_builder_who_is_also_a_validator_cannot_stop_or_resume_their_own_version(
    module_service: Service,
) -> None:
    """Four eyes over HTTP: the role allows oversight, the authorship forbids it; the refusal
    is 403, nothing of it is appended but the `request.refused` record."""
    svc = module_service
    svc.add_user("bea", ["data_scientist", "validator"])
    bea, carol = svc.client("bea"), svc.client("carol")
    register_model(bea, M)
    with bea.run(M, version="7.0", algorithm="logistic regression") as run:
        run.log_features(FEATURES)
    for action in ("stop", "override"):
        details = (
            {"decisions": {"application_ids": ["A-1"]}, "outcome": "approved"}
            if action == "override"
            else {}
        )
        with pytest.raises(errors.FourEyesViolation, match="four eyes") as refused:
            bea.record_oversight(M, "7.0", action, "my own version", **details)
        assert refused.value.status == 403
    assert bea.version(M, "7.0")["status"] == "logged"
    carol.record_oversight(M, "7.0", "stop", "complaints")
    with pytest.raises(errors.FourEyesViolation):
        bea.record_oversight(M, "7.0", "resume", "I fixed it")
    assert bea.version(M, "7.0")["status"] == "stopped"
    kept = [e for e in carol.entries(model=M, kind="request.refused")]
    assert [e["statement"]["payload"]["problem"] for e in kept[-3:]] == ["four-eyes-violation"] * 3
