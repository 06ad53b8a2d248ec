"""The keyed, append-only log across all proofs.

Every event (proofmark.records.append_event) becomes one leaf of a single log, in the
manner of Certificate Transparency (RFC 6962 / RFC 9162):

- The leaf's *entry* is the event as recorded plus its position (`index`), the time it was
  logged (`logged_at`, never earlier than the previous leaf's), the previous leaf's hash
  (`prev_leaf`) and one HMAC-SHA256 per field (`macs`). The HMAC key is not in the database:
  it is derived from SECRET_KEY, or configured in RECORD_KEYS beside it. Whoever can write the
  SQLite file but does not hold the key cannot make a valid entry, so an inserted, edited or
  renumbered event is found, and the field that changed is named.
- The leaf hash is SHA-256(0x00 || canonical entry); the tree's inner nodes are
  SHA-256(0x01 || left || right). Only complete subtrees are stored (`ledger_nodes`), each
  written once when it fills up, so an append writes the leaf and on average two nodes and
  never rebuilds the tree; the root, inclusion proofs and consistency proofs of any past
  tree size come from those stored nodes.
- Signed tree heads and their RFC 3161 timestamps are in proofmark.anchoring.

Key rotation: RECORD_KEYS maps key ids to secrets (hex), RECORD_KEY_ID names the one to write
with. When it changes, the log first records a `key_rotated` entry (MACed with the new key,
and with the old one too when it is still configured), so the change is itself in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

import sqlite_utils
from flask import Flask, current_app

from proofmark.records import canonical_fast, canonical_json, canonical_scalar, timestamp, utcnow
from proofmark.verify_evidence import (
    EMPTY_ROOT,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
)

ENTRY_VERSION = 1
GENESIS = "0" * 64
# Each one gets its own HMAC, so a check names the field that changed.
MAC_FIELDS = (
    "index",
    "logged_at",
    "prev_leaf",
    "event_id",
    "proof_id",
    "seq",
    "kind",
    "at",
    "actor",
    "ip",
    "user_agent",
    "data",
)

__all__ = [
    "append",
    "entry_for",
    "inclusion_proof",
    "consistency_proof",
    "root",
    "root_from_inclusion",
    "verify_consistency",
    "verify_log",
]


# --- keys ----------------------------------------------------------------------------------


def derived_key(secret_key: str | bytes) -> bytes:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    return hmac.digest(secret_key, b"proofmark record key v1", "sha256")


def key_id_for(key: bytes, prefix: str = "derived") -> str:
    return f"{prefix}-{hashlib.sha256(b'key id ' + key).hexdigest()[:10]}"


def record_keys(app: Flask | None = None) -> tuple[str, dict[str, bytes]]:
    """(active key id, {key id: key}). With no RECORD_KEYS: one key derived from SECRET_KEY."""
    config = (app or current_app).config
    keys: dict[str, bytes] = {}
    for key_id, secret in dict(config.get("RECORD_KEYS") or {}).items():
        keys[str(key_id)] = bytes.fromhex(secret) if _is_hex(secret) else str(secret).encode()
    secret_key = config.get("SECRET_KEY")
    if secret_key:
        derived = derived_key(secret_key)
        keys.setdefault(key_id_for(derived), derived)
    active = config.get("RECORD_KEY_ID") or (key_id_for(derived_key(secret_key)) if secret_key else None)
    if not active or active not in keys:
        raise RuntimeError(
            f"RECORD_KEY_ID {active!r} is not among the configured record keys; set SECRET_KEY or RECORD_KEYS."
        )
    return active, keys


def _is_hex(value) -> bool:
    try:
        bytes.fromhex(str(value))
    except ValueError:
        return False
    return len(str(value)) >= 32


def _field_macs(key: bytes, values: dict) -> dict[str, str]:
    index = values["index"]
    return {
        name: hmac.digest(
            key, f"{index}\n{name}\n{canonical_scalar(values.get(name))}".encode(), "sha256"
        ).hex()
        for name in MAC_FIELDS
    }


def _entry_mac(key: bytes, values: dict, field_macs: dict) -> str:
    """One MAC over every value and every field's MAC: checking an intact entry takes one
    HMAC; the per-field MACs are worked out only to name what changed."""
    body = canonical_fast({"values": {n: values.get(n) for n in MAC_FIELDS}, "macs": field_macs})
    return hmac.digest(key, body.encode(), "sha256").hex()


def _macs(key: bytes, values: dict) -> dict[str, str]:
    fields = _field_macs(key, values)
    return {**fields, "entry": _entry_mac(key, values, fields)}


def entry_for(values: dict, key_id: str, macs: dict) -> dict:
    """The leaf entry: exactly what the leaf hash is computed over (canonical JSON)."""
    return {
        "v": ENTRY_VERSION,
        **{name: values.get(name) for name in MAC_FIELDS},
        "key_id": key_id,
        "macs": macs,
    }


def entry_bytes(entry: dict) -> bytes:
    return canonical_fast(entry).encode()


# --- appending -----------------------------------------------------------------------------


def _last(db: sqlite_utils.Database):
    return db.execute(
        "SELECT idx, leaf_hash, logged_at, key_id FROM ledger_leaves ORDER BY idx DESC LIMIT 1"
    ).fetchone()


def _add_leaf(db, index: int, values: dict, key_id: str, macs: dict, event_id, proof_id, kind) -> str:
    entry = entry_for(values, key_id, macs)
    digest = leaf_hash(entry_bytes(entry))
    db.execute(
        "INSERT INTO ledger_leaves (idx, event_id, proof_id, kind, logged_at, key_id, macs, leaf_hash, entry)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            index,
            event_id,
            proof_id,
            kind,
            values["logged_at"],
            key_id,
            canonical_json(macs),
            digest.hex(),
            canonical_json(values) if event_id is None else None,
        ),
    )
    # Complete subtrees: the leaf, then each parent that this leaf completes.
    db.execute("INSERT INTO ledger_nodes (level, idx, hash) VALUES (0, ?, ?)", (index, digest))
    level, i, h = 0, index, digest
    while i & 1:
        left = db.execute(
            "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?", (level, i - 1)
        ).fetchone()[0]
        h = node_hash(left, h)
        level, i = level + 1, i >> 1
        db.execute("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", (level, i, h))
    return digest.hex()


def append(db: sqlite_utils.Database, event: dict) -> dict:
    """Add the event (a row as append_event wrote it, with its `id`) to the log. Call inside
    the transaction that inserted the event. Returns {"index", "leaf_hash", "logged_at"}."""
    active, keys = record_keys()
    last = _last(db)
    index = last["idx"] + 1 if last else 0
    prev = last["leaf_hash"] if last else GENESIS
    logged_at = timestamp(utcnow())
    if last and last["logged_at"] > logged_at:
        logged_at = last["logged_at"]  # the clock stepped back: the log's time never does
    if last and last["key_id"] != active:
        rotation = {
            "index": index,
            "logged_at": logged_at,
            "prev_leaf": prev,
            "event_id": None,
            "proof_id": None,
            "seq": None,
            "kind": "key_rotated",
            "at": logged_at,
            "actor": "system",
            "ip": None,
            "user_agent": None,
            "data": canonical_json(
                {
                    "from": last["key_id"],
                    "to": active,
                    # The old key vouches for the handover too, when it is still configured.
                    "from_mac": _macs(keys[last["key_id"]], {"index": index, "data": active})["data"]
                    if last["key_id"] in keys
                    else None,
                }
            ),
        }
        prev = _add_leaf(
            db, index, rotation, active, _macs(keys[active], rotation), None, None, "key_rotated"
        )
        index += 1
    values = {
        "index": index,
        "logged_at": logged_at,
        "prev_leaf": prev,
        "event_id": event["id"],
        "proof_id": event["proof_id"],
        "seq": event["seq"],
        "kind": event["kind"],
        "at": event["at"],
        "actor": event["actor"],
        "ip": event["ip"],
        "user_agent": event["user_agent"],
        "data": event["data"],
    }
    digest = _add_leaf(
        db, index, values, active, _macs(keys[active], values), event["id"], event["proof_id"], event["kind"]
    )
    return {"index": index, "leaf_hash": digest, "logged_at": logged_at}


def adopt_unlogged(db: sqlite_utils.Database) -> int:
    """Put events that predate the keyed log (an instance upgraded from before it) into the
    log, oldest first, after an `adopted` entry that says so. Their log entries vouch only
    for what the events said when they were adopted: run it once, right after upgrading,
    after `verify-records` showed their chains intact. Returns how many were adopted."""
    from proofmark.db import transaction

    with transaction(db):
        rows = [
            dict(r)
            for r in db.execute(
                "SELECT e.* FROM events e LEFT JOIN ledger_leaves l ON l.event_id = e.id"
                " WHERE l.idx IS NULL ORDER BY e.id"
            )
        ]
        if not rows:
            return 0
        active, keys = record_keys()
        last = _last(db)
        index = last["idx"] + 1 if last else 0
        logged_at = max(timestamp(utcnow()), last["logged_at"] if last else "")
        values = {
            "index": index,
            "logged_at": logged_at,
            "prev_leaf": last["leaf_hash"] if last else GENESIS,
            "event_id": None,
            "proof_id": None,
            "seq": None,
            "kind": "adopted",
            "at": logged_at,
            "actor": "system",
            "ip": None,
            "user_agent": None,
            "data": canonical_json(
                {"events": len(rows), "first_event_id": rows[0]["id"], "last_event_id": rows[-1]["id"]}
            ),
        }
        _add_leaf(db, index, values, active, _macs(keys[active], values), None, None, "adopted")
        for row in rows:
            append(db, row)
    return len(rows)


# --- the tree from its stored nodes ----------------------------------------------------------


def size(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT max(idx) FROM ledger_leaves").fetchone()
    return 0 if row[0] is None else row[0] + 1


class _Nodes:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.cache: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, idx: int) -> bytes:
        key = (level, idx)
        if key not in self.cache:
            row = self.db.execute(
                "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?", (level, idx)
            ).fetchone()
            if row is None:
                raise LookupError(f"tree node ({level}, {idx}) is missing")
            self.cache[key] = bytes(row[0])
        return self.cache[key]

    def subtree(self, a: int, b: int) -> bytes:
        """MTH(D[a:b]) of RFC 9162 from the stored complete subtrees."""
        n = b - a
        if n & (n - 1) == 0 and a % n == 0:
            return self.get(n.bit_length() - 1, a // n)
        k = largest_power_of_two_below(n)
        return node_hash(self.subtree(a, a + k), self.subtree(a + k, b))


def root(db: sqlite_utils.Database, tree_size: int | None = None) -> bytes:
    tree_size = size(db) if tree_size is None else tree_size
    return EMPTY_ROOT if tree_size == 0 else _Nodes(db).subtree(0, tree_size)


def inclusion_proof(db: sqlite_utils.Database, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) of RFC 9162 2.1.3.1."""
    nodes = _Nodes(db)

    def path(m: int, a: int, b: int) -> list[bytes]:
        n = b - a
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < a + k:
            return [*path(m, a, a + k), nodes.subtree(a + k, b)]
        return [*path(m, a + k, b), nodes.subtree(a, a + k)]

    if not 0 <= index < tree_size:
        raise ValueError(f"entry {index} is not in a tree of {tree_size}")
    return path(index, 0, tree_size)


def consistency_proof(db: sqlite_utils.Database, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 2.1.4.1."""
    nodes = _Nodes(db)

    def subproof(m: int, a: int, b: int, complete: bool) -> list[bytes]:
        n = b - a
        if m == n:
            return [] if complete else [nodes.subtree(a, b)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return [*subproof(m, a, a + k, complete), nodes.subtree(a + k, b)]
        return [*subproof(m - k, a + k, b, False), nodes.subtree(a, a + k)]

    if not 0 < first <= second:
        raise ValueError("a consistency proof needs 0 < first <= second")
    return subproof(first, 0, second, True)


def leaf_of_event(db: sqlite_utils.Database, event_id: int):
    return db.execute("SELECT * FROM ledger_leaves WHERE event_id = ?", (event_id,)).fetchone()


def entry_of_leaf(db: sqlite_utils.Database, leaf) -> dict | None:
    """The entry of a stored leaf, rebuilt from the leaf row, its event and the leaf before it."""
    values = _values(db, leaf)
    if values is None:
        return None
    return entry_for(values, leaf["key_id"], json.loads(leaf["macs"]))


def _values(db, leaf, prev_leaf: str | None = None, event=None) -> dict | None:
    if prev_leaf is None:
        before = db.execute(
            "SELECT leaf_hash FROM ledger_leaves WHERE idx = ?", (leaf["idx"] - 1,)
        ).fetchone()
        prev_leaf = before[0] if before else GENESIS
    if leaf["event_id"] is None:
        return None
    if event is None:
        event = db.execute("SELECT * FROM events WHERE id = ?", (leaf["event_id"],)).fetchone()
        if event is None:
            return None
    return {
        "index": leaf["idx"],
        "logged_at": leaf["logged_at"],
        "prev_leaf": prev_leaf,
        "event_id": event["id"],
        "proof_id": event["proof_id"],
        "seq": event["seq"],
        "kind": event["kind"],
        "at": event["at"],
        "actor": event["actor"],
        "ip": event["ip"],
        "user_agent": event["user_agent"],
        "data": event["data"],
    }


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogProblem:
    message: str
    proof_id: int | None = None
    index: int | None = None
    event_id: int | None = None
    seq: int | None = None
    field: str | None = None

    def describe(self) -> str:
        where = f"log entry {self.index}" if self.index is not None else "log"
        if self.seq is not None:
            where += f" (event #{self.seq})"
        return f"{where}: {self.message}"


@dataclass
class LogReport:
    entries: int = 0
    root_hash: str = ""
    heads_checked: int = 0
    anchored: int = 0
    problems: list[LogProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def for_proof(self, proof_id: int) -> list[LogProblem]:
        return [p for p in self.problems if p.proof_id == proof_id]

    def general(self) -> list[LogProblem]:
        return [p for p in self.problems if p.proof_id is None]


def _check_entry(
    report: LogReport, keys: dict[str, bytes], leaf, values: dict | None, stored: dict | None = None
) -> None:
    """MACs of one leaf, naming the fields that do not match."""
    index = leaf["idx"]
    where = {"proof_id": leaf["proof_id"], "index": index, "event_id": leaf["event_id"]}
    if values is None:
        return
    where["seq"] = values["seq"]
    key = keys.get(leaf["key_id"])
    if key is None:
        report.problems.append(
            LogProblem(
                f"made with record key {leaf['key_id']!r}, which this instance does not have: "
                "the entry cannot be authenticated (configure that key in RECORD_KEYS, or it is forged)",
                field="key_id",
                **where,
            )
        )
        return
    try:
        stored = stored if stored is not None else json.loads(leaf["macs"])
    except (TypeError, ValueError):
        stored = {}
    stored_fields = {name: str(stored.get(name, "")) for name in MAC_FIELDS}
    if hmac.compare_digest(str(stored.get("entry", "")), _entry_mac(key, values, stored_fields)):
        return  # every value and every field MAC as made with the key
    expected = _field_macs(key, values)
    changed = [name for name in MAC_FIELDS if not hmac.compare_digest(stored_fields[name], expected[name])]
    if not changed:
        report.problems.append(
            LogProblem(
                "the entry's MACs were altered (the values still match their field MACs)",
                field="macs",
                **where,
            )
        )
    for name in changed:
        if name == "prev_leaf":
            message = (
                "does not follow the entry before it in the log (an entry was removed, added or replaced)"
            )
        elif name == "index":
            message = "is not at the position it was recorded at (entries were renumbered)"
        else:
            message = (
                f"field '{name}' does not match its keyed MAC: it was changed after it was recorded, "
                "or the entry was made without the record key"
            )
        if name == "prev_leaf":  # about the log's order, not about this entry's proof
            report.problems.append(LogProblem(message, index=index, field=name))
            continue
        report.problems.append(LogProblem(message, field=name, **where))


def _check_leaves(
    db, keys: dict[str, bytes], report: LogReport, start: int, end: int | None = None
) -> list[bytes]:
    """Entries start..end-1 in order: position, time, MACs, leaf hash, the chain of leaves.
    Returns the leaf hashes recomputed from the entries."""
    recomputed: list[bytes] = []
    before = db.execute(
        "SELECT leaf_hash, logged_at FROM ledger_leaves WHERE idx = ?", (start - 1,)
    ).fetchone()
    prev_hash, prev_logged = (before[0], before[1]) if before else (GENESIS, "")
    expected = start
    rows = db.execute(
        "SELECT l.idx, l.event_id, l.proof_id, l.kind AS leaf_kind, l.logged_at, l.key_id, l.macs, l.leaf_hash,"
        " l.entry,"
        " e.id, e.proof_id AS e_proof_id, e.seq, e.kind, e.at, e.actor, e.ip, e.user_agent, e.data"
        " FROM ledger_leaves l LEFT JOIN events e ON e.id = l.event_id WHERE l.idx >= ? AND l.idx < ?"
        " ORDER BY l.idx",
        (start, end if end is not None else 1 << 62),
    )
    for leaf in rows:
        index = leaf["idx"]
        if index != expected:
            report.problems.append(
                LogProblem(
                    f"entries {expected}..{index - 1} are missing from the log (deleted)",
                    index=expected,
                )
            )
        expected = index + 1
        if leaf["logged_at"] < prev_logged:
            report.problems.append(
                LogProblem(
                    f"logged at {leaf['logged_at']}, before the entry before it ({prev_logged}): "
                    "times in the log must not go back",
                    proof_id=leaf["proof_id"],
                    index=index,
                    field="logged_at",
                )
            )
        prev_logged = leaf["logged_at"]
        if leaf["event_id"] is None:
            values = _system_values(leaf, prev_hash)
        elif leaf["id"] is None:
            report.problems.append(
                LogProblem(
                    f"the '{leaf['leaf_kind']}' event of proof {leaf['proof_id']} recorded here is missing "
                    "from the events table (deleted)",
                    proof_id=leaf["proof_id"],
                    index=index,
                    event_id=leaf["event_id"],
                    field="event",
                )
            )
            values = None
        else:
            values = _values(db, leaf, prev_hash, event=_event_view(leaf))
        if values is not None:
            macs = _loads(leaf["macs"])
            _check_entry(report, keys, leaf, values, macs)
            digest = leaf_hash(entry_bytes(entry_for(values, leaf["key_id"], macs)))
        else:
            digest = bytes.fromhex(leaf["leaf_hash"]) if _is_hex(leaf["leaf_hash"]) else b"\0" * 32
        if digest.hex() != leaf["leaf_hash"] and values is not None:
            report.problems.append(
                LogProblem(
                    "the stored leaf hash does not match the entry",
                    proof_id=leaf["proof_id"],
                    index=index,
                    field="leaf_hash",
                )
            )
        recomputed.append(digest)
        # The next entry must follow this one as stored: a wrong stored hash is this entry's problem.
        prev_hash = leaf["leaf_hash"]
    report.entries = expected
    return recomputed


def _unlogged_events(db, report: LogReport) -> None:
    # Events that are not in the log: written without the application (or its key).
    for row in db.execute(
        "SELECT e.id, e.proof_id, e.seq, e.kind FROM events e LEFT JOIN ledger_leaves l ON l.event_id = e.id"
        " WHERE l.idx IS NULL ORDER BY e.id"
    ):
        report.problems.append(
            LogProblem(
                f"the '{row['kind']}' event is not in the log: it was inserted without the application "
                "(forged), or its log entry was deleted (or it predates the keyed log: see "
                "`proofmark adopt-records`)",
                proof_id=row["proof_id"],
                event_id=row["id"],
                seq=row["seq"],
                field="log",
            )
        )


def check_before_signing(db: sqlite_utils.Database, app: Flask, start: int, end: int) -> list[LogProblem]:
    """What is wrong with entries start..end-1 (those a new tree head would add to the last
    signed one), with events missing from the log, or with the stored tree leaves for them.
    A head is signed only over entries that verify: a forgery written into the database
    between two anchoring runs must not get the log's signature and a TSA's timestamp."""
    _, keys = record_keys(app)
    report = LogReport()
    recomputed = _check_leaves(db, keys, report, start, end)
    if report.entries != end:
        report.problems.append(LogProblem(f"the log has {report.entries} entries, expected {end}"))
    _unlogged_events(db, report)
    stored = {
        r[0]: bytes(r[1])
        for r in db.execute(
            "SELECT idx, hash FROM ledger_nodes WHERE level = 0 AND idx >= ? AND idx < ?", (start, end)
        )
    }
    if any(stored.get(start + i) != h for i, h in enumerate(recomputed)):
        report.problems.append(LogProblem("the stored tree does not match the entries", field="tree"))
    return report.problems


def verify_log(db: sqlite_utils.Database, app: Flask | None = None, proof_id: int | None = None) -> LogReport:
    """Check the whole log (or only one proof's entries): every entry's MACs and leaf hash,
    the order of entries and their times, events missing from the log or the log missing
    events, the stored tree against the leaves, and each signed tree head."""
    app = app or current_app
    _, keys = record_keys(app)
    report = LogReport()
    if proof_id is not None:
        return _verify_proof_entries(db, keys, report, proof_id)

    recomputed = _check_leaves(db, keys, report, 0)

    _unlogged_events(db, report)
    _check_tree(db, report, recomputed)
    _check_heads(db, app, report, recomputed)
    return report


def _loads(raw) -> dict:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _event_view(row) -> dict:
    return {
        "id": row["id"],
        "proof_id": row["e_proof_id"],
        "seq": row["seq"],
        "kind": row["kind"],
        "at": row["at"],
        "actor": row["actor"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "data": row["data"],
    }


def _system_values(leaf, prev_hash: str) -> dict:
    """The log's own entry (`key_rotated`): kept whole in the leaf row; its MACs say whether
    it is still as written."""
    values = _loads(leaf["entry"])
    values.update(index=leaf["idx"], prev_leaf=prev_hash, logged_at=leaf["logged_at"])
    return values


def _merkle_levels(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {}
    level, current = 0, leaves
    while current:
        for i, h in enumerate(current):
            nodes[(level, i)] = h
        current = [node_hash(current[i], current[i + 1]) for i in range(0, len(current) - 1, 2)]
        level += 1
    return nodes


def _check_tree(db, report: LogReport, leaves: list[bytes]) -> None:
    expected = _merkle_levels(leaves)
    stored = {(r[0], r[1]): bytes(r[2]) for r in db.execute("SELECT level, idx, hash FROM ledger_nodes")}
    bad = sorted(k for k, h in expected.items() if stored.get(k) != h)
    extra = sorted(k for k in stored if k not in expected)
    if bad:
        level, idx = bad[0]
        report.problems.append(
            LogProblem(
                f"{len(bad)} stored tree node(s) do not match the entries (first: level {level}, "
                f"position {idx}); the tree was rewritten",
                field="tree",
            )
        )
    if extra:
        report.problems.append(
            LogProblem(
                f"the stored tree has {len(extra)} node(s) beyond the entries: entries at the end of "
                "the log were removed",
                field="tree",
            )
        )
    report.root_hash = (_root_of(leaves) if leaves else EMPTY_ROOT).hex()


def _root_of(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = largest_power_of_two_below(n)
    return node_hash(_root_of(leaves[:k]), _root_of(leaves[k:]))


def _check_heads(db, app: Flask, report: LogReport, leaves: list[bytes]) -> None:
    from proofmark import anchoring

    for head in db.execute("SELECT * FROM tree_heads ORDER BY tree_size"):
        report.heads_checked += 1
        for message in anchoring.check_head(head, app):
            report.problems.append(LogProblem(f"signed tree head of size {head['tree_size']}: {message}"))
        if head["tree_size"] > len(leaves):
            report.problems.append(
                LogProblem(
                    f"the log has {len(leaves)} entries but a tree head of {head['tree_size']} entries was "
                    f"signed on {head['signed_at']}: entries at the end of the log were removed",
                    field="tree_size",
                )
            )
        elif _root_of(leaves[: head["tree_size"]]).hex() != head["root_hash"]:
            report.problems.append(
                LogProblem(
                    f"the first {head['tree_size']} entries no longer hash to the root signed on "
                    f"{head['signed_at']}: the log was rewritten",
                    field="root_hash",
                )
            )
    report.anchored = db.execute("SELECT count(*) FROM anchors").fetchone()[0]


def _verify_proof_entries(db, keys: dict[str, bytes], report: LogReport, proof_id: int) -> LogReport:
    """One proof's events against their log entries (for a page or the API): MACs, presence
    both ways. The order of the whole log and the tree are checked by the full verify_log."""
    events = {r["id"]: r for r in db.execute("SELECT * FROM events WHERE proof_id = ?", (proof_id,))}
    leaves = list(db.execute("SELECT * FROM ledger_leaves WHERE proof_id = ? ORDER BY idx", (proof_id,)))
    for leaf in leaves:
        report.entries += 1
        event = events.pop(leaf["event_id"], None)
        if event is None:
            report.problems.append(
                LogProblem(
                    f"the '{leaf['kind']}' event recorded here is missing from the events table (deleted)",
                    proof_id=proof_id,
                    index=leaf["idx"],
                    event_id=leaf["event_id"],
                    field="event",
                )
            )
            continue
        values = _values(db, leaf, event=event)
        _check_entry(report, keys, leaf, values)
        digest = leaf_hash(entry_bytes(entry_for(values, leaf["key_id"], _loads(leaf["macs"])))).hex()
        if digest != leaf["leaf_hash"]:
            report.problems.append(
                LogProblem(
                    "the stored leaf hash does not match the entry",
                    proof_id=proof_id,
                    index=leaf["idx"],
                    seq=event["seq"],
                    field="leaf_hash",
                )
            )
    for event in events.values():
        other = leaf_of_event(db, event["id"])
        report.problems.append(
            LogProblem(
                f"the '{event['kind']}' event is not in the log"
                + (" under this proof (its entry names another proof)" if other else "")
                + ": it was inserted without the application (forged), or its log entry was deleted",
                proof_id=proof_id,
                event_id=event["id"],
                seq=event["seq"],
                field="log",
            )
        )
    return report
