"""The tamper-evident event log of a proof.

Each event stores the SHA-256 of each of its fields (`field_hashes`) and a `hash` over the
previous event's hash and those field hashes, so the events of one proof form a chain.
Recomputing it later tells whether anything changed and, if so, which event and which
field. Database triggers refuse UPDATE and DELETE on the table.

These hashes are unkeyed: whoever can write the database can recompute them. What holds
against that is the keyed log across all proofs (proofmark.ledger): append_event also adds
each event to it, in the same transaction. Times never go back within a proof: an event
given a moment earlier than the proof's last event is recorded at that last event's time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

GENESIS = "0" * 64
HASHED_FIELDS = ("proof_id", "seq", "kind", "at", "actor", "ip", "user_agent", "data")


from json.encoder import encode_basestring as _json_string  # noqa: E402 - beside its use

# One encoder, made once: json.dumps with these options would build a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(value) -> str:
    return _CANONICAL(value)


def canonical_fast(value) -> str:
    """canonical_json, assembled here for dicts of dicts and scalars (log entries), which is
    several times faster than the encoder with sort_keys; the same text."""
    if type(value) is dict:
        return "{" + ",".join(f"{_json_string(k)}:{canonical_fast(value[k])}" for k in sorted(value)) + "}"
    return canonical_scalar(value)


def canonical_scalar(value) -> str:
    """canonical_json of one field value, without the encoder's overhead for the common
    scalars (the same text: json's own C string encoder)."""
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return _CANONICAL(value)


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """UTC ISO 8601 with microseconds and a Z, sortable as text."""
    moment = (moment or utcnow()).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _field_hashes(row: dict) -> dict[str, str]:
    return {
        name: hashlib.sha256(canonical_scalar(row.get(name)).encode()).hexdigest() for name in HASHED_FIELDS
    }


def _chain_hash(prev_hash: str, field_hashes_json: str) -> str:
    return sha256_hex(prev_hash + "\n" + field_hashes_json)


def append_event(
    db: sqlite_utils.Database,
    proof_id: int,
    kind: str,
    *,
    actor: str,
    data: dict | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    at: datetime | None = None,
) -> dict:
    """Append one event to a proof's chain. Call inside the caller's transaction
    (ideally BEGIN IMMEDIATE) so that two writers cannot pick the same `seq`."""
    from proofmark import ledger

    last = db.execute(
        "SELECT seq, hash, at FROM events WHERE proof_id = ? ORDER BY seq DESC LIMIT 1", (proof_id,)
    ).fetchone()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    moment = timestamp(at)
    if last and last[2] > moment:
        moment = last[2]  # a clock stepped back, or a writer took `now` before waiting for the lock
    row = {
        "proof_id": proof_id,
        "seq": seq,
        "kind": kind,
        "at": moment,
        "actor": actor,
        "ip": ip,
        "user_agent": user_agent,
        "data": canonical_json(data or {}),
    }
    hashes_json = canonical_json(_field_hashes(row))
    row.update(field_hashes=hashes_json, prev_hash=prev_hash, hash=_chain_hash(prev_hash, hashes_json))
    cursor = db.execute(
        "INSERT INTO events (proof_id, seq, kind, at, actor, ip, user_agent, data, field_hashes,"
        " prev_hash, hash) VALUES (:proof_id, :seq, :kind, :at, :actor, :ip, :user_agent, :data,"
        " :field_hashes, :prev_hash, :hash)",
        row,
    )
    row["id"] = cursor.lastrowid
    logged = ledger.append(db, row)
    row["log_index"], row["leaf_hash"] = logged["index"], logged["leaf_hash"]
    # The one place proof events go out as webhooks: queued in this same transaction.
    from proofmark.integrations import outbound

    outbound.on_event(db, row)
    return row


@dataclass
class ChainProblem:
    event_id: int | None
    seq: int | None
    field: str
    message: str


@dataclass
class ChainReport:
    proof_id: int
    events: int
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(db: sqlite_utils.Database, proof_id: int) -> ChainReport:
    rows = [dict(r) for r in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,))]
    report = ChainReport(proof_id=proof_id, events=len(rows))
    prev_hash, prev_at = GENESIS, None
    for expected_seq, row in enumerate(rows, start=1):
        eid, seq = row["id"], row["seq"]
        if seq != expected_seq:
            report.problems.append(
                ChainProblem(
                    eid, seq, "seq", f"expected event #{expected_seq}, found #{seq} (events missing?)"
                )
            )
        try:
            stored = json.loads(row["field_hashes"])
        except (TypeError, ValueError):
            stored = {}
        actual = _field_hashes(row)
        for name in HASHED_FIELDS:
            if stored.get(name) != actual[name]:
                report.problems.append(
                    ChainProblem(eid, seq, name, f"field '{name}' was changed after it was recorded")
                )
        if row["prev_hash"] != prev_hash:
            report.problems.append(
                ChainProblem(
                    eid,
                    seq,
                    "prev_hash",
                    "does not link to the previous event (an event was removed or altered)",
                )
            )
        if row["hash"] != _chain_hash(row["prev_hash"], row["field_hashes"]):
            report.problems.append(
                ChainProblem(eid, seq, "hash", "the event's hash does not match its content")
            )
        if prev_at is not None and str(row["at"]) < prev_at:
            report.problems.append(
                ChainProblem(
                    eid, seq, "at", f"its time {row['at']} is before the previous event's ({prev_at})"
                )
            )
        prev_hash, prev_at = row["hash"], str(row["at"])
    return report
