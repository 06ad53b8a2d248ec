"""The one rule set for inputs that several paths accept (the demo shop, the staff form,
the API, the approval page): the customer's name and email address, the order reference
and free text such as a change request. Each check returns the value exactly as it was
sent, or raises ProofError naming the field at fault and what is wrong where: nothing is
trimmed, folded or lower-cased on the way in."""

from __future__ import annotations

import unicodedata

from flask_babel import gettext

from proofmark.proofs.errors import ProofError
from proofmark_renderer.quoting import codepoint, quote

MAX_NAME = 200
MAX_EMAIL = 254
MAX_ORDER_REF = 64
MAX_COMMENT = 4000

# Characters that change how the text around them is displayed while being invisible
# themselves. An override or isolate (U+202A-U+202E, U+2066-U+2069) can make a name or an
# order reference read differently in the records, the emails and an evidence pack than
# what was stored; Hebrew and Arabic letters need none of them to display correctly.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and marks that draw nothing (Hangul fillers, the combining grapheme joiner): a
# name made of them looks empty or like another name.
INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u3164\uffa0")
JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ: part of how Persian and Indic names are spelled


# How the shopper's own forms name the inputs (the demo shop's order form, the approval page).
_SHOPPER_LABELS = {
    "customer_name": lambda: gettext("Your name"),
    "customer_email": lambda: gettext("Email for the proof"),
    "order_ref": lambda: gettext("Order reference"),
    "comment": lambda: gettext("What should we change?"),
}
_SHOPPER_REASONS = {
    "missing": lambda **k: gettext("%(field)s: please fill this in.", **k),
    "too-long": lambda **k: gettext(
        "%(field)s: at most %(max)s characters, and this has %(count)s. Please shorten it.", **k
    ),
    "control": lambda **k: gettext(
        "%(field)s: contains a line break or control character (%(char)s) at character %(position)s; "
        "it must be one line. Please type it again without it.",
        **k,
    ),
    "control-multiline": lambda **k: gettext(
        "%(field)s: contains a control character. Please type it again without it.", **k
    ),
    "unshowable": lambda **k: gettext(
        "%(field)s: contains a character that is not a letter or sign we can show (%(char)s). "
        "Please type it again without it.",
        **k,
    ),
    "invisible": lambda **k: gettext(
        "%(field)s: contains an invisible character (%(char)s) that can change how it is displayed. "
        "Please type it again without it (copying from another document often brings one along).",
        **k,
    ),
    "space-start": lambda **k: gettext(
        "%(field)s: begins with a space (%(char)s). Remove it and send it again: we keep what you type "
        "exactly as typed.",
        **k,
    ),
    "space-end": lambda **k: gettext(
        "%(field)s: ends with a space (%(char)s). Remove it and send it again: we keep what you type "
        "exactly as typed.",
        **k,
    ),
    "not-an-email": lambda **k: gettext("%(email)s is not an email address we can send the proof to.", **k),
}


def shopper_reason(kind: str, field: str | None, **params) -> str | None:
    """The reason in the shopper's language, for the inputs of the shopper's own forms."""
    label = _SHOPPER_LABELS.get(field or "")
    if label is None:
        return None
    return _SHOPPER_REASONS[kind](field=label(), **params)


def describe(char: str) -> str:
    return codepoint(char)


def hidden_character(text: str) -> str | None:
    """The first character of a one-line text that is invisible or reorders what is shown:
    format characters (bidi controls, zero-width space, soft hyphen, BOM, tag characters),
    line/paragraph separators, unassigned, private-use or surrogate code points. A joiner
    between two letters is allowed: some scripts spell names with it."""

    def letter(c: str) -> bool:
        return unicodedata.category(c)[0] in "LM"

    for i, char in enumerate(text):
        if char in JOINERS and 0 < i < len(text) - 1 and letter(text[i - 1]) and letter(text[i + 1]):
            continue
        if (
            unicodedata.category(char) in ("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp")
            or char in INVISIBLE_LETTERS
        ):
            return char
    return None


def clean_line(
    value,
    what: str,
    max_len: int,
    *,
    required: bool = True,
    field: str | None = None,
    check_hidden: bool = True,
) -> str:
    text = str(value or "")
    if required and not text.strip():
        raise ProofError(f"The {what} is missing.", field, shopper=shopper_reason("missing", field))
    if len(text) > max_len:
        raise ProofError(
            f"The {what} is too long (at most {max_len} characters): it has {len(text):,}.",
            field,
            shopper=shopper_reason("too-long", field, max=max_len, count=len(text)),
        )
    control = next((i for i, c in enumerate(text) if ord(c) < 32 or ord(c) == 127), None)
    if control is not None:
        kind = "a line break" if text[control] in "\r\n" else "a control character"
        raise ProofError(
            f"The {what} contains {kind} ({describe(text[control])}) at character {control + 1}; "
            "it must be one line. Please type it again without it.",
            field,
            shopper=shopper_reason("control", field, char=describe(text[control]), position=control + 1),
        )
    _check_surrounding_space(text, what, field)
    hidden = hidden_character(text) if check_hidden else None
    if hidden is not None and unicodedata.category(hidden) in ("Cn", "Co", "Cs"):
        raise ProofError(
            f"The {what} contains a character that is not a letter or sign we can show ({describe(hidden)}). "
            "Please type it again without it.",
            field,
            shopper=shopper_reason("unshowable", field, char=describe(hidden)),
        )
    if hidden is not None:
        raise ProofError(
            f"The {what} contains an invisible character ({describe(hidden)}) that can change how it is "
            "displayed. Please type it again without it (copying from another document often brings one along).",
            field,
            shopper=shopper_reason("invisible", field, char=describe(hidden)),
        )
    return text


def _check_surrounding_space(text: str, what: str, field: str | None) -> None:
    """Refused, not trimmed: what is stored, signed and shown is exactly what was sent."""
    if text[:1].isspace():
        raise ProofError(
            f"The {what} begins with a space ({describe(text[0])}). Remove it and send it again: "
            "we keep what you type exactly as typed.",
            field,
            shopper=shopper_reason("space-start", field, char=describe(text[0])),
        )
    if text[-1:].isspace():
        raise ProofError(
            f"The {what} ends with a space ({describe(text[-1])}). Remove it and send it again: "
            "we keep what you type exactly as typed.",
            field,
            shopper=shopper_reason("space-end", field, char=describe(text[-1])),
        )


def clean_order_ref(value) -> str:
    return clean_line(value, "order reference", MAX_ORDER_REF, field="order_ref")


def clean_name(value) -> str:
    return clean_line(value, "customer's name", MAX_NAME, field="customer_name")


def clean_email(value) -> str:
    email = clean_line(
        value, "customer's email address", MAX_EMAIL, field="customer_email", check_hidden=False
    )
    hidden = hidden_character(email)
    if hidden is not None:
        # Named, not quoted: an override inside the quoted address would reorder this message too.
        raise ProofError(
            f"The customer's email address contains an invisible character ({describe(hidden)}), so it is not "
            "an email address we can send the proof to. Please type it again.",
            "customer_email",
            shopper=shopper_reason("invisible", "customer_email", char=describe(hidden)),
        )
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or any(c.isspace() or c in '<>(),;:"[]\\' for c in email)
        # Invisible characters (a pasted U+202E, a zero-width space) make an address that
        # looks right in the records and bounces.
        or any(unicodedata.category(c)[0] in "CZ" for c in email)
    ):
        raise ProofError(
            f"{quote(email)} is not an email address we can send the proof to.",
            "customer_email",
            shopper=shopper_reason("not-an-email", "customer_email", email=quote(email)),
        )
    return email


def clean_multiline(value, what: str, max_len: int = MAX_COMMENT, *, field: str | None = None) -> str:
    # CRLF is how browsers send a textarea's line breaks; nothing else is changed.
    text = str(value or "").replace("\r\n", "\n")
    if not text.strip():
        raise ProofError(f"The {what} is missing.", field, shopper=shopper_reason("missing", field))
    if len(text) > max_len:
        raise ProofError(
            f"The {what} is too long (at most {max_len} characters).",
            field,
            shopper=shopper_reason("too-long", field, max=max_len, count=len(text)),
        )
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ProofError(
            f"The {what} contains a control character.",
            field,
            shopper=shopper_reason("control-multiline", field),
        )
    # Free text keeps the marks and joiners that mixed-script writing and emoji use; only
    # what can reorder the displayed text, or cannot be stored, is refused.
    hidden = next(
        (c for c in text if c in BIDI_CONTROLS or unicodedata.category(c) in ("Cs", "Zl", "Zp")), None
    )
    if hidden is not None:
        raise ProofError(
            f"The {what} contains an invisible character ({describe(hidden)}) that can change how the text "
            "is displayed. Please type it again without it.",
            field,
            shopper=shopper_reason("invisible", field, char=describe(hidden)),
        )
    return text


def clean_comment(value) -> str:
    """The customer's description of the changes they want."""
    return clean_multiline(value, "description of the changes you want", field="comment")
