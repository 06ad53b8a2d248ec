-- Issue 16: an outbox row keeps its message without the bodies of its inline images, which are
-- stored once each in the content-addressed image store (proofmark.storage). message_images:
-- JSON [[offset, sha256, suffix], ...] (proofmark.mail.message_bytes rebuilds the exact message).
-- NULL marks a row queued before this migration: proofmark.mail.move_images_to_store (run when
-- the app starts, e.g. `proofmark init-db`) splits those rows; until then their message is whole.
ALTER TABLE outbox ADD COLUMN message_images TEXT;
CREATE INDEX outbox_unsplit ON outbox (id) WHERE message_images IS NULL;
