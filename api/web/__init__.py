"""The web pages for business leaders and approvers: routes, page data, rendering
(autoescaped Jinja2), web sessions; the review queue and passkey-signed decisions.
"""

from fastapi import FastAPI

from api.web import _passkey_routes, _review_routes
from api.web._routes import install as _install_pages

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the pages (those that read, the review queue, passkeys and decisions), their
    static files and the cookie-session hook to the service."""
    app.include_router(_review_routes.router)
    app.include_router(_passkey_routes.router)
    _install_pages(app)
