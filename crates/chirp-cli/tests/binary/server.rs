//! The real `chirp` binary as a child process, and its database.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// Which database the binary runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The URL of a new, empty database: an SQLite file in `dir`, or a fresh
/// PostgreSQL database (`chirp_test_...`, dropped by the test script).
pub async fn fresh_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("chirp.db").display()),
        Backend::Postgres => chirp_testkit::fresh_postgres_database("cli").await,
    }
}

/// Like counts by tweet id, read from the database itself.
pub async fn db_like_counts(url: &str) -> Vec<(i64, i64)> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("open the database");
    let rows = sqlx::query_as("SELECT id, like_count FROM tweets ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("read like counts");
    conn.close().await.expect("close the database");
    rows
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// A running `chirp serve`; killed if the test ends while it runs.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `chirp serve` on `port` over `database_url`, with its files
    /// (like journal, request log) in `data_dir`, and waits until it is ready.
    pub async fn start(database_url: &str, data_dir: &Path, port: u16) -> Self {
        Self::start_with(database_url, data_dir, port, &[]).await
    }

    /// [`Server::start`] with more flags for `chirp serve`.
    pub async fn start_with(
        database_url: &str,
        data_dir: &Path,
        port: u16,
        flags: &[&str],
    ) -> Self {
        let mut server = Self::spawn(database_url, data_dir, port, flags);
        server.wait_ready().await;
        server
    }

    /// Starts `chirp serve` like [`Server::start_with`], without waiting
    /// for it to be ready (or to fail).
    pub fn spawn(database_url: &str, data_dir: &Path, port: u16, flags: &[&str]) -> Self {
        let log = data_dir.join("server.log");
        let out = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("server log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chirp"));
        // Only what this test sets: no CHIRP_ variable from the caller.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CHIRP_") {
                cmd.env_remove(key);
            }
        }
        let child = cmd
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(database_url)
            .arg("--data-dir")
            .arg(data_dir)
            .args(flags)
            // The suites sign up many accounts from 127.0.0.1: no rate
            // limits, unless a test's flags turn them on (flags win).
            .env("CHIRP_RATE_LIMIT", "off")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("start chirp");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// What the server wrote to stdout and stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chirp exited at start ({status}):\n{}", self.log());
            }
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chirp was not ready in time:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Sends SIGKILL (a crash) and reaps the process.
    pub fn crash(&mut self) {
        self.child.kill().expect("kill -9 chirp");
        self.child.wait().expect("reap chirp");
    }

    /// Waits (at most `limit`) for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll chirp") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "chirp did not exit within {limit:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
