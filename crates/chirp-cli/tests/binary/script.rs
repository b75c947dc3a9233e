//! `chirp script` against a real `chirp serve`: the demo script that ships
//! in scripts/ does what it says (checked through the API), runs again
//! without trouble, and a script with mistakes is refused whole, with the
//! line numbers, before anything is sent.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::server::{Backend, Server, free_port, fresh_database};

/// The demo script, from the repository root.
fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/demo.chirp")
        .display()
        .to_string()
}

/// Runs `chirp script FILE --api BASE` to the end.
fn run_script(file: &str, base: &str, stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chirp"))
        .args(["script", file, "--api", base])
        .env_remove("CHIRP_API")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chirp script");
    if let Some(text) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(text.as_bytes()).expect("write the script");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("chirp script ends")
}

async fn get(base: &str, path: &str) -> Value {
    let resp = reqwest::get(format!("{base}{path}")).await.expect("GET");
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    resp.json().await.expect("JSON")
}

/// The first tweet found by a full-text search for `q`.
async fn find(base: &str, q: &str) -> Value {
    let found = get(base, &format!("/api/tweets?q={q}")).await;
    found["items"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_script_seeds_a_site_and_can_run_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let server = Server::start(&url, dir.path(), free_port()).await;
    let base = server.base.clone();

    let first = run_script(&demo(), &base, None);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "demo failed: {}{}",
        stdout,
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("6 new accounts"), "{stdout}");
    assert!(stdout.contains("3 messages"), "{stdout}");
    assert!(stdout.contains("1 edit,"), "one, not 1 edits: {stdout}");
    assert!(
        !stdout.contains("(s)") && !stdout.contains("(ies)"),
        "plurals said right: {stdout}"
    );

    let ada = get(&base, "/api/accounts/ada").await;
    assert_eq!(ada["display_name"], "Ada Lovelace");
    assert_eq!(ada["followers_count"], 4, "grace, linus, margaret, barbara");
    assert_eq!(ada["following_count"], 2);
    let grace = get(&base, "/api/accounts/grace").await;
    assert_eq!(
        grace["bio"],
        "It's easier to ask forgiveness than permission."
    );

    let batcher = find(&base, "batcher").await;
    assert_eq!(batcher["author"]["username"], "ada");
    assert_eq!(batcher["like_count"], 42);
    assert_eq!(batcher["reply_count"], 1);
    let edited = find(&base, "adjectives").await;
    assert!(edited["edited_at"].is_string(), "{edited}");
    let in_category = get(&base, "/api/tweets?category=space").await;
    assert_eq!(in_category["items"].as_array().map(Vec::len), Some(1));

    // Again: the accounts and categories are reused, the chirps posted anew.
    let second = run_script(&demo(), &base, None);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "second run: {stdout}");
    assert!(
        stdout.contains("0 new accounts, 6 existing logged in"),
        "{stdout}"
    );
    let ada = get(&base, "/api/accounts/ada").await;
    assert_eq!(ada["followers_count"], 4, "following again changes nothing");
    assert_eq!(ada["tweets_count"], 6, "3 chirps, twice");
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_with_mistakes_are_refused_with_line_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let server = Server::start(&url, dir.path(), free_port()).await;
    let base = server.base.clone();

    // Parse errors: every bad line reported, nothing sent.
    let bad = "user alice\npost alice\nshout alice hi\n";
    let out = run_script("-", &base, Some(bad));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2: post takes 2"), "{stderr}");
    assert!(
        stderr.contains("line 3: unknown command \"shout\""),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was run"), "{stderr}");
    let accounts = get(&base, "/api/accounts").await;
    assert_eq!(accounts["items"], serde_json::json!([]), "nothing was run");

    // A refusal from the API stops the script at its line, with the reason.
    let refused =
        "user alice\npost alice \"ok\"\npost bob \"not logged in\"\npost alice \"never\"\n";
    let out = run_script("-", &base, Some(refused));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 3: bob is not logged in"), "{stderr}");
    // What chirp-core can check (a too-short password, a too-long chirp)
    // is refused before the first line is sent.
    let alice = get(&base, "/api/accounts/alice").await;
    assert_eq!(
        alice["tweets_count"], 1,
        "only the line before the error ran"
    );
    let too_long = format!("user carol\npost carol \"{}\"\n", "x".repeat(281));
    let out = run_script("-", &base, Some(&too_long));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: text must be at most 280"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was run"), "{stderr}");
    let short = "user dave\npost dave \"hi\"\npassword short\nuser erin\n";
    let out = run_script("-", &base, Some(short));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 3: password must be 8 to"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    let accounts = get(&base, "/api/accounts").await;
    let names: Vec<&str> = accounts["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["username"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["alice"], "no line of either script ran");

    // A missing file and an unreachable API say so.
    let out = run_script("/nonexistent/x.chirp", &base, None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/x.chirp"));
    let out = run_script("-", "http://127.0.0.1:1", Some("user alice\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 1"), "{stderr}");
    server.terminate();
}
