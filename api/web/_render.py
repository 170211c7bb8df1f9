"""HTML for the web pages: the Jinja2 environment, security headers and the card's frame.

Templates live in `api/templates/web/` and are autoescaped: every value from the ledger (a
model named `<script>`, a reason, an actor) is printed as text. Pages carry no script at
all, and the Content-Security-Policy says so, as a second line of defence; the pages that
sign with a passkey load one script file of this site (`static/passkey.js`), so theirs
allows `script-src 'self'` and still no inline script (`SCRIPT_PAGE_CSP`).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.service import SECURITY_HEADERS
from api.web._sessions import WebSession
from reports.kind_words import kind_words, signature_expected

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_URL = "/static/web"
SCRIPT_PAGE_CSP = SECURITY_HEADERS["Content-Security-Policy"] + "; script-src 'self'"
"""The passkey pages' policy: this site's script files only (WebAuthn is a browser API that
a form cannot call), never inline script, eval or another origin's script."""


def _headers(script: bool) -> dict[str, str]:
    if not script:
        return SECURITY_HEADERS
    return {**SECURITY_HEADERS, "Content-Security-Policy": SCRIPT_PAGE_CSP}


def segment(value: Any) -> str:
    """One URL path segment: everything but unreserved characters percent-encoded."""
    return quote(str(value), safe="")


def when(value: Any) -> str:
    """An RFC 3339 timestamp as '2026-11-23 10:00 UTC' (the card's format)."""
    try:
        moment = datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return str(value or "")
    return moment.isoformat(" ", "minutes") + " UTC"  # strftime drops year 1's zeros


def card_url(model: str, version: str) -> str:
    """The web page of a version's card."""
    return f"/models/{segment(model)}/versions/{segment(version)}"


def card_pdf_url(model: str, version: str) -> str:
    """The API's PDF of a version's card (a cookie session may GET it)."""
    return f"/v1/models/{segment(model)}/versions/{segment(version)}/card.pdf"


def model_url(model: str) -> str:
    """The page of one model and its versions."""
    return f"/models/{segment(model)}"


@cache
def environment() -> Environment:
    """The pages' Jinja2 environment (autoescape on, undefined names are errors)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(segment=segment, when=when)
    env.globals.update(
        card_url=card_url,
        card_pdf_url=card_pdf_url,
        model_url=model_url,
        static=STATIC_URL,
        kind_words=kind_words,
        signature_expected=signature_expected,
    )
    return env


def page_context(request: Request, session: WebSession | None) -> dict[str, Any]:
    """What the layout needs on every page: the user, the sign-out form's CSRF token."""
    return {
        "user": session.principal if session else None,
        "roles": ", ".join(sorted(r.value for r in session.principal.roles)) if session else "",
        "csrf": session.csrf if session else "",
        "path": request.url.path,
    }


def render_text(template: str, **context: Any) -> str:
    """Render a template to a string."""
    return environment().get_template(template).render(**context)


def render(
    request: Request,
    template: str,
    session: WebSession | None,
    *,
    status: int = 200,
    script: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A page as a response, with the security headers (`script`: it loads passkey.js)."""
    body = render_text(template, **page_context(request, session), **context)
    return HTMLResponse(body, status_code=status, headers=_headers(script))


def error_page(
    request: Request, session: WebSession | None, status: int, title: str, message: str
) -> HTMLResponse:
    """A friendly error page with the right status code."""
    return render(
        request,
        "error.html",
        session,
        status=status,
        title=title,
        message=message,
        status_code=status,
    )


_BODY_OPEN = re.compile(r"<body[^>]*>")


def framed_card(
    request: Request,
    session: WebSession,
    document: str,
    model: str,
    version: str,
    *,
    panel: str = "",
    script: bool = False,
) -> HTMLResponse:
    """The card's own HTML document (reports.documents.card_page, the one source of the
    card's content) with the site's header, skip link and PDF link put around its body.

    The card's styles stay the card's; the header brings its own small stylesheet, scoped
    to `.gl-*` classes, so neither restyles the other. `panel`: HTML put before the card
    (the review page's decision), `script`: the page loads passkey.js."""
    head_end = document.find("</head>")
    body_open = _BODY_OPEN.search(document)
    body_end = document.rfind("</body>")
    if head_end < 0 or body_open is None or body_end < body_open.end():
        raise ValueError("the card document has no <head> and <body> to frame")
    chrome = render_text(
        "_card_frame.html", **page_context(request, session), model=model, version=version
    )
    framed = (
        document[:head_end]
        + '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        + f'<link rel="stylesheet" href="{STATIC_URL}/chrome.css">\n'
        + document[head_end : body_open.end()]
        + chrome
        + '\n<main id="main" tabindex="-1">\n'
        + panel
        + document[body_open.end() : body_end]
        + "</main>\n"
        + document[body_end:]
    )
    return HTMLResponse(framed, headers=_headers(script))
