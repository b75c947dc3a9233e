//! Domain types and rules of chirp, free of I/O.
//!
//! Everything a request carries is parsed into one of these types at the
//! boundary (the API handlers), so the store and the rest of the code only
//! ever see values that already obey the rules:
//!
//! * [`text`] — usernames, passwords, display names, bios, tweet text,
//!   category slugs, search queries: each a newtype with a `parse`.
//! * [`hashtags`] — finding `#tags` and `@mentions` in tweet text.
//! * [`page`] — list limits and opaque keyset cursors.
//! * [`model`] — the resources the API returns (Account, Tweet, ...).
//! * [`words`] — counts with their nouns ("1 follower", "2 followers").
//!
//! Lengths are counted in Unicode scalar values (what JavaScript's
//! `[...text].length` counts), never in bytes, so 280 characters of any
//! script fit in a tweet.

pub mod error;
pub mod hashtags;
pub mod model;
pub mod page;
pub mod text;
pub mod words;

pub use error::ValidationError;
