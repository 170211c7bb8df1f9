"""The review queue and deciding with a passkey: `/review` and `/review/{model}/{version}`.

1. `GET /review` ("Waiting for my decision", `_review_queue.review_queue`).
2. `GET /review/M/V`: the decision form (approve or reject, the role, the reason) above
   what to read (who built it, what the policy still needs, checklist gaps, open
   breaches, the comparison with the version serving now) and the model card itself.
3. `POST /review/M/V/prepare`: the server builds the statement the CLI would sign (kind,
   model, version, the reason typed, role, run, issued_at) and shows it in plain words
   with its challenge, SHA-256 of its canonical bytes, for `navigator.credentials.get`.
4. `POST /review/M/V/decide`: the statement rebuilt from the posted fields, the assertion
   made the entry's `webauthn.v1...` signature, and both submitted through the store's
   write gate, the path of `POST /v1/decisions` (roles, four eyes, policy, evidence; the
   refusals it records are recorded). The result page says what happened in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from api.service import ServiceContext, name_from_segment
from api.web._passkey_ceremony import (
    assertion_signature,
    challenge_of,
    key_of_credential,
    passkeys_of,
)
from api.web._render import STATIC_URL, framed_card, render, render_text
from api.web._review_queue import (
    decision_outcome,
    is_builder,
    review_evidence,
    review_queue,
    subject_of,
)
from api.web._routes import Posted, SignedIn, WebRoute
from api.web._sessions import WebSession
from ledger.errors import (
    FourEyesViolation,
    GovledgerError,
    InvalidStatement,
    ReplayedStatement,
    SignatureInvalid,
    StaleStatement,
    UnknownKey,
)
from ledger.governance import DECIDING, Submission
from ledger.log.entries import Statement, build_statement
from ledger.log.kinds import Kind
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import version_view

router = APIRouter(route_class=WebRoute, include_in_schema=False)

KINDS = {"approve": Kind.APPROVAL_GRANTED.value, "reject": Kind.APPROVAL_REJECTED.value}

REFUSAL_TITLES: tuple[tuple[type[GovledgerError], str], ...] = (
    (ReplayedStatement, "This signature was already used"),
    (FourEyesViolation, "You built this version: someone else must decide"),
    (UnknownKey, "This passkey is not registered to you"),
    (StaleStatement, "This decision form is too old"),
    (SignatureInvalid, "The passkey signed something else"),
)
"""A refusal's headline in plain words; the message under it is the ledger's own."""


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


@router.get("/review")
def queue_page(request: Request, session: SignedIn) -> Response:
    store = _context(request).store
    items = review_queue(store, session.principal)
    return render(
        request,
        "review_queue.html",
        session,
        title="Waiting for my decision",
        items=items,
        deciding=sorted(r.value.replace("_", " ") for r in session.principal.roles & DECIDING),
        pending=sorted(
            {
                g.role.value.replace("_", " ")
                for g in store.rules().pending_grants()
                if g.user == session.principal.name and g.role in DECIDING
            }
        ),
        mine=[i for i in items if not i.built_by_me],
        built=[i for i in items if i.built_by_me],
        has_passkey=any(
            not p.revoked for p in passkeys_of(_context(request).store, session.principal.name)
        ),
    )


@router.get("/review/{model}/{version}")
def review_page(
    request: Request, session: SignedIn, model: str, version: str, subject: str = ""
) -> Response:
    """The decision form and the evidence above the card (`subject`: a reason catalogue's
    entry hash, to decide on it instead of the version's run)."""
    from reports.documents import card_page  # matplotlib: seconds to import, only when used

    context = _context(request)
    model, version = name_from_segment(model), name_from_segment(version)
    evidence = review_evidence(context.store, model, version, session.principal, subject)
    passkeys = [p for p in passkeys_of(context.store, session.principal.name) if not p.revoked]
    panel = render_text(
        "_review_panel.html",
        static=STATIC_URL,
        csrf=session.csrf,
        model=model,
        version=version,
        evidence=evidence,
        view=evidence.view,
        has_passkey=bool(passkeys),
        user=session.principal,
    )
    document = card_page(context.store, context.artifacts, model, version)
    return framed_card(request, session, document, model, version, panel=panel)


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """What both steps post: the decision, the role, the reason, the subject's hash."""

    decision: str
    role: str
    reason: str
    subject: str

    def statement(
        self, session: WebSession, model: str, version: str, *, run: str, issued_at: str
    ) -> Statement:
        """The decision statement the CLI would sign: on the run (`run` is the version's
        run hash) as `{"role", "run"}`, on a catalogue as `{"role", "subject"}`."""
        if self.decision not in KINDS:
            raise InvalidStatement("choose approve or reject")
        if not self.reason:
            raise InvalidStatement(
                "write the reason for your decision: it is part of what you sign"
            )
        on = "run" if self.subject == run else "subject"
        return build_statement(
            kind=KINDS[self.decision],
            model=model,
            version=version,
            actor=session.principal.name,
            reason=self.reason,
            payload={"role": self.role, on: self.subject},
            issued_at=issued_at,
        )


def decision_form(
    decision: Annotated[str, Form(max_length=10)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    subject: Annotated[str, Form(max_length=64)] = "",
) -> DecisionForm:
    """The posted decision fields (the reason without surrounding blanks)."""
    return DecisionForm(decision, role, reason.strip(), subject)


Decided = Annotated[DecisionForm, Depends(decision_form)]


@router.post("/review/{model}/{version}/prepare")
def prepare_decision(
    request: Request,
    session: Posted,
    form: Decided,
    model: str,
    version: str,
) -> Response:
    """What will be signed, in plain words, with the challenge for the passkey."""
    store = _context(request).store
    model, version = name_from_segment(model), name_from_segment(version)
    view = version_view(store, model, version)
    try:
        decided = subject_of(view, form.subject)
        if is_builder(decided, session.principal.name):
            raise FourEyesViolation(
                f"{session.principal.name} built {model} {decided.label} and so cannot decide "
                "on it (four eyes): a validator or approver who did not build it must decide"
            )
        statement = replace(form, subject=decided.hash).statement(
            session, model, version, run=view.run.entry_hash.hex(), issued_at=utc_now_rfc3339()
        )
    except GovledgerError as exc:
        return _refused(request, session, model, version, exc)
    passkeys = [p for p in passkeys_of(store, session.principal.name) if not p.revoked]
    return render(
        request,
        "review_confirm.html",
        session,
        script=True,
        title=f"Sign your decision on {model} {decided.label}",
        statement=statement,
        decision=form.decision,
        subject=decided,
        challenge=challenge_of(statement),
        credentials=" ".join(p.credential_id for p in passkeys),
        canonical=statement.signing_bytes().decode("utf-8"),
    )


def _refused(
    request: Request, session: WebSession, model: str, version: str, exc: GovledgerError
) -> Response:
    title = next(
        (words for cls, words in REFUSAL_TITLES if isinstance(exc, cls)),
        "The decision was not recorded",
    )
    return render(
        request,
        "decision_result.html",
        session,
        status=exc.status,
        title=title,
        refused=True,
        message=exc.message,
        model=model,
        version=version,
        outcome=None,
        entry=None,
    )


@router.post("/review/{model}/{version}/decide")
async def decide(
    request: Request,
    session: Posted,
    signed: Annotated[str, Depends(assertion_signature)],
    form: Decided,
    model: str,
    version: str,
    issued_at: Annotated[str, Form(max_length=40)] = "",
    credential_id: Annotated[str, Form(max_length=1400)] = "",
) -> Response:
    """The signed decision through the write gate (see module); a refusal as a page."""
    store = _context(request).store
    model, version = name_from_segment(model), name_from_segment(version)
    try:
        run = version_view(store, model, version).run.entry_hash.hex()
        statement = form.statement(session, model, version, run=run, issued_at=issued_at)
        key_id = key_of_credential(store, session.principal.name, credential_id)
        entries = await store.submit_async(
            session.principal, [Submission(statement, signed, key_id)]
        )
    except GovledgerError as exc:
        return _refused(request, session, model, version, exc)
    return render(
        request,
        "decision_result.html",
        session,
        title="Approved" if form.decision == "approve" else "Rejected",
        refused=False,
        message="",
        model=model,
        version=version,
        outcome=decision_outcome(version_view(store, model, version), form.subject),
        entry=entries[0],
    )
