"""Model cards and audit reports over HTTP: PDF/A-3b downloads and HTML pages (viewer and up).

Handlers are plain `def`: rendering is CPU-bound, so FastAPI runs them in its thread pool
and the event loop keeps serving other requests. `reports` (matplotlib, WeasyPrint) is
imported on first use, so it does not slow the service's start.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.service._context import Context, Reader
from api.service._path_names import ModelSegment, VersionSegment, name_from_segment
from api.service._responses import download

router = APIRouter(prefix="/v1", tags=["reports"])

Model = ModelSegment
Version = VersionSegment
Since = Annotated[str, Query(description="First day (2026-10-01) or RFC 3339 UTC time")]
Until = Annotated[str, Query(description="Last day, included (2026-12-31), or RFC 3339 UTC time")]


def _filename(*parts: str, ascii_only: bool = True) -> str:
    def keep(c: str) -> bool:
        if c.isascii():
            return c.isalnum() or c in "._-"
        return not ascii_only and (c.isalnum() or unicodedata.category(c)[0] == "M")

    safe = "-".join("".join(c if keep(c) else "_" for c in p) for p in parts)
    return safe[:150] or "document"


def _attachment(*parts: str, suffix: str) -> str:
    """A Content-Disposition for a download named after `parts`: an ASCII `filename` (HTTP
    header values are Latin-1 at most) and the names' own letters in `filename*` (RFC 6266
    section 4.3, RFC 8187), so `modèle-crédit` or `信用` downloads under its name."""
    plain = _filename(*parts) + suffix
    full = _filename(*parts, ascii_only=False) + suffix
    if full == plain:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full, safe='')}"


@router.get(
    "/models/{model}/versions/{version}/card.pdf",
    summary="The model card as PDF/A-3b, with evidence.json and the CycloneDX ML-BOM attached",
    response_class=Response,
    responses=download("application/pdf", "The model card as PDF/A-3b"),
)
def card_pdf_route(model: Model, version: Version, context: Context, _: Reader) -> Response:
    from reports.documents import card_pdf

    context.witness_current()
    model, version = name_from_segment(model), name_from_segment(version)
    rendered = card_pdf(context.store, context.artifacts, model, version)
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": _attachment("card", model, version, suffix=".pdf")},
    )


@router.get(
    "/models/{model}/versions/{version}/card.html",
    summary="The model card as a web page",
    response_class=HTMLResponse,
    responses=download("text/html", "The model card, an HTML page"),
)
def card_html_route(model: Model, version: Version, context: Context, _: Reader) -> HTMLResponse:
    from reports.documents import card_page

    context.witness_current()
    model, version = name_from_segment(model), name_from_segment(version)
    return HTMLResponse(card_page(context.store, context.artifacts, model, version))


@router.get(
    "/audit.pdf",
    summary="The audit report of a period as PDF/A-3b",
    response_class=Response,
    responses=download("application/pdf", "The audit report as PDF/A-3b"),
)
def audit_pdf_route(since: Since, until: Until, context: Context, _: Reader) -> Response:
    from reports.documents import audit_pdf

    context.witness_current()
    pdf = audit_pdf(context.store, context.artifacts, since, until)[1]
    name = _filename("audit", since[:10], until[:10]) + ".pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/audit.html",
    summary="The audit report of a period as a web page",
    response_class=HTMLResponse,
    responses=download("text/html", "The audit report, an HTML page"),
)
def audit_html_route(since: Since, until: Until, context: Context, _: Reader) -> HTMLResponse:
    from reports.audit import build_audit
    from reports.render import audit_html

    context.witness_current()
    report = build_audit(context.store, context.artifacts, since, until, None)
    return HTMLResponse(audit_html(report, for_print=False))
