"""The demo shop's pages, the error pages and the catalog's words in the shopper's language: the
language comes from SHOP_LANGUAGE, then `lang=` (the embed's data-lang), then Accept-Language
(never from a refused body); a shop product's own names per language come from its
product.toml; the examples in empty boxes are each language's own."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from proofmark_renderer import catalog
from proofmark_renderer.catalog import CatalogError, Product
from tests.proofs_support import design
from tests.support import make_app

MB = 1024 * 1024


def page(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def lang_of(text: str) -> str:
    return re.search(r'<html lang="(\w+)"', text).group(1)


@pytest.mark.parametrize(
    ("lang", "title", "message"),
    [
        ("de", "Seite nicht gefunden", "Unter dieser Adresse gibt es nichts."),
        ("fr", "Page introuvable", "Il n’y a rien à cette adresse."),
        ("es", "Página no encontrada", "No hay nada en esta dirección."),
        ("nl", "Pagina niet gevonden", "Op dit adres staat niets."),
    ],
)
def test_404_in_the_asked_language_and_the_browsers(client, lang, title, message):
    for response in (
        client.get(f"/no/such/page?lang={lang}"),
        client.get("/no/such/page", headers={"Accept-Language": f"{lang};q=0.9,en;q=0.5"}),
    ):
        text = page(response)
        assert response.status_code == 404 and lang_of(text) == lang
        assert f"<h1>{title}</h1>" in text and message in text
        assert "Page not found" not in text and "There is nothing at this address" not in text
        assert f"?lang={lang}" in text or "Accept-Language" in response.request.headers


def test_the_shop_language_wins_and_json_codes_stay_english(tmp_path, client):
    dutch = make_app(tmp_path / "nl", SHOP_LANGUAGE="nl").test_client()
    text = page(dutch.get("/nope?lang=de", headers={"Accept-Language": "fr"}))
    assert lang_of(text) == "nl" and "Pagina niet gevonden" in text
    answer = client.get("/api/nope", headers={"Accept-Language": "de"})
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "page_not_found"  # for programs: unchanged
    assert answer.json["error"]["message"].startswith("Unter dieser Adresse gibt es nichts.")


@pytest.mark.parametrize(
    ("lang", "start"),
    [
        ("de", "Was Sie gesendet haben, ist viel länger als alles, was wir anfertigen können"),
        ("fr", "Ce que vous avez envoyé est bien plus long que tout ce que nous pouvons fabriquer"),
        ("es", "Lo que ha enviado es mucho más largo que cualquier cosa que podamos fabricar"),
        ("nl", "Wat u hebt verstuurd is veel langer dan alles wat wij kunnen maken"),
    ],
)
def test_413_in_the_language_without_reading_the_body(client, lang, start):
    # The body asks for another language: it is never read (nor is the refused text).
    body = b"lang=en&line-1=" + b"A" * MB
    response = client.post(
        f"/p/mug/confirm?lang={lang}", data=body, content_type="application/x-www-form-urlencoded"
    )
    text = page(response)
    assert response.status_code == 413 and lang_of(text) == lang
    assert start in text, text[:2000]
    assert "far longer than anything" not in text and "Too large" not in text
    # Numbers grouped as the language writes them (1.048.591 / 1 048 591 / 1,048,591).
    assert re.search(r"1\D048\D591", text) and "1,048,591" not in text
    assert len(response.data) < 20_000


def test_a_broken_escape_is_told_in_the_language(client):
    text = page(client.get("/p/mug?lang=fr&line-1=50%ZZ"))
    assert "L’adresse contient un échappement % incorrect dans le champ" in text
    assert "line-1" in text and "%25" in text and "broken %-escape" not in text
    english = page(client.get("/p/mug?line-1=50%ZZ"))
    assert "The address has a broken %-escape in the field" in english  # English unchanged


def test_the_form_expired_page_in_the_language(tmp_path):
    strict = make_app(tmp_path / "csrf", WTF_CSRF_ENABLED=True).test_client()
    response = strict.post("/cart?lang=es", data={"design_token": "x"})
    text = page(response)
    assert response.status_code == 400 and "Formulario caducado" in text
    assert "Este formulario estuvo abierto demasiado tiempo" in text and "Form expired" not in text


CATALOG = {
    "de": ["Runder Anhänger", "Stabkette", "Gravierter Ring", "Schneidebrett", "Tasse", "Gold graviert"],
    "fr": ["Pendentif rond", "Collier barrette", "Bague gravée", "Planche à découper", "or gravé"],
    "es": ["Colgante redondo", "Collar de barra", "Anillo grabado", "Tabla de cortar", "oro grabado"],
    "nl": ["Ronde hanger", "Bar-ketting", "Gegraveerde ring", "Snijplank", "Mok", "gegraveerd goud"],
}


@pytest.mark.parametrize("lang", sorted(CATALOG))
def test_the_catalog_page_names_products_in_the_language(client, lang):
    text = page(client.get(f"/?lang={lang}"))
    assert lang_of(text) == lang
    for words in CATALOG[lang]:
        assert words in text, words
    for english in (
        "Round pendant",
        "Bar necklace",
        "Cutting board",
        "engraved silver",
        "Round disc, 25 mm, in sterling silver",
    ):
        assert english not in text, english
    assert "Personalise a keepsake" not in text
    # Links into the personalizer keep the asked-for language.
    assert f"/p/pendant-round?lang={lang}" in text


EXAMPLES = {
    "de": ("z. B. Lena &amp; Jonas", "z. B. 12. Juni 2021"),
    "fr": ("p. ex. Camille &amp; Louis", "p. ex. 12 juin 2021"),
    "es": ("p. ej. Lucía &amp; Pablo", "p. ej. 12 de junio de 2021"),
    "nl": ("bijv. Emma &amp; Daan", "bijv. 12 juni 2021"),
}


@pytest.mark.parametrize("lang", sorted(EXAMPLES))
def test_the_personalizer_shows_the_languages_own_examples_and_labels(client, lang):
    raw = page(client.get(f"/p/pendant-round?lang={lang}"))
    for example in EXAMPLES[lang]:
        assert f'placeholder="{htmllib.unescape(example)}"' in raw, example
    assert "Anna & Ben" not in raw and "12 June 2021" not in raw
    assert {
        "de": "Am Rand entlang",
        "fr": "Sur le pourtour",
        "es": "Alrededor del borde",
        "nl": "Langs de rand",
    }[lang] in raw
    assert "Around the rim" not in raw and "Round pendant" not in raw and "Sterling silver" not in raw


def test_form_problems_in_the_language(client):
    text = page(client.get("/p/bar-necklace?lang=de&line-1=Ada&line-2=Byron"))
    assert (
        "Dieser Artikel fasst höchstens 1 Zeile; Zeile 2 (“\u2068Byron\u2069”) wurde trotzdem gesendet."
        in text
    )
    text = page(client.get("/p/mug?lang=nl&line-1=" + "A" * 500))
    assert "is 500 tekens lang; op dit artikel passen er hoogstens 18." in text
    english = page(client.get("/p/bar-necklace?line-1=Ada&line-2=Byron"))
    assert "The bar necklace takes at most 1 line; line 2" in english


def test_a_shop_product_names_itself_per_language(app):
    raw = {
        "id": "dog-tag",
        "name": "Dog tag",
        "description": "Steel tag.",
        "finish": "engraved-steel",
        "width_mm": 30,
        "height_mm": 20,
        "region": {"shape": "rect", "x_mm": 2, "y_mm": 2, "w_mm": 26, "h_mm": 16},
        "max_lines": 2,
        "max_chars_per_line": 12,
        "min_letter_height_mm": 2,
        "allowed_fonts": ["lato"],
        "default_font": "lato",
        "names": {"de": "Hundemarke", "fr": "Médaille pour chien"},
        "descriptions": {"de": "Marke aus Stahl."},
        "fields": [
            {
                "id": "back",
                "label": "On the back",
                "labels": {"de": "Auf der Rückseite"},
                "min_letter_height_mm": 2,
                "max_letter_height_mm": 4,
                "region": {"shape": "rect", "x_mm": 2, "y_mm": 2, "w_mm": 26, "h_mm": 16},
            }
        ],
    }
    product = Product.from_toml(raw)
    from proofmark import catalog_text

    with app.test_request_context("/?lang=de"):
        assert catalog_text.product_name(product) == "Hundemarke"
        assert catalog_text.product_description(product) == "Marke aus Stahl."
        assert catalog_text.field_label(product, "back") == "Auf der Rückseite"
        assert catalog_text.finish_name(product.finish) == "Stahl graviert"
    with app.test_request_context("/?lang=fr"):
        assert catalog_text.product_name(product) == "Médaille pour chien"
        assert catalog_text.product_description(product) == "Steel tag."  # none given: as written
        assert catalog_text.field_label(product, "back") == "On the back"
    with app.test_request_context("/?lang=es"):
        # A shop's own name is never looked up in the built-in catalog's translations.
        assert catalog_text.product_name(product) == "Dog tag"
    for broken in ({"names": "Hundemarke"}, {"names": {"de": 7}}, {"descriptions": {"de": ""}}):
        with pytest.raises(CatalogError, match="dog-tag"):
            Product.from_toml(raw | broken)
    assert catalog.product("mug").texts == ()  # the built-in catalog uses the message catalog


@pytest.fixture
def shop(tmp_path):
    return make_app(tmp_path / "shop", SHOP_ORDERS=True)


def test_the_demo_order_pages_in_the_language(shop):
    from proofmark.tokens import sign_design

    app, client = shop, shop.test_client()
    with app.app_context():
        d = design("Grace")
        token = sign_design(d, d.content_key(1200, "jpeg"), {"language": "de"})
    refused = client.post(
        "/orders?lang=de",
        data={"design_token": token, "customer_name": "Grace Hopper", "customer_email": "grace@"},
    )
    text = page(refused)
    assert refused.status_code == 422 and lang_of(text) == "de"
    assert "Wir konnten diese Bestellung nicht aufgeben" in text and "Bestellung aufgeben" in text
    assert "“\u2068grace@\u2069” ist keine E-Mail-Adresse, an die wir den Abzug senden können." in text
    assert "We could not place this order" not in text and "Your name" not in text
    placed = client.post(
        "/orders?lang=de",
        data={"design_token": token, "customer_name": "Grace Hopper", "customer_email": "grace@example.com"},
    )
    assert placed.status_code == 303 and placed.location.endswith("?lang=de")
    text = page(client.get(placed.location))
    assert "Vielen Dank, Ihre Bestellung ist aufgegeben" in text and "Sehen Sie in Ihre E-Mails." in text
    assert "Thank you, your order is placed" not in text and "No email after a few minutes" not in text
    # The same order reference again: said for the shopper, not in the API's words.
    again = client.post(
        "/orders?lang=fr",
        data={"design_token": token, "customer_name": " Grace", "customer_email": "grace@example.com"},
    )
    assert again.status_code == 422
    assert "Votre nom : commence par une espace (U+0020 SPACE)." in page(again)


def test_the_cart_in_the_language(shop):
    from proofmark.tokens import sign_design

    app, client = shop, shop.test_client()
    with app.app_context():
        d = design("Grace 3/4/2025", product="pendant-round", font="dancing-script")
        options = {
            "language": "fr",
            "confirmed_at": "2026-11-02T09:30:00Z",
            "dates": [{"typed": "3/4/2025", "reading": "Thursday 3 April 2025", "iso": "2025-04-03"}],
        }
        token = sign_design(d, d.content_key(1200, "jpeg"), options)
    added = client.post("/cart?lang=fr", data={"design_token": token})
    assert added.status_code == 303 and added.location.endswith("/cart?lang=fr")
    text = page(client.get(added.location))
    assert lang_of(text) == "fr" and "Votre panier" in text and "Pendentif rond" in text
    assert "« 3/4/2025 » signifie jeudi 3 avril 2025" in text
    assert "confirmée le lundi 2 novembre 2026" in text and "Passer la commande" in text
    assert "Your cart" not in text and "Place order" not in text and "Round pendant" not in text
    assert 'action="/orders?lang=fr"' in text


def test_the_approval_page_opens_in_the_confirmed_language_with_an_english_browser(app):
    """Nothing before the view may fix the request's language early (the address checks of
    proofmark.limits ask for it only when they refuse): the approval page names its own."""
    from proofmark import proofs
    from proofmark.db import get_db
    from proofmark.tokens import sign_design, verify_design
    from tests.test_email_languages import outbox

    with app.app_context():
        db = get_db()
        d = design("Grace")
        token = verify_design(sign_design(d, d.content_key(1200, "jpeg"), {"language": "es"}))
        proof_id = proofs.create_proof(
            db,
            order_ref="SHOP-ES",
            customer_name="Grace Hopper",
            customer_email="grace@example.com",
            design=d,
            source="shop",
            actor="shop",
            design_token=token,
        )
        _, text, _, _ = outbox(db, proof_id, "proof")
    link = re.search(r"https?://\S+(/approve/\S+)", text).group(1)
    shown = page(app.test_client().get(link, headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert lang_of(shown) == "es" and "Collar de barra" in shown


def test_the_hourly_order_limit_is_told_in_the_language(tmp_path):
    from proofmark.tokens import sign_design

    app = make_app(tmp_path / "limited", SHOP_ORDERS=True, SHOP_ORDERS_PER_HOUR=0)
    with app.app_context():
        d = design("Grace")
        token = sign_design(d, d.content_key(1200, "jpeg"), {"language": "nl"})
    refused = app.test_client().post(
        "/orders?lang=nl",
        data={"design_token": token, "customer_name": "Grace Hopper", "customer_email": "grace@example.com"},
    )
    text = page(refused)
    assert refused.status_code == 429 and lang_of(text) == "nl"
    assert "Deze winkel neemt hoogstens 0 bestellingen per uur van één adres aan" in text
    assert "orders an hour" not in text
