"""Photos of the received item on a return claim: only real raster images within limits,
turned upright, stripped of metadata, stored by content hash, shown beside the approved
proof and included in the evidence pack."""

from __future__ import annotations

import hashlib
import io
import json
import zlib

import pytest
from PIL import Image
from pypdf import PdfReader

from proofmark import claim_photos, proofs
from proofmark.db import get_db
from tests.proofs_support import all_statements, new_proof


def jpeg_with_exif(width=60, height=30, orientation=6) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90° clockwise to view", with a GPS tag."""
    image = Image.new("RGB", (width, height), "red")
    image.paste(Image.new("RGB", (width // 2, height), "blue"), (0, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (52.0, 31.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bomb(side: int = 20_000) -> bytes:
    """A tiny PNG that claims to be side×side pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_photo_is_turned_upright_and_stripped_of_metadata():
    upload = jpeg_with_exif()
    photo = claim_photos.clean(upload, max_bytes=10**7, max_pixels=10**7)
    image = Image.open(io.BytesIO(photo.data))
    assert (photo.width, photo.height) == image.size == (30, 60)  # portrait, as the phone held it
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert photo.original_sha256 == hashlib.sha256(upload).hexdigest() and photo.original_format == "JPEG"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"", "empty"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a JPEG, PNG or WebP"),
        (b"%PDF-1.7\n", "not a JPEG, PNG or WebP"),
        (jpeg_with_exif()[:200], "could not be read"),
        (png_bomb(), "megapixels"),
        (png_bomb(5000), "5000×5000 pixels"),
        (b"x" * 2000, "MB"),
    ],
)
def test_what_is_not_a_real_photo_within_limits_is_refused(upload, message):
    with pytest.raises(claim_photos.PhotoError, match=message):
        claim_photos.clean(upload, max_bytes=1000 if upload == b"x" * 2000 else 10**7, max_pixels=10**7)


def test_a_gif_animation_is_refused():
    frames = [Image.new("RGB", (10, 10), c) for c in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(claim_photos.PhotoError, match="not a JPEG, PNG or WebP"):
        claim_photos.clean(out.getvalue(), max_bytes=10**7, max_pixels=10**7)


def test_photos_on_a_claim_beside_the_approved_proof_and_in_the_evidence(app, staff):
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db)
        proof = proofs.get_proof(db, proof_id)
        proofs.approve(
            db, proof_id, revision=1, nonce=proof.revision.nonce, statements_ticked=all_statements(app)
        )
    form = {"kind": "text", "description": "Says it should be Ada Byron", "expected_text": "Ada Byron"}
    assert (
        staff.post(f"/staff/proofs/{proof_id}/claims/new", data={**form, "action": "record"}).status_code
        == 302
    )
    with app.app_context():
        claim_id = get_db().execute("SELECT id FROM claims").fetchone()[0]
    url = f"/staff/proofs/{proof_id}/claims/{claim_id}/photos"

    refused = staff.post(
        url,
        data={"photos": [(io.BytesIO(jpeg_with_exif()), "ok.jpg"), (io.BytesIO(b"<svg/>"), "drawing.svg")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "“drawing.svg” is not a JPEG, PNG or WebP" in refused.get_data(as_text=True)
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM claim_photos").fetchone()[0] == 0  # all or nothing

    response = staff.post(
        url,
        data={"photos": [(io.BytesIO(jpeg_with_exif()), "IMG_0042.JPG")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context():
        db = get_db()
        [row] = [dict(r) for r in db.execute("SELECT * FROM claim_photos")]
        [event] = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "claim_photo_added"]
        assert event["data"]["sha256"] == row["sha256"]
    stored = staff.get(f"/staff/claim-photos/{row['sha256']}.jpg")
    assert stored.status_code == 200 and hashlib.sha256(stored.data).hexdigest() == row["sha256"]
    assert staff.get(f"/staff/claim-photos/{'0' * 64}.jpg").status_code == 404

    page = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    claim_html = page[page.index(f'id="claim-{claim_id}"') :]
    assert claim_html.index("Approved proof (revision 1)") < claim_html.index(
        f"/staff/claim-photos/{row['sha256']}.jpg"
    )

    facts = json.loads(staff.get(f"/staff/proofs/{proof_id}/evidence.json").data)
    [claim] = facts["claims"]
    assert [p["sha256"] for p in claim["photos"]] == [row["sha256"]]
    pdf = PdfReader(io.BytesIO(staff.get(f"/staff/proofs/{proof_id}/evidence.pdf").data))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert row["sha256"][:20] in text.replace("\n", "")
    images = sum(len(page.images) for page in pdf.pages)
    assert images >= 2  # the approved proof and the photo
