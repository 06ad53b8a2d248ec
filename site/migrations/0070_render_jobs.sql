-- Proof images are rendered after the order is answered (issue 16, item 2): one durable job per
-- revision. A worker claims a job by setting a lease; a job whose lease ran out (its worker
-- crashed) is claimed again. `revisions.image_sha256` is '' until the job has stored the image.
CREATE TABLE render_jobs (
    id INTEGER PRIMARY KEY,
    revision_id INTEGER NOT NULL UNIQUE REFERENCES revisions (id),
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,            -- when it may be claimed (retries wait)
    lease_until TEXT,                -- while running: claimable again after this
    lease_token TEXT,                -- who holds the lease
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX render_jobs_due ON render_jobs (status, due_at);
CREATE INDEX render_jobs_proof ON render_jobs (proof_id);
