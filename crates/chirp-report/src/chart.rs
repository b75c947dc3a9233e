//! Line and bar charts, as SVG, in one look for every figure.
//!
//! Log axes are drawn by plotting log10 of the values on a plain axis and
//! labelling ticks with the values themselves: one coordinate type for
//! every chart keeps this module small.

use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;

/// The figure's size in pixels; SVG scales, this sets the proportions.
const SIZE: (u32, u32) = (760, 440);

/// Colour-blind-safe (Okabe and Ito), one per series, in order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// What a chart says around its data.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub log_x: bool,
    pub log_y: bool,
}

/// One line of a line chart: a name and its points, in x order.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

fn draw_error(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A chart builder in the one look: title, margins, room for tick labels.
fn framed<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(62);
    builder
}

/// Where a value sits on an axis: itself, or its log10.
fn place(v: f64, log: bool) -> f64 {
    if log { v.max(1e-9).log10() } else { v }
}

/// A tick's label: the value, in at most three significant digits.
fn tick(v: f64, log: bool) -> String {
    let v = if log { 10f64.powf(v) } else { v };
    let a = v.abs();
    if a >= 1_000_000.0 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 10_000.0 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1_000.0 {
        format!("{:.1}k", v / 1e3).replace(".0k", "k")
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The span an axis needs for `values`, with a little room around them.
fn span(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero && !log {
        lo = lo.min(0.0);
    }
    if (hi - lo).abs() < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.06;
    (if from_zero && !log { lo } else { lo - pad }, hi + pad)
}

/// A plain f64 axis with its ticks chosen by [`key_points`] (plotters'
/// own choice, on log10 values, lands on 251, 398, 631...).
struct Ticked {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, log: bool) -> Self {
        Self {
            range: (lo..hi).into(),
            ticks: key_points(lo, hi, log),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// Where an axis from `lo` to `hi` gets its ticks: 1, 2 and 5 times a
/// power of ten (on a log axis, at those values' log10), about five to ten
/// of them.
fn key_points(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log {
        let mut ticks = Vec::new();
        let mut decade = 10f64.powf(lo.floor());
        while decade.log10() <= hi {
            for m in [1.0, 2.0, 5.0] {
                let v = (m * decade).log10();
                if v >= lo && v <= hi {
                    ticks.push(v);
                }
            }
            decade *= 10.0;
        }
        return ticks;
    }
    let raw = (hi - lo) / 6.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    let mut ticks = Vec::new();
    let mut v = (lo / step).ceil() * step;
    while v <= hi + step * 1e-9 {
        ticks.push(v);
        v += step;
    }
    ticks
}

/// Draws `lines` (each with markers at its points) into an SVG at `path`.
pub fn line_chart(path: &Path, frame: Frame<'_>, lines: &[Line]) -> Result<(), ReportError> {
    let placed: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .map(|&(x, y)| (place(x, frame.log_x), place(y, frame.log_y)))
                .collect()
        })
        .collect();
    let (x0, x1) = span(placed.iter().flatten().map(|p| p.0), frame.log_x, false);
    let (y0, y1) = span(placed.iter().flatten().map(|p| p.1), frame.log_y, true);

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    let mut chart = framed(&root, frame.title)
        .build_cartesian_2d(
            Ticked::new(x0, x1, frame.log_x),
            Ticked::new(y0, y1, frame.log_y),
        )
        .map_err(|e| draw_error(path, e))?;
    let (log_x, log_y) = (frame.log_x, frame.log_y);
    let x_fmt = move |v: &f64| tick(*v, log_x);
    let y_fmt = move |v: &f64| tick(*v, log_y);
    chart
        .configure_mesh()
        .x_desc(frame.x_label)
        .y_desc(frame.y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| draw_error(path, e))?;
    for (i, (line, points)) in lines.iter().zip(&placed).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| draw_error(path, e))?
            .label(line.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| draw_error(path, e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(|e| draw_error(path, e))?;
    root.present().map_err(|e| draw_error(path, e))
}

/// Draws one bar per `(label, value)` into an SVG at `path`, the value
/// written above each bar.
pub fn bar_chart(path: &Path, frame: Frame<'_>, bars: &[(String, f64)]) -> Result<(), ReportError> {
    let n = bars.len() as u32;
    let top = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9) * 1.15;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    let mut chart = framed(&root, frame.title)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
        .map_err(|e| draw_error(path, e))?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let x_fmt = move |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let y_fmt = |v: &f64| tick(*v, false);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(frame.x_label)
        .y_desc(frame.y_label)
        .x_labels(bars.len().max(1))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| draw_error(path, e))?;
    chart
        .draw_series(
            Histogram::vertical(&chart)
                .style(PALETTE[0].filled())
                .margin(18)
                .data(bars.iter().enumerate().map(|(i, b)| (i as u32, b.1))),
        )
        .map_err(|e| draw_error(path, e))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Text::new(
                tick(b.1, false),
                (SegmentValue::CenterOf(i as u32), b.1 + top * 0.02),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))
        .map_err(|e| draw_error(path, e))?;
    root.present().map_err(|e| draw_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::tick;

    #[test]
    fn ticks_read_like_numbers() {
        assert_eq!(tick(3.0, true), "1k");
        assert_eq!(tick(2.0, true), "100");
        assert_eq!(tick(45_000.0, false), "45k");
        assert_eq!(tick(2_500.0, false), "2.5k");
        assert_eq!(tick(0.5, false), "0.50");
    }

    #[test]
    fn log_axes_tick_at_one_two_five() {
        let ticks: Vec<String> = super::key_points(2.0, 3.5, true)
            .into_iter()
            .map(|t| tick(t, true))
            .collect();
        assert_eq!(ticks, ["100", "200", "500", "1k", "2k"]);
        assert_eq!(super::key_points(0.0, 100.0, false).len(), 6);
    }
}
