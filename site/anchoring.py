"""Signed tree heads, anchored outside the shop.

`anchor()` (the `proofmark anchor` command; run it hourly from cron or a systemd timer, and
whenever wanted) signs the log's current tree head with the log's Ed25519 key and asks an
RFC 3161 time-stamping authority (TSA_URLS, tried in order) to timestamp it. Each signed
head is kept with the TSA's whole response. A TSA that is down leaves heads waiting; the next
run timestamps every waiting head, oldest first. Nothing here runs while an approval is
recorded: an approval only appends to the log, and the next anchored head covers it.

The signing key is derived from SECRET_KEY unless LOG_SIGNING_KEY (64 hex digits, an Ed25519
seed) is set; its public key goes into every head and every evidence pack.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC

import sqlite_utils
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask, current_app

from proofmark import ledger
from proofmark.db import transaction
from proofmark.records import canonical_json, timestamp, utcnow

LOG_NAME = "proofmark"


class AnchorError(RuntimeError):
    pass


def signing_key(app: Flask | None = None) -> Ed25519PrivateKey:
    config = (app or current_app).config
    seed = config.get("LOG_SIGNING_KEY")
    if seed:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
    secret = config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return Ed25519PrivateKey.from_private_bytes(
        hmac.digest(secret, b"proofmark log signing key v1", "sha256")
    )


def public_key_b64(app: Flask | None = None) -> str:
    raw = signing_key(app).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def known_public_keys(app: Flask | None = None) -> set[str]:
    config = (app or current_app).config
    return {public_key_b64(app), *config.get("LOG_PREVIOUS_PUBLIC_KEYS", [])}


def sign_head(db: sqlite_utils.Database, app: Flask | None = None):
    """Sign the current tree head, unless a head of this size is signed already. Returns the
    head row (None while the log is empty)."""
    app = app or current_app
    with transaction(db):
        tree_size = ledger.size(db)
        if tree_size == 0:
            return None
        existing = db.execute("SELECT * FROM tree_heads WHERE tree_size = ?", (tree_size,)).fetchone()
        if existing is not None:
            return existing
        signed = db.execute("SELECT max(tree_size) FROM tree_heads").fetchone()[0] or 0
        problems = ledger.check_before_signing(db, app, min(signed, tree_size), tree_size)
        if problems:
            raise AnchorError(
                "refused to sign the tree head: the log does not verify ("
                + "; ".join(p.describe() for p in problems[:3])
                + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
                + "). Run `proofmark verify-records`."
            )
        key = signing_key(app)
        public = public_key_b64(app)
        head = {
            "log": LOG_NAME,
            "log_id": hashlib.sha256(base64.b64decode(public)).hexdigest(),
            "tree_size": tree_size,
            "root_hash": ledger.root(db, tree_size).hex(),
            "timestamp": timestamp(utcnow()),
        }
        head_json = canonical_json(head)
        signature = base64.b64encode(key.sign(head_json.encode())).decode()
        cursor = db.execute(
            "INSERT INTO tree_heads (tree_size, root_hash, signed_at, head, signature, public_key)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (tree_size, head["root_hash"], head["timestamp"], head_json, signature, public),
        )
        return db.execute("SELECT * FROM tree_heads WHERE id = ?", (cursor.lastrowid,)).fetchone()


def check_head(head, app: Flask | None = None) -> list[str]:
    """What is wrong with a stored signed head (empty: nothing)."""
    problems = []
    try:
        public = base64.b64decode(head["public_key"], validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(head["signature"], validate=True), head["head"].encode()
        )
    except (InvalidSignature, ValueError):
        return ["its signature does not verify: the head was altered or forged"]
    if head["public_key"] not in known_public_keys(app):
        problems.append("signed with a key that is not this log's (forged with another key)")
    content = ledger._loads(head["head"])
    if content.get("tree_size") != head["tree_size"] or content.get("root_hash") != head["root_hash"]:
        problems.append("the size or root stored beside it differs from what was signed")
    return problems


# --- RFC 3161 ----------------------------------------------------------------------------


def request_timestamp(url: str, data: bytes, timeout: float, roots: list | None = None) -> tuple[bytes, str]:
    """Ask the TSA at `url` to timestamp `data` (SHA-256). Returns (the DER response, the
    TSA's time as our timestamp text). Raises AnchorError on any failure."""
    from rfc3161_client import (
        HashAlgorithm,
        PKIStatus,
        TimestampRequestBuilder,
        VerificationError,
        VerifierBuilder,
        decode_timestamp_response,
    )

    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        url,
        data=request.as_bytes(),
        headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as reply:
            body = reply.read(1_000_000)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise AnchorError(f"{url}: {getattr(exc, 'reason', exc)}") from exc
    try:
        response = decode_timestamp_response(body)
    except Exception as exc:  # the parser's own error types, for any malformed byte
        raise AnchorError(f"{url}: not a timestamp response ({type(exc).__name__})") from exc
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise AnchorError(f"{url}: refused ({response.status}: {'; '.join(response.status_string)})")
    info = response.tst_info
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise AnchorError(f"{url}: the token is over something else")
    if info.nonce != request.nonce:
        raise AnchorError(f"{url}: the token does not carry our nonce")
    if roots:
        try:
            builder = VerifierBuilder.from_request(request)
            for root in roots:
                builder = builder.add_root_certificate(root)
            builder.build().verify_message(response, data)
        except (VerificationError, ValueError) as exc:
            raise AnchorError(f"{url}: the token does not verify against TSA_ROOTS ({exc})") from exc
    return body, timestamp(info.gen_time.astimezone(UTC))


def tsa_roots(app: Flask | None = None) -> list:
    import cryptography.x509

    roots = []
    for path in (app or current_app).config.get("TSA_ROOTS") or []:
        with open(path, "rb") as fh:
            roots += cryptography.x509.load_pem_x509_certificates(fh.read())
    return roots


@dataclass
class AnchorReport:
    head: dict | None = None
    anchored: list[int] = field(default_factory=list)  # tree sizes anchored by this run
    waiting: list[int] = field(default_factory=list)  # tree sizes still without a token
    errors: list[str] = field(default_factory=list)
    refused: bool = False  # the log did not verify: no new head was signed

    def summary(self) -> str:
        size = self.head["tree_size"] if self.head else 0
        text = f"log of {size} entries; anchored {len(self.anchored)} head(s) now"
        if self.waiting:
            text += f"; {len(self.waiting)} head(s) still waiting for a timestamp"
        return text


def anchor(db: sqlite_utils.Database, app: Flask | None = None) -> AnchorReport:
    """Sign the current head, then timestamp every head that has no token yet."""
    app = app or current_app
    report = AnchorReport()
    try:
        head = sign_head(db, app)
    except AnchorError as exc:
        report.errors.append(str(exc))
        report.refused = True
        head = db.execute("SELECT * FROM tree_heads ORDER BY tree_size DESC LIMIT 1").fetchone()
    report.head = dict(head) if head is not None else None
    urls = list(app.config.get("TSA_URLS") or [])
    timeout = float(app.config.get("TSA_TIMEOUT_SECONDS", 10))
    roots = tsa_roots(app)
    pending = list(
        db.execute(
            "SELECT h.* FROM tree_heads h LEFT JOIN anchors a ON a.head_id = h.id WHERE a.id IS NULL"
            " ORDER BY h.tree_size"
        )
    )
    for row in pending:
        errors = []
        for url in urls:
            try:
                body, gen_time = request_timestamp(url, row["head"].encode(), timeout, roots)
            except AnchorError as exc:
                errors.append(str(exc))
                continue
            with transaction(db):
                db.execute(
                    "INSERT INTO anchors (head_id, tsa_url, response, gen_time, anchored_at) VALUES (?, ?, ?, ?, ?)",
                    (row["id"], url, body, gen_time, timestamp(utcnow())),
                )
                db.execute("DELETE FROM anchor_attempts WHERE head_id = ?", (row["id"],))
            report.anchored.append(row["tree_size"])
            break
        else:
            error = "; ".join(errors) or "no TSA_URLS configured"
            report.errors.append(f"head of {row['tree_size']} entries: {error}")
            report.waiting.append(row["tree_size"])
            with transaction(db):
                db.execute(
                    "INSERT INTO anchor_attempts (head_id, attempts, last_error, last_attempt_at)"
                    " VALUES (?, 1, ?, ?) ON CONFLICT (head_id) DO UPDATE SET attempts = attempts + 1,"
                    " last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at",
                    (row["id"], error[:1000], timestamp(utcnow())),
                )
    return report


# --- what an evidence pack carries --------------------------------------------------------


def covering_head(db: sqlite_utils.Database, index: int):
    """The smallest anchored head that contains entry `index`; else the largest signed head
    that contains it (not yet timestamped); else None."""
    row = db.execute(
        "SELECT h.*, a.response, a.tsa_url, a.gen_time FROM tree_heads h JOIN anchors a ON a.head_id = h.id"
        " WHERE h.tree_size > ? ORDER BY h.tree_size LIMIT 1",
        (index,),
    ).fetchone()
    if row is not None:
        return row
    return db.execute(
        "SELECT h.*, NULL AS response, NULL AS tsa_url, NULL AS gen_time FROM tree_heads h"
        " WHERE h.tree_size > ? ORDER BY h.tree_size DESC LIMIT 1",
        (index,),
    ).fetchone()


def evidence_for_event(db: sqlite_utils.Database, event_id: int) -> dict | None:
    """The `ledger` section of an evidence pack for one event: its log entry, the inclusion
    proof into the head that covers it, that head's signature, public key and RFC 3161 token."""
    leaf = ledger.leaf_of_event(db, event_id)
    if leaf is None:
        return None
    entry = ledger.entry_of_leaf(db, leaf)
    if entry is None:
        return None
    section = {
        "leaf_index": leaf["idx"],
        "leaf_hash": leaf["leaf_hash"],
        "entry": entry,
        "log_size_now": ledger.size(db),
        "tree_head": None,
        "signature": None,
        "public_key": None,
        "inclusion_proof": None,
        "timestamp": None,
    }
    head = covering_head(db, leaf["idx"])
    if head is None:
        return section
    section.update(
        tree_head=ledger._loads(head["head"]),
        signature=head["signature"],
        public_key=head["public_key"],
        inclusion_proof=[h.hex() for h in ledger.inclusion_proof(db, leaf["idx"], head["tree_size"])],
    )
    if head["response"] is not None:
        section["timestamp"] = {
            "tsa_url": head["tsa_url"],
            "gen_time_utc": head["gen_time"],
            "response": base64.b64encode(bytes(head["response"])).decode(),
            # As configured by the shop (TSA_ROOTS): check them against the TSA's own published root.
            "tsa_root_certificates": tsa_root_pems(),
        }
    return section


def tsa_root_pems(app: Flask | None = None) -> list[str]:
    from cryptography.hazmat.primitives.serialization import Encoding as Enc

    return [cert.public_bytes(Enc.PEM).decode() for cert in tsa_roots(app)]
