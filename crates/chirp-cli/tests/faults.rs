//! Faults under load, through the scaled topology of `deploy/local/up`:
//! while chirp-loadtest drives the mixed load (home timelines, user
//! timelines, posts) and a like storm, one part fails and comes back:
//!
//! | fault | what must hold |
//! | --- | --- |
//! | `kill -9` of an API instance, then a restart | no GET fails (nginx routes around it); only writes in flight fail; its acknowledged likes are counted after the restart (the journal) |
//! | `kill -9` of a response cache, then a restart | no GET fails |
//! | PostgreSQL restarted | writes wait or get 503, never a 500; recovery without restarting chirp |
//! | Redis stopped, then started | no request fails (the read cache and the rate-limit counters fall back) |
//! | the broker cut off, then back | no request fails |
//!
//! and through all of them no acknowledged like is lost, none counted
//! twice. PostgreSQL and Redis here are the test's own (chirp-testkit's
//! `servers`), restarted without touching the machine's; the broker is the
//! machine's RabbitMQ behind a proxy that cuts every connection. Each
//! fault's figures (errors, when they ended, likes acknowledged and
//! counted) are printed as a table, and written as JSON lines to
//! `CHIRP_FAULTS_REPORT` if set (docs/RELIABILITY.md holds a run's).
//! One test: the topology owns fixed ports and one run directory.
//! `CHIRP_FAULTS` picks some faults (see [`chosen`]), `CHIRP_FAULTS_LOG`
//! sets chirp's `RUST_LOG`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chirp_loadtest::scenario::prepare;
use chirp_loadtest::{Load, Options, Scenario, SeedPlan, Summary};
use chirp_testkit::proxy::Proxy;
use chirp_testkit::servers::{OwnPostgres, OwnRedis};
use serde_json::json;
use sqlx::Connection;

const FRONT_PORT: u16 = 19_088;
/// Each load's measured phase; the fault comes [`FAULT_AT`] after the
/// loads start and is healed [`OUTAGE`] later, which leaves the last
/// [`CALM`] of the phase to show that chirp recovered by itself.
const LOAD: Duration = Duration::from_secs(20);
const FAULT_AT: Duration = Duration::from_secs(6);
const OUTAGE: Duration = Duration::from_secs(3);
const CALM: u64 = 4;
/// Requests per second of each load: modest, as the binary under test is
/// the debug build and the machine has 2 cores; the point is traffic in
/// flight at the moment of the fault, not saturation.
const MIX_RATE: f64 = 120.0;
const LIKE_RATE: f64 = 240.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What `deploy/local/up`, `down` and `restart` are run with.
#[derive(Clone)]
struct Env {
    database: String,
    redis: String,
    broker: String,
    namespace: String,
}

impl Env {
    fn script(&self, args: &[&str]) -> std::process::Output {
        let (name, rest) = args.split_first().expect("script name");
        Command::new(repo().join("deploy/local").join(name))
            .args(rest)
            .env("CHIRP_BIN", env!("CARGO_BIN_EXE_chirp"))
            .env("CHIRP_FRONT_PORT", FRONT_PORT.to_string())
            .env("CHIRP_DATABASE_URL", &self.database)
            .env("CHIRP_REDIS_URL", &self.redis)
            .env("CHIRP_BROKER_URL", &self.broker)
            .env("CHIRP_BROKER_NAMESPACE", &self.namespace)
            // Pending likes show on the other instance once this old, so
            // the storm's settle sees them soon.
            .env("CHIRP_LIKES_MAX_AGE", "1s")
            // The load comes from one address; limits are another test's.
            .env("CHIRP_RATE_LIMIT", "off")
            .env(
                "RUST_LOG",
                std::env::var("CHIRP_FAULTS_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .output()
            .expect("run deploy script")
    }

    fn run(&self, args: &[&str]) {
        let out = self.script(args);
        assert!(
            out.status.success(),
            "deploy/local/{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Stops the topology even when an assertion fails half-way.
struct Topology(Env);

impl Drop for Topology {
    fn drop(&mut self) {
        let _ = self.0.script(&["down"]);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    KillApi,
    KillCache,
    RestartPostgres,
    StopRedis,
    CutBroker,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Self::KillApi => "kill -9 api-1, restart it",
            Self::KillCache => "kill -9 cache-1, restart it",
            Self::RestartPostgres => "restart PostgreSQL (fast shutdown)",
            Self::StopRedis => "stop Redis, start it",
            Self::CutBroker => "cut the broker off, restore it",
        }
    }
}

/// The parts a fault breaks.
struct Parts {
    env: Env,
    postgres: OwnPostgres,
    redis: OwnRedis,
    broker: Proxy,
}

impl Parts {
    fn kill(&self, name: &str) {
        let pid = std::fs::read_to_string(repo().join(format!("deploy/local/run/{name}.pid")))
            .expect("pid file");
        let status = Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -9 {name}");
    }

    async fn break_it(&mut self, fault: Fault) {
        match fault {
            Fault::KillApi => self.kill("api-1"),
            Fault::KillCache => self.kill("cache-1"),
            Fault::RestartPostgres => self.postgres.stop(),
            Fault::StopRedis => self.redis.stop(),
            Fault::CutBroker => self.broker.cut().await,
        }
    }

    fn heal(&mut self, fault: Fault) {
        match fault {
            Fault::KillApi => self.env.run(&["restart", "api-1"]),
            Fault::KillCache => self.env.run(&["restart", "cache-1"]),
            Fault::RestartPostgres => self.postgres.start_again(),
            Fault::StopRedis => self.redis.start_again(),
            Fault::CutBroker => self.broker.restore(),
        }
    }
}

/// What one fault did to one load.
#[derive(Debug)]
struct Seen {
    requests: u64,
    errors: u64,
    get_errors: u64,
    /// Milliseconds from the fault to the end of the last second with an
    /// error (None: no error at all).
    errors_until_ms: Option<u64>,
    /// Errors in the last [`CALM`] seconds of the load.
    late_errors: u64,
}

fn seen(summary: &Summary, fault_at_ms: u64) -> Seen {
    let last_error = summary.timeline.iter().rposition(|s| s.errors > 0);
    let late = summary.timeline.len().saturating_sub(CALM as usize);
    Seen {
        requests: summary.requests,
        errors: summary.errors,
        get_errors: summary.timeline.iter().map(|s| s.get_errors).sum(),
        errors_until_ms: last_error
            .map(|i| (summary.started_unix_ms + (i as u64 + 1) * 1000).saturating_sub(fault_at_ms)),
        late_errors: summary.timeline[late..].iter().map(|s| s.errors).sum(),
    }
}

fn options(front: &str, scenario: Scenario, rate: f64, seed: SeedPlan) -> Options {
    Options {
        target: front.to_owned(),
        scenario,
        load: Load::Open {
            rate,
            max_in_flight: 1024,
        },
        duration: LOAD,
        seed,
        timeout: Duration::from_secs(10),
        // The like count is checked in the database instead.
        settle: Duration::from_millis(1),
    }
}

/// Runs the mix and the like storm, breaks `fault` into them and heals
/// it, and checks what must hold; returns the figures, the likes
/// acknowledged, the likes that failed, and what did not hold.
async fn under_load(
    parts: &mut Parts,
    front: &str,
    fault: Fault,
) -> (serde_json::Value, u64, u64, Vec<String>) {
    let mix = options(
        front,
        Scenario::Mix,
        MIX_RATE,
        SeedPlan {
            users: 20,
            tweets: 40,
            follows: 5,
        },
    );
    let likes = options(
        front,
        Scenario::Likes,
        LIKE_RATE,
        SeedPlan {
            users: 1,
            tweets: 8,
            follows: 0,
        },
    );
    // Seeded first, so that the fault meets the measured phase only.
    let (mix, likes) = tokio::join!(prepare(&mix), prepare(&likes));
    let (mix, likes) = (mix.expect("seed the mix"), likes.expect("seed the storm"));
    let hot: Vec<i64> = likes.tweets().to_vec();
    let mix = tokio::spawn(mix.measure());
    let likes = tokio::spawn(likes.measure());
    tokio::time::sleep(FAULT_AT).await;
    let fault_at_ms = now_ms();
    parts.break_it(fault).await;
    tokio::time::sleep(OUTAGE).await;
    parts.heal(fault);
    let healed_ms = now_ms().saturating_sub(fault_at_ms);
    let mix = mix.await.expect("mix task").expect("mix load");
    let likes = likes.await.expect("likes task").expect("like storm");
    let (m, l) = (seen(&mix, fault_at_ms), seen(&likes, fault_at_ms));
    println!("{}:\nmix {mix}\nlikes {likes}", fault.name());

    // What must hold; every breach is listed, and the test fails after the
    // table of all faults is printed.
    let mut breaches = Vec::new();
    let mut expect = |holds: bool, what: String| {
        if !holds {
            breaches.push(format!("{}: {what}", fault.name()));
        }
    };
    for (summary, load) in [(&mix, "mix"), (&likes, "likes")] {
        expect(
            summary.timeline.len() as u64 >= LOAD.as_secs()
                && summary.started_unix_ms < fault_at_ms,
            format!("{load} did not run through the fault"),
        );
        expect(
            !summary.status.contains_key("500"),
            format!("{load}: a fault turned into a 500"),
        );
    }
    // The database, not the API, says what was counted: an instance
    // serves other instances' landed likes only as fresh as its read
    // cache, while the database has them as soon as a batch lands.
    let acked = likes.likes_acknowledged.unwrap_or(0);
    let counted = likes_landed(&parts.env.database, &hot, acked).await;
    expect(
        acked <= counted && counted <= acked + l.errors,
        format!(
            "likes acknowledged {acked}, failed {}, counted {counted}",
            l.errors
        ),
    );
    // Recovered by itself: the end of the phase is clean.
    expect(
        m.late_errors + l.late_errors == 0,
        format!(
            "errors in the last {CALM} s: mix {}, likes {}",
            m.late_errors, l.late_errors
        ),
    );
    match fault {
        Fault::KillApi | Fault::KillCache => {
            expect(m.get_errors == 0, format!("{} GETs failed", m.get_errors));
        }
        Fault::StopRedis | Fault::CutBroker => {
            expect(
                m.errors + l.errors == 0,
                format!("{} requests failed", m.errors + l.errors),
            );
        }
        Fault::RestartPostgres => {
            // Writes wait or get 503 while the database is away.
            for (summary, load) in [(&mix, "mix"), (&likes, "likes")] {
                for (status, n) in &summary.status {
                    expect(
                        status.starts_with('2') || status == "503",
                        format!("{load}: {n} answered {status}"),
                    );
                }
            }
        }
    }
    let figure = json!({
        "fault": fault.name(),
        "outage_ms": healed_ms,
        "mix": {
            "requests": m.requests, "errors": m.errors, "get_errors": m.get_errors,
            "errors_until_ms": m.errors_until_ms, "status": mix.status, "p99_ms": mix.latency_ms.p99,
        },
        "likes": {
            "requests": l.requests, "errors": l.errors,
            "errors_until_ms": l.errors_until_ms, "status": likes.status,
            "acknowledged": acked, "counted": counted,
        },
    });
    (figure, acked, l.errors, breaches)
}

/// The likes of `tweets` in the database, once they reach `acked` (the
/// batchers write what they hold within a second or so; a killed instance
/// when it is started again), or after 30 s.
async fn likes_landed(database: &str, tweets: &[i64], acked: u64) -> u64 {
    let mut conn = sqlx::PgConnection::connect(database)
        .await
        .expect("connect");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(SUM(like_count), 0)::BIGINT FROM tweets WHERE id = ANY($1)",
        )
        .bind(tweets)
        .fetch_one(&mut conn)
        .await
        .expect("like count");
        let n = u64::try_from(n).unwrap_or(0);
        if n >= acked || tokio::time::Instant::now() >= deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn total_likes(database: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(database)
        .await
        .expect("connect");
    let (n,): (i64,) = sqlx::query_as("SELECT COALESCE(SUM(like_count), 0)::BIGINT FROM tweets")
        .fetch_one(&mut conn)
        .await
        .expect("like total");
    n
}

fn table(figures: &[serde_json::Value]) -> String {
    let mut out = String::from(
        "| fault | outage | mix: requests, errors (GET) | mix errors end | likes: requests, errors | likes errors end | likes acknowledged / counted |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let end = |v: &serde_json::Value| match v.as_u64() {
        Some(ms) => format!("{:.1} s after the fault", ms as f64 / 1000.0),
        None => "none".to_owned(),
    };
    for f in figures {
        let (m, l) = (&f["mix"], &f["likes"]);
        out.push_str(&format!(
            "| {} | {:.1} s | {}, {} ({}) | {} | {}, {} | {} | {} / {} |\n",
            f["fault"].as_str().unwrap_or(""),
            f["outage_ms"].as_u64().unwrap_or(0) as f64 / 1000.0,
            m["requests"],
            m["errors"],
            m["get_errors"],
            end(&m["errors_until_ms"]),
            l["requests"],
            l["errors"],
            end(&l["errors_until_ms"]),
            l["acknowledged"],
            l["counted"],
        ));
    }
    out
}

/// `CHIRP_FAULTS=kill-api,redis` runs only those (to look into one);
/// all of them by default.
fn chosen(fault: Fault) -> bool {
    let key = match fault {
        Fault::KillApi => "kill-api",
        Fault::KillCache => "kill-cache",
        Fault::RestartPostgres => "postgres",
        Fault::StopRedis => "redis",
        Fault::CutBroker => "broker",
    };
    std::env::var("CHIRP_FAULTS").map_or(true, |list| list.split(',').any(|k| k.trim() == key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_under_load_lose_no_acknowledged_like() {
    let postgres = OwnPostgres::start();
    postgres.create_database("chirp");
    let redis = OwnRedis::start();
    let amqp = std::env::var("CHIRP_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let broker = Proxy::start(&amqp).await;
    let env = Env {
        database: postgres.url("chirp"),
        redis: redis.url(),
        broker: broker.url_for(&amqp),
        namespace: format!("chirp-faults-{}", std::process::id()),
    };
    let up = env.script(&["up"]);
    let _down = Topology(env.clone());
    assert!(
        up.status.success(),
        "up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let front = String::from_utf8_lossy(&up.stdout)
        .lines()
        .last()
        .expect("front URL")
        .trim()
        .to_owned();
    let mut parts = Parts {
        env,
        postgres,
        redis,
        broker,
    };

    let mut figures = Vec::new();
    let (mut acked, mut like_errors) = (0, 0);
    let mut breaches: Vec<String> = Vec::new();
    for fault in [
        Fault::KillApi,
        Fault::KillCache,
        Fault::RestartPostgres,
        Fault::StopRedis,
        Fault::CutBroker,
    ]
    .into_iter()
    .filter(|f| chosen(*f))
    {
        let (figure, a, e, mut b) = under_load(&mut parts, &front, fault).await;
        println!("{figure}");
        figures.push(figure);
        breaches.append(&mut b);
        acked += a;
        like_errors += e;
    }
    println!("\n{}", table(&figures));
    if let Ok(path) = std::env::var("CHIRP_FAULTS_REPORT") {
        let lines: Vec<String> = figures.iter().map(|f| f.to_string()).collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write the report");
    }

    // Every API instance drains what it holds on SIGTERM; then the
    // database has every acknowledged like, and at most the ones whose
    // answer was lost on the way (a 202 the killed instance had journaled
    // but not sent) besides.
    parts.env.run(&["down"]);
    let total = u64::try_from(total_likes(&parts.env.database).await).expect("count");
    if !(acked <= total && total <= acked + like_errors) {
        breaches.push(format!(
            "after down: acknowledged {acked}, like errors {like_errors}, counted {total}"
        ));
    }
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}
