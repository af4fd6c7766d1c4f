//! Proportional prioritized experience replay (Schaul et al., 2016, "Prioritized Experience
//! Replay"): transitions are replayed with probability proportional to a priority taken from
//! their last TD error, and importance-sampling weights correct the bias that this puts into
//! the gradient.
//!
//! ```text
//! priority    p_i = (|δ_i| + ε)^α                 α = 0: uniform; α = 1: fully proportional
//! probability P(i) = p_i / Σ_k p_k
//! weight      w_i = (N · P(i))^(−β) / max_j w_j   N: transitions stored; j over the batch
//! ```
//!
//! β grows linearly from `priority_beta_start` to 1 over the whole budget of environment
//! steps: early on, while the targets still move, the correction is partial; by the end it is
//! complete and the updates are unbiased.

use crate::sum_tree::SumTree;
use crate::{DqnConfig, LinearSchedule};
use rand::Rng;

/// The priority of every slot of the replay buffer, and the largest priority given so far.
///
/// The configuration (`alpha`, `epsilon`) is kept alongside the state (`tree`,
/// `max_priority`), which is everything a checkpoint needs besides the buffer itself.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Priorities {
    /// One leaf per slot of the buffer; unwritten slots hold 0 and are never sampled.
    pub(crate) tree: SumTree,
    /// The priority a newly written slot gets: the largest one given so far, 1 at the start.
    pub(crate) max_priority: f64,
    /// The exponent α.
    pub(crate) alpha: f64,
    /// The ε added to every |δ|, so that no written slot falls to priority 0.
    pub(crate) epsilon: f64,
}

impl Priorities {
    /// Priorities for a buffer of `capacity` slots, none written, or `None` when their
    /// memory cannot be allocated.
    pub(crate) fn try_new(capacity: usize, alpha: f64, epsilon: f64) -> Option<Self> {
        Some(Priorities {
            tree: SumTree::try_new(capacity)?,
            max_priority: 1.0,
            alpha,
            epsilon,
        })
    }

    /// Slot `slot` was written (or overwritten) with a new transition: it gets the largest
    /// priority so far, so that it is likely to be replayed soon, before its TD error is known.
    pub(crate) fn on_write(&mut self, slot: usize) {
        self.tree.set(slot, self.max_priority);
    }

    /// Draws `size` slots, stratified: the total priority is split into `size` equal
    /// segments and one slot is drawn uniformly within each, which keeps the batch closer to
    /// the distribution P than independent draws. At least one slot must have been written.
    pub(crate) fn sample(&self, size: usize, rng: &mut impl Rng, slots: &mut Vec<usize>) {
        let total = self.tree.total();
        assert!(total > 0.0, "sampling priorities of an empty replay buffer");
        let segment = total / size as f64;
        slots.clear();
        for k in 0..size {
            let prefix = (k as f64 + rng.random::<f64>()) * segment;
            slots.push(self.tree.find(prefix));
        }
    }

    /// The importance-sampling weight of each of `slots` for the exponent `beta`, normalised
    /// so that the largest in the batch is 1.
    ///
    /// `w_i / max_j w_j = (N · P(i))^(−β) / (N · P_min)^(−β) = (p_min / p_i)^β`, with
    /// p_min the smallest priority in the batch: N and the total cancel, which is how it
    /// is computed, so that no power overflows when a priority is tiny.
    pub(crate) fn importance_weights(&self, slots: &[usize], beta: f64, weights: &mut Vec<f32>) {
        let smallest = slots
            .iter()
            .map(|&slot| self.tree.get(slot))
            .fold(f64::INFINITY, f64::min);
        weights.clear();
        for &slot in slots {
            weights.push((smallest / self.tree.get(slot)).powf(beta) as f32);
        }
    }

    /// Gives each of `slots` the priority `(|δ| + ε)^α` of its new TD error δ (in the same
    /// order), and raises the largest priority accordingly. When a slot appears twice in a
    /// batch, its last error counts.
    pub(crate) fn update(&mut self, slots: &[usize], td_errors: &[f32]) {
        for (&slot, &error) in slots.iter().zip(td_errors) {
            let priority = (f64::from(error).abs() + self.epsilon).powf(self.alpha);
            // A huge α may round a small priority to 0, which would hide the slot for good.
            let priority = priority.max(f64::MIN_POSITIVE);
            self.tree.set(slot, priority);
            self.max_priority = self.max_priority.max(priority);
        }
    }
}

/// β on the environment-step clock: from `priority_beta_start` at step 0 to 1 at
/// `total_steps`.
pub(crate) fn beta_schedule(config: &DqnConfig) -> LinearSchedule {
    LinearSchedule {
        start: config.priority_beta_start,
        end: 1.0,
        duration: config.total_steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Priorities with the given values written into the first slots of a buffer of
    /// `capacity` (α = 1, ε = 0, so that priorities equal |δ|).
    fn with_priorities(capacity: usize, values: &[f64]) -> Priorities {
        let mut priorities = Priorities::try_new(capacity, 1.0, 0.0).unwrap();
        for (slot, &p) in values.iter().enumerate() {
            priorities.tree.set(slot, p);
        }
        priorities
    }

    #[test]
    fn stratified_batch_of_ten_over_priorities_1_2_3_4_holds_each_slot_its_share() {
        // Total 10, ten segments of width 1: slot 0 owns [0, 1), slot 1 [1, 3), slot 2
        // [3, 6), slot 3 [6, 10), so whatever the draws, every batch holds slot k exactly
        // k + 1 times, in order.
        let priorities = with_priorities(4, &[1.0, 2.0, 3.0, 4.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut slots = Vec::new();
        for _ in 0..20 {
            priorities.sample(10, &mut rng, &mut slots);
            assert_eq!(slots, [0, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
        }
    }

    #[test]
    fn sampling_frequencies_are_proportional_to_priority() {
        // Priorities 1, 2, 3, 4 → P = 0.1, 0.2, 0.3, 0.4, drawn 100 000 times in batches of
        // 7 (segments that do not line up with the slots' intervals). Independent draws would
        // give each frequency a binomial standard deviation of at most
        // √(0.4 · 0.6 / 100 000) ≈ 0.00155; stratification only lowers it. The tolerance of
        // 0.008 is five of those.
        let priorities = with_priorities(6, &[1.0, 2.0, 3.0, 4.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut slots = Vec::new();
        let mut counts = [0usize; 6];
        let rounds = 100_000 / 7;
        for _ in 0..rounds {
            priorities.sample(7, &mut rng, &mut slots);
            for &slot in &slots {
                counts[slot] += 1;
            }
        }
        let draws = (rounds * 7) as f64;
        for (slot, expected) in [0.1, 0.2, 0.3, 0.4].into_iter().enumerate() {
            let frequency = counts[slot] as f64 / draws;
            assert!((frequency - expected).abs() < 0.008, "{counts:?}");
        }
        // Slots 4 and 5 were never written.
        assert_eq!(counts[4..], [0, 0]);
    }

    #[test]
    fn never_samples_unwritten_slots() {
        // Three slots written in a buffer of 100 (128 leaves), with very unequal priorities.
        let mut priorities = Priorities::try_new(100, 0.6, 1e-6).unwrap();
        for slot in 0..3 {
            priorities.on_write(slot);
        }
        priorities.update(&[0, 1, 2], &[0.0, 1e6, 3.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut slots = Vec::new();
        for _ in 0..1_000 {
            priorities.sample(64, &mut rng, &mut slots);
            assert!(slots.iter().all(|&slot| slot < 3), "{slots:?}");
        }
    }

    #[test]
    fn new_and_overwritten_slots_get_the_largest_priority() {
        // α = 1, ε = 0.5: |δ| = 2.5 → priority 3; |δ| = 0 → 0.5.
        let mut priorities = Priorities::try_new(2, 1.0, 0.5).unwrap();
        priorities.on_write(0);
        priorities.on_write(1);
        assert_eq!(priorities.tree.total(), 2.0, "the initial maximum is 1");
        priorities.update(&[1, 0], &[-2.5, 0.0]);
        assert_eq!((priorities.tree.get(0), priorities.tree.get(1)), (0.5, 3.0));
        assert_eq!(priorities.max_priority, 3.0);
        // A capacity-2 ring writes its third transition over slot 0: it gets 3, not its old
        // 0.5 and not the initial 1.
        priorities.on_write(0);
        assert_eq!(priorities.tree.get(0), 3.0);
        assert_eq!(priorities.tree.total(), 6.0);
        // Priorities that fall do not lower the maximum.
        priorities.update(&[1], &[0.25]);
        assert_eq!(priorities.max_priority, 3.0);
        assert_eq!(priorities.tree.total(), 3.75);
    }

    #[test]
    fn priorities_are_the_td_error_plus_epsilon_to_the_alpha() {
        // α = 0.5, ε = 0.25: |−2| → 2.25^0.5 = 1.5; |0| → 0.25^0.5 = 0.5.
        let mut priorities = Priorities::try_new(4, 0.5, 0.25).unwrap();
        priorities.update(&[2, 3], &[-2.0, 0.0]);
        assert_eq!((priorities.tree.get(2), priorities.tree.get(3)), (1.5, 0.5));
        // α = 0 gives every transition priority 1: uniform replay.
        priorities.alpha = 0.0;
        priorities.update(&[2, 3], &[-2.0, 40.0]);
        assert_eq!((priorities.tree.get(2), priorities.tree.get(3)), (1.0, 1.0));
    }

    #[test]
    fn importance_weights_of_a_hand_example() {
        // N = 3 stored, priorities 1, 4, 5 (total 10): P = 0.1, 0.4, 0.5. β = 0.5:
        //   w = (N · P)^(−β) = 0.3^(−0.5), 1.2^(−0.5), 1.5^(−0.5)
        //     ≈ 1.82574, 0.91287, 0.81650.
        // A batch of slots 2, 0, 1, 0 has its largest weight at slot 0; normalised:
        //   1.82574 → 1, 0.91287 → 0.5, 0.81650 → √0.2 ≈ 0.44721.
        let priorities = with_priorities(3, &[1.0, 4.0, 5.0]);
        let mut weights = Vec::new();
        priorities.importance_weights(&[2, 0, 1, 0], 0.5, &mut weights);
        let expected = [0.447_213_6, 1.0, 0.5, 1.0];
        for (w, e) in weights.iter().zip(expected) {
            assert!((w - e).abs() < 1e-6, "{weights:?}");
        }
        // Without slot 0 in the batch, slot 1 has the largest weight: 0.91287 → 1 and
        // 0.81650 / 0.91287 = √0.8 ≈ 0.89443.
        priorities.importance_weights(&[1, 2], 0.5, &mut weights);
        let expected = [1.0, 0.894_427_2];
        for (w, e) in weights.iter().zip(expected) {
            assert!((w - e).abs() < 1e-6, "{weights:?}");
        }
        // β = 0: no correction, every weight 1.
        priorities.importance_weights(&[1, 2], 0.0, &mut weights);
        assert_eq!(weights, [1.0, 1.0]);
    }

    #[test]
    fn beta_grows_linearly_to_one_over_the_budget() {
        // β from 0.4 over 50 000 env steps: 0.4 + 0.6 · step / 50 000.
        let config = DqnConfig {
            total_steps: 50_000,
            priority_beta_start: 0.4,
            ..DqnConfig::default()
        };
        let beta = beta_schedule(&config);
        let expected = [
            (0, 0.4),
            (12_500, 0.55),
            (25_000, 0.7),
            (40_000, 0.88),
            (50_000, 1.0),
            (60_000, 1.0),
        ];
        for (step, value) in expected {
            assert!((beta.value(step) - value).abs() < 1e-12, "step {step}");
        }
    }
}
