"""What the records say about mistakes: change-request and claim rates by product and font,
the kinds of correction customers ask for, time from email to decision, expiry, and who was
responsible for claims. Aggregations in SQL plus small pure functions; charts are SVG made
here on the server (no JavaScript)."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlite_utils
from markupsafe import Markup, escape

CORRECTION_KINDS = {
    "spelling": "Spelling or wording",
    "date": "Date or number",
    "layout": "Layout, size or line breaks",
    "font": "Font",
    "other": "Other",
}
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_HINTS = {
    "date": re.compile(rf"\b(date|year|month|day|birthday|{_MONTHS})", re.I),
    "font": re.compile(r"\b(font|script|typeface|cursive|lettering style)", re.I),
    "layout": re.compile(
        r"\b(size|bigger|smaller|larger|cent(er|re)|align|line|layout|spacing|position)", re.I
    ),
    "spelling": re.compile(r"\b(spell|typo|misspel|name|letter|wrong word)", re.I),
}


def _days_before(day: date, days: int) -> date:
    """`day` minus `days`, stopping at the first date there is (a typed 0001-01-01)."""
    try:
        return day - timedelta(days=days)
    except OverflowError:
        return date.min


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def start_ts(self) -> str:
        return self.start.isoformat()

    @property
    def end_ts(self) -> str:
        if self.end == date.max:
            # No day after it to compare with; this sorts after every timestamp on 9999-12-31.
            return "9999-12-31T99"
        return (self.end + timedelta(days=1)).isoformat()

    @classmethod
    def parse(
        cls, start: str | None, end: str | None, today: date | None = None
    ) -> tuple[DateRange, list[str]]:
        today = today or datetime.utcnow().date()
        errors = []
        try:
            end_d = date.fromisoformat(end) if end else today
        except ValueError:
            errors.append(f"To date {end!r} is not a date (use YYYY-MM-DD).")
            end_d = today
        try:
            start_d = date.fromisoformat(start) if start else _days_before(end_d, 89)
        except ValueError:
            errors.append(f"From date {start!r} is not a date (use YYYY-MM-DD).")
            start_d = _days_before(end_d, 89)
        if start_d > end_d:
            errors.append("The From date is after the To date; showing the 90 days before the To date.")
            start_d = _days_before(end_d, 89)
        return cls(start_d, end_d), errors


@dataclass
class Rate:
    key: str
    label: str
    proofs: int
    changes: int
    claims: int
    expired: int

    @property
    def change_rate(self) -> float:
        return self.changes / self.proofs if self.proofs else 0.0

    @property
    def claim_rate(self) -> float:
        return self.claims / self.proofs if self.proofs else 0.0


@dataclass
class Insights:
    period: DateRange
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_product: list[Rate] = field(default_factory=list)
    by_font: list[Rate] = field(default_factory=list)
    corrections: dict[str, int] = field(default_factory=dict)
    decision_hours: list[float] = field(default_factory=list)
    claims_by_outcome: dict[str, int] = field(default_factory=dict)
    claims_by_resolution: dict[str, int] = field(default_factory=dict)

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.decision_hours) if self.decision_hours else None

    @property
    def expired_share(self) -> float:
        return self.by_status.get("expired", 0) / self.total if self.total else 0.0

    @property
    def change_rate(self) -> float:
        changes = sum(r.changes for r in self.by_product)
        return changes / self.total if self.total else 0.0

    @property
    def claim_rate(self) -> float:
        claims = sum(r.claims for r in self.by_product)
        return claims / self.total if self.total else 0.0

    def decision_histogram(self) -> list[tuple[str, int]]:
        buckets = [
            ("< 1 h", 1),
            ("1–6 h", 6),
            ("6–24 h", 24),
            ("1–3 days", 72),
            ("3–7 days", 168),
            ("> 7 days", None),
        ]
        counts = [0] * len(buckets)
        for hours in self.decision_hours:
            for i, (_, limit) in enumerate(buckets):
                if limit is None or hours < limit:
                    counts[i] += 1
                    break
        return [(label, n) for (label, _), n in zip(buckets, counts, strict=True)]


# Not claims.design_text or Design.text_summary: a comparison key for two designs, where an
# emptied field still counts as a change.
def _lines_text(design: dict) -> tuple[list[str], dict]:
    return [str(x) for x in design.get("lines", [])], {
        str(k): str(v) for k, v in dict(design.get("fields", {})).items()
    }


def classify_correction(before: dict | None, after: dict | None, comment: str = "") -> set[str]:
    """The kinds of correction between two designs (and/or named in the customer's comment)."""
    kinds: set[str] = set()
    if before and after:
        if before.get("font") != after.get("font"):
            kinds.add("font")
        if before.get("align") != after.get("align") or before.get("size_mode") != after.get("size_mode"):
            kinds.add("layout")
        b_lines, b_fields = _lines_text(before)
        a_lines, a_fields = _lines_text(after)
        b_text = "\n".join(b_lines + [f"{k}:{v}" for k, v in sorted(b_fields.items())])
        a_text = "\n".join(a_lines + [f"{k}:{v}" for k, v in sorted(a_fields.items())])
        if b_text != a_text:
            if (
                " ".join(" ".join(b_lines).split()) == " ".join(" ".join(a_lines).split())
                and b_fields == a_fields
            ):
                kinds.add("layout")  # same words, other line breaks or spacing
            else:
                import difflib

                # Word by word: "March" -> "May" is a date change, "Jonh" -> "John" a spelling one.
                b_words = re.findall(r"\w+|[^\w\s]", b_text)
                a_words = re.findall(r"\w+|[^\w\s]", a_text)
                changed: list[str] = []
                for op, i1, i2, j1, j2 in difflib.SequenceMatcher(
                    None, b_words, a_words, autojunk=False
                ).get_opcodes():
                    if op != "equal":
                        changed += b_words[i1:i2] + a_words[j1:j2]
                month = re.compile(
                    r"^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
                    r"sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?)$",
                    re.I,
                )
                if any(any(c.isdigit() for c in w) or month.match(w) for w in changed):
                    kinds.add("date")
                if any(w.isalpha() and not month.match(w) for w in changed):
                    kinds.add("spelling")
                if not kinds:
                    kinds.add("spelling")
    if comment:
        hinted = {kind for kind, pattern in _HINTS.items() if pattern.search(comment)}
        if not kinds:
            kinds = hinted
    return kinds or {"other"}


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def compute(db: sqlite_utils.Database, period: DateRange, product_names: dict, font_names: dict) -> Insights:
    out = Insights(period)
    params = (period.start_ts, period.end_ts)
    scope = "p.created_at >= ? AND p.created_at < ?"
    for status, n in db.execute(
        f"SELECT status, count(*) FROM proofs p WHERE {scope} GROUP BY status", params
    ):
        out.by_status[status] = n
    out.total = sum(out.by_status.values())

    flags = (
        "EXISTS (SELECT 1 FROM events e WHERE e.proof_id = p.id AND e.kind = 'changes_requested') AS changed,"
        " EXISTS (SELECT 1 FROM claims c WHERE c.proof_id = p.id) AS claimed,"
        " p.status = 'expired' AS expired"
    )
    # Font as the customer first chose it: that is the choice a correction reflects.
    first_font = "coalesce((SELECT r.font FROM revisions r WHERE r.proof_id = p.id AND r.number = 1), p.font)"
    for key, names, target in (
        ("p.product", product_names, out.by_product),
        (first_font, font_names, out.by_font),
    ):
        sql = (
            f"SELECT k, count(*), sum(changed), sum(claimed), sum(expired) FROM"
            f" (SELECT {key} AS k, {flags} FROM proofs p WHERE {scope}) GROUP BY k ORDER BY count(*) DESC"
        )
        for k, n, changed, claimed, expired in db.execute(sql, params):
            target.append(Rate(k, names.get(k, k), n, changed or 0, claimed or 0, expired or 0))

    # Corrections: each change request against the revision it was about and the next one.
    out.corrections = {k: 0 for k in CORRECTION_KINDS}
    rows = db.execute(
        f"SELECT e.proof_id, e.data, e.at FROM events e JOIN proofs p ON p.id = e.proof_id"
        f" WHERE e.kind = 'changes_requested' AND {scope} ORDER BY e.proof_id, e.seq",
        params,
    ).fetchall()
    designs: dict[tuple[int, int], dict] = {}
    if rows:
        for r in db.execute(
            f"SELECT r.proof_id, r.number, r.design, r.created_at FROM revisions r JOIN proofs p ON p.id = r.proof_id"
            f" WHERE {scope}",
            params,
        ):
            try:
                designs[(r["proof_id"], r["number"])] = json.loads(r["design"])
            except (TypeError, ValueError):
                designs[(r["proof_id"], r["number"])] = {}
    for row in rows:
        try:
            data = json.loads(row["data"])
        except (TypeError, ValueError):
            data = {}
        number = data.get("revision")
        comment = str(data.get("comment") or "")
        before = designs.get((row["proof_id"], number)) if isinstance(number, int) else None
        after = designs.get((row["proof_id"], number + 1)) if isinstance(number, int) else None
        kinds = classify_correction(before, after, comment)
        for kind in kinds:
            out.corrections[kind] = out.corrections.get(kind, 0) + 1

    # Time from the email (sent, else queued) to the customer's decision on that revision.
    last_email: dict[int, str] = {}
    for row in db.execute(
        f"SELECT e.proof_id, e.kind, e.at FROM events e JOIN proofs p ON p.id = e.proof_id"
        f" WHERE e.kind IN ('email_queued', 'email_sent', 'approved', 'changes_requested') AND {scope}"
        f" ORDER BY e.proof_id, e.seq",
        params,
    ):
        if row["kind"] in ("email_queued", "email_sent"):
            if row["kind"] == "email_sent" or row["proof_id"] not in last_email:
                last_email[row["proof_id"]] = row["at"]
        elif row["proof_id"] in last_email:
            sent = last_email.pop(row["proof_id"])
            out.decision_hours.append(
                max(0.0, (_parse_ts(row["at"]) - _parse_ts(sent)).total_seconds() / 3600)
            )

    claim_scope = "c.created_at >= ? AND c.created_at < ?"
    for outcome, n in db.execute(
        f"SELECT outcome, count(*) FROM claims c WHERE {claim_scope} GROUP BY outcome", params
    ):
        out.claims_by_outcome[outcome] = n
    for res, n in db.execute(
        f"SELECT coalesce(resolution, 'undecided'), count(*) FROM claims c WHERE {claim_scope} GROUP BY 1",
        params,
    ):
        out.claims_by_resolution[res] = n
    return out


# --- charts ------------------------------------------------------------------------------

PALETTE = ("#7a4b1f", "#c2833f", "#5b7f62", "#9a3b3b", "#4f6d8a", "#8c7a66")


def bar_chart(
    rows: list[tuple[str, float, str]],
    *,
    title: str,
    max_value: float | None = None,
    color: str = PALETTE[0],
    width: int = 520,
    empty: str = "No data in this period",
) -> Markup:
    """Horizontal bars: rows of (label, value, value as shown). `empty`: what an empty chart says
    (the staff page passes it in the shop's language)."""
    label_w, value_w, bar_h, gap = 170, 100, 18, 8
    height = max(1, len(rows)) * (bar_h + gap) + gap
    top = max([max_value or 0] + [v for _, v, _ in rows]) or 1
    plot_w = width - label_w - value_w
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not rows:
        parts.append(f'<text x="0" y="{gap + 13}" class="empty">{escape(empty)}</text>')
    for i, (label, value, shown) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = 0 if top == 0 else max(0.0, value / top * plot_w)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" class="label">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" class="track" rx="2"/>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}" rx="2"/>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 13}" class="value">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar(
    parts_in: list[tuple[str, int]],
    *,
    title: str,
    width: int = 520,
    empty: str = "No data in this period",
    share=lambda fraction: f"{fraction:.0%}",
) -> Markup:
    """One bar split into shares, with a legend underneath; `empty` and `share` (a fraction
    written out) let the page put them in its language."""
    total = sum(n for _, n in parts_in)
    height = 30 + 22 * ((len(parts_in) + 1) // 2) + 6
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not total:
        out.append(f'<text x="0" y="16" class="empty">{escape(empty)}</text></svg>')
        return Markup("".join(out))
    x = 0.0
    for i, (label, n) in enumerate(parts_in):
        w = n / total * width
        color = PALETTE[i % len(PALETTE)]
        if w:
            out.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{color}">'
                f"<title>{escape(label)}: {n}</title></rect>"
            )
        x += w
        lx, ly = (i % 2) * (width / 2), 34 + (i // 2) * 22
        out.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}" rx="2"/>'
            f'<text x="{lx + 18}" y="{ly + 11}" class="label-left">{escape(label)}: {n} '
            f"({escape(share(n / total))})</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def hours_label(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
