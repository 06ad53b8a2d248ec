"""How a shopper's text is shown back to them before they commit to it: letter by letter,
and with numeric dates written out. Pure functions (no Flask, no request), shared by the
personalizer's confirmation step and the proof approval page.

The point is to slow the eye down: "Annna" or "Jonh" hides in a word but not in a row of
separate letters, and "03/04/2025" means two different days depending on who reads it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from dataclasses import dataclass

import regex

VISIBLE_SPACE = "\u2423"  # ␣ OPEN BOX: a space the shopper can count
_GRAPHEME = regex.compile(r"\X")

# Spaces that look like nothing or like an ordinary space; naming them avoids a surprise
# when the engraver's software treats them differently.
_SPACE_NAMES = {
    " ": "space",
    "\u00a0": "no-break space",
    "\u2009": "thin space",
    "\u202f": "narrow no-break space",
    "\u3000": "ideographic space",
}


def letters(text: str) -> list[str]:
    """The text as a person sees it, one grapheme per item, spaces shown as ␣."""
    return [VISIBLE_SPACE if g in _SPACE_NAMES else g for g in _GRAPHEME.findall(text or "")]


@dataclass(frozen=True)
class LetterCell:
    """One grapheme on the letter-by-letter view."""

    text: str  # exactly what was typed for this grapheme
    shown: str  # what to draw in the cell (␣ for a space)
    kind: str  # "letter", "digit", "space", "punct", "mark", "invisible", "other"
    name: str  # Unicode name(s), for a tooltip and for screen readers
    position: int  # 1-based

    @property
    def note(self) -> str:
        """Plain words for characters that are easy to miss."""
        if self.kind == "space":
            return self.name
        if self.kind == "invisible":
            return f"invisible character ({self.name})"
        return ""


def _char_name(ch: str) -> str:
    return unicodedata.name(ch, f"U+{ord(ch):04X}").lower()


def _kind(g: str) -> str:
    if g in _SPACE_NAMES:
        return "space"
    first = unicodedata.category(g[0])
    if first in ("Cf", "Cc", "Zs", "Zl", "Zp"):
        return "invisible"
    if first.startswith("L"):
        return "letter"
    if first == "Nd" or first.startswith("N"):
        return "digit"
    if first.startswith("P"):
        return "punct"
    if first.startswith("M"):
        return "mark"
    return "other"


def letter_cells(text: str) -> list[LetterCell]:
    cells = []
    for i, g in enumerate(_GRAPHEME.findall(text or ""), start=1):
        kind = _kind(g)
        if kind == "space":
            name = _SPACE_NAMES[g]
            shown = VISIBLE_SPACE
        else:
            name = " + ".join(_char_name(ch) for ch in g)
            shown = "\u25cc" if kind == "invisible" else g  # ◌ stands in for what has no ink
        cells.append(LetterCell(text=g, shown=shown, kind=kind, name=name, position=i))
    return cells


# --- numeric dates ------------------------------------------------------------------------

# Day, month and year written with digits and one kind of separator: 03/04/2025, 3.4.25,
# 2025-04-03, 03-04-2025, 3/4. Not preceded or followed by another digit or separator, so
# "1/2/3/4" or "12.50" are not mistaken for dates.
_DATE = regex.compile(
    r"(?<![\d./-])(?:"
    r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2}|\d{4})"
    r"|(?P<d>\d{1,2})/(?P<e>\d{1,2})"
    r")(?![\d]|[./-]\d)"
)


@dataclass(frozen=True)
class DateReading:
    order: str  # "day-month-year", "month-day-year", "year-month-day", "day-month", "month-day"
    iso: str  # "2025-04-03", or "--04-03" when no year was typed
    words: str  # "Thursday 3 April 2025", or "3 April" without a year
    label: str  # how to describe the reading in a question, e.g. "day first"


@dataclass(frozen=True)
class DateMention:
    """A number in the text that reads as a date."""

    text: str  # exactly the digits and separators as typed
    start: int  # offset in the line (code points)
    end: int
    readings: tuple[DateReading, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.readings) > 1

    @property
    def valid(self) -> bool:
        """False for digits laid out like a date that is no day in either order (31/02/2024)."""
        return bool(self.readings)

    @property
    def key(self) -> str:
        """Stable id of this mention within its line, for form fields and records."""
        return f"{self.start}-{self.text}"

    def reading(self, order: str) -> DateReading | None:
        return next((r for r in self.readings if r.order == order), None)


def _full_year(y: int, digits: int) -> int:
    if digits == 4:
        return y
    # Two-digit years on keepsakes are births, weddings and memorials: this century unless
    # that would be more than a few years ahead.
    this_year = dt.date.today().year
    year = 2000 + y
    return year if year <= this_year + 5 else 1900 + y


def _reading(order: str, day: int, month: int, year: int | None) -> DateReading | None:
    if not 1 <= month <= 12 or day < 1:
        return None
    if year is not None:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            return None
        words = f"{calendar.day_name[date.weekday()]} {day} {calendar.month_name[month]} {year}"
        iso = date.isoformat()
    else:
        # 29 February exists in some year, so allow it without one.
        if day > calendar.monthrange(2000, month)[1]:
            return None
        words = f"{day} {calendar.month_name[month]}"
        iso = f"--{month:02d}-{day:02d}"
    label = {
        "day-month-year": "day first",
        "day-month": "day first",
        "month-day-year": "month first",
        "month-day": "month first",
        "year-month-day": "year first",
    }[order]
    return DateReading(order=order, iso=iso, words=words, label=label)


def numeric_dates(text: str) -> list[DateMention]:
    """Numeric dates in a line, each with every reading that is a real date."""
    mentions = []
    for m in _DATE.finditer(text or ""):
        readings: list[DateReading] = []
        if m.group("a") is not None:
            a, b, c = m.group("a"), m.group("b"), m.group("c")
            if len(a) == 4:
                if len(c) == 4:
                    continue
                r = _reading("year-month-day", int(c), int(b), int(a))
                readings = [r] if r else []
            elif len(a) == 3:
                continue
            else:
                year = _full_year(int(c), len(c))
                for order, day, month in (
                    ("day-month-year", int(a), int(b)),
                    ("month-day-year", int(b), int(a)),
                ):
                    r = _reading(order, day, month, year)
                    if r and all(x.iso != r.iso for x in readings):
                        readings.append(r)
        else:
            d, e = int(m.group("d")), int(m.group("e"))
            for order, day, month in (("day-month", d, e), ("month-day", e, d)):
                r = _reading(order, day, month, None)
                if r and all(x.iso != r.iso for x in readings):
                    readings.append(r)
        # A two-part "24/13" is more likely a score or a fraction than a mistyped date.
        if readings or m.group("a") is not None:
            mentions.append(DateMention(m.group(0), m.start(), m.end(), tuple(readings)))
    return mentions


def jinja_globals() -> dict:
    """Helpers the `_letters.html` partial (and the pages that show dates) call."""
    return {"letter_cells": letter_cells, "numeric_dates": numeric_dates, "letters": letters}
