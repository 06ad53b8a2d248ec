"""What the approval page shows about one revision, and the SHA-256 of it that the form
carries: approve() recomputes it, so the record holds exactly what was on the screen."""

from __future__ import annotations

from flask import current_app, has_request_context

from proofmark import i18n
from proofmark.personalizer.letters import letter_cells, numeric_dates
from proofmark.proofs.model import Proof, Revision
from proofmark.records import canonical_json, sha256_hex
from proofmark_renderer import Design, catalog


def names(design: Design) -> tuple[dict, dict]:
    """The product and the font as {id, name}."""
    product = catalog.product(design.product)
    font = catalog.font(design.font)
    return (
        {"id": design.product, "name": product.name if product else design.product},
        {"id": design.font, "name": font.name if font else design.font},
    )


def _field_label(product_id: str, field_id: str) -> str:
    product = catalog.product(product_id)
    spec = product.field_spec(field_id) if product else None
    return spec.label if spec else field_id


def shown_text(design: Design, options: dict | None = None) -> list[dict]:
    """Each line and named field as the approval page shows it: the exact text, its letters
    as the letter-by-letter view draws them (proofmark.personalizer.letters.letter_cells: one cell per
    grapheme, ␣ for a space, ◌ for an invisible character) and every numeric date with its
    readings written out, plus the reading the shopper chose when confirming, if any."""
    confirmed = [d for d in (options or {}).get("dates") or [] if isinstance(d, dict)]
    parts = []
    for number, text in enumerate(design.lines, start=1):
        parts.append(
            {"key": f"line-{number}", "label": f"Line {number}", "line": number, "field": None, "text": text}
        )
    for field_id, text in design.fields:  # sorted by name
        if text:
            parts.append(
                {
                    "key": f"field-{field_id}",
                    "label": _field_label(design.product, field_id),
                    "line": None,
                    "field": field_id,
                    "text": text,
                }
            )
    for part in parts:
        part["letters"] = [cell.shown for cell in letter_cells(part["text"])]
        part["dates"] = []
        for mention in numeric_dates(part["text"]):
            chosen = next(
                (
                    d.get("reading")
                    for d in confirmed
                    if d.get("typed") == mention.text
                    and d.get("ambiguous")
                    and (d.get("line") == part["line"] if part["line"] else d.get("field") == part["field"])
                ),
                None,
            )
            part["dates"].append(
                {
                    "text": mention.text,
                    "readings": [
                        {"order": r.order, "iso": r.iso, "words": r.words} for r in mention.readings
                    ],
                    "chosen": chosen,
                }
            )
    return parts


def statements(config=None) -> list[dict]:
    config = config or current_app.config
    return [{"id": str(s["id"]), "text": str(s["text"])} for s in config["APPROVAL_STATEMENTS"]]


def page_content(proof: Proof, revision: Revision, config=None, language: str | None = None) -> dict:
    """Everything the approval page shows about one revision, in the page's language (the
    request's, by default). In English it is what it always was; in another language the
    disclosure and the statements are the shop's own texts for it (DISCLOSURES,
    APPROVAL_STATEMENTS_TRANSLATED) and `language` names it, so the hash the customer
    approves covers the words they read."""
    config = config or current_app.config
    if language is None and has_request_context():
        language = i18n.current_language()
    content = _page_content(proof, revision, config)
    if language and language != "en":
        shown_disclosure = i18n.disclosure(language)
        translated = (config.get("APPROVAL_STATEMENTS_TRANSLATED") or {}).get(language) or {}
        content["language"] = language
        content["disclosure"] = {
            "version": shown_disclosure["version"],
            "sha256": sha256_hex(shown_disclosure["text"]),
            "text": shown_disclosure["text"],
            "language": shown_disclosure["language"],
        }
        content["statements"] = [
            {"id": s["id"], "text": str(translated.get(s["id"]) or s["text"])} for s in content["statements"]
        ]
    return content


def _page_content(proof: Proof, revision: Revision, config) -> dict:
    design = revision.design
    product, font = names(design)
    disclosure = str(config["DISCLOSURE_TEXT"])
    return {
        "proof": proof.public_id,
        "order_ref": proof.order_ref,
        "revision": revision.number,
        "image_sha256": revision.image_sha256,
        "image_size": [revision.image_width, revision.image_height],
        "design_sha256": revision.design_sha256 or sha256_hex(design.canonical_json()),
        "renderer_version": revision.renderer_version,
        "product": product,
        "font": font,
        "text": {"lines": list(design.lines), "fields": dict(design.fields)},
        "shown_text": shown_text(design, revision.options),
        "align": design.align,
        "disclosure": {
            "version": str(config["DISCLOSURE_VERSION"]),
            "sha256": sha256_hex(disclosure),
            "text": disclosure,
        },
        "statements": statements(config),
    } | _variant(design)


def _variant(design: Design) -> dict:
    """The variant the proof is made in (metal, colour), only for a design that has one: the
    content (and so the hash) of every other approval page stays exactly as it was."""
    if not design.variant:
        return {}
    return {"variant": {"id": design.variant, "name": catalog.variant_name(design.product, design.variant)}}


def page_content_sha256(shown: dict) -> str:
    return sha256_hex(canonical_json(shown))
