"""What support staff reach for daily: search by the public id customers quote and by names
regardless of accents and case; times in the shop's time zone with UTC on hover; Etsy
orders pasted in (kept exactly, hidden characters shown) and a link or message to paste."""

from __future__ import annotations

import re

import pytest

from proofmark import proofs
from proofmark.db import get_db
from proofmark.integrations import requests as proof_requests
from proofmark.staff.search import SearchQuery, public_id, search
from tests.proofs_support import count, new_proof
from tests.support import make_app


@pytest.fixture
def people(app):
    with app.app_context():
        db = get_db()
        made = {
            name: new_proof(
                db, customer_name=name, text=text, email=f"c{n}@example.com", order_ref=f"#{5000 + n}"
            )
            for n, (name, text) in enumerate(
                [
                    ("Jürgen Müller", "Ada"),
                    ("Zoë Martin", "Forever"),
                    ("ZOE KING", "Always"),
                    ("Mullins Ray", "Love"),
                    ("Łucja Nowak", "Baby"),
                ]
            )
        }
        return made


def found(app, q: str) -> set[int]:
    with app.app_context():
        return {row["id"] for row in search(get_db(), SearchQuery(q=q)).rows}


def test_names_are_found_regardless_of_accents_and_case(app, people):
    assert found(app, "muller") == {people["Jürgen Müller"]}
    assert found(app, "MÜLLER") == {people["Jürgen Müller"]}
    assert found(app, "mull") == {people["Jürgen Müller"], people["Mullins Ray"]}
    assert found(app, "zoe") == {people["Zoë Martin"], people["ZOE KING"]}
    assert found(app, "Zoë") == {people["Zoë Martin"], people["ZOE KING"]}
    assert found(app, "zoe martin") == {people["Zoë Martin"]}
    assert found(app, "jurgen") == {people["Jürgen Müller"]}
    # Substring search still works as before.
    assert found(app, "ever") == {people["Zoë Martin"]}


def test_a_revision_keeps_the_folded_index_in_step(app, people):
    from tests.proofs_support import design

    with app.app_context():
        proofs.add_revision(get_db(), people["ZOE KING"], design("Renée"), actor="staff:t")
    assert found(app, "renee") == {people["ZOE KING"]}


def test_the_public_id_customers_quote_finds_the_proof(app, people):
    with app.app_context():
        pid = proofs.get_proof(get_db(), people["Zoë Martin"]).public_id
    assert re.fullmatch(r"P-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}", pid)
    for quoted in (pid, pid.lower(), pid[2:], "p" + pid[2:].lower(), f"P {pid[2:]}"):
        assert found(app, quoted) == {people["Zoë Martin"]}, quoted
    assert public_id("P-8HCQV69N") == "P-8HCQV69N"
    assert public_id("P-0OI1LU00") is None  # letters public ids never use


def test_times_show_in_the_shop_time_zone_with_exact_utc_on_hover(tmp_path, monkeypatch):
    from tests.support import sign_in

    app = make_app(tmp_path / "i", monkeypatch, SHOP_TIMEZONE="Europe/Berlin")
    with app.app_context():
        from tests.proofs_support import T0

        proof_id = new_proof(get_db(), now=T0)  # 2026-11-02 09:30 UTC
    staff = sign_in(app)
    page = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert 'title="2026-11-02 09:30:00.000000 UTC"' in page
    assert "Mon 2 Nov 2026, 10:30 CET" in page
    listing = staff.get("/staff/proofs").get_data(as_text=True)
    assert "10:30 CET" in listing


def test_an_unknown_time_zone_is_refused_at_start(tmp_path, monkeypatch):
    from proofmark import ConfigurationError

    with pytest.raises(ConfigurationError, match="SHOP_TIMEZONE"):
        make_app(tmp_path / "i", monkeypatch, SHOP_TIMEZONE="Mars/Olympus")


PASTED = "Zoë\u200b  Müller\n\u202eEst. 2024\u00a0"


def test_an_etsy_order_pasted_is_kept_exactly_shown_with_hidden_characters_and_becomes_a_proof(app, staff):
    response = staff.post(
        "/staff/etsy/new",
        data={
            "order_ref": "ETSY-3141592653",
            "customer_name": "Zoë Müller",
            "customer_email": "zoe@example.com",
            "personalization": PASTED,
        },
    )
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "U+200B ZERO WIDTH SPACE" in page
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in page
    assert "NO-BREAK SPACE" in page and "LINE BREAK" in page
    assert "would not be seen" in page
    with app.app_context():
        [req] = proof_requests.to_prepare(get_db())
        assert req["personalization"] == PASTED  # byte for byte
    listing = staff.get("/staff/to-prepare").get_data(as_text=True)
    assert "ETSY-3141592653" in listing and "hidden character(s)" in listing

    response = staff.post(
        f"/staff/to-prepare/{req['id']}",
        data={
            "order_ref": "ETSY-3141592653",
            "customer_name": "Zoë Müller",
            "customer_email": "zoe@example.com",
            "product": "bar-necklace",
            "font": "lato",
            "lines": "Zoë Müller",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        db = get_db()
        [proof] = [dict(r) for r in db.execute("SELECT * FROM proofs")]
        assert proof["source"] == "etsy"
        events = proofs.get_events(db, proof["id"])
        received = [e for e in events if e["kind"] == "personalization_received"]
        assert received[0]["data"]["personalization"] == PASTED
        assert count(db, "outbox") == 1  # emailed as well
    # Preparing it again makes nothing new.
    again = staff.get(f"/staff/to-prepare/{req['id']}")
    assert again.status_code == 302 and f"/staff/proofs/{proof['id']}" in again.headers["Location"]

    shared = staff.post(f"/staff/proofs/{proof['id']}/share").get_data(as_text=True)
    url = re.search(r'id="share-url" readonly value="([^"]+)"', shared).group(1)
    assert url.startswith("http://proofs.test/approve/")
    assert "Hi Zoë," in shared and "ETSY-3141592653" in shared
    assert staff.get(url.replace("http://proofs.test", "")).status_code == 200
    with app.app_context():
        kinds = [e["kind"] for e in proofs.get_events(get_db(), proof["id"])]
        assert "link_shared" in kinds


def test_an_etsy_paste_with_a_bad_email_keeps_what_was_typed(app, staff):
    response = staff.post(
        "/staff/etsy/new",
        data={
            "order_ref": "E-1",
            "customer_name": "A",
            "customer_email": "not-an-email",
            "personalization": "x",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not an email address" in page and 'value="E-1"' in page
    with app.app_context():
        assert count(get_db(), "proof_requests") == 0


def test_preparing_is_taken_once_and_given_back_when_it_fails(app):
    from proofmark.db import transaction
    from tests.proofs_support import design

    with app.app_context():
        db = get_db()
        request_id = proof_requests.create_from_paste(
            db,
            order_ref="E-2",
            customer_name="Zoë",
            customer_email="zoe@example.com",
            personalization="Zoë",
            actor="t",
        )
        args = {"design": design("Zoë"), "order_ref": "E-2", "customer_name": "Zoë", "actor": "staff:t"}
        with pytest.raises(proofs.ProofError, match="not an email address"):
            proof_requests.prepare(db, request_id, customer_email="nope", **args)
        assert proof_requests.get(db, request_id)["status"] == "to_prepare"  # given back
        with transaction(db):
            db.execute("UPDATE proof_requests SET status = 'preparing' WHERE id = ?", (request_id,))
        with pytest.raises(proofs.ProofError, match="being prepared"):
            proof_requests.prepare(db, request_id, customer_email="zoe@example.com", **args)
        assert count(db, "proofs") == 0
        with transaction(db):
            db.execute("UPDATE proof_requests SET status = 'to_prepare' WHERE id = ?", (request_id,))
        first = proof_requests.prepare(db, request_id, customer_email="zoe@example.com", **args)
        assert proof_requests.prepare(db, request_id, customer_email="zoe@example.com", **args) == first
        assert count(db, "proofs") == 1
