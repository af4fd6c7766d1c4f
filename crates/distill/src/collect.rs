//! Teacher-driven collection of labelled states.

use crate::{DistillBuffer, DistillConfig, DistillError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::seed::{derive, Stream};
use retort_core::MlpPolicy;
use retort_envs::{make, EnvSpec};

/// Index of the largest value, the first one on ties: the rule every part of retort acts by.
pub(crate) use retort_runtime::argmax;

/// Who chooses the actions while states are collected.
#[derive(Clone, Copy)]
pub enum Driver<'a> {
    /// The teacher acts (ε-greedy with `collect_epsilon`).
    Teacher,
    /// DAgger: at each step, with probability `beta` the teacher's greedy action, otherwise the
    /// student's (then ε-greedy on top). The student visits the states its own mistakes lead
    /// to, and the teacher labels them.
    Student {
        /// The student as it is now.
        student: &'a MlpPolicy,
        /// Probability of taking the teacher's action instead of the student's.
        beta: f64,
    },
}

/// Lets the teacher play `config.collect_envs` copies of `spec` (ε-greedy with
/// `config.collect_epsilon`) until `config.states` states are stored, each with the teacher's
/// Q-vector for exactly that state.
pub fn collect_from_teacher(
    teacher: &MlpPolicy,
    spec: &EnvSpec,
    config: &DistillConfig,
    seed: u64,
) -> Result<DistillBuffer, DistillError> {
    let mut buffer = DistillBuffer::new(teacher.spec().obs_dim, teacher.spec().n_actions);
    collect(
        teacher,
        Driver::Teacher,
        spec,
        config,
        config.states,
        seed,
        0,
        &mut buffer,
    )?;
    Ok(buffer)
}

/// Plays `config.collect_envs` copies of `spec` with actions chosen by `driver` and appends
/// `states` states to `buffer`, each labelled with the teacher's Q-vector for exactly that
/// state. `round` gives each collection round of a run its own environment seeds.
///
/// One teacher forward pass per time step gives both the labels and the teacher's greedy
/// actions, so a label can never belong to another state than the one stored beside it.
#[allow(clippy::too_many_arguments)]
pub fn collect(
    teacher: &MlpPolicy,
    driver: Driver<'_>,
    spec: &EnvSpec,
    config: &DistillConfig,
    states: usize,
    seed: u64,
    round: u64,
    buffer: &mut DistillBuffer,
) -> Result<(), DistillError> {
    let n = config.collect_envs;
    let mut envs = (0..n).map(|_| make(spec)).collect::<Result<Vec<_>, _>>()?;
    let d = teacher.spec().obs_dim;
    let n_actions = teacher.spec().n_actions;
    let stream = |i: u64| derive(seed, Stream::Collect, (round << 32) | i);
    let mut rng = ChaCha8Rng::seed_from_u64(stream(0));
    let mut obs = vec![0f32; n * d];
    for (i, env) in envs.iter_mut().enumerate() {
        env.reset(Some(stream(1 + i as u64)), &mut obs[i * d..][..d]);
    }

    let target = buffer.len() + states;
    let mut q = vec![0f32; n * n_actions];
    let mut student_scores = vec![0f32; n * n_actions];
    while buffer.len() < target {
        teacher
            .scores(&obs)
            .to_device(tch::Device::Cpu)
            .view([-1])
            .copy_data(&mut q, n * n_actions);
        if let Driver::Student { student, .. } = driver {
            let scores = student.scores(&obs).to_device(tch::Device::Cpu);
            scores
                .view([-1])
                .copy_data(&mut student_scores, n * n_actions);
        }
        for (i, env) in envs.iter_mut().enumerate() {
            if buffer.len() == target {
                break;
            }
            let row_q = &q[i * n_actions..][..n_actions];
            let row_obs = &mut obs[i * d..][..d];
            buffer.push(row_obs, row_q);
            let greedy = match driver {
                Driver::Student { beta, .. } if rng.random::<f64>() >= beta => {
                    argmax(&student_scores[i * n_actions..][..n_actions])
                }
                _ => argmax(row_q),
            };
            let action = if rng.random::<f64>() < config.collect_epsilon {
                rng.random_range(0..n_actions)
            } else {
                greedy
            };
            if env.step(action, row_obs)?.done() {
                env.reset(None, row_obs);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_core::MlpSpec;

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
    }

    #[test]
    fn every_stored_label_is_the_teachers_q_vector_of_its_own_state() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16],
            dueling: false,
        };
        let teacher = MlpPolicy::new(spec, tch::Device::Cpu, 5);
        let config = DistillConfig {
            states: 777,
            collect_envs: 8,
            ..DistillConfig::default()
        };
        let buffer =
            collect_from_teacher(&teacher, &EnvSpec::new("CartPole-v1"), &config, 1).unwrap();
        assert_eq!(buffer.len(), 777);
        // Recompute the labels from the stored states in a shuffled order.
        let mut order: Vec<usize> = (0..buffer.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut shuffled = Vec::new();
        for &i in &order {
            shuffled.extend_from_slice(buffer.obs(i));
        }
        let relabelled = Vec::<f32>::try_from(teacher.scores(&shuffled).view([-1])).unwrap();
        for (row, &i) in order.iter().enumerate() {
            let fresh = &relabelled[row * 2..row * 2 + 2];
            let stored = buffer.teacher_q(i);
            for (a, b) in fresh.iter().zip(stored) {
                assert!(
                    (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                    "state {i}: {fresh:?} vs {stored:?}"
                );
            }
        }
    }

    #[test]
    fn a_dueling_teacher_labels_states_with_its_combined_q_values() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16],
            dueling: true,
        };
        let teacher = MlpPolicy::new(spec, tch::Device::Cpu, 6);
        let config = DistillConfig {
            states: 300,
            collect_envs: 4,
            ..DistillConfig::default()
        };
        let buffer =
            collect_from_teacher(&teacher, &EnvSpec::new("CartPole-v1"), &config, 2).unwrap();
        // V + A − mean A, computed here from the teacher's own tensors.
        let vars = teacher.var_store().variables();
        let linear = |x: &tch::Tensor, name: &str| {
            x.linear(
                &vars[&format!("{name}.weight")],
                Some(&vars[&format!("{name}.bias")]),
            )
        };
        let obs = tch::Tensor::from_slice(buffer.all_obs()).view([300, 4]);
        let q = tch::no_grad(|| {
            let h = linear(&obs, "layers.0").relu();
            let advantage = linear(&h, "advantage");
            linear(&h, "value") + &advantage - advantage.mean_dim(1, true, tch::Kind::Float)
        });
        let expected = Vec::<f32>::try_from(q.view([-1])).unwrap();
        for (i, (want, got)) in expected
            .chunks_exact(2)
            .zip(buffer.all_teacher_q().chunks_exact(2))
            .enumerate()
        {
            for (a, b) in want.iter().zip(got) {
                assert!((a - b).abs() <= 1e-5, "state {i}: {got:?} vs {want:?}");
            }
        }
    }
}
