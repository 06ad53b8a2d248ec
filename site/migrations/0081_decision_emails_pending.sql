-- Issue 16: a customer's decision is appended in one short transaction, and its confirmation
-- email is built after it (outside the write lock) and queued in a second one. This row, written
-- with the decision, marks a confirmation not yet queued; the transaction that queues the email
-- deletes it (exactly once: whoever deletes it queues). The mail worker's sweep
-- (proofmark.proofs.service.queue_pending_confirmations) queues any left by a crash in between.
-- No index but the key: the table holds only the decisions of the last moments, and the sweep
-- reads it in key order.
CREATE TABLE decision_emails_pending (
    event_id INTEGER PRIMARY KEY REFERENCES events (id),
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    kind TEXT NOT NULL,
    revision INTEGER NOT NULL,
    decided_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
