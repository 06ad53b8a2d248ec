"""Support staff in a real browser: sign in, find an approved proof by a fragment of its
text, open it, download the evidence PDF, record a claim; screenshots of the main pages."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from proofmark.db import get_db
from tests.staff_support import make_app

PASSWORD = "e2e staff password"


def _approve_in_server_instance(live_server, proof_id: int) -> str:
    """The customer's approval, recorded through the proofs service on the server's own
    instance (the approval page itself is covered by the proofs e2e tests)."""
    from proofmark import proofs

    app = make_app(
        live_server.instance_path,
        SECRET_KEY="e2e-secret",
        DEMO=True,
        PUBLIC_URL=live_server.url,
        TESTING=False,
        RENDER_AFTER_REQUEST="inline",  # the images exist when the service call returns
    )
    with app.app_context():
        db = get_db()
        rev = proofs.get_revisions(db, proof_id)[-1]
        proofs.approve(
            db,
            proof_id,
            revision=rev.number,
            nonce=rev.nonce,
            statements_ticked=[s["id"] for s in proofs.statements()],
            ip="198.51.100.23",
            user_agent="Mozilla/5.0 (iPhone; e2e)",
        )
        return rev.image_sha256


def test_staff_find_open_download_and_claim(live_server, page, artifacts):
    email = f"staff-{secrets.token_hex(3)}@shop.test"
    created = live_server.flask("create-staff", email, "--password-stdin", input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr

    # Anonymous: the login page, never data.
    page.goto(live_server.url + "/staff/proofs")
    assert "/staff/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/proofs")

    # A proof made from the staff form, with a preview first.
    order_ref = f"E2E-{secrets.token_hex(3).upper()}"
    page.click("text=New proof")
    page.fill("input[name=order_ref]", order_ref)
    page.fill("input[name=customer_name]", "Maren Okafor")
    page.fill("input[name=customer_email]", "maren@example.com")
    page.select_option("select[name=product]", "bar-necklace")
    page.select_option("select[name=font]", "playfair-display")
    page.fill("textarea[name=lines]", "Wilhelmina")
    page.click("button:has-text('Preview')")
    page.wait_for_selector("#preview img.proof-img")
    page.screenshot(path=str(artifacts / "staff-new-proof.png"), full_page=True)
    page.click("button:has-text('Create proof and email it')")
    page.wait_for_url("**/staff/proofs/*")
    proof_id = int(page.url.rstrip("/").split("/")[-1])
    # Answered before the proof image exists: the record shows its progress, then swaps in
    # the image by itself (htmx) once the render job has stored it.
    if page.locator("#revision-image-1.image-progress").count():
        expect(page.locator("#revision-image-1")).to_contain_text("Preparing the proof image...")
        page.screenshot(path=str(artifacts / "staff-proof-preparing.png"), full_page=True)
    page.wait_for_selector("#revision-image-1 img", timeout=120_000)
    image_sha = _approve_in_server_instance(live_server, proof_id)

    # Find it by a fragment of the personalised text.
    page.goto(live_server.url + "/staff/proofs")
    page.fill("#q", "elmin")
    # The unfiltered list already shows the newest proof: wait for the filtered one.
    expect(page.locator("#results .result-count")).to_contain_text("1 proof matches")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody")).to_contain_text(order_ref)
    page.screenshot(path=str(artifacts / "staff-records.png"), full_page=True)
    page.click(f"#results a:has-text('{order_ref}')")
    page.wait_for_selector("text=Record intact")
    assert page.locator("#approval").inner_text().count("198.51.100.23") == 1
    page.screenshot(path=str(artifacts / "staff-detail.png"), full_page=True)

    # The evidence PDF opens and holds the order reference and the image hash.
    with page.expect_download() as info:
        page.click("text=Evidence PDF")
    pdf_bytes = Path(info.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(pdf_bytes))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert order_ref in text and image_sha in text and "Wilhelmina" in text
    (artifacts / "staff-evidence.pdf").write_bytes(pdf_bytes)

    # Record a claim: the customer now wants a different spelling.
    page.click("text=Record a claim")
    page.check("input[name=kind][value=text]")
    page.fill("textarea[name=description]", "Customer says the name should be Wilhelmine")
    page.fill("textarea[name=expected_text]", "Wilhelmine")
    page.click("button[value=assess]")
    page.wait_for_selector("#assessment")
    assert "Customer's responsibility" in page.inner_text("#assessment")
    page.screenshot(path=str(artifacts / "staff-claim.png"), full_page=True)
    page.click("button[value=record]")
    page.wait_for_selector("text=Claim #")
    assert "Customer's responsibility" in page.inner_text("#claims")
    page.check("input[name=resolution][value=store_credit]")
    page.fill("#claims textarea[name=note]", "Offered 20% store credit as goodwill")
    page.click("#claims button:has-text('Record decision')")
    page.wait_for_selector("text=Offered 20% store credit as goodwill")

    page.goto(live_server.url + "/staff/insights")
    page.wait_for_selector("svg.chart")
    page.screenshot(path=str(artifacts / "staff-insights.png"), full_page=True)

    # Sign out: the records are closed again.
    page.click("button:has-text('Sign out')")
    page.goto(live_server.url + f"/staff/proofs/{proof_id}")
    assert "/staff/login" in page.url


def _proof_with_history(live_server) -> tuple[int, int]:
    """An approved proof after one round of changes, and one whose customer asked for changes,
    made through the proofs service on the server's own instance."""
    from proofmark import proofs
    from proofmark_renderer import Design

    app = make_app(
        live_server.instance_path,
        SECRET_KEY="e2e-secret",
        DEMO=True,
        PUBLIC_URL=live_server.url,
        TESTING=False,
        RENDER_AFTER_REQUEST="inline",  # the images exist when the service call returns
    )
    ref = secrets.token_hex(2).upper()
    with app.app_context():
        db = get_db()

        def decide(proof_id, comment=None):
            rev = proofs.get_revisions(db, proof_id)[-1]
            if comment:
                proofs.request_changes(
                    db,
                    proof_id,
                    revision=rev.number,
                    nonce=rev.nonce,
                    comment=comment,
                    ip="198.51.100.24",
                    user_agent="Mozilla/5.0 (iPhone; e2e)",
                )
            else:
                proofs.approve(
                    db,
                    proof_id,
                    revision=rev.number,
                    nonce=rev.nonce,
                    statements_ticked=[s["id"] for s in proofs.statements()],
                    ip="198.51.100.24",
                    user_agent="Mozilla/5.0 (iPhone; e2e)",
                )

        def new_proof(lines, suffix):
            return proofs.create_proof(
                db,
                order_ref=f"PH-{ref}-{suffix}",
                customer_name="Pia Hart",
                customer_email="pia@example.com",
                design=Design(product="pendant-round", font="dancing-script", lines=lines),
                source="staff",
                actor="staff:e2e@shop.test",
            )

        # Two rounds of changes, then approved: three revisions, a long timeline and email log.
        approved = new_proof(("Amelie", "12.03.2024"), "A")
        for n in (1, 2):
            decide(approved, comment=f"Round {n}: please fix the spelling of the name, it is Amélie")
            proofs.add_revision(
                db,
                approved,
                Design(product="pendant-round", font="dancing-script", lines=(f"Amélie {n}", "12.03.2024")),
                actor="staff:e2e@shop.test",
            )
        decide(approved)
        asked = new_proof(("Nora",), "B")
        decide(asked, comment="Round 1: please fix the spelling of the name, it is Nóra")
    return approved, asked


def test_staff_record_on_a_phone(live_server, phone_page, artifacts):
    email = f"phone-{secrets.token_hex(3)}@shop.test"
    assert live_server.flask("create-staff", email, "--password-stdin", input=PASSWORD + "\n").returncode == 0
    approved, asked = _proof_with_history(live_server)
    page = phone_page
    page.goto(live_server.url + f"/staff/proofs/{approved}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/staff/proofs/{approved}")

    # The verification status and the approval are in full view; the long sections are folded.
    expect(page.locator("#verification")).to_contain_text("Record intact")
    expect(page.locator("#approval")).to_contain_text("198.51.100.24")
    expect(page.locator("#approval img.proof-img")).to_be_visible()
    for section in ("revisions", "timeline", "emails"):
        expect(page.locator(f"details#{section}")).not_to_have_attribute("open", "")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 4000, height  # was about 10,000 px with everything unfolded
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "staff-detail-phone.png"), full_page=True)

    # One tap opens a section; the email log reads as cards, the subject first, nothing off-screen.
    page.click("details#emails > summary")
    expect(page.locator("details#emails table.emails td.subject").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.click("details#timeline > summary")
    expect(page.locator("details#timeline .event").first).to_be_visible()
    page.screenshot(path=str(artifacts / "staff-detail-phone-open.png"), full_page=True)

    # A pending change request is the first thing on the record.
    page.goto(live_server.url + f"/staff/proofs/{asked}")
    box = page.locator("#change-request")
    expect(box).to_contain_text("please fix the spelling of the name")
    assert box.bounding_box()["y"] < page.locator("#verification").bounding_box()["y"]
    page.screenshot(path=str(artifacts / "staff-change-request-phone.png"), full_page=True)
