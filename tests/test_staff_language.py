"""Staff pages are in the shop's language (SHOP_LANGUAGE, else English), never the browser's:
the page text, flash messages, form errors, dates and numbers."""

from __future__ import annotations

import re

import pytest

from proofmark.db import get_db
from tests.proofs_support import new_proof
from tests.support import make_app

FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def staff_app(tmp_path):
    """The `staff` fixture signs in to this app: a shop that works in German."""
    return make_app(tmp_path / "de", SHOP_LANGUAGE="de")


def _lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)"', page).group(1)


def test_the_staff_locale_is_the_shop_language_not_the_browser(app, tmp_path):
    from flask_babel import get_locale

    # No SHOP_LANGUAGE: English, whatever the browser asks for.
    page = app.test_client().get("/staff/login", headers=FRENCH_BROWSER).get_data(as_text=True)
    assert _lang(page) == "en" and "Staff sign-in" in page and "Connexion" not in page
    with app.test_request_context("/staff/proofs", headers=FRENCH_BROWSER):
        assert str(get_locale()) == "en"
    # The same browser on a shopper's page gets French: only the staff pages ignore it.
    assert _lang(app.test_client().get("/p/mug", headers=FRENCH_BROWSER).get_data(as_text=True)) == "fr"

    for lang, words in (("de", "Anmeldung für das Team"), ("nl", "Inloggen voor medewerkers")):
        shop = make_app(tmp_path / lang, SHOP_LANGUAGE=lang)
        page = shop.test_client().get("/staff/login?lang=es", headers=FRENCH_BROWSER).get_data(as_text=True)
        assert _lang(page) == lang and words in page and "Staff sign-in" not in page
        with shop.test_request_context("/staff/proofs?lang=es", headers=FRENCH_BROWSER):
            assert str(get_locale()) == lang


def test_staff_text_flashes_errors_and_dates_in_the_shop_language(staff_app, staff):
    with staff_app.app_context():
        proof_id = new_proof(get_db())
    staff.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"

    page = staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert _lang(page) == "de"
    assert "Bestellung ORD-1001" in page and "Wartet auf Freigabe" in page
    assert "Freigabelink erneut senden" in page and "Resend approval link" not in page
    # The timeline's event labels and the creation time, written out in German ("Mo., 30. Nov. 2026").
    assert "Korrekturabzug erstellt" in page and "Proof created" not in page
    assert re.search(r"\w\w\., \d{1,2}\. \w+\.? 20\d\d, \d\d:\d\d", page), page

    # A flash message and a refused form, in German.
    done = staff.post(
        f"/staff/proofs/{proof_id}/notes", data={"note": "Ruft morgen an."}, follow_redirects=True
    )
    assert "Notiz zum Datensatz hinzugefügt." in done.get_data(as_text=True)
    refused = staff.post(f"/staff/proofs/{proof_id}/cancel", data={"reason": ""}, follow_redirects=True)
    assert "Geben Sie an, warum der Korrekturabzug storniert wird" in refused.get_data(as_text=True)
    search = staff.get("/staff/proofs?date_from=gestern").get_data(as_text=True)
    assert "Das Von-Datum &#39;gestern&#39; ist kein Datum" in search
    claim = staff.post(f"/staff/proofs/{proof_id}/claims/new", data={"kind": "text", "description": ""})
    assert claim.status_code == 400
    assert "Schreiben Sie auf, was laut Kunde falsch ist." in claim.get_data(as_text=True)

    # Numbers: the result count and the insights' percentages in German ("1 Korrekturabzug", "0,0 %").
    results = staff.get("/staff/proofs").get_data(as_text=True)
    assert "1 Korrekturabzug" in results
    insights = staff.get("/staff/insights").get_data(as_text=True)
    assert "0,0\xa0%" in insights and "mit Änderungswunsch" in insights
