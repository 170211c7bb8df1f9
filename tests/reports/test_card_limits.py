"""Any legal entry gives a readable card: long fields are shown in part, and say so.

The ledgers are the worst legal cases of `bench/bench_card.py` (1 MiB statements: ~94,000
parameters; 20,000-character unbroken reasons and notes; 300 signed decisions). Speed is
measured there, not here: these tests check the rendered PDF, read back with pypdf.
"""

from __future__ import annotations

from pathlib import Path

import pypdf

from bench.bench_card import MODEL, VERSION, build_case
from reports.documents import card_pdf
from reports.limits import MAX_DECISIONS, MAX_PARAMS
from reports.verify import verify_card


def _render(case: str, tmp_path: Path) -> tuple[Path, str, int]:
    store, artifacts, _, _ = build_case(case, tmp_path)
    try:
        rendered = card_pdf(store, artifacts, MODEL, VERSION)
        key = store.meta()["verifier_key"]
    finally:
        store.engine.dispose()
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    return path, key, len(pypdf.PdfReader(path).pages)


def _text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages)


def test_a_run_with_a_megabyte_of_params_shows_the_first_and_says_how_many_more(
    tmp_path: Path,
) -> None:
    path, key, pages = _render("params", tmp_path)
    text = _text(path)
    total = int(text.split(f"Showing {MAX_PARAMS} of ")[1].split(" ")[0].replace(",", ""))
    assert total > 90_000
    assert "the other" in text and "the run.training entry at seq" in text
    assert (
        "p00000" in text and f"p{MAX_PARAMS - 1:05d}" in text and f"p{MAX_PARAMS:05d}" not in text
    )
    assert pages <= 12
    assert verify_card(path, verifier_key=key).ok


def test_unbroken_twenty_thousand_character_texts_are_clipped_and_wrapped_on_the_page(
    tmp_path: Path,
) -> None:
    path, key, pages = _render("text", tmp_path)
    text = _text(path)
    assert "more characters in the entry at seq" in text
    assert "… and 380 more uses in the registration entry" in text
    assert pages <= 25
    lines = [line for p in pypdf.PdfReader(path).pages for line in p.extract_text().splitlines()]
    assert max(len(line) for line in lines) < 300  # long words were broken, not overflowed
    assert verify_card(path, verifier_key=key).ok


def test_three_hundred_decisions_show_the_latest_and_the_pages_still_bind(
    tmp_path: Path,
) -> None:
    path, key, pages = _render("approvals", tmp_path)
    text = _text(path)
    assert f"Showing {MAX_DECISIONS} of 300 decisions (latest shown)" in text
    assert pages <= 45
    report = verify_card(path, verifier_key=key)
    assert report.ok, report.summary()
    assert "the pages state the" in report.detail
