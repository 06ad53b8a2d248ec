"""Quoting what someone typed inside a message, safely: the quoted text is isolated
(U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), so right-to-left letters in
it cannot reorder the sentence around it, and every invisible, control or format character is
named instead of included (a right-to-left override shows as ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩),
so the message reads the same whatever was typed. Shared by the renderer's issues and the web
app's error messages."""

from __future__ import annotations

import unicodedata

FSI, PDI = "\u2068", "\u2069"
# Joiners are how some scripts and emoji are spelled, and reorder nothing: kept as they are.
_KEPT = frozenset("\u200c\u200d")
_HIDDEN = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"})


# Control characters have no name in the Unicode database; these are the ones people paste.
_CONTROL_NAMES = {
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\v": "LINE TABULATION",
    "\f": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x00": "NULL",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def codepoint(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE (the name when Unicode has one)."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def is_hidden(char: str) -> bool:
    return char not in _KEPT and unicodedata.category(char) in _HIDDEN


def visible(text: str, limit: int | None = None) -> str:
    """`text` with each hidden character replaced by its name in ⟨ ⟩; cut to `limit`
    characters of the original with "…" (error messages never echo megabytes)."""
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit]
    shown = "".join(f"⟨{codepoint(c)}⟩" if is_hidden(c) else c for c in text)
    return shown + ("…" if cut else "")


def quote(text: str, limit: int | None = 80) -> str:
    """“text”, isolated and with hidden characters named (see the module docstring)."""
    return f"“{FSI}{visible(str(text), limit)}{PDI}”"
