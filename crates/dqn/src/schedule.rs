//! The linear ε schedule of exploration.

/// A value that moves linearly from `start` to `end` over the first `duration` steps, then
/// stays at `end`.
#[derive(Clone, Copy, Debug)]
pub struct LinearSchedule {
    /// Value at step 0.
    pub start: f64,
    /// Value from step `duration` on.
    pub end: f64,
    /// Steps the move takes; 0 means `end` from the start.
    pub duration: u64,
}

impl LinearSchedule {
    /// The value at `step`.
    ///
    /// For ε the step is the number of environment steps taken so far (all copies counted),
    /// not the number of gradient updates: `train_freq` and `gradient_steps` then change how
    /// hard the network trains without changing how long the agent explores.
    pub fn value(&self, step: u64) -> f64 {
        if step >= self.duration {
            return self.end;
        }
        let progress = step as f64 / self.duration as f64;
        self.start + progress * (self.end - self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_follows_the_env_step_clock() {
        // SB3's CartPole setting: 1.0 → 0.04 over 16 % of 50 000 steps = 8 000 steps.
        let eps = LinearSchedule {
            start: 1.0,
            end: 0.04,
            duration: 8_000,
        };
        assert_eq!(eps.value(0), 1.0);
        assert_eq!(eps.value(4_000), 0.52);
        assert_eq!(eps.value(8_000), 0.04);
        assert_eq!(eps.value(50_000), 0.04);
        assert_eq!(
            LinearSchedule {
                start: 1.0,
                end: 0.1,
                duration: 0
            }
            .value(0),
            0.1
        );
    }
}
