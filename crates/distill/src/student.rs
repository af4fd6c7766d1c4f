//! Fitting one student to the labelled states.

use crate::collect::{argmax, collect, Driver};
use crate::{distill_loss, DistillBuffer, DistillConfig, DistillError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::seed::{derive, Stream};
use retort_core::{AdamConfig, MlpPolicy, MlpSpec, Observer, Optimizer};
use retort_envs::EnvSpec;
use std::time::Instant;
use tch::{Device, Tensor};

/// Gradient steps between two `distill/loss` points in the log.
const LOSS_LOG_INTERVAL: u64 = 100;

/// A fitted student.
pub struct StudentOutcome {
    /// The student network.
    pub policy: MlpPolicy,
    /// Fraction of held-out states on which the student's greedy action equals the teacher's.
    pub agreement: f64,
    /// Mean loss over the last logging window.
    pub final_loss: f64,
    /// Wall-clock seconds of fitting.
    pub seconds: f64,
}

/// A student being fitted: its network, its optimiser and its minibatch stream. Fitting can
/// resume on a grown buffer (DAgger) with the optimiser's state intact.
struct Fitter<'a> {
    name: &'a str,
    config: &'a DistillConfig,
    policy: MlpPolicy,
    optimizer: Optimizer,
    rng: ChaCha8Rng,
    steps_done: u64,
    final_loss: f64,
}

impl<'a> Fitter<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: &'a str,
        hidden: &[usize],
        obs_dim: usize,
        n_actions: usize,
        config: &'a DistillConfig,
        device: Device,
        seed: u64,
        index: u64,
    ) -> Result<Self, DistillError> {
        let spec = MlpSpec {
            obs_dim,
            n_actions,
            hidden: hidden.to_vec(),
            dueling: false,
        };
        let policy = MlpPolicy::new(spec, device, derive(seed, Stream::Init, 100 + index));
        let optimizer = Optimizer::adam(policy.var_store(), AdamConfig::new(config.learning_rate))?;
        let rng = ChaCha8Rng::seed_from_u64(derive(seed, Stream::Distill, index));
        Ok(Fitter {
            name,
            config,
            policy,
            optimizer,
            rng,
            steps_done: 0,
            final_loss: f64::NAN,
        })
    }

    /// `steps` gradient steps on minibatches drawn uniformly from `train`.
    fn fit(
        &mut self,
        train: &DistillBuffer,
        steps: u64,
        observer: &mut dyn Observer,
    ) -> Result<(), DistillError> {
        let config = self.config;
        let device = self.policy.device();
        let (d, a) = (train.obs_dim() as i64, train.n_actions() as i64);
        // The whole training set lives on the device; minibatches are index selections.
        let all_obs = Tensor::from_slice(train.all_obs())
            .view([-1, d])
            .to_device(device);
        let all_q = Tensor::from_slice(train.all_teacher_q())
            .view([-1, a])
            .to_device(device);
        let mut indices = vec![0i64; config.batch_size];
        let (mut loss_sum, mut loss_count) = (0.0, 0u64);

        for _ in 0..steps {
            if observer.interrupted() {
                break;
            }
            for slot in indices.iter_mut() {
                *slot = self.rng.random_range(0..train.len()) as i64;
            }
            let picks = Tensor::from_slice(&indices).to_device(device);
            let obs = all_obs.index_select(0, &picks);
            let teacher_q = all_q.index_select(0, &picks);
            let student = self.policy.forward(&obs);
            let (t, w) = (config.temperature, config.hard_label_weight);
            let loss = distill_loss(config.loss, &student, &teacher_q, t, w);
            self.optimizer.backward_step(&loss);
            self.steps_done += 1;
            let step = self.steps_done;

            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(DistillError::Diverged {
                    student: self.name.into(),
                    step,
                    loss: value,
                });
            }
            loss_sum += value;
            loss_count += 1;
            if step % LOSS_LOG_INTERVAL == 0 {
                self.final_loss = loss_sum / loss_count as f64;
                observer.scalar(
                    &format!("distill/{}", config.loss.name()),
                    self.final_loss,
                    step,
                );
                observer.scalar("distill/loss", self.final_loss, step);
                (loss_sum, loss_count) = (0.0, 0);
                observer.progress(step);
            }
        }
        if loss_count > 0 {
            self.final_loss = loss_sum / loss_count as f64;
        }
        Ok(())
    }

    fn finish(
        self,
        holdout: &DistillBuffer,
        start: Instant,
        observer: &mut dyn Observer,
    ) -> StudentOutcome {
        let agreement = agreement(&self.policy, holdout);
        observer.scalar("distill/agreement", agreement, self.steps_done);
        StudentOutcome {
            policy: self.policy,
            agreement,
            final_loss: self.final_loss,
            seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// Fits a student of hidden widths `hidden` to `train`, measuring agreement on `holdout`.
/// `index` (the student's position in the experiment) seeds its initialisation and its
/// minibatches, so that each student draws its own numbers.
#[allow(clippy::too_many_arguments)]
pub fn fit_student(
    name: &str,
    hidden: &[usize],
    train: &DistillBuffer,
    holdout: &DistillBuffer,
    config: &DistillConfig,
    device: Device,
    seed: u64,
    index: u64,
    observer: &mut dyn Observer,
) -> Result<StudentOutcome, DistillError> {
    let start = Instant::now();
    let (d, a) = (train.obs_dim(), train.n_actions());
    let mut fitter = Fitter::new(name, hidden, d, a, config, device, seed, index)?;
    fitter.fit(train, config.steps, observer)?;
    Ok(fitter.finish(holdout, start, observer))
}

/// Fits a student by DAgger: `config.rounds` rounds of collection and fitting. Round 0
/// collects with the teacher; round r > 0 with the student as fitted so far, taking the
/// teacher's action with probability `config.beta`^r. Every state is labelled by the teacher,
/// states are aggregated over rounds, each round holds out `holdout_fraction` of its states for
/// measuring agreement, and the states and gradient steps are split evenly over the rounds, so
/// the budget is the one teacher-driven collection uses.
#[allow(clippy::too_many_arguments)]
pub fn fit_student_dagger(
    name: &str,
    hidden: &[usize],
    teacher: &MlpPolicy,
    env: &EnvSpec,
    config: &DistillConfig,
    seed: u64,
    index: u64,
    observer: &mut dyn Observer,
) -> Result<(StudentOutcome, usize), DistillError> {
    let start = Instant::now();
    let (d, a) = (teacher.spec().obs_dim, teacher.spec().n_actions);
    let device = teacher.device();
    let mut fitter = Fitter::new(name, hidden, d, a, config, device, seed, index)?;
    let mut train = DistillBuffer::new(d, a);
    let mut holdout = DistillBuffer::new(d, a);
    let rounds = config.rounds as u64;
    for round in 0..rounds {
        // Even shares, the remainder going to the last round.
        let share = |total: u64| {
            total / rounds
                + if round == rounds - 1 {
                    total % rounds
                } else {
                    0
                }
        };
        let driver = match round {
            0 => Driver::Teacher,
            r => Driver::Student {
                student: &fitter.policy,
                beta: config.beta.powi(r as i32),
            },
        };
        let mut fresh = DistillBuffer::new(d, a);
        // Each student collects with its own seeds: rounds of different students never repeat
        // one another's episodes.
        let round_id = (index << 16) | round;
        collect(
            teacher,
            driver,
            env,
            config,
            share(config.states as u64) as usize,
            seed,
            round_id,
            &mut fresh,
        )?;
        let (fresh_train, fresh_holdout) = fresh.split_holdout(config.holdout_fraction);
        train.extend(&fresh_train);
        holdout.extend(&fresh_holdout);
        observer.scalar("distill/states", train.len() as f64, fitter.steps_done);
        fitter.fit(&train, share(config.steps), observer)?;
    }
    let states = train.len() + holdout.len();
    Ok((fitter.finish(&holdout, start, observer), states))
}

/// Fraction of the states in `buffer` where `policy`'s greedy action is the teacher's.
pub fn agreement(policy: &MlpPolicy, buffer: &DistillBuffer) -> f64 {
    if buffer.is_empty() {
        return f64::NAN;
    }
    let n_actions = buffer.n_actions();
    let scores = Vec::<f32>::try_from(
        policy
            .scores(buffer.all_obs())
            .to_device(Device::Cpu)
            .view([-1]),
    )
    .expect("a float CPU tensor converts to Vec<f32>");
    let same = (0..buffer.len())
        .filter(|&i| argmax(&scores[i * n_actions..][..n_actions]) == argmax(buffer.teacher_q(i)))
        .count();
    same as f64 / buffer.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_core::NoObserver;

    #[test]
    fn a_student_learns_a_simple_teacher_almost_perfectly() {
        // Teacher: action 1 when the first feature is positive, with a margin of 1.
        let mut buffer = DistillBuffer::new(2, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for _ in 0..2_000 {
            let x: f32 = rng.random_range(-1.0..1.0);
            let y: f32 = rng.random_range(-1.0..1.0);
            let q = if x > 0.0 { [0.0, 1.0] } else { [1.0, 0.0] };
            buffer.push(&[x, y], &q);
        }
        let (train, holdout) = buffer.split_holdout(0.1);
        let config = DistillConfig {
            steps: 500,
            ..DistillConfig::default()
        };
        let outcome = fit_student(
            "t",
            &[8],
            &train,
            &holdout,
            &config,
            Device::Cpu,
            0,
            0,
            &mut NoObserver,
        )
        .unwrap();
        assert!(outcome.agreement >= 0.97, "agreement {}", outcome.agreement);
        assert!(outcome.final_loss.is_finite());
    }

    #[test]
    fn dagger_spends_the_same_state_budget_over_its_rounds() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
            dueling: false,
        };
        let teacher = MlpPolicy::new(spec, Device::Cpu, 1);
        let config = DistillConfig {
            states: 1003,
            rounds: 3,
            steps: 30,
            ..DistillConfig::default()
        };
        let env = EnvSpec::new("CartPole-v1");
        let (outcome, states) =
            fit_student_dagger("d", &[4], &teacher, &env, &config, 0, 0, &mut NoObserver).unwrap();
        assert_eq!(states, 1003);
        assert!((0.0..=1.0).contains(&outcome.agreement));
    }
}
