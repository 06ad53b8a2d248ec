"""Dispute evidence for one proof: the facts (a dict, also served as JSON), and the same
facts as a PDF certificate in the manner of an e-signature certificate of completion.

Everything here reads the record as stored; nothing is recomputed from today's catalog
except display names. The PDF is real text (searchable, copyable) made with fpdf2.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from flask import Flask

from proofmark import anchoring, claim_photos, mail, storage
from proofmark.claims import design_text
from proofmark.records import sha256_hex, timestamp
from proofmark.verification import ProofVerification, verify_proof
from proofmark_renderer import catalog

EVIDENCE_VERSION = 1
EVENT_LABELS = {
    "proof_created": "Proof created",
    "revision_added": "Revision added",
    "image_rendered": "Proof image rendered",
    "email_queued": "Email queued",
    "email_sent": "Email sent",
    "email_failed": "Email failed",
    "proof_viewed": "Proof viewed",
    "approved": "Approved",
    "changes_requested": "Changes requested",
    "reminder_sent": "Reminder sent",
    "expired": "Expired",
    "resent": "Link resent",
    "cancelled": "Cancelled",
    "note_added": "Internal note",
    "claim_recorded": "Claim recorded",
    "claim_decided": "Claim decided",
    "production_file_sent": "Production file sent",
    "personalization_received": "Personalization as received",
    "link_shared": "Link given to staff to paste",
}


class RecordNotFound(LookupError):
    pass


@dataclass
class ProofRecord:
    """Everything stored about one proof, decoded."""

    proof: dict
    revisions: list[dict]
    events: list[dict]
    emails: list[dict]
    claims: list[dict]
    verification: ProofVerification
    approval: dict | None = None  # the approval event with its facts picked out
    approved_revision: dict | None = None
    product_name: str = ""
    product_description: str = ""
    product_version: dict | None = None
    variant: dict | None = None  # the variant (metal, colour) the proof is made in, if any
    image_problems: dict[str, str] = field(default_factory=dict)  # sha -> problem
    ledger: dict | None = None  # the approval's log entry, inclusion proof, signed head, timestamp
    moved_on: list[str] = field(default_factory=list)  # what happened after the approval

    @property
    def current(self) -> dict | None:
        return self.revisions[-1] if self.revisions else None


def _json(raw, default):
    try:
        value = json.loads(raw) if raw else default
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def _pick(data: dict, key: str, default=None):
    """A key of the approval event's data (as proofmark.proofs.service writes it); a dotted
    key looks inside nested dicts."""
    value = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return default if value in (None, "") else value


def font_name(font_id: str) -> str:
    font = catalog.font(font_id) if font_id else None
    return font.name if font else (font_id or "")


def _revision(row) -> dict:
    rev = dict(row)
    design = _json(rev.get("design"), {})
    rev["design_dict"] = design
    rev["lines"] = [str(x) for x in design.get("lines", [])]
    rev["fields"] = {str(k): str(v) for k, v in dict(design.get("fields", {})).items()}
    rev["product"] = design.get("product", "")
    rev["align"] = design.get("align", "center")
    rev["variant"] = str(design.get("variant", "") or "")
    rev["font_name"] = font_name(rev.get("font") or design.get("font", ""))
    rev["display_text"] = design_text(rev["lines"], rev["fields"]) if design else rev.get("text", "")
    return rev


def _approval(event: dict, revisions: list[dict]) -> dict:
    data = event["data_dict"]
    number = _pick(data, "revision")
    try:
        number = int(number) if number is not None else None
    except (TypeError, ValueError):
        number = None
    rev = next((r for r in revisions if r["number"] == number), None)
    lines = _pick(data, "text.lines", default=rev["lines"] if rev else None)
    fields = _pick(data, "text.fields", default=rev["fields"] if rev else None)
    font = _pick(data, "font.id", default=rev["font"] if rev else "")
    product = _pick(data, "product.id", default=rev["product"] if rev else "")
    statements = _pick(data, "statements", default=[])
    return {
        "event_id": event["id"],
        "seq": event["seq"],
        "at": event["at"],
        "actor": event["actor"],
        "ip": event["ip"],
        "user_agent": event["user_agent"],
        "hash": event["hash"],
        "revision": number,
        "image_sha256": _pick(data, "image_sha256", default=rev["image_sha256"] if rev else None),
        "lines": [str(x) for x in (lines or [])],
        "fields": {str(k): str(v) for k, v in dict(fields or {}).items()},
        "font": font,
        "font_name": _pick(data, "font.name") or font_name(font),
        "product": product,
        "disclosure_version": _pick(data, "disclosure.version"),
        "disclosure_sha256": _pick(data, "disclosure.sha256"),
        "disclosure_text": _pick(data, "disclosure.text"),
        "statements": [
            str(s.get("text") or s.get("id")) if isinstance(s, dict) else str(s) for s in statements
        ],
        "nonce": _pick(data, "nonce"),
        "data": data,
    }


def load_record(db: sqlite_utils.Database, proof_id: int, app: Flask | None = None) -> ProofRecord:
    row = db.execute("SELECT * FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    if row is None:
        raise RecordNotFound(f"There is no proof #{proof_id}.")
    proof = dict(row)
    revisions = [
        _revision(r)
        for r in db.execute("SELECT * FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,))
    ]
    events = []
    for r in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,)):
        event = dict(r)
        event["data_dict"] = _json(event["data"], {})
        event["label"] = EVENT_LABELS.get(event["kind"], event["kind"].replace("_", " ").capitalize())
        events.append(event)
    emails = []
    for r in db.execute("SELECT * FROM outbox WHERE proof_id = ? ORDER BY id", (proof_id,)):
        email = dict(r)
        try:  # the message as sent: its images put back from the store
            message = mail.message_bytes(email, app)
        except mail.MessageImageError:
            message = email["message"] or b""  # reported by the verification below
        email.pop("message")
        email.pop("message_images", None)
        email["message_sha256"] = sha256_hex(message if isinstance(message, bytes) else str(message).encode())
        email["size"] = len(message)
        emails.append(email)
    claims = [dict(r) for r in db.execute("SELECT * FROM claims WHERE proof_id = ? ORDER BY id", (proof_id,))]
    verification = verify_proof(db, proof_id, app)
    record = ProofRecord(proof, revisions, events, emails, claims, verification)
    record.claim_photos = claim_photos.for_proof(db, proof_id)
    record.image_problems = {p.image_sha256: p.message for p in verification.problems if p.what == "image"}
    approvals = [e for e in events if e["kind"] == "approved"]
    if approvals:
        record.approval = _approval(approvals[-1], revisions)
        number = record.approval["revision"]
        record.approved_revision = next((r for r in revisions if r["number"] == number), None)
        record.ledger = anchoring.evidence_for_event(db, approvals[-1]["id"])
        record.moved_on = _after_approval(approvals[-1], events)
    product = catalog.product(proof["product"])
    record.product_name = product.name if product else proof["product"]
    shown = record.approved_revision or (revisions[-1] if revisions else None)
    if shown and shown.get("variant"):
        record.variant = {
            "id": shown["variant"],
            "name": catalog.variant_name(proof["product"], shown["variant"]),
        }
    record.product_description = product.description if product else ""
    if product is not None and product.base_id:
        # A shop's own product: the exact published version and its photo (never rewritten).
        record.product_version = {
            "id": product.base_id,
            "version": product.version,
            "photo_sha256": product.photo_sha256,
        }
    return record


def _after_approval(approval: dict, events: list[dict]) -> list[str]:
    """Warnings for what staff did after the customer approved: the approval still stands
    for what was approved, but not for what the proof is now."""
    found = []
    for event in events:
        if event["seq"] <= approval["seq"]:
            continue
        data = event["data_dict"]
        if event["kind"] == "revision_added":
            found.append(
                f"After the customer approved revision {approval['data_dict'].get('revision')} on {approval['at']} UTC, "
                f"{event['actor']} added revision {data.get('revision')} on {event['at']} UTC: the approval "
                "below is for the earlier revision, not for what the proof shows now."
            )
        elif event["kind"] == "cancelled":
            found.append(
                f"After the customer approved on {approval['at']} UTC, {event['actor']} cancelled this proof on "
                f"{event['at']} UTC (reason: {data.get('reason')!s})."
            )
    return found


def _event_fact(event: dict) -> dict:
    return {
        "seq": event["seq"],
        "kind": event["kind"],
        "label": event["label"],
        "at_utc": event["at"],
        "actor": event["actor"],
        "ip": event["ip"],
        "user_agent": event["user_agent"],
        "data": event["data_dict"],
        "sha256": event["hash"],
        "prev_sha256": event["prev_hash"],
    }


def _photo_facts(record: ProofRecord, claim_id: int, base_url: str) -> list[dict]:
    """The claim's photos of the received item (stored without metadata, by SHA-256)."""
    return [
        {
            "sha256": ph["sha256"],
            "original_sha256": ph["original_sha256"],
            "size": [ph["width"], ph["height"]],
            "added_at_utc": ph["added_at"],
            "added_by": ph["added_by"],
            "url": f"{base_url}/staff/claim-photos/{ph['sha256']}.jpg",
        }
        for ph in getattr(record, "claim_photos", {}).get(claim_id, [])
    ]


def _shown_alongside(record: ProofRecord, number: int) -> dict:
    """The product's other views rendered with a revision's proof (its `image_rendered`
    event): shown beside the proof on the approval page, not part of what is approved. Only
    for a revision that has them, so every older pack is what it was."""
    views = []
    for event in record.events:
        if event["kind"] == "image_rendered" and event["data_dict"].get("revision") == number:
            views = [v for v in event["data_dict"].get("views") or [] if isinstance(v, dict)]
    if not views:
        return {}
    return {
        "shown_alongside": [
            {
                "view": v.get("view"),
                "name": v.get("name"),
                "image_sha256": v.get("image_sha256"),
                "image_size": v.get("image_size"),
                "image_verified": bool(v.get("image_sha256"))
                and v.get("image_sha256") not in record.image_problems,
            }
            for v in views
        ]
    }


def pdf_filename(record: ProofRecord) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in record.proof["order_ref"])[:60]
    return f"evidence-{safe or record.proof['id']}.pdf"


def email_filename(email: dict) -> str:
    return f"email-{email['id']}.eml"


def build_facts(record: ProofRecord, config: dict, base_url: str | None = None) -> dict:
    """The evidence as a JSON-able dict. File references are absolute under PUBLIC_URL (or
    `base_url`): never under the Host header a request happened to carry."""
    if base_url is None:
        base_url = str(config.get("PUBLIC_URL") or "").rstrip("/")
    proof = record.proof
    approval = record.approval
    verification = record.verification
    product_text = record.product_name + (
        f" ({record.product_description})" if record.product_description else ""
    )
    text = design_text(approval["lines"], approval["fields"]) if approval else None
    pdf_name = pdf_filename(record)
    pdf_url = f"{base_url}/staff/proofs/{proof['id']}/evidence.pdf"
    approval_problems = [
        p.describe()
        for p in verification.problems
        if approval and p.what in ("event", "log") and p.event_id == approval["event_id"]
    ]

    facts = {
        "evidence_version": EVIDENCE_VERSION,
        "generated_at_utc": timestamp(),
        "shop": {"name": config.get("SHOP_NAME"), "public_url": config.get("PUBLIC_URL")},
        "proof": {
            "id": proof["id"],
            "public_id": proof["public_id"],
            "order_ref": proof["order_ref"],
            "status": proof["status"],
            "source": proof["source"],
            "product": proof["product"],
            "product_name": record.product_name,
            **({"product_version": record.product_version} if record.product_version else {}),
            **({"variant": record.variant} if record.variant else {}),
            "created_at_utc": proof["created_at"],
            "decided_at_utc": proof.get("decided_at"),
            "current_revision": proof["current_revision"],
        },
        "customer": {"name": proof["customer_name"], "email": proof["customer_email"]},
        "approval": None,
        "revisions": [
            {
                "number": r["number"],
                "created_at_utc": r["created_at"],
                "created_by": r["created_by"],
                "product": r["product"],
                "font": r["font"],
                "font_name": r["font_name"],
                "lines": r["lines"],
                "fields": r["fields"],
                "align": r["align"],
                # None while the image is still being rendered (its render job binds it later).
                "image_sha256": r["image_sha256"] or None,
                "image_verified": bool(r["image_sha256"]) and r["image_sha256"] not in record.image_problems,
                "renderer_version": r["renderer_version"],
            }
            | _shown_alongside(record, r["number"])
            for r in record.revisions
        ],
        "timeline": [_event_fact(e) for e in record.events],
        # What went to production: every production file handed out, with its SHA-256.
        "production_files_sent": [
            {"at_utc": e["at"], "actor": e["actor"], **e["data_dict"]}
            for e in record.events
            if e["kind"] == "production_file_sent"
        ],
        "emails": [
            {
                "id": m["id"],
                "kind": m["kind"],
                "to": m["to_addr"],
                "subject": m["subject"],
                "status": m["status"],
                "message_id": m["message_id"],
                "queued_at_utc": m["created_at"],
                "sent_at_utc": m.get("sent_at"),
                "message_sha256": m["message_sha256"],
                "file": email_filename(m),
                "url": f"{base_url}/staff/proofs/{proof['id']}/emails/{m['id']}.eml",
            }
            for m in record.emails
        ],
        "claims": [
            {
                k: c[k]
                for k in (
                    "id",
                    "kind",
                    "description",
                    "expected_text",
                    "expected_font",
                    "outcome",
                    "reason",
                    "approved_revision",
                    "status",
                    "resolution",
                    "decision_note",
                    "recorded_by",
                    "created_at",
                    "decided_by",
                    "decided_at",
                )
            }
            | {"photos": _photo_facts(record, c["id"], base_url)}
            for c in record.claims
        ],
        "verification": {
            "intact": verification.intact,
            "events_checked": verification.events,
            "images_checked": verification.images,
            "problems": [p.describe() for p in verification.problems],
            "method": "Each event is an entry of the shop's append-only log across all proofs, authenticated "
            "field by field with a keyed HMAC whose key is not in the database, and a leaf of a Merkle tree "
            "(RFC 9162) whose heads are signed (Ed25519) and timestamped by an RFC 3161 authority. Every "
            "MAC, the per-proof hash chain, the proof's status, revisions, emails and claims (each against "
            "the events that made them) were re-checked, and every stored image was re-hashed and compared "
            "with the SHA-256 it is named by.",
        },
    }
    if approval:
        facts["approval"] = {
            "approved_at_utc": approval["at"],
            "revision": approval["revision"],
            "actor": approval["actor"],
            "ip": approval["ip"],
            "user_agent": approval["user_agent"],
            "image_sha256": approval["image_sha256"],
            "image_verified": bool(approval["image_sha256"])
            and approval["image_sha256"] not in record.image_problems,
            "lines": approval["lines"],
            "fields": approval["fields"],
            "text": text,
            "font": approval["font"],
            "font_name": approval["font_name"],
            "product": approval["product"],
            "disclosure": {
                "version": approval["disclosure_version"],
                "sha256": approval["disclosure_sha256"],
                "text": approval["disclosure_text"],
                "text_sha256_recomputed": sha256_hex(approval["disclosure_text"])
                if approval["disclosure_text"]
                else None,
            },
            "statements_ticked": approval["statements"],
            "nonce": approval["nonce"],
            "event_sha256": approval["hash"],
            "verified": not approval_problems,
        }
    facts["ledger"] = record.ledger
    if record.ledger:
        facts["ledger"]["how_to_verify"] = (
            "python verify_evidence.py evidence.json (scripts/verify_evidence.py, stand-alone: needs only "
            "Python, cryptography and rfc3161-client), or proofmark verify-evidence evidence.json."
        )

    # What staff must know before submitting (disputes usually take one submission only).
    warnings = list(record.moved_on)
    if approval_problems:
        warnings.insert(
            0,
            "The approval below FAILED verification (it may be forged or altered): "
            + "; ".join(approval_problems),
        )
    if approval and not record.ledger:
        warnings.append("The approval has no entry in the keyed log: it cannot be checked independently.")
    elif approval and not record.ledger.get("timestamp"):
        warnings.append(
            "No timestamped tree head covers the approval yet (run `proofmark anchor`): the pack cannot "
            "yet show, independently of the shop, when the approval existed."
        )
    if not approval:
        warnings.append(
            f"This proof was never approved by the customer (status: {proof['status']}): "
            "there is no approval to show the processor, only what was sent."
        )
    if not verification.intact:
        warnings.append("The record failed verification; explain that before relying on it.")
    shop_errors = [c for c in record.claims if c.get("outcome") == "shop_error"]
    if shop_errors:
        warnings.append(
            f"Claim #{shop_errors[-1]['id']} was assessed as the shop's error: "
            "no refusal explanation is offered."
        )
    declined = [c for c in record.claims if c.get("resolution") == "decline" and c.get("decision_note")]
    if declined:
        refusal = declined[-1]["decision_note"]
    elif shop_errors:
        refusal = ""
    elif approval:
        refusal = (
            f"The customer approved a proof of this exact personalisation on {approval['at']} (UTC), "
            f"after being shown the disclosure version {approval['disclosure_version'] or 'on record'}. "
            "The item was made to the approved proof. Personalised goods made to the consumer's "
            "specifications are excluded from the right of withdrawal (EU Directive 2011/83/EU, Art. 16(c))."
        )
    else:
        refusal = ""
    disclosure_note = ""
    if approval:
        disclosure_note = (
            f"Before approving, the customer was shown this disclosure (version {approval['disclosure_version']}, "
            f"SHA-256 {approval['disclosure_sha256']}) and ticked these statements: "
            + (" ".join(f"“{s}”" for s in approval["statements"]) or "(none recorded).")
            + f" Approval recorded {approval['at']} UTC from IP {approval['ip']}. Disclosure: "
            + (approval["disclosure_text"] or config.get("DISCLOSURE_TEXT", ""))
        )
    summary = [
        *(
            []
            if approval
            else [f"This proof was never approved by the customer (status: {proof['status']})."]
        ),
        f"Order {proof['order_ref']} for {proof['customer_name']} <{proof['customer_email']}>.",
        f"Proof status: {proof['status']}; {len(record.revisions)} revision(s); {len(record.events)} recorded events.",
        "Record verification: "
        + (
            "intact"
            if verification.intact
            else "FAILED: " + "; ".join(p.describe() for p in verification.problems)
        )
        + ".",
    ]
    if approval:
        summary.append(
            f"Approved revision {approval['revision']} (image SHA-256 {approval['image_sha256']}), "
            f"text {text!r}, font {approval['font_name']}."
        )
    facts["dispute_evidence"] = {
        "stripe": {
            "customer_name": proof["customer_name"],
            "customer_email_address": proof["customer_email"],
            "product_description": (
                f"{product_text}, personalised with the text {text!r} in the font {approval['font_name']} "
                f"(approved revision {approval['revision']})."
                if approval
                else product_text
            ),
            "customer_signature": {
                "file": pdf_name,
                "url": pdf_url,
                "description": "Approval certificate: the approved proof image, its SHA-256, the exact text, "
                "and the timestamped approval with IP address and user agent."
                if approval
                else "No signature: the customer never approved this proof. The PDF records what "
                "was sent and every event, with no approval.",
            },
            "customer_communication": [
                {
                    "file": email_filename(m),
                    "url": f"{base_url}/staff/proofs/{proof['id']}/emails/{m['id']}.eml",
                    "subject": m["subject"],
                    "sent_at_utc": m.get("sent_at"),
                    "message_id": m["message_id"],
                }
                for m in record.emails
            ],
            "refund_policy": config.get("REFUND_POLICY_TEXT", ""),
            "refund_policy_disclosure": disclosure_note,
            "refund_refusal_explanation": refusal,
            "uncategorized_text": " ".join(summary),
        },
        "warnings": warnings,
    }
    # Also at the top level: what a reader of evidence.json must see first.
    facts["warnings"] = warnings
    return facts


def to_json(facts: dict) -> str:
    return json.dumps(facts, indent=2, ensure_ascii=False, sort_keys=False)


# --- PDF ---------------------------------------------------------------------------------


def _font_files() -> dict[str, Path]:
    """Noto Sans regular and bold from the catalog's font folder, plus script fallbacks."""
    found: dict[str, Path] = {}
    noto = catalog.font("noto-sans")
    if noto is not None:
        family = noto.path.parent.parent
        for style, sub in (("", "400Regular/NotoSans_400Regular.ttf"), ("B", "700Bold/NotoSans_700Bold.ttf")):
            path = family / sub
            found[style] = path if path.is_file() else noto.path
    for fid in ("noto-sans-hebrew", "noto-sans-arabic"):
        font = catalog.font(fid)
        if font is not None:
            found[fid] = font.path
    return found


def _pdf_claim_photos(pdf, photos: list[dict], width: float, font: str) -> None:
    """The photos of the received item, three to a row, each captioned with its SHA-256."""
    size = (width - 8) / 3
    for start in range(0, len(photos), 3):
        row = photos[start : start + 3]
        if pdf.get_y() + size + 12 > pdf.h - pdf.b_margin:
            pdf.add_page()
        top, left = pdf.get_y(), pdf.l_margin
        for n, ph in enumerate(row):
            x = left + n * (size + 4)
            try:
                w, h = ph["size"]
                scale = min(size / w, size / h)
                pdf.image(io.BytesIO(claim_photos.get(ph["sha256"])), x=x, y=top, w=w * scale, h=h * scale)
            except (OSError, ValueError):
                pdf.set_xy(x, top)
                pdf.multi_cell(size, 4, "(photo file missing)")
            pdf.set_xy(x, top + size + 1)
            pdf.set_font(font, "", 6.5)
            pdf.multi_cell(size, 3, f"Received item · SHA-256 {ph['sha256']}", align="L")
        pdf.set_xy(left, top + size + 10)


def render_pdf(record: ProofRecord, facts: dict, app: Flask | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    files = _font_files()
    proof = record.proof
    approval = facts["approval"]
    verification = facts["verification"]

    class Certificate(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(body, "", 7.5)
            self.set_text_color(110)
            self.cell(
                0,
                5,
                f"Proofmark evidence · order {proof['order_ref']} · generated {facts['generated_at_utc']}"
                f" · page {self.page_no()}/{{nb}}",
                align="C",
            )

    pdf = Certificate(format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(16, 14, 16)
    pdf.set_title(f"Approval record, order {proof['order_ref']}")
    pdf.set_author(str(facts["shop"]["name"] or "Proofmark"))
    pdf.set_creator("Proofmark")
    if "" in files:
        pdf.add_font("Noto", "", str(files[""]))
        pdf.add_font("Noto", "B", str(files["B"]))
        fallbacks = []
        for fid in ("noto-sans-hebrew", "noto-sans-arabic"):
            if fid in files:
                pdf.add_font(fid, "", str(files[fid]))
                fallbacks.append(fid)
        if fallbacks:
            pdf.set_fallback_fonts(fallbacks)
        body = "Noto"
    else:
        body = "Helvetica"
    mono = "Courier"
    pdf.add_page()
    width = pdf.epw

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font(body, "B", 12)
        pdf.set_text_color(122, 75, 31)
        pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(220, 210, 198)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(1.5)
        pdf.set_text_color(29, 27, 25)

    def row(label: str, value, mono_value: bool = False, label_w: float = 42) -> None:
        pdf.set_font(body, "B", 8.5)
        x, y = pdf.get_x(), pdf.get_y()
        pdf.multi_cell(label_w, 4.6, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(mono if mono_value else body, "", 8 if mono_value else 9)
        pdf.multi_cell(
            width - label_w,
            4.6,
            "" if value is None else str(value),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_x(x)
        del y

    # Title block
    pdf.set_font(body, "B", 18)
    pdf.cell(
        0,
        9,
        "Proof approval record" if approval else "Proof record: never approved",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(body, "", 9.5)
    pdf.set_text_color(107, 101, 94)
    if approval:
        subtitle = (
            f"{facts['shop']['name']} · Certificate of the customer's approval of a personalisation "
            "proof, with the complete event log and its verification."
        )
    else:
        subtitle = (
            f"{facts['shop']['name']} · The customer never approved this proof "
            f"(status: {proof['status'].replace('_', ' ')}). This is the record of what was sent and "
            "what happened, with the complete event log and its verification; it is not an approval."
        )
    pdf.multi_cell(width, 5, subtitle, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(29, 27, 25)
    pdf.ln(2)

    # What staff (and the reader) must know first: the record moved on, or did not verify.
    for warning in facts["warnings"]:
        pdf.set_fill_color(255, 240, 205)
        pdf.set_font(body, "B", 9)
        pdf.multi_cell(
            width, 5, "Warning: " + warning, fill=True, padding=1.5, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(1)

    # Verification banner
    intact = verification["intact"]
    pdf.set_fill_color(*((226, 242, 228) if intact else (251, 225, 222)))
    pdf.set_font(body, "B", 10)
    banner = ("Record verified: intact. " if intact else "Record verification FAILED. ") + (
        f"{verification['events_checked']} events and {verification['images_checked']} stored image(s) re-hashed "
        f"on {facts['generated_at_utc']}."
    )
    pdf.multi_cell(width, 6, banner, fill=True, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for problem in verification["problems"]:
        pdf.set_font(body, "", 8.5)
        pdf.multi_cell(width, 4.6, "• " + problem, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading("Order and customer")
    row("Order reference", proof["order_ref"])
    row("Customer", f"{proof['customer_name']} <{proof['customer_email']}>")
    row(
        "Product",
        record.product_name + (f" — {record.product_description}" if record.product_description else ""),
    )
    if record.variant:
        row("Variant", f"{record.variant['name']} ({record.variant['id']})")
    if record.product_version:
        v = record.product_version
        row("Product version", f"{v['id']} version {v['version']}, photo SHA-256 {v['photo_sha256']}")
    row(
        "Proof",
        f"#{proof['id']} ({proof['public_id']}), status {proof['status'].replace('_', ' ')}, "
        f"created {proof['created_at']} via {proof['source']}",
    )

    if approval:
        heading(f"Approved proof (revision {approval['revision']})")
        image_sha = approval["image_sha256"]
        png = None
        if image_sha:
            try:
                png = storage.get(image_sha, app)
            except (FileNotFoundError, ValueError):
                png = None
        top = pdf.get_y()
        image_w = 72
        if png:
            pdf.image(io.BytesIO(png), x=pdf.l_margin, y=top, w=image_w)
            image_bottom = pdf.get_y()
        else:
            pdf.set_font(body, "", 9)
            pdf.multi_cell(
                image_w,
                5,
                "The stored proof image is missing or does not match its hash.",
                border=1,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            image_bottom = pdf.get_y()
        right_x = pdf.l_margin + image_w + 6
        right_w = width - image_w - 6
        pdf.set_xy(right_x, top)

        def side(label: str, value: str, size: float = 9, font: str | None = None) -> None:
            pdf.set_x(right_x)
            pdf.set_font(body, "B", 8.5)
            pdf.multi_cell(right_w, 4.6, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_x(right_x)
            pdf.set_font(font or body, "", size)
            pdf.multi_cell(right_w, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)

        side("Approved", f"{approval['approved_at_utc']} (UTC)")
        side("By", f"{approval['actor']}, IP {approval['ip'] or '—'}")
        side("User agent", approval["user_agent"] or "—", size=7.5)
        side(
            "Exact text, line by line",
            "\n".join(f"{i}. “{line}”" for i, line in enumerate(approval["lines"], 1)) or "(no lines)",
            size=10.5,
        )
        if approval["fields"]:
            side("Named fields", "\n".join(f"{k}: “{v}”" for k, v in approval["fields"].items()), size=10.5)
        side("Font", f"{approval['font_name']} ({approval['font']})")
        pdf.set_y(max(pdf.get_y(), image_bottom) + 2)
        pdf.set_x(pdf.l_margin)
        # On one line, so the hash can be searched and copied whole.
        row("Image SHA-256", image_sha or "—", mono_value=True)
        if image_sha in record.image_problems:
            row("Image check", "FAILED: " + record.image_problems[image_sha])
        approved_rev = next((r for r in facts["revisions"] if r["number"] == approval["revision"]), {})
        for view in approved_rev.get("shown_alongside", []):
            row(
                f"Shown alongside: {view['name']}",
                f"{view['image_sha256']} "
                + ("(verified)" if view["image_verified"] else "(FAILED CHECK)")
                + ", another view of the same design, not part of what is approved",
                mono_value=True,
            )

        heading("Disclosure shown and statements ticked")
        disclosure = approval["disclosure"]
        row("Version", disclosure["version"] or "—")
        row("Disclosure SHA-256", disclosure["sha256"] or "—", mono_value=True)
        row("Text shown", disclosure["text"] or "(the text is not stored in the approval event)")
        row("Statements ticked", "\n".join(f"• {s}" for s in approval["statements_ticked"]) or "—")
        row("Link nonce", approval["nonce"] or "—", mono_value=True)
        row("Approval event SHA-256", approval["event_sha256"], mono_value=True)
        if facts.get("ledger"):
            row("Record hash (receipt)", facts["ledger"]["leaf_hash"], mono_value=True)
            row("Position in the log", str(facts["ledger"]["leaf_index"]))
    else:
        heading("Approval")
        pdf.set_font(body, "B", 10)
        pdf.multi_cell(
            width,
            5.5,
            f"This proof was never approved (status: {proof['status'].replace('_', ' ')}).",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        latest = record.current
        if latest is not None:
            heading(f"Latest proof sent (revision {latest['number']}), not approved")
            png = None
            try:
                png = storage.get(latest["image_sha256"], app)
            except (FileNotFoundError, ValueError):
                png = None
            if png:
                pdf.image(io.BytesIO(png), x=pdf.l_margin, w=72)
                pdf.ln(2)
            row(
                "Text, line by line",
                "\n".join(f"{i}. “{line}”" for i, line in enumerate(latest["lines"], 1))
                + "".join(f"\n{k}: “{v}”" for k, v in latest["fields"].items()),
            )
            row("Font", f"{latest['font_name']} ({latest['font']})")
            row("Image SHA-256", latest["image_sha256"], mono_value=True)

    heading("Timeline (UTC)")
    for event in facts["timeline"]:
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.set_font(body, "B", 9)
        pdf.cell(12, 5, f"#{event['seq']}")
        pdf.cell(52, 5, event["at_utc"])
        pdf.cell(0, 5, f"{event['label']} — {event['actor']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(pdf.l_margin + 12)
        pdf.set_font(body, "", 8)
        details = []
        if event["ip"] or event["user_agent"]:
            details.append(f"IP {event['ip'] or '—'} · {event['user_agent'] or 'no user agent'}")
        # Everything the event recorded, uncut: this is the log the hashes are computed over.
        for key, value in sorted(event["data"].items()):
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
            details.append(f"{key}: {shown}")
        if details:
            pdf.multi_cell(
                width - 12, 4.2, "\n".join(details), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        pdf.set_x(pdf.l_margin + 12)
        pdf.set_font(mono, "", 7)
        pdf.set_text_color(107, 101, 94)
        pdf.cell(0, 4, f"SHA-256 {event['sha256']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(29, 27, 25)
        pdf.ln(0.8)

    if facts["revisions"]:
        heading("Revisions")
        for rev in facts["revisions"]:
            pdf.set_font(body, "", 8.5)
            text = " / ".join(rev["lines"] + [f"{k}: {v}" for k, v in rev["fields"].items()])
            pdf.multi_cell(
                width,
                4.6,
                f"Revision {rev['number']} · {rev['created_at_utc']} · by {rev['created_by']} · "
                f"{rev['font_name']} · “{text}”",
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.set_font(mono, "", 7)
            pdf.cell(
                0,
                4,
                f"image SHA-256 {rev['image_sha256']} "
                + ("(verified)" if rev["image_verified"] else "(FAILED CHECK)"),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            for view in rev.get("shown_alongside", []):
                pdf.cell(
                    0,
                    4,
                    f"shown alongside (not approved): {view['name']} view, image SHA-256 {view['image_sha256']} "
                    + ("(verified)" if view["image_verified"] else "(FAILED CHECK)"),
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )

    if facts["emails"]:
        heading("Emails to the customer")
        for m in facts["emails"]:
            pdf.set_font(body, "", 8.5)
            pdf.multi_cell(
                width,
                4.6,
                f"{m['kind']} to {m['to']}: “{m['subject']}” · queued {m['queued_at_utc']} · "
                f"{m['status']}" + (f" {m['sent_at_utc']}" if m["sent_at_utc"] else ""),
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.set_font(mono, "", 7)
            pdf.multi_cell(
                width,
                3.8,
                f"Message-ID {m['message_id']}\nSHA-256 {m['message_sha256']} ({m['file']})",
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.ln(0.8)

    if facts["claims"]:
        heading("Return claims")
        for c in facts["claims"]:
            pdf.set_font(body, "B", 9)
            pdf.multi_cell(
                width,
                4.8,
                f"Claim #{c['id']} · {c['kind']} · recorded {c['created_at']} by "
                f"{c['recorded_by']} · assessed: {c['outcome'].replace('_', ' ')}",
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.set_font(body, "", 8.5)
            lines = [f"Customer says: {c['description']}"]
            if c["expected_text"]:
                lines.append(f"Should have said: “{c['expected_text']}”")
            if c["expected_font"]:
                lines.append(f"Font expected: {c['expected_font']}")
            lines.append(f"Assessment: {c['reason']}")
            if c["status"] == "decided":
                lines.append(
                    f"Decided {c['decided_at']} by {c['decided_by']}: {c['resolution']}"
                    + (f" — {c['decision_note']}" if c["decision_note"] else "")
                )
            pdf.multi_cell(width, 4.4, "\n".join(lines), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            _pdf_claim_photos(pdf, c["photos"], width, body)
            pdf.ln(1)

    ledger = facts.get("ledger")
    if ledger:
        heading("Independent verification (keyed log, signed tree head, RFC 3161 timestamp)")
        row("Log position", f"entry {ledger['leaf_index']} of {ledger['log_size_now']}")
        row("Leaf hash", ledger["leaf_hash"], mono_value=True)
        head = ledger.get("tree_head")
        if head:
            row("Signed tree head", f"{head['tree_size']} entries, signed {head['timestamp']}")
            row("Root hash", head["root_hash"], mono_value=True)
            row("Signature (Ed25519)", ledger["signature"], mono_value=True)
            row("Public key", ledger["public_key"], mono_value=True)
            row(
                "Inclusion proof",
                "\n".join(ledger["inclusion_proof"]) or "(the tree has one entry)",
                mono_value=True,
            )
        else:
            row("Signed tree head", "none yet: no head has been signed since this approval")
        stamp = ledger.get("timestamp")
        if stamp:
            row("Timestamp (RFC 3161)", f"{stamp['gen_time_utc']} from {stamp['tsa_url']}")
            row(
                "Token",
                f"{len(stamp['response'])} characters of base64 in evidence.json (ledger.timestamp.response)",
            )
        else:
            row("Timestamp (RFC 3161)", "not yet: the head that covers this approval is waiting for a TSA")
        pdf.set_font(body, "", 8.5)
        pdf.multi_cell(
            width,
            4.6,
            "Anyone can check this without the shop: run the stand-alone verify_evidence.py (Python, "
            "cryptography, rfc3161-client) on evidence.json. It checks that the approval entry is in the "
            "signed tree, the signature and the timestamp, and says what that proves and what it does not.",
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    heading("How this record was verified")
    pdf.set_font(body, "", 8.5)
    pdf.multi_cell(width, 4.6, verification["method"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
