//! What a run measured: latencies in an HDR histogram (microseconds, three
//! significant digits, so p99.9 of a long run costs a few KB rather than a
//! sorted list of every sample), outcomes counted by status, a timeline of
//! each second's requests and errors (what a fault test reads its error
//! window and recovery time off), and the [`Summary`] printed as a table
//! or written as `--json`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::Outcome;

/// Latencies above this are clamped: nobody waits an hour for an answer.
const MAX_MICROS: u64 = 3_600_000_000;
/// Seconds of timeline kept: a day. Later answers still count in the
/// totals, just not in the timeline, so memory stays bounded.
const MAX_SECONDS: usize = 86_400;

/// Collects samples from many tasks at once.
#[derive(Debug)]
pub struct Recorder {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    histogram: Histogram<u64>,
    outcomes: BTreeMap<Outcome, u64>,
    timeline: Vec<Second>,
    started: std::time::Instant,
    started_unix_ms: u64,
}

/// What was answered during one second of a run, counted when the answer
/// came (or, for an `overflow`, when the request was due).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
    /// Errors of GETs alone: reads, which nginx may retry on another
    /// upstream, unlike writes; a fault test holds them to zero.
    pub get_errors: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, 3)
            .expect("constant histogram bounds are valid");
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            inner: Mutex::new(Inner {
                histogram,
                outcomes: BTreeMap::new(),
                timeline: Vec::new(),
                started: std::time::Instant::now(),
                started_unix_ms,
            }),
        }
    }

    /// One request that ended with `outcome` after `latency` (measured from
    /// its intended send time in the open model). Overflows have no latency.
    /// `get` says whether it was a GET.
    pub fn record(&self, outcome: Outcome, latency: Option<Duration>, get: bool) {
        let mut inner = self.lock();
        let second = usize::try_from(inner.started.elapsed().as_secs()).unwrap_or(usize::MAX);
        if second < MAX_SECONDS {
            if inner.timeline.len() <= second {
                inner.timeline.resize(second + 1, Second::default());
            }
            let slot = &mut inner.timeline[second];
            slot.requests += 1;
            if !outcome.is_ok() {
                slot.errors += 1;
                if get {
                    slot.get_errors += 1;
                }
            }
        }
        if let Some(latency) = latency {
            let micros = u64::try_from(latency.as_micros())
                .unwrap_or(MAX_MICROS)
                .clamp(1, MAX_MICROS);
            inner.histogram.saturating_record(micros);
        }
        *inner.outcomes.entry(outcome).or_default() += 1;
    }

    /// Requests recorded so far, and how many of them failed.
    pub fn counts(&self) -> (u64, u64) {
        let inner = self.lock();
        let total = inner.outcomes.values().sum();
        let errors = inner
            .outcomes
            .iter()
            .filter(|(o, _)| !o.is_ok())
            .map(|(_, n)| n)
            .sum();
        (total, errors)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking recorder leaves counts that are still counts.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The summary of everything recorded, over `elapsed`.
    pub fn summary(&self, scenario: &str, elapsed: Duration) -> Summary {
        let inner = self.lock();
        let h = &inner.histogram;
        let ms = |micros: u64| micros as f64 / 1000.0;
        let requests: u64 = inner.outcomes.values().sum();
        let errors = inner
            .outcomes
            .iter()
            .filter(|(o, _)| !o.is_ok())
            .map(|(_, n)| n)
            .sum();
        let secs = elapsed.as_secs_f64();
        Summary {
            scenario: scenario.to_string(),
            requests,
            errors,
            throughput_rps: if secs > 0.0 {
                requests as f64 / secs
            } else {
                0.0
            },
            latency_ms: Latency {
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
            },
            status: inner
                .outcomes
                .iter()
                .map(|(o, n)| (o.label(), *n))
                .collect(),
            likes_acknowledged: None,
            likes_counted: None,
            likes_lost: None,
            started_unix_ms: inner.started_unix_ms,
            timeline: inner.timeline.clone(),
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// The result of a run: the shape `--json` writes (SPEC §5). The like
/// fields are null for scenarios other than `likes`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub requests: u64,
    pub errors: u64,
    pub throughput_rps: f64,
    pub latency_ms: Latency,
    /// Requests by outcome: an HTTP status, or `transport`, `timeout`,
    /// `overflow`.
    pub status: BTreeMap<String, u64>,
    pub likes_acknowledged: Option<u64>,
    pub likes_counted: Option<u64>,
    pub likes_lost: Option<u64>,
    /// When the measured phase began, in milliseconds since the Unix epoch:
    /// what `timeline`'s first second is counted from.
    pub started_unix_ms: u64,
    /// Second by second from `started_unix_ms`: requests answered and errors.
    pub timeline: Vec<Second>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.latency_ms;
        writeln!(f, "scenario      {}", self.scenario)?;
        writeln!(f, "requests      {}", self.requests)?;
        writeln!(f, "errors        {}", self.errors)?;
        writeln!(f, "throughput    {:.1} req/s", self.throughput_rps)?;
        writeln!(
            f,
            "latency (ms)  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            l.p50, l.p90, l.p99, l.p999, l.max
        )?;
        let status: Vec<String> = self
            .status
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        writeln!(f, "status        {}", status.join("  "))?;
        if let (Some(acked), Some(counted), Some(lost)) =
            (self.likes_acknowledged, self.likes_counted, self.likes_lost)
        {
            let verdict = if lost == 0 {
                "every acknowledged like was counted"
            } else {
                "LIKES LOST"
            };
            writeln!(
                f,
                "likes         acknowledged {acked}  counted {counted}  lost {lost}  ({verdict})"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_counts_each_seconds_requests_errors_and_get_errors() {
        let recorder = Recorder::new();
        let ms = Some(Duration::from_millis(3));
        recorder.record(Outcome::Status(200), ms, true);
        recorder.record(Outcome::Status(202), ms, false);
        recorder.record(Outcome::Status(502), ms, true);
        recorder.record(Outcome::Transport, ms, false);
        recorder.record(Outcome::Overflow, None, false);
        let summary = recorder.summary("test", Duration::from_secs(1));
        assert_eq!(
            summary.timeline,
            vec![Second {
                requests: 5,
                errors: 3,
                get_errors: 1
            }]
        );
        assert_eq!((summary.requests, summary.errors), (5, 3));
        assert!(summary.started_unix_ms > 1_600_000_000_000, "{summary:?}");
    }
}
