//! Distillation losses, computed in log-space.
//!
//! All losses are a sum over actions and a mean over the batch: each state counts once,
//! whatever the number of actions. (`torch.nn.functional.kl_div` with `reduction="mean"`
//! averages over actions too, which silently divides the loss — and its gradient — by the
//! number of actions.)

use crate::Loss;
use tch::{Kind, Tensor};

/// KL(softmax(q_teacher / τ) ‖ softmax(student_logits)), averaged over the batch.
///
/// The teacher's distribution enters only through `log_softmax`, never as `softmax` followed
/// by `log`: with τ = 0.01 and Q-values near 100 the division gives logits near 10 000, whose
/// softmax underflows to exact zeros and whose log would be −∞. In log-space the same values
/// stay finite, and `p · (log p − log q)` is 0 · (finite) = 0 for a vanishing action.
///
/// # Shapes
/// `student_logits`, `teacher_q`: `[batch, n_actions]` → scalar.
pub fn kl_loss(student_logits: &Tensor, teacher_q: &Tensor, temperature: f64) -> Tensor {
    let teacher_log_p = (teacher_q / temperature).log_softmax(1, Kind::Float);
    let student_log_p = student_logits.log_softmax(1, Kind::Float);
    let per_state = (teacher_log_p.exp() * (&teacher_log_p - student_log_p)).sum_dim_intlist(
        [1].as_slice(),
        false,
        Kind::Float,
    );
    per_state.mean(Kind::Float)
}

/// Negative log-likelihood of the teacher's greedy action, averaged over the batch.
///
/// # Shapes
/// `student_logits`, `teacher_q`: `[batch, n_actions]` → scalar.
pub fn nll_loss(student_logits: &Tensor, teacher_q: &Tensor) -> Tensor {
    let teacher_actions = teacher_q.argmax(1, true);
    let student_log_p = student_logits.log_softmax(1, Kind::Float);
    -student_log_p
        .gather(1, &teacher_actions, false)
        .mean(Kind::Float)
}

/// Squared error summed over actions, averaged over the batch.
///
/// # Shapes
/// `student_outputs`, `teacher_q`: `[batch, n_actions]` → scalar.
pub fn mse_loss(student_outputs: &Tensor, teacher_q: &Tensor) -> Tensor {
    let error = student_outputs - teacher_q;
    (&error * &error)
        .sum_dim_intlist([1].as_slice(), false, Kind::Float)
        .mean(Kind::Float)
}

/// Hinton's distillation loss: T² · KL(softmax(q_teacher / T) ‖ softmax(student / T)) plus
/// `hard_label_weight` · NLL of the teacher's greedy action, averaged over the batch.
///
/// Dividing both sides by T softens both distributions; the T² factor keeps the gradient's
/// scale independent of T (the soft term's gradient shrinks as 1/T²).
///
/// # Shapes
/// `student_logits`, `teacher_q`: `[batch, n_actions]` → scalar.
pub fn hinton_loss(
    student_logits: &Tensor,
    teacher_q: &Tensor,
    temperature: f64,
    hard_label_weight: f64,
) -> Tensor {
    let soft = kl_loss(&(student_logits / temperature), teacher_q, temperature);
    let mut loss = soft * (temperature * temperature);
    if hard_label_weight > 0.0 {
        loss += nll_loss(student_logits, teacher_q) * hard_label_weight;
    }
    loss
}

/// The loss `loss` names; `temperature` is used by `kl` and `hinton`, `hard_label_weight` by
/// `hinton`.
pub fn distill_loss(
    loss: Loss,
    student: &Tensor,
    teacher_q: &Tensor,
    temperature: f64,
    hard_label_weight: f64,
) -> Tensor {
    match loss {
        Loss::Kl => kl_loss(student, teacher_q, temperature),
        Loss::Nll => nll_loss(student, teacher_q),
        Loss::Mse => mse_loss(student, teacher_q),
        Loss::Hinton => hinton_loss(student, teacher_q, temperature, hard_label_weight),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[f32], n: i64) -> Tensor {
        Tensor::from_slice(values).view([-1, n])
    }

    fn value(t: &Tensor) -> f64 {
        t.double_value(&[])
    }

    #[test]
    fn kl_points_from_teacher_to_student() {
        // Teacher [1, 0] at τ = 1 against a uniform student:
        // KL(teacher ‖ student) = 0.1109441, while KL(student ‖ teacher) would be 0.1201145.
        let forward = kl_loss(&rows(&[0.0, 0.0], 2), &rows(&[1.0, 0.0], 2), 1.0);
        assert!(
            (value(&forward) - 0.110_944_1).abs() < 1e-6,
            "{}",
            value(&forward)
        );
        let swapped = kl_loss(&rows(&[1.0, 0.0], 2), &rows(&[0.0, 0.0], 2), 1.0);
        assert!(
            (value(&swapped) - 0.120_114_5).abs() < 1e-6,
            "{}",
            value(&swapped)
        );
    }

    #[test]
    fn kl_is_a_mean_over_states_not_over_actions() {
        // The two single-state values above, averaged: (0.1109441 + 0.1201145) / 2.
        let student = rows(&[0.0, 0.0, 1.0, 0.0], 2);
        let teacher = rows(&[1.0, 0.0, 0.0, 0.0], 2);
        let loss = value(&kl_loss(&student, &teacher, 1.0));
        assert!((loss - 0.115_529_3).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn kl_temperature_sharpens_the_teacher() {
        // Q = [1, 0] at τ = 0.5 is softmax([2, 0]) = [0.8807971, 0.1192029]; against a uniform
        // student the KL is ln 2 − H = 0.3278133.
        let loss = value(&kl_loss(&rows(&[0.0, 0.0], 2), &rows(&[1.0, 0.0], 2), 0.5));
        assert!((loss - 0.327_813_3).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn kl_at_tau_001_is_finite_for_large_q_values_and_so_is_its_gradient() {
        for teacher in [[100f32, 99.0], [100.0, 0.0]] {
            let student = rows(&[0.0, 0.0], 2).set_requires_grad(true);
            let loss = kl_loss(&student, &rows(&teacher, 2), 0.01);
            // The teacher is one-hot to within e^-100, so the KL to a uniform student is ln 2.
            assert!((value(&loss) - std::f64::consts::LN_2).abs() < 1e-6);
            loss.backward();
            let grad = Vec::<f32>::try_from(student.grad().view([-1])).unwrap();
            // d KL / d z = softmax(z) − p_teacher = [0.5 − 1, 0.5 − 0].
            assert_eq!(grad, [-0.5, 0.5]);
        }
    }

    #[test]
    fn kl_is_zero_when_the_student_equals_the_sharpened_teacher() {
        let q = rows(&[3.0, 1.0, -2.0], 3);
        for tau in [0.01, 0.5, 1.0, 4.0] {
            let loss = value(&kl_loss(&(&q / tau), &q, tau));
            assert!(loss.abs() < 1e-6, "τ = {tau}: {loss}");
        }
    }

    #[test]
    fn hinton_applies_the_temperature_to_both_sides_and_scales_by_its_square() {
        // Teacher [1, 0] and student [0, 0] at T = 2: KL(softmax([0.5, 0]) ‖ uniform)
        // = 0.0302999, times T² = 0.1211994.
        let loss = value(&hinton_loss(
            &rows(&[0.0, 0.0], 2),
            &rows(&[1.0, 0.0], 2),
            2.0,
            0.0,
        ));
        assert!((loss - 0.121_199_4).abs() < 1e-6, "{loss}");
        // The hard-label term adds NLL of the teacher's action (ln 2 for a uniform student).
        let with_hard = value(&hinton_loss(
            &rows(&[0.0, 0.0], 2),
            &rows(&[1.0, 0.0], 2),
            2.0,
            0.5,
        ));
        assert!((with_hard - (0.121_199_4 + 0.5 * std::f64::consts::LN_2)).abs() < 1e-6);
    }

    #[test]
    fn hinton_is_zero_when_the_student_equals_the_teacher_at_every_temperature() {
        let q = rows(&[3.0, 1.0, -2.0], 3);
        for t in [0.5, 1.0, 2.0, 10.0] {
            let loss = value(&hinton_loss(&q, &q, t, 0.0));
            assert!(loss.abs() < 1e-6, "T = {t}: {loss}");
        }
    }

    #[test]
    fn nll_and_mse_on_known_values() {
        // Teacher prefers action 1; student logits [0, 0] give log-likelihood ln ½.
        let nll = value(&nll_loss(&rows(&[0.0, 0.0], 2), &rows(&[1.0, 2.0], 2)));
        assert!((nll - std::f64::consts::LN_2).abs() < 1e-6);
        // Errors [1, 2] and [0, 3]: squared sums 5 and 9, mean 7.
        let mse = value(&mse_loss(
            &rows(&[1.0, 2.0, 0.0, 3.0], 2),
            &rows(&[0.0; 4], 2),
        ));
        assert_eq!(mse, 7.0);
    }
}
