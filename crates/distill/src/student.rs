//! Fitting one student to the labelled states.

use crate::collect::argmax;
use crate::{distill_loss, DistillBuffer, DistillConfig, DistillError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::seed::{derive, Stream};
use retort_core::{AdamConfig, MlpPolicy, MlpSpec, Observer, Optimizer};
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
    let (d, a) = (train.obs_dim() as i64, train.n_actions() as i64);
    let spec = MlpSpec {
        obs_dim: train.obs_dim(),
        n_actions: train.n_actions(),
        hidden: hidden.to_vec(),
    };
    let policy = MlpPolicy::new(spec, device, derive(seed, Stream::Init, 100 + index));
    let mut optimizer = Optimizer::adam(policy.var_store(), AdamConfig::new(config.learning_rate))?;
    let mut rng = ChaCha8Rng::seed_from_u64(derive(seed, Stream::Distill, index));

    // The whole training set lives on the device; minibatches are index selections.
    let all_obs = Tensor::from_slice(train.all_obs())
        .view([-1, d])
        .to_device(device);
    let all_q = Tensor::from_slice(train.all_teacher_q())
        .view([-1, a])
        .to_device(device);
    let mut indices = vec![0i64; config.batch_size];
    let (mut loss_sum, mut loss_count, mut final_loss) = (0.0, 0u64, f64::NAN);

    for step in 1..=config.steps {
        if observer.interrupted() {
            break;
        }
        for slot in indices.iter_mut() {
            *slot = rng.random_range(0..train.len()) as i64;
        }
        let picks = Tensor::from_slice(&indices).to_device(device);
        let obs = all_obs.index_select(0, &picks);
        let teacher_q = all_q.index_select(0, &picks);
        let loss = distill_loss(
            config.loss,
            &policy.forward(&obs),
            &teacher_q,
            config.temperature,
            config.hard_label_weight,
        );
        optimizer.backward_step(&loss);

        let value = loss.double_value(&[]);
        if !value.is_finite() {
            return Err(DistillError::Diverged {
                student: name.into(),
                step,
                loss: value,
            });
        }
        loss_sum += value;
        loss_count += 1;
        if step % LOSS_LOG_INTERVAL == 0 || step == config.steps {
            final_loss = loss_sum / loss_count as f64;
            observer.scalar(&format!("distill/{}", config.loss.name()), final_loss, step);
            observer.scalar("distill/loss", final_loss, step);
            (loss_sum, loss_count) = (0.0, 0);
            observer.progress(step);
        }
    }
    let agreement = agreement(&policy, holdout);
    observer.scalar("distill/agreement", agreement, config.steps);
    Ok(StudentOutcome {
        policy,
        agreement,
        final_loss,
        seconds: start.elapsed().as_secs_f64(),
    })
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
}
