"""The catalog's words in the shopper's language: product names, descriptions, field labels,
finishes and sizes, translated where they are shown (pages and emails).

In this order:
1. the product's own wording for the language (a shop product's `product.toml`:
   `[product.names] de = "..."`, `[product.descriptions]`, `labels = { de = "..." }` on a
   field; proofmark_renderer.catalog.language_texts reads them);
2. the built-in catalog's English words, marked below for `pybabel extract` and translated in
   site/translations/<lang>/LC_MESSAGES/messages.po;
3. the words as the catalog has them.

Only the built-in catalog's exact strings are looked up in the message catalog, so a shop's
own product is never given a translation meant for something else. Font names are typeface
names (Great Vibes, Noto Sans Hebrew) and stay as they are, as type foundries publish them.
The recorded design and its hashes keep the catalog's own (English) words.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal, gettext

from proofmark.i18n import current_language
from proofmark_renderer import catalog


def N_(message: str) -> str:
    """Marks a message for `pybabel extract` (a default keyword)."""
    return message


# The built-in catalog (renderer/products.toml), as it names things to shoppers.
BUILTIN = frozenset(
    {
        N_("Round pendant"),
        N_(
            "Round disc, 25 mm, in sterling silver, yellow gold or rose gold, hand-polished and engraved with "
            "up to three lines, plus optional text around the rim."
        ),
        N_("Around the rim"),
        N_("Bar necklace"),
        N_("Brushed 14k gold-fill bar, 40 by 7 mm, engraved with one line."),
        N_("Engraved ring"),
        N_("Polished 14k gold band, 18 mm inside diameter, 5 mm wide, engraved on the inside."),
        N_("Memorial ornament"),
        N_("Hand-stamped aluminium disc, 32 mm, each letter struck by hand with a steel punch."),
        N_("Cutting board"),
        N_("Solid maple board, 300 by 200 mm, laser-engraved."),
        N_("T-shirt"),
        N_("Heather cotton jersey tee, size M (520 mm chest), screen-printed on the front."),
        N_("Mug"),
        N_("White glazed ceramic mug, 82 mm across and 95 mm tall, printed all the way round."),
    }
)

# Finishes (built-in products and the staff product editor's list), by id.
FINISHES = {
    "engraved-silver": N_("engraved silver"),
    "engraved-gold": N_("engraved gold"),
    "engraved-steel": N_("engraved steel"),
    "stamped-aluminium": N_("stamped aluminium"),
    "laser-wood": N_("laser-engraved wood"),
    "print-cotton": N_("printed cotton"),
    "print-ceramic": N_("printed ceramic"),
}


def _builtin(text: str) -> str:
    return gettext(text) if text in BUILTIN else text


def _product(product):
    """A Product, or one named by its id or by a recorded {"id", "name"} (approval pages)."""
    if isinstance(product, dict):
        return catalog.product(str(product.get("id", "")))
    if isinstance(product, str):
        return catalog.product(product)
    return product


def product_name(product) -> str:
    found = _product(product)
    if found is None:
        return str(product.get("name", "")) if isinstance(product, dict) else str(product or "")
    return found.text_in("name", current_language()) or _builtin(found.name)


def product_description(product) -> str:
    found = _product(product)
    if found is None:
        return ""
    return found.text_in("description", current_language()) or _builtin(found.description)


def field_label(product, field_id: str, default: str | None = None) -> str:
    """A named field's label ("Around the rim"); `default` when the product has no such field."""
    product = _product(product)
    spec = product.field_spec(field_id) if product is not None else None
    if spec is None:
        return default if default is not None else field_id
    return product.text_in(f"field:{field_id}", current_language()) or _builtin(spec.label)


def finish_name(finish: str) -> str:
    known = FINISHES.get(finish)
    return gettext(known) if known else str(finish).replace("-", " ")


def size_label(product) -> str:
    """proofmark_renderer Product.size_label with the numbers and words in the page's language."""

    def n(value: float) -> str:
        return format_decimal(round(value, 2))

    if product.view in ("pendant", "ornament"):
        return f"Ø {n(product.width_mm)} mm"
    if product.view == "ring":
        return gettext(
            "Ø %(inside)s mm inside · %(band)s mm band",
            inside=n(2 * product.region.radius_mm),
            band=n(product.height_mm),
        )
    if product.view == "mug":
        return f"Ø {n(product.width_mm)} × {n(product.height_mm)} mm"
    return f"{n(product.width_mm)} × {n(product.height_mm)} mm"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["product_name"] = product_name
    app.jinja_env.filters["product_description"] = product_description
    app.jinja_env.filters["finish_name"] = finish_name
    app.jinja_env.filters["size_label"] = size_label
    app.jinja_env.globals["field_label"] = field_label
