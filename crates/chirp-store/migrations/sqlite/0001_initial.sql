-- chirp schema for SQLite. Times are unix microseconds (UTC); booleans are
-- 0/1 integers (sqlx's Any driver carries no SQLite BOOLEAN). Every list is
-- ordered by a unique integer key, newest first, so each index ends in `id`.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT    NOT NULL,
    username_lower  TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL DEFAULT '',
    bio             TEXT    NOT NULL DEFAULT '',
    password_hash   TEXT    NOT NULL,
    protected       INTEGER NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
    created_at      INTEGER NOT NULL,
    followers_count INTEGER NOT NULL DEFAULT 0,
    following_count INTEGER NOT NULL DEFAULT 0,
    tweets_count    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tweets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    -- Space-separated lower-case tags, for display without a join.
    hashtags    TEXT    NOT NULL DEFAULT '',
    reply_to    INTEGER REFERENCES tweets (id) ON DELETE SET NULL,
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    like_count  INTEGER NOT NULL DEFAULT 0,
    reply_count INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER
);
CREATE INDEX tweets_by_author   ON tweets (author_id, id);
CREATE INDEX tweets_by_reply_to ON tweets (reply_to, id);
CREATE INDEX tweets_by_category ON tweets (category_id, id);

CREATE TABLE tweet_hashtags (
    tweet_id INTEGER NOT NULL REFERENCES tweets (id) ON DELETE CASCADE,
    tag      TEXT    NOT NULL,
    PRIMARY KEY (tweet_id, tag)
);
CREATE INDEX tweet_hashtags_by_tag ON tweet_hashtags (tag, tweet_id);

CREATE TABLE follows (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    follower_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('following', 'requested')),
    created_at  INTEGER NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (followee_id, state, id);
CREATE INDEX follows_by_follower ON follows (follower_id, state, id);

-- Full-text search: an FTS5 index kept in step with tweets by triggers.
CREATE VIRTUAL TABLE tweets_fts USING fts5 (
    text,
    content = 'tweets',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER tweets_fts_insert AFTER INSERT ON tweets BEGIN
    INSERT INTO tweets_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER tweets_fts_delete AFTER DELETE ON tweets BEGIN
    INSERT INTO tweets_fts (tweets_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER tweets_fts_update AFTER UPDATE OF text ON tweets BEGIN
    INSERT INTO tweets_fts (tweets_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO tweets_fts (rowid, text) VALUES (new.id, new.text);
END;
