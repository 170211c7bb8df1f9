"""Hostile text on the pages added for deciding and for single sign-on: a model name, a
builder's reason and an approver's reason made of markup, and a user name and a group from
the identity provider made of markup. Each is shown escaped by the templates' autoescaping
(OWASP XSS Prevention, rule 1: HTML-encode untrusted data in element content and attribute
values) or refused with a page that says why; the raw markup is never on any page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import Service, register_model
from tests.oidc_provider import Person, serving_with_sign_on
from tests.web.conftest import HOSTILE_ESCAPED, HOSTILE_MODEL, csrf_of, sign_in
from tests.web.test_oidc_signin import sign_in as sign_in_through_the_provider
from tests.web.test_oidc_signin import visitor
from tests.web.test_review_pages import (
    CHALLENGE,
    MODEL,
    _hidden_fields,
    _passkey_actor,
    _signed_form,
    _statement,
)

HOSTILE_SEGMENT = quote(HOSTILE_MODEL, safe="")
HOSTILE_GROUP = '"><img src=x onerror=alert(2)>'
HOSTILE_GROUP_ESCAPED = "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"
HOSTILE_USER = "<img src=x onerror=alert(3)>"
HOSTILE_USER_ESCAPED = "&lt;img src=x onerror=alert(3)&gt;"


def assert_escaped(page: httpx.Response, raw: str, escaped: str) -> None:
    assert raw not in page.text, page.url
    assert escaped in page.text, page.url


def test_a_hostile_model_name_is_escaped_in_the_queue_and_on_the_review_page(
    web_service: Service,
) -> None:
    """`web_service` holds HOSTILE_MODEL version 1, waiting for a validator and an approver."""
    with closing(sign_in(web_service.url, web_service.api_keys["victor"])) as victor:
        queue = victor.get("/review")
        assert queue.status_code == 200
        assert_escaped(queue, HOSTILE_MODEL, f"{HOSTILE_ESCAPED} <span")
        assert f'href="/review/{HOSTILE_SEGMENT}/1"' in queue.text
        review = victor.get(f"/review/{HOSTILE_SEGMENT}/1")
        assert review.status_code == 200
        assert_escaped(review, HOSTILE_MODEL, HOSTILE_ESCAPED)
        assert "You need a passkey to sign a decision" in review.text  # victor has none here


def test_hostile_reasons_are_escaped_on_the_signing_and_result_pages_the_queue_and_the_card(
    review_service: Service,
) -> None:
    version = "xss-1"
    with review_service.client("dana") as dana:
        register_model(dana, MODEL)
        with dana.run(MODEL, version, reason=f"built because {HOSTILE_MODEL}") as run:
            run.log_metrics({"auc": 0.7})
    actor = _passkey_actor(review_service, "victor")
    with closing(sign_in(review_service.url, review_service.api_keys["victor"])) as victor:
        queue = victor.get("/review")
        assert_escaped(queue, HOSTILE_MODEL, f"“built because {HOSTILE_ESCAPED}”")

        review = victor.get(f"/review/{MODEL}/{version}")
        form = {"decision": "approve", "role": "validator", "reason": HOSTILE_MODEL}
        signing = victor.post(
            f"/review/{MODEL}/{version}/prepare", data=form | {"csrf": csrf_of(review.text)}
        )
        assert signing.status_code == 200, signing.text
        assert_escaped(signing, HOSTILE_MODEL, HOSTILE_ESCAPED)
        assert f'name="reason" value="{HOSTILE_ESCAPED}"' in signing.text

        fields = _hidden_fields(signing.text) | {"challenge": CHALLENGE.findall(signing.text)[0]}
        assert fields["reason"] == HOSTILE_MODEL  # what the passkey signs is the text typed
        signed = _signed_form(actor, _statement("victor", version, fields), fields)
        result = victor.post(f"/review/{MODEL}/{version}/decide", data=signed)
        assert result.status_code == 200, result.text
        assert f"Approved: {MODEL} version {version}" in result.text
        assert_escaped(result, HOSTILE_MODEL, f"Reason: “{HOSTILE_ESCAPED}”")

        card = victor.get(f"/models/{MODEL}/versions/{version}")
        assert card.status_code == 200
        assert_escaped(card, HOSTILE_MODEL, HOSTILE_ESCAPED)
        assert re.search(rf"<td>\s*{re.escape(HOSTILE_ESCAPED)}\s*</td>", card.text), card.text


@pytest.fixture(scope="module")
def hostile_sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service whose identity provider sends markup as a group and as a user name."""
    people = [Person("mallory", (HOSTILE_GROUP,)), Person(HOSTILE_USER, ("risk",))]
    roles = {HOSTILE_GROUP: ["viewer"], "risk": ["viewer"]}
    with serving_with_sign_on(tmp_path_factory.mktemp("hostile-sso"), people, roles) as (_, svc):
        yield svc


def test_a_hostile_group_from_the_provider_is_escaped_where_it_is_shown(
    hostile_sso: Service,
) -> None:
    with visitor(hostile_sso) as client:
        landed = sign_in_through_the_provider(client, "mallory", "/timeline")
        assert landed.status_code == 200 and "Signed in as <strong>mallory</strong>" in landed.text
        assert_escaped(landed, HOSTILE_GROUP, f"(groups = {HOSTILE_GROUP_ESCAPED})")
        for path in ("/review", "/passkeys", "/timeline?kind=access.federated"):
            page = client.get(path)
            assert page.status_code == 200 and HOSTILE_GROUP not in page.text, path


def test_a_hostile_user_name_from_the_provider_is_refused_with_a_clear_page(
    hostile_sso: Service,
) -> None:
    with visitor(hostile_sso) as client:
        refused = sign_in_through_the_provider(client, HOSTILE_USER)
        assert refused.status_code == 400, refused.text
        assert_escaped(refused, HOSTILE_USER, HOSTILE_USER_ESCAPED)
        assert "Sign-in did not complete" in refused.text
        assert "contains &#39;&lt;&#39; (U+003C)" in refused.text  # what is wrong with it
