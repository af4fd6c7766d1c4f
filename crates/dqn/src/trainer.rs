//! The DQN training loop.

use crate::nstep::NStepReturns;
use crate::prioritized::{beta_schedule, Priorities};
use crate::target::{next_state_values, td_loss, weighted_td_loss};
use crate::{td_targets, Batch, DqnConfig, DqnError, LinearSchedule, ReplayBuffer, Transition};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::seed::{derive, Stream};
use retort_core::{
    evaluate, exact_return, AdamConfig, EvalConfig, MlpPolicy, MlpSpec, Observer, Optimizer,
};
use retort_envs::{make, EnvSpec};
use std::path::PathBuf;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Gradient steps between two `losses/*` points in the log.
const LOSS_LOG_INTERVAL: u64 = 100;
/// Environment steps between two `charts/epsilon` points.
const EPSILON_LOG_INTERVAL: u64 = 1_000;

/// What training produced.
pub struct TrainOutcome {
    /// The network that scored best in the periodic greedy evaluations (the last one if there
    /// were none). Choosing it on evaluation episodes flatters its score on those episodes, so
    /// report a fresh evaluation with other seeds, never the best evaluation score itself.
    pub policy: MlpPolicy,
    /// Environment steps taken.
    pub env_steps: u64,
    /// Gradient steps taken.
    pub gradient_steps: u64,
    /// Episodes finished while training.
    pub episodes: u64,
    /// Wall-clock seconds of training, evaluations during training included, over every
    /// process of a resumed run.
    pub seconds: f64,
    /// The part of `seconds` spent before the checkpoint this training resumed from (0 when
    /// it started afresh).
    pub resumed_seconds: f64,
    /// The env step at which a greedy evaluation first reached the target return.
    pub solved_at: Option<u64>,
    /// Best mean return of the periodic evaluations.
    pub best_eval: Option<f64>,
    /// Training stopped because the observer asked it to.
    pub interrupted: bool,
    /// Where the wall-clock time went.
    pub timings: Timings,
}

/// Seconds spent in each part of training, measured around each piece of work (the clock
/// reads themselves cost tens of nanoseconds, far below the smallest piece).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timings {
    /// Choosing actions: ε draws and the acting network's forward passes.
    pub choose: f64,
    /// Stepping and resetting the environments.
    pub env: f64,
    /// Folding steps into (n-step) transitions and writing them to the replay buffer.
    pub store: f64,
    /// Drawing minibatches from the buffer (and their priorities) and making tensors of them.
    pub sample: f64,
    /// TD targets and the online network's forward pass and loss.
    pub forward: f64,
    /// Back-propagation, gradient clipping and the Adam update (and new priorities).
    pub backward: f64,
    /// Target-network updates and refreshing the acting copy of the online network.
    pub sync: f64,
    /// Periodic greedy evaluations.
    pub evaluating: f64,
    /// Writing resumable checkpoints.
    #[serde(default)]
    pub checkpointing: f64,
}

impl Timings {
    /// Acting in the environments: choosing, stepping, storing.
    pub fn acting(&self) -> f64 {
        self.choose + self.env + self.store
    }

    /// Learning: sampling, forward, backward, synchronising networks.
    pub fn learning(&self) -> f64 {
        self.sample + self.forward + self.backward + self.sync
    }
}

/// Where a training run comes from and what it leaves for a later one.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Continue the run saved in this resumable checkpoint instead of starting afresh. The
    /// configuration, environment and seed must be those that started it.
    pub resume: Option<PathBuf>,
    /// Write resumable checkpoints here: every `checkpoint_interval` env steps, and when
    /// training stops early (observer interruption or `stop_at`).
    pub checkpoint: Option<PathBuf>,
    /// Stop, as an interruption would, once this many env steps are done. Together with
    /// `checkpoint` and `resume` this splits a run into pieces that end exactly where an
    /// uninterrupted run would have been.
    pub stop_at: Option<u64>,
}

/// Trains a DQN teacher on `spec` until its budget is spent, its greedy evaluation reaches
/// the target return, or the observer interrupts it.
pub fn train(
    config: &DqnConfig,
    spec: &EnvSpec,
    device: Device,
    seed: u64,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome, DqnError> {
    train_with(
        config,
        spec,
        device,
        seed,
        observer,
        &TrainOptions::default(),
    )
}

/// [`train`], resuming from and writing resumable checkpoints as `options` say.
pub fn train_with(
    config: &DqnConfig,
    spec: &EnvSpec,
    device: Device,
    seed: u64,
    observer: &mut dyn Observer,
    options: &TrainOptions,
) -> Result<TrainOutcome, DqnError> {
    config.validate()?;
    let start = Instant::now();
    let mut learner = Learner::new(config, spec, device, seed)?;
    let mut run = RunState {
        best_eval: None,
        best: MlpPolicy::new(learner.online.spec().clone(), device, 0),
        solved_at: None,
        next_eval: config.eval_interval,
        last_eval_step: None,
        next_checkpoint: config.checkpoint_interval,
        seconds_before: 0.0,
        last_checkpoint: None,
    };
    if let Some(path) = &options.resume {
        crate::resume::load(path, spec, seed, &mut learner, &mut run)?;
        tracing::info!(env_step = learner.env_steps, path = %path.display(), "resumed");
        observer.resumed(learner.env_steps);
    }
    let threshold = config.target_return.or(learner.reward_threshold);
    let eval_config = EvalConfig {
        episodes: config.eval_episodes,
        seed: derive(seed, Stream::TrainEval, 0),
    };
    let exact = config.exact_evaluator(spec)?;
    let mut interrupted = false;
    let save = |learner: &Learner,
                run: &mut RunState,
                observer: &mut dyn Observer|
     -> Result<(), DqnError> {
        if let Some(path) = &options.checkpoint {
            observer.checkpointing(learner.env_steps);
            let seconds = run.seconds_before + start.elapsed().as_secs_f64();
            if crate::resume::save(path, spec, seed, learner, run, seconds)? {
                run.last_checkpoint = Some((path.clone(), learner.env_steps));
            } else if run.last_checkpoint.is_none() {
                tracing::warn!(
                    "no resumable checkpoint written: libtorch's Adam, used off the CPU, does \
                     not expose its state"
                );
            }
        }
        Ok(())
    };

    while learner.env_steps < config.total_steps {
        let stop_here = options.stop_at.is_some_and(|s| learner.env_steps >= s);
        if stop_here || observer.interrupted() {
            interrupted = true;
            let clock = Instant::now();
            save(&learner, &mut run, observer)?;
            learner.timings.checkpointing += clock.elapsed().as_secs_f64();
            break;
        }
        learner.act_and_store(observer)?;
        if let Err(error) = learner.train_if_due(observer) {
            return Err(with_last_checkpoint(error, &run));
        }
        observer.progress(learner.env_steps);

        let budget_spent = learner.env_steps >= config.total_steps;
        if config.eval_interval > 0 && (learner.env_steps >= run.next_eval || budget_spent) {
            run.next_eval += config.eval_interval;
            run.last_eval_step = Some(learner.env_steps);
            observer.quiet_ahead();
            let tick = Instant::now();
            // An exact evaluation is a mean with no spread to log.
            let (mean, std) = match &exact {
                Some(evaluator) => (exact_return(&learner.online, evaluator), None),
                None => {
                    let stats = evaluate(&learner.online, spec, &eval_config)?;
                    (stats.summary.mean, Some(stats.summary.std))
                }
            };
            learner.timings.evaluating += tick.elapsed().as_secs_f64();
            observer.scalar("eval/return_mean", mean, learner.env_steps);
            if let Some(std) = std {
                observer.scalar("eval/return_std", std, learner.env_steps);
            }
            let elapsed = run.seconds_before + start.elapsed().as_secs_f64();
            observer.scalar(
                "time/sps",
                learner.env_steps as f64 / elapsed,
                learner.env_steps,
            );
            if run.best_eval.is_none_or(|b| mean > b) {
                run.best_eval = Some(mean);
                run.best.copy_from(&learner.online)?;
            }
            if threshold.is_some_and(|t| mean >= t) {
                run.solved_at = Some(learner.env_steps);
                break;
            }
        }
        if config.checkpoint_interval > 0
            && learner.env_steps >= run.next_checkpoint
            && !budget_spent
        {
            while run.next_checkpoint <= learner.env_steps {
                run.next_checkpoint += config.checkpoint_interval;
            }
            let clock = Instant::now();
            save(&learner, &mut run, observer)?;
            learner.timings.checkpointing += clock.elapsed().as_secs_f64();
        }
    }
    let policy = match run.last_eval_step {
        Some(_) => run.best,
        None => learner.online,
    };
    Ok(TrainOutcome {
        policy,
        env_steps: learner.env_steps,
        gradient_steps: learner.gradient_steps,
        episodes: learner.episodes,
        seconds: run.seconds_before + start.elapsed().as_secs_f64(),
        resumed_seconds: run.seconds_before,
        solved_at: run.solved_at,
        best_eval: run.best_eval,
        interrupted,
        timings: learner.timings,
    })
}

/// Seconds since `clock`, which is moved to now.
fn lap(clock: &mut Instant) -> f64 {
    let now = Instant::now();
    let seconds = (now - *clock).as_secs_f64();
    *clock = now;
    seconds
}

/// A divergence error that also names the last checkpoint written before it.
fn with_last_checkpoint(error: DqnError, run: &RunState) -> DqnError {
    match error {
        DqnError::Diverged {
            env_step,
            gradient_step,
            what,
            ..
        } => DqnError::Diverged {
            env_step,
            gradient_step,
            what,
            last_checkpoint: run.last_checkpoint.clone(),
        },
        other => other,
    }
}

/// What the training loop keeps beside the learner: evaluations and schedules.
pub(crate) struct RunState {
    pub best_eval: Option<f64>,
    /// The network of the best evaluation so far.
    pub best: MlpPolicy,
    pub solved_at: Option<u64>,
    pub next_eval: u64,
    pub last_eval_step: Option<u64>,
    pub next_checkpoint: u64,
    /// Wall-clock seconds spent before this process resumed the run.
    pub seconds_before: f64,
    /// The last checkpoint this process wrote, and its env step.
    pub last_checkpoint: Option<(PathBuf, u64)>,
}

/// Moves the target network's weights towards the online network's:
/// `target ← τ · online + (1 − τ) · target`, a plain copy when τ = 1.
pub fn update_target(target: &mut MlpPolicy, online: &MlpPolicy, tau: f64) -> Result<(), DqnError> {
    if tau >= 1.0 {
        target.copy_from(online)?;
        return Ok(());
    }
    let online = online.var_store().variables();
    let mut target = target.var_store().variables();
    tch::no_grad(|| {
        for (name, t) in target.iter_mut() {
            let blended = &*t * (1.0 - tau) + &online[name] * tau;
            t.copy_(&blended);
        }
    });
    Ok(())
}

/// The state of one training run: environments, networks, optimiser, buffer and counters.
pub(crate) struct Learner<'a> {
    pub(crate) config: &'a DqnConfig,
    pub(crate) envs: Vec<Box<dyn retort_envs::Env>>,
    pub(crate) reward_threshold: Option<f64>,
    pub(crate) obs_dim: usize,
    pub(crate) n_actions: usize,
    pub(crate) online: MlpPolicy,
    /// A plain-Rust copy of `online` for choosing actions, refreshed after every training
    /// round: a libtorch call per environment step costs more than the whole forward pass.
    pub(crate) acting: retort_runtime::Mlp,
    pub(crate) target: MlpPolicy,
    pub(crate) optimizer: Optimizer,
    pub(crate) buffer: ReplayBuffer,
    /// Each copy's steps not yet folded into a stored transition (n-step returns).
    pub(crate) n_step: NStepReturns,
    /// The priority of every slot of `buffer`, when replay is prioritized.
    pub(crate) priorities: Option<Priorities>,
    pub(crate) batch: Batch,
    pub(crate) epsilon: LinearSchedule,
    /// The exponent β of the importance-sampling weights of prioritized replay.
    pub(crate) beta: LinearSchedule,
    pub(crate) explore_rng: ChaCha8Rng,
    pub(crate) replay_rng: ChaCha8Rng,
    /// Current observation of every copy, row after row.
    pub(crate) obs: Vec<f32>,
    pub(crate) next_obs: Vec<f32>,
    pub(crate) greedy: Vec<usize>,
    pub(crate) explore: Vec<bool>,
    pub(crate) episode_returns: Vec<f64>,
    pub(crate) episode_lengths: Vec<u64>,
    pub(crate) env_steps: u64,
    pub(crate) gradient_steps: u64,
    pub(crate) episodes: u64,
    pub(crate) next_train: u64,
    pub(crate) loss_sum: f64,
    pub(crate) loss_count: u64,
    /// Where the time went so far.
    pub(crate) timings: Timings,
    /// Sum of the batches' mean importance-sampling weights since the last `losses/*` point.
    pub(crate) weight_sum: f64,
}

impl<'a> Learner<'a> {
    fn new(
        config: &'a DqnConfig,
        spec: &EnvSpec,
        device: Device,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let n = config.num_envs;
        let mut envs = (0..n).map(|_| make(spec)).collect::<Result<Vec<_>, _>>()?;
        let obs_dim = envs[0].obs_dim();
        let n_actions = envs[0].n_actions();
        let reward_threshold = envs[0].reward_threshold();
        let mut obs = vec![0f32; n * obs_dim];
        for (i, env) in envs.iter_mut().enumerate() {
            let env_seed = derive(seed, Stream::TrainEnv, i as u64);
            env.reset(Some(env_seed), &mut obs[i * obs_dim..(i + 1) * obs_dim]);
        }

        config.check_buffer_memory(obs_dim)?;
        let too_large = || DqnError::BufferTooLarge {
            capacity: config.buffer_size,
            bytes: config.buffer_bytes(obs_dim),
        };
        let buffer = ReplayBuffer::try_new(config.buffer_size, obs_dim).ok_or_else(too_large)?;
        let priorities = if config.prioritized_replay {
            let (alpha, epsilon) = (config.priority_alpha, config.priority_epsilon);
            let priorities = Priorities::try_new(config.buffer_size, alpha, epsilon);
            Some(priorities.ok_or_else(too_large)?)
        } else {
            None
        };
        let mlp = MlpSpec {
            obs_dim,
            n_actions,
            hidden: config.hidden.clone(),
            dueling: config.dueling,
        };
        let online = MlpPolicy::new(mlp.clone(), device, derive(seed, Stream::Init, 0));
        let mut target = MlpPolicy::new(mlp, device, derive(seed, Stream::Init, 1));
        target.copy_from(&online)?;
        let adam = AdamConfig {
            max_grad_norm: Some(config.max_grad_norm),
            ..AdamConfig::new(config.learning_rate)
        };
        let optimizer = Optimizer::adam(online.var_store(), adam)?;
        let duration = (config.exploration_fraction * config.total_steps as f64) as u64;
        let acting = online.to_runtime();
        Ok(Learner {
            acting,
            config,
            envs,
            reward_threshold,
            obs_dim,
            n_actions,
            online,
            target,
            optimizer,
            buffer,
            n_step: NStepReturns::new(config.n_step, config.gamma, obs_dim, n),
            priorities,
            batch: Batch::default(),
            beta: beta_schedule(config),
            epsilon: LinearSchedule {
                start: config.exploration_initial_eps,
                end: config.exploration_final_eps,
                duration,
            },
            explore_rng: ChaCha8Rng::seed_from_u64(derive(seed, Stream::Explore, 0)),
            replay_rng: ChaCha8Rng::seed_from_u64(derive(seed, Stream::Replay, 0)),
            next_obs: vec![0f32; obs_dim],
            greedy: vec![0; n],
            explore: vec![false; n],
            obs,
            episode_returns: vec![0.0; n],
            episode_lengths: vec![0; n],
            env_steps: 0,
            gradient_steps: 0,
            episodes: 0,
            next_train: config.train_freq,
            loss_sum: 0.0,
            loss_count: 0,
            weight_sum: 0.0,
            timings: Timings::default(),
        })
    }

    /// Takes one ε-greedy step in every copy and stores the transitions.
    fn act_and_store(&mut self, observer: &mut dyn Observer) -> Result<(), DqnError> {
        let d = self.obs_dim;
        let epsilon = self.epsilon.value(self.env_steps);
        if self.env_steps % EPSILON_LOG_INTERVAL < self.envs.len() as u64 {
            observer.scalar("charts/epsilon", epsilon, self.env_steps);
        }
        let mut clock = Instant::now();
        for flag in self.explore.iter_mut() {
            *flag = self.explore_rng.random::<f64>() < epsilon;
        }
        // The network is asked only when some copy acts greedily.
        if self.explore.iter().any(|explore| !explore) {
            self.acting.act_batch(&self.obs, &mut self.greedy);
        }

        for i in 0..self.envs.len() {
            let action = if self.explore[i] {
                self.explore_rng.random_range(0..self.n_actions)
            } else {
                self.greedy[i]
            };
            self.timings.choose += lap(&mut clock);
            let obs = &mut self.obs[i * d..(i + 1) * d];
            let step = self.envs[i].step(action, &mut self.next_obs)?;
            self.timings.env += lap(&mut clock);
            let transition = Transition {
                obs,
                action,
                reward: step.reward,
                next_obs: &self.next_obs,
                terminated: step.terminated,
                truncated: step.truncated,
                discount: self.config.gamma,
            };
            // The step joins this copy's n-step window; whatever transitions it completes go
            // into the buffer, at the largest priority so far when replay is prioritized.
            let (buffer, priorities) = (&mut self.buffer, &mut self.priorities);
            self.n_step.push(i, &transition, |t| {
                let slot = buffer.push(t);
                if let Some(priorities) = priorities {
                    priorities.on_write(slot);
                }
            });
            self.timings.store += lap(&mut clock);
            self.env_steps += 1;
            self.episode_returns[i] += step.reward;
            self.episode_lengths[i] += 1;
            if step.done() {
                observer.scalar(
                    "charts/episodic_return",
                    self.episode_returns[i],
                    self.env_steps,
                );
                let length = self.episode_lengths[i] as f64;
                observer.scalar("charts/episodic_length", length, self.env_steps);
                self.episode_returns[i] = 0.0;
                self.episode_lengths[i] = 0;
                self.episodes += 1;
                // The buffer already holds the true final observation; the copy restarts.
                clock = Instant::now();
                self.envs[i].reset(None, obs);
                self.timings.env += lap(&mut clock);
            } else {
                obs.copy_from_slice(&self.next_obs);
            }
        }
        Ok(())
    }

    /// Runs the rounds of gradient steps that the env-step clock has made due.
    fn train_if_due(&mut self, observer: &mut dyn Observer) -> Result<(), DqnError> {
        while self.env_steps >= self.next_train {
            self.next_train += self.config.train_freq;
            if self.env_steps < self.config.learning_starts {
                continue;
            }
            for _ in 0..self.config.gradient_steps {
                self.gradient_step(observer)?;
            }
            let clock = Instant::now();
            self.acting = self.online.to_runtime();
            self.timings.sync += clock.elapsed().as_secs_f64();
        }
        Ok(())
    }

    /// One minibatch update of the online network, then the target update when due.
    fn gradient_step(&mut self, observer: &mut dyn Observer) -> Result<(), DqnError> {
        let config = self.config;
        let (b, d) = (config.batch_size as i64, self.obs_dim as i64);
        let device = self.online.device();
        let beta = self.beta.value(self.env_steps);
        let mut clock = Instant::now();
        self.sample_batch(beta);
        let batch = &self.batch;
        let obs = Tensor::from_slice(&batch.obs)
            .view([b, d])
            .to_device(device);
        let next_obs = Tensor::from_slice(&batch.next_obs)
            .view([b, d])
            .to_device(device);
        let actions = Tensor::from_slice(&batch.actions).to_device(device);
        let rewards = Tensor::from_slice(&batch.rewards).to_device(device);
        let terminated = Tensor::from_slice(&batch.terminated).to_device(device);
        let discounts = Tensor::from_slice(&batch.discounts).to_device(device);
        let weights = self
            .priorities
            .is_some()
            .then(|| Tensor::from_slice(&batch.weights).to_device(device));
        self.timings.sample += lap(&mut clock);

        // Targets come from the target network (and, for Double DQN, the online network's
        // picks) without gradients.
        let targets = tch::no_grad(|| {
            let target_q = self.target.forward(&next_obs);
            let online_q = config.double_dqn.then(|| self.online.forward(&next_obs));
            let next_values = next_state_values(&target_q, online_q.as_ref());
            td_targets(&rewards, &terminated, &next_values, &discounts)
        });

        // Huber loss between the Q-value of the action taken and its target; with prioritized
        // replay each sample's term is scaled by its importance-sampling weight.
        let q_all = self.online.forward(&obs);
        let q_taken = q_all.gather(1, &actions.unsqueeze(1), false).squeeze_dim(1);
        let loss = match &weights {
            None => td_loss(&q_taken, &targets),
            Some(weights) => weighted_td_loss(&q_taken, &targets, weights),
        };
        let td_errors = self
            .priorities
            .is_some()
            .then(|| (&q_taken - &targets).detach());
        self.timings.forward += lap(&mut clock);
        self.optimizer.backward_step(&loss);
        self.gradient_steps += 1;

        let loss_value = loss.double_value(&[]);
        if !loss_value.is_finite() {
            return Err(self.diverged(format!("TD loss is {loss_value}")));
        }
        if let Some(td_errors) = td_errors {
            self.update_priorities(&td_errors)?;
        }
        self.timings.backward += lap(&mut clock);
        self.loss_sum += loss_value;
        self.loss_count += 1;
        if self.gradient_steps % LOSS_LOG_INTERVAL == 0 {
            let mean_q = q_all.detach().mean(Kind::Float).double_value(&[]);
            self.log_losses(observer, mean_q, beta);
        }

        if self.gradient_steps % config.target_update_interval == 0 {
            clock = Instant::now();
            self.update_target()?;
            self.timings.sync += lap(&mut clock);
        }
        Ok(())
    }

    /// Fills `self.batch`: uniformly, or by priority with the importance-sampling weights for
    /// the exponent `beta`. Both draw from the replay stream.
    fn sample_batch(&mut self, beta: f64) {
        let size = self.config.batch_size;
        let batch = &mut self.batch;
        match &self.priorities {
            None => self.buffer.sample_into(size, &mut self.replay_rng, batch),
            Some(priorities) => {
                priorities.sample(size, &mut self.replay_rng, &mut batch.indices);
                self.buffer.gather(batch);
                priorities.importance_weights(&batch.indices, beta, &mut batch.weights);
            }
        }
    }

    /// Gives the slots of the last batch the priorities of their TD errors (computed before
    /// the gradient step), and adds the batch's mean importance-sampling weight to the log.
    fn update_priorities(&mut self, td_errors: &Tensor) -> Result<(), DqnError> {
        let td_errors = Vec::<f32>::try_from(td_errors.to_device(Device::Cpu))?;
        let priorities = self
            .priorities
            .as_mut()
            .expect("only prioritized replay has TD errors to store");
        priorities.update(&self.batch.indices, &td_errors);
        let total = priorities.tree.total();
        if !total.is_finite() {
            return Err(self.diverged(format!("the sum of replay priorities is {total}")));
        }
        let weights = &self.batch.weights;
        let sum: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        self.weight_sum += sum / weights.len() as f64;
        Ok(())
    }

    /// Writes the `losses/*` means since the last point (and, with prioritized replay, β and
    /// the largest priority), then starts the next interval.
    fn log_losses(&mut self, observer: &mut dyn Observer, mean_q: f64, beta: f64) {
        let (step, count) = (self.env_steps, self.loss_count as f64);
        observer.scalar("losses/td_loss", self.loss_sum / count, step);
        observer.scalar("losses/q_values", mean_q, step);
        if let Some(priorities) = &self.priorities {
            let mean_weight = self.weight_sum / count;
            observer.scalar("losses/importance_weight_mean", mean_weight, step);
            observer.scalar("charts/priority_beta", beta, step);
            observer.scalar("charts/priority_max", priorities.max_priority, step);
        }
        self.loss_sum = 0.0;
        self.loss_count = 0;
        self.weight_sum = 0.0;
    }

    /// The error that stops a run whose numbers stopped being finite.
    fn diverged(&self, what: String) -> DqnError {
        DqnError::Diverged {
            env_step: self.env_steps,
            gradient_step: self.gradient_steps,
            what,
            last_checkpoint: None,
        }
    }

    /// Hard copy (`target_tau` = 1) or Polyak blend of the online weights into the target.
    fn update_target(&mut self) -> Result<(), DqnError> {
        update_target(&mut self.target, &self.online, self.config.target_tau)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(value: f64) -> MlpPolicy {
        let policy = MlpPolicy::new(
            MlpSpec {
                obs_dim: 2,
                n_actions: 2,
                hidden: vec![3],
                dueling: false,
            },
            Device::Cpu,
            0,
        );
        tch::no_grad(|| {
            for (_, mut t) in policy.var_store().variables() {
                let _ = t.fill_(value);
            }
        });
        policy
    }

    fn all_values(policy: &MlpPolicy) -> Vec<f32> {
        let vars = policy.var_store().variables();
        vars.values()
            .flat_map(|t| Vec::<f32>::try_from(t.view([-1])).unwrap())
            .collect()
    }

    #[test]
    fn polyak_after_three_updates_keeps_0_9_cubed_of_the_old_weights() {
        // Target 0, online 1, τ = 0.1: after k updates the target is 1 − 0.9^k; k = 3 → 0.271.
        let mut target = filled(0.0);
        let online = filled(1.0);
        for _ in 0..3 {
            update_target(&mut target, &online, 0.1).unwrap();
        }
        for v in all_values(&target) {
            assert!((v - 0.271).abs() < 1e-6, "{v}");
        }
    }

    /// Keeps the last value of every tag.
    #[derive(Default)]
    struct LastValues(std::collections::BTreeMap<String, f64>);

    impl Observer for LastValues {
        fn scalar(&mut self, tag: &str, value: f64, _step: u64) {
            self.0.insert(tag.to_string(), value);
        }
    }

    #[test]
    fn prioritized_n_step_training_runs_through_a_wrapping_buffer() {
        // A tiny budget on two CartPole copies with a 300-slot buffer that wraps several
        // times: 2 000 env steps, with rounds of 8 gradient steps at env steps 500, 600, …,
        // 2 000 → 16 rounds, 128 gradient steps. The one `losses/*` point comes at gradient
        // step 100, in the round at env step 1 700.
        let config = DqnConfig {
            hidden: vec![16],
            total_steps: 2_000,
            num_envs: 2,
            batch_size: 16,
            buffer_size: 300,
            learning_starts: 500,
            train_freq: 100,
            gradient_steps: 8,
            n_step: 3,
            prioritized_replay: true,
            eval_interval: 0,
            ..DqnConfig::default()
        };
        let mut observer = LastValues::default();
        let spec = EnvSpec::new("CartPole-v1");
        let outcome = train(&config, &spec, Device::Cpu, 0, &mut observer).unwrap();
        assert_eq!((outcome.env_steps, outcome.gradient_steps), (2_000, 128));
        let logged = &observer.0;
        // β there: 0.4 + 0.6 · 1 700 / 2 000 = 0.91.
        assert!(
            (logged["charts/priority_beta"] - 0.91).abs() < 1e-12,
            "{logged:?}"
        );
        let mean_weight = logged["losses/importance_weight_mean"];
        assert!(mean_weight > 0.0 && mean_weight <= 1.0, "{mean_weight}");
        assert!(logged["charts/priority_max"] >= 1.0);
    }

    /// Records the order of the hooks that put logs on disk, and whether the checkpoint file
    /// already existed at each `checkpointing` call.
    struct HookOrder {
        checkpoint: PathBuf,
        calls: Vec<String>,
    }

    impl Observer for HookOrder {
        fn scalar(&mut self, tag: &str, _value: f64, step: u64) {
            if tag == "eval/return_mean" {
                self.calls.push(format!("eval {step}"));
            }
        }
        fn quiet_ahead(&mut self) {
            self.calls.push("quiet".into());
        }
        fn checkpointing(&mut self, step: u64) {
            let exists = self.checkpoint.exists();
            self.calls
                .push(format!("checkpointing {step}, file there: {exists}"));
        }
    }

    #[test]
    fn logs_go_to_disk_before_each_checkpoint_and_each_evaluation() {
        // Flushing after the checkpoint would let a crash between the two resume past events
        // never written; an evaluation logs nothing while it runs.
        let dir = std::env::temp_dir().join(format!("retort-hooks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let checkpoint = dir.join("resume.safetensors");
        let _ = std::fs::remove_file(&checkpoint);
        let config = DqnConfig {
            eval_interval: 200,
            eval_episodes: 2,
            checkpoint_interval: 200,
            ..tiny(false)
        };
        let mut observer = HookOrder {
            checkpoint: checkpoint.clone(),
            calls: Vec::new(),
        };
        let options = TrainOptions {
            checkpoint: Some(checkpoint.clone()),
            ..TrainOptions::default()
        };
        let spec = EnvSpec::new("CartPole-v1");
        train_with(&config, &spec, Device::Cpu, 0, &mut observer, &options).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let calls = observer.calls;
        let first = calls.iter().find(|c| c.starts_with("checkpointing"));
        assert_eq!(
            first.map(String::as_str),
            Some("checkpointing 200, file there: false"),
            "{calls:?}"
        );
        for (i, call) in calls.iter().enumerate() {
            if call.starts_with("eval") {
                assert_eq!(calls[i - 1], "quiet", "{calls:?}");
            }
        }
        assert!(
            calls.iter().filter(|c| c.starts_with("eval")).count() >= 2,
            "{calls:?}"
        );
    }

    #[test]
    fn tau_one_copies_exactly() {
        let mut target = filled(0.25);
        let online = filled(-3.5);
        update_target(&mut target, &online, 1.0).unwrap();
        assert!(all_values(&target).iter().all(|&v| v == -3.5));
    }

    /// A tiny budget: a few rounds of gradient steps on CartPole, no evaluation.
    fn tiny(dueling: bool) -> DqnConfig {
        DqnConfig {
            hidden: vec![8],
            dueling,
            total_steps: 400,
            learning_starts: 100,
            train_freq: 50,
            gradient_steps: 4,
            batch_size: 16,
            buffer_size: 1_000,
            target_update_interval: 4,
            eval_interval: 0,
            ..DqnConfig::default()
        }
    }

    fn train_tiny(config: &DqnConfig, seed: u64) -> TrainOutcome {
        let spec = EnvSpec::new("CartPole-v1");
        train(
            config,
            &spec,
            Device::Cpu,
            seed,
            &mut retort_core::NoObserver,
        )
        .unwrap()
    }

    #[test]
    fn a_dueling_teacher_trains_reproducibly_with_its_own_streams() {
        let a = train_tiny(&tiny(true), 3);
        assert!(a.policy.spec().dueling);
        assert_eq!(a.gradient_steps, 7 * 4);
        let vars = a.policy.var_store().variables();
        assert_eq!(vars["value.weight"].size(), [1, 8]);
        assert_eq!(vars["advantage.weight"].size(), [2, 8]);
        assert!(!vars.contains_key("layers.1.weight"));
        // The same seed gives the same weights, bit for bit.
        let b = train_tiny(&tiny(true), 3);
        let other = b.policy.var_store().variables();
        for (name, tensor) in &vars {
            assert!(tensor.equal(&other[name]), "{name} differs between runs");
        }
        // The plain teacher of the same seed is untouched by the option.
        let plain = train_tiny(&tiny(false), 3);
        assert!(!plain.policy.spec().dueling);
        assert!(plain
            .policy
            .var_store()
            .variables()
            .contains_key("layers.1.weight"));
    }

    #[test]
    fn polyak_blends_the_dueling_streams_too() {
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 3,
            hidden: vec![4],
            dueling: true,
        };
        let mut target = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
        let online = MlpPolicy::new(spec, Device::Cpu, 1);
        tch::no_grad(|| {
            for (_, mut t) in target.var_store().variables() {
                let _ = t.fill_(0.0);
            }
            for (_, mut t) in online.var_store().variables() {
                let _ = t.fill_(1.0);
            }
        });
        update_target(&mut target, &online, 0.25).unwrap();
        let vars = target.var_store().variables();
        for name in ["value.weight", "advantage.bias", "layers.0.weight"] {
            let values = Vec::<f32>::try_from(vars[name].view([-1])).unwrap();
            assert!(values.iter().all(|&v| v == 0.25), "{name}: {values:?}");
        }
    }
}
