"""The API's interactive documentation (/docs): Swagger UI served from this service.

FastAPI's default page loads Swagger UI's script and stylesheet from a public CDN, which a
service that must run without network access cannot rely on, and which would let a third
party run script on the service's origin. The files come from the `swagger-ui-bundle-v2`
package instead and are served under `/docs/assets/`, and the page's Content-Security-Policy
allows scripts from this origin only, plus the one inline start-up script by its SHA-256
hash (CSP Level 3, "hash-source"), so nothing else can run there.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The only files of the distribution the page needs, with their media types."""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def swagger_ui_folder() -> Path:
    """Where the installed `swagger-ui-bundle-v2` keeps Swagger UI's dist files."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def docs_policy(page: str) -> str:
    """The docs page's Content-Security-Policy: scripts, styles, images and requests from
    this origin; its inline start-up scripts by hash; no framing, no forms elsewhere."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def install(app: FastAPI) -> None:
    """Add /docs and its assets to an app built with `docs_url=None`."""
    folder = swagger_ui_folder()
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
    )
    body = bytes(page.body).decode("utf-8")
    policy = docs_policy(body)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, f"no documentation asset {name!r}")
        return FileResponse(folder / name, media_type=media_type)
