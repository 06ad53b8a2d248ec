"""Everything a shopper should fix or confirm before ordering, as stable, structured issues.

Never corrects the text and never raises: a bad design is described, not refused.
Codes (stable; the site keys its wording and tests on them):
  errors:   raqm-missing, product-unknown, variant-unknown, font-unknown, font-not-allowed, align-unknown,
            size-mode-unknown, text-empty, too-many-lines, field-unknown, char-unsupported,
            emoji-unsupported, too-many-characters, glyph-missing, too-wide, too-tall
  warnings: space-leading, space-trailing, space-doubled, date-ambiguous, date-invalid,
            capitals-unusual, spelling-check
"""

from __future__ import annotations

import calendar
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator

import regex

from proofmark_renderer import catalog, quoting
from proofmark_renderer import text as textmod
from proofmark_renderer.catalog import Font, Product
from proofmark_renderer.layout import Plan, plan
from proofmark_renderer.model import ALIGNMENTS, Design, Issue

_DOUBLED_SPACE = regex.compile(r"\S\s{2,}\S")  # compiled once: it runs on every line of every preview

SIZE_MODES = ("auto", "min")
MONTHS = [calendar.month_name[i] for i in range(13)]

_DATE = regex.compile(r"(?<![\d/.\-])(\d{1,2})([./\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.\-])")
_WORD = regex.compile(r"[\p{L}\p{M}]+")
_REPEAT = regex.compile(r"(\p{L})\1{2,}", regex.IGNORECASE)
# Mixed case that names really use: McDonald, DeLuca, MacArthur, LeBlanc.
_INNER_CAPITAL = regex.compile(r"^\p{Lu}\p{Ll}{1,2}\p{Lu}\p{Ll}+$")


def _where(line: int | None, field: str | None, label: str | None = None) -> str:
    if field:
        return (label or field).lower()
    return f"line {line}"


def font_suggestions(product: Product, text: str, exclude: str | None = None) -> tuple[dict, ...]:
    """Fonts this product allows that can draw the whole text, in catalog order."""
    out = []
    for font_id in product.allowed_fonts:
        font = catalog.font(font_id)
        if font is None or font_id == exclude:
            continue
        if not textmod.missing_chars(font, text):
            out.append({"kind": "font", "font": font.id, "label": font.name})
    return tuple(out)


def _quote(s: str) -> str:
    return quoting.quote(s)


def _char_label(chars: list[str]) -> str:
    # A hidden character (an override, a zero-width space) is named, never shown: shown, it
    # would reorder or hide the message that mentions it.
    return ", ".join(
        quoting.codepoint(c)
        if quoting.is_hidden(c)
        else f"{_quote(c)} (U+{ord(c):04X})"
        if not c.isprintable() or c.isspace()
        else _quote(c)
        for c in chars
    )


def _spell_date(day: int, month: int, year: str, style: str) -> str:
    shown = year if len(year) == 4 else f"’{year}"
    if style == "dmy":
        return f"{day} {MONTHS[month]} {shown}"
    return f"{MONTHS[month]} {day}, {shown}"


def _valid_date(day: int, month: int, year: str) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    full = int(year) if len(year) == 4 else 2000 + int(year)
    return day <= calendar.monthrange(full, month)[1]


def _text_checks(
    value: str,
    line: int | None,
    field: str | None,
    label: str | None,
    max_chars: int,
    product: Product,
    font: Font | None,
    suggest_text: str,
) -> Iterator[Issue]:
    where = _where(line, field, label)
    Where = where[0].upper() + where[1:]

    bad = textmod.unsupported_chars(value)
    if bad:
        unique = list(dict.fromkeys(bad))
        yield Issue(
            "char-unsupported",
            "error",
            f"{Where} contains characters that cannot be made: {_char_label(unique)}. "
            "Remove them (each line goes in its own box).",
            line=line,
            field=field,
            data={"chars": unique, "codepoints": [f"U+{ord(c):04X}" for c in unique]},
        )

    emoji = textmod.emoji_in(value)
    if emoji and not product.emoji:
        unique = list(dict.fromkeys(emoji))
        yield Issue(
            "emoji-unsupported",
            "error",
            f"{Where} contains emoji ({' '.join(unique)}), which the {product.finish.replace('-', ' ')} "
            f"finish cannot reproduce on the {product.name.lower()}.",
            line=line,
            field=field,
            data={"chars": unique},
        )

    count = textmod.grapheme_count(value)
    if count > max_chars:
        yield Issue(
            "too-many-characters",
            "error",
            f"{Where} has {count} characters; the {product.name.lower()} takes at most {max_chars}.",
            line=line,
            field=field,
            data={"count": count, "max": max_chars},
        )

    if font is not None and not bad:
        skip = set("".join(emoji)) if emoji and not product.emoji else set()
        missing = [c for c in textmod.missing_chars(font, value) if c not in skip]
        if missing:
            suggestions = font_suggestions(product, suggest_text, exclude=font.id)
            tail = (
                " These fonts can draw all of your text: " + ", ".join(s["label"] for s in suggestions) + "."
                if suggestions
                else " None of the fonts offered for this product can draw it."
            )
            yield Issue(
                "glyph-missing",
                "error",
                f"The font {font.name} cannot draw {_char_label(missing)} in {where}.{tail}",
                line=line,
                field=field,
                suggestions=suggestions,
                data={"chars": missing, "codepoints": [f"U+{ord(c):04X}" for c in missing]},
            )

    if value[:1].isspace():
        yield Issue(
            "space-leading",
            "warning",
            f"{Where} starts with a space. Is that intended?",
            line=line,
            field=field,
        )
    if value[-1:].isspace() and value.strip():
        yield Issue(
            "space-trailing",
            "warning",
            f"{Where} ends with a space. Is that intended?",
            line=line,
            field=field,
        )
    if _DOUBLED_SPACE.search(value):
        yield Issue(
            "space-doubled",
            "warning",
            f"{Where} has two spaces in a row; they will show as a wider gap. Is that intended?",
            line=line,
            field=field,
        )

    yield from _date_checks(value, line, field, Where)

    for word in _WORD.findall(value):
        letters = "".join(c for c in word if unicodedata.category(c) in ("Lu", "Ll"))
        if len(letters) < 2:
            continue
        if letters.islower() or letters.isupper() or (letters[0].isupper() and letters[1:].islower()):
            continue
        if _INNER_CAPITAL.match(letters):
            continue
        yield Issue(
            "capitals-unusual",
            "warning",
            f"{Where}: {_quote(word)} has unusual capital letters. It will be made exactly as typed; "
            "please check it is what you want.",
            line=line,
            field=field,
            data={"word": word},
        )

    for match in _REPEAT.finditer(value):
        start = max(0, value.rfind(" ", 0, match.start()) + 1)
        end = value.find(" ", match.end())
        word = value[start:] if end < 0 else value[start:end]
        yield Issue(
            "spelling-check",
            "warning",
            f"{Where}: {_quote(word)} repeats the letter {_quote(match.group(1))} "
            f"{len(match.group(0))} times. Please check the spelling; it will be made exactly as typed.",
            line=line,
            field=field,
            data={"word": word, "letters": match.group(0)},
        )


def _date_checks(value: str, line: int | None, field: str | None, Where: str) -> Iterator[Issue]:
    for match in _DATE.finditer(value):
        a, b, year = int(match.group(1)), int(match.group(3)), match.group(4)
        written = match.group(0)
        dmy, mdy = _valid_date(a, b, year), _valid_date(b, a, year)
        if dmy and mdy and a != b:
            readings = [_spell_date(a, b, year, "dmy"), _spell_date(b, a, year, "mdy")]
            yield Issue(
                "date-ambiguous",
                "warning",
                f"{Where}: {_quote(written)} can be read as {readings[0]} or as {readings[1]}. "
                "Which one do you mean? Writing the month as a word avoids any doubt.",
                line=line,
                field=field,
                data={"text": written, "readings": readings, "formats": ["DD/MM/YYYY", "MM/DD/YYYY"]},
            )
        elif not dmy and not mdy:
            yield Issue(
                "date-invalid",
                "warning",
                f"{Where}: {_quote(written)} is not a real date in either day/month order. Please check it.",
                line=line,
                field=field,
                data={"text": written},
            )


# The designs checked last, each with what it was checked against. A shopper's htmx update
# checks a design and names its preview image, which the browser asks for a moment later,
# usually from the same process: drawing it checks the design again (0.15-0.25 ms of a
# 1000-px preview). A design is checked afresh once the catalog, its product or its font is
# another object (a configure, a published version, a new draft).
RECENT_CHECKS = 64
_recent: OrderedDict[Design, tuple[tuple, tuple[Issue, ...], Plan | None]] = OrderedDict()
_recent_lock = threading.Lock()


def check(design: Design) -> tuple[list[Issue], Plan | None]:
    """Validation issues, plus the layout when one could be made (the renderer draws it)."""
    against = (catalog.current(), catalog.product(design.product), catalog.font(design.font))
    with _recent_lock:
        seen = _recent.get(design)
        if seen is not None and all(a is b for a, b in zip(seen[0], against, strict=True)):
            _recent.move_to_end(design)
            return list(seen[1]), seen[2]
    issues, layout_plan = _check(design)
    with _recent_lock:
        _recent[design] = (against, tuple(issues), layout_plan)
        _recent.move_to_end(design)
        while len(_recent) > RECENT_CHECKS:
            _recent.popitem(last=False)
    return issues, layout_plan


def _check(design: Design) -> tuple[list[Issue], Plan | None]:
    issues: list[Issue] = []
    if not textmod.raqm_available():
        issues.append(
            Issue(
                "raqm-missing",
                "error",
                "This server cannot shape text correctly (Pillow was built without Raqm), so the preview "
                "would be wrong for kerning, ligatures, Hebrew and Arabic. Please contact the shop.",
            )
        )

    product = catalog.product(design.product)
    if product is None:
        known = [{"kind": "product", "product": p.id, "label": p.name} for p in catalog.products()]
        issues.append(
            Issue(
                "product-unknown",
                "error",
                f"There is no product {_quote(design.product)}.",
                suggestions=tuple(known),
                data={"product": design.product},
            )
        )
        return issues, None

    if design.variant and product.variant_spec(design.variant) is None:
        # Never drawn as some other variant: the order would be made in a metal or colour the
        # shopper did not see.
        choices = ", ".join(v.id for v in product.variants) or "none"
        issues.append(
            Issue(
                "variant-unknown",
                "error",
                f"{product.name} has no variant {_quote(design.variant)} (it comes as: {choices}).",
                data={"variant": design.variant, "allowed": [v.id for v in product.variants]},
            )
        )
        return issues, None

    if design.align not in ALIGNMENTS:
        issues.append(
            Issue(
                "align-unknown",
                "error",
                f"Alignment must be one of {', '.join(ALIGNMENTS)}, not {_quote(design.align)}.",
                data={"align": design.align, "allowed": list(ALIGNMENTS)},
            )
        )
    if design.size_mode not in SIZE_MODES:
        issues.append(
            Issue(
                "size-mode-unknown",
                "error",
                f"Size mode must be one of {', '.join(SIZE_MODES)}, not {_quote(design.size_mode)}.",
                data={"size_mode": design.size_mode, "allowed": list(SIZE_MODES)},
            )
        )

    fields = dict(design.fields)
    all_text = "".join(design.lines) + "".join(fields.values())

    font = catalog.font(design.font)
    usable_font: Font | None = font
    if font is None:
        usable_font = None
        issues.append(
            Issue(
                "font-unknown",
                "error",
                f"There is no font {_quote(design.font)}.",
                suggestions=font_suggestions(product, all_text),
                data={"font": design.font},
            )
        )
    elif font.id not in product.allowed_fonts:
        issues.append(
            Issue(
                "font-not-allowed",
                "error",
                f"{font.name} is not offered for the {product.name.lower()}.",
                suggestions=font_suggestions(product, all_text),
                data={"font": font.id},
            )
        )

    if not any(t.strip() for t in design.lines) and not any(v.strip() for v in fields.values()):
        issues.append(Issue("text-empty", "error", "Type the text to be made."))
    if len(design.lines) > product.max_lines:
        issues.append(
            Issue(
                "too-many-lines",
                "error",
                f"The {product.name.lower()} takes at most {product.max_lines} "
                f"line{'s' if product.max_lines != 1 else ''}; this design has {len(design.lines)}.",
                data={"count": len(design.lines), "max": product.max_lines},
            )
        )

    for name in fields:
        if product.field_spec(name) is None:
            issues.append(
                Issue(
                    "field-unknown",
                    "error",
                    f"The {product.name.lower()} has no field {_quote(name)}.",
                    field=name,
                    data={"field": name, "allowed": product.fields},
                )
            )

    for number, value in enumerate(design.lines, start=1):
        if value:
            issues += _text_checks(
                value, number, None, None, product.max_chars_per_line, product, usable_font, all_text
            )
    for spec in product.field_specs:
        value = fields.get(spec.id, "")
        if value:
            issues += _text_checks(
                value, None, spec.id, spec.label, spec.max_chars, product, usable_font, all_text
            )

    layout_plan = None
    # Text far beyond the limits is not shaped at all: it cannot be ordered, and drawing
    # it would only cost time.
    runaway = any(i.code == "too-many-characters" and i.data["count"] > 3 * i.data["max"] for i in issues)
    drawable = not runaway and not any(
        i.code in ("char-unsupported", "too-many-lines", "align-unknown") for i in issues
    )
    if usable_font is not None and drawable:
        align = design.align if design.align in ALIGNMENTS else "center"
        size_mode = design.size_mode if design.size_mode in SIZE_MODES else "auto"
        layout_plan = plan(design.lines, fields, align, size_mode, product, usable_font)
        fit_issues = list(layout_plan.issues)
        if fit_issues:
            fitting = _fonts_that_fit(design, product, all_text, usable_font.id, align)
            fit_issues = [
                Issue(i.code, i.severity, i.message, i.line, i.field, fitting, i.data) for i in fit_issues
            ]
        issues += fit_issues
    return issues, layout_plan


def _fonts_that_fit(
    design: Design, product: Product, all_text: str, current: str, align: str
) -> tuple[dict, ...]:
    out = []
    for suggestion in font_suggestions(product, all_text, exclude=current):
        font = catalog.font(suggestion["font"])
        if (
            font is not None
            and not plan(design.lines, dict(design.fields), align, "auto", product, font).issues
        ):
            out.append(suggestion)
    return tuple(out)


def validate(design: Design) -> list[Issue]:
    try:
        return check(design)[0]
    except Exception as exc:  # noqa: BLE001 - callers get a described failure, never a traceback
        return [
            Issue(
                "internal-error",
                "error",
                "The design could not be checked; please try again.",
                data={"error": f"{type(exc).__name__}: {exc}"},
            )
        ]
