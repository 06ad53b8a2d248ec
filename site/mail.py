"""Email through an outbox.

A message is built in full (headers, text and HTML parts, inline proof image, a unique
Message-ID) and written to the `outbox` table in the same transaction as the event that
causes it, so a proof can never exist without its email, nor an email without its proof.
A sender then claims due rows and delivers them through a backend (`smtp` or `file`),
retrying with exponential backoff.

Delivery is at-least-once, not at-most-once: rows are claimed atomically (one sender per
row), and a row left in 'sending' by a crashed sender is retried only after
MAIL_SENDING_TIMEOUT_SECONDS. The only way to send twice is a crash (or a delivery slower
than that timeout) between the SMTP server accepting a message and the row being marked
sent; the retry then carries the same Message-ID, which mail clients use to recognise a
duplicate. Losing a proof email silently would be worse than that rare duplicate.

The web process sends right after each request that queued mail (a background thread by
default, so a slow or down SMTP server never delays a page); `flask --app proofmark send-mail`
does the same from cron.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import io
import json
import os
import re
import secrets
import smtplib
import ssl
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g, has_request_context, render_template

from proofmark import background, storage
from proofmark import db as dbmod
from proofmark.background import QueueWorker
from proofmark.db import transaction
from proofmark.records import append_event, timestamp, utcnow

EXTENSION_KEY = "proofmark.mail"
# Default for MAIL_GIVE_UP_AFTER_HOURS: a message the server keeps refusing temporarily
# (a full mailbox, greylisting) is tried for at least this long before it is given up.
GIVE_UP_AFTER_HOURS = 72


class MailError(RuntimeError):
    """Delivery failed. `permanent`: the server refused this message for good (5xx), retrying
    cannot help. `server`: the server, not this message, is the problem (unreachable,
    connection dropped, TLS or login failing, 421 "service not available"): the message
    waits, however long the outage lasts, and counts no attempt towards giving up."""

    def __init__(self, message: str, permanent: bool = False, server: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.server = server


@dataclass(frozen=True)
class InlineImage:
    cid: str  # without angle brackets; the HTML refers to it as cid:<cid>
    data: bytes
    subtype: str = "png"  # image/<subtype>
    filename: str = "proof.png"


@dataclass(frozen=True)
class BuiltMessage:
    message_id: str  # with angle brackets, as in the header
    data: bytes  # the whole RFC 5322 message, CRLF line endings
    images: tuple[InlineImage, ...] = ()  # the inline images in it, for the outbox to store by hash
    # The message without its image bodies and where they go (see message_bytes), when known.
    skeleton: bytes | None = None
    parts: tuple[tuple[int, str, str], ...] = ()


# --- building -----------------------------------------------------------------------------


def render_pair(name: str, **context) -> tuple[str, str]:
    """The text and HTML bodies from templates/email/<name>.txt and .html."""
    return (
        render_template(f"email/{name}.txt", **context),
        render_template(f"email/{name}.html", **context),
    )


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, but each header's class made once: the registry builds
    a new class with type() for every header set, a large share of building a message."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str):
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# SMTP's policy (with the header classes made once), and the same with headers folded only past
# RFC 5322's limit of 998 characters (see build_message).
BUILD_POLICY = SMTP_POLICY.clone(header_factory=_HeaderClasses())
HEADER_POLICY = BUILD_POLICY.clone(max_line_length=998)


def _message_id_domain(from_addr: str) -> str:
    domain = parseaddr(from_addr)[1].rpartition("@")[2]
    return domain or "proofmark.localhost"


def build_message(
    *,
    to_name: str,
    to_addr: str,
    subject: str,
    text: str,
    html: str,
    images: tuple[InlineImage, ...] = (),
    from_addr: str | None = None,
    now: datetime | None = None,
) -> BuiltMessage:
    from_addr = from_addr or current_app.config["MAIL_FROM"]
    try:
        built = _build_by_hand(to_name, to_addr, subject, text, html, images, from_addr, now)
    except UnicodeEncodeError:  # a lone surrogate: the email package decides what to do
        built = None
    if built is not None:
        return built
    return _build_with_email_package(to_name, to_addr, subject, text, html, images, from_addr, now)


def _build_with_email_package(to_name, to_addr, subject, text, html, images, from_addr, now) -> BuiltMessage:
    """The message through the stdlib's email package: for what the hand-written form does not
    take (an address or a name it cannot write plainly, a header past 998 characters)."""
    msg = EmailMessage(policy=BUILD_POLICY)
    msg["From"] = from_addr
    local, _, domain = to_addr.rpartition("@")
    to = Address(display_name=to_name, username=local, domain=domain)
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate((now or utcnow()).timestamp(), usegmt=True)
    message_id = make_msgid(idstring=secrets.token_hex(4), domain=_message_id_domain(from_addr))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    # Each image part is written with a one-line random stand-in for its body, which is then
    # cut out (the stored skeleton) and the image's base64 put in its place: the same bytes as
    # encoding the image inside the message, without the email package's line-by-line work on
    # it (about half of an approval's CPU). The boundaries are set here (random, checked
    # against the text) so that the generator never scans the image for a collision.
    stand_ins = []
    for image in images:
        stand_in = secrets.token_bytes(_BASE64_LINE_BYTES)
        html_part.add_related(
            stand_in,
            maintype="image",
            subtype=image.subtype,
            cid=f"<{image.cid}>",
            filename=image.filename,
            disposition="inline",
        )
        stand_ins.append((base64_body(stand_in), image))
    for part in msg.walk():
        if part.is_multipart():
            part.set_boundary(_boundary(text, html))
    # Headers are written unfolded up to RFC 5322's 998 characters: Python's folding of a long
    # display name can drop its quotes, and a name such as `..., Eve <eve@evil.example>` would
    # then add a second recipient. The result is read back to prove it names one address.
    data = msg.as_bytes(policy=HEADER_POLICY)
    if not _names_only(data, to):
        # Never seen; but a name that cannot be written safely is left out of the header (it
        # is in the message itself) rather than risk a second recipient.
        msg.replace_header("To", Address(username=local, domain=domain))
        data = msg.as_bytes(policy=HEADER_POLICY)
        if not _names_only(data, Address(username=local, domain=domain)):
            raise ValueError(
                f"The To header would not name exactly {to.addr_spec}; the message was not built."
            )
    return _with_images(message_id, data, stand_ins)


# --- the message written by hand -----------------------------------------------------------
#
# The common message (an ASCII address, any display name and subject, text and HTML parts,
# inline images) is written here directly: the same structure, headers and encodings the email
# package chooses (7bit or 8bit text when its lines fit in 78 bytes, else quoted-printable or
# base64, whichever the package's sniffing picks; RFC 2047 encoded words for non-ASCII names
# and subjects; base64 images in 76-character lines), without its header parsing and folding,
# which was most of the CPU of an approval. The To header is still read back (as before) to
# prove it names exactly one address. Anything else goes through the email package.

_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
_ADDR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.@")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not written as 7bit or 8bit
_TEXT_LINE = 78  # the SMTP policy's max_line_length: longer lines are encoded
_HEADER_LINE = 998


def _printable(value: str) -> bool:
    return all(" " <= c != "\x7f" for c in value)


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 encoded words (each at most 75 characters, whole UTF-8 characters),
    folded onto continuation lines."""
    words, chunk, size = [], [], 0
    for char in value:
        n = len(char.encode("utf-8"))
        if size + n > 45:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += n
    if chunk:
        words.append("".join(chunk))
    return "\r\n ".join(
        "=?utf-8?b?" + binascii.b2a_base64(w.encode("utf-8"), newline=False).decode("ascii") + "?="
        for w in words
    )


def _unstructured(value: str) -> str | None:
    """A Subject's value: as it is when plain ASCII, else encoded words; None if it cannot be."""
    if not _printable(value):
        return None
    if value.isascii() and "=?" not in value and value.strip() == value:
        return value
    return _encoded_words(value)


def _phrase(name: str) -> str | None:
    """A display name: an atom sequence, a quoted string, or encoded words when not ASCII."""
    if not _printable(name):
        return None
    if not name.isascii():
        return _encoded_words(name)
    if name and set(name) <= _ATEXT and name == " ".join(name.split()) and "=?" not in name:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.lru_cache(maxsize=8)
def _from_header(from_addr: str) -> str:
    """The From header as the email package writes it (parsed and written once per address)."""
    msg = EmailMessage(policy=BUILD_POLICY)
    msg["From"] = from_addr
    return msg.as_bytes(policy=HEADER_POLICY).split(b"\r\n\r\n", 1)[0].decode("ascii") + "\r\n"


def _text_part(kind: str, value: str) -> tuple[bytes, bytes] | None:
    """(the part's headers, its body) for text/<kind>, encoded as the email package would."""
    lines = value.encode("utf-8", "strict").splitlines()
    body = b"\r\n".join(lines) + b"\r\n"
    if max((len(x) for x in lines), default=0) <= _TEXT_LINE and not _CONTROL.search(body):
        cte = "7bit" if body.isascii() else "8bit"
    else:
        sniff = b"\r\n".join(lines[:10]) + b"\r\n"
        qp = binascii.b2a_qp(sniff, istext=True)
        if len(qp) > len(binascii.b2a_base64(sniff)):
            cte, body = "base64", base64_body(body)
        else:
            cte, body = "quoted-printable", binascii.b2a_qp(body, istext=True)
    head = f'Content-Type: text/{kind}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    return head.encode("ascii"), body


def _build_by_hand(to_name, to_addr, subject, text, html, images, from_addr, now) -> BuiltMessage | None:
    local, _, domain = to_addr.rpartition("@")
    if not local or not domain or not set(to_addr) <= _ADDR_CHARS or to_addr.count("@") != 1:
        return None
    if any(
        i.subtype not in _IMAGE_SUFFIX
        or not (i.cid + i.filename).isascii()
        or not _printable(i.cid + i.filename)
        for i in images
    ) or any(c in i.cid + i.filename for i in images for c in '"\\<>'):
        return None
    name = _phrase(to_name) if to_name else ""
    subject_value = _unstructured(subject)
    if name is None or subject_value is None:
        return None
    plain, rich = _text_part("plain", text), _text_part("html", html)
    to_value = f"{name} <{to_addr}>" if name else to_addr
    if max(len(line) for line in (to_value + "\r\n" + subject_value).split("\r\n")) > _HEADER_LINE - 10:
        return None
    if not _names_only_header(to_value, to_name, to_addr):
        return None
    message_id = make_msgid(idstring=secrets.token_hex(4), domain=_message_id_domain(from_addr))
    outer = _boundary(text, html)
    head = (
        _from_header(from_addr)
        + f"To: {to_value}\r\nSubject: {subject_value}\r\n"
        + f"Date: {formatdate((now or utcnow()).timestamp(), usegmt=True)}\r\n"
        + f"Message-ID: {message_id}\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
        + f'Content-Type: multipart/alternative; boundary="{outer}"\r\n\r\n'
    )
    chunks: list[bytes] = [
        head.encode("ascii"),
        f"--{outer}\r\n".encode(),
        *plain,
        f"\r\n--{outer}\r\n".encode(),
    ]
    parts, by_sha, at = [], {}, None
    if images:
        inner = _boundary(text, html)
        chunks += [
            f'Content-Type: multipart/related; boundary="{inner}"\r\n\r\n--{inner}\r\n'.encode(),
            *rich,
        ]
        for image in images:
            chunks.append(
                (
                    f"\r\n--{inner}\r\nContent-Type: image/{image.subtype}\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    f'Content-Disposition: inline; filename="{image.filename}"\r\n'
                    f"Content-ID: <{image.cid}>\r\n\r\n"
                ).encode("ascii")
            )
            at = sum(map(len, chunks))
            sha = hashlib.sha256(image.data).hexdigest()
            by_sha[sha] = image.data
            parts.append((at, sha, _IMAGE_SUFFIX[image.subtype]))
        chunks.append(f"\r\n--{inner}--\r\n".encode())
    else:
        chunks += rich
    chunks.append(f"\r\n--{outer}--\r\n".encode())
    skeleton = b"".join(chunks)
    whole = join_images(skeleton, parts, lambda sha, suffix: by_sha[sha])
    return BuiltMessage(
        message_id=message_id, data=whole, images=tuple(images), skeleton=skeleton, parts=tuple(parts)
    )


def _names_only_header(value: str, to_name: str, to_addr: str) -> bool:
    """Whether a To header's value reads back as exactly one address, `to_addr`, named
    `to_name` (runs of spaces compared folded, as a parser folds them)."""
    parsed = HEADER_POLICY.header_factory("To", value.replace("\r\n", ""))
    addresses = parsed.addresses
    return (
        len(addresses) == 1
        and addresses[0].addr_spec == to_addr
        and " ".join(addresses[0].display_name.split()) == " ".join(to_name.split())
    )


def _boundary(*texts: str) -> str:
    while True:
        boundary = f"=_proofmark_{secrets.token_hex(16)}"
        if not any(boundary in t for t in texts):
            return boundary


def _with_images(message_id: str, data: bytes, stand_ins) -> BuiltMessage:
    """The message with each stand-in body replaced by its image's base64 body."""
    skeleton, parts, by_sha = data, [], {}
    for stand_in, image in stand_ins:
        at = skeleton.find(stand_in)
        if at < 0 or skeleton.find(stand_in, at + 1) >= 0 or image.subtype not in _IMAGE_SUFFIX:
            raise ValueError("an inline image's place in the message was not found exactly once")
        skeleton = skeleton[:at] + skeleton[at + len(stand_in) :]
        sha = hashlib.sha256(image.data).hexdigest()
        by_sha[sha] = image.data
        parts = [[p_at - len(stand_in) if p_at > at else p_at, p_sha, p_suf] for p_at, p_sha, p_suf in parts]
        parts.append([at, sha, _IMAGE_SUFFIX[image.subtype]])
    parts.sort()
    whole = join_images(skeleton, parts, lambda sha, suffix: by_sha[sha])
    return BuiltMessage(
        message_id=message_id,
        data=whole,
        images=tuple(image for _, image in stand_ins),
        skeleton=skeleton,
        parts=tuple(tuple(p) for p in parts),
    )


def _names_only(data: bytes, to: Address) -> bool:
    """Whether the built message's To header reads back as exactly `to` (a header parser
    folds runs of spaces in a display name into one, so those are compared folded)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    parsed = BytesParser(policy=default_policy).parsebytes(head + b"\r\n\r\n", headersonly=True)
    addresses = parsed["To"].addresses if parsed["To"] is not None else ()
    return (
        len(addresses) == 1
        and addresses[0].addr_spec == to.addr_spec
        and " ".join(addresses[0].display_name.split()) == " ".join(to.display_name.split())
    )


def email_image(png: bytes, width: int = 1200) -> bytes:
    """A smaller JPEG of the proof image for the email body; the full PNG is on the page."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return email_image_from(im, width)


def email_image_from(picture, width: int = 1200) -> bytes:
    """The email JPEG from a picture already in memory (a PIL image): the proof just drawn
    needs no PNG decoded again."""
    from PIL import Image

    im = picture
    if im.mode != "RGB":
        rgba = im.convert("RGBA")
        im = Image.new("RGB", rgba.size, (255, 255, 255))
        im.paste(rgba, mask=rgba.getchannel("A"))
    if im.width >= 2 * width:
        # Whole-pixel averaging first (the 2400-px proof to 1200: exactly half, a box filter
        # at a fraction of Lanczos's cost); Lanczos only for what is left.
        im = im.reduce(im.width // width)
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=88, optimize=True, progressive=True)
    return out.getvalue()


# --- the outbox stores each inline image once, by hash ---------------------------------------
#
# An outbox row keeps the message without the bodies of its inline images (`message`) and, in
# `message_images`, where each body goes: a JSON list of [offset, sha256, suffix], offsets into
# the stored bytes, in order. The images are files in the content-addressed store
# (proofmark.storage), fsynced before the transaction that refers to them. `message_bytes`
# puts the exact message back together: the bytes that were sent and whose SHA-256 the
# `email_queued` event holds. `message_images` NULL: a row from before this (migration 0080),
# whose `message` is still whole until `move_images_to_store` splits it.

_IMAGE_SUFFIX = {"jpeg": ".jpg", "png": ".png", "gif": ".gif"}
# email.contentmanager writes base64 in lines of max_line_length // 4 * 3 bytes (SMTP policy: 78).
_BASE64_LINE_BYTES = SMTP_POLICY.max_line_length // 4 * 3


class MessageImageError(RuntimeError):
    """An image an outbox message refers to is missing from the store or was modified."""


def base64_body(data: bytes) -> bytes:
    """An image part's body as email.contentmanager writes it: base64 in lines of 76
    characters (57 bytes each, so one encoding of the whole cut into lines is the same), CRLF.
    The bodies of the last few images are kept: an approval's confirmation reuses the image of
    the proof email."""
    key = hashlib.sha256(data).digest() if len(data) > 4096 else None
    if key is not None:
        with _BODIES_LOCK:
            body = _BODIES.get(key)
            if body is not None:
                _BODIES.move_to_end(key)
                return body
    encoded = binascii.b2a_base64(data, newline=False)
    width = _BASE64_LINE_BYTES // 3 * 4
    full = len(encoded) // width
    if full >= 8:
        # The whole lines as rows of an array with CRLF put after each in one copy (about half
        # the CPU of cutting a 2000-line image into 2000 bytes objects); the same bytes.
        import numpy

        rows = numpy.empty((full, width + 2), dtype=numpy.uint8)
        rows[:, :width] = numpy.frombuffer(encoded, dtype=numpy.uint8, count=full * width).reshape(
            full, width
        )
        rows[:, width:] = (13, 10)
        tail = encoded[full * width :]
        body = rows.tobytes() + (tail + b"\r\n" if tail else b"")
    else:
        body = b"".join(encoded[i : i + width] + b"\r\n" for i in range(0, len(encoded), width))
    if key is not None:
        with _BODIES_LOCK:
            _BODIES[key] = body
            while len(_BODIES) > _BODIES_KEPT:
                _BODIES.popitem(last=False)
    return body


_BODIES: OrderedDict[bytes, bytes] = OrderedDict()
_BODIES_LOCK = threading.Lock()
_BODIES_KEPT = 16


def split_images(data: bytes, images) -> tuple[bytes, list[list]]:
    """(the message without the bodies of `images`, where they go). An image whose body is not
    found exactly once stays in the message: the result always rebuilds to `data`."""
    spans = []
    for image in images:
        body = base64_body(image.data)
        at = data.find(body)
        if at < 0 or data.find(body, at + 1) >= 0 or image.subtype not in _IMAGE_SUFFIX:
            continue
        spans.append(
            (at, at + len(body), hashlib.sha256(image.data).hexdigest(), _IMAGE_SUFFIX[image.subtype])
        )
    spans.sort()
    kept, parts, pos, removed = [], [], 0, 0
    for start, end, sha, suffix in spans:
        if start < pos:
            continue  # overlapping (never seen): leave that one in the message
        kept.append(data[pos:start])
        parts.append([start - removed, sha, suffix])
        removed += end - start
        pos = end
    kept.append(data[pos:])
    return b"".join(kept), parts


def join_images(skeleton: bytes, parts, read) -> bytes:
    """The message from its stored form; `read(sha256, suffix)` gives an image's bytes."""
    out, pos = [], 0
    for at, sha, suffix in parts:
        out.append(skeleton[pos:at])
        out.append(base64_body(read(sha, suffix)))
        pos = at
    out.append(skeleton[pos:])
    return b"".join(out)


def _read_stored(app: Flask | None):
    def read(sha: str, suffix: str) -> bytes:
        try:
            data = storage.get(sha, app, suffix=suffix)
        except (FileNotFoundError, ValueError) as exc:
            raise MessageImageError(f"the email's image {sha[:12]}… is missing from the image store") from exc
        if hashlib.sha256(data).hexdigest() != sha:
            raise MessageImageError(
                f"the email's image {sha[:12]}… was modified in the image store (it no longer has its hash)"
            )
        return data

    return read


def message_bytes(row, app: Flask | None = None) -> bytes:
    """The exact message of an outbox row (a dict or sqlite3.Row with `message` and
    `message_images`), its images read from the store. Raises MessageImageError."""
    message = row["message"]
    if isinstance(message, str):
        message = message.encode()
    keys = row.keys()
    parts = row["message_images"] if "message_images" in keys else None
    if not parts:
        return message
    return join_images(message, json.loads(parts), _read_stored(app))


def store_images(message: BuiltMessage, app: Flask | None = None) -> tuple[bytes, str]:
    """Put the message's inline images in the store (each file fsynced; a stat if already
    there) and return (what the outbox row keeps, its `message_images`)."""
    if message.skeleton is not None:
        skeleton, parts = message.skeleton, [list(p) for p in message.parts]
    else:
        skeleton, parts = split_images(message.data, message.images)
    by_sha = {hashlib.sha256(i.data).hexdigest(): i.data for i in message.images}
    for _, sha, suffix in parts:
        storage.put(by_sha[sha], app, suffix=suffix)
    return skeleton, json.dumps(parts)


def move_images_to_store(db: sqlite_utils.Database, app: Flask, *, batch: int = 50) -> int:
    """Migration 0080's data step: split the rows queued before it (message_images NULL) so
    that each inline image is stored once, by hash. Idempotent; each batch's images are
    stored and fsynced before the transaction that rewrites its rows, and a row is rewritten
    only if its stored form rebuilds to the same bytes. Returns how many rows it split."""
    moved = 0
    while True:
        rows = db.execute(
            "SELECT id, message FROM outbox WHERE message_images IS NULL ORDER BY id LIMIT ?", (batch,)
        ).fetchall()
        if not rows:
            return moved
        updates = []
        for row in rows:
            data = row["message"] if isinstance(row["message"], bytes) else str(row["message"]).encode()
            images = _inline_images(data)
            skeleton, parts = split_images(data, images)
            by_sha = {hashlib.sha256(i.data).hexdigest(): i.data for i in images}
            for _, sha, suffix in parts:
                storage.put(by_sha[sha], app, suffix=suffix)
            try:
                same = join_images(skeleton, parts, _read_stored(app)) == data
            except MessageImageError:
                same = False
            if not same:  # e.g. a modified file already under that name: keep the row whole
                skeleton, parts = data, []
            updates.append((skeleton, json.dumps(parts), row["id"]))
        with transaction(db):
            for skeleton, parts, row_id in updates:
                db.execute(
                    "UPDATE outbox SET message = ?, message_images = ? WHERE id = ? AND message_images IS NULL",
                    (skeleton, parts, row_id),
                )
        moved += sum(1 for _, parts, _ in updates if parts != "[]")


def _inline_images(data: bytes) -> list[InlineImage]:
    """The base64 image parts of a built message (as InlineImage, for split_images)."""
    from email import message_from_bytes

    found = []
    for part in message_from_bytes(data, policy=default_policy).walk():
        if (
            part.get_content_maintype() == "image"
            and part.get("Content-Transfer-Encoding", "").lower() == "base64"
        ):
            found.append(
                InlineImage(
                    cid=str(part.get("Content-ID", "")).strip("<>"),
                    data=part.get_content(),
                    subtype=part.get_content_subtype(),
                )
            )
    return found


def queue(
    db: sqlite_utils.Database,
    *,
    proof_id: int | None,
    kind: str,
    to_addr: str,
    subject: str,
    message: BuiltMessage,
    revision: int | None = None,
    link_id: str | None = None,
    now: datetime | None = None,
    stored: tuple[bytes, str] | None = None,
) -> int:
    """Insert an outbox row. Call inside the caller's transaction, next to its event. The
    message's inline images are stored by hash (store them before the transaction, as
    `store_images` does, and this is a stat per image); `stored`: its result, if already made."""
    moment = timestamp(now)
    stored, images = stored if stored is not None else store_images(message)
    cursor = db.execute(
        "INSERT INTO outbox (proof_id, kind, to_addr, subject, message, message_images, message_id, status,"
        " attempts, next_attempt_at, created_at, revision, link_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
        (
            proof_id,
            kind,
            to_addr,
            subject,
            stored,
            images,
            message.message_id,
            moment,
            moment,
            revision,
            link_id,
        ),
    )
    if has_request_context():
        g.proofmark_mail_queued = True
    return cursor.lastrowid


# --- backends -------------------------------------------------------------------------------


class FileBackend:
    """Each message as an .eml file in instance/OUTBOX_DIR, named by its outbox id so that a
    retried delivery rewrites the same file."""

    name = "file"

    def __init__(self, app: Flask):
        folder = Path(app.config["OUTBOX_DIR"])
        self.folder = folder if folder.is_absolute() else Path(app.instance_path) / folder

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def deliver(self, row: dict) -> None:
        path = self.folder / f"{row['id']:06d}-{row['kind']}.eml"
        tmp = path.with_suffix(f".tmp{os.getpid()}-{secrets.token_hex(4)}")
        try:
            tmp.write_bytes(row["message"])
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise MailError(f"could not write {path}: {exc}") from exc

    def close(self) -> None:
        pass


class SmtpBackend:
    """One SMTP connection per batch, opened on first use."""

    name = "smtp"

    def __init__(self, app: Flask):
        self.config = app.config
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        cfg = self.config
        try:
            smtp = smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=float(cfg["SMTP_TIMEOUT"]))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot connect to {cfg['SMTP_HOST']}:{cfg['SMTP_PORT']}: {exc}", server=True
            ) from exc
        try:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg.get("SMTP_PASSWORD") or "")
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            # Mail waits until the login is fixed; no message is at fault.
            raise MailError(f"SMTP login refused: {exc.smtp_code} {exc.smtp_error!r}", server=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise MailError(f"SMTP session setup failed: {exc}", server=True) from exc
        self.smtp = smtp

    def deliver(self, row: dict) -> None:
        assert self.smtp is not None
        sender = parseaddr(self.config["MAIL_FROM"])[1] or "proofs@localhost"
        try:
            refused = self.smtp.sendmail(sender, [row["to_addr"]], row["message"])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(
                f"recipient refused: {exc.recipients}",
                permanent=all(c >= 500 for c in codes),
                server=all(c == 421 for c in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}",
                permanent=exc.smtp_code >= 500,
                server=exc.smtp_code == 421,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Disconnected or timed out mid-session: the connection failed, not the message.
            raise MailError(f"SMTP delivery failed: {exc}", server=True) from exc
        if refused:
            raise MailError(f"recipient refused: {refused}")

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


BACKENDS = {"file": FileBackend, "smtp": SmtpBackend}


def backend_for(app: Flask):
    name = app.config.get("MAIL_BACKEND", "file")
    if name not in BACKENDS:
        # A configuration mistake, not the message's: mail waits until it is fixed.
        raise MailError(f"unknown MAIL_BACKEND {name!r} (use 'file' or 'smtp')", server=True)
    return BACKENDS[name](app)


# --- sending --------------------------------------------------------------------------------


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.claimed} due, {self.sent} sent, {self.retrying} to retry later, {self.failed} given up"


def backoff_seconds(attempt: int, config) -> int:
    """Seconds before attempt `attempt + 1`: base, 2*base, 4*base, ..., capped."""
    base = int(config["MAIL_RETRY_BASE_SECONDS"])
    return min(int(config["MAIL_RETRY_MAX_SECONDS"]), base * 2 ** max(attempt - 1, 0))


def claim_due(db: sqlite_utils.Database, *, now: datetime, limit: int = 50) -> list[dict]:
    """Atomically take due rows for this sender: pending and due, or stuck in 'sending'
    longer than MAIL_SENDING_TIMEOUT_SECONDS (a sender died mid-delivery)."""
    claim = secrets.token_hex(8)
    stale = timestamp(now - timedelta(seconds=int(current_app.config["MAIL_SENDING_TIMEOUT_SECONDS"])))
    due_sql = (
        "SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?)"
        " OR (status = 'sending' AND claimed_at <= ?) ORDER BY id LIMIT ?"
    )
    # A read first, so that an idle poll never takes the write lock.
    if db.execute(due_sql, (timestamp(now), stale, 1)).fetchone() is None:
        return []
    with transaction(db):
        ids = [r[0] for r in db.execute(due_sql, (timestamp(now), stale, limit))]
        if ids:
            marks = ",".join("?" * len(ids))
            db.execute(
                f"UPDATE outbox SET status = 'sending', claimed_at = ?, claim_token = ?, attempts = attempts + 1"
                f" WHERE id IN ({marks})",
                (timestamp(now), claim, *ids),
            )
    if not ids:
        return []
    return [dict(r) for r in db.execute("SELECT * FROM outbox WHERE claim_token = ? ORDER BY id", (claim,))]


def _mark_sent(db: sqlite_utils.Database, row: dict, backend: str, now: datetime) -> bool:
    with transaction(db):
        cursor = db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL"
            " WHERE id = ? AND claim_token = ? AND status = 'sending'",
            (timestamp(now), row["id"], row["claim_token"]),
        )
        marked = cursor.rowcount == 1
        if marked and row["proof_id"] is not None:
            append_event(
                db,
                row["proof_id"],
                "email_sent",
                actor="system",
                at=now,
                data={
                    "outbox_id": row["id"],
                    "kind": row["kind"],
                    "message_id": row["message_id"],
                    "to": row["to_addr"],
                    "subject": row["subject"],
                    "revision": row["revision"],
                    "attempt": row["attempts"],
                    "backend": backend,
                },
            )
    return marked


def _parse_timestamp(value: str) -> datetime:
    from datetime import UTC

    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _mark_failed(db: sqlite_utils.Database, row: dict, error: MailError, backend: str, now: datetime) -> bool:
    """Back to 'pending' with a later next_attempt_at, or 'failed' for good. True if retrying.

    Given up only when the server refused this message for good, or refused it temporarily
    (4xx) after MAIL_MAX_ATTEMPTS attempts and MAIL_GIVE_UP_AFTER_HOURS of trying. While
    the server is down nothing is given up: the message goes out once it is back."""
    config = current_app.config
    waited = now - _parse_timestamp(row["created_at"])
    give_up = error.permanent or (
        not error.server
        and row["attempts"] >= int(config["MAIL_MAX_ATTEMPTS"])
        and waited >= timedelta(hours=float(config.get("MAIL_GIVE_UP_AFTER_HOURS", GIVE_UP_AFTER_HOURS)))
    )
    next_at = now + timedelta(seconds=backoff_seconds(row["attempts"], config))
    with transaction(db):
        cursor = db.execute(
            "UPDATE outbox SET status = ?, next_attempt_at = ?, last_error = ?"
            " WHERE id = ? AND claim_token = ? AND status = 'sending'",
            (
                "failed" if give_up else "pending",
                timestamp(next_at),
                str(error)[:1000],
                row["id"],
                row["claim_token"],
            ),
        )
        if cursor.rowcount == 1 and row["proof_id"] is not None:
            append_event(
                db,
                row["proof_id"],
                "email_failed",
                actor="system",
                at=now,
                data={
                    "outbox_id": row["id"],
                    "kind": row["kind"],
                    "message_id": row["message_id"],
                    "to": row["to_addr"],
                    "revision": row["revision"],
                    "attempt": row["attempts"],
                    "error": str(error)[:1000],
                    "backend": backend,
                    "will_retry": not give_up,
                    "server_unavailable": error.server,
                    "next_attempt_at": None if give_up else timestamp(next_at),
                },
            )
    return not give_up


def send_due(db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 50) -> SendReport:
    """Claim due messages and deliver them once. Call inside an app context."""
    now = now or utcnow()
    report = SendReport()
    rows = claim_due(db, now=now, limit=limit)
    report.claimed = len(rows)
    if not rows:
        return report
    try:
        backend = backend_for(current_app)
        backend.open()
    except MailError as exc:
        # Nothing can go out this round: every claimed row waits for its next attempt.
        for row in rows:
            retrying = _mark_failed(db, row, exc, current_app.config.get("MAIL_BACKEND", "?"), now)
            report.retrying += retrying
            report.failed += not retrying
        report.errors.append(str(exc))
        return report
    try:
        for row in rows:
            try:
                try:
                    row["message"] = message_bytes(row)
                except MessageImageError as exc:
                    # Not sent rather than sent with another image; retried (the file may be
                    # restored) until MAIL_GIVE_UP_AFTER_HOURS.
                    raise MailError(f"not sent: {exc}") from exc
                backend.deliver(row)
            except MailError as exc:
                retrying = _mark_failed(db, row, exc, backend.name, now)
                report.retrying += retrying
                report.failed += not retrying
                report.errors.append(str(exc))
                continue
            report.sent += _mark_sent(db, row, backend.name, now)
    finally:
        backend.close()
    return report


# --- sending from the web process -----------------------------------------------------------


class BackgroundSender(QueueWorker):
    """One daemon thread per process: woken after a request queued mail, and every
    MAIL_POLL_SECONDS for retries that have come due. Uses its own database connection."""

    def __init__(self, app: Flask):
        super().__init__(app, name="proofmark-mail", poll_setting="MAIL_POLL_SECONDS", work=send_once)


def send_once(app: Flask, *, now: datetime | None = None) -> SendReport:
    """Run the sender once with its own connection (not the request's)."""
    with app.app_context():
        database = dbmod.connect(dbmod.database_path(app))
        try:
            report = SendReport()
            _queue_missing_confirmations(database, app, now)
            while True:
                batch = send_due(database, now=now)
                report.claimed += batch.claimed
                report.sent += batch.sent
                report.retrying += batch.retrying
                report.failed += batch.failed
                report.errors += batch.errors
                # Full batch: more may be due. A batch with failures stops here (backoff).
                if batch.claimed < 50 or batch.sent < batch.claimed:
                    return report
        finally:
            database.conn.close()


def _queue_missing_confirmations(database: sqlite_utils.Database, app: Flask, now: datetime | None) -> None:
    """Before sending (and so at start and on every poll): a customer's decision whose
    confirmation email was never queued (a crash between the two transactions) gets it now."""
    from proofmark.proofs.service import queue_pending_confirmations  # proofs builds on mail

    try:
        queue_pending_confirmations(database, now=now)
    except Exception:  # noqa: BLE001 - sending what is queued matters more
        app.logger.exception("mail sender: the sweep for unqueued confirmations failed")


def _move_old_rows(app: Flask) -> None:
    """At start: split outbox rows queued before migration 0080 (a partial-index lookup when
    there are none). A failure leaves them whole, which is still correct; it is logged."""
    database = dbmod.connect(dbmod.database_path(app), check_writes=app.config.get("DB_CHECK_WRITES", False))
    try:
        if database.execute("SELECT 1 FROM outbox WHERE message_images IS NULL LIMIT 1").fetchone():
            moved = move_images_to_store(database, app)
            app.logger.info("outbox: %d queued messages now refer to their images by hash", moved)
    except Exception:  # noqa: BLE001 - the rows stay whole and valid; the next start retries
        app.logger.exception("outbox: moving images to the store failed")
    finally:
        database.conn.close()


def send_mode(app: Flask) -> str:
    return background.after_request_mode(app, "MAIL_SEND_AFTER_REQUEST")


def sender_for(app: Flask) -> BackgroundSender:
    return background.worker_for(app, EXTENSION_KEY, BackgroundSender)


def after_commit(app: Flask) -> None:
    """Deliver what the request queued, per MAIL_SEND_AFTER_REQUEST. Never raises."""
    mode = send_mode(app)
    try:
        if mode == "thread":
            sender_for(app).kick()
        elif mode == "inline":
            send_once(app)
    except Exception:  # noqa: BLE001 - a mail problem must not break the page
        app.logger.exception("mail sender: sending after the request failed")


def init_app(app: Flask) -> None:
    if EXTENSION_KEY in app.extensions:
        return
    app.extensions[EXTENSION_KEY] = BackgroundSender(app)
    _move_old_rows(app)

    @app.before_request
    def _start_background_sender() -> None:
        # Started with the first request so that retries come due without new mail.
        if send_mode(app) == "thread":
            sender_for(app).start()

    @app.teardown_request
    def _send_after_request(exc: BaseException | None) -> None:
        if g.pop("proofmark_mail_queued", False):
            after_commit(app)
