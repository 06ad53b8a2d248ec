"""Return claims: compare what the customer now says with what they approved, and say who
is responsible and why. Pure functions: no database, no Flask.

The shop's rule (DOMAIN.md): if the shop made the mistake it remakes the item at its cost;
if the customer approved a proof that matches what was made, the customer is responsible.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from babel.numbers import format_decimal
from flask_babel import get_locale, gettext

CLAIM_KINDS = {
    "text": "The text is wrong (spelling, name, date, wording)",
    "font": "The font is wrong",
    "layout": "Layout or size is not what was expected",
    "quality": "Defect in making or material (scratch, misprint, damage)",
    "other": "Something else",
}
OUTCOMES = {
    "shop_error": "Shop's error: remake",
    "customer_responsibility": "Customer's responsibility",
    "not_approved": "Never approved",
    "needs_inspection": "Needs inspection",
}
ITEM_MATCHES = ("unknown", "yes", "no")
# Generous for what a customer says and for any engraving, small enough that a pasted
# document cannot bloat the permanent record (every claim is copied into the event log).
MAX_DESCRIPTION = 2000
MAX_EXPECTED_TEXT = 500
MAX_FONT_NAME = 100


@dataclass(frozen=True)
class ApprovedRevision:
    """What the customer approved, as recorded by the approval event and its revision."""

    number: int
    lines: tuple[str, ...]
    fields: dict
    font: str
    font_name: str
    product: str
    image_sha256: str
    approved_at: str


@dataclass(frozen=True)
class RevisionText:
    number: int
    lines: tuple[str, ...]
    fields: dict
    font: str


@dataclass(frozen=True)
class Claim:
    kind: str
    description: str
    expected_text: str = ""
    expected_font: str = ""
    item_matches_proof: str = "unknown"  # staff's check of the item against the approved image


@dataclass(frozen=True)
class Integrity:
    chain_intact: bool = True
    image_problem: str | None = None
    problems: tuple[str, ...] = ()


@dataclass
class Assessment:
    outcome: str
    reason: str
    approved_revision: int | None = None
    approved_text: str = ""
    claimed_text: str = ""
    # Character diff: (op, text) with op in "equal", "delete" (approved only), "insert" (claim only).
    approved_segments: list[tuple[str, str]] = field(default_factory=list)
    claimed_segments: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "label": self.label,
            "reason": self.reason,
            "approved_revision": self.approved_revision,
            "approved_text": self.approved_text,
            "claimed_text": self.claimed_text,
            "notes": list(self.notes),
        }


class ClaimError(ValueError):
    """A claim that cannot be assessed as entered; the message says what to fix."""


def design_text(lines, fields: dict | None = None) -> str:
    """The personalised text as one string: one line per engraved line, then named fields.
    Not Design.text_summary (" / " on one line): claims and evidence compare and diff it
    line by line."""
    parts = [str(line) for line in lines]
    parts += [f"{name}: {value}" for name, value in sorted((fields or {}).items()) if value]
    return "\n".join(parts)


def _norm_lines(text: str) -> list[str]:
    # Spacing runs and blank lines are not part of what is engraved; letters and case are.
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def char_diff(a: str, b: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Segments of `a` and of `b` marked equal/delete/insert, character by character."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(("equal", a[i1:i2]))
            right.append(("equal", b[j1:j2]))
        else:
            if i2 > i1:
                left.append(("delete", a[i1:i2]))
            if j2 > j1:
                right.append(("insert", b[j1:j2]))
    return left, right


def _has_control_characters(text: str) -> bool:
    return any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text)


def validate(claim: Claim) -> Claim:
    for value, what, limit in (
        (claim.description, gettext("What the customer says is wrong"), MAX_DESCRIPTION),
        (claim.expected_text, gettext("What it should have said"), MAX_EXPECTED_TEXT),
        (claim.expected_font, gettext("The font name"), MAX_FONT_NAME),
    ):
        if len(value) > limit:
            raise ClaimError(
                gettext(
                    "%(what)s is too long: %(count)s characters, at most %(max)s. "
                    "Shorten it; the full story can go into an internal note.",
                    what=what,
                    count=format_decimal(len(value), locale=get_locale() or "en"),
                    max=format_decimal(limit, locale=get_locale() or "en"),
                )
            )
        if _has_control_characters(value):
            raise ClaimError(
                gettext("%(what)s contains a control character; retype it without pasting.", what=what)
            )
    if claim.kind not in CLAIM_KINDS:
        raise ClaimError(gettext("Choose what the claim is about."))
    if not claim.description.strip():
        raise ClaimError(gettext("Write down what the customer says is wrong."))
    if claim.kind == "text" and not claim.expected_text.strip():
        raise ClaimError(gettext("For a text claim, enter what the customer says the item should have said."))
    if claim.kind == "font" and not claim.expected_font.strip():
        raise ClaimError(gettext("For a font claim, choose the font the customer says they chose."))
    if claim.item_matches_proof not in ITEM_MATCHES:
        raise ClaimError(
            gettext("Say whether the item matches the approved proof (or that you have not seen it).")
        )
    return claim


def _integrity_notes(integrity: Integrity) -> list[str]:
    notes = []
    if not integrity.chain_intact:
        notes.append(
            gettext(
                "The proof's record failed verification (%(problems)s): it cannot be relied on as evidence "
                "until that is explained.",
                problems="; ".join(integrity.problems[:3]),
            )
        )
    if integrity.image_problem:
        notes.append(
            gettext("The stored proof image failed its check: %(problem)s.", problem=integrity.image_problem)
        )
    return notes


def assess(
    claim: Claim,
    approved: ApprovedRevision | None,
    *,
    status: str,
    revisions: list[RevisionText] = (),
    integrity: Integrity = Integrity(),
) -> Assessment:
    """The outcome of a claim against a proof, with its reason in plain words."""
    claim = validate(claim)
    if approved is None:
        states = {
            "awaiting_approval": lambda: gettext("it is still waiting for the customer's decision"),
            "changes_requested": lambda: gettext(
                "the customer asked for changes and approved no later revision"
            ),
            "expired": lambda: gettext("it expired without a decision"),
            "cancelled": lambda: gettext("it was cancelled"),
        }
        state = states[status]() if status in states else gettext("its status is %(status)s", status=status)
        return Assessment(
            "not_approved",
            gettext(
                "This proof was never approved: %(state)s. There is no approval to hold the customer to, "
                "so the shop cannot decline the claim on the strength of a proof.",
                state=state,
            ),
        )

    approved_text = design_text(approved.lines, approved.fields)
    result = Assessment(
        "needs_inspection", "", approved_revision=approved.number, approved_text=approved_text
    )
    notes = result.notes

    if claim.kind == "quality":
        result.outcome = "shop_error"
        result.reason = gettext(
            "A defect in making or material is not about the personalisation: approving the proof "
            "does not cover it. The shop remakes the item."
        )
    elif claim.kind == "text":
        claimed = _norm_lines(claim.expected_text)
        lines_only = _norm_lines("\n".join(approved.lines))
        field_values = [
            " ".join(str(v).split()) for _, v in sorted(approved.fields.items()) if str(v).strip()
        ]
        with_fields = lines_only + field_values
        want = with_fields if field_values and len(claimed) > len(lines_only) else lines_only
        result.claimed_text = "\n".join(claimed)
        result.approved_segments, result.claimed_segments = char_diff("\n".join(want), "\n".join(claimed))
        if claimed in (lines_only, with_fields):
            result.outcome = "shop_error"
            result.reason = gettext(
                "The text the customer says they wanted is exactly the text they approved in revision "
                "%(number)s. If the item says anything else, it was made wrong: the shop's error, remake it.",
                number=approved.number,
            )
        elif " ".join(claimed) in (" ".join(lines_only), " ".join(with_fields)):
            result.outcome = "customer_responsibility"
            result.reason = gettext(
                "The words are the same as approved in revision %(number)s, but broken into lines "
                "differently. The customer approved the line breaks shown on the proof.",
                number=approved.number,
            )
        elif [c.casefold() for c in claimed] == [w.casefold() for w in want]:
            result.outcome = "customer_responsibility"
            result.reason = gettext(
                "The claim differs from the approved text (revision %(number)s) only in capital "
                "letters. The customer approved the capitals shown on the proof.",
                number=approved.number,
            )
        else:
            result.outcome = "customer_responsibility"
            result.reason = gettext(
                "The claim asks for text different from what the customer approved in revision "
                "%(number)s (differences highlighted). Under the shop's policy an item made as "
                "approved is the customer's responsibility.",
                number=approved.number,
            )
        if result.outcome == "customer_responsibility":
            for rev in revisions:
                rev_lines = _norm_lines("\n".join(rev.lines))
                rev_fields = [
                    " ".join(str(v).split()) for _, v in sorted(rev.fields.items()) if str(v).strip()
                ]
                if rev.number != approved.number and claimed in (rev_lines, rev_lines + rev_fields):
                    notes.append(
                        gettext(
                            "The claimed text matches revision %(claimed)s, which was replaced before the "
                            "customer approved revision %(number)s.",
                            claimed=rev.number,
                            number=approved.number,
                        )
                    )
        if claim.item_matches_proof == "no" and result.outcome != "shop_error":
            notes.append(
                gettext(
                    "You noted that the item does not match the approved proof: whatever the customer now asks "
                    "for, an item that differs from the approved proof was made wrong."
                )
            )
            result.outcome = "shop_error"
            result.reason = gettext(
                "The item does not match the approved proof, so it was made wrong: the shop's error."
            )
    elif claim.kind == "font":
        expected = claim.expected_font.strip()
        if expected in (approved.font, approved.font_name):
            result.outcome = "shop_error"
            result.reason = gettext(
                "The customer approved %(font)s in revision %(number)s, the font they "
                "say they chose. If the item is in another font, it was made wrong: remake it.",
                font=approved.font_name,
                number=approved.number,
            )
        else:
            result.outcome = "customer_responsibility"
            result.reason = gettext(
                "The customer approved %(font)s in revision %(number)s, not %(expected)s. "
                "The proof showed the approved font.",
                font=approved.font_name,
                number=approved.number,
                expected=expected,
            )
    else:
        layout = claim.kind == "layout"
        if claim.item_matches_proof == "yes":
            result.outcome = "customer_responsibility"
            result.reason = (
                gettext(
                    "The item matches the proof approved in revision %(number)s, which showed the layout and "
                    "size as made. The customer approved it.",
                    number=approved.number,
                )
                if layout
                else gettext(
                    "The item matches the proof approved in revision %(number)s, which showed the design "
                    "as made. The customer approved it.",
                    number=approved.number,
                )
            )
        elif claim.item_matches_proof == "no":
            result.outcome = "shop_error"
            result.reason = gettext(
                "The item does not match the approved proof, so it was made wrong: the shop's error."
            )
        else:
            result.outcome = "needs_inspection"
            result.reason = (
                gettext(
                    "The approved proof (revision %(number)s) shows the layout and size the customer accepted. "
                    "Compare the item (or the customer's photo) with the approved proof image: if they match, "
                    "the customer is responsible; if not, it was made wrong.",
                    number=approved.number,
                )
                if layout
                else gettext(
                    "The approved proof (revision %(number)s) shows the design the customer accepted. "
                    "Compare the item (or the customer's photo) with the approved proof image: if they match, "
                    "the customer is responsible; if not, it was made wrong.",
                    number=approved.number,
                )
            )

    integrity_notes = _integrity_notes(integrity)
    if integrity_notes:
        notes[:0] = integrity_notes
        if result.outcome == "customer_responsibility":
            result.outcome = "needs_inspection"
            result.reason += " " + gettext(
                "But the record failed verification, so it cannot carry a decision against the customer."
            )
    return result


def resolutions_for(outcome: str, configured: list[dict]) -> list[dict]:
    """The shop's resolutions offered for an outcome, in the shop's order."""
    offered = []
    for item in configured or []:
        if not isinstance(item, dict) or "id" not in item:
            continue
        if outcome in (item.get("for") or list(OUTCOMES)):
            offered.append(
                {
                    "id": str(item["id"]),
                    "label": str(item.get("label", item["id"])),
                    "explain": bool(item.get("explain")),
                }
            )
    return offered


def resolution(resolution_id: str, configured: list[dict]) -> dict | None:
    for item in configured or []:
        if isinstance(item, dict) and str(item.get("id")) == resolution_id:
            return {
                "id": resolution_id,
                "label": str(item.get("label", resolution_id)),
                "explain": bool(item.get("explain")),
            }
    return None
