"""The message written by hand (mail._build_by_hand, the common case of build_message) reads
back with the stdlib's parser exactly as the email package's own build of it does: headers,
parts, inline images by Content-ID, non-ASCII names and subjects; and what is queued and sent is
the bytes whose SHA-256 the `email_queued` event holds."""

from __future__ import annotations

import email
import hashlib
from email.policy import default as default_policy

import pytest

from proofmark import mail
from proofmark.db import get_db
from tests.proofs_support import T0, make_app, new_proof

JPEG = bytes(range(256)) * 300 + b"end"
IMAGES = (
    mail.InlineImage(cid="proof-image-1-1@proofmark", data=JPEG, subtype="jpeg", filename="proof.jpg"),
    mail.InlineImage(
        cid="shop-logo-1-1@proofmark", data=b"\x89PNG" + bytes(300), subtype="png", filename="logo.png"
    ),
)
CASES = [
    ("Ada", "ada@example.com", "Approved", "Hi\n", "<p>Hi</p>\n"),
    (
        "Zoë Ünal",
        "zoe@example.com",
        "Bestätigt: Ihr Korrekturabzug für Bestellung 123 · Shop",
        "Hallo Zoë\nline two\n",
        "<p>Hallo Zoë</p>\n",
    ),
    ("A" * 70 + " x, Eve <eve@attacker.example>", "ada@example.com", "Your proof", "t", "<p>t</p>"),
    (
        'Ada "the" \\ Lovelace',
        "a.b+c@ex-ample.co.uk",
        "  spaced  subject ",
        "long " * 40 + "\n\ttab",
        "<p>" + "é" * 200,
    ),
    ("山田 太郎", "taro@example.jp", "ご注文 " * 30, "x\x00y\n", "=?utf-8?q?x?= " * 20),
    ("Ünïcödé, Eve <eve@x.example>", "u@example.com", "=?utf-8?q?fake?=", "a\r\nb\rc\n", "<p>\u2028</p>"),
]


def _parts(message):
    return [
        (p.get_content_type(), p.get("Content-ID"), None if p.is_multipart() else p.get_content())
        for p in message.walk()
    ]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("images", [(), IMAGES], ids=["no-images", "images"])
def test_the_hand_written_message_reads_back_as_the_email_packages(app, case, images):
    name, addr, subject, text, html = case
    with app.app_context():
        sender = app.config["MAIL_FROM"]
        fast = mail._build_by_hand(name, addr, subject, text, html, images, sender, T0)
        slow = mail._build_with_email_package(name, addr, subject, text, html, images, sender, T0)
        assert mail.build_message(
            to_name=name, to_addr=addr, subject=subject, text=text, html=html
        ).data.startswith(b"From: ")
    assert fast is not None
    ours = email.message_from_bytes(fast.data, policy=default_policy)
    theirs = email.message_from_bytes(slow.data, policy=default_policy)
    # The subject exactly as given (the package drops leading spaces and decodes a typed "=?").
    assert str(ours["Subject"]) == subject
    assert str(ours["From"]) == str(theirs["From"])
    assert [(a.display_name, a.addr_spec) for a in ours["To"].addresses] == [(name, addr)]
    assert ours["Message-ID"] == fast.message_id and ours["Date"].datetime == T0
    assert ours["MIME-Version"] == "1.0" and ours["Auto-Submitted"] == "auto-generated"
    assert _parts(ours) == _parts(theirs)
    assert all(not part.defects for part in ours.walk())
    found = {p["Content-ID"]: p.get_content() for p in ours.walk() if p.get_content_maintype() == "image"}
    assert found == {f"<{i.cid}>": i.data for i in images}
    lines = fast.data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998 and b"\n" not in fast.data.replace(b"\r\n", b"")
    assert b"\x00" not in fast.data
    head = fast.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    # The stored form rebuilds to the same bytes.
    by_sha = {hashlib.sha256(i.data).hexdigest(): i.data for i in images}
    assert mail.join_images(fast.skeleton, fast.parts, lambda sha, suffix: by_sha[sha]) == fast.data
    assert mail.split_images(fast.data, images) == (fast.skeleton, [list(p) for p in fast.parts])


def test_what_the_email_package_is_left_for(app):
    with app.app_context():
        sender = app.config["MAIL_FROM"]
        # A non-ASCII address, a control character in a name: not written by hand.
        assert mail._build_by_hand("Ada", "adä@example.com", "s", "t", "h", (), sender, T0) is None
        assert mail._build_by_hand("Ada\x07", "ada@example.com", "s", "t", "h", (), sender, T0) is None
        assert mail._build_by_hand("Ada", "ada@example.com", "s" * 2000, "t", "h", (), sender, T0) is None


def test_the_confirmation_sent_is_the_bytes_whose_hash_is_recorded(tmp_path):
    from proofmark import proofs
    from tests.proofs_support import all_statements

    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0, customer_name="Zoë Ünal")
        rev = proofs.get_proof(db, proof_id).revision
        proofs.approve(
            db, proof_id, revision=rev.number, nonce=rev.nonce, statements_ticked=all_statements(app), now=T0
        )
        mail.send_due(db, now=T0)
        events = {
            e["data"]["outbox_id"]: e["data"]
            for e in proofs.get_events(db, proof_id)
            if e["kind"] == "email_queued"
        }
        rows = db.execute(
            "SELECT id, kind FROM outbox WHERE proof_id = ? ORDER BY id", (proof_id,)
        ).fetchall()
    outbox = tmp_path / "instance" / app.config["OUTBOX_DIR"]
    assert [r["kind"] for r in rows] == ["proof", "approved"]
    for row in rows:
        sent = (outbox / f"{row['id']:06d}-{row['kind']}.eml").read_bytes()
        assert hashlib.sha256(sent).hexdigest() == events[row["id"]]["message_sha256"]
        parsed = email.message_from_bytes(sent, policy=default_policy)
        assert parsed["To"].addresses[0].display_name == "Zoë Ünal"
        cids = [p["Content-ID"] for p in parsed.walk() if p.get_content_maintype() == "image"]
        html = parsed.get_body(("html",)).get_content()
        assert cids and all(f"cid:{c.strip('<>')}" in html for c in cids)


def test_base64_bodies_are_lines_of_76_characters_with_crlf_at_every_size():
    """base64_body (whole lines written as one array) gives what the standard library writes
    (76-character lines, the last one shorter, each ending in CRLF), at every length around
    the edges of a line and of the array path."""
    import base64
    import os

    sizes = [*range(0, 60 * 57, 7), 8 * 57 - 1, 8 * 57, 8 * 57 + 1, 80_000, 80_001, 80_002]
    for size in sizes:
        data = os.urandom(size)
        mail._BODIES.clear()
        assert mail.base64_body(data) == base64.encodebytes(data).replace(b"\n", b"\r\n"), size
