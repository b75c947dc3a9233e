-- Like batches already applied, so a batch replayed from an instance's
-- journal after a crash is recognised and not counted twice.
CREATE TABLE like_batches (
    batch_id   BIGINT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE INDEX like_batches_by_age ON like_batches (created_at);
