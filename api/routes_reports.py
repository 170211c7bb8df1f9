"""Model cards and audit reports over HTTP: PDF/A-3b downloads and HTML pages (viewer and up).

Handlers are plain `def`: rendering is CPU-bound, so FastAPI runs them in its thread pool
and the event loop keeps serving other requests. `reports` (matplotlib, WeasyPrint) is
imported on first use, so it does not slow the service's start.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.context import Context, Reader

router = APIRouter(prefix="/v1", tags=["reports"])

Model = Annotated[str, Path(min_length=1, max_length=200)]
Version = Annotated[str, Path(min_length=1, max_length=64)]
Since = Annotated[str, Query(description="First day (2026-10-01) or RFC 3339 UTC time")]
Until = Annotated[str, Query(description="Last day, included (2026-12-31), or RFC 3339 UTC time")]


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _filename(*parts: str) -> str:
    safe = "-".join("".join(c if c.isalnum() or c in "._-" else "_" for c in p) for p in parts)
    return safe[:150] or "document"


@router.get(
    "/models/{model:path}/versions/{version}/card.pdf",
    summary="The model card as PDF/A-3b, with evidence.json and the CycloneDX ML-BOM attached",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def card_pdf_route(model: Model, version: Version, context: Context, _: Reader) -> Response:
    from reports.documents import card_pdf

    rendered = card_pdf(context.store, context.artifacts, _nfc(model), _nfc(version))
    name = _filename("card", model, version) + ".pdf"
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/models/{model:path}/versions/{version}/card.html",
    summary="The model card as a web page",
    response_class=HTMLResponse,
)
def card_html_route(model: Model, version: Version, context: Context, _: Reader) -> HTMLResponse:
    from reports.documents import card_page

    return HTMLResponse(card_page(context.store, context.artifacts, _nfc(model), _nfc(version)))


@router.get(
    "/audit.pdf",
    summary="The audit report of a period as PDF/A-3b",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def audit_pdf_route(since: Since, until: Until, context: Context, _: Reader) -> Response:
    from reports.documents import audit_pdf

    pdf = audit_pdf(context.store, context.artifacts, since, until)[1]
    name = _filename("audit", since[:10], until[:10]) + ".pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/audit.html", summary="The audit report of a period as a web page", response_class=HTMLResponse
)
def audit_html_route(since: Since, until: Until, context: Context, _: Reader) -> HTMLResponse:
    from reports.audit_data import build_audit
    from reports.html import audit_html

    report = build_audit(context.store, context.artifacts, since, until, None)
    return HTMLResponse(audit_html(report, for_print=False))
