"""The single sign-on pages: leave for the provider (`/signin/oidc`), come back
(`/signin/oidc/callback`).

The flow cookie (`govledger_oidc`) is HttpOnly, scoped to /signin/oidc and lives ten minutes;
it is SameSite=Lax, not Strict, because the provider sends the browser back by a top-level
cross-site navigation, where a Strict cookie is withheld (RFC 6265bis section 5.5.7.1). It
is cleared at the callback whatever happens, so a callback replayed later finds no flow.

The session cookie stays SameSite=Strict. A browser that arrived from the provider's site
(`Sec-Fetch-Site: cross-site`) would not send a Strict cookie on a redirect that continues
that navigation, so it gets a short page that moves on to the destination from this site;
any other client (and a provider on the same site) gets a 303 redirect.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service import ServiceContext, Unauthenticated
from api.web._oidc import (
    FLOW_SECONDS,
    NoRoleInForce,
    ProviderDenied,
    RelyingParty,
    SignInFailed,
    SignInFlow,
    record_mappings,
)
from api.web._render import render
from api.web._routes import WebRoute, current_session, safe_next
from api.web._sessions import SessionStore, clear_cookie, set_session_cookie
from ledger.errors import GovledgerError

FLOW_COOKIE = "govledger_oidc"
FLOW_PATH = "/signin/oidc"
MAX_NEXT_LENGTH = 2000
"""A longer destination is not kept (the flow cookie must stay under 4 KB, RFC 6265 6.1)."""

oidc_router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def _relying_party(request: Request) -> RelyingParty:
    settings = _context(request).settings
    if not settings.oidc_enabled:
        raise StarletteHTTPException(404, "Single sign-on is not configured on this service.")
    return RelyingParty(settings)


def _redirect_uri(request: Request) -> str:
    configured = _context(request).settings.oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))


def _set_flow_cookie(response: Response, request: Request, flow: SignInFlow) -> None:
    response.set_cookie(
        FLOW_COOKIE,
        flow.cookie_value(),
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


@oidc_router.get("/signin/oidc")
def oidc_start(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider, with a fresh flow bound to it by the cookie."""
    relying_party = _relying_party(request)
    target = safe_next(next) if len(next) <= MAX_NEXT_LENGTH else "/"
    if current_session(request) is not None:
        return RedirectResponse(target, 303)
    flow = SignInFlow.start(target)
    response = RedirectResponse(relying_party.authorization_url(flow, _redirect_uri(request)), 303)
    _set_flow_cookie(response, request, flow)
    return response


@oidc_router.get("/signin/oidc/callback", name="oidc_callback")
def oidc_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    """Check the flow, redeem the code, record new mappings, open the session."""
    relying_party = _relying_party(request)
    flow = SignInFlow.from_cookie(request.cookies.get(FLOW_COOKIE))
    try:
        response = _complete(request, relying_party, flow, state, code, error)
    except GovledgerError as exc:  # SignInFailed, or the ledger refusing the user's name
        response = _failure_page(request, exc)
    clear_cookie(response, request, FLOW_COOKIE, path=FLOW_PATH, samesite="lax")
    return response


def _complete(
    request: Request,
    relying_party: RelyingParty,
    flow: SignInFlow | None,
    state: str,
    code: str,
    error: str,
) -> Response:
    name = relying_party.settings.oidc_provider_name
    if flow is None:
        raise SignInFailed(
            "This sign-in was not started in this browser, or took longer than ten minutes. "
            "Start again from the sign-in page."
        )
    if not flow.state_matches(state):
        raise SignInFailed(
            "The answer from the identity provider does not belong to the sign-in this "
            "browser started (state mismatch). Start again from the sign-in page."
        )
    if error:
        if error == "access_denied":
            raise ProviderDenied(
                f"{name} did not let you in (access_denied): you cancelled, or you may not use "
                "govledger. Ask your administrator if you should."
            )
        raise SignInFailed(f"{name} answered with the error {error[:64]!r}. Start again.")
    if not code:
        raise SignInFailed("The identity provider sent no sign-in code. Start again.")
    identity = relying_party.complete(flow, code, _redirect_uri(request))
    claim = relying_party.settings.oidc_roles_claim
    record_mappings(_context(request).store, identity, claim)
    sessions: SessionStore = request.app.state.web_sessions
    try:
        session = sessions.open_federated(
            identity.user, identity.issuer, identity.subject, identity.roles
        )
    except Unauthenticated:
        raise _no_role(identity.user, name, claim, identity.roles) from None
    target = safe_next(flow.next_path)
    if request.headers.get("sec-fetch-site") == "cross-site":
        response: Response = render(
            request, "signin_continue.html", session, title="Signed in", next=target
        )
    else:
        response = RedirectResponse(target, 303)
    set_session_cookie(response, request, session, sessions.max_age_seconds)
    return response


def _no_role(user: str, provider: str, claim: str, granted: frozenset[object]) -> NoRoleInForce:
    if not granted:
        return NoRoleInForce(
            f"{provider} signed you in as {user}, but none of your {claim} grants a govledger "
            "role. Ask your administrator to map your group (GOVLEDGER_OIDC_ROLES)."
        )
    return NoRoleInForce(
        f"{provider} signed you in as {user}, but the roles it grants you are not in force "
        "yet: a privileged role waits for an admin's confirmation (govledger users confirm), "
        "or an admin revoked it. Try again once it is confirmed."
    )


def _failure_page(request: Request, exc: GovledgerError) -> Response:
    return render(
        request,
        "error.html",
        None,
        status=exc.status,
        title="Sign-in did not complete",
        message=exc.message,
        status_code=exc.status,
    )
