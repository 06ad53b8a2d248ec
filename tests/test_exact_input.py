"""Property tests (hypothesis) over every shopper-facing text input: whatever is accepted is
stored, signed and shown exactly as it was sent. An input may be refused (with a reason); it
is never trimmed, folded, joined or cut on the way in.

- the personalizer's lines and named fields -> the signed design token and the page that
  shows it;
- the customer's name, email address and order reference (through the API) -> the proof row,
  its signed `proof_created` event, the API's answer and the email's To header;
- the customer's change request on the approval page -> the signed `changes_requested` event.
"""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from proofmark import mail
from proofmark.db import get_db
from proofmark.tokens import verify_design
from tests.proofs_support import make_app

# Text as people and scripts send it: any character a form or JSON can carry (surrogates
# cannot be encoded), plus the cases that used to be changed silently.
AWKWARD = [
    " Ada",
    "Ada ",
    "Ada  Byron",
    "\u00a0Zoë",
    "A\u202eB",
    "e\u0301",
    "100%",
    "%41",
    "a+b",
    "&amp;",
    "<b>x</b>",
    "ß",
    "İ",
    "\t",
    "Ada\nByron",
    "\r\n",
    "Ⅻ",
    "ﬁ",
]
TEXT = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    st.text(st.characters(codec="ascii"), max_size=20),
)
SETTINGS = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture(scope="module")
def xapp(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("exact") / "instance")


@pytest.fixture(scope="module")
def api_key(xapp):
    from proofmark import api_keys

    with xapp.app_context():
        return api_keys.create(get_db(), "exact-input")


def _token(html: str) -> str | None:
    import re

    found = re.search(r'name="design_token" value="([^"]+)"', html)
    return found.group(1) if found else None


@SETTINGS
@given(lines=st.lists(TEXT, min_size=1, max_size=3), rim=TEXT)
@example(lines=["Ada ", " Zoë", "100%"], rim="a+b &amp; <b>")
@example(lines=["Zoë", "", "%41"], rim="")
def test_personalizer_text_is_signed_and_shown_exactly_as_sent(xapp, lines, rim):
    _personalizer(xapp, lines, rim)


def _personalizer(xapp, lines, rim) -> int:
    form = {f"line-{n}": text for n, text in enumerate(lines, start=1)}
    form.update({"field-rim": rim, "font": "lato", "checked": "yes"})
    response = xapp.test_client().post("/p/pendant-round/confirm", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422), html[:500]
    token = _token(html)
    if response.status_code != 200:
        assert token is None
        return response.status_code
    with xapp.app_context():
        design = verify_design(token).design
    sent = list(lines)
    while sent and not sent[-1]:
        sent.pop()  # boxes left empty at the end are unused boxes, not text
    assert list(design.lines) == sent
    assert dict(design.fields) == ({"rim": rim} if rim else {})
    for text in [*sent, rim]:
        assert str(escape(text)) in html
    return response.status_code


@SETTINGS
@given(name=TEXT, ref=TEXT, local=st.sampled_from(["ada", "Ada.Lovelace", "ADA+proofs", "zoë"]))
@example(name="Zoë  d'Arc <x>", ref="#100%", local="Ada.Lovelace")
def test_customer_details_are_stored_signed_and_shown_exactly_as_sent(xapp, api_key, name, ref, local):
    _customer(xapp, api_key, name, ref, local)


def _customer(xapp, api_key, name, ref, local) -> int:
    email = f"{local}@Example.com"
    body = {
        "order_ref": ref,
        "customer_name": name,
        "customer_email": email,
        "design": {"product": "bar-necklace", "font": "lato", "lines": ["Ada"]},
    }
    client = xapp.test_client()
    response = client.post("/api/proofs", json=body, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code in (201, 409, 422), response.get_data(as_text=True)[:500]
    if response.status_code != 201:
        return response.status_code
    shown = response.json["proof"]
    assert (shown["customer_name"], shown["customer_email"], shown["order_ref"]) == (name, email, ref)
    with xapp.app_context():
        db = get_db()
        row = db.execute(
            "SELECT customer_name, customer_email, order_ref FROM proofs WHERE id = ?", (shown["id"],)
        ).fetchone()
        assert tuple(row) == (name, email, ref)
        event = db.execute(
            "SELECT data FROM events WHERE proof_id = ? AND kind = 'proof_created'", (shown["id"],)
        ).fetchone()
        data = json.loads(event["data"])
        assert (data["customer_name"], data["customer_email"], data["order_ref"]) == (name, email, ref)
        message = mail.message_bytes(
            db.execute("SELECT * FROM outbox WHERE proof_id = ?", (shown["id"],)).fetchone()
        )
    to = message_from_bytes(message, policy=default_policy)["To"].addresses
    # One recipient, named as sent (header parsers fold a run of spaces into one when reading).
    assert [(" ".join(a.display_name.split()), a.addr_spec) for a in to] == [(" ".join(name.split()), email)]
    return response.status_code


def test_awkward_but_valid_inputs_are_accepted_so_the_properties_are_not_vacuous(xapp, api_key):
    assert _personalizer(xapp, ["Ada ", " Zoë", "100%"], "a+b &amp; <b>") == 200
    assert _personalizer(xapp, ["Zoë", "", "%41"], "") == 200
    assert (
        _customer(xapp, api_key, "Zoë  d'Arc <x>, Eve <e@x.y>", "#200% ", "ADA+proofs") == 422
    )  # trailing space
    assert _customer(xapp, api_key, "Zoë  d'Arc <x>, Eve <e@x.y>", "#200%", "ADA+proofs") == 201


@settings(
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(comment=TEXT)
@example(comment="  Please make it\r\n  “Zoë” \u200d ")
def test_a_change_request_is_recorded_exactly_as_sent(xapp, comment):
    from tests.proofs_support import link_for, new_proof

    with xapp.app_context():
        db = get_db()
        proof_id = new_proof(db, order_ref=f"CR-{db.execute('SELECT count(*) FROM proofs').fetchone()[0]}")
        link = link_for(db, proof_id)
    client = xapp.test_client()
    page = client.get(f"/approve/{link}").get_data(as_text=True)
    import re

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    response = client.post(f"/approve/{link}/changes", data={**hidden, "comment": comment})
    with xapp.app_context():
        event = (
            get_db()
            .execute("SELECT data FROM events WHERE proof_id = ? AND kind = 'changes_requested'", (proof_id,))
            .fetchone()
        )
    if event is None:
        assert response.status_code in (400, 422)
        return
    recorded = json.loads(event["data"])["comment"]
    # Browsers send a textarea's line breaks as CRLF; that is the only thing read differently.
    assert recorded == comment.replace("\r\n", "\n")
