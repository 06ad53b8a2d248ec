-- Proofs, their revisions, the append-only event log (hash chain), the mail outbox, API keys.
CREATE TABLE proofs (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    order_ref TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    product TEXT NOT NULL,
    font TEXT NOT NULL,
    text TEXT NOT NULL,             -- current revision's text, for search
    status TEXT NOT NULL CHECK (status IN
        ('awaiting_approval', 'approved', 'changes_requested', 'expired', 'cancelled')),
    current_revision INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,           -- shop, staff, api
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    emailed_at TEXT,                -- when the current revision's email was queued
    reminded_at TEXT,
    decided_at TEXT,
    -- Added by the proofs service:
    design_token_nonce TEXT,        -- a shop order's design token; one proof per token
    expired_at TEXT,
    cancelled_at TEXT
);
CREATE UNIQUE INDEX proofs_design_token ON proofs (design_token_nonce) WHERE design_token_nonce IS NOT NULL;
CREATE INDEX proofs_created ON proofs (created_at DESC);
CREATE INDEX proofs_order_ref ON proofs (order_ref);
CREATE INDEX proofs_email ON proofs (customer_email);
CREATE INDEX proofs_status ON proofs (status, created_at DESC);
CREATE INDEX proofs_product ON proofs (product, created_at DESC);

CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    number INTEGER NOT NULL,
    design TEXT NOT NULL,           -- canonical JSON of renderer.Design
    text TEXT NOT NULL,
    font TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,     -- proof image, stored under instance/images by this hash
    renderer_version TEXT NOT NULL,
    nonce TEXT NOT NULL,            -- carried by this revision's approval links
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Added by the proofs service:
    design_sha256 TEXT,             -- SHA-256 of `design`
    options TEXT NOT NULL DEFAULT '{}',   -- JSON, e.g. date readings the shopper chose
    warnings TEXT NOT NULL DEFAULT '[]',  -- JSON list of the renderer's non-blocking issues
    note TEXT,                      -- why staff made this revision
    image_width INTEGER,
    image_height INTEGER,
    UNIQUE (proof_id, number)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,               -- UTC, ISO 8601 with microseconds
    actor TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    data TEXT NOT NULL,             -- canonical JSON
    field_hashes TEXT NOT NULL,     -- canonical JSON {field: sha256}, names a tampered field
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (proof_id, seq)
);
CREATE INDEX events_kind ON events (kind, at);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    proof_id INTEGER REFERENCES proofs (id),
    kind TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    message BLOB NOT NULL,          -- the whole RFC 5322 message, built when queued
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    -- Added by the proofs service:
    revision INTEGER,               -- the revision the message is about
    link_id TEXT,                   -- id carried by the approval link in this message
    claimed_at TEXT,                -- when a sender took the row (status 'sending')
    claim_token TEXT                -- which sender took it
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_proof ON outbox (proof_id, id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
