"""Issue 10: a product's other views (the dog tag's close-up) are rendered with the proof,
stored by hash, logged in `image_rendered`, shown on the approval page and the staff record
as stored images, listed in the evidence (JSON and PDF) as shown alongside, and checked by
verify-records. Older revisions (and one-view products) keep verifying without them."""

from __future__ import annotations

import hashlib
import io
import re
from html import unescape
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from proofmark import products, proofs
from proofmark.db import get_db
from proofmark.proofs import render_jobs
from proofmark_renderer import Design, photo_variants, render
from tests.proofs_support import all_statements, link_for, new_proof


@pytest.fixture(scope="module")
def demo_folders(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("views") / "src"
    photo_variants.write(root)
    return root


def _dog_tag_proof(app, demo_folders, *, approve: bool = True) -> tuple[int, str]:
    with app.app_context():
        db = get_db()
        base, version = products.import_folder(db, demo_folders / "dog-tag", "test")
        product_id = f"{base}@{version}"
        proof_id = new_proof(db, design=Design(product_id, "montserrat", ("Rex",), variant="black"))
        if approve:
            rev = proofs.get_revision(db, proof_id, 1)
            proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app))
    return proof_id, product_id


def _stored(app, sha: str) -> Path:
    return Path(app.instance_path) / app.config["IMAGE_DIR"] / sha[:2] / f"{sha}.png"


def test_other_views_are_rendered_stored_logged_shown_and_in_the_evidence(app, staff, runner, demo_folders):
    proof_id, product_id = _dog_tag_proof(app, demo_folders)
    with app.app_context():
        db = get_db()
        rendered = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "image_rendered"]
        [event] = rendered
        [view] = event["data"]["views"]
        assert view["view"] == 1 and view["name"] == "close-up"
        assert render_jobs.view_images(db, proof_id, 1) == [view]
        rev = proofs.get_revision(db, proof_id, 1)
    # Stored under its SHA-256, and it is the close-up of this design (not the proof view).
    data = _stored(app, view["image_sha256"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == view["image_sha256"]
    picture = Image.open(io.BytesIO(data))
    assert list(picture.size) == view["image_size"] and picture.size[0] == 1200
    with app.app_context():
        again = render(Design(product_id, "montserrat", ("Rex",), variant="black"), 1200, "png", view=1)
    assert again.image == data

    # The approval page shows the stored image, captioned as not what is approved.
    with app.app_context():
        link = link_for(get_db(), proof_id)
    page = staff.get(f"/approve/{link}").get_data(as_text=True)
    section = re.search(r'<section class="other-views".*?</section>', page, re.S).group(0)
    assert "the proof above is what you approve" in section
    src = unescape(re.search(r'<img src="([^"]+)" alt="Close-up"', section).group(1))
    assert src == f"/approve/{link}/views/1.png"
    shown = staff.get(src)
    assert shown.status_code == 200 and shown.data == data
    assert staff.get(f"/approve/{link}/views/2.png").status_code == 404

    # The staff record shows it beside the revision's proof image.
    record = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    thumb = f"/staff/proofs/{proof_id}/revisions/1/views/1.png"
    assert thumb in record and view["image_sha256"][:12] in record
    assert "Shown beside the proof (not part of what is approved)" in record
    assert staff.get(thumb).data == data

    # Evidence: listed as shown alongside, verified; the proof's own image stays the approved one.
    evidence = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    [revision] = evidence["revisions"]
    assert revision["image_sha256"] == rev.image_sha256
    assert revision["shown_alongside"] == [
        {
            "view": 1,
            "name": "close-up",
            "image_sha256": view["image_sha256"],
            "image_size": view["image_size"],
            "image_verified": True,
        }
    ]
    assert evidence["approval"]["image_sha256"] == rev.image_sha256
    pdf = staff.get(f"/staff/proofs/{proof_id}/evidence.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Shown alongside: close-up" in text and "not part of what is approved" in text
    assert "shown alongside (not approved): close-up view" in text
    assert view["image_sha256"][:24] in text.replace(" ", "")
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output


def test_a_replaced_view_image_is_reported(app, staff, runner, demo_folders):
    proof_id, _ = _dog_tag_proof(app, demo_folders)
    with app.app_context():
        [view] = render_jobs.view_images(get_db(), proof_id, 1)
        rev = proofs.get_revision(db := get_db(), proof_id, 1)
        assert db is not None
    # Someone swaps the stored close-up for the proof image (a valid PNG, another picture).
    _stored(app, view["image_sha256"]).write_bytes(_stored(app, rev.image_sha256).read_bytes())
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 1
    assert "TAMPERED" in result.output
    assert "the 'close-up' view shown beside the proof" in result.output
    assert "was modified on disk" in result.output
    evidence = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    assert evidence["revisions"][0]["shown_alongside"][0]["image_verified"] is False
    assert evidence["revisions"][0]["image_verified"] is True
    # Deleted: reported as missing.
    _stored(app, view["image_sha256"]).unlink()
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 1 and "is missing" in result.output


def test_a_one_view_product_logs_no_views_and_its_evidence_is_as_before(app, staff, runner):
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db)  # the bar necklace: one view
        [event] = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "image_rendered"]
        assert "views" not in event["data"]
        assert render_jobs.view_images(db, proof_id, 1) == []
    evidence = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    assert "shown_alongside" not in evidence["revisions"][0]
    page = staff.get(f"/approve/{link_for_app(app, proof_id)}").get_data(as_text=True)
    assert 'class="other-views"' not in page
    assert runner.invoke(args=["verify-records"]).exit_code == 0


def link_for_app(app, proof_id: int) -> str:
    with app.app_context():
        return link_for(get_db(), proof_id)
