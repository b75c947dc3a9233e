//! `chirp loadtest` as a child process against a real `chirp serve`: the
//! functional checks pass, a short like storm counts every acknowledged
//! like and writes its JSON, and `--max-errors 0` fails the run when the
//! target answers errors or is not there at all.

use std::process::Output;

use serde_json::Value;

use crate::server::{Backend, Server, free_port, fresh_database};

/// Runs `chirp loadtest ARGS` to the end, with no CHIRP_ variable of the
/// caller's.
fn loadtest(args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chirp"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHIRP_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("loadtest")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run chirp loadtest")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn server(dir: &std::path::Path) -> Server {
    let url = fresh_database(Backend::Sqlite, dir).await;
    Server::start_with(&url, dir, free_port(), &["--rate-limit", "off"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_pass_against_a_real_chirp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(dir.path()).await;
    let out = loadtest(&[
        "--target",
        &server.base,
        "--scenario",
        "check",
        "--settle",
        "10s",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("FAIL"), "{}", text(&out));
    assert!(
        stdout.contains("pass  like N times then see N"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_like_storm_counts_every_acknowledged_like_and_writes_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(dir.path()).await;
    let json = dir.path().join("likes.json");
    let json_arg = json.display().to_string();
    let out = loadtest(&[
        "--target",
        &server.base,
        "--scenario",
        "likes",
        "--tweets",
        "3",
        "--rate",
        "200",
        "--duration",
        "1s",
        "--settle",
        "10s",
        "--max-errors",
        "0",
        "--json",
        &json_arg,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let summary: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    assert_eq!(summary["scenario"], "likes");
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["likes_lost"], 0);
    let acked = summary["likes_acknowledged"]
        .as_u64()
        .expect("acknowledged");
    assert!((180..=220).contains(&acked), "{summary}");
    assert_eq!(summary["likes_counted"].as_u64(), Some(acked));
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(summary["latency_ms"][key].is_number(), "{key} in {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_errors_fails_the_run_on_error_answers_and_on_a_stopped_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(dir.path()).await;
    let answers_404 = loadtest(&[
        "--target",
        &server.base,
        "--scenario",
        "get",
        "--path",
        "/api/accounts/nobody_here",
        "--connections",
        "2",
        "--duration",
        "1s",
        "--max-errors",
        "0",
    ]);
    assert!(!answers_404.status.success(), "{}", text(&answers_404));
    assert!(
        String::from_utf8_lossy(&answers_404.stdout).contains("404"),
        "{}",
        text(&answers_404)
    );
    assert!(
        String::from_utf8_lossy(&answers_404.stderr).contains("--max-errors 0"),
        "{}",
        text(&answers_404)
    );

    let nobody = format!("http://127.0.0.1:{}", free_port());
    let stopped = loadtest(&[
        "--target",
        &nobody,
        "--scenario",
        "get",
        "--path",
        "/api/tweets",
        "--rate",
        "50",
        "--duration",
        "1s",
        "--max-errors",
        "0",
    ]);
    assert!(!stopped.status.success(), "{}", text(&stopped));
    assert!(
        String::from_utf8_lossy(&stopped.stdout).contains("transport"),
        "{}",
        text(&stopped)
    );
}
