//! Hyperparameters of data collection and of fitting the students.

use crate::DistillError;
use serde::{Deserialize, Serialize};

/// What a student is fitted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// KL(softmax(q_teacher / τ) ‖ softmax(student)): the teacher's Q-values sharpened by the
    /// temperature τ, matched as a distribution.
    Kl,
    /// Negative log-likelihood of the teacher's greedy action under softmax(student).
    Nll,
    /// Mean squared error between the student's outputs and the teacher's Q-values.
    Mse,
    /// Hinton et al.'s knowledge distillation: T² · KL(softmax(q_teacher / T) ‖
    /// softmax(student / T)), the temperature T on both sides, plus `hard_label_weight` times
    /// the NLL of the teacher's greedy action.
    Hinton,
}

impl Loss {
    /// The name used in experiment files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Kl => "kl",
            Loss::Nll => "nll",
            Loss::Mse => "mse",
            Loss::Hinton => "hinton",
        }
    }
}

/// Who plays while labelled states are collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Collection {
    /// The teacher plays; every student is fitted to the same states.
    Teacher,
    /// DAgger: each student is fitted over `rounds` rounds; the first round's states come from
    /// the teacher, each later round's from the student being fitted (taking the teacher's
    /// action with probability `beta` to the power of the round), all labelled by the teacher
    /// and aggregated. The total number of states is the same as for `teacher`.
    Student,
}

impl Collection {
    /// The name used in experiment files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Teacher => "teacher",
            Collection::Student => "student",
        }
    }
}

/// How states are collected and students fitted. Every student of an experiment uses the same
/// collected states and the same settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistillConfig {
    /// Number of labelled states to collect (per student for `student` collection).
    pub states: usize,
    /// Who plays while states are collected: `teacher` or `student` (DAgger).
    pub collection: Collection,
    /// Rounds of `student` collection: the states and the gradient steps are split evenly
    /// over them.
    pub rounds: usize,
    /// In round r of `student` collection the teacher's action is taken with probability
    /// beta^r (round 0: always the teacher).
    pub beta: f64,
    /// Environment copies the teacher plays at once while collecting.
    pub collect_envs: usize,
    /// Probability that the teacher takes a random action while collecting, which widens the
    /// states the student learns from beyond the teacher's own narrow path.
    pub collect_epsilon: f64,
    /// The loss students are fitted with.
    pub loss: Loss,
    /// τ, the temperature that divides the teacher's Q-values in the `kl` loss, and T, the
    /// temperature of both sides in the `hinton` loss.
    pub temperature: f64,
    /// Weight of the hard-label (teacher's greedy action) term of the `hinton` loss.
    pub hard_label_weight: f64,
    /// Gradient steps per student.
    pub steps: u64,
    /// States per gradient step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Fraction of the states held out to measure agreement with the teacher.
    pub holdout_fraction: f64,
    /// Times the held-out agreement is measured while a student is fitted, evenly spread over
    /// its steps, the last at the end: the student's learning curve (`distill/agreement` in
    /// TensorBoard, `agreement_curve` in summary.json). Each costs one forward pass over the
    /// held-out states; 0 measures only the final agreement, and more points than steps
    /// measure after every step.
    pub agreement_points: usize,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            states: 20_000,
            collection: Collection::Teacher,
            rounds: 4,
            beta: 0.5,
            collect_envs: 16,
            collect_epsilon: 0.05,
            loss: Loss::Kl,
            temperature: 0.01,
            hard_label_weight: 0.0,
            steps: 4_000,
            batch_size: 256,
            learning_rate: 1e-2,
            holdout_fraction: 0.1,
            agreement_points: 20,
        }
    }
}

/// One student: a name (its folder and TensorBoard run) and its hidden layer widths.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentSpec {
    /// Name of the student, unique within the experiment; letters, digits, `-` and `_`.
    pub name: String,
    /// Hidden layer widths, input side first; empty for a linear student.
    pub hidden: Vec<usize>,
}

impl DistillConfig {
    /// Checks every value's range, naming the first offending key.
    pub fn validate(&self) -> Result<(), DistillError> {
        let fail = |key: &str, value: String, expected| {
            Err(DistillError::Config {
                key: format!("distill.{key}"),
                value,
                expected,
            })
        };
        let counts = [
            ("states", self.states as u64),
            ("collect_envs", self.collect_envs as u64),
            ("steps", self.steps),
            ("batch_size", self.batch_size as u64),
            ("rounds", self.rounds as u64),
        ];
        for (key, value) in counts {
            if value == 0 {
                return fail(key, value.to_string(), "must be at least 1");
            }
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return fail(
                "temperature",
                self.temperature.to_string(),
                "must be positive",
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return fail(
                "learning_rate",
                self.learning_rate.to_string(),
                "must be positive",
            );
        }
        if !(self.hard_label_weight >= 0.0 && self.hard_label_weight.is_finite()) {
            let value = self.hard_label_weight.to_string();
            return fail("hard_label_weight", value, "must be zero or positive");
        }
        if !(0.0..=1.0).contains(&self.beta) {
            return fail("beta", self.beta.to_string(), "must be in [0, 1]");
        }
        if self.collection == Collection::Student && self.states < self.rounds {
            return fail(
                "rounds",
                self.rounds.to_string(),
                "must not exceed distill.states",
            );
        }
        if !(0.0..=1.0).contains(&self.collect_epsilon) {
            return fail(
                "collect_epsilon",
                self.collect_epsilon.to_string(),
                "must be in [0, 1]",
            );
        }
        if !(0.0..0.5).contains(&self.holdout_fraction) {
            let value = self.holdout_fraction.to_string();
            return fail("holdout_fraction", value, "must be in [0, 0.5)");
        }
        Ok(())
    }
}

impl StudentSpec {
    /// Checks the name and widths; `index` locates the student in the experiment file.
    pub fn validate(&self, index: usize) -> Result<(), DistillError> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(DistillError::Config {
                key: format!("students[{index}].name"),
                value: format!("{:?}", self.name),
                expected: "must be non-empty letters, digits, `-` or `_` (it names a folder)",
            });
        }
        if self.hidden.contains(&0) {
            return Err(DistillError::Config {
                key: format!("students[{index}].hidden"),
                value: format!("{:?}", self.hidden),
                expected: "every width must be at least 1",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        DistillConfig::default().validate().unwrap();
        let config = DistillConfig {
            temperature: 0.0,
            ..DistillConfig::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert_eq!(message, "distill.temperature = 0: must be positive");
        let student = StudentSpec {
            name: "a/b".into(),
            hidden: vec![4],
        };
        let message = student.validate(2).unwrap_err().to_string();
        assert!(
            message.starts_with("students[2].name = \"a/b\""),
            "{message}"
        );
    }
}
