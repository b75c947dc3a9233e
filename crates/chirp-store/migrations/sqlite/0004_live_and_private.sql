-- Kept in step with migrations/postgres: mentions on tweets, direct messages,
-- and notifications (the source of truth of live events, SPEC §1.6).

-- Usernames of the existing accounts a tweet mentions, space-separated,
-- as the application found them when the tweet was written.
ALTER TABLE tweets ADD COLUMN mentions TEXT NOT NULL DEFAULT '';

CREATE TABLE messages (
    id           INTEGER  PRIMARY KEY AUTOINCREMENT,
    sender_id    INTEGER  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    recipient_id INTEGER  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text         TEXT     NOT NULL,
    created_at   INTEGER  NOT NULL,
    is_read      INTEGER  NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1))
);
-- One conversation is (a to b) and (b to a), each an index range.
CREATE INDEX messages_by_pair      ON messages (sender_id, recipient_id, id);
CREATE INDEX messages_by_recipient ON messages (recipient_id, id);

CREATE TABLE notifications (
    id           INTEGER  PRIMARY KEY AUTOINCREMENT,
    recipient_id INTEGER  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT     NOT NULL CHECK (kind IN
                     ('follow', 'follow_request', 'follow_accepted', 'reply', 'mention', 'message')),
    actor_id     INTEGER  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- A deleted tweet takes its reply and mention notifications with it.
    tweet_id     INTEGER  REFERENCES tweets (id) ON DELETE CASCADE,
    message_id   INTEGER  REFERENCES messages (id) ON DELETE CASCADE,
    created_at   INTEGER  NOT NULL,
    is_read      INTEGER  NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1))
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, id);
