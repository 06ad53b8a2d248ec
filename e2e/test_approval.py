"""The whole proof loop in headless Chromium against a live gunicorn server that sends real
SMTP to a loopback aiosmtpd server: the shopper orders through the demo shop, the proof
email arrives, its link opens the approval page, the customer approves (or asks for
changes, gets a second revision and approves that), and the record holds the approval
with the hash of the image that was shown."""

from __future__ import annotations

import hashlib
import re
import secrets
import urllib.request

import pytest
from playwright.sync_api import expect

from proofmark.db import connect
from proofmark.records import verify_chain
from proofmark_renderer import Design
from tests.proofs_support import SmtpSink, make_app

LONG = 60_000  # ms: rendering a 2400 px proof takes a few seconds on a slow machine


@pytest.fixture
def loop(server_factory):
    sink = SmtpSink().start()
    server = server_factory(
        {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port}, "mail"
    )
    yield server, sink
    sink.stop()


def place_order(page, server, *, lines: str, font: str, name: str, email: str, reading: str | None) -> str:
    """Drive the real personalizer: confirm the design, add it to the cart, place the order."""
    from urllib.parse import urlencode

    query = {"font": font}
    for i, line in enumerate(lines.split("\n"), start=1):
        query[f"line-{i}"] = line
    page.goto(f"{server.url}/p/pendant-round/confirm?{urlencode(query)}")
    page.check("input[name=checked]")
    if reading:
        page.locator("label.choice", has_text=reading).click()
    page.click("text=Confirm design")
    expect(page.locator("h1")).to_have_text("Design confirmed")
    page.click("text=Add to cart")
    expect(page.locator("h1")).to_have_text("Your cart")
    order_ref = f"E2E-{secrets.token_hex(3).upper()}"
    page.fill("form.checkout input[name=customer_name]", name)
    page.fill("form.checkout input[name=customer_email]", email)
    page.fill("form.checkout input[name=order_ref]", order_ref)
    page.click("form.checkout button[type=submit]")
    expect(page.locator("h1")).to_have_text("Thank you, your order is placed", timeout=LONG)
    # The answer comes before the proof image exists: the page says it is being prepared and
    # updates itself (htmx) once the image is there and the email has gone.
    expect(page.locator("main")).to_contain_text("Check your email", timeout=LONG)
    expect(page.locator("#order-progress")).not_to_have_attribute("hx-get", re.compile("."))
    return order_ref


def approval_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/approve/\S+", text).group(0)


def record(server, order_ref: str) -> tuple[int, list[dict], list[dict]]:
    """(proof id, events, revisions) straight from the server's database."""
    import json

    db = connect(server.instance_path / "proofmark.sqlite")
    try:
        proof_id = db.execute("SELECT id FROM proofs WHERE order_ref = ?", (order_ref,)).fetchone()[0]
        events = [
            dict(r) for r in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,))
        ]
        for e in events:
            e["data"] = json.loads(e["data"])
        revisions = [
            dict(r)
            for r in db.execute("SELECT * FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,))
        ]
        assert verify_chain(db, proof_id).intact
        return proof_id, events, revisions
    finally:
        db.conn.close()


def served_image_sha(link: str) -> str:
    with urllib.request.urlopen(link + "/image.png", timeout=30) as response:
        return hashlib.sha256(response.read()).hexdigest()


def tick_all_and_approve(page) -> None:
    for box in page.locator("input[name=statement]").all():
        box.check()
    page.click("button:has-text('Approve this proof')")
    expect(page.locator("h1")).to_have_text("Your proof is approved")


def test_order_email_link_approve_and_the_record(loop, page, phone_page, artifacts):
    server, sink = loop
    order_ref = place_order(
        page,
        server,
        lines="Anna\n03/04/2025",
        font="dancing-script",
        name="Anna Berg",
        email="anna@example.com",
        reading="Thursday 3 April 2025",
    )
    assert sink.wait_for(1, timeout=60), server.log()
    email = sink.messages[0]
    assert email["To"] == "Anna Berg <anna@example.com>" and order_ref in email["Subject"]
    link = approval_link(email)
    assert link.startswith(server.url + "/approve/")

    # On a phone first: the proof, letter by letter, the date written out, the statements.
    phone_page.goto(link)
    expect(phone_page.locator("h1")).to_have_text("Please check your proof")
    phone_page.wait_for_function("() => document.querySelector('.proof-zoom img').naturalWidth > 0")
    expect(phone_page.locator(".proof-line").nth(1)).to_contain_text("Thursday 3 April 2025")
    expect(phone_page.locator(".proof-line").nth(1)).to_contain_text("You told us you mean")
    expect(phone_page.locator(".proof-line").first.locator(".letter")).to_have_count(4)
    phone_page.screenshot(path=str(artifacts / "approve-phone.png"), full_page=True)
    # Tap to zoom: the image becomes wider than the screen and scrolls inside its box.
    phone_page.click(".proof-zoom img")
    expect(phone_page.locator(".proof-zoom")).to_have_class(re.compile("zoomed"))
    assert phone_page.eval_on_selector(".proof-zoom img", "img => img.getBoundingClientRect().width") > 375
    # ...scrolled so that the tapped spot (the middle: the engraving) stays in view.
    assert phone_page.eval_on_selector(".proof-zoom", "box => box.scrollLeft") > 100
    phone_page.screenshot(path=str(artifacts / "approve-phone-zoomed.png"))
    phone_page.click(".proof-zoom img")

    page.goto(link)
    page.wait_for_function("() => document.querySelector('.proof-zoom img').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "approve-desktop.png"), full_page=True)
    # The browser will not approve with a statement unticked.
    page.click("button:has-text('Approve this proof')")
    expect(page.locator("h1")).to_have_text("Please check your proof")
    tick_all_and_approve(page)
    expect(page.locator(".banner.ok")).to_contain_text("You approved version 1 on")
    page.screenshot(path=str(artifacts / "approve-done-desktop.png"), full_page=True)

    assert sink.wait_for(2, timeout=60)
    assert sink.messages[1]["Subject"].startswith("Approved:")

    proof_id, events, revisions = record(server, order_ref)
    kinds = [e["kind"] for e in events]
    assert kinds.count("approved") == 1
    approval = next(e for e in events if e["kind"] == "approved")
    shown_sha = served_image_sha(link)
    assert approval["data"]["image_sha256"] == revisions[0]["image_sha256"] == shown_sha
    assert approval["data"]["text"]["lines"] == ["Anna", "03/04/2025"]
    assert approval["ip"] == "127.0.0.1" and "Chrome" in approval["user_agent"]
    assert len(approval["data"]["statements"]) == 4
    sent = [e["data"]["message_id"] for e in events if e["kind"] == "email_sent"]
    assert sorted(sent) == sorted(m["Message-ID"] for m in sink.messages)
    assert "proof_viewed" in kinds

    # Replaying the approval (back button, resubmit) changes nothing.
    page.goto(link)
    expect(page.locator("input[name=statement]")).to_have_count(0)
    assert [e["kind"] for e in record(server, order_ref)[1]].count("approved") == 1


def test_change_request_then_second_revision_approved(loop, page, phone_page, artifacts, monkeypatch):
    server, sink = loop
    order_ref = place_order(
        page,
        server,
        lines="Jonh",
        font="great-vibes",
        name="John Marsh",
        email="john@example.com",
        reading=None,
    )
    assert sink.wait_for(1, timeout=60), server.log()
    first_link = approval_link(sink.messages[0])

    page.goto(first_link)
    page.fill("textarea[name=comment]", "My name is spelled John, not Jonh.")
    page.click("button:has-text('Request changes')")
    expect(page.locator("h1")).to_have_text("Your change request is recorded")
    expect(page.locator(".banner.info")).to_contain_text("My name is spelled John, not Jonh.")
    assert sink.wait_for(2, timeout=60)
    assert "change request" in sink.messages[1]["Subject"]

    # Staff make revision 2 through the proofs service, on the server's own instance.
    from proofmark import mail, proofs

    monkeypatch.setenv("INSTANCE_PATH", str(server.instance_path))
    app = make_app(
        server.instance_path,
        SECRET_KEY="e2e-secret",
        DEMO=True,
        PUBLIC_URL=server.url,
        TESTING=False,
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=sink.port,
        MAIL_SEND_AFTER_REQUEST="off",
        RENDER_AFTER_REQUEST="inline",
    )
    proof_id = record(server, order_ref)[0]
    with app.app_context():
        from proofmark.db import get_db

        number = proofs.add_revision(
            get_db(),
            proof_id,
            Design(product="pendant-round", font="great-vibes", lines=("John",)),
            actor="staff:e2e@shop.test",
            note="Spelling corrected to John.",
        )
        assert number == 2
        mail.send_once(app)
    assert sink.wait_for(3, timeout=60)
    new_email = sink.messages[2]
    assert "version 2" in new_email["Subject"]
    second_link = approval_link(new_email)
    assert second_link != first_link

    # The old link: viewable, marked replaced, no way to approve it.
    page.goto(first_link)
    expect(page.locator("h1")).to_have_text("This version was replaced")
    expect(page.locator(".banner.replaced")).to_contain_text("Replaced by version 2")
    expect(page.locator("input[name=statement]")).to_have_count(0)
    page.wait_for_function("() => document.querySelector('.proof-zoom img').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "approve-superseded-desktop.png"), full_page=True)

    phone_page.goto(second_link)
    expect(phone_page.locator(".proof-line").first).to_contain_text("John")
    phone_page.wait_for_function("() => document.querySelector('.proof-zoom img').naturalWidth > 0")
    tick_all_and_approve(phone_page)
    phone_page.screenshot(path=str(artifacts / "approve-done-phone.png"), full_page=True)

    _, events, revisions = record(server, order_ref)
    kinds = [e["kind"] for e in events]
    assert kinds.count("changes_requested") == 1 and kinds.count("approved") == 1
    approval = next(e for e in events if e["kind"] == "approved")
    assert approval["data"]["revision"] == 2
    assert approval["data"]["image_sha256"] == revisions[1]["image_sha256"] == served_image_sha(second_link)
    assert revisions[0]["image_sha256"] != revisions[1]["image_sha256"]
    change = next(e for e in events if e["kind"] == "changes_requested")
    assert change["data"]["comment"] == "My name is spelled John, not Jonh."
    assert change["data"]["revision"] == 1


def test_demo_outbox_link_works_with_the_file_backend(live_server, page, phone_page, artifacts):
    place_order(
        page,
        live_server,
        lines="Mila",
        font="dancing-script",
        name="Mila",
        email="mila@example.com",
        reading=None,
    )
    page.click("text=Open the demo outbox")
    # Every message holds an approval link: staff sign in first, even in demo mode.
    expect(page.locator("h1")).to_have_text("Staff sign-in")
    email, password = "outbox@shop.test", "outbox password 1"
    created = live_server.flask("create-staff", email, "--password-stdin", input=password + "\n")
    assert created.returncode == 0, created.stderr
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Demo outbox")
    page.locator(".outbox-table a").first.click()
    expect(page.locator("iframe.mail-html")).to_be_visible()
    frame = page.frame_locator("iframe.mail-html")
    expect(frame.locator("h1")).to_have_text("Please approve your proof", timeout=LONG)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "dev-outbox-message.png"), full_page=True)

    # On a phone the long approval URL wraps inside the text part instead of running past it.
    phone_page.context.add_cookies(page.context.cookies())  # the same signed-in staff member
    phone_page.goto(page.url)
    expect(phone_page.frame_locator("iframe.mail-html").locator("h1")).to_have_text(
        "Please approve your proof"
    )
    text_part = phone_page.locator("pre.mail-text")
    expect(text_part).to_contain_text("/approve/")
    overflow = text_part.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"the text part's content is {overflow}px wider than its box"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    phone_page.screenshot(path=str(artifacts / "dev-outbox-message-phone.png"), full_page=True)

    page.click("a.approval-link")
    expect(page.locator("h1")).to_have_text("Please check your proof")


def test_garbled_and_expired_links_explain_themselves(live_server, phone_page, artifacts, tmp_path):
    from datetime import timedelta

    from proofmark import proofs, records
    from proofmark.db import get_db
    from proofmark.tokens import sign_approval

    page = phone_page
    response = page.goto(live_server.url + "/approve/this-is-not-a-real-link")
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("We can’t open this link")
    page.screenshot(path=str(artifacts / "approve-invalid-phone.png"), full_page=True)

    # A link signed 20 days ago with the server's key, to a proof made through the service.
    app = make_app(
        live_server.instance_path,
        SECRET_KEY="e2e-secret",
        DEMO=True,
        PUBLIC_URL=live_server.url,
        TESTING=False,
        MAIL_SEND_AFTER_REQUEST="off",
        RENDER_AFTER_REQUEST="inline",
    )
    with app.app_context():
        db = get_db()
        proof_id = proofs.create_proof(
            db,
            order_ref="E2E-OLD",
            customer_name="Olga",
            customer_email="olga@example.com",
            design=Design(product="bar-necklace", font="lato", lines=("Olga",)),
            source="staff",
            actor="staff:e2e",
        )
        rev = proofs.get_proof(db, proof_id).revision
        old = sign_approval(proof_id, 1, rev.nonce, "old", now=records.utcnow() - timedelta(days=20))
    response = page.goto(f"{live_server.url}/approve/{old}")
    assert response.status == 410
    expect(page.locator("h1")).to_have_text("This link has expired")
    page.screenshot(path=str(artifacts / "approve-expired-phone.png"), full_page=True)
    page.click("text=Email me a fresh link")
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text("o•••@example.com")
