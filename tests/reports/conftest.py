"""Session fixtures: one realistic ledger (real explain/ results), its card rendered once.

Building the ledger (training, SHAP, fairness bootstrap) and rendering a 14-page PDF/A are
the expensive steps, so they run once per session and the tests read the results.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.store import LedgerSettings
from reports.card import build_card
from reports.documents import RenderedCard, card_pdf
from reports.render import card_html, render_pdf
from tests.reports.builders import (
    MODEL,
    CreditLedger,
    SmallLedger,
    build_credit_ledger,
    build_small_ledger,
)

HOSTILE_MODEL = "<script>alert(1)</script>"


@dataclass
class RenderedFile:
    """The card of the credit ledger's version 1.0, on disk, and how long it took."""

    rendered: RenderedCard
    path: Path
    seconds: float
    cpu_seconds: float


@pytest.fixture(scope="session")
def credit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CreditLedger]:
    """The realistic ledger (see tests/reports/builders.py)."""
    ledger = build_credit_ledger(tmp_path_factory.mktemp("credit") / "home")
    yield ledger
    ledger.store.engine.dispose()


@pytest.fixture(scope="session")
def card_file(credit: CreditLedger, tmp_path_factory: pytest.TempPathFactory) -> RenderedFile:
    """Version 1.0's card as PDF (rendered once; the time is reported as a figure)."""
    render_pdf("<p>warm-up</p>", {})  # imports, font and template caches: not per-card work
    card_html(build_card(credit.store, credit.artifacts, MODEL, "1.0"), for_print=True)
    started, cpu = time.perf_counter(), time.process_time()
    rendered = card_pdf(credit.store, credit.artifacts, MODEL, "1.0")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    path = tmp_path_factory.mktemp("card") / "card.pdf"
    path.write_bytes(rendered.pdf)
    return RenderedFile(rendered, path, seconds, cpu)


@pytest.fixture(scope="session")
def card_pages(card_file: RenderedFile, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every page of the card as a greyscale PNG at 40 dpi (needs pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed: apt-get install -y poppler-utils")
    folder = tmp_path_factory.mktemp("pages")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", str(card_file.path), str(folder / "page")],
        check=True,
        timeout=120,
    )
    return sorted(folder.glob("page-*.png"))


@pytest.fixture
def small(tmp_path: Path) -> Iterator[SmallLedger]:
    """A fast, hand-made ledger for a model named like a script tag."""
    settings = LedgerSettings(
        database_url=f"sqlite:///{tmp_path / 'small.db'}", home=tmp_path / "h"
    )
    ledger = build_small_ledger(settings, model=HOSTILE_MODEL)
    yield ledger
    ledger.store.engine.dispose()
