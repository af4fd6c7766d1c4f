//! Axis ranges and tick marks: padded data ranges, "nice" linear steps (1, 2 or 5 × 10^k) and
//! decade ticks for logarithmic axes, with labels short enough to read.

/// Values beyond this magnitude are clamped when computing a range, so that spans, steps and
/// tick counts stay finite; data this large is almost certainly a divergence, not a result.
const LIMIT: f64 = 1e300;

/// A tick mark on an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position in data units.
    pub value: f64,
    /// Text under (or beside) the tick; `None` marks a minor tick, drawn shorter and unlabelled.
    pub label: Option<String>,
}

/// One axis of a chart: its visible range in data units and its ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Data value at the start (left or bottom) of the axis.
    pub min: f64,
    /// Data value at the end (right or top) of the axis.
    pub max: f64,
    /// Whether positions are proportional to `log10(value)` rather than to `value`.
    pub log: bool,
    /// Ticks inside `[min, max]`, in increasing order.
    pub ticks: Vec<Tick>,
}

impl Axis {
    /// Where `value` falls along the axis: 0 at `min`, 1 at `max`, outside `[0, 1]` beyond them.
    /// `None` for values the axis cannot show: non-finite ones, and non-positive ones on a log
    /// axis.
    pub fn fraction(&self, value: f64) -> Option<f64> {
        if !value.is_finite() || (self.log && value <= 0.0) {
            return None;
        }
        let f = if self.log {
            (value.log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (value - self.min) / (self.max - self.min)
        };
        f.is_finite().then_some(f)
    }

    /// A linear axis covering data in `[lo, hi]` (either order; `None` for no data) with roughly
    /// `target` labelled ticks.
    ///
    /// The range is padded by 5 % on each side so markers do not sit on the frame; a range of a
    /// single value is widened first (by 10 % of the value, or by 1 around zero) so that a lone
    /// point or a constant series still gets a usable axis.
    pub fn linear(data: Option<(f64, f64)>, target: usize) -> Axis {
        let (min, max) = match data {
            None => (0.0, 1.0),
            Some((a, b)) => {
                let (lo, hi) = (a.min(b).clamp(-LIMIT, LIMIT), a.max(b).clamp(-LIMIT, LIMIT));
                let (lo, hi) = widen_if_degenerate(lo, hi);
                let pad = 0.05 * (hi - lo);
                (lo - pad, hi + pad)
            }
        };
        let scientific = use_scientific(min, max);
        // A short axis can fall between two ticks of the first step tried; finer steps until at
        // least two labels show (three tries take the step down by roughly a factor of ten).
        let mut ticks = Vec::new();
        for refine in 0..4 {
            let (mult, exp) = nice_step((max - min) / (target.max(1) << refine) as f64);
            let first = (min / scaled(1, exp) / mult as f64).ceil() as i64;
            let last = (max / scaled(1, exp) / mult as f64).floor() as i64;
            ticks = (first..=last)
                .map(|i| {
                    let value = scaled(i * mult, exp);
                    let label = Some(format_linear(value, exp, scientific));
                    Tick { value, label }
                })
                .collect();
            if ticks.len() >= 2 {
                break;
            }
        }
        Axis {
            min,
            max,
            log: false,
            ticks,
        }
    }

    /// A logarithmic axis covering positive data in `[lo, hi]`, with labelled ticks at powers of
    /// ten and unlabelled minor ticks at 2–9 × 10^k.
    ///
    /// Padding is 5 % of the span in decades; a single value gets one decade around it. When the
    /// range holds fewer than two powers of ten, the 2× and 5× ticks are labelled too, and a
    /// range too narrow for even those falls back to linear steps placed on the log scale.
    pub fn logarithmic(data: Option<(f64, f64)>, target: usize) -> Axis {
        let (a, b) = match data {
            Some((lo, hi)) if lo > 0.0 && hi > 0.0 => {
                let (lo, hi) = (lo.min(hi).min(LIMIT), lo.max(hi).min(LIMIT));
                let (a, b) = (lo.log10(), hi.log10());
                if b - a < 1e-9 {
                    (a - 0.5, b + 0.5)
                } else {
                    (a - 0.05 * (b - a), b + 0.05 * (b - a))
                }
            }
            _ => (0.0, 1.0),
        };
        let (min, max) = (10f64.powf(a), 10f64.powf(b));
        let in_range = |v: f64| v >= min * (1.0 - 1e-12) && v <= max * (1.0 + 1e-12);
        let (first, last) = (a.floor() as i32, b.ceil() as i32);

        // Label every `stride`-th decade so that many decades do not crowd the axis.
        let decades = (first..=last).filter(|&k| in_range(scaled(1, k))).count();
        let stride = if decades > target.max(1) {
            let (m, e) = nice_step(decades as f64 / target.max(1) as f64);
            (m as i32 * 10i32.pow(e.max(0) as u32)).max(1)
        } else {
            1
        };
        let labelled_125 = decades < 2;
        // One style per axis: "0.01 … 1000" when every decade shown is moderate, else "1e-2".
        let plain = first >= -4 && last <= 5;

        let mut ticks = Vec::new();
        for k in first..=last {
            for m in 1..=9i64 {
                let value = scaled(m, k);
                if !in_range(value) {
                    continue;
                }
                let labelled =
                    (m == 1 && k.rem_euclid(stride) == 0) || (labelled_125 && (m == 2 || m == 5));
                let label = labelled.then(|| format_log(m, k, plain));
                // Minor ticks would be a smear when decades are skipped; keep only decades.
                if stride > 1 && m != 1 {
                    continue;
                }
                ticks.push(Tick { value, label });
            }
        }
        if ticks.iter().filter(|t| t.label.is_some()).count() < 2 {
            // Narrower than 1–2–5: borrow linear steps, still mapped logarithmically.
            let linear = Axis::linear(Some((min, max)), target.clamp(2, 4));
            ticks = linear
                .ticks
                .into_iter()
                .filter(|t| in_range(t.value))
                .collect();
        }
        Axis {
            min,
            max,
            log: true,
            ticks,
        }
    }

    /// The labelled ticks only.
    pub fn major_ticks(&self) -> impl Iterator<Item = (f64, &str)> {
        self.ticks
            .iter()
            .filter_map(|t| t.label.as_deref().map(|l| (t.value, l)))
    }
}

/// Widens a range whose ends (nearly) coincide, so that it has a non-zero span.
fn widen_if_degenerate(lo: f64, hi: f64) -> (f64, f64) {
    let scale = lo.abs().max(hi.abs());
    if hi - lo > 1e-9 * scale {
        return (lo, hi);
    }
    let mid = lo / 2.0 + hi / 2.0;
    let half = if scale == 0.0 { 1.0 } else { 0.1 * scale };
    (mid - half, mid + half)
}

/// Rounds a raw step to the nearest (on a log scale) 1, 2 or 5 × 10^k, returned as `(m, k)`.
///
/// Nearest rather than next-larger keeps the tick count close to the target either way; the
/// callers check that labels still fit.
pub(crate) fn nice_step(raw: f64) -> (i64, i32) {
    if !(raw.is_finite() && raw > 0.0) {
        return (1, 0);
    }
    let mut exp = raw.log10().floor() as i32;
    let norm = raw / 10f64.powi(exp);
    // Boundaries are the geometric means of neighbouring steps: √2, √10, √50.
    let mult = if norm < 2f64.sqrt() {
        1
    } else if norm < 10f64.sqrt() {
        2
    } else if norm < 50f64.sqrt() {
        5
    } else {
        exp += 1;
        1
    };
    (mult, exp)
}

/// `m × 10^k`, computed so that it is the double nearest the decimal (0.1 × 3 is
/// 0.30000000000000004; 3 / 10 is 0.3), which keeps labels free of binary noise.
pub(crate) fn scaled(m: i64, k: i32) -> f64 {
    if k >= 0 {
        m as f64 * 10f64.powi(k)
    } else {
        m as f64 / 10f64.powi(-k)
    }
}

/// Whether labels on `[min, max]` read better as `2.5e6` than as digits.
fn use_scientific(min: f64, max: f64) -> bool {
    let m = min.abs().max(max.abs());
    m >= 1e6 || (m > 0.0 && m < 1e-3)
}

/// Formats a linear tick at a step of `? × 10^exp`: exactly as many decimals as the step needs.
fn format_linear(value: f64, exp: i32, scientific: bool) -> String {
    // Adding 0.0 turns -0.0 into 0.0, so the origin never reads "-0".
    let value = value + 0.0;
    if scientific && value == 0.0 {
        "0".to_string()
    } else if scientific {
        format!("{value:e}")
    } else {
        format!("{:.*}", (-exp).max(0) as usize, value)
    }
}

/// Formats `m × 10^k` for a log axis: plain digits (`0.02`, `500`) or `2e-2`, `5e2`.
fn format_log(m: i64, k: i32, plain: bool) -> String {
    if plain {
        format!("{}", scaled(m, k))
    } else {
        format!("{m}e{k}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.major_ticks().map(|(_, l)| l).collect()
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        assert_eq!(nice_step(0.9), (1, 0));
        assert_eq!(nice_step(1.0), (1, 0));
        assert_eq!(nice_step(1.3), (1, 0));
        assert_eq!(nice_step(1.5), (2, 0));
        assert_eq!(nice_step(3.0), (2, 0));
        assert_eq!(nice_step(4.0), (5, 0));
        assert_eq!(nice_step(7.5), (1, 1));
        assert_eq!(nice_step(0.023), (2, -2));
        assert_eq!(nice_step(4500.0), (5, 3));
        assert_eq!(nice_step(0.0), (1, 0));
        assert_eq!(nice_step(f64::NAN), (1, 0));
    }

    #[test]
    fn linear_ticks_are_round_and_cover_the_data() {
        let axis = Axis::linear(Some((0.0, 1.0)), 5);
        assert!(axis.min < 0.0 && axis.max > 1.0);
        assert_eq!(labels(&axis), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let axis = Axis::linear(Some((-130.0, 480.0)), 6);
        assert_eq!(
            labels(&axis),
            ["-100", "0", "100", "200", "300", "400", "500"]
        );
        let axis = Axis::linear(Some((2.7e-7, 3.3e-7)), 1);
        assert!(labels(&axis).len() >= 2, "{:?}", labels(&axis));
        let axis = Axis::linear(Some((0.1, 0.3)), 4);
        assert!(labels(&axis).contains(&"0.30"), "{:?}", labels(&axis));
    }

    #[test]
    fn linear_labels_switch_to_exponents_for_extreme_magnitudes() {
        let axis = Axis::linear(Some((0.0, 3e6)), 4);
        assert!(labels(&axis).contains(&"1e6"), "{:?}", labels(&axis));
        let axis = Axis::linear(Some((1e-5, 5e-5)), 4);
        assert!(
            labels(&axis).iter().all(|l| l.contains('e')),
            "{:?}",
            labels(&axis)
        );
    }

    #[test]
    fn degenerate_and_empty_ranges_are_widened() {
        let axis = Axis::linear(Some((5.0, 5.0)), 5);
        assert!(axis.min < 5.0 && axis.max > 5.0 && !axis.ticks.is_empty());
        let axis = Axis::linear(Some((0.0, 0.0)), 5);
        assert!(axis.min < 0.0 && axis.max > 0.0);
        assert_eq!(Axis::linear(None, 5).min, 0.0);
        let axis = Axis::linear(Some((-f64::MAX, f64::MAX)), 5);
        assert!(axis.min.is_finite() && axis.max.is_finite() && axis.ticks.len() < 20);
        let axis = Axis::logarithmic(Some((100.0, 100.0)), 5);
        assert!(axis.min < 100.0 && axis.max > 100.0 && axis.fraction(100.0).is_some());
    }

    #[test]
    fn log_ticks_sit_on_decades_with_minor_ticks_between() {
        let axis = Axis::logarithmic(Some((10.0, 1000.0)), 6);
        assert_eq!(labels(&axis), ["10", "100", "1000"]);
        let minors: Vec<f64> = axis
            .ticks
            .iter()
            .filter(|t| t.label.is_none())
            .map(|t| t.value)
            .collect();
        assert!(minors.contains(&20.0) && minors.contains(&900.0));
        let f = |v| axis.fraction(v).unwrap_or(f64::NAN);
        assert!(
            (f(100.0) - 0.5).abs() < 1e-12,
            "100 is midway between 10 and 1000"
        );
        assert!((f(10.0) - 0.1 / 2.2).abs() < 1e-12);
        assert_eq!(axis.fraction(0.0), None);
        assert_eq!(axis.fraction(-1.0), None);
    }

    #[test]
    fn log_axes_thin_out_many_decades_and_label_narrow_ranges() {
        let axis = Axis::logarithmic(Some((1e-8, 1e12)), 5);
        let l = labels(&axis);
        assert!(l.len() <= 6 && l.len() >= 2, "{l:?}");
        assert!(l.contains(&"1e-5") || l.contains(&"1e10"), "{l:?}");
        let axis = Axis::logarithmic(Some((1e3, 1e6)), 6);
        assert_eq!(
            labels(&axis),
            ["1e3", "1e4", "1e5", "1e6"],
            "one style per axis"
        );
        let axis = Axis::logarithmic(Some((20.0, 80.0)), 5);
        assert_eq!(labels(&axis), ["20", "50"]);
        let axis = Axis::logarithmic(Some((101.0, 104.0)), 5);
        assert!(labels(&axis).len() >= 2, "{:?}", labels(&axis));
    }

    #[test]
    fn labels_never_read_negative_zero_or_binary_noise() {
        let axis = Axis::linear(Some((-0.3, 0.3)), 6);
        for l in labels(&axis) {
            assert_ne!(l, "-0.0");
            assert!(l.len() <= 5, "{l}");
        }
    }
}
