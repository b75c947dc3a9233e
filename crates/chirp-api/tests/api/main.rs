//! Black-box tests of the API over real HTTP, on SQLite and on PostgreSQL.
//!
//! Every test gets its own server on a random port and its own database (a
//! fresh SQLite file, or a fresh PostgreSQL database), so tests run in
//! parallel and share nothing. Each test is written once, as an
//! `async fn(TestApp)`, and `both!` runs it against each backend.

mod helpers;

mod accounts;
mod categories;
mod errors;
mod likes;
mod ops;
mod profile;
mod replies;
mod search;
mod sessions;
mod social;
mod tweets;
