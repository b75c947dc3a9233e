-- chirp schema for PostgreSQL; kept column for column in step with
-- migrations/sqlite. Times are unix microseconds (UTC) and booleans 0/1
-- smallints, because sqlx's Any driver carries neither timestamptz nor the
-- SQLite side's booleans; the same SQL then serves both databases.

CREATE TABLE accounts (
    id              BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        TEXT     NOT NULL,
    username_lower  TEXT     NOT NULL UNIQUE,
    display_name    TEXT     NOT NULL DEFAULT '',
    bio             TEXT     NOT NULL DEFAULT '',
    password_hash   TEXT     NOT NULL,
    protected       SMALLINT NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
    created_at      BIGINT   NOT NULL,
    followers_count BIGINT   NOT NULL DEFAULT 0,
    following_count BIGINT   NOT NULL DEFAULT 0,
    tweets_count    BIGINT   NOT NULL DEFAULT 0
);
-- Account search matches substrings of the lower-cased name.
CREATE INDEX accounts_username_pattern ON accounts (username_lower text_pattern_ops);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE categories (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE tweets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text        TEXT   NOT NULL,
    hashtags    TEXT   NOT NULL DEFAULT '',
    reply_to    BIGINT REFERENCES tweets (id) ON DELETE SET NULL,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    like_count  BIGINT NOT NULL DEFAULT 0,
    reply_count BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    -- Full-text search: a generated tsvector with a GIN index.
    search      TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
CREATE INDEX tweets_by_author   ON tweets (author_id, id);
CREATE INDEX tweets_by_reply_to ON tweets (reply_to, id);
CREATE INDEX tweets_by_category ON tweets (category_id, id);
CREATE INDEX tweets_search      ON tweets USING GIN (search);

CREATE TABLE tweet_hashtags (
    tweet_id BIGINT NOT NULL REFERENCES tweets (id) ON DELETE CASCADE,
    -- Byte order, so a prefix search is an index range scan.
    tag      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tweet_id, tag)
);
CREATE INDEX tweet_hashtags_by_tag ON tweet_hashtags (tag, tweet_id);

CREATE TABLE follows (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state       TEXT   NOT NULL CHECK (state IN ('following', 'requested')),
    created_at  BIGINT NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (followee_id, state, id);
CREATE INDEX follows_by_follower ON follows (follower_id, state, id);
