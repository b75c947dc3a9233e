//! Helpers shared by chirp's test suites: the API's HTTP tests and the
//! tests that run the real binary both need a fresh PostgreSQL database.
//! A dev-dependency only; nothing here ships in `chirp`.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

/// The PostgreSQL server tests create their databases on
/// (`CHIRP_TEST_POSTGRES_URL`, or the local server with trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("CHIRP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Creates an empty database `chirp_test_{tag}_{process}_{n}` and returns
/// its URL. The test command drops every `chirp_test_%` database before and
/// after a run, so tests need not clean up.
pub async fn fresh_postgres_database(tag: &str) -> String {
    let admin = postgres_admin_url();
    let name = format!(
        "chirp_test_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
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
