//! Mean, standard deviation and 95 % confidence interval of a sample of returns.

use serde::{Deserialize, Serialize};

/// Summary statistics of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation (divides by n), as `numpy.std` and Stable-Baselines3
    /// report it.
    pub std: f64,
    /// Half-width of the 95 % confidence interval of the mean: t · s / √n with the sample
    /// standard deviation s (divides by n − 1) and t the two-sided 97.5 % quantile of
    /// Student's t with n − 1 degrees of freedom (12.71 for two values, 2.78 for five, 1.98
    /// for a hundred); 0 for fewer than two values.
    pub ci95: f64,
}

/// Computes [`Summary`] of `values`; all zeros for an empty slice.
pub fn mean_std_ci95(values: &[f64]) -> Summary {
    let n = values.len() as f64;
    if values.is_empty() {
        return Summary {
            mean: 0.0,
            std: 0.0,
            ci95: 0.0,
        };
    }
    let mean = values.iter().sum::<f64>() / n;
    let squares = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
    let std = (squares / n).sqrt();
    let ci95 = if values.len() < 2 {
        0.0
    } else {
        t_975(values.len() - 1) * (squares / (n - 1.0)).sqrt() / n.sqrt()
    };
    Summary { mean, std, ci95 }
}

/// The 97.5 % quantile of Student's t distribution with `df` degrees of freedom: exact to
/// three decimals from a table up to 30, then the Cornish–Fisher expansion around the normal
/// quantile 1.959964, whose error there is below 0.001.
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let z: f64 = 1.959_964;
    let v = df as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_known_sample() {
        // mean 5, population variance 4, sample variance 32/7.
        let s = mean_std_ci95(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert_eq!(s.std, 2.0);
        // t(7) = 2.365: 2.365 · √(32/7) / √8 = 1.787 772.
        let expected = 2.365 * (32.0f64 / 7.0).sqrt() / 8.0f64.sqrt();
        assert!((s.ci95 - expected).abs() < 1e-12);
        assert!((s.ci95 - 1.787_772).abs() < 1e-6);
    }

    #[test]
    fn t_quantiles_for_small_and_large_samples() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(4), 2.776);
        // df = 99 (100 episodes): 1.984 to three decimals; far out it approaches the normal.
        assert!((t_975(99) - 1.984).abs() < 5e-4, "{}", t_975(99));
        assert!((t_975(40) - 2.021).abs() < 1e-3, "{}", t_975(40));
        assert!((t_975(1_000_000) - 1.96).abs() < 1e-3);
    }

    #[test]
    fn constant_sample_has_no_spread() {
        let s = mean_std_ci95(&[500.0; 100]);
        assert_eq!((s.mean, s.std, s.ci95), (500.0, 0.0, 0.0));
    }
}
