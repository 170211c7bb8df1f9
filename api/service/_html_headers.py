"""Security headers on every HTML response the service sends, whichever route made it.

The web pages, the model card and audit report pages under /v1 and the API's /docs page are
all HTML that a browser renders with the user's session cookie, so all of them get the same
headers, here, keyed on the response's content type rather than on a list of routes (a new
HTML route cannot forget them). A route may set its own Content-Security-Policy (the docs
page allows its one script); every other header comes from here. Every response, HTML or
not, carries `X-Content-Type-Options: nosniff`, so a browser never guesses that a CSV or a
JSON body is a page (OWASP Secure Headers Project).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""No script may run, nothing is loaded from another origin, no other site may frame a page
(CSP Level 3, W3C); the card's and report's inline styles and data: images still work."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""On every HTML response: no script, no framing by other sites, nothing cached (pages show
what a signed-in user may see)."""


class HtmlSecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` to HTML responses (headers a route already
    set are kept) and nosniff to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").lower().startswith("text/html"):
                    for name, value in SECURITY_HEADERS.items():
                        headers.setdefault(name, value)
                else:
                    headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_headers)
