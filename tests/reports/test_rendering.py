"""Rendered pages (pdftoppm): no blank page, nothing outside the printable area."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from reports.render import render_pdf
from reports.render._html import css_string

DPI = 40
EDGE_MM = 8
"""The outer strip of every page that must stay white (header and footer sit inside it)."""
CONTENT = (24, 17, 21, 17)
"""The @page margins in mm (top, right, bottom, left): the content area is inside them."""


def _mm(value: float) -> int:
    return round(value / 25.4 * DPI)


def _dark(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(image.crop(box).histogram()[:235])


def page_problems(path: Path) -> list[str]:
    """What is wrong with one rendered page: not A4, blank, or ink in an edge strip."""
    image = Image.open(path).convert("L")
    width, height = image.size
    problems = []
    if abs(width - _mm(210)) > 2 or abs(height - _mm(297)) > 2:
        problems.append(f"{path.name} is {width}x{height} px, not A4")
    top, right, bottom, left = (_mm(v) for v in CONTENT)
    area = (width - left - right) * (height - top - bottom)
    if _dark(image, (left, top, width - right, height - bottom)) / area < 0.01:
        problems.append(f"{path.name} is (nearly) blank")
    edge = _mm(EDGE_MM)
    strips = {
        "top": (0, 0, width, edge),
        "bottom": (0, height - edge, width, height),
        "left": (0, 0, edge, height),
        "right": (width - edge, 0, width, height),
    }
    for side, box in strips.items():
        if _dark(image, box):
            problems.append(f"{path.name}: content overflows the {side} edge")
    return problems


def _rasterise(pdf: Path, folder: Path) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed: apt-get install -y poppler-utils")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(folder / "p")],
        check=True,
        timeout=120,
    )
    return sorted(folder.glob("p-*.png"))


def test_card_pages_are_a4_not_blank_and_inside_the_page(card_pages: list[Path]) -> None:
    assert len(card_pages) >= 8
    problems = [p for page in card_pages for p in page_problems(page)]
    assert problems == []


def test_the_page_check_catches_overflow_and_blank_pages(tmp_path: Path) -> None:
    html = (
        "<html><head><style>@page { size: A4; margin: 24mm 17mm 21mm 17mm } "
        f"body::before {{ content: {css_string('x')} }}</style></head><body>"
        '<pre style="white-space: pre; font-size: 14pt">' + "W" * 200 + "</pre>"
        '<div style="break-before: page"></div></body></html>'
    )
    pdf = tmp_path / "bad.pdf"
    pdf.write_bytes(render_pdf(html, {}))
    pages = _rasterise(pdf, tmp_path)
    problems = [p for page in pages for p in page_problems(page)]
    assert any("overflows the right edge" in p for p in problems)
    assert any("blank" in p for p in problems)
