"""Web pages for business leaders and compliance officers, served by `govledger serve`.

Server-rendered Jinja2 over the same core the API uses, no JavaScript (but for signing with a
passkey: `_review_routes`, `_passkey_routes`): sign in with an API key or through the bank's
OpenID Connect provider (`api.web._oidc_routes`), a server-side session
(`api.web._sessions`), the models and their versions' status, a
version's model card (the card's own HTML, `reports.documents.card_page`, with a PDF link),
the ledger timeline with filters, and a "Verify now" button. Any signed-in user, whatever
their role, may see every page and verify. Pages are left out of the OpenAPI document.

A session cookie also authenticates GET and HEAD requests to /v1 (so the card's PDF link
works from the browser) but never a write: see `api.context.COOKIE_METHODS`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service import ServiceContext, Unauthenticated, name_from_segment
from api.web._pages import (
    TimelineInputError,
    TimelineQuery,
    model_row,
    models_overview,
    parse_cursor,
    timeline_page,
)
from api.web._render import STATIC, STATIC_URL, error_page, framed_card, render
from api.web._run_pages import compared_runs
from api.web._sessions import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    SessionStore,
    WebSession,
    clear_cookie,
    csrf_matches,
    csrf_token,
    set_session_cookie,
    set_signin_cookie,
    signin_secret,
)
from ledger.errors import (
    GovledgerError,
    InvalidRunFilter,
    InvalidStatement,
    LedgerNotInitialised,
    UnknownModelVersion,
)
from ledger.log.kinds import Kind
from ledger.store import model_entries, model_names, version_view
from ledger.verify import verify_ledger


class SignInRequired(Exception):
    """No live session: the visitor is sent to the sign-in page."""


class CsrfRejected(Exception):
    """A POST form without the token of the session that showed it."""


class WebRoute(APIRoute):
    """A page route whose failures render as pages (or a redirect to sign in), not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                raw_path = request.scope.get("raw_path")
                target = raw_path.decode("latin-1") if raw_path else request.url.path
                if request.method == "GET" and request.url.query:
                    target += f"?{request.url.query}"
                return RedirectResponse(f"/signin?next={quote(target, safe='')}", 303)
            except CsrfRejected:
                return error_page(
                    request,
                    _known_session(request),
                    403,
                    "Form expired",
                    "This form was not sent by a page of this site, or it was opened before "
                    "you last signed in. Go back, reload the page and try again.",
                )
            except GovledgerError as exc:
                return error_page(
                    request,
                    _known_session(request),
                    exc.status,
                    HTTPStatus(exc.status).phrase,
                    exc.message,
                )
            except RequestValidationError:
                return error_page(
                    request,
                    _known_session(request),
                    422,
                    "Unusable request",
                    "Part of this request could not be read.",
                )
            except StarletteHTTPException as exc:
                return error_page(
                    request,
                    _known_session(request),
                    exc.status_code,
                    HTTPStatus(exc.status_code).phrase,
                    str(exc.detail),
                )

        return page


router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def _sessions(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.web_sessions
    return sessions


def _known_session(request: Request) -> WebSession | None:
    session: WebSession | None = getattr(request.state, "web_session", None)
    return session


def current_session(request: Request) -> WebSession | None:
    """The request's live session, if any (remembered for the error pages)."""
    session = _sessions(request).from_request(request)
    request.state.web_session = session
    return session


def signed_in(request: Request) -> WebSession:
    """The signed-in user's session; anyone else is sent to the sign-in page."""
    session = current_session(request)
    if session is None:
        raise SignInRequired
    return session


SignedIn = Annotated[WebSession, Depends(signed_in)]


def checked_form(session: SignedIn, csrf: Annotated[str, Form()] = "") -> WebSession:
    """A signed-in POST whose form carries this session's CSRF token."""
    if not csrf_matches(session.token, "session", csrf):
        raise CsrfRejected
    return session


Posted = Annotated[WebSession, Depends(checked_form)]


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch in target for ch in "\\\r\n\t")
        or target.startswith("/signin")
    ):
        return "/"
    return target


# -- signing in and out ------------------------------------------------------------------


def _signin_form(
    request: Request, *, status: int = 200, error: str = "", notice: str = "", next_path: str = "/"
) -> Response:
    secret, new = signin_secret(request)
    settings = _context(request).settings
    response = render(
        request,
        "signin.html",
        None,
        status=status,
        title="Sign in",
        error=error,
        notice=notice,
        next=next_path,
        signin_csrf=csrf_token(secret, "signin"),
        oidc_provider=settings.oidc_provider_name if settings.oidc_enabled else "",
    )
    if new:
        set_signin_cookie(response, request, secret)
    return response


@router.get("/signin")
def signin_page(request: Request, next: str = "/", signed_out: str = "") -> Response:
    if current_session(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    notice = "You have signed out." if signed_out else ""
    return _signin_form(request, notice=notice, next_path=safe_next(next))


@router.post("/signin")
def signin(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not csrf_matches(request.cookies.get(SIGNIN_COOKIE), "signin", csrf):
        return _signin_form(
            request,
            status=403,
            next_path=safe_next(next),
            error="The sign-in form expired or was not sent from this site. Please try again.",
        )
    try:
        session = _sessions(request).open(api_key)
    except Unauthenticated:
        return _signin_form(
            request,
            status=401,
            next_path=safe_next(next),
            error="That API key is unknown, malformed or revoked. Check it and try again.",
        )
    response = RedirectResponse(safe_next(next), 303)
    set_session_cookie(response, request, session, _sessions(request).max_age_seconds)
    clear_cookie(response, request, SIGNIN_COOKIE)
    return response


@router.post("/signout")
def signout(request: Request, session: Posted) -> Response:
    _sessions(request).close(session.token)
    response = RedirectResponse("/signin?signed_out=1", 303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


# -- pages -------------------------------------------------------------------------------


@router.get("/")
def models_page(request: Request, session: SignedIn) -> Response:
    models = models_overview(_context(request).store)
    return render(request, "models.html", session, title="Models", models=models, single=False)


@router.get("/models/{model}/versions/{version}")
def card(request: Request, session: SignedIn, model: str, version: str) -> Response:
    from reports.documents import card_page  # matplotlib: seconds to import, only when used

    context = _context(request)
    model, version = name_from_segment(model), name_from_segment(version)
    document = card_page(context.store, context.artifacts, model, version)
    return framed_card(request, session, document, model, version)


@router.get("/models/{model}")
def model_page(request: Request, session: SignedIn, model: str) -> Response:
    row = model_row(_context(request).store, name_from_segment(model))
    return render(
        request, "models.html", session, title=f"Model {row.name}", models=[row], single=True
    )


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


@router.get("/models/{model}/diff")
def diff_page(
    request: Request, session: SignedIn, model: str, before: str = "", after: str = ""
) -> Response:
    """What changed from version `before` to `after` (`govledger diff`, as a page); without
    `before`, against the version's parent run or the model's previous version."""
    from reports.version_diff import previous_version, version_diff

    store = _context(request).store
    model, after = name_from_segment(model), _nfc(after)
    if not after:
        raise InvalidStatement("name the version to compare: ?after=VERSION[&before=VERSION]")
    before = _nfc(before)
    if not before:
        family = model_entries(store, model)
        previous = previous_version(version_view(store, model, after), family)
        if previous is None:
            raise UnknownModelVersion(
                f"{model} {after} has no earlier version to compare with: name one (?before=)"
            )
        before = previous.statement.version
    diff = version_diff(store, model, before, after)
    return render(
        request,
        "diff.html",
        session,
        title=f"What changed: {model} {diff.before} to {diff.after}",
        diff=diff,
        pairs=list(zip(diff.differences, diff.rows(), strict=True)),
        model=model,
    )


RUNS_PAGE_SIZE = 50


@router.get("/runs")
def runs_page(
    request: Request,
    session: SignedIn,
    model: str = "",
    filter: str = "",
    order_by: str = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Runs of a model (or of the ledger) matching a filter, with boxes to compare them."""
    from ledger.store import search_runs

    model = _nfc(model)
    page, error = None, ""
    try:
        page = search_runs(
            _context(request).store,
            model=model or None,
            filter=filter,
            order_by=[order_by] if order_by.strip() else None,
            limit=RUNS_PAGE_SIZE,
            offset=offset,
        )
    except InvalidRunFilter as exc:
        error = exc.message
    return render(
        request,
        "runs.html",
        session,
        status=422 if error else 200,
        title=f"Runs of {model}" if model else "Runs",
        error=error,
        page=page,
        model=model,
        filter=filter,
        order_by=order_by,
        offset=offset,
        metric_names=sorted({n for r in page.runs for n in r.metrics}, key=str.lower)[:8]
        if page
        else [],
    )


@router.get("/runs/compare")
def compare_runs_page(
    request: Request,
    session: SignedIn,
    ids: str = "",
    pick: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> Response:
    """Runs side by side (`ids=12,15`, or the runs page's ticked boxes): parameters and
    metrics, the differences marked."""
    named = ",".join([*(pick or []), ids])
    comparison = compared_runs(_context(request).store, named)
    return render(
        request,
        "runs_compare.html",
        session,
        title=f"Compare {len(comparison.runs)} runs",
        comparison=comparison,
    )


@router.get("/timeline")
def timeline(
    request: Request,
    session: SignedIn,
    model: str = "",
    kind: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
    after: str = "",
) -> Response:
    store = _context(request).store
    query = TimelineQuery(model=model, kind=kind, actor=actor, since=since, until=until)
    error, page, status = "", None, 200
    try:
        query.validate()
        page = timeline_page(
            store,
            query.entry_filter(),
            before=parse_cursor(before, "before"),
            after=parse_cursor(after, "after"),
        )
    except TimelineInputError as exc:
        error, status = str(exc), 400
    return render(
        request,
        "timeline.html",
        session,
        status=status,
        title="Ledger timeline",
        query=query,
        params=query.params(),
        page=page,
        error=error,
        models=model_names(store),
        kinds=[k.value for k in Kind],
    )


def _verify_page(request: Request, session: WebSession, report: object = None) -> Response:
    store = _context(request).store
    return render(
        request,
        "verify.html",
        session,
        title="Verify the ledger",
        checkpoint=store.latest_checkpoint(),
        size=store.size(),
        report=report,
        origin=store.origin,
    )


@router.get("/verify")
def verify_page(request: Request, session: SignedIn) -> Response:
    return _verify_page(request, session)


@router.post("/verify")
def verify_now(request: Request, session: Posted) -> Response:
    context = _context(request)
    try:
        context.store.checkpoint()  # sign the current tree first, so the result covers it
    except LedgerNotInitialised:
        pass  # no ledger key in this process and no checkpoint yet: the report says so
    report = verify_ledger(
        context.store,
        verifier_key=context.store.meta()["verifier_key"],
        artifact_store=context.artifacts,
    )
    return _verify_page(request, session, report)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and the cookie-session hook to the service."""
    context: ServiceContext = app.state.context
    from api.web._oidc_routes import oidc_router  # it builds on this module's routes

    settings = context.settings
    sessions = SessionStore(
        context.store.engine,
        context.identities,
        settings.session_max_age_seconds,
        federated_issuer=settings.oidc_issuer if settings.oidc_enabled else "",
    )
    app.state.web_sessions = sessions
    context.session_principal = sessions.principal_for
    app.include_router(router)
    app.include_router(oidc_router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="web-static")
