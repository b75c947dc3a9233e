//! Helpers shared by chirp's test suites: the API's HTTP tests and the
//! tests that run the real binary both need a fresh PostgreSQL database.
//! A dev-dependency only; nothing here ships in `chirp`. [`sse`] reads
//! the live notification stream event by event; [`proxy`] stages a
//! server's outage between a client and it; [`servers`] starts a test's
//! own PostgreSQL and Redis, for tests that restart them.
//!
//! Test databases are named `{prefix}_{tag}_{process}_{n}`. The prefix
//! belongs to one test run, so that a run cleans up after itself without
//! touching another run's databases on the same server: `scripts/test` sets
//! `CHIRP_TEST_DB_PREFIX` to `chirp_test_t{unix seconds}_{its pid}` and
//! drops exactly the databases under it (and those of runs more than a day
//! old, told by the time in their prefix). A plain `cargo test` gets a
//! prefix of the same shape per test process, so what it leaves behind is
//! collected by a later `scripts/test` once it is a day old.

pub mod proxy;
pub mod servers;
pub mod sse;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor};

/// The PostgreSQL server tests create their databases on
/// (`CHIRP_TEST_POSTGRES_URL`, or the local server with trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("CHIRP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Every test database name starts with this.
const FAMILY: &str = "chirp_test_";

/// PostgreSQL's longest identifier; a longer name would be cut silently.
const MAX_NAME: usize = 63;

/// This run's prefix: `CHIRP_TEST_DB_PREFIX`, or `chirp_test_t{unix
/// seconds}_{pid}` for this process. Panics on a prefix that is not a
/// plain `chirp_test_...` identifier, since it goes into SQL unquoted.
pub fn database_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| match std::env::var("CHIRP_TEST_DB_PREFIX") {
        Ok(prefix) => {
            assert!(
                is_valid_prefix(&prefix),
                "CHIRP_TEST_DB_PREFIX={prefix:?}: it must start with {FAMILY:?} and hold only \
                 a-z, 0-9 and _, at most 40 characters"
            );
            prefix
        }
        Err(_) => default_prefix(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            std::process::id(),
        ),
    })
}

/// The prefix a run started at `unix_seconds` by process `pid` uses; the
/// test command builds the same one in shell.
fn default_prefix(unix_seconds: u64, pid: u32) -> String {
    format!("{FAMILY}t{unix_seconds}_{pid}")
}

/// Short enough to leave room for a tag, a pid and a counter.
fn is_valid_prefix(prefix: &str) -> bool {
    prefix.starts_with(FAMILY)
        && prefix.len() <= 40
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The name of the `n`th database of this process with `tag`.
fn database_name(prefix: &str, tag: &str, pid: u32, n: u32) -> String {
    let name = format!("{prefix}_{tag}_{pid}_{n}");
    assert!(
        tag.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "test database tag {tag:?}: use a-z, 0-9 and _"
    );
    assert!(
        name.len() <= MAX_NAME,
        "test database name {name} is longer than PostgreSQL's {MAX_NAME} characters"
    );
    name
}

/// Creates an empty database `{prefix}_{tag}_{process}_{n}` (see the
/// module comment) and returns its URL. The test command drops it after
/// the run, so tests need not clean up.
pub async fn fresh_postgres_database(tag: &str) -> String {
    let admin = postgres_admin_url();
    let name = database_name(
        database_prefix(),
        tag,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to PostgreSQL (is it running? set CHIRP_TEST_POSTGRES_URL)");
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .await
    .expect("drop old test database");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_prefix_carries_the_start_time_and_the_process() {
        let prefix = default_prefix(1_764_687_600, 4242);
        assert_eq!(prefix, "chirp_test_t1764687600_4242");
        assert!(is_valid_prefix(&prefix));
    }

    #[test]
    fn prefixes_are_plain_identifiers_of_the_test_family() {
        assert!(is_valid_prefix("chirp_test_t1764687600_77"));
        for bad in [
            "chirp_prod",
            "chirp_test_X",
            "chirp_test_a;drop",
            "chirp_test_a-b",
            "chirp_test_012345678901234567890123456789",
        ] {
            assert!(!is_valid_prefix(bad), "{bad:?} was accepted");
        }
    }

    #[test]
    fn names_fit_postgres_identifiers() {
        // The longest tag used, a ten-digit time, Linux's largest pid.
        let prefix = default_prefix(9_999_999_999, 4_194_304);
        let name = database_name(&prefix, "topology", 4_194_304, 99_999);
        assert_eq!(
            name,
            "chirp_test_t9999999999_4194304_topology_4194304_99999"
        );
        assert!(name.len() <= MAX_NAME);
        // The longest prefix allowed leaves room for the same.
        let long = format!("chirp_test_{}", "x".repeat(29));
        assert!(is_valid_prefix(&long));
        assert!(database_name(&long, "topology", 4_194_304, 99_999).len() <= MAX_NAME);
    }
}
