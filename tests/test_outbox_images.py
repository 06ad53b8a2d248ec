"""The outbox stores each inline image once, by hash (issue 16): a row keeps the message
without its image bodies, the image is a file in the content-addressed store, and the exact
message (the bytes whose SHA-256 the `email_queued` event holds) is rebuilt to send it, to
show it and to verify it. Rows queued before migration 0080 are split when the app starts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from proofmark import mail, proofs
from proofmark.db import get_db, transaction
from tests.proofs_support import T0, all_statements, count, later, make_app, new_proof


def _queued(db, outbox_id: int) -> dict:
    for (data,) in db.execute("SELECT data FROM events WHERE kind = 'email_queued'"):
        data = json.loads(data)
        if data["outbox_id"] == outbox_id:
            return data
    raise AssertionError(f"no email_queued event for outbox row {outbox_id}")


def _store(app) -> Path:
    return Path(app.instance_path) / app.config["IMAGE_DIR"]


def test_the_outbox_row_keeps_the_message_without_its_image_and_rebuilds_it_exactly(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        proofs.resend_link(db, proof_id, actor="staff:owner@shop.test", now=later(seconds=5))
        rows = db.execute("SELECT * FROM outbox WHERE proof_id = ? ORDER BY id", (proof_id,)).fetchall()
        assert [r["kind"] for r in rows] == ["proof", "resent"]
        shas = set()
        for row in rows:
            parts = json.loads(row["message_images"])
            assert len(parts) == 1 and parts[0][2] == ".jpg"
            shas.add(parts[0][1])
            whole = mail.message_bytes(row)
            # The logged hash is the hash of the whole message, image included.
            assert hashlib.sha256(whole).hexdigest() == _queued(db, row["id"])["message_sha256"]
            assert len(row["message"]) < 20_000 < len(whole)
            assert b"Content-Type: image/jpeg" in row["message"]
        # Both emails show the same picture: one stored file.
        (sha,) = shas
        files = list(_store(app).glob(f"*/{sha}.jpg"))
        assert len(files) == 1 and hashlib.sha256(files[0].read_bytes()).hexdigest() == sha

        # The file backend writes the rebuilt message: the bytes the event binds.
        report = mail.send_due(db, now=later(seconds=10))
        assert (report.claimed, report.sent) == (2, 2)
        sent = sorted((Path(app.instance_path) / app.config["OUTBOX_DIR"]).glob("*.eml"))
        logged = {_queued(db, row["id"])["message_sha256"] for row in rows}
        assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in sent} == logged


def test_a_message_whose_image_is_missing_or_modified_is_not_sent(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        row = db.execute("SELECT * FROM outbox WHERE proof_id = ?", (proof_id,)).fetchone()
        ((_, sha, suffix),) = json.loads(row["message_images"])
        path = _store(app) / sha[:2] / f"{sha}{suffix}"
        original = path.read_bytes()
        path.write_bytes(original[:-10])
        report = mail.send_due(db, now=later(seconds=1))
        assert (report.claimed, report.sent, report.retrying) == (1, 0, 1)
        assert "was modified in the image store" in report.errors[0]
        path.unlink()
        report = mail.send_due(db, now=later(hours=1))
        assert (report.claimed, report.sent) == (1, 0) and "is missing from the image store" in report.errors[
            0
        ]
        assert not list((Path(app.instance_path) / app.config["OUTBOX_DIR"]).glob("*.eml"))
        # Restored, it goes out as it was queued.
        path.write_bytes(original)
        report = mail.send_due(db, now=later(hours=2))
        assert report.sent == 1
        (sent,) = (Path(app.instance_path) / app.config["OUTBOX_DIR"]).glob("*.eml")
        assert hashlib.sha256(sent.read_bytes()).hexdigest() == _queued(db, row["id"])["message_sha256"]


def test_rows_queued_before_migration_0080_are_split_at_start_and_still_verify(tmp_path):
    """A row as the old code wrote it (the whole message, message_images NULL) and its image
    not yet in the store: the next start stores the image once and splits the row."""
    folder = tmp_path / "instance"
    app = make_app(folder, MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        proofs.approve(
            db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app), now=T0
        )
        rows = db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
        assert len(rows) == 2
        whole = {r["id"]: mail.message_bytes(r) for r in rows}
        with transaction(db):
            for outbox_id, data in whole.items():
                db.execute(
                    "UPDATE outbox SET message = ?, message_images = NULL WHERE id = ?", (data, outbox_id)
                )
    for image in _store(app).glob("*/*.jpg"):
        image.unlink()
    # Old-style rows are valid as they are.
    result = app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output

    again = make_app(folder, MAIL_SEND_AFTER_REQUEST="off")
    with again.app_context():
        db = get_db()
        assert count(db, "outbox", "message_images IS NULL") == 0
        rows = db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
        shas = set()
        for row in rows:
            parts = json.loads(row["message_images"])
            assert len(parts) == 1 and len(row["message"]) < 20_000
            shas.add(parts[0][1])
            assert mail.message_bytes(row) == whole[row["id"]]
        assert len(shas) == 1 and len(list(_store(again).glob("*/*.jpg"))) == 1
    result = again.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    # Starting once more changes nothing.
    third = make_app(folder, MAIL_SEND_AFTER_REQUEST="off")
    with third.app_context():
        assert [mail.message_bytes(r) for r in get_db().execute("SELECT * FROM outbox ORDER BY id")] == [
            whole[r["id"]] for r in rows
        ]


def test_an_old_row_whose_image_name_holds_other_bytes_stays_whole(tmp_path):
    """Splitting never trusts a file it did not just check: if the store's file under that
    name does not hold the image, the row keeps its whole message."""
    folder = tmp_path / "instance"
    app = make_app(folder, MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        new_proof(db, now=T0)
        row = db.execute("SELECT * FROM outbox").fetchone()
        data = mail.message_bytes(row)
        with transaction(db):
            db.execute("UPDATE outbox SET message = ?, message_images = NULL WHERE id = ?", (data, row["id"]))
    ((_, sha, suffix),) = json.loads(row["message_images"])
    (_store(app) / sha[:2] / f"{sha}{suffix}").write_bytes(b"not the image")
    again = make_app(folder, MAIL_SEND_AFTER_REQUEST="off")
    with again.app_context():
        row = get_db().execute("SELECT * FROM outbox").fetchone()
        assert row["message_images"] == "[]" and row["message"] == data


def test_split_and_join_round_trip_and_leave_unfound_images_in_place():
    image = mail.InlineImage(cid="x@y", data=bytes(range(256)) * 40, subtype="jpeg", filename="p.jpg")
    body = mail.base64_body(image.data)
    data = b"head\r\n\r\n" + body + b"--tail\r\n"
    skeleton, parts = mail.split_images(data, (image,))
    assert skeleton == b"head\r\n\r\n--tail\r\n" and parts == [
        [8, hashlib.sha256(image.data).hexdigest(), ".jpg"]
    ]
    assert mail.join_images(skeleton, parts, lambda sha, suffix: image.data) == data
    # Not in the message (or there twice): nothing is taken out.
    assert mail.split_images(b"no image here", (image,)) == (b"no image here", [])
    assert mail.split_images(data + body, (image,)) == (data + body, [])


def test_a_built_message_is_what_the_email_package_reads_back_with_its_images(app):
    """build_message writes a stand-in for each image body and puts the image's base64 in its
    place: the result parses back to the same images, and splitting it the way the migration
    does gives the same stored form."""
    import email
    from email.policy import default as default_policy

    jpeg = bytes(range(256)) * 300 + b"end"
    logo = b"\x89PNG" + bytes(1000)
    images = (
        mail.InlineImage(cid="proof-image-1-1@proofmark", data=jpeg, subtype="jpeg", filename="proof.jpg"),
        mail.InlineImage(cid="shop-logo-1-1@proofmark", data=logo, subtype="png", filename="logo.png"),
    )
    with app.app_context():
        built = mail.build_message(
            to_name="Ada Lovelace",
            to_addr="ada@example.com",
            subject="Proof",
            text="Hi\n",
            html="<p>Hi</p>\n",
            images=images,
        )
    parsed = email.message_from_bytes(built.data, policy=default_policy)
    found = {p["Content-ID"]: p.get_content() for p in parsed.walk() if p.get_content_maintype() == "image"}
    assert found == {"<proof-image-1-1@proofmark>": jpeg, "<shop-logo-1-1@proofmark>": logo}
    assert parsed.get_body(("plain",)).get_content().strip() == "Hi"
    skeleton, parts = mail.split_images(built.data, images)
    assert (skeleton, [tuple(p) for p in parts]) == (built.skeleton, list(built.parts))
    by_sha = {hashlib.sha256(i.data).hexdigest(): i.data for i in images}
    assert mail.join_images(skeleton, parts, lambda sha, suffix: by_sha[sha]) == built.data
