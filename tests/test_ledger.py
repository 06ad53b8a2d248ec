"""The keyed log's Merkle tree (RFC 9162): roots, inclusion and consistency proofs from the
stored complete subtrees agree with the tree computed from scratch, for every size and
position up to 70 entries, and the checks refuse proofs for other positions or sizes."""

from __future__ import annotations

import hashlib

from proofmark import ledger
from proofmark.db import get_db, transaction
from proofmark.records import append_event, canonical_json
from proofmark.verify_evidence import (
    EMPTY_ROOT,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
)
from tests.staff_support import create_proof


def mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 2.1.1, from scratch."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_roots_and_proofs_match_the_tree_from_scratch(app):
    proof_id = create_proof(app)
    with app.app_context():
        db = get_db()
        with transaction(db):
            for i in range(66):
                append_event(db, proof_id, "note_added", actor="staff:a@b.test", data={"note": f"n{i}"})
        leaves = [bytes.fromhex(r[0]) for r in db.execute("SELECT leaf_hash FROM ledger_leaves ORDER BY idx")]
        assert len(leaves) == ledger.size(db) >= 69
        for size in range(1, len(leaves) + 1):
            root = ledger.root(db, size)
            assert root == mth(leaves[:size])
            for index in range(size):
                path = ledger.inclusion_proof(db, index, size)
                assert root_from_inclusion(index, size, leaves[index], path) == root
                if size > 1:
                    assert root_from_inclusion((index + 1) % size, size, leaves[index], path) != root
            for first in range(1, size + 1):
                proof = ledger.consistency_proof(db, first, size)
                assert verify_consistency(first, size, mth(leaves[:first]), root, proof)
                if first < size:
                    wrong = hashlib.sha256(b"other").digest()
                    assert not verify_consistency(first, size, wrong, root, proof)
        # An append writes its leaf and only the subtrees it completes (amortised two nodes).
        assert db.execute("SELECT count(*) FROM ledger_nodes").fetchone()[0] < 2 * len(leaves)


def test_leaf_hash_is_the_rfc_6962_leaf_hash_of_the_canonical_entry(app):
    proof_id = create_proof(app)
    with app.app_context():
        db = get_db()
        leaf = db.execute(
            "SELECT * FROM ledger_leaves WHERE proof_id = ? ORDER BY idx LIMIT 1", (proof_id,)
        ).fetchone()
        entry = ledger.entry_of_leaf(db, leaf)
        assert entry["kind"] == "proof_created" and entry["proof_id"] == proof_id
        assert leaf_hash(ledger.entry_bytes(entry)).hex() == leaf["leaf_hash"]
        # The fast canonical form is exactly the encoder's (as a third party computes it).
        assert ledger.entry_bytes(entry) == canonical_json(entry).encode()
        tricky = {
            **entry,
            "data": 'a"b\\ ü \x01 \u2028 😀',
            "ip": None,
            "seq": -3,
            "macs": {"z": "1", "a": "2"},
        }
        assert ledger.entry_bytes(tricky) == canonical_json(tricky).encode()
        assert set(entry["macs"]) == {*ledger.MAC_FIELDS, "entry"}
