//! The two load models.
//!
//! * Closed ([`Load::Closed`]): N connections, each sending its next
//!   request when the previous answer arrives. Simple, but a stalled server
//!   also stalls the load, so the stall shows in few samples only
//!   ("coordinated omission").
//! * Open ([`Load::Open`]): requests are due at a fixed rate whatever the
//!   server does; each is sent on its own task at its due time and its
//!   latency is measured from that due time. A stall then shows in every
//!   request due during it. In-flight requests are capped: one due while
//!   the cap is full is not sent and counts as an `overflow` error, so an
//!   overloaded target cannot make the generator hoard memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::Method;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::http::{Http, Outcome};
use crate::stats::{Recorder, Summary};

/// How load is applied.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    /// `connections` loops, each one request at a time.
    Closed { connections: usize },
    /// `rate` requests per second, at most `max_in_flight` unanswered.
    Open { rate: f64, max_in_flight: usize },
}

/// One request a workload wants sent.
#[derive(Debug, Clone)]
pub struct Planned {
    pub method: Method,
    pub path: String,
    pub token: Option<Arc<str>>,
    pub body: Option<Vec<u8>>,
    /// The workload's own tag for this request (the likes scenario: which
    /// hot tweet), handed back to [`Workload::done`].
    pub tag: usize,
}

impl Planned {
    /// A GET of `path` with no token.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            token: None,
            body: None,
            tag: 0,
        }
    }
}

/// What a scenario sends during the measured phase.
pub trait Workload: Send + Sync + 'static {
    /// The `i`-th request of the run.
    fn plan(&self, i: u64) -> Planned;
    /// Told how each request ended (the likes scenario tallies 202s).
    fn done(&self, _planned: &Planned, _outcome: Outcome) {}
}

/// Runs `workload` against `http` under `load` for `duration`, with a live
/// progress line on stderr (hidden when stderr is not a terminal).
pub async fn run<W: Workload>(
    http: &Http,
    workload: Arc<W>,
    load: Load,
    duration: Duration,
    scenario: &str,
) -> Summary {
    let recorder = Arc::new(Recorder::new());
    let progress = live_progress(recorder.clone(), duration);
    let start = Instant::now();
    match load {
        Load::Closed { connections } => {
            closed(
                http,
                workload,
                connections.max(1),
                start + duration,
                &recorder,
            )
            .await;
        }
        Load::Open {
            rate,
            max_in_flight,
        } => {
            open(
                http,
                workload,
                rate,
                max_in_flight.max(1),
                start,
                duration,
                &recorder,
            )
            .await;
        }
    }
    let elapsed = start.elapsed();
    progress.0.abort();
    progress.1.finish_and_clear();
    recorder.summary(scenario, elapsed)
}

async fn send<W: Workload>(http: &Http, workload: &W, planned: &Planned) -> Outcome {
    let outcome = match http
        .call(
            planned.method.clone(),
            &planned.path,
            planned.token.as_deref(),
            planned.body.clone(),
        )
        .await
    {
        Ok((outcome, _)) => outcome,
        // A request that cannot even be built is the workload's bug; it
        // still counts, as a transport failure, rather than ending the run.
        Err(_) => Outcome::Transport,
    };
    workload.done(planned, outcome);
    outcome
}

async fn closed<W: Workload>(
    http: &Http,
    workload: Arc<W>,
    connections: usize,
    deadline: Instant,
    recorder: &Arc<Recorder>,
) {
    let next = Arc::new(AtomicU64::new(0));
    let mut set = JoinSet::new();
    for _ in 0..connections {
        let (http, workload, next, recorder) = (
            http.clone(),
            workload.clone(),
            next.clone(),
            recorder.clone(),
        );
        set.spawn(async move {
            while Instant::now() < deadline {
                let planned = workload.plan(next.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let outcome = send(&http, &*workload, &planned).await;
                recorder.record(outcome, Some(sent.elapsed()), planned.method == Method::GET);
            }
        });
    }
    while set.join_next().await.is_some() {}
}

async fn open<W: Workload>(
    http: &Http,
    workload: Arc<W>,
    rate: f64,
    max_in_flight: usize,
    start: Instant,
    duration: Duration,
    recorder: &Arc<Recorder>,
) {
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let mut set = JoinSet::new();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        // Reap finished tasks so the set does not grow with the run.
        while set.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            recorder.record(Outcome::Overflow, None, false);
            continue;
        };
        let planned = workload.plan(i);
        let (http, workload, recorder) = (http.clone(), workload.clone(), recorder.clone());
        set.spawn(async move {
            let outcome = send(&http, &*workload, &planned).await;
            // From the due time, not from when the task got to run: a
            // generator that fell behind must not hide the delay.
            recorder.record(outcome, Some(due.elapsed()), planned.method == Method::GET);
            drop(slot);
        });
    }
    while set.join_next().await.is_some() {}
}

/// A spinner line on stderr with elapsed time, requests, rate and errors,
/// redrawn every 200 ms until aborted.
fn live_progress(
    recorder: Arc<Recorder>,
    duration: Duration,
) -> (tokio::task::JoinHandle<()>, ProgressBar) {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}") {
        bar.set_style(style);
    }
    let line = bar.clone();
    let task = tokio::spawn(async move {
        let start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            let (done, errors) = recorder.counts();
            let secs = start.elapsed().as_secs_f64().max(0.001);
            line.set_message(format!(
                "of {:.0?}: {done} requests, {:.0} req/s, {errors} errors",
                duration,
                done as f64 / secs
            ));
            line.tick();
        }
    });
    (task, bar)
}
