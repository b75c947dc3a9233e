//! The report's figures, drawn from measured runs.
//!
//! `scripts/report` runs `chirp loadtest` against each shape and setting it
//! compares, and appends one line per run to `runs.jsonl`: which figure and
//! series the run belongs to, its x (an offered rate, a TTL) or its label
//! (a topology), the loadtest's `--json` file, and any figures read off the
//! server (`/metrics`, `/_cache/stats`). [`draw`] turns those lines into
//! one SVG per figure that [`figures::FIGURES`] knows.
//!
//! * `runs.rs`: the manifest's lines and the numbers derived from them.
//! * `chart.rs`: line and bar charts over plotters' SVG backend.
//! * `figures.rs`: what each figure plots.
//! * `error.rs`: what stops a figure from being drawn.

pub mod chart;
mod error;
pub mod figures;
pub mod runs;

use std::path::{Path, PathBuf};

pub use error::ReportError;
pub use runs::Run;

/// Draws every figure that has runs in `dir/runs.jsonl` into `dir`;
/// returns the files written.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let runs = runs::load(dir)?;
    let mut written = Vec::new();
    for figure in figures::FIGURES {
        let mine: Vec<&Run> = runs.iter().filter(|r| r.figure == figure.id).collect();
        if mine.is_empty() {
            continue;
        }
        let path = dir.join(format!("{}.svg", figure.id));
        figure.draw(&mine, &path)?;
        written.push(path);
    }
    Ok(written)
}
