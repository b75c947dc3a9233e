//! The report's figures: for each, which runs it takes (by id), what it
//! plots and how. docs/REPORT.md embeds them by id (`ID.svg`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::ReportError;
use crate::chart::{self, Frame, Line};
use crate::runs::{Metric, Run};

/// How a figure shows its runs.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// One line per series over the runs' `x`.
    Lines,
    /// One bar per run, named by its `label`, in manifest order.
    Bars,
}

#[derive(Debug, Clone, Copy)]
pub struct Figure {
    pub id: &'static str,
    pub kind: Kind,
    pub metric: Metric,
    pub title: &'static str,
    pub x_label: &'static str,
    pub y_label: &'static str,
    pub log_x: bool,
    pub log_y: bool,
}

pub const FIGURES: &[Figure] = &[
    Figure {
        id: "likes-accepted",
        kind: Kind::Lines,
        metric: Metric::Succeeded,
        title: "Like storm: likes accepted per second",
        x_label: "offered likes/s (open load)",
        y_label: "accepted likes/s",
        log_x: true,
        log_y: true,
    },
    Figure {
        id: "likes-p99",
        kind: Kind::Lines,
        metric: Metric::P99,
        title: "Like storm: p99 latency from the intended send time",
        x_label: "offered likes/s (open load)",
        y_label: "p99 (ms)",
        log_x: true,
        log_y: true,
    },
    Figure {
        id: "likes-writes",
        kind: Kind::Lines,
        metric: Metric::Extra("db_writes_per_s"),
        title: "Like storm: database writes per second",
        x_label: "offered likes/s (open load)",
        y_label: "database writes/s",
        log_x: true,
        log_y: true,
    },
    Figure {
        id: "cache-ttl",
        kind: Kind::Lines,
        metric: Metric::Extra("hit_ratio_pct"),
        title: "Response cache: hit ratio by TTL (Zipf-skewed reads)",
        x_label: "response cache TTL (s)",
        y_label: "hits (% of anonymous GETs)",
        log_x: true,
        log_y: false,
    },
    Figure {
        id: "cache-ttl-api",
        kind: Kind::Lines,
        metric: Metric::Extra("api_requests_per_s"),
        title: "Response cache: requests reaching the API by TTL",
        x_label: "response cache TTL (s)",
        y_label: "requests/s past the cache",
        log_x: true,
        log_y: false,
    },
    Figure {
        id: "reference",
        kind: Kind::Bars,
        metric: Metric::Extra("rps"),
        title: "Same targets, wrk vs chirp loadtest (64 connections, closed)",
        x_label: "target, load generator",
        y_label: "requests/s",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "scale-out",
        kind: Kind::Bars,
        metric: Metric::Succeeded,
        title: "Reads per second by shape (this 2-core machine)",
        x_label: "shape",
        y_label: "requests/s",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "hops",
        kind: Kind::Bars,
        metric: Metric::P50,
        title: "What each hop adds: p50 of GET /healthz at 8 connections",
        x_label: "entry point",
        y_label: "p50 (ms)",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "anchor-read-cache",
        kind: Kind::Bars,
        metric: Metric::Succeeded,
        title: "Read cache: Zipf-skewed reads on PostgreSQL, no response cache",
        x_label: "read cache",
        y_label: "requests/s",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "anchor-response-cache",
        kind: Kind::Bars,
        metric: Metric::Succeeded,
        title: "Response cache: chirp cache vs nginx proxy_cache, same upstream",
        x_label: "response cache",
        y_label: "requests/s",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "anchor-balance",
        kind: Kind::Bars,
        metric: Metric::P99,
        title: "nginx balancing: p99 of the mix at a fixed rate, 2x2 topology",
        x_label: "balancing",
        y_label: "p99 (ms)",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "mix-accepted",
        kind: Kind::Lines,
        metric: Metric::Succeeded,
        title: "Social-network mix: answered per second, 10,000 accounts, 1M tweets",
        x_label: "offered requests/s (open load)",
        y_label: "answered requests/s",
        log_x: true,
        log_y: true,
    },
    Figure {
        id: "mix-p99",
        kind: Kind::Lines,
        metric: Metric::P99,
        title: "Social-network mix: p99 from the intended send time",
        x_label: "offered requests/s (open load)",
        y_label: "p99 (ms)",
        log_x: true,
        log_y: true,
    },
    Figure {
        id: "mix-cpu",
        kind: Kind::Lines,
        metric: Metric::Extra("cores"),
        title: "Social-network mix: where the time goes (CPU by component)",
        x_label: "offered requests/s (open load)",
        y_label: "cores busy",
        log_x: true,
        log_y: false,
    },
    // scripts/soak: one run per sample, x the minutes since the load
    // generators started (they seed their accounts first).
    Figure {
        id: "soak-rss",
        kind: Kind::Lines,
        metric: Metric::Extra("rss_mib"),
        title: "Soak: resident memory of each chirp process under load",
        x_label: "minutes since the load generators started",
        y_label: "RSS (MiB)",
        log_x: false,
        log_y: false,
    },
    Figure {
        id: "soak-fds",
        kind: Kind::Lines,
        metric: Metric::Extra("fds"),
        title: "Soak: open file descriptors (sockets included) of each process",
        x_label: "minutes since the load generators started",
        y_label: "open file descriptors",
        log_x: false,
        log_y: false,
    },
];

impl Figure {
    /// Draws this figure from `runs` (all of them its own) into `path`.
    pub fn draw(&self, runs: &[&Run], path: &Path) -> Result<(), ReportError> {
        let frame = Frame {
            title: self.title,
            x_label: self.x_label,
            y_label: self.y_label,
            log_x: self.log_x,
            log_y: self.log_y,
        };
        match self.kind {
            Kind::Lines => chart::line_chart(path, frame, &self.lines(runs)),
            Kind::Bars => {
                let bars: Vec<(String, f64)> = runs
                    .iter()
                    .filter_map(|r| Some((r.label.clone()?, r.value(self.metric)?)))
                    .collect();
                chart::bar_chart(path, frame, &bars)
            }
        }
    }

    /// The runs as lines: grouped by series (in order of first appearance),
    /// each sorted by x, runs without the metric left out.
    pub fn lines(&self, runs: &[&Run]) -> Vec<Line> {
        let mut order: Vec<String> = Vec::new();
        let mut points: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for run in runs {
            let (Some(x), Some(y)) = (run.x, run.value(self.metric)) else {
                continue;
            };
            if !points.contains_key(&run.series) {
                order.push(run.series.clone());
            }
            points.entry(run.series.clone()).or_default().push((x, y));
        }
        order
            .into_iter()
            .map(|name| {
                let mut pts = points.remove(&name).unwrap_or_default();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                Line { name, points: pts }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(series: &str, x: f64, writes: f64) -> Run {
        Run {
            figure: "likes-writes".into(),
            series: series.into(),
            x: Some(x),
            label: None,
            file: None,
            extra: [("db_writes_per_s".to_owned(), writes)].into(),
            summary: None,
        }
    }

    #[test]
    fn lines_group_by_series_in_first_seen_order_and_sort_by_x() {
        let runs = [
            run("batched", 1000.0, 20.0),
            run("direct", 100.0, 100.0),
            run("batched", 100.0, 10.0),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let figure = FIGURES
            .iter()
            .find(|f| f.id == "likes-writes")
            .expect("the figure");
        let lines = figure.lines(&refs);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].name, "batched");
        assert_eq!(lines[0].points, vec![(100.0, 10.0), (1000.0, 20.0)]);
        assert_eq!(lines[1].points, vec![(100.0, 100.0)]);
    }

    #[test]
    fn every_figure_draws_an_svg_with_its_title() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bar = run("shape", 0.0, 5.0);
        bar.label = Some("embedded".into());
        bar.extra.insert("hit_ratio_pct".into(), 80.0);
        bar.extra.insert("api_requests_per_s".into(), 10.0);
        bar.extra.insert("rps".into(), 1000.0);
        let other = run("other", 10.0, 7.0);
        for figure in FIGURES {
            // Bars and lines from the same extra numbers; summaries absent,
            // so the loadtest metrics draw empty charts, which must not fail.
            let path = dir.path().join(format!("{}.svg", figure.id));
            figure.draw(&[&bar, &other], &path).expect("draw");
            let svg = std::fs::read_to_string(&path).expect("svg");
            assert!(svg.starts_with("<svg"), "{}", figure.id);
            assert!(svg.contains(figure.title), "{}", figure.id);
        }
    }
}
