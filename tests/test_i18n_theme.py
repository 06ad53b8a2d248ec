"""The shopper's language (which one, dates in it, the disclosure in it, the record of it) and the
shop's look (settings to CSS, a refused setting, the logo inline in the emails)."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest
from PIL import Image

from proofmark import ConfigurationError, mail
from tests.proofs_support import new_proof
from tests.support import make_app


def _lang(client, url, **headers) -> str:
    page = client.get(url, headers=headers).get_data(as_text=True)
    return re.search(r'<html lang="(\w+)"', page).group(1)


def test_the_language_comes_from_the_shop_then_the_embed_then_the_browser(app, tmp_path):
    client = app.test_client()
    assert _lang(client, "/p/mug") == "en"
    assert _lang(client, "/p/mug", **{"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}) == "nl"
    assert _lang(client, "/p/mug?lang=fr", **{"Accept-Language": "nl"}) == "fr"
    assert _lang(client, "/p/mug?lang=xx", **{"Accept-Language": "es"}) == "es"  # unknown: ignored
    fixed = make_app(tmp_path / "fixed", SHOP_LANGUAGE="de").test_client()
    assert _lang(fixed, "/p/mug?lang=fr", **{"Accept-Language": "nl"}) == "de"
    # Staff pages: the shop's language, whatever the browser says.
    assert _lang(client, "/staff/login", **{"Accept-Language": "fr"}) == "en"


def test_dates_and_the_disclosure_in_the_language_and_recorded(app):
    client = app.test_client()
    page = client.get("/p/pendant-round/confirm?lang=de&line-1=Anna&line-2=12.06.2021").get_data(as_text=True)
    assert "Samstag, 12. Juni 2021" in page and "Montag, 6. Dezember 2021" in page
    assert 'lang="de">Dieser Artikel wird nach Ihren Vorgaben angefertigt' in page
    assert "§ 312g Abs. 2 Nr. 1 BGB" in page
    sha = re.search(r'name="disclosure_sha256" value="(\w+)"', page).group(1)
    key = re.search(r'name="preview_key" value="([^"]+)"', page).group(1)
    confirmed = client.post(
        "/p/pendant-round/confirm?lang=de",
        data={
            "line-1": "Anna",
            "line-2": "12.06.2021",
            "font": "dancing-script",
            "align": "center",
            "checked": "yes",
            "disclosure_sha256": sha,
            "preview_key": key,
            "date-line-2-0": "day-month-year",
        },
    )
    body = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200, body
    token = re.search(r'name="design_token" value="([^"]+)"', body).group(1)
    verified = client.post("/design/verify", json={"token": token}).get_json()
    assert verified["options"]["language"] == "de"
    assert verified["options"]["disclosure_language"] == "de"
    assert verified["options"]["disclosure_version"] == app.config["DISCLOSURES"]["de"]["version"]
    # French: "3 avril 2025" style, without the weekday when no year was typed.
    fr = client.get("/p/pendant-round/confirm?lang=fr&line-1=3/4").get_data(as_text=True)
    assert "3 avril" in fr and "4 mars" in fr


def test_a_changed_disclosure_in_one_language_is_caught_at_confirmation(app):
    client = app.test_client()
    page = client.get("/p/mug/confirm?lang=es&line-1=Ana").get_data(as_text=True)
    sha = re.search(r'name="disclosure_sha256" value="(\w+)"', page).group(1)
    app.config["DISCLOSURES"] = {**app.config["DISCLOSURES"], "es": {"version": "2", "text": "Otro texto."}}
    response = client.post(
        "/p/mug/confirm?lang=es", data={"line-1": "Ana", "checked": "yes", "disclosure_sha256": sha}
    )
    assert response.status_code == 422
    assert "El aviso sobre devoluciones cambió" in response.get_data(as_text=True)


def test_shop_theme_sets_the_css_and_a_bad_value_stops_start_up(tmp_path):
    app = make_app(tmp_path / "a", SHOP_THEME={"accent": "#0b6e4f", "font": "Georgia, serif"})
    page = app.test_client().get("/p/mug").get_data(as_text=True)
    assert "<style>:root { --accent: #0b6e4f; --chrome-font: Georgia, serif; }</style>" in page
    with pytest.raises(ConfigurationError, match="not a plain CSS value"):
        make_app(tmp_path / "b", SHOP_THEME={"accent": "red; } body { display: none"})
    with pytest.raises(ConfigurationError, match="no setting"):
        make_app(tmp_path / "c", SHOP_THEME={"colour": "red"})


def test_emails_carry_the_logo_inline_and_the_shop_colours(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    logo = io.BytesIO()
    Image.new("RGB", (200, 50), (11, 110, 79)).save(logo, "PNG")
    (instance / "logo.png").write_bytes(logo.getvalue())
    app = make_app(instance, SHOP_THEME={"accent": "#0b6e4f", "logo": "logo.png"})
    served = app.test_client().get("/shop-logo")
    assert served.data == logo.getvalue() and served.mimetype == "image/png"
    served.close()
    from proofmark.db import get_db

    with app.app_context():
        db = get_db()
        proof_id = new_proof(db)
        raw = mail.message_bytes(
            db.execute("SELECT * FROM outbox WHERE proof_id = ?", (proof_id,)).fetchone()
        )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    cid = re.search(r'src="cid:(shop-logo-[^"]+)"', html).group(1)
    parts = {part.get("Content-ID"): part for part in message.walk()}
    assert parts[f"<{cid}>"].get_content() == logo.getvalue()
    assert "background:#0b6e4f" in html


def test_templates_translate_in_the_locale_of_the_moment_within_one_request(app):
    """The templates' _() looks the translations up once per request and locale
    (proofmark.i18n._translations): a locale forced for an email, and the page's own after it,
    are each still used."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/p/mug?lang=de"):
        assert render_template_string("{{ _('Order') }}") == "Bestellung"
        with force_locale("fr"):
            assert render_template_string("{{ _('Order') }}") == "Commande"
        assert render_template_string("{{ _('Order') }} {{ _('Order') }}") == "Bestellung Bestellung"
    with app.test_request_context("/p/mug?lang=fr"):
        assert render_template_string("{{ _('Order') }}") == "Commande"
