//! Charts: the [`Series`] and [`Chart`] types, page layout, rendering to pixels and atomic PNG
//! output.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::axis::Axis;
use crate::canvas::{Canvas, Marker, Rect, Rgb};
use crate::font;
use crate::PlotError;

/// Series colours, in order of use; chosen for this crate to be tellable apart on white and
/// from one another, then reused (with a different marker) past the eighth series.
pub const PALETTE: [Rgb; 8] = [
    Rgb(31, 99, 180),  // blue
    Rgb(222, 110, 20), // orange
    Rgb(40, 150, 60),  // green
    Rgb(200, 36, 50),  // red
    Rgb(120, 78, 176), // violet
    Rgb(130, 86, 54),  // brown
    Rgb(0, 158, 168),  // teal
    Rgb(204, 60, 160), // magenta
];

/// Marker shapes, cycled alongside [`PALETTE`]; four shapes against eight colours means a
/// series repeats neither until the ninth.
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

const BACKGROUND: Rgb = Rgb(255, 255, 255);
const INK: Rgb = Rgb(34, 34, 34);
const FRAME: Rgb = Rgb(90, 90, 90);
const GRID_MAJOR: Rgb = Rgb(218, 218, 218);
const GRID_MINOR: Rgb = Rgb(238, 238, 238);
const LEGEND_BORDER: Rgb = Rgb(170, 170, 170);

/// Gap between the image edge and anything drawn, in pixels.
const MARGIN: i32 = 12;
/// Length of major / minor tick marks outside the frame.
const TICK_MAJOR: i32 = 5;
const TICK_MINOR: i32 = 3;
/// Gap between a tick mark and its label.
const TICK_GAP: i32 = 4;
/// Pixels of plot per labelled tick that the tick chooser aims for.
const X_TICK_SPACING: i32 = 100;
const Y_TICK_SPACING: i32 = 60;
const LINE_WIDTH: i32 = 2;
const MARKER_RADIUS: i32 = 4;
const ERROR_CAP: i32 = 4;
/// Least plot width per marker before markers are thinned out.
const MARKER_SPACING: i32 = 16;

/// One line on a chart: points joined in the order given, with optional error bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Name shown in the legend; series with an empty label are left out of it.
    pub label: String,
    /// `(x, y)` points. Points with a non-finite coordinate (or `x <= 0` on a log-x chart) are
    /// skipped and break the line, so a gap in the data shows as a gap.
    pub points: Vec<(f64, f64)>,
    /// Half-width of a vertical error bar at each point (`y ± error`). A missing, non-finite or
    /// zero entry draws no bar; a negative one is taken by magnitude.
    pub error: Option<Vec<f64>>,
}

impl Series {
    /// A series without error bars.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            error: None,
        }
    }

    /// Adds error-bar half-widths, one per point.
    pub fn with_error(mut self, error: Vec<f64>) -> Self {
        self.error = Some(error);
        self
    }

    /// The error-bar half-width at point `i`, if it should be drawn.
    fn error_at(&self, i: usize) -> Option<f64> {
        let e = self.error.as_ref()?.get(i)?.abs();
        (e.is_finite() && e > 0.0).then_some(e)
    }
}

/// A line chart: title, axis labels, any number of series, and the output size.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Text centred above the plot (drawn at twice the size of other text).
    pub title: String,
    /// Text under the x axis.
    pub x_label: String,
    /// Text beside the y axis, reading upwards.
    pub y_label: String,
    /// Whether the x axis is logarithmic (ticks at powers of ten).
    pub log_x: bool,
    /// The values y can take, if limited (0–100 for a percentage): error bars are cut at
    /// these bounds, so that a wide confidence interval from few samples cannot stretch the
    /// axis far past anything the data could be. A cut end has no cap.
    pub y_bounds: Option<(f64, f64)>,
    /// The data, drawn in order, so later series paint over earlier ones.
    pub series: Vec<Series>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
}

/// Where a chart's plot area sits in the image and how data maps onto it; see
/// [`Chart::layout`].
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The plot area, inside the frame, in pixels.
    pub plot: Rect,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
}

impl Layout {
    /// The horizontal pixel coordinate of data value `x` (the plot's left column at `x.min`, its
    /// right column at `x.max`); `None` where the axis cannot show `x`.
    pub fn x_px(&self, x: f64) -> Option<f64> {
        let f = self.x.fraction(x)?;
        Some(self.plot.x as f64 + f * (self.plot.w - 1) as f64)
    }

    /// The vertical pixel coordinate of data value `y` (the plot's bottom row at `y.min`, its
    /// top row at `y.max`); `None` where the axis cannot show `y`.
    pub fn y_px(&self, y: f64) -> Option<f64> {
        let f = self.y.fraction(y)?;
        Some((self.plot.bottom() - 1) as f64 - f * (self.plot.h - 1) as f64)
    }

    /// Pixel position of a data point, if both coordinates can be shown.
    fn point(&self, (x, y): (f64, f64)) -> Option<(f64, f64)> {
        Some((self.x_px(x)?, self.y_px(y)?))
    }
}

impl Chart {
    /// An empty 800 × 500 chart with linear axes.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            y_bounds: None,
            series: Vec::new(),
            width: 800,
            height: 500,
        }
    }

    /// Adds a series (builder style).
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Sets whether the x axis is logarithmic (builder style).
    pub fn with_log_x(mut self, log_x: bool) -> Self {
        self.log_x = log_x;
        self
    }

    /// Limits the values y can take, cutting error bars there (builder style); see
    /// [`Chart::y_bounds`].
    pub fn with_y_bounds(mut self, lo: f64, hi: f64) -> Self {
        self.y_bounds = Some((lo, hi));
        self
    }

    /// [`Chart::y_bounds`] if they are an interval (`lo < hi`) holding `low..=high`, else no
    /// bounds at all: data outside them are shown as they are.
    fn bounds_holding(&self, low: f64, high: f64) -> (f64, f64) {
        match self.y_bounds {
            Some((lo, hi)) if lo < hi && lo <= low && high <= hi => (lo, hi),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    /// The ends of the error bar `y ± e`, each cut at [`Chart::y_bounds`], with whether it
    /// was cut: `((low, cut), (high, cut))`.
    /// Bounds that are not an interval (`lo >= hi`, or NaN) cut nothing, and neither do they
    /// cut the bar of a point outside them, which would leave the bar apart from its point.
    fn bar_ends(&self, y: f64, e: f64) -> ((f64, bool), (f64, bool)) {
        let (lo, hi) = self.bounds_holding(y, y);
        let cut = |v: f64| (v.clamp(lo, hi), v < lo || v > hi);
        (cut(y - e), cut(y + e))
    }

    /// Sets the image size in pixels (builder style).
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// The font scale for labels (titles use twice this): 1 up to 800 × 500, growing with the
    /// image so that text in a large chart stays in proportion.
    pub fn text_scale(&self) -> u32 {
        (self.width / 800).min(self.height / 500).max(1)
    }

    /// Whether a point can be drawn: finite, and with `x > 0` on a log-x chart.
    fn usable(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (!self.log_x || x > 0.0)
    }

    /// The extent of the drawable data along x and y (error bars included), if there is any.
    fn data_ranges(&self) -> (Option<Range>, Option<Range>) {
        fn grow(range: &mut Option<Range>, v: f64) {
            if v.is_finite() {
                *range = Some(match *range {
                    None => (v, v),
                    Some((lo, hi)) => (lo.min(v), hi.max(v)),
                });
            }
        }
        let (mut xs, mut ys) = (None, None);
        for s in &self.series {
            for (i, &p) in s.points.iter().enumerate() {
                if !self.usable(p) {
                    continue;
                }
                grow(&mut xs, p.0);
                grow(&mut ys, p.1);
                if let Some(e) = s.error_at(i) {
                    let ((low, _), (high, _)) = self.bar_ends(p.1, e);
                    grow(&mut ys, low);
                    grow(&mut ys, high);
                }
            }
        }
        (xs, ys)
    }

    /// Computes where the plot area goes and the axes' ranges and ticks.
    ///
    /// Exposed so that callers (and tests) can find where a data value lands in the image.
    ///
    /// When the legend would hide data in every corner of the plot, the y axis is extended by
    /// the legend's height, upwards or, where [`Chart::y_bounds`] forbids that, downwards, so
    /// that the legend sits beside the data instead of on it.
    pub fn layout(&self) -> Layout {
        let (x_data, y_data) = self.data_ranges();
        let layout = self.layout_for(x_data, y_data);
        let (Some(legend), Some((lo, hi))) = (self.legend(&layout), y_data) else {
            return layout;
        };
        if legend.hidden == 0 || hi <= lo {
            return layout;
        }
        let band = legend.rect.h + 2 * (LEGEND_INSET + MARKER_RADIUS);
        let free = layout.plot.h - band;
        // A legend taller than two thirds of the plot stays where it is rather than squeeze
        // the data into a sliver.
        if free < layout.plot.h / 3 {
            return layout;
        }
        let room = (hi - lo) * band as f64 / free as f64;
        // Room past a bound the data cannot pass (100 %) would show impossible values: below
        // the data, then, if the lower bound allows, or nowhere.
        let (bound_lo, bound_hi) = self.bounds_holding(lo, hi);
        if hi + room <= bound_hi {
            self.layout_for(x_data, Some((lo, hi + room)))
        } else if lo - room >= bound_lo {
            self.layout_for(x_data, Some((lo - room, hi)))
        } else {
            layout
        }
    }

    /// [`Chart::layout`] for the given data ranges.
    fn layout_for(&self, x_data: Option<Range>, y_data: Option<Range>) -> Layout {
        let (w, h) = (self.width as i32, self.height as i32);
        let text_h = font::text_height(self.text_scale()) as i32;
        let title_h = font::text_height(TITLE_SCALE * self.text_scale()) as i32;

        // Vertical budget first: it fixes the plot height, which fixes the y ticks, whose label
        // widths then fix the left margin.
        let top = MARGIN
            + if self.title.is_empty() {
                text_h / 2
            } else {
                title_h + MARGIN
            };
        let bottom = MARGIN
            + TICK_MAJOR
            + TICK_GAP
            + text_h
            + if self.x_label.is_empty() {
                0
            } else {
                MARGIN / 2 + text_h
            };
        let plot_h = (h - top - bottom).max(1);
        let y = Axis::linear(y_data, (plot_h / Y_TICK_SPACING).max(2) as usize);

        let widest_y_label = y
            .major_ticks()
            .map(|(_, l)| font::text_width(l, self.text_scale()) as i32)
            .max()
            .unwrap_or(0);
        let left = MARGIN
            + if self.y_label.is_empty() {
                0
            } else {
                text_h + MARGIN / 2
            }
            + widest_y_label
            + TICK_GAP
            + TICK_MAJOR;
        // Room on the right for half of a tick label centred on the last column.
        let right = MARGIN + 2 * MARGIN;
        let plot_w = (w - left - right).max(1);

        // Fewer ticks until the labels fit side by side with a gap of two characters.
        let mut target = (plot_w / X_TICK_SPACING).max(2) as usize;
        let x = loop {
            let axis = if self.log_x {
                Axis::logarithmic(x_data, target)
            } else {
                Axis::linear(x_data, target)
            };
            if target <= 1 || x_labels_fit(&axis, plot_w, self.text_scale()) {
                break axis;
            }
            target -= 1;
        };
        Layout {
            plot: Rect {
                x: left,
                y: top,
                w: plot_w,
                h: plot_h,
            },
            x,
            y,
        }
    }

    /// Draws the chart and returns its pixels: `width × height` RGB triples (8 bits per
    /// channel), row by row from the top-left corner.
    pub fn render(&self) -> Vec<u8> {
        let mut canvas = Canvas::new(self.width, self.height, BACKGROUND);
        let layout = self.layout();
        let plot = layout.plot;

        self.draw_grid(&mut canvas, &layout);
        canvas.set_clip(Some(plot));
        let mut any = false;
        for (n, s) in self.series.iter().enumerate() {
            any |= self.draw_series(&mut canvas, &layout, s, n);
        }
        canvas.set_clip(None);
        canvas.stroke_rect(
            Rect {
                x: plot.x - 1,
                y: plot.y - 1,
                w: plot.w + 2,
                h: plot.h + 2,
            },
            FRAME,
        );
        self.draw_tick_labels(&mut canvas, &layout);
        if !any {
            let msg = "no data";
            let x = plot.x + (plot.w - font::text_width(msg, 2 * self.text_scale()) as i32) / 2;
            let y = plot.y + (plot.h - font::text_height(2 * self.text_scale()) as i32) / 2;
            canvas.text(x, y, msg, 2 * self.text_scale(), GRID_MAJOR);
        }
        self.draw_legend(&mut canvas, &layout);
        self.draw_labels(&mut canvas, &layout);
        canvas.into_pixels()
    }

    /// Renders the chart and writes it as a PNG file at `path`.
    ///
    /// The file is written to a temporary name in the same directory and renamed into place, so
    /// a reader (or a crash) never sees a half-written image and an existing file is replaced
    /// whole.
    ///
    /// # Errors
    ///
    /// [`PlotError::EmptyImage`] for a zero width or height, [`PlotError::InvalidPath`] for a
    /// path without a file name, [`PlotError::Encode`] if PNG encoding fails and
    /// [`PlotError::Io`] if the file cannot be written (for example, a missing or read-only
    /// directory).
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        if self.width == 0 || self.height == 0 {
            return Err(PlotError::EmptyImage {
                width: self.width,
                height: self.height,
            });
        }
        let bytes = self.encode_png()?;
        let name = path
            .file_name()
            .ok_or_else(|| PlotError::InvalidPath(path.to_path_buf()))?;
        let tmp = temp_path_beside(path, name);
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| PlotError::Io { path: p, source }
        };
        let result = (|| {
            let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
            file.write_all(&bytes).map_err(io_err(&tmp))?;
            // Flush to disk before the rename, so the new name never points at missing data.
            file.sync_all().map_err(io_err(&tmp))?;
            fs::rename(&tmp, path).map_err(io_err(path))
        })();
        if result.is_err() {
            // Best effort: the write already failed, and a leftover temp file is only clutter.
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// The rendered chart as PNG file contents.
    ///
    /// # Errors
    ///
    /// [`PlotError::EmptyImage`] for a zero width or height; [`PlotError::Encode`] if the
    /// encoder fails.
    pub fn encode_png(&self) -> Result<Vec<u8>, PlotError> {
        if self.width == 0 || self.height == 0 {
            return Err(PlotError::EmptyImage {
                width: self.width,
                height: self.height,
            });
        }
        let pixels = self.render();
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
        Ok(bytes)
    }

    /// Grid lines inside the plot and tick marks outside it.
    fn draw_grid(&self, canvas: &mut Canvas, layout: &Layout) {
        let plot = layout.plot;
        // Minor lines first, so that major ones win where they coincide.
        for major in [false, true] {
            let colour = if major { GRID_MAJOR } else { GRID_MINOR };
            let len = if major { TICK_MAJOR } else { TICK_MINOR };
            for t in layout.x.ticks.iter().filter(|t| t.label.is_some() == major) {
                if let Some(px) = layout.x_px(t.value) {
                    let px = px.round() as i32;
                    canvas.vline(px, plot.y, plot.bottom() - 1, colour);
                    canvas.vline(px, plot.bottom() + 1, plot.bottom() + len, FRAME);
                }
            }
            for t in layout.y.ticks.iter().filter(|t| t.label.is_some() == major) {
                if let Some(py) = layout.y_px(t.value) {
                    let py = py.round() as i32;
                    canvas.hline(plot.x, plot.right() - 1, py, colour);
                    canvas.hline(plot.x - 1 - len, plot.x - 2, py, FRAME);
                }
            }
        }
    }

    /// Numbers beside the major ticks.
    fn draw_tick_labels(&self, canvas: &mut Canvas, layout: &Layout) {
        let plot = layout.plot;
        // Labels centred under their ticks, nudged inwards where they would leave the image.
        for (value, label) in layout.x.major_ticks() {
            if let Some(px) = layout.x_px(value) {
                let tw = font::text_width(label, self.text_scale()) as i32;
                let x = (px.round() as i32 - tw / 2).clamp(0, (self.width as i32 - tw).max(0));
                canvas.text(
                    x,
                    plot.bottom() + 1 + TICK_MAJOR + TICK_GAP,
                    label,
                    self.text_scale(),
                    INK,
                );
            }
        }
        // Cap height is 7 of the 9 rows, so centring on 7 puts the digits level with the tick.
        let cap = 7 * self.text_scale() as i32;
        for (value, label) in layout.y.major_ticks() {
            if let Some(py) = layout.y_px(value) {
                let tw = font::text_width(label, self.text_scale()) as i32;
                let x = plot.x - 1 - TICK_MAJOR - TICK_GAP - tw;
                canvas.text(
                    x,
                    py.round() as i32 - cap / 2,
                    label,
                    self.text_scale(),
                    INK,
                );
            }
        }
    }

    /// Title above the plot and axis labels beside it.
    fn draw_labels(&self, canvas: &mut Canvas, layout: &Layout) {
        let plot = layout.plot;
        let text_h = font::text_height(self.text_scale()) as i32;
        if !self.title.is_empty() {
            // A title too wide for the image at twice the label size is drawn at the label
            // size, and one still too wide is shortened, rather than cut off at the edge.
            let room = (self.width as i32 - 2 * MARGIN).max(0) as u32;
            let mut scale = TITLE_SCALE * self.text_scale();
            if font::text_width(&self.title, scale) > room {
                scale = self.text_scale();
            }
            let title = fit_text(&self.title, scale, room);
            let tw = font::text_width(&title, scale) as i32;
            let x = (plot.x + (plot.w - tw) / 2).clamp(0, (self.width as i32 - tw).max(0));
            canvas.text(x, MARGIN, &title, scale, INK);
        }
        if !self.x_label.is_empty() {
            let tw = font::text_width(&self.x_label, self.text_scale()) as i32;
            let x = (plot.x + (plot.w - tw) / 2).clamp(0, (self.width as i32 - tw).max(0));
            let y = plot.bottom() + 1 + TICK_MAJOR + TICK_GAP + text_h + MARGIN / 2;
            canvas.text(x, y, &self.x_label, self.text_scale(), INK);
        }
        if !self.y_label.is_empty() {
            let tw = font::text_width(&self.y_label, self.text_scale()) as i32;
            // The run starts at its bottom end; keep its top end on the image where possible.
            let y = (plot.y + (plot.h + tw) / 2).max(tw.min(self.height as i32));
            canvas.text_vertical(MARGIN, y, &self.y_label, self.text_scale(), INK);
        }
    }

    /// Error bars, the line and the markers of one series; returns whether anything was drawn.
    fn draw_series(&self, canvas: &mut Canvas, layout: &Layout, s: &Series, n: usize) -> bool {
        let colour = PALETTE[n % PALETTE.len()];
        let marker = MARKERS[n % MARKERS.len()];
        // Everything is clipped in floating point first: a point far off the axis (or a huge
        // error bar) must not turn into a line billions of pixels long.
        let bounds = expand(layout.plot, MARKER_RADIUS + ERROR_CAP);
        let mut drawn = false;

        for (i, &p) in s.points.iter().enumerate() {
            let (Some(e), true) = (s.error_at(i), self.usable(p)) else {
                continue;
            };
            let ((low, low_cut), (high, high_cut)) = self.bar_ends(p.1, e);
            let (Some(px), Some(top), Some(bot)) =
                (layout.x_px(p.0), layout.y_px(high), layout.y_px(low))
            else {
                continue;
            };
            let Some(((x0, y0), (_, y1))) = clip_segment((px, top), (px, bot), bounds) else {
                continue;
            };
            let x = x0.round() as i32;
            canvas.vline(x, y0.round() as i32, y1.round() as i32, colour);
            canvas.vline(x + 1, y0.round() as i32, y1.round() as i32, colour);
            for (y, cut) in [(top, high_cut), (bot, low_cut)] {
                if !cut && y >= bounds.y as f64 && y <= bounds.bottom() as f64 {
                    canvas.hline(x - ERROR_CAP, x + ERROR_CAP + 1, y.round() as i32, colour);
                }
            }
        }

        let mut prev: Option<(f64, f64)> = None;
        for &p in &s.points {
            let here = if self.usable(p) {
                layout.point(p)
            } else {
                None
            };
            if let (Some(a), Some(b)) = (prev, here) {
                if let Some((a, b)) = clip_segment(a, b, bounds) {
                    canvas.line(round(a), round(b), LINE_WIDTH, colour);
                }
            }
            prev = here;
        }

        // Markers on every point of a long curve merge into a thick band that hides the line
        // (and its gaps); past one marker per `MARKER_SPACING` pixels of plot width, only every
        // `stride`-th point gets one — enough to tell the series' shapes apart.
        let usable = s.points.iter().filter(|&&p| self.usable(p)).count();
        let room = (layout.plot.w / MARKER_SPACING).max(1) as usize;
        let stride = usable.div_ceil(room).max(1);
        for &p in s.points.iter().filter(|&&p| self.usable(p)).step_by(stride) {
            let Some(q) = layout.point(p) else {
                continue;
            };
            if bounds.contains(q.0.round() as i32, q.1.round() as i32) {
                let (x, y) = round(q);
                canvas.marker(marker, x, y, MARKER_RADIUS, colour);
                drawn = true;
            }
        }
        drawn
    }

    /// Where the legend goes: its box in whichever corner of the plot hides the fewest data
    /// points (ties to the top right), with its labels shortened to fit; `None` when no series
    /// has a label.
    fn legend(&self, layout: &Layout) -> Option<Legend> {
        let entries: Vec<usize> = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.label.is_empty())
            .map(|(n, _)| n)
            .collect();
        if entries.is_empty() {
            return None;
        }
        let text_h = font::text_height(self.text_scale()) as i32;
        let row_h = text_h + 6;
        // Labels are shortened to leave the legend inside the plot.
        let room = (layout.plot.w - 2 * LEGEND_INSET - 3 * LEGEND_PAD - LEGEND_SAMPLE).max(0);
        let labels: Vec<String> = entries
            .iter()
            .map(|&n| fit_text(&self.series[n].label, self.text_scale(), room as u32))
            .collect();
        let widest = labels
            .iter()
            .map(|label| font::text_width(label, self.text_scale()) as i32)
            .max()
            .unwrap_or(0);
        let (w, h) = (
            LEGEND_PAD + LEGEND_SAMPLE + LEGEND_PAD + widest + LEGEND_PAD,
            LEGEND_PAD + row_h * entries.len() as i32 + 2,
        );
        let plot = layout.plot;
        let corners = [
            (plot.right() - LEGEND_INSET - w, plot.y + LEGEND_INSET),
            (plot.x + LEGEND_INSET, plot.y + LEGEND_INSET),
            (
                plot.right() - LEGEND_INSET - w,
                plot.bottom() - LEGEND_INSET - h,
            ),
            (plot.x + LEGEND_INSET, plot.bottom() - LEGEND_INSET - h),
        ];
        let hidden = |&(x, y): &(i32, i32)| {
            let r = expand(Rect { x, y, w, h }, MARKER_RADIUS);
            self.sample_points(layout)
                .filter(|&(px, py)| r.contains(px, py))
                .count()
        };
        // `min_by_key` keeps the first of equals, so ties go to the conventional top right.
        let ((x, y), hidden) = corners
            .iter()
            .map(|c| (*c, hidden(c)))
            .min_by_key(|&(_, n)| n)
            .expect("four corners");
        Some(Legend {
            rect: Rect { x, y, w, h },
            entries: entries.into_iter().zip(labels).collect(),
            row_h,
            hidden,
        })
    }

    /// Draws the boxed legend where [`Chart::legend`] puts it.
    fn draw_legend(&self, canvas: &mut Canvas, layout: &Layout) {
        let Some(legend) = self.legend(layout) else {
            return;
        };
        let Rect { x, y, .. } = legend.rect;
        canvas.fill_rect(legend.rect, BACKGROUND);
        canvas.stroke_rect(legend.rect, LEGEND_BORDER);
        for (row, (n, label)) in legend.entries.iter().enumerate() {
            let colour = PALETTE[n % PALETTE.len()];
            let top = y + LEGEND_PAD + row as i32 * legend.row_h;
            let mid = top + 7 * self.text_scale() as i32 / 2;
            let sample_end = x + LEGEND_PAD + LEGEND_SAMPLE;
            canvas.line((x + LEGEND_PAD, mid), (sample_end, mid), LINE_WIDTH, colour);
            let marker = MARKERS[n % MARKERS.len()];
            canvas.marker(
                marker,
                x + LEGEND_PAD + LEGEND_SAMPLE / 2,
                mid,
                MARKER_RADIUS,
                colour,
            );
            canvas.text(sample_end + LEGEND_PAD, top, label, self.text_scale(), INK);
        }
    }

    /// Pixel positions of every drawable point plus a few along each line, for choosing where
    /// the legend hides least.
    fn sample_points<'a>(&'a self, layout: &'a Layout) -> impl Iterator<Item = (i32, i32)> + 'a {
        self.series.iter().flat_map(move |s| {
            let px: Vec<Option<(f64, f64)>> = s
                .points
                .iter()
                .map(|&p| {
                    if self.usable(p) {
                        layout.point(p)
                    } else {
                        None
                    }
                })
                .collect();
            let mut out = Vec::new();
            for (i, p) in px.iter().enumerate() {
                let Some(a) = *p else { continue };
                out.push(round(a));
                // Error bars count too: a legend on them hides the spread.
                if let Some(e) = s.error_at(i) {
                    let y = s.points[i].1;
                    let ((low, _), (high, _)) = self.bar_ends(y, e);
                    if let (Some(top), Some(bottom)) = (layout.y_px(high), layout.y_px(low)) {
                        for k in 0..=8 {
                            let py = top + k as f64 / 8.0 * (bottom - top);
                            if py.abs() < 1e6 {
                                out.push(round((a.0, py)));
                            }
                        }
                    }
                }
                if let Some(Some(b)) = px.get(i + 1) {
                    for k in 1..8 {
                        let t = k as f64 / 8.0;
                        let q = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                        if q.0.abs() < 1e6 && q.1.abs() < 1e6 {
                            out.push(round(q));
                        }
                    }
                }
            }
            out.into_iter()
        })
    }
}

/// A closed interval `(low, high)` of data values.
type Range = (f64, f64);

/// Space inside the legend's border, in pixels.
const LEGEND_PAD: i32 = 8;
/// Length of the line sample before each legend label, in pixels.
const LEGEND_SAMPLE: i32 = 28;
/// Gap between the legend and the plot's frame, in pixels.
const LEGEND_INSET: i32 = 8;

/// A placed legend: its box, the index and shortened label of each labelled series, the
/// height of one row, and how many sampled data points the box covers.
struct Legend {
    rect: Rect,
    entries: Vec<(usize, String)>,
    row_h: i32,
    hidden: usize,
}

/// Titles are drawn at this multiple of the font's pixel size.
const TITLE_SCALE: u32 = 2;

/// Whether the major tick labels of `axis` fit across `plot_w` pixels without overlapping.
fn x_labels_fit(axis: &Axis, plot_w: i32, scale: u32) -> bool {
    let gap = 2.0 * (font::ADVANCE * scale) as f64;
    let span = |v: f64| axis.fraction(v).map(|f| f * (plot_w - 1) as f64);
    let mut prev_right: Option<f64> = None;
    for (value, label) in axis.major_ticks() {
        let Some(centre) = span(value) else { continue };
        let half = font::text_width(label, scale) as f64 / 2.0;
        if let Some(r) = prev_right {
            if centre - half < r + gap {
                return false;
            }
        }
        prev_right = Some(centre + half);
    }
    true
}

/// `r` grown by `by` pixels on every side.
fn expand(r: Rect, by: i32) -> Rect {
    Rect {
        x: r.x - by,
        y: r.y - by,
        w: r.w + 2 * by,
        h: r.h + 2 * by,
    }
}

fn round((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// Clips the segment `a`–`b` to `r` (Liang–Barsky); `None` if nothing of it is inside.
fn clip_segment(a: (f64, f64), b: (f64, f64), r: Rect) -> Option<((f64, f64), (f64, f64))> {
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return None;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let edges = [
        (-dx, a.0 - r.x as f64),
        (dx, (r.right() - 1) as f64 - a.0),
        (-dy, a.1 - r.y as f64),
        (dy, (r.bottom() - 1) as f64 - a.1),
    ];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// A name for the temporary file beside `path`: hidden, and unique per process and call so that
/// concurrent saves (threads or processes) never share one.
fn temp_path_beside(path: &Path, name: &std::ffi::OsStr) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
    path.with_file_name(tmp_name)
}

/// `text`, or as much of it as fits in `room` pixels at `scale` followed by "...".
fn fit_text(text: &str, scale: u32, room: u32) -> String {
    if font::text_width(text, scale) <= room {
        return text.to_string();
    }
    let mut kept: String = text.to_string();
    while !kept.is_empty() && font::text_width(&format!("{kept}..."), scale) > room {
        kept.pop();
    }
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_inside_and_drops_outside() {
        let r = Rect {
            x: 0,
            y: 0,
            w: 11,
            h: 11,
        };
        assert_eq!(
            clip_segment((1.0, 1.0), (5.0, 5.0), r),
            Some(((1.0, 1.0), (5.0, 5.0)))
        );
        assert_eq!(
            clip_segment((-10.0, 5.0), (20.0, 5.0), r),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip_segment((-10.0, -5.0), (-1.0, -1.0), r), None);
        let far = clip_segment((5.0, 5.0), (5.0, 1e300), r);
        assert_eq!(far, Some(((5.0, 5.0), (5.0, 10.0))));
        assert_eq!(clip_segment((f64::NAN, 0.0), (1.0, 1.0), r), None);
    }

    #[test]
    fn temp_names_are_hidden_siblings_and_unique() {
        let path = Path::new("/some/dir/chart.png");
        let name = path.file_name().unwrap_or_default();
        let (a, b) = (temp_path_beside(path, name), temp_path_beside(path, name));
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        assert!(a
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .starts_with(".chart.png.tmp-"));
    }

    #[test]
    fn a_title_too_wide_for_twice_the_label_size_is_drawn_whole_at_the_label_size() {
        // Ink pixels of the title band, and whether any touches the image's last column.
        let title_ink = |title: &str| {
            let chart = Chart::new(title, "x", "y").with_series(Series::new("s", vec![(0.0, 1.0)]));
            let (w, rgb) = (chart.width as usize, chart.render());
            let band = MARGIN as usize..MARGIN as usize + 20;
            let ink = |x: usize, y: usize| rgb[(y * w + x) * 3..][..3] == [INK.0, INK.1, INK.2];
            let count = band
                .clone()
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| ink(x, y))
                .count();
            let at_edge = band.clone().any(|y| ink(w - 1, y) || ink(0, y));
            (count, at_edge)
        };
        let long = "FrozenLake-v1, loss-nll_steps-100: agreement while fitting (2 seeds)";
        let (count, at_edge) = title_ink(long);
        assert!(
            count > 0 && !at_edge,
            "{count} ink pixels, at the edge: {at_edge}"
        );
        // Too wide even at the label size: shortened, still clear of the edges.
        let (very_long_count, at_edge) = title_ink(&long.repeat(3));
        assert!(very_long_count > 0 && !at_edge, "at the edge: {at_edge}");
        // A short title keeps the large size: about four times the ink per character.
        let short = "FrozenLake-v1";
        let (short_count, _) = title_ink(short);
        let per_char = |n: usize, len: usize| n as f64 / len as f64;
        assert!(per_char(short_count, short.len()) > 3.0 * per_char(count, long.len()));
    }

    #[test]
    fn a_legend_label_wider_than_the_plot_is_shortened_to_fit() {
        let label = "collection-student_states-2000_temperature-0.0123456789".repeat(3);
        let chart = Chart::new("t", "x", "y")
            .with_series(Series::new(label.as_str(), vec![(0.0, 1.0), (1.0, 2.0)]))
            .with_series(Series::new("teacher", vec![(0.5, 1.5)]));
        let (w, h, rgb) = (chart.width as usize, chart.height as usize, chart.render());
        let ink = |x: usize, y: usize| rgb[(y * w + x) * 3..][..3] == [INK.0, INK.1, INK.2];
        assert!(
            (0..h).all(|y| !ink(0, y) && !ink(w - 1, y)),
            "text reaches an edge"
        );
        assert_eq!(
            fit_text("abcdef", 1, font::text_width("abcdef", 1)),
            "abcdef"
        );
        let room = font::text_width("abc...", 1);
        assert_eq!(fit_text("abcdefgh", 1, room), "abc...");
    }

    #[test]
    fn a_legend_with_data_in_every_corner_gets_room_above_the_data() {
        // A flat optimum along the top and curves along the bottom leave no corner free: the
        // axis grows upwards so that the legend covers nothing.
        let xs = |y: f64| (0..=10).map(|i| (i as f64 * 1e4, y)).collect::<Vec<_>>();
        let chart = Chart::new("t", "x", "y")
            .with_series(Series::new("seed 0", xs(-100.0)))
            .with_series(Series::new("optimal", xs(-18.0)));
        let plain = chart.layout_for(chart.data_ranges().0, chart.data_ranges().1);
        assert!(chart.legend(&plain).expect("legend").hidden > 0);
        let layout = chart.layout();
        assert!(
            layout.y.max > plain.y.max,
            "{:?} vs {:?}",
            layout.y,
            plain.y
        );
        assert_eq!(chart.legend(&layout).expect("legend").hidden, 0);

        // A bounded chart gets its room below the data instead of above the bound...
        let percent = Chart::new("t", "x", "y")
            .with_series(Series::new("low", xs(60.0)))
            .with_series(Series::new("high", xs(99.0)))
            .with_y_bounds(0.0, 100.0);
        let layout = percent.layout();
        // (the axis keeps its usual few percent of padding past the data, no more)
        assert!(
            layout.y.max < 106.0 && layout.y.min < 55.0,
            "{:?}",
            layout.y
        );
        assert_eq!(percent.legend(&layout).expect("legend").hidden, 0);
        // ...and none where both bounds are reached.
        let full = Chart::new("t", "x", "y")
            .with_series(Series::new("low", xs(0.0)))
            .with_series(Series::new("high", xs(100.0)))
            .with_y_bounds(0.0, 100.0);
        let (x_data, y_data) = full.data_ranges();
        assert_eq!(full.layout(), full.layout_for(x_data, y_data));

        // Error bars count as data: a legend would hide these in every corner.
        let bars = Chart::new("t", "x", "y").with_series(
            Series::new("s", vec![(0.0, 50.0), (1.0, 50.0)]).with_error(vec![50.0, 50.0]),
        );
        let (x_data, y_data) = bars.data_ranges();
        let plain = bars.layout_for(x_data, y_data);
        assert!(bars.legend(&plain).expect("legend").hidden > 0);
        assert_eq!(bars.legend(&bars.layout()).expect("legend").hidden, 0);

        // With a free corner nothing moves.
        let free = Chart::new("t", "x", "y").with_series(Series::new("seed 0", xs(-100.0)));
        let (x_data, y_data) = free.data_ranges();
        assert_eq!(free.layout(), free.layout_for(x_data, y_data));
    }

    #[test]
    fn y_bounds_cut_error_bars_and_keep_the_axis_near_the_data() {
        // 90 % ± 60 from two seeds: without bounds the axis must reach 150; with 0–100 % it
        // stops at the bound, and the point itself is still shown.
        let series = Series::new("s", vec![(0.0, 50.0), (1.0, 90.0)]).with_error(vec![0.0, 60.0]);
        let chart = Chart::new("t", "x", "y").with_series(series);
        assert!(chart.layout().y.max >= 150.0);
        let bounded = chart.with_y_bounds(0.0, 100.0);
        let layout = bounded.layout();
        assert!(
            layout.y.max >= 100.0 && layout.y.max < 150.0,
            "{:?}",
            layout.y
        );
        assert!(layout.y.min <= 30.0, "{:?}", layout.y);
        assert_eq!(bounded.bar_ends(90.0, 60.0), ((30.0, false), (100.0, true)));
        assert_eq!(bounded.render().len(), 800 * 500 * 3);
        // A point outside its bounds keeps its whole bar, next to it.
        assert_eq!(
            bounded.bar_ends(120.0, 10.0),
            ((110.0, false), (130.0, false))
        );
        // Bounds that are no interval cut nothing, and do not panic.
        for (lo, hi) in [
            (100.0, 0.0),
            (50.0, 50.0),
            (f64::NAN, 100.0),
            (0.0, f64::NAN),
        ] {
            let odd = bounded.clone().with_y_bounds(lo, hi);
            assert_eq!(odd.bar_ends(90.0, 60.0), ((30.0, false), (150.0, false)));
            assert_eq!(odd.render().len(), 800 * 500 * 3);
        }
    }

    #[test]
    fn tiny_and_empty_charts_render_without_panicking() {
        for (w, h) in [(0, 0), (1, 1), (30, 20), (800, 3), (3, 500)] {
            let chart = Chart::new("A title wider than the image", "x", "y")
                .with_size(w, h)
                .with_series(Series::new("s", vec![(0.0, 1.0), (1.0, 2.0)]).with_error(vec![0.5]));
            assert_eq!(chart.render().len(), (w * h * 3) as usize);
        }
    }
}
