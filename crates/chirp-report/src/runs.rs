//! `runs.jsonl`: one line per measured run, written by `scripts/report`.
//!
//! ```json
//! {"figure": "likes-accepted", "series": "SQLite, batched", "x": 2000,
//!  "file": "data/likes-sqlite-on-2000.json", "extra": {"db_writes_per_s": 41.5}}
//! ```
//!
//! `x` places a run on a line chart, `label` names its bar in a bar chart;
//! `file` is the `chirp loadtest --json` output, relative to the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ReportError;

/// One run, with its loadtest summary read in.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    pub figure: String,
    pub series: String,
    #[serde(default)]
    pub x: Option<f64>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    /// Numbers read off the server around the run.
    #[serde(default)]
    pub extra: BTreeMap<String, f64>,
    #[serde(skip)]
    pub summary: Option<Summary>,
}

/// The part of `chirp loadtest --json` the figures use.
#[derive(Debug, Clone, Deserialize)]
pub struct Summary {
    pub requests: u64,
    pub errors: u64,
    pub throughput_rps: f64,
    pub latency_ms: Latency,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// A number a figure plots for each run.
#[derive(Debug, Clone, Copy)]
pub enum Metric {
    /// Requests answered without error, per second.
    Succeeded,
    P50,
    P99,
    /// A key of the run's `extra`.
    Extra(&'static str),
}

impl Run {
    /// The run's value of `metric`, if it was measured.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        let s = self.summary.as_ref();
        match metric {
            Metric::Succeeded => s.map(|s| {
                if s.requests == 0 {
                    0.0
                } else {
                    s.throughput_rps * (s.requests - s.errors.min(s.requests)) as f64
                        / s.requests as f64
                }
            }),
            Metric::P50 => s.map(|s| s.latency_ms.p50),
            Metric::P99 => s.map(|s| s.latency_ms.p99),
            Metric::Extra(key) => self.extra.get(key).copied(),
        }
    }
}

/// Reads `dir/runs.jsonl` and each run's summary.
pub fn load(dir: &Path) -> Result<Vec<Run>, ReportError> {
    let path = dir.join("runs.jsonl");
    let text = read(&path)?;
    let mut runs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| ReportError::Manifest {
            path: path.clone(),
            line: n + 1,
            message,
        };
        let mut run: Run = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if run.x.is_none() && run.label.is_none() {
            return Err(bad("a run needs an `x` or a `label`".into()));
        }
        if let Some(file) = &run.file {
            let json = read(&dir.join(file))?;
            let summary = serde_json::from_str(&json).map_err(|e| bad(format!("{file}: {e}")))?;
            run.summary = Some(summary);
        }
        runs.push(run);
    }
    Ok(runs)
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: PathBuf::from(path),
        source,
    })
}
