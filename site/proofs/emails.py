"""The proof emails: building one from its templates (email/<kind>.txt and .html), putting
it in the outbox with its `email_queued` event, and the email-sized JPEG of the proof image."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import flask_babel
import sqlite_utils
from flask import current_app
from flask_babel import force_locale, gettext
from jinja2 import pass_context
from markupsafe import Markup

from proofmark import i18n, mail, storage, theme
from proofmark.proofs.approval_page import names, shown_text
from proofmark.proofs.model import Proof, Revision
from proofmark.records import append_event

EMAIL_IMAGE_CID_PREFIX = "proof-image"


def mask_email(email: str) -> str:
    """j•••@example.com: enough to recognise one's own address, not to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(3, min(len(local) - 1, 6))}@{domain}"


def approval_url(token: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/approve/{token}"


def _link(proof: Proof, revision: Revision, now: datetime) -> tuple[str, str, str]:
    """(url, token, link id) for a fresh approval link to this revision."""
    from proofmark.tokens import sign_approval

    link_id = secrets.token_urlsafe(6)
    token = sign_approval(proof.id, revision.number, revision.nonce, link_id, now=now)
    return approval_url(token), token, link_id


def _expires_on(now: datetime) -> str:
    """The link's last day, written out in the email's language (call inside its locale)."""
    days = current_app.config["APPROVAL_LINK_MAX_AGE_DAYS"]
    moment = now + timedelta(days=days)
    english = f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')}"
    return i18n.date_words(moment.date().isoformat(), english)


def email_language(db: sqlite_utils.Database, proof: Proof, revision: Revision) -> str:
    """The language of a proof's emails: the one the customer confirmed the design in (the
    design token's options, kept on the revision; a later revision made by staff has none, so
    the proof's latest revision that has one), else the shop's (SHOP_LANGUAGE), else English.
    Emails are built outside requests too (send-reminders, the worker): no request is read."""
    found = i18n.supported((revision.options or {}).get("language"))
    if not found:
        rows = db.execute(
            "SELECT options FROM revisions WHERE proof_id = ? ORDER BY number DESC", (proof.id,)
        ).fetchall()
        for (options,) in rows:
            try:
                found = i18n.supported((json.loads(options or "{}") or {}).get("language"))
            except (ValueError, AttributeError):
                found = None
            if found:
                break
    return found or i18n.shop_language()


def _subject(kind: str, order_ref: str, number: int) -> str:
    subjects = {
        "proof": lambda: gettext("Please approve your proof for order %(order)s", order=order_ref),
        "revision": lambda: gettext(
            "Updated proof (version %(version)s) for order %(order)s", version=number, order=order_ref
        ),
        "resent": lambda: gettext("Your approval link for order %(order)s", order=order_ref),
        "reminder": lambda: gettext(
            "Reminder: your proof for order %(order)s is waiting for you", order=order_ref
        ),
        "approved": lambda: gettext("Approved: your proof for order %(order)s", order=order_ref),
        "changes_requested": lambda: gettext(
            "We received your change request for order %(order)s", order=order_ref
        ),
        "expired": lambda: gettext(
            "Your proof for order %(order)s expired: production is on hold", order=order_ref
        ),
    }
    return subjects[kind]()


def _bound_gettext():
    """The templates' newstyle gettext (as jinja2.ext installs it: autoescaped, always
    %-formatted) over the current locale's translations (call inside force_locale)."""
    translate = flask_babel.get_translations().ugettext

    @pass_context
    def gettext(context, string: str, **variables) -> str:
        value = translate(string)
        if context.eval_ctx.autoescape:
            value = Markup(value)
        return value % variables

    return gettext


@dataclass(frozen=True)
class PreparedEmail:
    """A proof email built and ready to queue: everything but the outbox row and its event."""

    proof_id: int
    kind: str
    to_addr: str
    subject: str
    revision: int
    link_id: str | None
    language: str
    message: mail.BuiltMessage
    stored: tuple[bytes, str]  # what the outbox row keeps (mail.store_images), images already stored
    message_sha256: str  # of the whole message, images included: what is sent


def queue_email(
    db: sqlite_utils.Database,
    proof: Proof,
    revision: Revision,
    kind: str,
    *,
    now: datetime,
    jpeg: bytes | None,
    with_link: bool = True,
    extra: dict | None = None,
) -> dict:
    """Build the message for `kind`, put it in the outbox and append `email_queued`.
    Templates: email/<kind>.txt and .html. Returns the event data. Subject, both parts and
    the dates in them are in the email's language (`email_language`), recorded in the event."""
    prepared = prepare_email(db, proof, revision, kind, now=now, jpeg=jpeg, with_link=with_link, extra=extra)
    return queue_prepared(db, prepared, now=now)


def prepare_email(
    db: sqlite_utils.Database,
    proof: Proof,
    revision: Revision,
    kind: str,
    *,
    now: datetime,
    jpeg: bytes | None,
    with_link: bool = True,
    extra: dict | None = None,
) -> PreparedEmail:
    """The message for `kind`, built (and its images stored) without writing the database: it
    may run before the write transaction that queues it (`queue_prepared`)."""
    language = email_language(db, proof, revision)
    with force_locale(language):
        return _prepare_email(
            proof, revision, kind, now=now, jpeg=jpeg, with_link=with_link, extra=extra, language=language
        )


def _prepare_email(proof, revision, kind, *, now, jpeg, with_link, extra, language) -> PreparedEmail:
    url = token = link_id = None
    if with_link:
        url, token, link_id = _link(proof, revision, now)
    cid = f"{EMAIL_IMAGE_CID_PREFIX}-{proof.id}-{revision.number}@proofmark"
    product, font = names(revision.design)
    context = {
        "shop_name": current_app.config["SHOP_NAME"],
        "proof": proof,
        "revision": revision,
        "product": product,
        "font": font,
        "shown_text": shown_text(revision.design, revision.options),
        "approval_url": url,
        "expires_on": _expires_on(now) if with_link else None,
        "image_cid": cid if jpeg else None,
        # The shop's look (SHOP_THEME): colours in the inline styles, the logo as an inline image.
        "colours": theme.email_colours(),
        "logo_cid": None,
        # `_()` and `gettext()` in the templates find it here first: bound once to this email's
        # translations instead of finding the locale again for each of its ~35 strings.
        "gettext": _bound_gettext(),
        **(extra or {}),
    }
    # `_()` too, directly: jinja2.ext's `_` would look `gettext` up in the context on each call.
    context["_"] = context["gettext"]
    if "decided_at" in context:
        context["decided_on"] = i18n.long_date(context["decided_at"].strftime("%Y-%m-%dT%H:%M:%S"))
    logo = theme.logo_image()
    if logo and logo[1] in ("png", "jpeg"):
        context["logo_cid"] = f"shop-logo-{proof.id}-{revision.number}@proofmark"
    subject = f"{_subject(kind, proof.order_ref, revision.number)} · {current_app.config['SHOP_NAME']}"
    text, html = mail.render_pair(kind, **context)
    images = (mail.InlineImage(cid=cid, data=jpeg, subtype="jpeg", filename="proof.jpg"),) if jpeg else ()
    if context["logo_cid"]:
        images += (
            mail.InlineImage(
                cid=context["logo_cid"], data=logo[0], subtype=logo[1], filename=f"logo.{logo[1]}"
            ),
        )
    message = mail.build_message(
        to_name=proof.customer_name,
        to_addr=proof.customer_email,
        subject=subject,
        text=text,
        html=html,
        images=images,
        now=now,
    )
    return PreparedEmail(
        proof_id=proof.id,
        kind=kind,
        to_addr=proof.customer_email,
        subject=subject,
        revision=revision.number,
        link_id=link_id,
        language=language,
        message=message,
        stored=mail.store_images(message),
        message_sha256=hashlib.sha256(message.data).hexdigest(),
    )


def queue_prepared(db: sqlite_utils.Database, prepared: PreparedEmail, *, now: datetime) -> dict:
    """Insert the outbox row and append its `email_queued` event. Call inside a transaction."""
    message = prepared.message
    outbox_id = mail.queue(
        db,
        proof_id=prepared.proof_id,
        kind=prepared.kind,
        to_addr=prepared.to_addr,
        subject=prepared.subject,
        message=message,
        revision=prepared.revision,
        link_id=prepared.link_id,
        now=now,
        stored=prepared.stored,
    )
    data = {
        "outbox_id": outbox_id,
        "kind": prepared.kind,
        "message_id": message.message_id,
        "to": prepared.to_addr,
        "subject": prepared.subject,
        "revision": prepared.revision,
        "link_id": prepared.link_id,
        "language": prepared.language,
        # The whole message as queued (and as sent: the outbox row keeps it without its images,
        # which mail.message_bytes puts back from the store): binds the outbox row.
        "message_sha256": prepared.message_sha256,
    }
    append_event(db, prepared.proof_id, "email_queued", actor="system", data=data, at=now)
    return data


def _email_jpeg_path(sha: str):
    return storage.image_root() / "email" / f"{sha}.jpg"


def email_jpeg(sha: str, png: bytes | None = None, *, picture=None) -> bytes:
    """The email-sized JPEG of a stored proof image, cached next to it: derived data, so
    rebuilt if missing, and it spares each later email (approval confirmations,
    reminders) from decoding a 2400 px PNG while the customer waits. `picture`: the proof
    image still in memory (just drawn), so nothing is decoded at all."""
    import os

    path = _email_jpeg_path(sha)
    if path.is_file():
        jpeg = path.read_bytes()
        # The outbox refers to it by hash: in the store (a stat once there) before any transaction.
        storage.put(jpeg, suffix=".jpg")
        return jpeg
    if picture is not None:
        jpeg = mail.email_image_from(picture)
    else:
        jpeg = mail.email_image(png if png is not None else storage.get(sha))
    # The outbox refers to it by hash: stored (and fsynced) before any transaction. The cache
    # entry is a second name for that same file, not a second copy of its bytes.
    stored = storage.path_for(storage.put(jpeg, suffix=".jpg"), suffix=".jpg")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}-{secrets.token_hex(4)}")  # one per writer, threads too
    try:
        os.link(stored, tmp)
    except OSError:
        tmp.write_bytes(jpeg)
    os.replace(tmp, path)
    return jpeg


def jpeg_for(revision: Revision | None) -> bytes | None:
    """The email JPEG of a revision's image, or None (the email goes without it) if the
    stored image is missing or unreadable."""
    if revision is None:
        return None
    try:
        return email_jpeg(revision.image_sha256)
    except (storage.StoredImageMissing, OSError, ValueError):
        current_app.logger.warning("proof image %s missing: email without it", revision.image_sha256)
        return None
