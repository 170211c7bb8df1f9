"""`govledger report card|audit` and `govledger verify-card`, run in-process."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from typer.testing import CliRunner

from api.cli import app
from tests.reports.builders import CreditLedger, SmallLedger
from tests.reports.conftest import RenderedFile


def _env(settings: object) -> dict[str, str]:
    return {
        "GOVLEDGER_DATABASE_URL": str(settings.database_url),  # type: ignore[attr-defined]
        "GOVLEDGER_HOME": str(settings.home),  # type: ignore[attr-defined]
    }


def test_report_card_writes_pdf_and_html_that_verify(small: SmallLedger, tmp_path: Path) -> None:
    out, html = tmp_path / "card.pdf", tmp_path / "card.html"
    result = CliRunner().invoke(
        app,
        ["report", "card", small.model, "0.1", "--out", str(out), "--html", str(html)],
        env=_env(small.settings),
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output and "[logged]" in result.output
    assert out.read_bytes().startswith(b"%PDF-1.7") and "<svg" not in html.read_text()
    key = small.settings.ledger_public_key_path
    verified = CliRunner().invoke(app, ["verify-card", str(out), "--key", str(key)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK: ") and "(pinned key)" in verified.output


def test_verify_card_exits_1_with_one_line_on_tampered_evidence(
    card_file: RenderedFile, credit: CreditLedger, tmp_path: Path
) -> None:
    key = credit.store.meta()["verifier_key"]
    ok = CliRunner().invoke(app, ["verify-card", str(card_file.path), "--key", key])
    assert ok.exit_code == 0, ok.output
    data = bytearray(card_file.rendered.evidence)
    data[-10] ^= 0x04
    tampered = tmp_path / "tampered.pdf"
    with pikepdf.open(card_file.path) as pdf:
        pdf.attachments["evidence.json"] = pikepdf.AttachedFileSpec(pdf, bytes(data))
        pdf.save(tampered)
    failed = CliRunner().invoke(app, ["verify-card", str(tampered), "--key", key])
    assert failed.exit_code == 1
    assert failed.output.startswith("FAILED") and failed.output.count("\n") == 1


def test_verify_card_without_a_pinned_key_says_nothing_is_proven_and_exits_1(
    card_file: RenderedFile,
) -> None:
    unpinned = CliRunner().invoke(app, ["verify-card", str(card_file.path)])
    assert unpinned.exit_code == 1
    assert unpinned.output.startswith("NOT PROVEN: ") and unpinned.output.count("\n") == 1
    assert "--key" in unpinned.output
    asked = CliRunner().invoke(app, ["verify-card", str(card_file.path), "--unpinned"])
    assert asked.exit_code == 0, asked.output
    assert asked.output.startswith("NOT PROVEN: ") and "key taken from the card" in asked.output


def test_report_card_of_an_unknown_version_fails_in_one_line(
    small: SmallLedger, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["report", "card", small.model, "7.0", "--out", str(tmp_path / "x.pdf")],
        env=_env(small.settings),
    )
    assert result.exit_code == 1 and "was never logged" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_report_audit_chains_from_the_previous_audit_pdf(
    credit: CreditLedger, tmp_path: Path
) -> None:
    first, second = tmp_path / "q3.pdf", tmp_path / "q4.pdf"
    args = ["report", "audit", "--since", "2020-01-01", "--until", "2099-12-31"]
    one = CliRunner().invoke(app, [*args, "--out", str(first)], env=_env(credit.settings))
    assert one.exit_code == 0, one.output
    assert f"{credit.store.size()} entries" in one.output
    two = CliRunner().invoke(
        app,
        [*args, "--out", str(second), "--previous-checkpoint", str(first)],
        env=_env(credit.settings),
    )
    assert two.exit_code == 0, two.output
    assert "nothing was rewritten" in two.output
    with pikepdf.open(second) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert {"checkpoint.txt", "consistency-proof.json"} <= set(pdf.attachments)
