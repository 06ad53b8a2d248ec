"""Re-check every record: each proof's event chain (proofmark.records.verify_chain) and each
stored proof image against the SHA-256 it is named by (proofmark.storage.verify)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlite_utils
from flask import Flask

from proofmark import storage
from proofmark.records import verify_chain


@dataclass(frozen=True)
class Problem:
    what: str  # "event" or "image"
    message: str
    event_id: int | None = None
    seq: int | None = None
    field: str | None = None
    revision: int | None = None
    image_sha256: str | None = None

    def describe(self) -> str:
        if self.what == "event":
            return f"event #{self.seq} (id {self.event_id}), field {self.field}: {self.message}"
        return f"revision {self.revision} image: {self.message}"


@dataclass
class ProofVerification:
    proof_id: int
    order_ref: str
    events: int
    images: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "proof_id": self.proof_id,
            "order_ref": self.order_ref,
            "intact": self.intact,
            "events_checked": self.events,
            "images_checked": self.images,
            "problems": [p.__dict__ for p in self.problems],
        }


def _image_hashes(db: sqlite_utils.Database, proof_id: int) -> list[tuple[int | None, str]]:
    """Every image the record names: each revision's, and any named by an event (the approval)."""
    found: dict[str, int | None] = {}
    for row in db.execute(
        "SELECT number, image_sha256 FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,)
    ):
        found.setdefault(row["image_sha256"], row["number"])
    for row in db.execute("SELECT data FROM events WHERE proof_id = ?", (proof_id,)):
        try:
            data = json.loads(row["data"])
        except (TypeError, ValueError):
            continue
        sha = data.get("image_sha256") if isinstance(data, dict) else None
        if isinstance(sha, str):
            found.setdefault(sha, data.get("revision"))
    return [(number, sha) for sha, number in found.items()]


def verify_proof(db: sqlite_utils.Database, proof_id: int, app: Flask | None = None) -> ProofVerification:
    row = db.execute("SELECT order_ref FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    chain = verify_chain(db, proof_id)
    images = _image_hashes(db, proof_id)
    result = ProofVerification(proof_id, row["order_ref"] if row else "?", chain.events, len(images))
    for p in chain.problems:
        result.problems.append(Problem("event", p.message, event_id=p.event_id, seq=p.seq, field=p.field))
    for number, sha in images:
        try:
            message = storage.verify(sha, app)
        except ValueError:
            message = f"{sha!r} is not a SHA-256 digest"
        if message:
            result.problems.append(Problem("image", message, revision=number, image_sha256=sha))
    return result


def verify_all(db: sqlite_utils.Database, app: Flask | None = None) -> Iterator[ProofVerification]:
    ids = [r[0] for r in db.execute("SELECT id FROM proofs ORDER BY id")]
    # Events whose proof row is gone are tampering too: check their chains as well.
    ids += [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT proof_id FROM events WHERE proof_id NOT IN (SELECT id FROM proofs)"
        )
    ]
    for proof_id in ids:
        yield verify_proof(db, proof_id, app)
