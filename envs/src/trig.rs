//! Sine and cosine with the platform libm's exact bits, computed quickly for small angles.
//!
//! CartPole's dynamics need `sin θ` and `cos θ` on every step, and Gymnasium takes them from
//! the C library (`math.sin`, `math.cos`). To match Gymnasium bit for bit retort must return
//! the very same doubles, yet glibc's `sincos` is about half the cost of a whole CartPole step.
//! The pole angle never leaves ±0.21 rad before an episode ends, where both functions are
//! short Taylor series, so [`sin_cos`] evaluates those itself and calls libm only when it cannot
//! be sure of producing libm's result.
//!
//! # Why the fast path returns libm's bits
//!
//! For `2^-26 ≤ |x| ≤ 0.25` the fast path computes each function as an unevaluated sum
//! `r + e`, with `r` rounded to `f64` and `e` its exact rounding error (Fast2Sum), whose
//! distance from the true value is bounded by the analysis below. If `r + e` lies well inside
//! the rounding interval of `r` (`|e|` smaller than half an ulp minus a margin), then:
//!
//! 1. `r` is the correctly rounded value, because the true value is within half an ulp of it;
//! 2. libm returns `r` too, because the true value is farther than half an ulp plus the margin
//!    from every other double, and libm is never that far off.
//!
//! Otherwise (a true value near the midpoint of two doubles: for CartPole's angles, one of the
//! two in about one call in ten) the fast path gives up and libm is called. The margin, in
//! ulps, is the fast path's own error bound plus how far libm may exceed half an ulp:
//!
//! - **sin**: `r = x + (x·x²)·P(x²)`, `P` the Taylor series of `(sin x − x)/x³` to
//!   the `x¹³` term (the first omitted one is at most 3·10⁻⁵ ulp). About five roundings
//!   reach `(x·x²)·P`, which is at most `x³/6`, so the fast path is within `1.1·x²` ulp.
//! - **cos**: `r = 1 − (x²/2 − x⁴·Q(x²))`: rounding `x²` and the bracket each cost at
//!   most `x²/2` ulp, and `x⁴·Q ≤ x⁴/24` adds almost nothing, so the fast path is within
//!   `1.05·x²` ulp.
//!
//! How far libm may exceed half an ulp is measured, not proven. glibc picks one of several
//! compiled variants of `sin` and `cos` by the processor's features when a program starts
//! (on x86-64: FMA with AVX2, FMA4, AVX, SSE2), and they differ in the last bit now and then.
//! Its source states at most 0.548 ulp for all angles below 0.855 rad, and 0.501 and 0.518 for
//! the two methods it uses below and from 0.126 rad; the variants measured exceed the last two
//! figures. Largest errors found against 200-bit references, in ulps:
//!
//! | | glibc states | FMA with AVX2 | AVX (SSE2 the same) | the margin allows |
//! |---|---|---|---|---|
//! | sin, below 0.126 rad | 0.501 | 0.5064 | 0.5064 | `0.503 + x²` (≥ 0.508 from 0.07) |
//! | sin, from 0.126 rad | 0.518 | 0.5153 | 0.5231 | 0.548 |
//! | cos | 0.513 | 0.5009 | 0.5011 | 0.513 |
//!
//! (1.5 million random angles in ±0.25 for each variant, and 20 to 100 million more in
//! stretches where the errors were largest; the FMA4 variant, for some older AMD processors,
//! was not measured.) From 0.126 rad the margin covers glibc's overall 0.548; below it, where
//! glibc's series errs the way ours does, growing with `x²`, the allowance follows that growth
//! at more than twice the largest error found. Every margin also keeps [`SLACK`] in reserve.
//!
//! Results next to a power of two are always left to libm: the spacing of doubles halves below
//! a power of two, which the symmetric test above does not account for.
//!
//! The fast path is used only with glibc on x86-64, where these measurements were made; other
//! platforms get their libm's `sin` and `cos` every time. The unit tests compare the fast path
//! with libm on ten million angles, once with the variant glibc chose for this processor and
//! once with the AVX variant, and pin the angles with the largest errors found.

/// Angles at least this large take the fast path (below it glibc returns `sin x = x`).
const FAST_MIN: f64 = 1.0 / 67_108_864.0; // 2^-26
/// Angles at most this large take the fast path; CartPole ends episodes at 0.2095 rad.
const FAST_MAX: f64 = 0.25;
/// Rounding in computing the thresholds themselves, and room to spare, in ulps.
const SLACK: f64 = 0.005;
/// glibc's sine changes method at this angle (see the module docs).
const SIN_METHOD_SWITCH: f64 = 0.126;
/// How far glibc's sine may exceed half an ulp from [`SIN_METHOD_SWITCH`] on, in ulps.
const SIN_LIBM_EXCESS: f64 = 0.048;
/// Below [`SIN_METHOD_SWITCH`]: glibc's sine may exceed half an ulp by this plus `x²`.
const SIN_LIBM_EXCESS_SMALL: f64 = 0.003;
/// How far glibc's cosine may exceed half an ulp, in ulps.
const COS_LIBM_EXCESS: f64 = 0.013;
/// Where the margins were measured: glibc on x86-64. Elsewhere libm answers every call.
const FAST_PATH: bool = cfg!(all(
    target_os = "linux",
    target_env = "gnu",
    target_arch = "x86_64"
));

/// `(sin x, cos x)` when the fast path decides both, bit-identical to the platform libm's
/// `sin(x)` and `cos(x)`; `None` when [`sin_cos`] would need to call libm. With glibc it never
/// calls anything, so a caller can keep libm off its hot path (elsewhere it is libm's own
/// answer every time).
#[inline(always)]
pub fn try_sin_cos(x: f64) -> Option<(f64, f64)> {
    if FAST_PATH {
        match fast_sin_cos(x) {
            (Some(sin), Some(cos)) => Some((sin, cos)),
            _ => None,
        }
    } else {
        Some((x.sin(), x.cos()))
    }
}

/// `(sin x, cos x)`, bit-identical to the platform libm's `sin(x)` and `cos(x)`.
#[inline(always)]
pub fn sin_cos(x: f64) -> (f64, f64) {
    if FAST_PATH {
        match fast_sin_cos(x) {
            (Some(sin), Some(cos)) => (sin, cos),
            (sin, cos) => (
                sin.unwrap_or_else(|| libm_sin(x)),
                cos.unwrap_or_else(|| libm_cos(x)),
            ),
        }
    } else {
        (x.sin(), x.cos())
    }
}

// libm for whichever of the two the fast path left undecided, each kept out of line and cold:
// the compiler treats `sin` and `cos` as pure and would otherwise call both on every path and
// discard the results, and the calls' register spills would weigh on the fast path.

#[cold]
#[inline(never)]
fn libm_sin(x: f64) -> f64 {
    x.sin()
}

#[cold]
#[inline(never)]
fn libm_cos(x: f64) -> f64 {
    x.cos()
}

/// Taylor coefficients of `(sin x − x)/x³` in powers of `x²`: `−1/3!, 1/5!, …, 1/13!`.
const SIN_P: [f64; 6] = [
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5_040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
];
/// Taylor coefficients of `(cos x − 1 + x²/2)/x⁴` in powers of `x²`:
/// `1/4!, −1/6!, …, −1/14!`.
const COS_Q: [f64; 6] = [
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
];

/// The fast path: each function's correctly rounded value, or `None` where the rounding cannot
/// be decided with the margin (or `x` is outside `2^-26 ≤ |x| ≤ 0.25`, NaN included).
#[inline(always)]
fn fast_sin_cos(x: f64) -> (Option<f64>, Option<f64>) {
    let a = x.abs();
    if !(FAST_MIN..=FAST_MAX).contains(&a) {
        return (None, None);
    }
    let y = x * x;
    // Both series by Horner's rule, interleaved so that their two chains of dependent
    // operations run side by side.
    let mut pq = [SIN_P[5], COS_Q[5]];
    for i in (0..5).rev() {
        pq = [pq[0] * y + SIN_P[i], pq[1] * y + COS_Q[i]];
    }
    let [p, q] = pq;

    let sin_tail = (x * y) * p;
    let sin = x + sin_tail;
    // Exact, as |x| ≥ |sin_tail|.
    let sin_err = sin_tail - (sin - x);
    // Own error 1.1·x², and libm's excess (see the module docs).
    let libm_excess = if a < SIN_METHOD_SWITCH {
        y + SIN_LIBM_EXCESS_SMALL
    } else {
        SIN_LIBM_EXCESS
    };
    let sin_margin = 1.1 * y + libm_excess + SLACK;

    let cos_tail = 0.5 * y - (y * y) * q;
    let cos = 1.0 - cos_tail;
    // Exact, as 1 ≥ cos_tail and 1 − cos is exact.
    let cos_err = (1.0 - cos) - cos_tail;
    // Own error 1.05·x², and libm's excess.
    let cos_margin = 1.05 * y + (COS_LIBM_EXCESS + SLACK);
    // cos x ≥ 0.968 here, where doubles are 2^-53 apart; the two doubles just below one, and
    // one itself, are left to libm, as next to a power of two.
    const COS_ULP: f64 = f64::EPSILON / 2.0;
    let cos_decided = cos < 1.0 - 2.0 * COS_ULP && cos_err.abs() < (0.5 - cos_margin) * COS_ULP;

    (
        decided(sin, sin_err, sin_margin),
        cos_decided.then_some(cos),
    )
}

/// `r` if `r + err` lies more than `margin` ulps inside `r`'s rounding interval and `r` is
/// neither a power of two nor the largest double below a power of two (mantissa bits all
/// zeros or all ones).
#[inline(always)]
fn decided(r: f64, err: f64, margin: f64) -> Option<f64> {
    const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
    const MANTISSA: u64 = 0x000f_ffff_ffff_ffff;
    let bits = r.to_bits();
    // 2^exponent(r) · 2^-52 is r's ulp.
    let ulp = f64::from_bits(bits & EXPONENT) * f64::EPSILON;
    // Mantissa bits neither all zeros nor all ones: (m − 1) wraps for m = 0.
    let inside_binade = (bits & MANTISSA).wrapping_sub(1) < MANTISSA - 1;
    (inside_binade && err.abs() < (0.5 - margin) * ulp).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform angles in ±`bound` from a fixed SplitMix64 stream.
    fn angles(n: usize, bound: f64, seed: u64) -> impl Iterator<Item = f64> {
        let mut z = seed;
        (0..n).map(move |_| {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut v = z;
            v = (v ^ (v >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            v = (v ^ (v >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            v ^= v >> 31;
            ((v >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * bound
        })
    }

    fn assert_same_bits(x: f64) {
        // black_box keeps the compiler from computing libm's answer for a constant at build
        // time, on the build machine's libm.
        let x = std::hint::black_box(x);
        let (sin, cos) = sin_cos(x);
        assert_eq!(sin.to_bits(), x.sin().to_bits(), "sin({x:e}) = {sin:e}");
        assert_eq!(cos.to_bits(), x.cos().to_bits(), "cos({x:e}) = {cos:e}");
    }

    #[test]
    fn ten_million_angles_give_libms_bits() {
        // Angles where glibc's sine was found furthest from the true value (0.5231, 0.5229 and
        // 0.5229 ulp with the AVX variant from 0.126 rad, 0.5064 with every variant below it),
        // where a margin too small would fail first.
        for bits in [
            0x3fc0_b457_bdf2_63fc_u64,
            0x3fc3_96b1_d32a_319c,
            0xbfc0_5478_2fff_ffba,
            0xbfbf_84b4_0a8f_2926,
        ] {
            // black_box keeps the compiler from computing the sine of a constant at build time.
            let x = std::hint::black_box(f64::from_bits(bits));
            assert_eq!(sin_cos(x).0.to_bits(), x.sin().to_bits(), "sin({x:e})");
        }
        // Every decided value is compared, so a margin too small for this libm shows up here.
        let mut decided_sin = 0;
        let mut decided_cos = 0;
        let n = 10_000_000;
        for x in angles(n, 0.25, 1) {
            let (sin, cos) = fast_sin_cos(x);
            if let Some(sin) = sin {
                assert_eq!(sin.to_bits(), x.sin().to_bits(), "sin({x:e})");
                decided_sin += 1;
            }
            if let Some(cos) = cos {
                assert_eq!(cos.to_bits(), x.cos().to_bits(), "cos({x:e})");
                decided_cos += 1;
            }
        }
        // Expected from the margins (twice the margin is undecided): about 90 % of sines and
        // 94 % of cosines are decided.
        assert!(decided_sin > n * 87 / 100, "{decided_sin} sines decided");
        assert!(decided_cos > n * 91 / 100, "{decided_cos} cosines decided");
    }

    /// An input on which glibc's `sin` variants with FMA and without it (AVX, SSE2) differ in
    /// the last bit.
    const VARIANT_WITNESS: f64 = 0.15303633509428216;

    #[test]
    fn glibcs_avx_variant_gives_the_same_bits_too() {
        // glibc chooses among compiled variants of sin and cos when the program starts, by the
        // processor's features; its tunables can hide FMA, AVX2 and FMA4, so that the AVX
        // variant of older processors is checked here as well (SSE2 where there is no AVX).
        // The test reruns the ten-million-angle test in a child process that sees it.
        if !FAST_PATH {
            return;
        }
        if std::env::var_os("RETORT_TRIG_CHILD").is_some() {
            // In the child: make sure the tunables took effect, or the rerun proves nothing.
            // black_box: the compiler would otherwise fold the constant's sine at build time.
            assert_eq!(
                std::hint::black_box(VARIANT_WITNESS).sin().to_bits(),
                0x3fc3_8324_b6a8_59e8,
                "libm is not glibc's variant without FMA (AVX or SSE2)"
            );
            return;
        }
        let exe = std::env::current_exe().expect("the test binary");
        for test in [
            "trig::tests::glibcs_avx_variant_gives_the_same_bits_too",
            "trig::tests::ten_million_angles_give_libms_bits",
        ] {
            let output = std::process::Command::new(&exe)
                .args(["--exact", test, "--test-threads", "1"])
                .env("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-FMA,-AVX2,-FMA4")
                .env("RETORT_TRIG_CHILD", "1")
                .output()
                .expect("rerun the test binary");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && text.contains("1 passed"),
                "{test} with glibc's AVX variant:\n{text}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    #[test]
    fn cartpole_sized_angles_are_mostly_decided() {
        // Within CartPole's ±12° most calls must avoid libm, or the fast path buys nothing. The
        // margins predict both decided for 85 % of uniform angles (more for the small angles
        // that dominate episodes).
        let n = 1_000_000;
        let both = angles(n, 0.2095, 2)
            .filter(|&x| matches!(fast_sin_cos(x), (Some(_), Some(_))))
            .count();
        assert!(both > n * 80 / 100, "{both} of {n} angles decided both");
    }

    #[test]
    fn edges_of_the_fast_range_and_special_values_give_libms_bits() {
        let specials = [
            0.0,
            -0.0,
            FAST_MIN,
            -FAST_MIN,
            FAST_MIN * (1.0 - f64::EPSILON),
            FAST_MAX,
            -FAST_MAX,
            f64::from_bits(FAST_MAX.to_bits() + 1),
            0.125,
            0.126,
            0.2094,
            1.0,
            -3.0,
            1e300,
            f64::MIN_POSITIVE,
            f64::from_bits(1), // the smallest subnormal
        ];
        for x in specials {
            assert_same_bits(x);
        }
        let (sin, cos) = sin_cos(f64::NAN);
        assert!(sin.is_nan() && cos.is_nan());
        let (sin, cos) = sin_cos(f64::INFINITY);
        assert!(sin.is_nan() && cos.is_nan());
    }

    #[test]
    fn try_sin_cos_answers_only_when_both_are_decided() {
        let mut answered = 0;
        for x in angles(100_000, 0.3, 3) {
            let fast = fast_sin_cos(x);
            match try_sin_cos(x) {
                Some(pair) => {
                    assert_eq!(fast, (Some(pair.0), Some(pair.1)), "x = {x:e}");
                    assert_eq!(pair, sin_cos(x));
                    answered += 1;
                }
                None => assert!(fast.0.is_none() || fast.1.is_none(), "x = {x:e}"),
            }
        }
        // A sixth of the angles lie beyond the fast range; most of the rest are answered.
        assert!(answered > 60_000, "{answered} answered");
        assert_eq!(try_sin_cos(1.0), None);
    }

    #[test]
    fn outside_the_fast_range_nothing_is_decided() {
        for x in [0.0, 1e-9, 0.2501, -0.26, 1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(fast_sin_cos(x), (None, None), "x = {x:e}");
        }
    }

    #[test]
    fn a_result_near_a_midpoint_is_left_to_libm() {
        // r + err exactly halfway between r and its neighbour must not be decided, nor a power
        // of two or the double below one; one well inside its interval must be.
        let r = 0.75f64;
        let ulp = f64::EPSILON / 2.0; // spacing of doubles in [0.5, 1)
        assert_eq!(decided(r, 0.5 * ulp, 0.0), None);
        assert_eq!(decided(r, -0.49 * ulp, 0.02), None);
        assert_eq!(decided(r, 0.1 * ulp, 0.02), Some(r));
        assert_eq!(decided(0.5, 0.0, 0.02), None);
        assert_eq!(decided(1.0 - ulp, 0.0, 0.02), None);
        assert_eq!(decided(1.0 - 2.0 * ulp, 0.0, 0.02), Some(1.0 - 2.0 * ulp));
    }
}
