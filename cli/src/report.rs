//! The demo's HTML report: a spike raster of one inference and the
//! accuracy-versus-T curves, drawn as inline SVG with plotters.

use plotters::prelude::*;

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

const COLORS: [RGBColor; 4] =
    [RGBColor(90, 90, 90), RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44)];

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the report: {e}")
}

/// Draws the series labels in a framed box at `pos`.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(pos)
        .draw()
        .map_err(err)
}

/// The raster as an SVG document.
pub fn raster_svg(r: &Raster) -> Result<String, String> {
    let mut svg = String::new();
    let neurons = r.bands.iter().map(|b| b.1 + b.2).max().unwrap_or(1);
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&r.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5f64..r.steps as f64 - 0.5, -0.5f64..neurons as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time step")
            .y_desc("neuron (global id)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .disable_mesh()
            .draw()
            .map_err(err)?;
        for (k, (name, first, size)) in r.bands.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let range = *first..first + size;
            chart
                .draw_series(r.spikes.pairs().filter(|(_, n)| range.contains(n)).map(|(s, n)| {
                    Rectangle::new([(s as f64 - 0.4, n as f64 - 0.4), (s as f64 + 0.4, n as f64 + 0.4)], color.filled())
                }))
                .map_err(err)?
                .label(format!("{name} ({size})"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 8, y + 4)], color.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Accuracy versus T as an SVG document; `ann` is drawn as a flat line.
pub fn accuracy_svg(curves: &[Curve], ann: f64) -> Result<String, String> {
    let mut svg = String::new();
    let lo = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1)).fold(ann, f64::min);
    let lo = (lo - 2.0).floor().max(0.0);
    let tmax = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)).max().unwrap_or(64);
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("test accuracy vs time steps T", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(
                (4f64..(tmax as f64 * 1.5)).log_scale().with_key_points(vec![8.0, 16.0, 32.0, 64.0, 128.0]),
                lo..100.0f64,
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("T (log scale)")
            .y_desc("accuracy (%)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        let ts: Vec<u32> = curves.first().map(|c| c.points.iter().map(|p| p.0).collect()).unwrap_or_default();
        let (t0, t1) = (*ts.first().unwrap_or(&8) as f64, *ts.last().unwrap_or(&64) as f64);
        chart
            .draw_series(LineSeries::new([(t0, ann), (t1, ann)], BLACK.stroke_width(1)))
            .map_err(err)?
            .label(format!("ANN {ann:.2}%"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
        for (k, c) in curves.iter().enumerate() {
            let color = COLORS[(k + 1) % COLORS.len()];
            let pts: Vec<(f64, f64)> = c.points.iter().map(|&(t, a)| (t as f64, a)).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(c.label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Output potentials over the steps of one inference (the potential readout):
/// `trace[step][class]`.
pub fn potentials_svg(title: &str, trace: &[Vec<i32>]) -> Result<String, String> {
    let mut svg = String::new();
    let classes = trace.first().map_or(0, Vec::len);
    let (lo, hi) = trace.iter().flatten().fold((0i32, 1i32), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) as f64 * 0.05).max(1.0);
    {
        let root = SVGBackend::with_string(&mut svg, (760, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..trace.len().max(1) as f64, lo as f64 - pad..hi as f64 + pad)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time step (after)")
            .y_desc("potential")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        for c in 0..classes {
            let color = Palette99::pick(c).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    trace.iter().enumerate().map(|(s, v)| (s as f64 + 1.0, v[c] as f64)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("class {c}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML page: a title, a summary table (`rows` of label/value), and the SVGs.
pub fn html(title: &str, rows: &[(String, String)], svgs: &[&str]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:sans-serif;max-width:820px;margin:2em auto}}td{{padding:2px 12px 2px 0;vertical-align:top}}</style></head>\n<body><h1>{t}</h1>\n<table>\n",
        t = escape(title)
    );
    for (k, v) in rows {
        out.push_str(&format!("<tr><td><b>{}</b></td><td>{}</td></tr>\n", escape(k), escape(v)));
    }
    out.push_str("</table>\n");
    for s in svgs {
        out.push_str("<div>");
        out.push_str(s.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").trim());
        out.push_str("</div>\n");
    }
    out.push_str("</body></html>\n");
    out
}
