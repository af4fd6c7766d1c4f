//! Policy distillation: label states with the teacher's Q-values, fit small students to them.
//!
//! The teacher plays (or the student plays and the teacher labels), every visited state is
//! stored with the teacher's full Q-vector in a [`DistillBuffer`], and each student — an MLP
//! of any width — is fitted to those labels by a [`Loss`], by default
//! KL(softmax(q_teacher / τ) ‖ softmax(student)) with τ = 0.01, which sharpens the teacher's
//! Q-values into a nearly one-hot target that still ranks the other actions.
//!
//! On the CPU, students of up to 10 000 parameters take each gradient step in plain Rust
//! (forward pass, loss gradient, backward pass, then the fused Adam): for networks this small
//! libtorch spends more on dispatching its thirty-odd operations per step than on their
//! arithmetic. Larger students, and students on other devices, step through libtorch's
//! autograd. Both give the same results to within rounding.
//!
//! ```
//! use retort_distill::{kl_loss};
//! use tch::Tensor;
//!
//! let teacher_q = Tensor::from_slice(&[100f32, 99.0]).view([1, 2]);
//! let student = Tensor::from_slice(&[0f32, 0.0]).view([1, 2]);
//! let loss = kl_loss(&student, &teacher_q, 0.01).double_value(&[]);
//! assert!((loss - std::f64::consts::LN_2).abs() < 1e-6);
//! ```
#![warn(missing_docs)]

mod buffer;
mod collect;
mod config;
mod cpu_step;
mod error;
mod loss;
mod student;

pub use buffer::DistillBuffer;
pub use collect::{collect, collect_from_teacher, Driver};
pub use config::{Collection, DistillConfig, Loss, StudentSpec};
pub use error::DistillError;
pub use loss::{distill_loss, hinton_loss, kl_loss, mse_loss, nll_loss};
pub use student::{agreement, fit_student, fit_student_dagger, StudentOutcome};
