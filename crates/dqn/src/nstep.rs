//! n-step returns: each environment step becomes, n steps later, a transition that carries the
//! discounted sum of n rewards and bootstraps from the observation n steps ahead.
//!
//! A stored transition from step t covers m = n steps normally:
//!
//! ```text
//! reward    = r_t + γ · r_(t+1) + … + γ^(m−1) · r_(t+m−1)
//! next_obs  = the observation after step t+m−1
//! discount  = γ^m
//! TD target = reward + (1 − terminated) · discount · max_a Q(next_obs, a)
//! ```
//!
//! When the episode ends at step t+j with j < n, the sum stops there (m = j + 1) and the
//! transition takes that step's flags: after a termination the target does not bootstrap,
//! after a truncation it bootstraps from the true final observation with γ^(j+1). Every start
//! state still waiting at the end of an episode is written out then, so an episode of length L
//! gives exactly L transitions. With n = 1 each step is stored as it is, as in plain DQN.

use crate::Transition;

/// The steps of one environment copy whose n-step transitions are not complete yet, oldest
/// first; at most n − 1 of them between two calls of [`NStepReturns::push`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct NStepWindow {
    /// Observations the actions were chosen from, `[len · obs_dim]`, row after row.
    pub(crate) obs: Vec<f32>,
    /// Actions taken, `[len]`.
    pub(crate) actions: Vec<usize>,
    /// Rewards received, `[len]`.
    pub(crate) rewards: Vec<f64>,
}

/// Folds each environment copy's steps into n-step transitions, one window per copy, so that
/// the interleaved steps of several copies never mix.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NStepReturns {
    /// Steps per transition, at least 1.
    pub(crate) n: usize,
    /// The discount factor γ.
    pub(crate) gamma: f64,
    /// Length of one observation.
    pub(crate) obs_dim: usize,
    /// The pending steps of each copy.
    pub(crate) windows: Vec<NStepWindow>,
}

impl NStepReturns {
    /// Empty windows for `copies` environment copies.
    pub(crate) fn new(n: usize, gamma: f64, obs_dim: usize, copies: usize) -> Self {
        NStepReturns {
            n,
            gamma,
            obs_dim,
            windows: vec![NStepWindow::default(); copies],
        }
    }

    /// Adds one environment step of `copy` (its `discount` is ignored) and hands each
    /// transition it completes to `emit`, oldest start first: none while the window fills,
    /// one once it holds n steps, and all the pending ones when the step ends the episode.
    pub(crate) fn push(
        &mut self,
        copy: usize,
        step: &Transition<'_>,
        mut emit: impl FnMut(&Transition<'_>),
    ) {
        let (n, gamma, d) = (self.n, self.gamma, self.obs_dim);
        let window = &mut self.windows[copy];
        window.obs.extend_from_slice(step.obs);
        window.actions.push(step.action);
        window.rewards.push(step.reward);

        let episode_ended = step.terminated || step.truncated;
        let complete = if episode_ended {
            window.actions.len()
        } else if window.actions.len() == n {
            1
        } else {
            0
        };
        for _ in 0..complete {
            // The oldest start state, over every pending step up to this one. Before the end
            // of an episode both flags are false; at the end they are this step's.
            let (reward, discount) = discounted_sum(&window.rewards, gamma);
            emit(&Transition {
                obs: &window.obs[..d],
                action: window.actions[0],
                reward,
                next_obs: step.next_obs,
                terminated: step.terminated,
                truncated: step.truncated,
                discount,
            });
            window.obs.drain(..d);
            window.actions.remove(0);
            window.rewards.remove(0);
        }
    }
}

/// `(r_0 + γ · r_1 + … + γ^(m−1) · r_(m−1), γ^m)` for the m rewards given.
///
/// The sum runs from the last reward backwards (`r_0 + γ · (r_1 + γ · (…))`), so that one
/// reward is returned as it is and n = 1 stores exactly what plain DQN stores.
fn discounted_sum(rewards: &[f64], gamma: f64) -> (f64, f64) {
    let (last, earlier) = rewards.split_last().expect("a window is never empty here");
    let sum = earlier.iter().rev().fold(*last, |tail, r| r + gamma * tail);
    (sum, gamma.powi(rewards.len() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored transition, owned.
    #[derive(Debug, PartialEq)]
    struct Stored {
        obs: f32,
        action: usize,
        reward: f64,
        next_obs: f32,
        terminated: bool,
        truncated: bool,
        discount: f64,
    }

    /// Plays `steps` of copy `copy` as `(obs, reward, terminated, truncated)`; the action is
    /// the observation as an integer and the next observation is `obs + 1`.
    fn play(
        returns: &mut NStepReturns,
        copy: usize,
        steps: &[(f32, f64, bool, bool)],
    ) -> Vec<Stored> {
        let mut stored = Vec::new();
        for &(obs, reward, terminated, truncated) in steps {
            let step = Transition {
                obs: &[obs],
                action: obs as usize,
                reward,
                next_obs: &[obs + 1.0],
                terminated,
                truncated,
                discount: returns.gamma,
            };
            returns.push(copy, &step, |t| {
                stored.push(Stored {
                    obs: t.obs[0],
                    action: t.action,
                    reward: t.reward,
                    next_obs: t.next_obs[0],
                    terminated: t.terminated,
                    truncated: t.truncated,
                    discount: t.discount,
                })
            });
        }
        stored
    }

    fn stored(obs: f32, reward: f64, next_obs: f32, flags: (bool, bool), discount: f64) -> Stored {
        Stored {
            obs,
            action: obs as usize,
            reward,
            next_obs,
            terminated: flags.0,
            truncated: flags.1,
            discount,
        }
    }

    const RUNNING: (bool, bool) = (false, false);

    #[test]
    fn three_rewards_with_gamma_one_half() {
        // n = 3, γ = 0.5, rewards 1, 2, 4: R = 1 + 0.5 · 2 + 0.25 · 4 = 3, discount 0.125,
        // bootstrapping from the observation after the third step (obs 3).
        let mut returns = NStepReturns::new(3, 0.5, 1, 1);
        let out = play(
            &mut returns,
            0,
            &[(0.0, 1.0, false, false), (1.0, 2.0, false, false)],
        );
        assert!(out.is_empty(), "nothing is complete before n steps");
        let out = play(&mut returns, 0, &[(2.0, 4.0, false, false)]);
        assert_eq!(out, [stored(0.0, 3.0, 3.0, RUNNING, 0.125)]);
        // The next step completes the window that starts at obs 1: 2 + 0.5 · 4 + 0.25 · 8 = 6.
        let out = play(&mut returns, 0, &[(3.0, 8.0, false, false)]);
        assert_eq!(out, [stored(1.0, 6.0, 4.0, RUNNING, 0.125)]);
    }

    #[test]
    fn a_termination_inside_the_window_ends_the_sum_without_bootstrap() {
        // n = 3, γ = 0.5; the episode terminates on its second step (reward 2, next obs 2).
        // Start 0 covers two steps: 1 + 0.5 · 2 = 2, discount 0.25; start 1 covers one: 2, 0.5.
        // Both are stored as terminated, so neither target bootstraps.
        let mut returns = NStepReturns::new(3, 0.5, 1, 1);
        let out = play(
            &mut returns,
            0,
            &[(0.0, 1.0, false, false), (1.0, 2.0, true, false)],
        );
        let ended = (true, false);
        assert_eq!(
            out,
            [
                stored(0.0, 2.0, 2.0, ended, 0.25),
                stored(1.0, 2.0, 2.0, ended, 0.5)
            ]
        );
        assert_eq!(returns.windows[0], NStepWindow::default());
    }

    #[test]
    fn a_truncation_inside_the_window_bootstraps_from_the_final_observation() {
        // n = 4, γ = 0.5; a time limit cuts the episode on its third step (j = 2, reward 4,
        // true final obs 3). Start 0: 1 + 0.5 · 2 + 0.25 · 4 = 3 with γ^(j+1) = 0.125; start 1:
        // 2 + 0.5 · 4 = 4 with 0.25; start 2: 4 with 0.5. Not terminated: all bootstrap from
        // obs 3.
        let mut returns = NStepReturns::new(4, 0.5, 1, 1);
        let out = play(
            &mut returns,
            0,
            &[
                (0.0, 1.0, false, false),
                (1.0, 2.0, false, false),
                (2.0, 4.0, false, true),
            ],
        );
        let cut = (false, true);
        assert_eq!(
            out,
            [
                stored(0.0, 3.0, 3.0, cut, 0.125),
                stored(1.0, 4.0, 3.0, cut, 0.25),
                stored(2.0, 4.0, 3.0, cut, 0.5),
            ]
        );
    }

    #[test]
    fn the_end_of_an_episode_flushes_n_transitions_of_decreasing_length() {
        // n = 3, γ = 0.5, rewards 1, 2, 4, 8, the fourth step terminates (next obs 4).
        // Step 3 completes start 0 (seen in the first test). Step 4 completes start 1 with
        // 2 + 0.5 · 4 + 0.25 · 8 = 6 (0.125), then flushes start 2 with 4 + 0.5 · 8 = 8 (0.25)
        // and start 3 with 8 (0.5): the episode's 4 steps give 4 transitions.
        let mut returns = NStepReturns::new(3, 0.5, 1, 1);
        let out = play(
            &mut returns,
            0,
            &[
                (0.0, 1.0, false, false),
                (1.0, 2.0, false, false),
                (2.0, 4.0, false, false),
                (3.0, 8.0, true, false),
            ],
        );
        let ended = (true, false);
        assert_eq!(
            out,
            [
                stored(0.0, 3.0, 3.0, RUNNING, 0.125),
                stored(1.0, 6.0, 4.0, ended, 0.125),
                stored(2.0, 8.0, 4.0, ended, 0.25),
                stored(3.0, 8.0, 4.0, ended, 0.5),
            ]
        );
        // The next episode starts from an empty window.
        let out = play(&mut returns, 0, &[(10.0, 1.0, false, false)]);
        assert!(out.is_empty());
        assert_eq!(returns.windows[0].actions, [10]);
    }

    #[test]
    fn one_step_stores_each_step_as_it_is() {
        let mut returns = NStepReturns::new(1, 0.99, 1, 1);
        let out = play(
            &mut returns,
            0,
            &[(0.0, 1.5, false, false), (1.0, -2.0, true, true)],
        );
        assert_eq!(
            out,
            [
                stored(0.0, 1.5, 1.0, RUNNING, 0.99),
                stored(1.0, -2.0, 2.0, (true, true), 0.99),
            ]
        );
    }

    #[test]
    fn interleaved_copies_do_not_mix() {
        // Two copies stepped in turn, n = 2, γ = 0.5. Copy 0 plays obs 0, 1, 2 with rewards
        // 1, 1, 1; copy 1 plays obs 100, 101 with rewards 10, 10 and terminates on 101.
        let mut returns = NStepReturns::new(2, 0.5, 1, 2);
        let mut out = Vec::new();
        out.extend(play(&mut returns, 0, &[(0.0, 1.0, false, false)]));
        out.extend(play(&mut returns, 1, &[(100.0, 10.0, false, false)]));
        out.extend(play(&mut returns, 0, &[(1.0, 1.0, false, false)]));
        out.extend(play(&mut returns, 1, &[(101.0, 10.0, true, false)]));
        out.extend(play(&mut returns, 0, &[(2.0, 1.0, false, false)]));
        let ended = (true, false);
        assert_eq!(
            out,
            [
                // Copy 0, start 0: 1 + 0.5 · 1 = 1.5 towards obs 2.
                stored(0.0, 1.5, 2.0, RUNNING, 0.25),
                // Copy 1, start 100: 10 + 0.5 · 10 = 15; then start 101 alone: 10.
                stored(100.0, 15.0, 102.0, ended, 0.25),
                stored(101.0, 10.0, 102.0, ended, 0.5),
                // Copy 0, start 1: 1.5 towards obs 3, untouched by copy 1's ending.
                stored(1.0, 1.5, 3.0, RUNNING, 0.25),
            ]
        );
    }
}
