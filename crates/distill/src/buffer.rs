//! States labelled with the teacher's Q-values.

/// Observations, each with the teacher's full Q-vector for exactly that observation.
#[derive(Clone, Debug)]
pub struct DistillBuffer {
    obs_dim: usize,
    n_actions: usize,
    obs: Vec<f32>,
    teacher_q: Vec<f32>,
}

impl DistillBuffer {
    /// An empty buffer.
    pub fn new(obs_dim: usize, n_actions: usize) -> Self {
        DistillBuffer {
            obs_dim,
            n_actions,
            obs: Vec::new(),
            teacher_q: Vec::new(),
        }
    }

    /// Length of one observation.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Length of one Q-vector.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// Number of labelled states.
    pub fn len(&self) -> usize {
        self.teacher_q.len() / self.n_actions
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.teacher_q.is_empty()
    }

    /// Stores one observation and its label.
    pub fn push(&mut self, obs: &[f32], teacher_q: &[f32]) {
        debug_assert_eq!((obs.len(), teacher_q.len()), (self.obs_dim, self.n_actions));
        self.obs.extend_from_slice(obs);
        self.teacher_q.extend_from_slice(teacher_q);
    }

    /// Appends every state of `other`.
    pub fn extend(&mut self, other: &DistillBuffer) {
        self.obs.extend_from_slice(&other.obs);
        self.teacher_q.extend_from_slice(&other.teacher_q);
    }

    /// Observation `i`.
    pub fn obs(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// The teacher's Q-values for observation `i`.
    pub fn teacher_q(&self, i: usize) -> &[f32] {
        &self.teacher_q[i * self.n_actions..(i + 1) * self.n_actions]
    }

    /// Splits off every `k`-th state (k = round(1 / fraction)) as a held-out set, so that the
    /// held-out states are spread over the whole collection rather than taken from its end.
    pub fn split_holdout(&self, fraction: f64) -> (DistillBuffer, DistillBuffer) {
        let mut train = DistillBuffer::new(self.obs_dim, self.n_actions);
        let mut holdout = DistillBuffer::new(self.obs_dim, self.n_actions);
        let every = if fraction > 0.0 {
            (1.0 / fraction).round().max(1.0) as usize
        } else {
            0
        };
        for i in 0..self.len() {
            let target = if every > 0 && i % every == every - 1 {
                &mut holdout
            } else {
                &mut train
            };
            target.push(self.obs(i), self.teacher_q(i));
        }
        (train, holdout)
    }

    /// All observations, row after row.
    pub fn all_obs(&self) -> &[f32] {
        &self.obs
    }

    /// All Q-vectors, row after row.
    pub fn all_teacher_q(&self) -> &[f32] {
        &self.teacher_q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_takes_every_tenth_state_and_keeps_pairs_together() {
        let mut buffer = DistillBuffer::new(1, 2);
        for i in 0..100 {
            buffer.push(&[i as f32], &[i as f32, -(i as f32)]);
        }
        let (train, holdout) = buffer.split_holdout(0.1);
        assert_eq!((train.len(), holdout.len()), (90, 10));
        assert_eq!(holdout.obs(0), [9.0]);
        assert_eq!(holdout.obs(9), [99.0]);
        for i in 0..holdout.len() {
            let o = holdout.obs(i)[0];
            assert_eq!(holdout.teacher_q(i), [o, -o]);
        }
    }
}
