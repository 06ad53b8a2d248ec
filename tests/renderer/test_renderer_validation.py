"""Validation: stable codes, per-line issues, suggestions, never a silent correction."""

from __future__ import annotations

import pytest

from proofmark_renderer import Design, catalog, validate
from proofmark_renderer import text as textmod


def codes(design: Design) -> list[str]:
    return [i.code for i in validate(design)]


def only(design: Design, code: str):
    found = [i for i in validate(design) if i.code == code]
    assert found, f"no {code} in {[i.code for i in validate(design)]}"
    return found


def test_a_plain_design_has_no_issues():
    assert validate(Design("pendant-round", "dancing-script", ("Emma",))) == []


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("e\u0301", 1),  # e + combining acute: one letter on the product
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", 1),  # family emoji
        ("🇵🇱", 1),  # flag: two regional indicators
        ("Zoë", 3),
        ("שָׁלוֹם", 4),  # Hebrew with points
    ],
)
def test_graphemes_are_counted_as_a_person_sees_them(text, count):
    assert textmod.grapheme_count(text) == count


def test_line_limit_counts_graphemes_not_code_points():
    product = catalog.product("bar-necklace")
    limit = product.max_chars_per_line
    at_limit = Design("bar-necklace", "montserrat", ("e\u0301" * limit,))
    assert "too-many-characters" not in codes(at_limit)
    over = only(Design("bar-necklace", "montserrat", ("e\u0301" * (limit + 1),)), "too-many-characters")[0]
    assert over.line == 1 and over.data == {"count": limit + 1, "max": limit}


def test_family_emoji_is_one_character_and_cannot_be_engraved():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    issues = validate(Design("pendant-round", "dancing-script", ("Mum " + family,)))
    emoji = [i for i in issues if i.code == "emoji-unsupported"]
    assert emoji and emoji[0].data["chars"] == [family] and emoji[0].severity == "error"
    assert not [i for i in issues if i.code == "glyph-missing"]  # one clear reason, not two


def test_missing_glyphs_name_the_characters_and_suggest_fonts_that_can_draw_everything():
    issue = only(Design("pendant-round", "dancing-script", ("Noa", "שרה")), "glyph-missing")[0]
    assert issue.line == 2 and issue.severity == "error"
    assert "ש" in issue.data["chars"] and "U+05E9" in issue.data["codepoints"]
    assert {"kind": "font", "font": "noto-sans-hebrew", "label": "Noto Sans Hebrew"} in issue.suggestions
    assert all(s["font"] in catalog.product("pendant-round").allowed_fonts for s in issue.suggestions)


def test_arabic_names_are_steered_to_the_arabic_font():
    issue = only(Design("mug", "lato", ("سلام",)), "glyph-missing")[0]
    assert [s["font"] for s in issue.suggestions] == ["noto-sans-arabic"]


def test_combining_mark_missing_from_the_font_is_caught():
    issue = only(Design("mug", "lato", ("Rene\u0301e",)), "glyph-missing")[0]
    assert issue.data["codepoints"] == ["U+0301"]
    assert any(s["font"] == "montserrat" for s in issue.suggestions)


def test_no_suggestion_when_no_allowed_font_can_draw_it():
    issue = only(Design("ornament-stamped", "courier-prime", ("سلام",)), "glyph-missing")[0]
    assert issue.suggestions == () and "None of the fonts" in issue.message


def test_fit_error_says_which_line_and_by_how_much():
    issues = validate(Design("mug", "lato", ("Anna", "W" * 18)))
    wide = [i for i in issues if i.code == "too-wide"]
    assert [i.line for i in wide] == [2]
    assert wide[0].data["percent"] > 0
    assert f"Line 2 is {wide[0].data['percent']}% too wide" in wide[0].message


def test_width_is_measured_on_the_shaped_text_not_by_counting():
    assert "too-wide" in codes(Design("bar-necklace", "montserrat", ("WWWWWWWWWWWWWWWW",)))
    assert "too-wide" not in codes(Design("bar-necklace", "montserrat", ("iiiiiiiiiiiiiiii",)))


def test_fit_error_suggests_fonts_that_would_fit():
    text = ("Always and forever, M.",)
    issue = only(Design("ring-band", "courier-prime", text), "too-wide")[0]
    assert issue.suggestions
    for s in issue.suggestions:
        assert "too-wide" not in codes(Design("ring-band", s["font"], text))


def test_too_many_lines_for_the_space_is_too_tall():
    issues = validate(Design("ring-band", "eb-garamond", ("a",)))
    assert issues == []
    assert "too-many-lines" in codes(Design("ring-band", "eb-garamond", ("a", "b")))


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("03/04/2025", ["3 April 2025", "March 4, 2025"]),
        ("Born 1.2.1990", ["1 February 1990", "January 2, 1990"]),
        ("11-12-25", ["11 December ’25", "November 12, ’25"]),
    ],
)
def test_ambiguous_dates_spell_out_both_readings(text, readings):
    issue = only(Design("cutting-board", "lato", (text,)), "date-ambiguous")[0]
    assert issue.severity == "warning" and issue.line == 1
    assert issue.data["readings"] == readings


@pytest.mark.parametrize("text", ["13/04/2025", "04/04/2025", "2025-04-03", "phone 0123/45/678"])
def test_unambiguous_dates_are_left_alone(text):
    assert "date-ambiguous" not in codes(Design("cutting-board", "lato", (text,)))


def test_impossible_date_is_questioned():
    assert "date-invalid" in codes(Design("cutting-board", "lato", ("31/02/2025",)))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (" Anna", "space-leading"),
        ("Anna ", "space-trailing"),
        ("Anna  Lee", "space-doubled"),
        ("jOHN", "capitals-unusual"),
        ("Annna", "spelling-check"),
    ],
)
def test_warnings_ask_and_never_correct(text, code):
    issue = only(Design("cutting-board", "lato", (text,)), code)[0]
    assert issue.severity == "warning" and issue.line == 1
    if code == "spelling-check":
        assert "check the spelling" in issue.message


@pytest.mark.parametrize("text", ["McDonald", "DeLuca", "JOHN", "john", "O'Neil", "Anne-Marie", "Anna"])
def test_ordinary_capitals_and_spellings_pass(text):
    assert validate(Design("cutting-board", "lato", (text,))) == []


@pytest.mark.parametrize(
    ("design", "code"),
    [
        (Design("no-such-thing", "lato", ("x",)), "product-unknown"),
        (Design("mug", "comic-sans", ("x",)), "font-unknown"),
        (Design("ornament-stamped", "great-vibes", ("x",)), "font-not-allowed"),
        (Design("mug", "lato", ()), "text-empty"),
        (Design("mug", "lato", ("", "  ")), "text-empty"),
        (Design("mug", "lato", ("a", "b", "c", "d")), "too-many-lines"),
        (Design("mug", "lato", ("a",), {"rim": "x"}), "field-unknown"),
        (Design("mug", "lato", ("a\nb",)), "char-unsupported"),
        (Design("mug", "lato", ("a",), align="justify"), "align-unknown"),
        (Design("mug", "lato", ("a",), size_mode="huge"), "size-mode-unknown"),
    ],
)
def test_bad_designs_are_clear_errors(design, code):
    issue = only(design, code)[0]
    assert issue.severity == "error" and issue.message


def test_font_not_allowed_suggests_allowed_fonts():
    issue = only(Design("ornament-stamped", "great-vibes", ("ANNA",)), "font-not-allowed")[0]
    allowed = catalog.product("ornament-stamped").allowed_fonts
    assert issue.suggestions and all(s["font"] in allowed for s in issue.suggestions)


def test_rim_text_is_checked_as_a_named_field():
    issues = validate(Design("pendant-round", "dancing-script", ("Emma",), {"rim": "x" * 41}))
    issue = [i for i in issues if i.code == "too-many-characters"][0]
    assert issue.field == "rim" and issue.line is None
    wide = validate(Design("pendant-round", "playfair-display", ("Emma",), {"rim": "M" * 40}))
    assert any(i.code == "too-wide" and i.field == "rim" for i in wide)


def test_missing_raqm_is_reported_not_rendered_wrong(monkeypatch):
    monkeypatch.setattr(textmod, "raqm_available", lambda: False)
    assert "raqm-missing" in codes(Design("mug", "lato", ("Anna",)))


def test_issue_codes_are_stable_strings_with_plain_messages():
    for issue in validate(Design("pendant-round", "lato", (" jOHN  03/04/2025", "Annna", "שרה"))):
        d = issue.to_dict()
        assert set(d) == {"code", "severity", "message", "line", "field", "suggestions", "data"}
        assert d["severity"] in ("error", "warning") and d["code"].islower()


def test_a_design_checked_again_gives_the_same_answer_until_its_product_changes():
    """check() keeps the designs it checked last (a preview image is drawn right after the
    htmx update checked its design), but never past a change of the product it was checked
    against: a new draft of the same id is checked afresh."""
    import dataclasses

    from proofmark_renderer.validation import check

    base = catalog.product("bar-necklace")
    draft_id = "bar-necklace@draft"
    design = Design(draft_id, base.allowed_fonts[0], ("Ada", "Noah"))
    catalog.register_draft(dataclasses.replace(base, id=draft_id, max_lines=1))
    first, _ = check(design)
    assert "too-many-lines" in [i.code for i in first]
    first.clear()  # the caller's list is its own
    again, _ = check(design)
    assert "too-many-lines" in [i.code for i in again]
    catalog.register_draft(dataclasses.replace(base, id=draft_id, max_lines=2))
    changed, layout_plan = check(design)
    assert "too-many-lines" not in [i.code for i in changed]
    assert layout_plan is not None and [line.text for line in layout_plan.lines] == ["Ada", "Noah"]


def test_the_rectangles_direct_search_gives_the_sizes_of_the_general_one():
    """layout._Stack.largest on a rectangle tests two numbers per step instead of the whole
    stack; the letter heights are the general search's, bit for bit."""
    import random

    from proofmark_renderer.catalog import Region
    from proofmark_renderer.layout import _largest, _Stack

    rng = random.Random(16)
    checked = {"fit-hi": 0, "between": 0, "none": 0}
    for _ in range(3000):
        region = Region(shape="rect", x_mm=0.0, y_mm=0.0, w_mm=rng.uniform(5, 300), h_mm=rng.uniform(3, 200))
        widths = tuple(rng.uniform(0.2, 30) for _ in range(rng.randint(1, 4)))
        stack = _Stack(region, widths, rng.uniform(1.0, 1.6), rng.choice(("center", "left", "right")))
        lo = rng.uniform(0.5, 6)
        hi = lo + rng.uniform(0, 60)
        got = stack.largest(lo, hi)
        assert got == _largest(stack.fits, lo, hi)
        checked["none" if got is None else "fit-hi" if got == hi else "between"] += 1
    assert min(checked.values()) > 100, checked
