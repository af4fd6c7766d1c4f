//! Writes TensorBoard event files — scalars, Markdown text and hyperparameters — with every I/O
//! error reported as a [`TbError`] instead of a panic, and without libtorch.
//!
//! A [`SummaryWriter`] owns one `events.out.tfevents.*` file in a run directory. Point
//! `tensorboard --logdir` at the parent of several run directories to compare runs: scalars in
//! the SCALARS tab, text in the TEXT tab, and, for runs that called
//! [`SummaryWriter::add_hparams`], one row per run in the HPARAMS tab.
//!
//! The format is written directly: protocol buffer messages declared by hand in [`proto`]
//! (serialized with `prost`), framed as TFRecords with masked CRC-32C checksums ([`record`]).
//! [`read_records`] reads such a file back, checking every checksum, for tests and sanity
//! checks; `scripts/tb_check.py` checks files with TensorBoard's own reader.
//!
//! ```
//! use retort_tensorboard::{read_records, HParam, SummaryWriter};
//!
//! let dir = std::env::temp_dir().join(format!("retort-tb-doctest-{}", std::process::id()));
//! let mut writer = SummaryWriter::create(dir.join("run-1"))?;
//! for step in 0..3 {
//!     writer.add_scalar("train/loss", 1.0 / (step as f64 + 1.0), step)?;
//! }
//! writer.add_text("notes", "*teacher*: DQN on CartPole", 0)?;
//! writer.add_hparams(
//!     &[("lr".to_string(), HParam::Number(1e-3)), ("env".to_string(), "CartPole-v1".into())],
//!     &["train/loss"],
//! )?;
//! writer.flush()?;
//!
//! // File version, three scalars, one text, two hparams summaries.
//! assert_eq!(read_records(writer.path())?.len(), 7);
//! drop(writer);
//! std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), retort_tensorboard::TbError>(())
//! ```
#![warn(missing_docs)]

mod error;
pub mod proto;
pub mod record;
mod writer;

pub use error::TbError;
pub use record::{cut_incomplete_tail, read_records, Repair};
pub use writer::{HParam, SummaryWriter, FILE_VERSION, FLUSH_INTERVAL};
