//! A batch of environment copies stepped together, resetting each copy as its episode ends.

use crate::{make, Env, EnvError, EnvSpec, Step};

/// `N` copies of one environment with automatic reset.
///
/// After [`VecEnv::step`], `obs` holds what each copy's policy acts on next — the first
/// observation of a new episode for copies that just finished — and `final_obs` holds the
/// observation each step actually produced, so that a learner can bootstrap a truncated
/// episode from its true last state. Copy `i` is seeded with [`copy_seed`]`(seed, i)` by
/// [`VecEnv::reset`]; automatic resets continue each copy's own random stream, so a run is
/// reproducible from the one seed.
pub struct VecEnv {
    envs: Vec<Box<dyn Env>>,
    obs_dim: usize,
    n_actions: usize,
}

/// The seed of copy `index` derived from the batch seed: SplitMix64 of the pair, so that
/// neighbouring batch seeds do not give overlapping copy seeds.
pub fn copy_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl VecEnv {
    /// `n` copies of the environment `spec` names (`n >= 1`).
    pub fn new(spec: &EnvSpec, n: usize) -> Result<Self, EnvError> {
        let envs = (0..n).map(|_| make(spec)).collect::<Result<Vec<_>, _>>()?;
        Self::from_envs(envs)
    }

    /// Batches existing environments, which must agree on observation and action sizes.
    pub fn from_envs(envs: Vec<Box<dyn Env>>) -> Result<Self, EnvError> {
        let Some(first) = envs.first() else {
            return Err(EnvError::BatchShape {
                what: "number of copies",
                expected: 1,
                got: 0,
            });
        };
        let (obs_dim, n_actions) = (first.obs_dim(), first.n_actions());
        for env in &envs {
            if env.obs_dim() != obs_dim {
                return Err(EnvError::BatchShape {
                    what: "obs_dim of every copy",
                    expected: obs_dim,
                    got: env.obs_dim(),
                });
            }
            if env.n_actions() != n_actions {
                return Err(EnvError::BatchShape {
                    what: "n_actions of every copy",
                    expected: n_actions,
                    got: env.n_actions(),
                });
            }
        }
        Ok(VecEnv {
            envs,
            obs_dim,
            n_actions,
        })
    }

    /// Number of copies.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Always false: a batch has at least one copy.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Observation length of one copy; batch buffers are `len() * obs_dim()` long.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Number of actions of each copy.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The copies, e.g. to query `max_episode_steps`.
    pub fn envs(&self) -> &[Box<dyn Env>] {
        &self.envs
    }

    fn check(&self, what: &'static str, per_copy: usize, got: usize) -> Result<(), EnvError> {
        let expected = self.envs.len() * per_copy;
        if got == expected {
            Ok(())
        } else {
            Err(EnvError::BatchShape {
                what,
                expected,
                got,
            })
        }
    }

    /// Starts an episode in every copy, seeding copy `i` with `copy_seed(seed, i)`.
    pub fn reset(&mut self, seed: u64, obs: &mut [f32]) -> Result<(), EnvError> {
        self.check("obs buffer length", self.obs_dim, obs.len())?;
        for (i, (env, o)) in self
            .envs
            .iter_mut()
            .zip(obs.chunks_mut(self.obs_dim))
            .enumerate()
        {
            env.reset(Some(copy_seed(seed, i)), o);
        }
        Ok(())
    }

    /// Steps every copy with its action; see the [type docs](VecEnv) for `obs` and
    /// `final_obs`. Every action is checked before any copy moves, so an invalid action leaves
    /// the whole batch unchanged.
    pub fn step(
        &mut self,
        actions: &[usize],
        obs: &mut [f32],
        final_obs: &mut [f32],
        steps: &mut [Step],
    ) -> Result<(), EnvError> {
        let d = self.obs_dim;
        self.check("actions length", 1, actions.len())?;
        self.check("steps length", 1, steps.len())?;
        self.check("obs buffer length", d, obs.len())?;
        self.check("final_obs buffer length", d, final_obs.len())?;
        if let Some(&action) = actions.iter().find(|&&a| a >= self.n_actions) {
            return Err(EnvError::InvalidAction {
                action,
                n_actions: self.n_actions,
            });
        }
        let copies = self.envs.iter_mut().zip(actions).zip(steps.iter_mut());
        for (((env, &action), step), (o, f)) in
            copies.zip(obs.chunks_mut(d).zip(final_obs.chunks_mut(d)))
        {
            *step = env.step(action, f)?;
            if step.done() {
                env.reset(None, o);
            } else {
                o.copy_from_slice(f);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_seeds_differ_across_copies_and_batch_seeds() {
        let seeds: std::collections::HashSet<u64> = (0..4)
            .flat_map(|s| (0..64).map(move |i| copy_seed(s, i)))
            .collect();
        assert_eq!(seeds.len(), 256);
    }

    #[test]
    fn finished_copy_reports_its_final_obs_and_restarts() {
        let mut spec = EnvSpec::new("GridWorld");
        spec.map = Some("FrozenLake4x4".into());
        let mut v = VecEnv::new(&spec, 2).expect("batch");
        let mut obs = vec![0.0; 32];
        let mut fin = vec![0.0; 32];
        let mut steps = [Step {
            reward: 0.0,
            terminated: false,
            truncated: false,
        }; 2];
        v.reset(1, &mut obs).expect("reset");
        // Copy 0 goes right (floor), copy 1 goes down then right into the hole at cell 5.
        v.step(&[2, 1], &mut obs, &mut fin, &mut steps)
            .expect("step");
        v.step(&[2, 2], &mut obs, &mut fin, &mut steps)
            .expect("step");
        assert!(!steps[0].done() && steps[1].terminated);
        assert_eq!(fin[..16].iter().position(|&x| x == 1.0), Some(2));
        assert_eq!(obs[..16].iter().position(|&x| x == 1.0), Some(2));
        assert_eq!(fin[16..].iter().position(|&x| x == 1.0), Some(5));
        assert_eq!(obs[16..].iter().position(|&x| x == 1.0), Some(0));
        // The restarted copy can keep stepping.
        v.step(&[1, 1], &mut obs, &mut fin, &mut steps)
            .expect("step");
    }

    #[test]
    fn invalid_action_anywhere_moves_no_copy() {
        let mut v = VecEnv::new(&EnvSpec::new("CartPole-v1"), 3).expect("batch");
        let mut obs = vec![0.0; 12];
        let mut fin = vec![0.0; 12];
        let mut steps = [Step {
            reward: 0.0,
            terminated: false,
            truncated: false,
        }; 3];
        v.reset(0, &mut obs).expect("reset");
        let before = obs.clone();
        let err = v.step(&[0, 1, 2], &mut obs, &mut fin, &mut steps);
        assert!(matches!(
            err,
            Err(EnvError::InvalidAction {
                action: 2,
                n_actions: 2
            })
        ));
        assert_eq!(obs, before);
        assert!(matches!(
            v.step(&[0, 1], &mut obs, &mut fin, &mut steps),
            Err(EnvError::BatchShape {
                expected: 3,
                got: 2,
                ..
            })
        ));
    }

    #[test]
    fn empty_batch_is_refused() {
        assert!(matches!(
            VecEnv::from_envs(Vec::new()),
            Err(EnvError::BatchShape {
                expected: 1,
                got: 0,
                ..
            })
        ));
    }
}
