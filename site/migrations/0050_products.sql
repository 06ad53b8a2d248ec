-- A shop's own products (proofmark.products). A draft is edited freely; publishing writes an
-- immutable folder instance/products/<id>/<version>/ (product.toml + photo) and a row here,
-- so designs, proofs and approvals keep naming the exact version ("<id>@<version>") and photo.
CREATE TABLE product_drafts (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,          -- JSON: the [product] entry; views name photos by SHA-256
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE product_versions (
    product_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    toml_sha256 TEXT NOT NULL,   -- of the published product.toml
    photo_sha256 TEXT NOT NULL,  -- of the first view's photo
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (product_id, version)
);
