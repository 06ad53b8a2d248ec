"""Every message the renderer can show a shopper has a translation in every shipped language.

The renderer (proofmark_renderer) stays free of Flask and catalogs: its Issue carries a stable
`code` and machine-readable `data`, and proofmark.i18n builds the sentence in the page's
language. These tests read the renderer's source for every `Issue(...)` it constructs, so a new
code without a translated sentence fails here, and they build each code's sentence from a real
Issue (the validator's own, where a design can provoke it) in de, fr, es and nl.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from proofmark import i18n
from proofmark_renderer import Design, Issue, catalog, validate

RENDERER = Path(__file__).resolve().parents[1] / "renderer"
LANGUAGES = ("de", "fr", "es", "nl")


def renderer_codes() -> dict[str, list[str]]:
    """code -> the files:lines that construct an Issue with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(RENDERER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Issue"):
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if code is None and node.args:
                code = node.args[0]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.setdefault(code.value, []).append(f"{path.name}:{node.lineno}")
            elif isinstance(code, ast.Attribute) and code.attr == "code":
                continue  # Issue(i.code, ...) copies an existing issue (validation.py, fit issues)
            else:
                found.setdefault(f"<not a literal at {path.name}:{node.lineno}>", [])
    return found


def test_the_renderer_source_is_read():
    codes = renderer_codes()
    # Sanity: the scan finds the ones everybody knows, in the files they live in.
    assert {"too-wide", "too-tall", "glyph-missing", "date-ambiguous", "width-out-of-range"} <= set(codes)
    assert any(where.startswith("layout.py") for where in codes["too-wide"])
    assert not [c for c in codes if c.startswith("<")], codes


def test_every_renderer_code_has_a_translated_sentence():
    missing = sorted(set(renderer_codes()) - set(i18n._ISSUES))
    assert not missing, f"renderer codes without a sentence in proofmark.i18n._ISSUES: {missing}"


# Designs that make the validator give each code it can give for a design; the rest are built
# as the renderer builds them (compose.py, validation.py), with the same data.
PROVOKED = {
    "space-leading": Design("mug", "lato", (" Anna",)),
    "space-trailing": Design("mug", "lato", ("Anna ",)),
    "space-doubled": Design("mug", "lato", ("Anna  Ben",)),
    "too-many-characters": Design("bar-necklace", "lato", ("A" * 30,)),
    "date-ambiguous": Design("mug", "lato", ("3/4/2025",)),
    "date-invalid": Design("mug", "lato", ("31/31/2025",)),
    "capitals-unusual": Design("mug", "lato", ("ANna",)),
    "spelling-check": Design("mug", "lato", ("Annnna",)),
    "too-wide": Design("bar-necklace", "lato", ("W" * 16,)),
    "glyph-missing": Design("mug", "great-vibes", ("שלום",)),
    "char-unsupported": Design("mug", "lato", ("Anna\tBen",)),
    "emoji-unsupported": Design("pendant-round", "lato", ("Anna 🙂",)),
    "product-unknown": Design("no-such-thing", "lato", ("Anna",)),
    "variant-unknown": Design("pendant-round", "lato", ("Anna",), variant="platinum"),
    "align-unknown": Design("mug", "lato", ("Anna",), align="justify"),
    "size-mode-unknown": Design("mug", "lato", ("Anna",), size_mode="huge"),
    "font-unknown": Design("mug", "no-such-font", ("Anna",)),
    "font-not-allowed": Design("ring-band", "dancing-script", ("Anna",)),
    "text-empty": Design("mug", "lato", ("",)),
    "too-many-lines": Design("bar-necklace", "lato", ("Anna", "Ben")),
    "field-unknown": Design("mug", "lato", ("Anna",), fields={"rim": "x"}),
}
BUILT = {
    # No shipped product's lines are too tall at the smallest size (max_lines keeps them in).
    "too-tall": [
        Issue(
            "too-tall",
            "error",
            "The text is 12% too tall for the mug even at the smallest legible size (5 mm letters). Use fewer lines.",
            data={"percent": 12, "height_mm": 67.2, "available_mm": 60.0},
        )
    ],
    "raqm-missing": [Issue("raqm-missing", "error", "This server cannot shape text correctly (...).")],
    # Given by render() for a view number the product does not have.
    "view-unknown": [
        Issue("view-unknown", "error", "Mug has no view 3 (it has 1).", data={"view": 2, "views": ["mug"]})
    ],
    "internal-error": [
        Issue(
            "internal-error",
            "error",
            "The design could not be checked; please try again.",
            data={"error": "x"},
        ),
        Issue(
            "internal-error",
            "error",
            "The preview could not be drawn; please try again.",
            data={"error": "x"},
        ),
    ],
    "format-unknown": [
        Issue("format-unknown", "error", "Unknown image format 'bmp'; sending JPEG.", data={"format": "bmp"})
    ],
    "width-out-of-range": [
        Issue(
            "width-out-of-range", "warning", "Width must be ...; drawn at the nearest.", data={"width": 99999}
        )
    ],
}


def issues_for(code: str) -> list[Issue]:
    if code in BUILT:
        return BUILT[code]
    design = PROVOKED[code]
    found = [i for i in validate(design) if i.code == code]
    assert found, f"{design} did not give {code}: {[i.code for i in validate(design)]}"
    return found


def test_a_field_too_wide_is_named_by_its_label(app):
    design = Design("pendant-round", "great-vibes", ("Anna",), fields={"rim": "W" * 40})
    (issue,) = [i for i in validate(design) if i.code == "too-wide" and i.field == "rim"]
    with app.test_request_context("/?lang=de"):
        assert i18n.issue_message(issue, "pendant-round").startswith("Der Text „Am Rand entlang“ ist ")


@pytest.mark.parametrize("code", sorted(set(PROVOKED) | set(BUILT)))
def test_each_code_is_translated_in_every_language(app, code):
    assert code in renderer_codes(), f"{code} is tested here but the renderer no longer gives it"
    for issue in issues_for(code):
        product = catalog.product("mug")
        with app.app_context():
            with force_locale("en"):
                english = i18n._ISSUES[code](issue, product)
            assert english and "%(" not in english
            for lang in LANGUAGES:
                with force_locale(lang):
                    shown = i18n.issue_message(issue, product)
                    # Built, not the renderer's English kept as a fallback, and translated.
                    assert shown != issue.message, (lang, code, shown)
                    assert shown != english, f"{code} has no {lang} translation: {english!r}"
                    assert "%(" not in shown and "%%" not in shown, (lang, code, shown)


def test_every_code_the_renderer_gives_is_tested_here():
    untested = sorted(set(renderer_codes()) - set(PROVOKED) - set(BUILT))
    assert not untested, f"add a design or an Issue for {untested} to PROVOKED or BUILT"
