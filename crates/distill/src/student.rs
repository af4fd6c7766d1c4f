//! Fitting one student to the labelled states.

use crate::collect::{argmax, collect, Driver};
use crate::cpu_step::CpuStep;
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
    /// Held-out agreement while fitting, as (gradient steps done, agreement): the
    /// `distill.agreement_points` measurements, the last one the final agreement.
    pub agreement_curve: Vec<(u64, f64)>,
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
    /// The step in plain Rust, for a student on the CPU with the fused Adam (see
    /// [`CpuStep::new`] for which); `None` where libtorch computes the loss and autograd its
    /// gradients.
    cpu: Option<CpuStep>,
    /// The minibatch's row indices, drawn anew each step.
    picks: Vec<usize>,
    rng: ChaCha8Rng,
    steps_done: u64,
    final_loss: f64,
    agreement_curve: Vec<(u64, f64)>,
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
        let cpu = match optimizer {
            Optimizer::Fused(_) => CpuStep::new(&policy, config.batch_size),
            Optimizer::Torch(..) => None,
        };
        Ok(Fitter {
            name,
            config,
            policy,
            optimizer,
            cpu,
            picks: vec![0; config.batch_size],
            rng,
            steps_done: 0,
            final_loss: f64::NAN,
            agreement_curve: Vec::new(),
        })
    }

    /// `steps` gradient steps on minibatches drawn uniformly from `train`, measuring the
    /// agreement on `holdout` at the steps [`is_curve_step`] picks.
    fn fit(
        &mut self,
        train: &DistillBuffer,
        holdout: &DistillBuffer,
        steps: u64,
        observer: &mut dyn Observer,
    ) -> Result<(), DistillError> {
        let config = self.config;
        // For libtorch's step the whole training set lives on the device, and minibatches
        // are index selections there.
        let on_device = match self.cpu {
            Some(_) => None,
            None => Some(DeviceData::new(train, self.policy.device())),
        };
        let (mut loss_sum, mut loss_count) = (0.0, 0u64);

        for _ in 0..steps {
            if observer.interrupted() {
                break;
            }
            for slot in self.picks.iter_mut() {
                *slot = self.rng.random_range(0..train.len());
            }
            let value = match (&mut self.cpu, &mut self.optimizer, &on_device) {
                (Some(cpu), Optimizer::Fused(adam), _) => {
                    let value = cpu.step(train, &self.picks, config);
                    adam.step_with_gradients(&cpu.gradients());
                    value
                }
                (_, optimizer, Some(data)) => {
                    let loss = data.loss(&self.policy, &self.picks, config);
                    optimizer.backward_step(&loss);
                    loss.double_value(&[])
                }
                _ => unreachable!("the data is on the device whenever there is no CPU step"),
            };
            self.steps_done += 1;
            let step = self.steps_done;

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
            if is_curve_step(step, config.steps, config.agreement_points) {
                self.measure_agreement(holdout, observer);
            }
        }
        if loss_count > 0 {
            self.final_loss = loss_sum / loss_count as f64;
        }
        Ok(())
    }

    /// Appends the held-out agreement at the current step to the curve and the log.
    fn measure_agreement(&mut self, holdout: &DistillBuffer, observer: &mut dyn Observer) {
        let value = agreement(&self.policy, holdout);
        observer.scalar("distill/agreement", value, self.steps_done);
        self.agreement_curve.push((self.steps_done, value));
    }

    fn finish(
        mut self,
        holdout: &DistillBuffer,
        start: Instant,
        observer: &mut dyn Observer,
    ) -> StudentOutcome {
        // The curve's last point is the final agreement unless fitting stopped early or no
        // point was asked for; then it is measured now.
        if self.agreement_curve.last().map(|&(step, _)| step) != Some(self.steps_done) {
            self.measure_agreement(holdout, observer);
        }
        let agreement = self.agreement_curve.last().expect("measured just above").1;
        StudentOutcome {
            policy: self.policy,
            agreement,
            agreement_curve: self.agreement_curve,
            final_loss: self.final_loss,
            seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// Whether the held-out agreement is measured after gradient step `step` (counted from 1) of
/// `total`: at `points` steps spread evenly, the last of them `total` itself. Those are the
/// steps where `step · points / total` reaches a new integer.
fn is_curve_step(step: u64, total: u64, points: usize) -> bool {
    let (step, total, points) = (step as u128, total as u128, points as u128);
    total > 0 && step <= total && step * points / total > (step - 1) * points / total
}

/// The training set as two tensors on the policy's device, for the libtorch step.
struct DeviceData {
    obs: Tensor,
    teacher_q: Tensor,
}

impl DeviceData {
    fn new(train: &DistillBuffer, device: Device) -> Self {
        let (d, a) = (train.obs_dim() as i64, train.n_actions() as i64);
        DeviceData {
            obs: Tensor::from_slice(train.all_obs())
                .view([-1, d])
                .to_device(device),
            teacher_q: Tensor::from_slice(train.all_teacher_q())
                .view([-1, a])
                .to_device(device),
        }
    }

    /// The loss of `policy` on the rows `picks`, recorded for autograd.
    fn loss(&self, policy: &MlpPolicy, picks: &[usize], config: &DistillConfig) -> Tensor {
        let indices: Vec<i64> = picks.iter().map(|&i| i as i64).collect();
        let indices = Tensor::from_slice(&indices).to_device(self.obs.device());
        let obs = self.obs.index_select(0, &indices);
        let teacher_q = self.teacher_q.index_select(0, &indices);
        let student = policy.forward(&obs);
        let (t, w) = (config.temperature, config.hard_label_weight);
        distill_loss(config.loss, &student, &teacher_q, t, w)
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
    fitter.fit(train, holdout, config.steps, observer)?;
    Ok(fitter.finish(holdout, start, observer))
}

/// Fits a student by DAgger: `config.rounds` rounds of collection and fitting. Round 0
/// collects with the teacher; round r > 0 with the student as fitted so far, taking the
/// teacher's action with probability `config.beta`^r. Every state is labelled by the teacher,
/// states are aggregated over rounds, each round holds out `holdout_fraction` of its states for
/// measuring agreement, and the states and gradient steps are split evenly over the rounds, so
/// the budget is the one teacher-driven collection uses. The agreement curve's points are
/// spread over all rounds' steps; each is measured on the states held out so far.
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
        fitter.fit(&train, &holdout, share(config.steps), observer)?;
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

    /// Fits an 8-unit student for 500 steps to a teacher that takes action 1 when the first
    /// feature is positive, with a margin of 1.
    fn fit_threshold_teacher(agreement_points: usize) -> StudentOutcome {
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
            agreement_points,
            ..DistillConfig::default()
        };
        let device = Device::Cpu;
        fit_student(
            "t",
            &[8],
            &train,
            &holdout,
            &config,
            device,
            0,
            0,
            &mut NoObserver,
        )
        .unwrap()
    }

    #[test]
    fn a_student_learns_a_simple_teacher_almost_perfectly() {
        let outcome = fit_threshold_teacher(20);
        assert!(outcome.agreement >= 0.97, "agreement {}", outcome.agreement);
        assert!(outcome.final_loss.is_finite());
        // 20 points, every 25 of the 500 steps, the last the final agreement.
        let steps: Vec<u64> = outcome.agreement_curve.iter().map(|p| p.0).collect();
        assert_eq!(steps, (1..=20).map(|i| 25 * i).collect::<Vec<_>>());
        assert_eq!(outcome.agreement_curve[19].1, outcome.agreement);
        assert!(outcome.agreement_curve[0].1 < outcome.agreement);
    }

    #[test]
    fn measuring_the_curve_leaves_the_fit_unchanged() {
        let with_curve = fit_threshold_teacher(20);
        let without = fit_threshold_teacher(0);
        // Without points only the final agreement is measured.
        assert_eq!(without.agreement_curve, [(500, without.agreement)]);
        assert_eq!(without.agreement, with_curve.agreement);
        assert_eq!(without.final_loss, with_curve.final_loss);
        let probe = [0.3f32, -0.7, -0.2, 0.9];
        let scores = |o: &StudentOutcome| Vec::<f32>::try_from(o.policy.scores(&probe).view([-1]));
        assert_eq!(scores(&without).unwrap(), scores(&with_curve).unwrap());
    }

    #[test]
    fn agreement_is_measured_at_evenly_spread_steps_ending_with_the_last() {
        let steps = |total, points| -> Vec<u64> {
            (1..=total)
                .filter(|&s| is_curve_step(s, total, points))
                .collect()
        };
        assert_eq!(steps(10, 3), [4, 7, 10]);
        assert_eq!(steps(4000, 4), [1000, 2000, 3000, 4000]);
        assert_eq!(steps(5, 1), [5]);
        assert_eq!(steps(3, 10), [1, 2, 3]);
        assert_eq!(steps(3, usize::MAX), [1, 2, 3]);
        assert!(steps(100, 0).is_empty());
    }

    #[test]
    fn the_plain_rust_step_and_the_libtorch_step_fit_the_same_student() {
        let mut buffer = DistillBuffer::new(4, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1_000 {
            let obs: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..1.0)).collect();
            let gap = obs[2] + 0.5 * obs[3];
            buffer.push(&obs, &[100.0 - gap, 100.0 + gap]);
        }
        let config = DistillConfig {
            steps: 100,
            batch_size: 64,
            ..DistillConfig::default()
        };
        let fitted = |plain: bool| {
            let mut fitter = Fitter::new("t", &[16], 4, 2, &config, Device::Cpu, 0, 0).unwrap();
            assert!(fitter.cpu.is_some());
            if !plain {
                fitter.cpu = None;
            }
            fitter
                .fit(&buffer, &buffer, config.steps, &mut NoObserver)
                .unwrap();
            let vars = fitter.policy.var_store().variables();
            let mut names: Vec<&String> = vars.keys().collect();
            names.sort();
            let values: Vec<f32> = names
                .iter()
                .flat_map(|n| Vec::<f32>::try_from(vars[*n].view([-1])).unwrap())
                .collect();
            (values, fitter.final_loss)
        };
        let (plain, plain_loss) = fitted(true);
        let (torch, torch_loss) = fitted(false);
        // Only the order of additions differs; after 100 Adam steps the weights still agree
        // to about 1e-4.
        for (a, b) in plain.iter().zip(&torch) {
            assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!(
            (plain_loss - torch_loss).abs() <= 1e-3 * torch_loss,
            "{plain_loss} vs {torch_loss}"
        );
    }

    #[test]
    fn non_finite_observations_stop_fitting_as_a_divergence() {
        // A ReLU written as max(x, 0) would turn the NaNs into zeros and fit on silently.
        let mut buffer = DistillBuffer::new(2, 2);
        for _ in 0..10 {
            buffer.push(&[f32::NAN, 1.0], &[1.0, 0.0]);
        }
        let config = DistillConfig {
            steps: 5,
            batch_size: 4,
            ..DistillConfig::default()
        };
        let result = fit_student(
            "nan",
            &[8],
            &buffer,
            &buffer,
            &config,
            Device::Cpu,
            0,
            0,
            &mut NoObserver,
        );
        assert!(
            matches!(result, Err(DistillError::Diverged { step: 1, .. })),
            "{:?}",
            result.err()
        );
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
