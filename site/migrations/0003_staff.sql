-- Staff accounts, sign-in attempts (rate limiting across workers), return claims and
-- the records search index.
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at TEXT,
    disabled_at TEXT
);

-- One row per sign-in attempt; failures within a window lock an account or an address.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    ip TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);

-- The current state of each return claim, for lists and insights. The proof's event log
-- (claim_recorded, claim_decided) is the record; this table can be rebuilt from it.
CREATE TABLE claims (
    id INTEGER PRIMARY KEY,
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    kind TEXT NOT NULL,               -- text, font, layout, quality, other
    description TEXT NOT NULL,        -- what the customer says is wrong
    expected_text TEXT,               -- what the customer says it should have said
    expected_font TEXT,
    outcome TEXT NOT NULL,            -- customer_responsibility, shop_error, not_approved, needs_inspection
    reason TEXT NOT NULL,
    approved_revision INTEGER,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
    resolution TEXT,
    decision_note TEXT,
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX claims_proof ON claims (proof_id);
CREATE INDEX claims_created ON claims (created_at);

-- Substring search (trigram) over order reference, customer, and the text of every revision.
CREATE VIRTUAL TABLE proof_search USING fts5 (
    order_ref, customer_name, customer_email, texts, tokenize = 'trigram'
);
CREATE TRIGGER proof_search_insert AFTER INSERT ON proofs
BEGIN
    INSERT INTO proof_search (rowid, order_ref, customer_name, customer_email, texts)
    VALUES (new.id, new.order_ref, new.customer_name, new.customer_email, new.text);
END;
CREATE TRIGGER proof_search_update AFTER UPDATE OF order_ref, customer_name, customer_email, text ON proofs
BEGIN
    DELETE FROM proof_search WHERE rowid = old.id;
    INSERT INTO proof_search (rowid, order_ref, customer_name, customer_email, texts)
    VALUES (new.id, new.order_ref, new.customer_name, new.customer_email,
            new.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                               WHERE proof_id = new.id), ''));
END;
CREATE TRIGGER proof_search_revision AFTER INSERT ON revisions
BEGIN
    DELETE FROM proof_search WHERE rowid = new.proof_id;
    INSERT INTO proof_search (rowid, order_ref, customer_name, customer_email, texts)
    SELECT p.id, p.order_ref, p.customer_name, p.customer_email,
           p.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                           WHERE proof_id = p.id), '')
    FROM proofs p WHERE p.id = new.proof_id;
END;
CREATE TRIGGER proof_search_delete AFTER DELETE ON proofs
BEGIN
    DELETE FROM proof_search WHERE rowid = old.id;
END;
INSERT INTO proof_search (rowid, order_ref, customer_name, customer_email, texts)
SELECT p.id, p.order_ref, p.customer_name, p.customer_email,
       p.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                       WHERE proof_id = p.id), '')
FROM proofs p;
