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
    /// Half-width of the 95 % confidence interval of the mean: 1.96 · s / √n with the sample
    /// standard deviation s (divides by n − 1); 0 for fewer than two values.
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
        1.96 * (squares / (n - 1.0)).sqrt() / n.sqrt()
    };
    Summary { mean, std, ci95 }
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
        let expected = 1.96 * (32.0f64 / 7.0).sqrt() / 8.0f64.sqrt();
        assert!((s.ci95 - expected).abs() < 1e-12);
        assert!((s.ci95 - 1.481_621).abs() < 1e-6);
    }

    #[test]
    fn constant_sample_has_no_spread() {
        let s = mean_std_ci95(&[500.0; 100]);
        assert_eq!((s.mean, s.std, s.ci95), (500.0, 0.0, 0.0));
    }
}
