//! The demo's HTML report: the spike raster and output potentials of one
//! inference, accuracy versus T, the deployed SNN's confusion matrix and the
//! clock cycles of each time step on the hardware, drawn as inline SVG with
//! plotters.
//!
//! Every plot goes through [`plot`]: its legend is drawn in a column of its
//! own to the right of the plot area (so no legend covers data), its colours
//! come from [`PALETTE`], and its root tag is rewritten to scale with the page.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One curve of the accuracy plot.
pub struct Curve {
    pub label: String,
    /// `(T, accuracy in %)`.
    pub points: Vec<(u32, f64)>,
}

/// The raster of one inference: `(step, neuron)` spikes and the population
/// bands `(name, first id, size)`.
pub struct Raster {
    pub title: String,
    pub steps: u32,
    pub spikes: spikeforge_net::SpikeTrain,
    pub bands: Vec<(String, u32, u32)>,
}

/// A figure of the page: a plot, or the sentence that stands in for a plot
/// whose data the run did not produce.
pub enum Figure {
    Plot(String),
    Missing { title: String, why: String },
}

/// Okabe and Ito's colour-blind-safe palette, in the order series take it
/// (yellow last: it is the faintest on white). Past its eight colours,
/// [`style`] tells series apart by marker and dash as well.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];
/// Reference lines and text that are not a series.
const INK: RGBColor = RGBColor(0, 0, 0);

/// Width of every plot in SVG units; the page scales it to its own width.
const WIDTH: u32 = 900;

/// Marker shapes, cycled independently of the colours so that every pair
/// (colour, shape) up to 40 series is unique.
#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}
const MARKERS: [Marker; 5] = [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond, Marker::Cross];

/// How series `k` is drawn.
#[derive(Clone, Copy)]
struct Style {
    color: RGBColor,
    marker: Marker,
    /// Series past the palette's length are also dashed.
    dashed: bool,
}

fn style(k: usize) -> Style {
    Style { color: PALETTE[k % PALETTE.len()], marker: MARKERS[k % MARKERS.len()], dashed: k >= PALETTE.len() }
}

/// A polygon in pixels around a point in any coordinate.
type MarkerElement<C, DB> = <EmptyElement<C, DB> as std::ops::Add<Polygon<(i32, i32)>>>::Output;

/// Marker `m` at `at` (any coordinate), about `r` pixels in radius. Every
/// shape is a filled polygon, so all markers are one element type.
fn marker<C, DB: DrawingBackend>(m: Marker, at: C, r: i32, color: RGBColor) -> MarkerElement<C, DB> {
    let rf = r as f64;
    let ring = |k: usize, n: usize, rad: f64, turn: f64| {
        let a = std::f64::consts::TAU * (k as f64 + turn) / n as f64;
        ((rad * a.sin()).round() as i32, (-rad * a.cos()).round() as i32)
    };
    let pts: Vec<(i32, i32)> = match m {
        Marker::Circle => (0..12).map(|k| ring(k, 12, rf, 0.0)).collect(),
        Marker::Square => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        Marker::Triangle => (0..3).map(|k| ring(k, 3, rf + 1.5, 0.0)).collect(),
        Marker::Diamond => (0..4).map(|k| ring(k, 4, rf + 1.5, 0.0)).collect(),
        // An X: a star of four thin arms.
        Marker::Cross => (0..8).map(|k| ring(k, 8, if k % 2 == 0 { rf + 1.5 } else { rf * 0.5 }, 0.5)).collect(),
    };
    EmptyElement::at(at) + Polygon::new(pts, color.filled())
}

/// What a legend entry shows before its label.
enum Swatch {
    /// A series' line and marker.
    Series(Style),
    /// A filled block (bars, raster populations, colour-scale steps).
    Block(RGBColor),
    /// A plain line.
    Line(RGBColor),
    /// No swatch: a note under the entries.
    Note,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the report: {e}")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws one plot of `height`: `title` across the top, then the plot area
/// (handed to `draw`) and, to its right, a legend column as wide as its
/// longest label, headed by `heading`. Returns the SVG made responsive.
fn plot(
    title: &str,
    height: u32,
    heading: &str,
    entries: &[(Swatch, String)],
    draw: impl FnOnce(&Area) -> Result<(), String>,
) -> Result<String, String> {
    let longest = entries.iter().map(|e| e.1.chars().count()).chain([heading.chars().count()]).max().unwrap_or(0);
    // About 7 units per character at 13 px, plus the swatch and margins.
    let legend_w = (longest as u32 * 7 + 56).clamp(100, WIDTH / 3);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(title, ("sans-serif", 16)).map_err(err)?;
        let (area, legend_area) = body.split_horizontally(WIDTH - legend_w);
        draw(&area)?;
        legend(&legend_area, heading, entries)?;
        root.present().map_err(err)?;
    }
    responsive(&svg, title, WIDTH - legend_w)
}

/// Draws the legend entries top down in their own area, from the level of
/// the plot area's top.
fn legend(area: &Area, heading: &str, entries: &[(Swatch, String)]) -> Result<(), String> {
    let pos = Pos::new(HPos::Left, VPos::Center);
    let text = ("sans-serif", 13).into_font().color(&INK).pos(pos);
    let (x, mut y) = (8, 20);
    if !heading.is_empty() {
        area.draw_text(heading, &("sans-serif", 13, FontStyle::Bold).into_font().color(&INK).pos(pos), (x, y))
            .map_err(err)?;
        y += 20;
    }
    for (swatch, label) in entries {
        match swatch {
            Swatch::Series(s) => {
                if s.dashed {
                    for k in 0..3 {
                        area.draw(&PathElement::new(vec![(x + k * 9, y), (x + k * 9 + 5, y)], s.color.stroke_width(2)))
                            .map_err(err)?;
                    }
                } else {
                    area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], s.color.stroke_width(2))).map_err(err)?;
                }
                area.draw(&marker(s.marker, (x + 12, y), 4, s.color)).map_err(err)?;
            }
            Swatch::Block(c) => {
                area.draw(&Rectangle::new([(x + 4, y - 6), (x + 20, y + 6)], c.filled())).map_err(err)?;
                area.draw(&Rectangle::new([(x + 4, y - 6), (x + 20, y + 6)], RGBColor(160, 160, 160))).map_err(err)?;
            }
            Swatch::Line(c) => {
                area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2))).map_err(err)?;
            }
            Swatch::Note => {}
        }
        let tx = if matches!(swatch, Swatch::Note) { x } else { x + 32 };
        area.draw_text(label, &text, (tx, y)).map_err(err)?;
        y += 20;
    }
    Ok(())
}

/// Makes plotters' fixed-size root tag scale with the page: the viewBox it
/// writes is kept, the fixed width and height are replaced by `width="100%"`
/// (the browser keeps the aspect ratio), and the title becomes the label
/// screen readers announce. `data-legend-x` says where the legend column
/// starts, so that a check can tell data from legend. The one place the
/// root tag is rewritten.
fn responsive(svg: &str, title: &str, legend_x: u32) -> Result<String, String> {
    let start = svg.find("<svg ").ok_or_else(|| err("no <svg> tag"))?;
    let end = start + svg[start..].find('>').ok_or_else(|| err("unterminated <svg> tag"))?;
    let tag = &svg[start..end];
    let attr = |name: &str| {
        let from = tag.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3)?;
        tag[from..].find('"').map(|len| &tag[from..from + len])
    };
    let view_box = attr("viewBox").ok_or_else(|| err("plotters wrote no viewBox"))?;
    let label = escape(title).replace('"', "&quot;");
    Ok(format!(
        "{}<svg viewBox=\"{view_box}\" width=\"100%\" preserveAspectRatio=\"xMidYMin meet\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{label}\" data-legend-x=\"{legend_x}\"{}",
        &svg[..start],
        &svg[end..]
    ))
}

/// Integer tick labels.
fn int(v: &f64) -> String {
    format!("{v:.0}")
}

/// The raster as an SVG document.
pub fn raster_svg(r: &Raster) -> Result<String, String> {
    let neurons = r.bands.iter().map(|b| b.1 + b.2).max().unwrap_or(1);
    let entries: Vec<_> = r
        .bands
        .iter()
        .enumerate()
        .map(|(k, b)| (Swatch::Block(style(k).color), format!("{} ({})", b.0, b.2)))
        .collect();
    plot(&r.title, 440, "population (neurons)", &entries, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..r.steps as f64 - 0.5, -0.5f64..neurons as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time step")
            .y_desc("neuron (global id)")
            .x_label_formatter(&int)
            .y_label_formatter(&int)
            .disable_mesh()
            .draw()
            .map_err(err)?;
        for (k, (_, first, size)) in r.bands.iter().enumerate() {
            let color = style(k).color;
            let range = *first..first + size;
            chart
                .draw_series(r.spikes.pairs().filter(|(_, n)| range.contains(n)).map(|(s, n)| {
                    Rectangle::new([(s as f64 - 0.4, n as f64 - 0.4), (s as f64 + 0.4, n as f64 + 0.4)], color.filled())
                }))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Accuracy versus T as an SVG document; `ann` is drawn as a flat line.
pub fn accuracy_svg(curves: &[Curve], ann: f64) -> Result<String, String> {
    let lo = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1)).fold(ann, f64::min);
    let lo = (lo - 2.0).floor().max(0.0);
    let tmax = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)).max().unwrap_or(64);
    let mut entries = vec![(Swatch::Line(INK), format!("ANN {ann:.2}%"))];
    entries.extend(curves.iter().enumerate().map(|(k, c)| (Swatch::Series(style(k)), c.label.clone())));
    plot("test accuracy vs time steps T (golden model)", 420, "network", &entries, |area| {
        let ts: Vec<u32> = curves.first().map(|c| c.points.iter().map(|p| p.0).collect()).unwrap_or_default();
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                // Ticks at the measured T only: plotters draws key points
                // outside the range too, into the legend column.
                (4f64..(tmax as f64 * 1.5)).log_scale().with_key_points(ts.iter().map(|&t| t as f64).collect()),
                lo..100.0f64,
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("T, time steps per inference (log scale)")
            .y_desc("accuracy (%)")
            .x_label_formatter(&int)
            .y_label_formatter(&int)
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        let (t0, t1) = (*ts.first().unwrap_or(&8) as f64, *ts.last().unwrap_or(&64) as f64);
        let pts = |c: &Curve| -> Vec<(f64, f64)> { c.points.iter().map(|&(t, a)| (t as f64, a)).collect() };
        for (k, c) in curves.iter().enumerate() {
            chart.draw_series(LineSeries::new(pts(c), style(k).color.stroke_width(2))).map_err(err)?;
        }
        // The ANN's line over the curves, which often reach it.
        chart.draw_series(LineSeries::new([(t0, ann), (t1, ann)], INK.stroke_width(1))).map_err(err)?;
        for (k, c) in curves.iter().enumerate() {
            let s = style(k);
            // Earlier curves get larger markers, so that equal points stay visible underneath.
            let r = 3 + (curves.len() - k) as i32;
            chart.draw_series(pts(c).into_iter().map(|p| marker(s.marker, p, r, s.color))).map_err(err)?;
        }
        Ok(())
    })
}

/// Accuracy against the mean steps run per inference: early exit's sweep of
/// margins (`anytime`, `(mean steps, %)`) beside fixed-length inference
/// (`fixed`, `(T, %)`) and the ANN.
pub fn anytime_svg(title: &str, anytime: &[(f64, f64)], fixed: &[(u32, f64)], ann: f64) -> Result<String, String> {
    let ys = anytime.iter().map(|p| p.1).chain(fixed.iter().map(|p| p.1));
    let lo = (ys.fold(ann, f64::min) - 2.0).floor().max(0.0);
    let xmax = anytime.iter().map(|p| p.0).chain(fixed.iter().map(|p| p.0 as f64)).fold(1.0, f64::max);
    let entries = vec![
        (Swatch::Line(INK), format!("ANN {ann:.2}%")),
        (Swatch::Series(style(0)), "early exit (margin sweep)".to_string()),
        (Swatch::Series(style(1)), "fixed T".to_string()),
    ];
    plot(title, 420, "inference", &entries, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..xmax * 1.05, lo..100.0f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("mean time steps per inference")
            .y_desc("accuracy (%)")
            .x_label_formatter(&int)
            .y_label_formatter(&int)
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        chart.draw_series(LineSeries::new([(0.0, ann), (xmax, ann)], INK.stroke_width(1))).map_err(err)?;
        let fixed: Vec<(f64, f64)> = fixed.iter().map(|&(t, a)| (t as f64, a)).collect();
        for (k, pts) in [anytime.to_vec(), fixed].into_iter().enumerate() {
            let s = style(k);
            chart.draw_series(LineSeries::new(pts.clone(), s.color.stroke_width(2))).map_err(err)?;
            chart.draw_series(pts.into_iter().map(|p| marker(s.marker, p, 4, s.color))).map_err(err)?;
        }
        Ok(())
    })
}

/// Output potentials over the steps of one inference (the potential readout):
/// `trace[step][class]`; the legend marks `predicted`.
pub fn potentials_svg(title: &str, trace: &[Vec<i32>], predicted: usize) -> Result<String, String> {
    let classes = trace.first().map_or(0, Vec::len);
    let (lo, hi) = trace.iter().flatten().fold((0i32, 1i32), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) as f64 * 0.05).max(1.0);
    let entries: Vec<_> = (0..classes)
        .map(|c| (Swatch::Series(style(c)), if c == predicted { format!("{c} (predicted)") } else { c.to_string() }))
        .collect();
    plot(title, 400, "class", &entries, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..trace.len().max(1) as f64 + 0.5, lo as f64 - pad..hi as f64 + pad)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time step (potential after it)")
            .y_desc("membrane potential (integer units)")
            .x_label_formatter(&int)
            .y_label_formatter(&int)
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        for c in 0..classes {
            let s = style(c);
            let pts: Vec<(f64, f64)> = trace.iter().enumerate().map(|(k, v)| (k as f64 + 1.0, v[c] as f64)).collect();
            if s.dashed {
                chart.draw_series([DashedPathElement::new(pts.clone(), 6, 4, s.color.stroke_width(2))]).map_err(err)?;
            } else {
                chart.draw_series(LineSeries::new(pts.clone(), s.color.stroke_width(2))).map_err(err)?;
            }
            // Markers on every fourth step, staggered by class so that they
            // do not pile up where the lines meet.
            chart
                .draw_series(pts.iter().skip(c % 4).step_by(4).map(|&p| marker(s.marker, p, 3, s.color)))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// The colour of a confusion-matrix cell holding `f` (0..=1) of the largest
/// count: white to the palette's blue, one hue, so lightness alone carries it.
fn shade(f: f64) -> RGBColor {
    let b = PALETTE[0];
    let mix = |w: u8| (255.0 + (w as f64 - 255.0) * f).round() as u8;
    RGBColor(mix(b.0), mix(b.1), mix(b.2))
}

/// The confusion matrix of `pairs` (true class, predicted class) over
/// `classes` classes: one row per true class, counts written in the cells.
pub fn confusion_svg(title: &str, classes: usize, pairs: &[(usize, usize)]) -> Result<String, String> {
    let n = classes.max(1);
    let mut counts = vec![vec![0usize; n]; n];
    for &(t, p) in pairs {
        counts[t][p] += 1;
    }
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    // The colour scale's steps: every count when there are few, else five.
    let steps: Vec<usize> = if max <= 8 { (0..=max).collect() } else { (0..=4).map(|k| k * max / 4).collect() };
    let mut entries: Vec<_> =
        steps.iter().map(|&v| (Swatch::Block(shade(v as f64 / max as f64)), v.to_string())).collect();
    let correct = pairs.iter().filter(|p| p.0 == p.1).count();
    entries.push((Swatch::Note, String::new()));
    entries.push((Swatch::Note, format!("{correct} of {} correct", pairs.len())));
    plot(title, 500, "test images", &entries, |area| {
        // A square grid: the spare width becomes margin on both sides.
        let (w, h) = area.dim_in_pixel();
        let side = h as i32 - 20 - 48;
        let spare = ((w as i32 - 60 - side) / 2).max(10);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .margin_left(spare)
            .margin_right(spare)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, -0.5f64..n as f64 - 0.5)
            .map_err(err)?;
        // Row 0 at the top: y = n - 1 - true class.
        let flip = n as f64 - 1.0;
        chart
            .configure_mesh()
            .x_desc("predicted class")
            .y_desc("true class (label)")
            .x_labels(n)
            .y_labels(n)
            .x_label_formatter(&int)
            .y_label_formatter(&|v| format!("{:.0}", flip - v))
            .disable_mesh()
            .draw()
            .map_err(err)?;
        let cells = (0..n).flat_map(|t| (0..n).map(move |p| (t, p)));
        let counts = &counts;
        chart
            .draw_series(cells.clone().map(|(t, p)| {
                let (x, y) = (p as f64, flip - t as f64);
                Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    shade(counts[t][p] as f64 / max as f64).filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(cells.clone().map(|(t, p)| {
                let (x, y) = (p as f64, flip - t as f64);
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], RGBColor(210, 210, 210))
            }))
            .map_err(err)?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        chart
            .draw_series(cells.filter(|&(t, p)| counts[t][p] > 0).map(|(t, p)| {
                let v = counts[t][p];
                // Dark cells take white text.
                let ink = if v as f64 / max as f64 > 0.55 { WHITE } else { INK };
                Text::new(
                    v.to_string(),
                    (p as f64, flip - t as f64),
                    ("sans-serif", 14).into_font().color(&ink).pos(centre),
                )
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Clock cycles of each time step over the co-simulated inferences
/// (`runs[inference][step]`): the mean as bars, the range as whiskers.
pub fn cycles_svg(title: &str, runs: &[Vec<u64>], clock_mhz: f64) -> Result<String, String> {
    let steps = runs.iter().map(Vec::len).max().unwrap_or(0);
    let per_step: Vec<(f64, u64, u64)> = (0..steps)
        .map(|s| {
            let v: Vec<u64> = runs.iter().filter_map(|r| r.get(s).copied()).collect();
            let mean = v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
            (mean, v.iter().copied().min().unwrap_or(0), v.iter().copied().max().unwrap_or(0))
        })
        .collect();
    let top = per_step.iter().map(|p| p.2).max().unwrap_or(1).max(1) as f64 * 1.1;
    let (bar, range) = (style(0).color, INK);
    let entries = [
        (Swatch::Block(bar), format!("mean of {} inferences", runs.len())),
        (Swatch::Line(range), "lowest to highest".to_string()),
        (Swatch::Note, String::new()),
        (Swatch::Note, format!("1 cycle = {:.1} ns", 1e3 / clock_mhz)),
        (Swatch::Note, format!("at {clock_mhz} MHz")),
    ];
    plot(title, 400, "cycles per step", &entries, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5f64..steps as f64 + 0.5, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time step")
            .y_desc("clock cycles (inputs + update)")
            .x_label_formatter(&int)
            .y_label_formatter(&int)
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(per_step.iter().enumerate().map(|(s, p)| {
                let x = s as f64 + 1.0;
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, p.0)], bar.filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(per_step.iter().enumerate().filter(|(_, p)| p.1 != p.2).map(|(s, p)| {
                let x = s as f64 + 1.0;
                PathElement::new(vec![(x, p.1 as f64), (x, p.2 as f64)], range.stroke_width(2))
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML page: a title, a summary table (`rows` of label/value), and the figures.
pub fn html(title: &str, rows: &[(String, String)], figures: &[Figure]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\n<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em}}td{{padding:2px 12px 2px 0;vertical-align:top}}figure{{margin:1.5em 0}}svg{{display:block;width:100%;height:auto}}</style></head>\n<body><h1>{t}</h1>\n<table>\n",
        t = escape(title)
    );
    for (k, v) in rows {
        out.push_str(&format!("<tr><td><b>{}</b></td><td>{}</td></tr>\n", escape(k), escape(v)));
    }
    out.push_str("</table>\n");
    for f in figures {
        out.push_str("<figure>");
        match f {
            Figure::Plot(s) => out.push_str(s.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").trim()),
            Figure::Missing { title, why } => {
                out.push_str(&format!("<p><b>{}</b>: {}</p>", escape(title), escape(why)))
            }
        }
        out.push_str("</figure>\n");
    }
    out.push_str("</body></html>\n");
    out
}
