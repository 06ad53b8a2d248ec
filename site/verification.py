"""Re-check every record: each proof's event chain (proofmark.records.verify_chain), its
entries in the keyed log (proofmark.ledger), the rows bound to its events (proofmark.bindings:
status, revisions, emails, claims), and each stored proof image against the SHA-256 it is
named by (proofmark.storage.verify). `verify_all` also checks the log as a whole: order,
times, the Merkle tree and the signed tree heads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlite_utils
from flask import Flask

from proofmark import bindings, ledger, storage
from proofmark.records import verify_chain


@dataclass(frozen=True)
class Problem:
    what: str  # "event", "log", "record" (a row against its events) or "image"
    message: str
    event_id: int | None = None
    seq: int | None = None
    field: str | None = None
    revision: int | None = None
    image_sha256: str | None = None

    def describe(self) -> str:
        if self.what == "event":
            return f"event #{self.seq} (id {self.event_id}), field {self.field}: {self.message}"
        if self.what == "log":
            where = f"event #{self.seq}" if self.seq is not None else "the log"
            return f"{where} (keyed log, field {self.field}): {self.message}"
        if self.what == "record":
            return f"{self.field} table: {self.message}"
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


def _image_hashes(db: sqlite_utils.Database, proof_id: int) -> list[tuple[int | None, str, str]]:
    """Every image the record names, as (revision, SHA-256, view name or ""): each revision's,
    any named by an event (the approval), and the other views rendered with a proof."""
    found: dict[str, int | None] = {}
    views: dict[str, tuple[int | None, str]] = {}
    for row in db.execute(
        "SELECT number, image_sha256 FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,)
    ):
        if row["image_sha256"]:  # '' until its render job has stored the image
            found.setdefault(row["image_sha256"], row["number"])
    for row in db.execute("SELECT data FROM events WHERE proof_id = ?", (proof_id,)):
        if '"image_sha256"' not in (row["data"] or ""):
            continue  # most events name no image: no need to parse them
        try:
            data = json.loads(row["data"])
        except (TypeError, ValueError):
            continue
        sha = data.get("image_sha256") if isinstance(data, dict) else None
        if isinstance(sha, str):
            found.setdefault(sha, data.get("revision"))
        # The product's other views rendered with the proof (`image_rendered`.views): shown
        # beside it on the approval page, so checked like it.
        for view in (data.get("views") or []) if isinstance(data, dict) else []:
            if isinstance(view, dict) and isinstance(view.get("image_sha256"), str):
                views.setdefault(view["image_sha256"], (data.get("revision"), str(view.get("name", ""))))
    return [(number, sha, "") for sha, number in found.items()] + [
        (number, sha, name) for sha, (number, name) in views.items() if sha not in found
    ]


def verify_proof(
    db: sqlite_utils.Database,
    proof_id: int,
    app: Flask | None = None,
    log_problems: list[ledger.LogProblem] | None = None,
) -> ProofVerification:
    """One proof's record. `log_problems`: this proof's share of a whole-log check already
    made (verify_all); without it, the proof's own log entries are checked here."""
    row = db.execute("SELECT order_ref FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    chain = verify_chain(db, proof_id)
    images = _image_hashes(db, proof_id)
    result = ProofVerification(proof_id, row["order_ref"] if row else "?", chain.events, len(images))
    if row is None:
        result.problems.append(
            Problem("record", f"proof {proof_id} is in the log but its row was deleted", field="proofs")
        )
    for p in chain.problems:
        result.problems.append(Problem("event", p.message, event_id=p.event_id, seq=p.seq, field=p.field))
    if log_problems is None:
        log_problems = ledger.verify_log(db, app, proof_id=proof_id).problems
    for p in log_problems:
        result.problems.append(Problem("log", p.message, event_id=p.event_id, seq=p.seq, field=p.field))
    for m in bindings.check_proof(db, proof_id, app):
        if row is not None:
            result.problems.append(Problem("record", m.message, field=m.table))
    for number, sha, view in images:
        try:
            message = storage.verify(sha, app)
        except ValueError:
            message = f"{sha!r} is not a SHA-256 digest"
        if message and view:
            message = f"the {view!r} view shown beside the proof: {message}"
        if message:
            result.problems.append(Problem("image", message, revision=number, image_sha256=sha))
    return result


def verify_all(
    db: sqlite_utils.Database, app: Flask | None = None, log: ledger.LogReport | None = None
) -> Iterator[ProofVerification]:
    """Every proof, including those whose row is gone but whose events or log entries remain.
    Pass `log` (from ledger.verify_log) to see the problems of the log as a whole too; it is
    computed here otherwise."""
    log = log if log is not None else ledger.verify_log(db, app)
    by_proof: dict[int, list[ledger.LogProblem]] = {}
    for problem in log.problems:
        if problem.proof_id is not None:
            by_proof.setdefault(problem.proof_id, []).append(problem)
    ids = [r[0] for r in db.execute("SELECT id FROM proofs ORDER BY id")]
    known = set(ids)
    # Events or log entries whose proof row is gone are tampering too.
    for r in db.execute(
        "SELECT proof_id FROM events UNION SELECT proof_id FROM ledger_leaves WHERE proof_id IS NOT NULL"
    ):
        if r[0] not in known:
            known.add(r[0])
            ids.append(r[0])
    for proof_id in ids:
        yield verify_proof(db, proof_id, app, log_problems=by_proof.get(proof_id, []))
