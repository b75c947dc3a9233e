//! What a run measured: latencies in an HDR histogram (microseconds, three
//! significant digits, so p99.9 of a long run costs a few KB rather than a
//! sorted list of every sample), outcomes counted by status, and the
//! [`Summary`] printed as a table or written as `--json`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::Outcome;

/// Latencies above this are clamped: nobody waits an hour for an answer.
const MAX_MICROS: u64 = 3_600_000_000;

/// Collects samples from many tasks at once.
#[derive(Debug)]
pub struct Recorder {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    histogram: Histogram<u64>,
    outcomes: BTreeMap<Outcome, u64>,
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
        Self {
            inner: Mutex::new(Inner {
                histogram,
                outcomes: BTreeMap::new(),
            }),
        }
    }

    /// One request that ended with `outcome` after `latency` (measured from
    /// its intended send time in the open model). Overflows have no latency.
    pub fn record(&self, outcome: Outcome, latency: Option<Duration>) {
        let mut inner = self.lock();
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
