-- Photos of the received item attached to a return claim: the cleaned image is stored by
-- the SHA-256 of its bytes (instance/images/claims/), this table says whose claim it is.
CREATE TABLE claim_photos (
    id INTEGER PRIMARY KEY,
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    sha256 TEXT NOT NULL,             -- of the stored JPEG (orientation applied, metadata removed)
    original_sha256 TEXT NOT NULL,    -- of the file as uploaded
    original_format TEXT NOT NULL,    -- JPEG, PNG, WEBP
    original_bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (claim_id, sha256)
);
CREATE INDEX claim_photos_proof ON claim_photos (proof_id, claim_id, id);
