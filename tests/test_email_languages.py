"""Customer emails in the language the design was confirmed in: the proof email and the approval
confirmation (with its receipt) in de, fr, es and nl carry no English sentence of the email
templates in subject, text or HTML part, write their dates out in that language, and record the
language in the `email_queued` event. Built outside any request, as the CLI and worker do."""

from __future__ import annotations

import email
import email.policy
import html as htmllib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po

from proofmark import mail, proofs
from tests.proofs_support import T0, all_statements, design, make_app

SITE = Path(__file__).resolve().parent.parent / "site"
# The date typed in the design ("3/4/2025"), read day first, as each language writes it.
THIRD_OF_APRIL = {
    "en": "Thursday 3 April 2025",
    "de": "Donnerstag, 3. April 2025",
    "fr": "jeudi 3 avril 2025",
    "es": "jueves, 3 de abril de 2025",
    "nl": "donderdag 3 april 2025",
}
EXPECTED = {
    "de": ("Bitte geben Sie Ihren Abzug für die Bestellung", "Ihre Freigabequittung"),
    "fr": ("Merci d’approuver votre épreuve pour la commande", "Votre reçu d’approbation"),
    "es": ("Por favor, apruebe su prueba del pedido", "Su justificante de aprobación"),
    "nl": ("Keur uw proef voor bestelling", "Uw goedkeuringsbewijs"),
}


def email_msgids() -> list[str]:
    """The English messages of the email templates and subjects (what must not show)."""
    ids = []
    for path in sorted((SITE / "templates" / "email").iterdir()):
        ids += re.findall(r"""_\(\s*"((?:[^"\\]|\\.)*)"|_\(\s*'((?:[^'\\]|\\.)*)'""", path.read_text())
    ids = [a or b for a, b in ids]
    ids += re.findall(r'gettext\(\s*"([^"]+)"', (SITE / "proofs" / "emails.py").read_text())
    assert len(ids) > 40
    return sorted(set(ids))


def english_left(text: str, lang: str) -> list[str]:
    """English pieces of the email messages found in `text` (a piece that the translation
    shares, such as French "version", is not English left over)."""
    with (SITE / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    left = []
    for msgid in email_msgids():
        translated = catalog[msgid].string if catalog.get(msgid) else ""
        assert translated, f"{lang}: no translation for {msgid!r}"
        for piece in re.split(r"%\(\w+\)[sd]", msgid):
            piece = piece.strip(" .,:;“”()=")
            if piece in translated:
                continue
            if (
                len(piece) >= 12
                and piece in text
                or 4 <= len(piece) < 12
                and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text)
            ):
                left.append(piece)
    return left


def outbox(db, proof_id: int, kind: str):
    raw = mail.message_bytes(
        db.execute(
            "SELECT * FROM outbox WHERE proof_id = ? AND kind = ? ORDER BY id DESC", (proof_id, kind)
        ).fetchone()
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    shown = htmllib.unescape(re.sub(r"<[^>]+>", " ", html))
    alt = " ".join(htmllib.unescape(a) for a in re.findall(r'alt="([^"]*)"', html))
    return str(message["Subject"]), text, html, shown + " " + alt


def queued_language(db, proof_id: int, kind: str) -> str:
    events = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "email_queued"]
    return [e["data"]["language"] for e in events if e["data"]["kind"] == kind][-1]


def proof_confirmed_in(db, lang: str | None) -> int:
    from proofmark.tokens import sign_design, verify_design

    d = design("Grace 3/4/2025")
    options = {"date_readings": {}, **({"language": lang} if lang else {})}
    token = verify_design(sign_design(d, d.content_key(1200, "jpeg"), options))
    return proofs.create_proof(
        db,
        order_ref=f"SHOP-{lang}",
        customer_name="Grace Hopper",
        customer_email="grace@example.com",
        design=d,
        source="shop",
        actor="shop",
        design_token=token,
        now=T0,
    )


def approve(app, db, proof_id: int, now):
    proof = proofs.get_proof(db, proof_id)
    return proofs.approve(
        db,
        proof_id,
        revision=proof.revision.number,
        nonce=proof.revision.nonce,
        statements_ticked=all_statements(app),
        now=now,
    )


@pytest.fixture(scope="module")
def lapp(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("email-languages"))


@pytest.mark.parametrize("lang", ["de", "fr", "es", "nl"])
def test_proof_and_approval_emails_in_the_confirmed_language(lapp, lang):
    from proofmark.db import get_db

    with lapp.app_context():  # no request: as the CLI and the worker build emails
        db = get_db()
        proof_id = proof_confirmed_in(db, lang)
        subject, text, html, shown = outbox(db, proof_id, "proof")
        assert subject.startswith(EXPECTED[lang][0]), subject
        assert f'<html lang="{lang}">' in html
        for part, where in ((subject, "subject"), (text, "text part"), (shown, "HTML part")):
            assert not english_left(part, lang), (
                f"English left in the {lang} proof email's {where}: {english_left(part, lang)}"
            )
        expires = format_date(
            (T0 + timedelta(days=lapp.config["APPROVAL_LINK_MAX_AGE_DAYS"])).date(),
            format="full",
            locale=lang,
        )
        assert expires in text and expires in shown, expires
        assert THIRD_OF_APRIL[lang] in text and THIRD_OF_APRIL[lang] in shown
        assert queued_language(db, proof_id, "proof") == lang

        decided = T0 + timedelta(hours=5)
        assert approve(lapp, db, proof_id, decided).status == "approved"
        subject, text, html, shown = outbox(db, proof_id, "approved")
        receipt_heading = EXPECTED[lang][1]
        assert receipt_heading in text and receipt_heading in shown
        for part, where in ((subject, "subject"), (text, "text part"), (shown, "HTML part")):
            assert not english_left(part, lang), (
                f"English left in the {lang} approval email's {where}: {english_left(part, lang)}"
            )
        assert format_date(decided.date(), format="full", locale=lang) in text
        assert format_date(decided.date(), format="full", locale=lang) in shown
        assert queued_language(db, proof_id, "approved") == lang


def test_english_emails_are_unchanged_and_the_shop_language_is_the_fallback(lapp, tmp_path):
    from proofmark.db import get_db

    with lapp.app_context():
        db = get_db()
        proof_id = proof_confirmed_in(db, None)
        subject, text, html, shown = outbox(db, proof_id, "proof")
        assert subject.startswith("Please approve your proof for order SHOP-None")
        assert "Thank you for your order SHOP-None. Before we make it" in text
        assert "The link works until " in text and '<html lang="en">' in html
        assert THIRD_OF_APRIL["en"] in text and THIRD_OF_APRIL["en"] in shown
        assert queued_language(db, proof_id, "proof") == "en"
        approve(lapp, db, proof_id, T0 + timedelta(hours=1))
        subject, text, html, shown = outbox(db, proof_id, "approved")
        assert "Your approval receipt" in text and "Position in the shop's log:" in shown
        assert T0.strftime("%A") in text  # written out as English has always written it
        assert queued_language(db, proof_id, "approved") == "en"

    dutch_shop = make_app(tmp_path / "nl", SHOP_LANGUAGE="nl")
    with dutch_shop.app_context():
        db = get_db()
        proof_id = proof_confirmed_in(db, None)
        subject, text, html, shown = outbox(db, proof_id, "proof")
        assert subject.startswith("Keur uw proef voor bestelling"), subject
        assert queued_language(db, proof_id, "proof") == "nl"


# The bar necklace of the test design, as each language names it (the built-in catalog).
BAR_NECKLACE = {"de": "Stabkette", "fr": "Collier barrette", "es": "Collar de barra", "nl": "Bar-ketting"}
# "Approved on" and the zone name, as each language writes them (Babel's CLDR data).
APPROVED_ON = {
    "de": "Freigegeben am: ",
    "fr": "Approuvée le : ",
    "es": "Aprobada el: ",
    "nl": "Goedgekeurd op: ",
}


@pytest.mark.parametrize("lang", ["de", "fr", "es", "nl"])
def test_the_receipt_writes_the_approval_time_out_in_the_shop_time_zone_and_keeps_utc(tmp_path, lang):
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from proofmark.db import get_db

    berlin = ZoneInfo("Europe/Berlin")
    app = make_app(tmp_path / lang, SHOP_TIMEZONE="Europe/Berlin")
    with app.app_context():
        db = get_db()
        proof_id = proof_confirmed_in(db, lang)
        decided = T0 + timedelta(hours=5)
        approve(app, db, proof_id, decided)
        subject, text, html, shown = outbox(db, proof_id, "approved")
        stored = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "approved"][-1]["at"]
    local = decided.astimezone(berlin)
    day = format_date(local.date(), format="full", locale=lang)
    clock = format_datetime(decided, "HH:mm", tzinfo=berlin, locale=lang)
    zone = format_datetime(decided, "zzzz", tzinfo=berlin, locale=lang)
    assert zone and zone != "UTC" and clock != decided.strftime("%H:%M")  # a real shift, named
    for part in (text, shown):
        line = next(x for x in part.splitlines() if APPROVED_ON[lang] in x)
        assert day in line and clock in line and f"({zone})" in line, line
        # The record's own value stays as stored, in UTC, for checking the receipt later.
        assert f"(UTC): {stored}" in part or f"(UTC) : {stored}" in part
        assert BAR_NECKLACE[lang] in part
        assert not english_left(part, lang), english_left(part, lang)
    assert stored.startswith(decided.strftime("%Y-%m-%dT%H:%M"))
