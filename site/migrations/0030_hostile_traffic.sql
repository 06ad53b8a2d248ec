-- Staff sessions that can be ended server-side (sign-out, password change, disabling),
-- idempotency keys of the shop API, and the demo shop's order rate limit.
CREATE TABLE staff_sessions (
    id TEXT PRIMARY KEY,              -- random; the session cookie carries it
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_why TEXT
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_created ON staff_sessions (created_at);

-- One row per Idempotency-Key an API key has used: the body's hash and the answer given.
-- status_code is NULL while the first request is still being answered.
CREATE TABLE api_idempotency (
    api_key_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status_code INTEGER,
    response TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- Orders placed through the demo shop's form, per client address (its rate limit in production).
CREATE TABLE shop_order_attempts (
    id INTEGER PRIMARY KEY,
    ip TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX shop_order_attempts_ip ON shop_order_attempts (ip, at);
