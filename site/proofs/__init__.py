"""Proofs: what the customer is asked to approve, its revisions, and the record of it.

Plain functions that take a sqlite_utils Database and run inside an app context (they
read the config and render email templates), never a request. Each public function that
writes does so in one BEGIN IMMEDIATE transaction: the proof change, its events in the
hash chain (proofmark.records) and the email it causes (proofmark.mail outbox) commit together or
not at all. Decisions re-read the proof inside that transaction, so a double click, a
replayed POST or two racing approvals yield one decision event and one outcome.

Statuses: awaiting_approval -> approved | changes_requested | expired | cancelled;
a new revision (staff, after a change request) puts the proof back to awaiting_approval.
An expired proof holds production; it is never approved by the passing of time.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils
from flask import current_app

from proofmark import mail, storage
from proofmark.db import transaction
from proofmark.records import append_event, canonical_json, sha256_hex, timestamp, utcnow

STATUSES = ("awaiting_approval", "approved", "changes_requested", "expired", "cancelled")
SOURCES = ("shop", "staff", "api")
EVENT_KINDS = (
    "proof_created",
    "revision_added",
    "email_queued",
    "email_sent",
    "email_failed",
    "proof_viewed",
    "approved",
    "changes_requested",
    "reminder_sent",
    "expired",
    "resent",
    "cancelled",
)
EMAIL_IMAGE_CID_PREFIX = "proof-image"
MAX_COMMENT = 4000
MAX_NAME = 200
MAX_ORDER_REF = 64
# A person reloading the page is one view, not twenty.
VIEW_DEDUP_SECONDS = 300


class ProofError(ValueError):
    """Bad input or a state that does not allow the action; str() is plain language.
    `field` names the input at fault (customer_name, order_ref, ...) when there is one, so
    a form can point at it and an API client can tell which one it was."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ProofNotFound(ProofError):
    pass


class ProofSuperseded(ProofError):
    """The link is for a revision that a newer one has replaced."""


class ProofChanged(ProofError):
    """What the customer saw is not what the proof is now (e.g. the disclosure changed)."""


class ProofExpired(ProofError):
    pass


@dataclass(frozen=True)
class Decision:
    """The outcome of approve()/request_changes(): the proof's status after the call and
    whether this call recorded it (False for a repeat, a replay or the loser of a race)."""

    status: str
    recorded: bool
    revision: int
    decided_at: str | None
    event_id: int | None = None


@dataclass
class ReminderReport:
    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------


def _revision_dict(row) -> dict:
    rev = dict(row)
    rev["design"] = json.loads(rev["design"])
    rev["options"] = json.loads(rev.get("options") or "{}")
    rev["warnings"] = json.loads(rev.get("warnings") or "[]")
    return rev


def get_proof(db: sqlite_utils.Database, proof_id: int) -> dict | None:
    """The proof row, plus `revision`: its current revision (design parsed)."""
    row = db.execute("SELECT * FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    if row is None:
        return None
    proof = dict(row)
    rev = db.execute(
        "SELECT * FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, proof["current_revision"])
    ).fetchone()
    proof["revision"] = _revision_dict(rev) if rev else None
    return proof


def get_proof_by_public_id(db: sqlite_utils.Database, public_id: str) -> dict | None:
    row = db.execute("SELECT id FROM proofs WHERE public_id = ?", (public_id,)).fetchone()
    return get_proof(db, row[0]) if row else None


def find_by_design_token(db: sqlite_utils.Database, nonce: str) -> int | None:
    row = db.execute("SELECT id FROM proofs WHERE design_token_nonce = ?", (nonce,)).fetchone()
    return row[0] if row else None


def get_revisions(db: sqlite_utils.Database, proof_id: int) -> list[dict]:
    """Oldest first; each with `superseded` (a newer revision replaced it)."""
    rows = [
        _revision_dict(r)
        for r in db.execute("SELECT * FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,))
    ]
    last = rows[-1]["number"] if rows else 0
    for rev in rows:
        rev["superseded"] = rev["number"] != last
    return rows


def get_revision(db: sqlite_utils.Database, proof_id: int, number: int) -> dict | None:
    row = db.execute(
        "SELECT * FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, number)
    ).fetchone()
    return _revision_dict(row) if row else None


def get_events(db: sqlite_utils.Database, proof_id: int) -> list[dict]:
    events = []
    for row in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,)):
        event = dict(row)
        event["data"] = json.loads(event["data"])
        events.append(event)
    return events


def outbox_for(db: sqlite_utils.Database, proof_id: int) -> list[dict]:
    return [
        dict(r)
        for r in db.execute(
            "SELECT id, kind, to_addr, subject, message_id, status, attempts, next_attempt_at, last_error,"
            " created_at, sent_at, revision, link_id FROM outbox WHERE proof_id = ? ORDER BY id",
            (proof_id,),
        )
    ]


# --- what the customer is shown -----------------------------------------------------------


def _names(design: dict) -> tuple[dict, dict]:
    from proofmark_renderer import catalog

    product = catalog.product(design.get("product", ""))
    font = catalog.font(design.get("font", ""))
    return (
        {"id": design.get("product"), "name": product.name if product else design.get("product")},
        {"id": design.get("font"), "name": font.name if font else design.get("font")},
    )


def _field_label(product_id: str, field_id: str) -> str:
    from proofmark_renderer import catalog

    product = catalog.product(product_id)
    spec = product.field_spec(field_id) if product else None
    return spec.label if spec else field_id


def shown_text(design: dict, options: dict | None = None) -> list[dict]:
    """Each line and named field as the approval page shows it: the exact text, its letters
    as the letter-by-letter view draws them (proofmark.personalizer.letters.letter_cells: one cell per
    grapheme, ␣ for a space, ◌ for an invisible character) and every numeric date with its
    readings written out, plus the reading the shopper chose when confirming, if any."""
    from proofmark.personalizer.letters import letter_cells, numeric_dates

    confirmed = [d for d in (options or {}).get("dates") or [] if isinstance(d, dict)]
    parts = []
    for number, text in enumerate(design.get("lines", []), start=1):
        parts.append(
            {"key": f"line-{number}", "label": f"Line {number}", "line": number, "field": None, "text": text}
        )
    for field_id, text in sorted((design.get("fields") or {}).items()):
        if text:
            parts.append(
                {
                    "key": f"field-{field_id}",
                    "label": _field_label(design.get("product", ""), field_id),
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


def presentation(proof: dict, revision: dict, config=None) -> dict:
    """Everything the approval page shows about one revision. Its SHA-256 goes into the
    form; approve() recomputes it, so the record holds exactly what was on the screen."""
    config = config or current_app.config
    design = revision["design"]
    product, font = _names(design)
    disclosure = str(config["DISCLOSURE_TEXT"])
    return {
        "proof": proof["public_id"],
        "order_ref": proof["order_ref"],
        "revision": revision["number"],
        "image_sha256": revision["image_sha256"],
        "image_size": [revision.get("image_width"), revision.get("image_height")],
        "design_sha256": revision.get("design_sha256") or sha256_hex(canonical_json(design)),
        "renderer_version": revision["renderer_version"],
        "product": product,
        "font": font,
        "text": {"lines": list(design.get("lines", [])), "fields": dict(design.get("fields") or {})},
        "shown_text": shown_text(design, revision.get("options")),
        "align": design.get("align"),
        "disclosure": {
            "version": str(config["DISCLOSURE_VERSION"]),
            "sha256": sha256_hex(disclosure),
            "text": disclosure,
        },
        "statements": statements(config),
    }


def presentation_sha256(shown: dict) -> str:
    return sha256_hex(canonical_json(shown))


# --- input checks -------------------------------------------------------------------------


# Characters that change how the text around them is displayed while being invisible
# themselves. An override or isolate (U+202A-U+202E, U+2066-U+2069) can make a name or an
# order reference read differently in the records, the emails and an evidence pack than
# what was stored; Hebrew and Arabic letters need none of them to display correctly.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and marks that draw nothing (Hangul fillers, the combining grapheme joiner): a
# name made of them looks empty or like another name.
INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u3164\uffa0")
JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ: part of how Persian and Indic names are spelled


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" {unicodedata.name(char)}" if unicodedata.name(char, "") else "")


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


def _clean_line(
    value,
    what: str,
    max_len: int,
    *,
    required: bool = True,
    field: str | None = None,
    check_hidden: bool = True,
) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ProofError(f"The {what} is missing.", field)
    if len(text) > max_len:
        raise ProofError(f"The {what} is too long (at most {max_len} characters).", field)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ProofError(f"The {what} contains a line break or control character.", field)
    hidden = hidden_character(text) if check_hidden else None
    if hidden is not None and unicodedata.category(hidden) in ("Cn", "Co", "Cs"):
        raise ProofError(
            f"The {what} contains a character that is not a letter or sign we can show ({_describe(hidden)}). "
            "Please type it again without it.",
            field,
        )
    if hidden is not None:
        raise ProofError(
            f"The {what} contains an invisible character ({_describe(hidden)}) that can change how it is "
            "displayed. Please type it again without it (copying from another document often brings one along).",
            field,
        )
    return text


def clean_email(value) -> str:
    email = _clean_line(value, "customer's email address", 254, field="customer_email", check_hidden=False)
    hidden = hidden_character(email)
    if hidden is not None:
        # Named, not quoted: an override inside the quoted address would reorder this message too.
        raise ProofError(
            f"The customer's email address contains an invisible character ({_describe(hidden)}), so it is not "
            "an email address we can send the proof to. Please type it again.",
            "customer_email",
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
        raise ProofError(f"“{email}” is not an email address we can send the proof to.", "customer_email")
    return email


def _design_from(design):
    from proofmark_renderer import Design

    if isinstance(design, Design):
        return design
    if isinstance(design, dict):
        try:
            return Design.from_dict(design)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProofError(f"The design is not in the expected form: {exc}") from exc
    raise ProofError("The design is missing.")


@dataclass(frozen=True)
class _Rendered:
    design: object
    design_json: str
    image_sha256: str
    width: int
    height: int
    warnings: list[dict]
    email_jpeg: bytes


def _render_checked(design) -> _Rendered:
    """Validate and render outside any transaction (it is the slow part)."""
    import proofmark_renderer as renderer

    design = _design_from(design)
    issues = renderer.validate(design)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        raise ProofError(
            "This design cannot be made as it is: " + " ".join(i.message for i in blocking), "design"
        )
    result = renderer.render(design, width=int(current_app.config["PROOF_IMAGE_WIDTH"]), fmt="png")
    if not result.ok:
        problems = [i.message for i in result.issues if i.severity == "error"]
        raise ProofError("This design cannot be made as it is: " + " ".join(problems))
    sha = storage.put(result.image)
    return _Rendered(
        design=design,
        design_json=design.canonical_json(),
        image_sha256=sha,
        width=result.width,
        height=result.height,
        warnings=[i.to_dict() for i in issues if i.severity != "error"],
        email_jpeg=_email_jpeg(sha, result.image),
    )


def _load(db: sqlite_utils.Database, proof_id: int) -> dict:
    proof = get_proof(db, proof_id)
    if proof is None:
        raise ProofNotFound(f"There is no proof #{proof_id}.")
    return proof


def _new_public_id(db: sqlite_utils.Database) -> str:
    alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud on the phone
    while True:
        public_id = "P-" + "".join(secrets.choice(alphabet) for _ in range(8))
        if db.execute("SELECT 1 FROM proofs WHERE public_id = ?", (public_id,)).fetchone() is None:
            return public_id


def mask_email(email: str) -> str:
    """j•••@example.com: enough to recognise one's own address, not to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(3, min(len(local) - 1, 6))}@{domain}"


def _summary(design: dict) -> str:
    parts = list(design.get("lines", []))
    parts += [f"{k}: {v}" for k, v in sorted((design.get("fields") or {}).items()) if v]
    return " / ".join(parts)


def approval_url(token: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/approve/{token}"


def _link(proof: dict, revision: dict, now: datetime) -> tuple[str, str, str]:
    """(url, token, link id) for a fresh approval link to this revision."""
    from proofmark.tokens import sign_approval

    link_id = secrets.token_urlsafe(6)
    token = sign_approval(proof["id"], revision["number"], revision["nonce"], link_id, now=now)
    return approval_url(token), token, link_id


def _expires_on(now: datetime) -> str:
    days = current_app.config["APPROVAL_LINK_MAX_AGE_DAYS"]
    moment = now + timedelta(days=days)
    return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')}"


def _queue_email(
    db: sqlite_utils.Database,
    proof: dict,
    revision: dict,
    kind: str,
    *,
    now: datetime,
    jpeg: bytes | None,
    with_link: bool = True,
    extra: dict | None = None,
) -> dict:
    """Build the message for `kind`, put it in the outbox and append `email_queued`.
    Templates: email/<kind>.txt and .html. Returns the event data."""
    url = token = link_id = None
    if with_link:
        url, token, link_id = _link(proof, revision, now)
    cid = f"{EMAIL_IMAGE_CID_PREFIX}-{proof['id']}-{revision['number']}@proofmark"
    product, font = _names(revision["design"])
    context = {
        "shop_name": current_app.config["SHOP_NAME"],
        "proof": proof,
        "revision": revision,
        "product": product,
        "font": font,
        "shown_text": shown_text(revision["design"], revision.get("options")),
        "approval_url": url,
        "expires_on": _expires_on(now) if with_link else None,
        "image_cid": cid if jpeg else None,
        **(extra or {}),
    }
    subjects = {
        "proof": f"Please approve your proof for order {proof['order_ref']}",
        "revision": f"Updated proof (version {revision['number']}) for order {proof['order_ref']}",
        "resent": f"Your approval link for order {proof['order_ref']}",
        "reminder": f"Reminder: your proof for order {proof['order_ref']} is waiting for you",
        "approved": f"Approved: your proof for order {proof['order_ref']}",
        "changes_requested": f"We received your change request for order {proof['order_ref']}",
        "expired": f"Your proof for order {proof['order_ref']} expired: production is on hold",
    }
    subject = f"{subjects[kind]} · {current_app.config['SHOP_NAME']}"
    text, html = mail.render_pair(kind, **context)
    images = (mail.InlineImage(cid=cid, data=jpeg, subtype="jpeg", filename="proof.jpg"),) if jpeg else ()
    message = mail.build_message(
        to_name=proof["customer_name"],
        to_addr=proof["customer_email"],
        subject=subject,
        text=text,
        html=html,
        images=images,
        now=now,
    )
    outbox_id = mail.queue(
        db,
        proof_id=proof["id"],
        kind=kind,
        to_addr=proof["customer_email"],
        subject=subject,
        message=message,
        revision=revision["number"],
        link_id=link_id,
        now=now,
    )
    data = {
        "outbox_id": outbox_id,
        "kind": kind,
        "message_id": message.message_id,
        "to": proof["customer_email"],
        "subject": subject,
        "revision": revision["number"],
        "link_id": link_id,
    }
    append_event(db, proof["id"], "email_queued", actor="system", data=data, at=now)
    return data


def _email_jpeg_path(sha: str):
    return storage.image_root() / "email" / f"{sha}.jpg"


def _email_jpeg(sha: str, png: bytes | None = None) -> bytes:
    """The email-sized JPEG of a stored proof image, cached next to it: derived data, so
    rebuilt if missing, and it spares each later email (approval confirmations,
    reminders) from decoding a 2400 px PNG while the customer waits."""
    import os

    path = _email_jpeg_path(sha)
    if path.is_file():
        return path.read_bytes()
    jpeg = mail.email_image(png if png is not None else storage.get(sha))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}-{secrets.token_hex(4)}")  # one per writer, threads too
    tmp.write_bytes(jpeg)
    os.replace(tmp, path)
    return jpeg


def _jpeg_for(revision: dict) -> bytes | None:
    try:
        return _email_jpeg(revision["image_sha256"])
    except (storage.StoredImageMissing, OSError, ValueError):
        current_app.logger.warning("proof image %s missing: email without it", revision["image_sha256"])
        return None


def _token_data(design_token) -> dict | None:
    if design_token is None:
        return None
    return {
        "nonce": design_token.nonce,
        "content_key": design_token.content_key,
        "renderer_version": design_token.renderer_version,
        "options": design_token.options,
    }


def _insert_revision(
    db,
    proof_id: int,
    number: int,
    rendered: _Rendered,
    *,
    actor: str,
    now: datetime,
    options: dict,
    note: str | None,
) -> dict:
    from proofmark_renderer import RENDERER_VERSION

    design = json.loads(rendered.design_json)
    row = {
        "proof_id": proof_id,
        "number": number,
        "design": rendered.design_json,
        "text": _summary(design),
        "font": design["font"],
        "image_sha256": rendered.image_sha256,
        "renderer_version": RENDERER_VERSION,
        "nonce": secrets.token_urlsafe(12),
        "created_by": actor,
        "created_at": timestamp(now),
        "design_sha256": sha256_hex(rendered.design_json),
        "options": canonical_json(options or {}),
        "warnings": canonical_json(rendered.warnings),
        "note": note,
        "image_width": rendered.width,
        "image_height": rendered.height,
    }
    cursor = db.execute(
        f"INSERT INTO revisions ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
    )
    row["id"] = cursor.lastrowid
    return _revision_dict(row)


# --- creating and revising ----------------------------------------------------------------


def create_proof(
    db: sqlite_utils.Database,
    *,
    order_ref: str,
    customer_name: str,
    customer_email: str,
    design,
    source: str,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    design_token=None,
    now: datetime | None = None,
) -> int:
    """Create a proof with revision 1 and queue its email. `design`: a renderer.Design or
    its dict; `design_token`: the verified DesignToken (or the token string) when the
    design came from the shop. A design token makes one proof: given again, the existing
    proof's id is returned and nothing new is created or sent."""
    from proofmark.tokens import DesignToken, TokenError, verify_design

    if source not in SOURCES:
        raise ProofError(f"Unknown source {source!r} (use one of {', '.join(SOURCES)}).")
    if isinstance(design_token, str):
        try:
            design_token = verify_design(design_token)
        except TokenError as exc:
            raise ProofError(str(exc)) from exc
    if design_token is not None and not isinstance(design_token, DesignToken):
        raise ProofError("The design token is not in the expected form.")
    if design is None and design_token is not None:
        design = design_token.design
    order_ref = _clean_line(order_ref, "order reference", MAX_ORDER_REF, field="order_ref")
    customer_name = _clean_line(customer_name, "customer's name", MAX_NAME, field="customer_name")
    customer_email = clean_email(customer_email)
    actor = _clean_line(actor, "actor", 200)
    if design_token is not None:
        existing = find_by_design_token(db, design_token.nonce)
        if existing is not None:
            return existing
    now = now or utcnow()
    rendered = _render_checked(design)
    design_dict = json.loads(rendered.design_json)
    with transaction(db):
        if design_token is not None:
            # Re-checked under the write lock: two clicks on "Place order" make one proof.
            existing = find_by_design_token(db, design_token.nonce)
            if existing is not None:
                return existing
        public_id = _new_public_id(db)
        cursor = db.execute(
            "INSERT INTO proofs (public_id, order_ref, customer_name, customer_email, product, font, text,"
            " status, current_revision, source, created_at, updated_at, emailed_at, design_token_nonce)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'awaiting_approval', 1, ?, ?, ?, ?, ?)",
            (
                public_id,
                order_ref,
                customer_name,
                customer_email,
                design_dict["product"],
                design_dict["font"],
                _summary(design_dict),
                source,
                timestamp(now),
                timestamp(now),
                timestamp(now),
                design_token.nonce if design_token else None,
            ),
        )
        proof_id = cursor.lastrowid
        options = design_token.options if design_token else {}
        revision = _insert_revision(
            db, proof_id, 1, rendered, actor=actor, now=now, options=options, note=None
        )
        proof = _load(db, proof_id)
        append_event(
            db,
            proof_id,
            "proof_created",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "public_id": public_id,
                "order_ref": order_ref,
                "customer_name": customer_name,
                "customer_email": customer_email,
                "source": source,
                "product": design_dict["product"],
                "design_token": _token_data(design_token),
            },
        )
        append_event(
            db,
            proof_id,
            "revision_added",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data=_revision_event_data(revision, rendered, supersedes=None, previous_status=None),
        )
        _queue_email(db, proof, revision, "proof", now=now, jpeg=rendered.email_jpeg)
    return proof_id


def _revision_event_data(
    revision: dict, rendered: _Rendered, *, supersedes: int | None, previous_status: str | None
) -> dict:
    product, font = _names(revision["design"])
    return {
        "revision": revision["number"],
        "design": revision["design"],
        "design_sha256": revision["design_sha256"],
        "text": revision["text"],
        "product": product,
        "font": font,
        "image_sha256": rendered.image_sha256,
        "image_size": [rendered.width, rendered.height],
        "renderer_version": revision["renderer_version"],
        "options": revision["options"],
        "warnings": rendered.warnings,
        "note": revision.get("note"),
        "supersedes": supersedes,
        "previous_status": previous_status,
    }


def add_revision(
    db: sqlite_utils.Database,
    proof_id: int,
    design,
    *,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> int:
    """A new revision supersedes the current one: links to the old one can no longer
    approve, the proof awaits approval again, and the customer gets a new email."""
    actor = _clean_line(actor, "actor", 200)
    note = _clean_line(note, "note", MAX_COMMENT, required=False) if note else None
    proof = _load(db, proof_id)
    if proof["status"] == "cancelled":
        raise ProofError("This proof was cancelled; a cancelled proof cannot get a new revision.")
    now = now or utcnow()
    rendered = _render_checked(design)
    design_dict = json.loads(rendered.design_json)
    with transaction(db):
        proof = _load(db, proof_id)
        if proof["status"] == "cancelled":
            raise ProofError("This proof was cancelled; a cancelled proof cannot get a new revision.")
        old = proof["current_revision"]
        number = old + 1
        revision = _insert_revision(
            db, proof_id, number, rendered, actor=actor, now=now, options={}, note=note
        )
        db.execute(
            "UPDATE proofs SET current_revision = ?, status = 'awaiting_approval', product = ?, font = ?,"
            " text = ?, updated_at = ?, emailed_at = ?, reminded_at = NULL, decided_at = NULL,"
            " expired_at = NULL WHERE id = ?",
            (
                number,
                design_dict["product"],
                design_dict["font"],
                _summary(design_dict),
                timestamp(now),
                timestamp(now),
                proof_id,
            ),
        )
        append_event(
            db,
            proof_id,
            "revision_added",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data=_revision_event_data(revision, rendered, supersedes=old, previous_status=proof["status"]),
        )
        proof = _load(db, proof_id)
        _queue_email(
            db,
            proof,
            revision,
            "revision",
            now=now,
            jpeg=rendered.email_jpeg,
            extra={"previous_revision": old, "note": note},
        )
    return number


def resend_link(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Email a fresh link for the current revision to the address on file (never another
    one). Reopens an expired proof. A customer may ask at most every
    RESEND_MIN_INTERVAL_SECONDS. Returns the `email_queued` data."""
    now = now or utcnow()
    proof = _load(db, proof_id)
    jpeg = _jpeg_for(proof["revision"]) if proof["revision"] else None
    with transaction(db):
        proof = _load(db, proof_id)
        status = proof["status"]
        if status == "approved":
            raise ProofError("This proof is already approved: there is nothing left to approve.")
        if status == "changes_requested":
            raise ProofError(
                "Changes were requested on this proof: the shop will send a new version to approve."
            )
        if status == "cancelled":
            raise ProofError("This proof was cancelled.")
        if actor == "customer":
            last = db.execute(
                "SELECT max(at) FROM events WHERE proof_id = ? AND kind = 'resent'", (proof_id,)
            ).fetchone()[0]
            wait = int(current_app.config["RESEND_MIN_INTERVAL_SECONDS"])
            if last and last > timestamp(now - timedelta(seconds=wait)):
                raise ProofError(
                    "We sent a fresh link a few minutes ago. Please check your inbox (and spam folder) first."
                )
        reopened = status == "expired"
        db.execute(
            "UPDATE proofs SET status = 'awaiting_approval', updated_at = ?, emailed_at = ?, reminded_at = NULL,"
            " expired_at = NULL WHERE id = ?",
            (timestamp(now), timestamp(now), proof_id),
        )
        queued = _queue_email(
            db, proof, proof["revision"], "resent", now=now, jpeg=jpeg, extra={"reopened": reopened}
        )
        append_event(
            db,
            proof_id,
            "resent",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "revision": proof["current_revision"],
                "to": proof["customer_email"],
                "message_id": queued["message_id"],
                "link_id": queued["link_id"],
                "reopened": reopened,
            },
        )
    return queued


def cancel(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    actor: str,
    reason: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Cancel the proof (no more approving). Returns False if it was already cancelled."""
    reason = _clean_multiline(reason, "reason for cancelling")
    actor = _clean_line(actor, "actor", 200)
    now = now or utcnow()
    with transaction(db):
        proof = _load(db, proof_id)
        if proof["status"] == "cancelled":
            return False
        db.execute(
            "UPDATE proofs SET status = 'cancelled', updated_at = ?, cancelled_at = ? WHERE id = ?",
            (timestamp(now), timestamp(now), proof_id),
        )
        append_event(
            db,
            proof_id,
            "cancelled",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "reason": reason,
                "previous_status": proof["status"],
                "revision": proof["current_revision"],
            },
        )
    return True


def _clean_multiline(value, what: str, max_len: int = MAX_COMMENT, *, field: str | None = None) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text:
        raise ProofError(f"The {what} is missing.", field)
    if len(text) > max_len:
        raise ProofError(f"The {what} is too long (at most {max_len} characters).", field)
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ProofError(f"The {what} contains a control character.", field)
    # Free text keeps the marks and joiners that mixed-script writing and emoji use; only
    # what can reorder the displayed text, or cannot be stored, is refused.
    hidden = next(
        (c for c in text if c in BIDI_CONTROLS or unicodedata.category(c) in ("Cs", "Zl", "Zp")), None
    )
    if hidden is not None:
        raise ProofError(
            f"The {what} contains an invisible character ({_describe(hidden)}) that can change how the text "
            "is displayed. Please type it again without it.",
            field,
        )
    return text


# --- the customer's decision --------------------------------------------------------------


def _decision_target(db, proof_id: int, revision: int, nonce: str) -> tuple[dict, dict]:
    proof = _load(db, proof_id)
    rev = get_revision(db, proof_id, revision)
    if rev is None or not secrets.compare_digest(str(rev["nonce"]), str(nonce)):
        raise ProofError("This link does not belong to this proof.")
    if proof["status"] == "cancelled":
        raise ProofError("This order was cancelled, so there is nothing to approve.")
    if revision != proof["current_revision"]:
        raise ProofSuperseded(
            f"This is version {revision} of your proof; version {proof['current_revision']} replaced it. "
            "Please use the link in the newest email."
        )
    return proof, rev


def _existing_decision(proof: dict) -> Decision | None:
    if proof["status"] in ("approved", "changes_requested"):
        return Decision(proof["status"], False, proof["current_revision"], proof["decided_at"])
    if proof["status"] == "expired":
        raise ProofExpired(
            "This proof expired before a decision was made, so production is on hold. "
            "Ask for a fresh link to approve it."
        )
    return None


def _check_shown(proof: dict, revision: dict, shown_sha256: str | None) -> dict:
    shown = presentation(proof, revision)
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, and the form
    # field can hold anything a client sends.
    if shown_sha256 is not None and not secrets.compare_digest(
        str(shown_sha256).encode("utf-8", "surrogatepass"), presentation_sha256(shown).encode()
    ):
        raise ProofChanged(
            "The proof page changed since you opened it (for example, the shop updated its terms). "
            "Please look at it again before you decide."
        )
    return shown


def _decide(
    db: sqlite_utils.Database,
    proof_id: int,
    kind: str,
    *,
    revision: int,
    nonce: str,
    shown_sha256: str | None,
    link_id: str | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    record: Callable[[dict, dict, dict], dict],
    jpeg: bytes | None = None,
    email_extra: dict | None = None,
) -> Decision:
    """The one way a customer's decision is recorded: in one transaction, check the link and
    what the page showed, append the event `kind` (data from `record(proof, revision, shown)`,
    which may raise ProofError), set the status and queue the confirmation email. Idempotent:
    if the proof is already decided nothing is recorded and that outcome returned."""
    with transaction(db):
        proof, rev = _decision_target(db, proof_id, revision, nonce)
        existing = _existing_decision(proof)
        if existing:
            return existing
        shown = _check_shown(proof, rev, shown_sha256)
        data = record(proof, rev, shown)
        data.update(
            revision=rev["number"],
            image_sha256=rev["image_sha256"],
            text=shown["text"],
            product=shown["product"],
            font=shown["font"],
            nonce=rev["nonce"],
            link_id=link_id,
            presentation_sha256=presentation_sha256(shown),
        )
        decided = timestamp(now)
        event = append_event(
            db, proof_id, kind, actor="customer", ip=ip, user_agent=user_agent, at=now, data=data
        )
        db.execute(
            "UPDATE proofs SET status = ?, decided_at = ?, updated_at = ? WHERE id = ?",
            (kind, decided, decided, proof_id),
        )
        proof = _load(db, proof_id)
        _queue_email(
            db,
            proof,
            rev,
            kind,
            now=now,
            jpeg=jpeg,
            with_link=False,
            extra={**(email_extra or {}), "decided_at": now},
        )
    return Decision(kind, True, rev["number"], decided, event["id"])


def approve(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    nonce: str,
    statements_ticked: Iterable[str],
    shown_sha256: str | None = None,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record the customer's approval of `revision`. Idempotent: if the proof is already
    decided (approved, or changes requested) nothing is recorded and that outcome returned."""
    ticked = [str(s) for s in statements_ticked]
    proof = _load(db, proof_id)
    jpeg = _jpeg_for(proof["revision"]) if proof["revision"] else None

    def record(proof: dict, rev: dict, shown: dict) -> dict:
        missing = [s for s in shown["statements"] if s["id"] not in ticked]
        if missing:
            raise ProofError(
                "Please tick every statement before approving: " + " ".join(f"“{s['text']}”" for s in missing)
            )
        if storage.verify(rev["image_sha256"]):
            raise ProofError(
                "We could not check the proof image just now, so we cannot record an approval. "
                "Please try again later or contact the shop."
            )
        return {
            "image_size": shown["image_size"],
            "design": rev["design"],
            "design_sha256": shown["design_sha256"],
            "renderer_version": rev["renderer_version"],
            "shown_text": shown["shown_text"],
            "disclosure": shown["disclosure"],
            "statements": [s for s in shown["statements"] if s["id"] in ticked],
            "customer_email": proof["customer_email"],
        }

    return _decide(
        db,
        proof_id,
        "approved",
        revision=revision,
        nonce=nonce,
        shown_sha256=shown_sha256,
        link_id=link_id,
        ip=ip,
        user_agent=user_agent,
        now=now or utcnow(),
        record=record,
        jpeg=jpeg,
    )


def request_changes(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    nonce: str,
    comment: str,
    shown_sha256: str | None = None,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record the customer's change request (a comment is required). Idempotent like approve()."""
    comment = _clean_multiline(comment, "description of the changes you want", field="comment")
    return _decide(
        db,
        proof_id,
        "changes_requested",
        revision=revision,
        nonce=nonce,
        shown_sha256=shown_sha256,
        link_id=link_id,
        ip=ip,
        user_agent=user_agent,
        now=now or utcnow(),
        record=lambda proof, rev, shown: {"comment": comment},
        email_extra={"comment": comment},
    )


def record_view(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Append `proof_viewed`, unless the same person viewed this revision moments ago."""
    now = now or utcnow()
    since = timestamp(now - timedelta(seconds=VIEW_DEDUP_SECONDS))
    with transaction(db):
        for row in db.execute(
            "SELECT ip, user_agent, data FROM events WHERE proof_id = ? AND kind = 'proof_viewed' AND at > ?",
            (proof_id, since),
        ):
            if (
                row["ip"] == ip
                and row["user_agent"] == user_agent
                and json.loads(row["data"]).get("revision") == revision
            ):
                return False
        append_event(
            db,
            proof_id,
            "proof_viewed",
            actor="customer",
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={"revision": revision, "link_id": link_id},
        )
    return True


# --- reminders and expiry -----------------------------------------------------------------


def send_reminders(db: sqlite_utils.Database, *, now: datetime | None = None) -> ReminderReport:
    """Remind after REMINDER_AFTER_DAYS without a decision (once per emailed revision);
    expire after EXPIRE_AFTER_DAYS. Both count from the last email with a link."""
    now = now or utcnow()
    config = current_app.config
    remind_before = timestamp(now - timedelta(days=float(config["REMINDER_AFTER_DAYS"])))
    expire_before = timestamp(now - timedelta(days=float(config["EXPIRE_AFTER_DAYS"])))
    report = ReminderReport()
    due = [
        r[0]
        for r in db.execute(
            "SELECT id FROM proofs WHERE status = 'awaiting_approval' AND emailed_at <= ? ORDER BY id",
            (remind_before,),
        )
    ]
    for proof_id in due:
        proof = _load(db, proof_id)
        expire = proof["emailed_at"] <= expire_before
        if not expire and proof["reminded_at"]:
            continue
        jpeg = _jpeg_for(proof["revision"]) if not expire else None
        with transaction(db):
            proof = _load(db, proof_id)  # re-read under the lock: a decision may have landed
            if proof["status"] != "awaiting_approval":
                continue
            if proof["emailed_at"] <= expire_before:
                db.execute(
                    "UPDATE proofs SET status = 'expired', expired_at = ?, updated_at = ? WHERE id = ?",
                    (timestamp(now), timestamp(now), proof_id),
                )
                append_event(
                    db,
                    proof_id,
                    "expired",
                    actor="system",
                    at=now,
                    data={
                        "revision": proof["current_revision"],
                        "emailed_at": proof["emailed_at"],
                        "after_days": config["EXPIRE_AFTER_DAYS"],
                        "production": "on hold",
                    },
                )
                _queue_email(db, proof, proof["revision"], "expired", now=now, jpeg=None)
                report.expired.append(proof_id)
            elif not proof["reminded_at"]:
                queued = _queue_email(
                    db,
                    proof,
                    proof["revision"],
                    "reminder",
                    now=now,
                    jpeg=jpeg,
                    extra={"emailed_at": proof["emailed_at"]},
                )
                db.execute("UPDATE proofs SET reminded_at = ? WHERE id = ?", (timestamp(now), proof_id))
                append_event(
                    db,
                    proof_id,
                    "reminder_sent",
                    actor="system",
                    at=now,
                    data={
                        "revision": proof["current_revision"],
                        "message_id": queued["message_id"],
                        "link_id": queued["link_id"],
                        "after_days": config["REMINDER_AFTER_DAYS"],
                    },
                )
                report.reminded.append(proof_id)
    return report
