//! Black-box tests of the API over real HTTP, on SQLite and on PostgreSQL.
//!
//! Every test gets its own server on a random port and its own database (a
//! fresh SQLite file, or a fresh PostgreSQL database), so tests run in
//! parallel and share nothing. Each test is written once, as an
//! `async fn(TestApp)`, and `both!` runs it against each backend.

mod helpers;
mod inspect;

mod accounts;
mod categories;
mod errors;
mod like_batching;
mod like_outage;
mod like_storm;
mod likes;
mod live_instances;
mod messages;
mod notifications;
mod ops;
mod privacy;
mod profile;
mod rate_limits;
mod read_cache;
mod replies;
mod request_log;
mod schema_contract;
mod search;
mod security;
mod sessions;
mod social;
mod storm;
mod stream;
mod tweets;
