//! The temporal-difference target.

use tch::{Kind, Reduction, Tensor};

/// `r + (1 − terminated) · discount · v(s')` for a batch of transitions, where `discount` is
/// each transition's own bootstrap factor: γ for one step, γ^m for a transition that covers m
/// steps (n-step returns, shorter at the end of an episode).
///
/// Only `terminated` stops the bootstrap. An episode cut by a time limit (`truncated`) did not
/// reach a state whose value is zero — the pole was still up when CartPole's 500 steps ran
/// out — so its target still adds the discounted value of the true final observation. Folding
/// the two flags into one `done` (as many implementations do) teaches the agent that the last
/// step of a long episode is worth nothing.
///
/// # Shapes
/// `rewards`, `terminated` (0 or 1), `next_values`, `discounts`: `[batch]` → `[batch]`.
pub fn td_targets(
    rewards: &Tensor,
    terminated: &Tensor,
    next_values: &Tensor,
    discounts: &Tensor,
) -> Tensor {
    let alive = terminated.ones_like() - terminated;
    rewards + next_values * alive * discounts
}

/// The Huber loss (δ = 1) between the Q-values of the actions taken and their TD targets,
/// averaged over the batch.
///
/// Quadratic for errors below 1 and linear above, so a single surprising transition moves the
/// network by a bounded amount: each sample's gradient is its error clipped to [−1, 1], over
/// the batch size.
///
/// # Shapes
/// `q_taken`, `targets`: `[batch]` → scalar.
pub fn td_loss(q_taken: &Tensor, targets: &Tensor) -> Tensor {
    q_taken.huber_loss(targets, Reduction::Mean, 1.0)
}

/// The Huber loss of [`td_loss`] with each sample's term multiplied by its weight before the
/// mean over the batch: `mean_i(w_i · huber(q_i − target_i))`. Prioritized replay passes its
/// importance-sampling weights here.
///
/// # Shapes
/// `q_taken`, `targets`, `weights`: `[batch]` → scalar.
pub fn weighted_td_loss(q_taken: &Tensor, targets: &Tensor, weights: &Tensor) -> Tensor {
    let per_sample = q_taken.huber_loss(targets, Reduction::None, 1.0);
    (per_sample * weights).mean(Kind::Float)
}

/// The value of each next state under the target network.
///
/// Plain DQN lets the target network both pick and score the next action (`max_a Q_target`).
/// Double DQN lets the *online* network pick (`argmax_a Q_online(s', a)`) and the *target*
/// network score that pick, which removes most of the max operator's overestimation.
///
/// # Shapes
/// `target_q`, `online_q`: `[batch, n_actions]` → `[batch]`.
pub fn next_state_values(target_q: &Tensor, online_q: Option<&Tensor>) -> Tensor {
    match online_q {
        None => target_q.amax([1].as_slice(), false),
        Some(online_q) => {
            let picks = online_q.argmax(1, true);
            target_q.gather(1, &picks, false).squeeze_dim(1)
        }
    }
    .to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t).unwrap()
    }

    #[test]
    fn termination_stops_the_bootstrap_and_truncation_does_not() {
        // Three transitions with reward 1 and next-state value 10, γ = 0.9:
        //   0: running on;                      target 1 + 0.9 · 10 = 10
        //   1: truncated by the time limit;     target 10 (stored terminated = 0)
        //   2: terminated (also truncated);     target 1
        let rewards = Tensor::from_slice(&[1f32, 1.0, 1.0]);
        let terminated = Tensor::from_slice(&[0f32, 0.0, 1.0]);
        let next_values = Tensor::from_slice(&[10f32, 10.0, 10.0]);
        let discounts = Tensor::from_slice(&[0.9f32, 0.9, 0.9]);
        let targets = td_targets(&rewards, &terminated, &next_values, &discounts);
        assert_eq!(values(&targets), [10.0, 10.0, 1.0]);
    }

    #[test]
    fn each_transition_bootstraps_with_its_own_discount() {
        // n-step transitions with next-state value 8:
        //   0: three steps, γ = 0.5, return 3;        target 3 + 0.125 · 8 = 4
        //   1: cut by the time limit after one step;  target 2 + 0.5 · 8 = 6
        //   2: terminated after two steps, return 2;  target 2
        let rewards = Tensor::from_slice(&[3f32, 2.0, 2.0]);
        let terminated = Tensor::from_slice(&[0f32, 0.0, 1.0]);
        let next_values = Tensor::from_slice(&[8f32, 8.0, 8.0]);
        let discounts = Tensor::from_slice(&[0.125f32, 0.5, 0.25]);
        let targets = td_targets(&rewards, &terminated, &next_values, &discounts);
        assert_eq!(values(&targets), [4.0, 6.0, 2.0]);
    }

    #[test]
    fn weighted_huber_loss_scales_each_sample_before_the_mean() {
        // Errors 0.5, 3 and −2 as above: per-sample losses 0.125, 2.5 and 1.5. Weights 1, 0.5
        // and 0.25: 0.125 + 1.25 + 0.375 = 1.75, over 3 samples 0.58333….
        // Gradients: clipped errors 0.5, 1, −1 times the weights, over 3.
        let q = Tensor::from_slice(&[0.5f32, 3.0, -2.0]).set_requires_grad(true);
        let zeros = Tensor::zeros([3], (Kind::Float, tch::Device::Cpu));
        let weights = Tensor::from_slice(&[1f32, 0.5, 0.25]);
        let loss = weighted_td_loss(&q, &zeros, &weights);
        assert!((loss.double_value(&[]) - 1.75 / 3.0).abs() < 1e-7);
        loss.backward();
        let grad = values(&q.grad());
        let expected = [0.5 / 3.0, 0.5 / 3.0, -0.25 / 3.0];
        for (g, e) in grad.iter().zip(expected) {
            assert!((g - e).abs() < 1e-7, "{grad:?}");
        }
        // Weights of 1 give the unweighted loss.
        let ones = Tensor::ones([3], (Kind::Float, tch::Device::Cpu));
        let unweighted = td_loss(&q, &zeros).double_value(&[]);
        assert_eq!(
            weighted_td_loss(&q, &zeros, &ones).double_value(&[]),
            unweighted
        );
    }

    #[test]
    fn huber_loss_is_quadratic_near_zero_and_its_gradient_is_clipped() {
        // Errors 0.5, 3 and −2: losses ½·0.25, 3 − ½, 2 − ½; mean 4.125 / 3 = 1.375.
        // Gradients: the errors clipped to [−1, 1] — 0.5, 1, −1 — over the batch of 3.
        let q = Tensor::from_slice(&[0.5f32, 3.0, -2.0]).set_requires_grad(true);
        let loss = td_loss(&q, &Tensor::zeros([3], (Kind::Float, tch::Device::Cpu)));
        assert_eq!(loss.double_value(&[]), 1.375);
        loss.backward();
        let grad = values(&q.grad());
        let expected = [0.5 / 3.0, 1.0 / 3.0, -1.0 / 3.0];
        for (g, e) in grad.iter().zip(expected) {
            assert!((g - e).abs() < 1e-7, "{grad:?}");
        }
    }

    #[test]
    fn double_dqn_lets_the_online_network_pick_and_the_target_network_score() {
        let target_q = Tensor::from_slice(&[1f32, 5.0, 3.0, 2.0]).view([2, 2]);
        let online_q = Tensor::from_slice(&[9f32, 0.0, 0.0, 9.0]).view([2, 2]);
        // Plain: the target network's own maximum.
        assert_eq!(values(&next_state_values(&target_q, None)), [5.0, 3.0]);
        // Double: online picks action 0 then 1; target scores them 1 and 2.
        assert_eq!(
            values(&next_state_values(&target_q, Some(&online_q))),
            [1.0, 2.0]
        );
    }
}
