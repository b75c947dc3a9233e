//! The load models against a local server over real sockets that stalls
//! the first half of every second: the open model must show the stall in
//! its tail and keep to its schedule; the closed model hides it (which is
//! why the open model exists).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use chirp_loadtest::{Http, Load, Outcome, Planned, Summary, Workload};
use tokio::time::Instant;

/// Serves `/` on a random port: answers at once in the second half of
/// every second (counted from start), and holds a request that arrives in
/// the first half until that half is over.
async fn stalling_server() -> String {
    let start = Instant::now();
    let app = Router::new().route(
        "/",
        get(move || async move {
            let into_second = start.elapsed().as_nanos() % 1_000_000_000;
            if into_second < 500_000_000 {
                let wait = 500_000_000 - into_second;
                tokio::time::sleep(Duration::from_nanos(wait as u64)).await;
            }
            "ok"
        }),
    );
    serve(app).await
}

/// Serves `/` on a random port, answering every request after `delay`.
async fn slow_server(delay: Duration) -> String {
    let app = Router::new().route(
        "/",
        get(move || async move {
            tokio::time::sleep(delay).await;
            "ok"
        }),
    );
    serve(app).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Root;

impl Workload for Root {
    fn plan(&self, _i: u64) -> Planned {
        Planned::get("/")
    }
}

async fn measure(base: &str, load: Load, duration: Duration) -> Summary {
    let http = Http::new(base, Duration::from_secs(5)).expect("client");
    chirp_loadtest::run::run(&http, Arc::new(Root), load, duration, "get").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_shows_the_stall_that_the_closed_model_hides() {
    let base = stalling_server().await;
    let (rate, secs) = (200.0, 2.0);
    let open = measure(
        &base,
        Load::Open {
            rate,
            max_in_flight: 10_000,
        },
        Duration::from_secs_f64(secs),
    )
    .await;
    let expected = rate * secs;
    assert!(
        (open.requests as f64 - expected).abs() <= expected * 0.1,
        "open model sent {} requests, expected {expected} ± 10 %",
        open.requests
    );
    assert_eq!(open.errors, 0, "{:?}", open.status);
    // Half the requests wait up to 500 ms, uniformly: p90 is about 400 ms.
    assert!(
        (100.0..1000.0).contains(&open.latency_ms.p90),
        "open p90 {} ms should be in the hundreds",
        open.latency_ms.p90
    );

    let closed = measure(
        &base,
        Load::Closed { connections: 4 },
        Duration::from_secs(2),
    )
    .await;
    eprintln!("open:\n{open}\nclosed:\n{closed}");
    assert!(closed.requests > 0);
    // Each connection waits out a stall once per second and answers
    // hundreds of requests in the other half: few samples see the stall.
    assert!(
        closed.latency_ms.p90 * 10.0 < open.latency_ms.p90,
        "closed p90 {} ms should be far below open p90 {} ms",
        closed.latency_ms.p90,
        open.latency_ms.p90
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_counts_requests_beyond_the_in_flight_cap_as_overflow() {
    let base = slow_server(Duration::from_millis(1500)).await;
    let summary = measure(
        &base,
        Load::Open {
            rate: 50.0,
            max_in_flight: 10,
        },
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(summary.requests, 50, "{:?}", summary.status);
    assert_eq!(summary.status.get("200"), Some(&10), "{:?}", summary.status);
    assert_eq!(
        summary.status.get("overflow"),
        Some(&40),
        "{:?}",
        summary.status
    );
    assert_eq!(summary.errors, 40);
    assert!(!Outcome::Overflow.is_ok());
}
