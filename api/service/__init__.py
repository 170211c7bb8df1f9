"""The JSON API: routes (scoring decisions and their receipts in `_routes_scoring`), request
schemas, identity (API keys as hashes), the service context, problem+json (RFC 9457), the
middlewares every request passes, the OpenAPI document's security scheme and problem
responses (`_openapi`), the models of every success answer it documents (`_responses`,
`_responses_registry`, `_responses_access`, `_responses_scoring`), and the notifier that
delivers the ledger's events as signed webhooks.
"""

from api.service._context import ServiceContext
from api.service._cosigner import Cosigner
from api.service._docs_page import install as install_docs_page
from api.service._html_headers import SECURITY_HEADERS, HtmlSecurityHeaders
from api.service._identity import IdentityStore, Unauthenticated
from api.service._limits import MAX_SCORING_BATCH_BODY, SCORING_BATCHES_PATH, BodySizeLimit
from api.service._notifier import Notifier
from api.service._openapi import install_openapi
from api.service._path_names import NameSegments, name_from_segment
from api.service._problems import install as install_problem_handlers
from api.service._request_guard import ControlCharacterGuard
from api.service._responses import Health
from api.service._routes_access import router as access_router
from api.service._routes_read import router as read_router
from api.service._routes_regulatory import router as regulatory_router
from api.service._routes_reports import router as reports_router
from api.service._routes_scoring import router as scoring_router
from api.service._routes_webhooks import router as webhooks_router
from api.service._routes_write import router as write_router
from api.service._settings import ServiceSettings

__all__ = [
    "MAX_SCORING_BATCH_BODY",
    "SCORING_BATCHES_PATH",
    "SECURITY_HEADERS",
    "BodySizeLimit",
    "ControlCharacterGuard",
    "Cosigner",
    "Health",
    "HtmlSecurityHeaders",
    "IdentityStore",
    "NameSegments",
    "Notifier",
    "ServiceContext",
    "ServiceSettings",
    "Unauthenticated",
    "access_router",
    "install_docs_page",
    "install_openapi",
    "install_problem_handlers",
    "name_from_segment",
    "read_router",
    "regulatory_router",
    "reports_router",
    "scoring_router",
    "webhooks_router",
    "write_router",
]
