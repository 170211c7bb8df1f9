"""The Passkeys page: a signed-in user's passkeys, and registering a new one in two steps.

1. `GET /passkeys` lists them and carries the options of `navigator.credentials.create`
   (in a `data-` attribute, read by `static/passkey.js`: no inline script). The browser
   creates the credential and the page posts the response to `POST /passkeys/create`.
2. The server verifies it (`_passkey_ceremony.registration_statement`) and shows the
   `key.registered` statement to sign; the new passkey signs it (proof of possession, as
   `POST /v1/keys` asks of every key) and the page posts the assertion to
   `POST /passkeys/confirm`, which submits it through the ledger's write gate.

Refusals are pages that say what to do, never a 500 or a JSON body.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from api.service import ServiceContext
from api.web._passkey_ceremony import (
    assertion_signature,
    challenge_of,
    check_statement_mac,
    passkey_statement,
    passkeys_of,
    registration_options,
    registration_statement,
    statement_mac,
)
from api.web._render import render
from api.web._routes import Posted, SignedIn, WebRoute
from api.web._sessions import WebSession
from ledger.errors import GovledgerError
from ledger.governance import Submission
from ledger.log import webauthn

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def _passkeys_page(
    request: Request, session: WebSession, *, status: int = 200, error: str = "", notice: str = ""
) -> Response:
    mine = passkeys_of(_context(request).store, session.principal.name)
    return render(
        request,
        "passkeys.html",
        session,
        status=status,
        script=True,
        title="My passkeys",
        passkeys=mine,
        options=registration_options(
            request, session, [p.credential_id for p in mine if not p.revoked]
        ),
        error=error,
        notice=notice,
    )


@router.get("/passkeys")
def passkeys_page(request: Request, session: SignedIn, registered: str = "") -> Response:
    """The user's passkeys; `registered`: the key id just registered, named in a notice
    only when it is one of theirs (a link cannot make the page claim anything else)."""
    mine = passkeys_of(_context(request).store, session.principal.name)
    named = next((p for p in mine if registered and p.key_id == registered), None)
    notice = (
        f"Your passkey “{named.label or 'passkey'}” is registered: you can now sign "
        "decisions with it."
        if named is not None
        else ""
    )
    return _passkeys_page(request, session, notice=notice)


@router.post("/passkeys/create")
def passkey_created(
    request: Request,
    session: Posted,
    token: Annotated[str, Form(max_length=300)] = "",
    credential: Annotated[str, Form(max_length=20_000)] = "",
    label: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Step 2: the browser's registration response verified, the statement to sign shown."""
    try:
        statement = registration_statement(request, session, token, credential, label)
    except GovledgerError as exc:
        return _passkeys_page(request, session, status=exc.status, error=exc.message)
    payload = statement.payload
    return render(
        request,
        "passkey_confirm.html",
        session,
        script=True,
        title="Confirm your new passkey",
        statement=statement,
        passkey=payload["passkey"],
        public_key=payload["public_key"],
        challenge=challenge_of(statement),
        mac=statement_mac(session, statement),
    )


@router.post("/passkeys/confirm")
async def passkey_confirmed(
    request: Request,
    session: Posted,
    signed: Annotated[str, Depends(assertion_signature)],
    public_key: Annotated[str, Form(max_length=300)] = "",
    credential_id: Annotated[str, Form(max_length=1400)] = "",
    algorithm: Annotated[str, Form(max_length=10)] = "",
    label: Annotated[str, Form(max_length=100)] = "",
    issued_at: Annotated[str, Form(max_length=40)] = "",
    mac: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Step 3: the registration statement, signed by the new passkey, through admission."""
    try:
        statement = passkey_statement(
            request,
            session,
            public_key=public_key,
            credential_id=credential_id,
            algorithm=algorithm,
            label=label,
            issued_at=issued_at,
        )
        check_statement_mac(session, statement, mac)
        key_id = webauthn.key_id_for(public_key)
        await _context(request).store.submit_async(
            session.principal, [Submission(statement, signed, key_id)]
        )
    except GovledgerError as exc:
        return _passkeys_page(
            request,
            session,
            status=exc.status,
            error=f"The passkey was not registered: {exc.message}",
        )
    return RedirectResponse("/passkeys?" + urlencode({"registered": key_id}), 303)
