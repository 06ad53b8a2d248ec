-- The keyed, append-only log across all proofs (proofmark.ledger): one leaf per event, a
-- Merkle tree over the leaves in the manner of RFC 6962/9162, signed tree heads and their
-- RFC 3161 timestamp tokens (proofmark.anchoring).
CREATE TABLE ledger_leaves (
    idx INTEGER PRIMARY KEY,        -- position in the log, from 0
    event_id INTEGER UNIQUE,        -- the event this leaf records; NULL for the log's own entries
    proof_id INTEGER,
    kind TEXT NOT NULL,             -- the event's kind, or 'key_rotated'
    logged_at TEXT NOT NULL,        -- never earlier than the previous leaf's
    key_id TEXT NOT NULL,           -- which record key made `macs`
    macs TEXT NOT NULL,             -- canonical JSON {field: HMAC-SHA256}; the key is not in the database
    leaf_hash TEXT NOT NULL,        -- SHA-256(0x00 || entry), RFC 6962 leaf hash of the canonical entry
    entry TEXT                      -- the whole entry, only for the log's own entries (no event row)
);
CREATE INDEX ledger_leaves_proof ON ledger_leaves (proof_id, idx);

-- Complete subtrees only: (level, idx) holds the hash of leaves idx*2^level .. (idx+1)*2^level - 1.
-- Written once when the subtree fills up, never changed; any tree size's root and proofs come from them.
CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed tree heads: Ed25519 over the canonical JSON head.
CREATE TABLE tree_heads (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL UNIQUE,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    head TEXT NOT NULL,             -- the canonical JSON that was signed
    signature TEXT NOT NULL,        -- base64
    public_key TEXT NOT NULL        -- base64 of the raw Ed25519 public key
);

-- RFC 3161 timestamp tokens over each signed head (one per head once anchored).
CREATE TABLE anchors (
    id INTEGER PRIMARY KEY,
    head_id INTEGER NOT NULL UNIQUE REFERENCES tree_heads (id),
    tsa_url TEXT NOT NULL,
    response BLOB NOT NULL,         -- the TSA's whole TimeStampResp (DER)
    gen_time TEXT NOT NULL,         -- the TSA's time, UTC
    anchored_at TEXT NOT NULL
);

-- The last attempt to anchor, per head that is still waiting (outages are visible).
CREATE TABLE anchor_attempts (
    head_id INTEGER PRIMARY KEY REFERENCES tree_heads (id),
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL
);

CREATE TRIGGER ledger_leaves_no_update BEFORE UPDATE ON ledger_leaves
BEGIN
    SELECT RAISE(ABORT, 'the log is append-only: UPDATE refused');
END;
CREATE TRIGGER ledger_leaves_no_delete BEFORE DELETE ON ledger_leaves
BEGIN
    SELECT RAISE(ABORT, 'the log is append-only: DELETE refused');
END;
CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes
BEGIN
    SELECT RAISE(ABORT, 'the log is append-only: UPDATE refused');
END;
CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes
BEGIN
    SELECT RAISE(ABORT, 'the log is append-only: DELETE refused');
END;
CREATE TRIGGER tree_heads_no_update BEFORE UPDATE ON tree_heads
BEGIN
    SELECT RAISE(ABORT, 'signed tree heads are kept as signed: UPDATE refused');
END;
CREATE TRIGGER tree_heads_no_delete BEFORE DELETE ON tree_heads
BEGIN
    SELECT RAISE(ABORT, 'signed tree heads are kept as signed: DELETE refused');
END;
CREATE TRIGGER anchors_no_update BEFORE UPDATE ON anchors
BEGIN
    SELECT RAISE(ABORT, 'timestamp tokens are kept as received: UPDATE refused');
END;
CREATE TRIGGER anchors_no_delete BEFORE DELETE ON anchors
BEGIN
    SELECT RAISE(ABORT, 'timestamp tokens are kept as received: DELETE refused');
END;
