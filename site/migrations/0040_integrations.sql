-- Shop platforms in (webhook deliveries, proofs to prepare, which order line made which
-- proof) and signed events out (endpoints, messages, deliveries and each attempt).

-- Every webhook delivery a shop platform sent, stored raw with its verification result
-- before anything is done with it, then processed from here (a durable queue).
CREATE TABLE inbound_deliveries (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,           -- shopify, woocommerce
    delivery_id TEXT,                 -- X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID
    topic TEXT,                       -- orders/create, order.created, ...
    shop TEXT,                        -- X-Shopify-Shop-Domain, X-WC-Webhook-Source
    headers TEXT NOT NULL,            -- JSON: the request headers that matter
    body BLOB NOT NULL,               -- exactly as received (cut at 64 KiB when unverified)
    body_sha256 TEXT NOT NULL,        -- of the whole body as received
    body_bytes INTEGER NOT NULL,
    verified INTEGER NOT NULL,        -- 1: the signature matched a configured secret
    verification TEXT NOT NULL,       -- what the check found, in words
    status TEXT NOT NULL CHECK (status IN
        ('pending', 'processing', 'done', 'ignored', 'duplicate', 'rejected', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    claimed_at TEXT,
    claim_token TEXT,
    outcome TEXT,                     -- JSON: what processing did, line by line
    last_error TEXT,
    duplicate_of INTEGER REFERENCES inbound_deliveries (id),
    remote_addr TEXT,
    received_at TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX inbound_due ON inbound_deliveries (status, next_attempt_at);
CREATE INDEX inbound_delivery_id ON inbound_deliveries (platform, delivery_id);
CREATE INDEX inbound_received ON inbound_deliveries (received_at DESC);

-- Personalization that reached us as text, without a design the customer confirmed (a
-- Shopify/WooCommerce line without a design token, an Etsy order pasted by staff): staff
-- prepare the design, then it becomes a proof through the proofs service.
CREATE TABLE proof_requests (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,             -- shopify, woocommerce, etsy
    order_ref TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    item_title TEXT,                  -- the shop's name for the item
    personalization TEXT NOT NULL,    -- exactly as received or pasted, never changed
    note TEXT,                        -- why it needs staff
    status TEXT NOT NULL CHECK (status IN ('to_prepare', 'preparing', 'prepared', 'dismissed')),
    proof_id INTEGER REFERENCES proofs (id),
    delivery_id INTEGER REFERENCES inbound_deliveries (id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX proof_requests_status ON proof_requests (status, created_at);

-- One order line makes one proof (or one proof to prepare), however often it is delivered.
CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    proof_id INTEGER REFERENCES proofs (id),
    request_id INTEGER REFERENCES proof_requests (id),
    delivery_id INTEGER REFERENCES inbound_deliveries (id),
    created_at TEXT NOT NULL,
    UNIQUE (platform, shop, order_id, line_id)
);
CREATE INDEX order_lines_proof ON order_lines (proof_id);

-- Where proof events are sent (Standard Webhooks), managed by staff.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,             -- whsec_<base64>, shown to staff to give the receiver
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL DEFAULT '[]',  -- JSON list; empty: every type
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT
);

-- One message per proof event worth telling (proof.created, proof.approved, ...); its
-- payload is fixed when the event is recorded, in the same transaction.
CREATE TABLE webhook_messages (
    id INTEGER PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,      -- the webhook-id header, the same on every retry
    proof_id INTEGER NOT NULL REFERENCES proofs (id),
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,            -- the exact JSON body sent
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_messages_proof ON webhook_messages (proof_id, id);

-- One row per message and endpoint: the durable queue.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    message_id INTEGER NOT NULL REFERENCES webhook_messages (id),
    proof_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    claim_token TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, proof_id, status, id);

-- Every attempt, for the delivery log staff read.
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_excerpt TEXT,
    duration_ms INTEGER
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
