"""Support staff in a real browser: sign in, find an approved proof by a fragment of its
text, open it, download the evidence PDF, record a claim; screenshots of the main pages."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from site.db import get_db
from tests.staff_support import make_app

PASSWORD = "e2e staff password"


def _approve_in_server_instance(live_server, proof_id: int) -> str:
    """The customer's approval, recorded through the proofs service on the server's own
    instance (the approval page itself is covered by the proofs e2e tests)."""
    from site import proofs

    app = make_app(live_server.instance_path, SECRET_KEY="e2e-secret", DEMO=True,
                   PUBLIC_URL=live_server.url, TESTING=False)
    with app.app_context():
        db = get_db()
        rev = proofs.get_revisions(db, proof_id)[-1]
        proofs.approve(db, proof_id, revision=rev["number"], nonce=rev["nonce"],
                       statements_ticked=[s["id"] for s in proofs.statements()],
                       ip="198.51.100.23", user_agent="Mozilla/5.0 (iPhone; e2e)")
        return rev["image_sha256"]


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
