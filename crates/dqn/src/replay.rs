//! The experience replay buffer: a ring of the most recent transitions.
//!
//! With n-step returns one stored transition covers up to n environment steps; its `reward` is
//! their discounted sum and its `discount` the factor of the bootstrap (see [`Transition`]).

use rand::Rng;

/// One transition as the buffer stores it: a single environment step, or m ≥ 1 consecutive
/// steps of one episode folded into one (n-step returns).
#[derive(Clone, Copy, Debug)]
pub struct Transition<'a> {
    /// Observation the action was chosen from.
    pub obs: &'a [f32],
    /// Action taken.
    pub action: usize,
    /// Reward received; over m steps, `r_0 + γ · r_1 + … + γ^(m−1) · r_(m−1)`.
    pub reward: f64,
    /// Observation after the (last) step. At the end of an episode this is the true final
    /// observation, not the first observation of the next episode.
    pub next_obs: &'a [f32],
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut by a time limit (possibly on the same step as `terminated`).
    pub truncated: bool,
    /// The factor of the bootstrap from `next_obs` in the TD target: γ^m for m steps (γ for
    /// one). Stored per transition because the transitions that end an episode cover fewer
    /// than n steps.
    pub discount: f64,
}

/// A minibatch, one row per sampled transition, ready to become tensors.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// `[batch · obs_dim]`, row after row.
    pub obs: Vec<f32>,
    /// `[batch]`.
    pub actions: Vec<i64>,
    /// `[batch]`.
    pub rewards: Vec<f32>,
    /// `[batch · obs_dim]`, row after row.
    pub next_obs: Vec<f32>,
    /// `[batch]`, 1.0 where the transition terminated the episode.
    pub terminated: Vec<f32>,
    /// `[batch]`, kept for diagnostics; the TD target does not use it.
    pub truncated: Vec<bool>,
    /// `[batch]`, the factor of each row's bootstrap (γ^m).
    pub discounts: Vec<f32>,
    /// `[batch]`, the slot each row was read from.
    pub indices: Vec<usize>,
    /// `[batch]`, importance-sampling weights of prioritized replay; empty when sampling is
    /// uniform.
    pub weights: Vec<f32>,
}

/// Fixed-capacity storage of transitions; once full, each new transition overwrites the
/// oldest. Sampling draws uniformly from the slots written so far and never from unwritten
/// ones.
pub struct ReplayBuffer {
    pub(crate) obs_dim: usize,
    pub(crate) capacity: usize,
    pub(crate) len: usize,
    pub(crate) next: usize,
    pub(crate) obs: Vec<f32>,
    pub(crate) next_obs: Vec<f32>,
    pub(crate) actions: Vec<i64>,
    pub(crate) rewards: Vec<f32>,
    pub(crate) terminated: Vec<bool>,
    pub(crate) truncated: Vec<bool>,
    pub(crate) discounts: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations of length `obs_dim`.
    ///
    /// # Panics
    /// If the memory cannot be allocated; [`ReplayBuffer::try_new`] reports that instead.
    pub fn new(capacity: usize, obs_dim: usize) -> Self {
        Self::try_new(capacity, obs_dim).expect("replay buffer allocation")
    }

    /// An empty buffer, or `None` when its memory (about `capacity · (8 · obs_dim + 18)`
    /// bytes) cannot be allocated.
    pub fn try_new(capacity: usize, obs_dim: usize) -> Option<Self> {
        Some(ReplayBuffer {
            obs_dim,
            capacity,
            len: 0,
            next: 0,
            obs: zeroed(capacity.checked_mul(obs_dim)?)?,
            next_obs: zeroed(capacity * obs_dim)?,
            actions: zeroed(capacity)?,
            rewards: zeroed(capacity)?,
            terminated: zeroed(capacity)?,
            truncated: zeroed(capacity)?,
            discounts: zeroed(capacity)?,
        })
    }

    /// Bytes a buffer of `capacity` transitions takes.
    pub fn bytes_needed(capacity: usize, obs_dim: usize) -> u128 {
        capacity as u128 * (8 * obs_dim as u128 + 8 + 4 + 2 + 4)
    }

    /// Number of transitions stored (at most the capacity).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores a transition, overwriting the oldest one when full, and returns its slot.
    pub fn push(&mut self, t: &Transition<'_>) -> usize {
        let slot = self.next;
        let row = slot * self.obs_dim..(slot + 1) * self.obs_dim;
        self.obs[row.clone()].copy_from_slice(t.obs);
        self.next_obs[row].copy_from_slice(t.next_obs);
        self.actions[slot] = t.action as i64;
        self.rewards[slot] = t.reward as f32;
        self.terminated[slot] = t.terminated;
        self.truncated[slot] = t.truncated;
        self.discounts[slot] = t.discount as f32;
        self.next = (slot + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        slot
    }

    /// Fills `batch` with `size` transitions drawn uniformly, with replacement, from the
    /// stored ones. The buffer must not be empty.
    pub fn sample_into(&self, size: usize, rng: &mut impl Rng, batch: &mut Batch) {
        assert!(!self.is_empty(), "sampling an empty replay buffer");
        batch.indices.clear();
        for _ in 0..size {
            batch.indices.push(rng.random_range(0..self.len));
        }
        batch.weights.clear();
        self.gather(batch);
    }

    /// Fills the rows of `batch` from the slots listed in `batch.indices`, which must all
    /// have been written.
    pub fn gather(&self, batch: &mut Batch) {
        let d = self.obs_dim;
        batch.obs.clear();
        batch.next_obs.clear();
        batch.actions.clear();
        batch.rewards.clear();
        batch.terminated.clear();
        batch.truncated.clear();
        batch.discounts.clear();
        for &i in &batch.indices {
            assert!(
                i < self.len,
                "slot {i} of the replay buffer was never written"
            );
            batch.obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            batch
                .next_obs
                .extend_from_slice(&self.next_obs[i * d..(i + 1) * d]);
            batch.actions.push(self.actions[i]);
            batch.rewards.push(self.rewards[i]);
            batch
                .terminated
                .push(if self.terminated[i] { 1.0 } else { 0.0 });
            batch.truncated.push(self.truncated[i]);
            batch.discounts.push(self.discounts[i]);
        }
    }
}

/// A vector of `n` default values, or `None` if the allocation fails.
fn zeroed<T: Clone + Default>(n: usize) -> Option<Vec<T>> {
    let mut values = Vec::new();
    values.try_reserve_exact(n).ok()?;
    values.resize(n, T::default());
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn push_step(buffer: &mut ReplayBuffer, k: usize) -> usize {
        let obs = [k as f32];
        let next = [k as f32 + 0.5];
        buffer.push(&Transition {
            obs: &obs,
            action: k % 2,
            reward: k as f64,
            next_obs: &next,
            terminated: k % 3 == 0,
            truncated: k % 5 == 0,
            discount: 0.5f64.powi((k % 4) as i32),
        })
    }

    #[test]
    fn an_impossible_capacity_is_refused_not_aborted() {
        assert!(ReplayBuffer::try_new(usize::MAX / 2, 4).is_none());
        assert!(ReplayBuffer::try_new(1 << 50, 1).is_none());
    }

    #[test]
    fn push_returns_the_slot_it_wrote() {
        let mut buffer = ReplayBuffer::new(3, 1);
        let slots: Vec<usize> = (0..5).map(|k| push_step(&mut buffer, k)).collect();
        assert_eq!(slots, [0, 1, 2, 0, 1]);
    }

    #[test]
    fn never_samples_unwritten_slots() {
        let mut buffer = ReplayBuffer::new(100, 1);
        for k in 1..=3 {
            push_step(&mut buffer, k);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut batch = Batch::default();
        buffer.sample_into(1000, &mut rng, &mut batch);
        // Unwritten slots hold observation 0.0; only 1, 2 and 3 were written.
        assert!(batch.obs.iter().all(|&o| (1.0..=3.0).contains(&o)));
        for value in [1.0, 2.0, 3.0] {
            assert!(batch.obs.contains(&value));
        }
    }

    #[test]
    fn wraparound_keeps_exactly_the_newest_capacity_transitions() {
        let mut buffer = ReplayBuffer::new(4, 1);
        for k in 0..10 {
            push_step(&mut buffer, k);
        }
        assert_eq!(buffer.len(), 4);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut batch = Batch::default();
        buffer.sample_into(2000, &mut rng, &mut batch);
        let mut seen: Vec<i64> = batch.obs.iter().map(|&o| o as i64).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, [6, 7, 8, 9]);
        // Every field of a row belongs to the same transition.
        for i in 0..batch.actions.len() {
            let k = batch.obs[i] as usize;
            assert_eq!(batch.next_obs[i], k as f32 + 0.5);
            assert_eq!(batch.actions[i], (k % 2) as i64);
            assert_eq!(batch.rewards[i], k as f32);
            assert_eq!(batch.terminated[i], if k % 3 == 0 { 1.0 } else { 0.0 });
            assert_eq!(batch.truncated[i], k % 5 == 0);
            assert_eq!(batch.discounts[i], 0.5f32.powi((k % 4) as i32));
        }
    }
}
