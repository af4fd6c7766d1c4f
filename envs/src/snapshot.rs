//! Snapshots of what an environment will do next, for checkpoints that resume exactly.
//!
//! Resuming a training run must continue every episode where it stopped and draw the same
//! random numbers as an uninterrupted run would. [`Env::snapshot`](crate::Env::snapshot)
//! captures exactly that — the state variables, the step count, whether an episode is running,
//! and the position in the environment's random stream — and
//! [`Env::restore`](crate::Env::restore) puts it back into an environment built from the same
//! [`EnvSpec`](crate::EnvSpec). Everything else (map, rewards, time limit) comes from the spec.
//!
//! Floating-point state is kept as IEEE-754 bit patterns, so that a JSON round trip cannot move
//! a last bit.

use crate::EnvError;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The exact position of a ChaCha8 random stream: its key, stream number and word offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte key as 64 lowercase hex digits.
    pub seed: String,
    /// The stream number.
    pub stream: u64,
    /// Words already consumed, in decimal (a `u128`, which JSON numbers cannot hold exactly).
    pub word_pos: String,
}

impl RngState {
    /// The position of `rng`.
    pub fn capture(rng: &ChaCha8Rng) -> Self {
        let seed = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        RngState {
            seed,
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    /// A generator at exactly this position; `None` if a field is malformed.
    pub fn restore(&self) -> Option<ChaCha8Rng> {
        let hex = self.seed.as_bytes();
        // Exactly what `capture` writes: 64 lowercase hex digits, and a decimal position.
        let lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if hex.len() != 64 || !hex.iter().all(lower_hex) {
            return None;
        }
        let canonical_decimal = !self.word_pos.is_empty()
            && self.word_pos.bytes().all(|b| b.is_ascii_digit())
            && (self.word_pos == "0" || !self.word_pos.starts_with('0'));
        if !canonical_decimal {
            return None;
        }
        let mut seed = [0u8; 32];
        for (byte, pair) in seed.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        // ChaCha counts 2^68 words per stream; a larger position would be cut silently.
        let word_pos: u128 = self.word_pos.parse().ok()?;
        if word_pos >= 1 << 68 {
            return None;
        }
        rng.set_word_pos(word_pos);
        Some(rng)
    }
}

/// What an environment does next, apart from what its spec fixes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvSnapshot {
    /// The id of the environment it was taken from.
    pub id: String,
    /// The state variables, each as a `u64`: the bit pattern of an `f64` for the classic-control
    /// environments (in the order of their `state()`), the agent's cell for grid worlds.
    pub state: Vec<u64>,
    /// Steps taken in the current episode.
    pub elapsed: u32,
    /// An episode is running (reset and neither terminated nor truncated).
    pub active: bool,
    /// The environment's random stream.
    pub rng: RngState,
}

impl EnvSnapshot {
    /// A snapshot of continuous state variables.
    pub(crate) fn of_floats(
        id: &str,
        state: &[f64],
        elapsed: u32,
        active: bool,
        rng: &ChaCha8Rng,
    ) -> Self {
        EnvSnapshot {
            id: id.to_string(),
            state: state.iter().map(|v| v.to_bits()).collect(),
            elapsed,
            active,
            rng: RngState::capture(rng),
        }
    }

    /// The state as `N` floats and the generator, after checking that the snapshot belongs to
    /// environment `id`.
    pub(crate) fn floats<const N: usize>(
        &self,
        id: &str,
    ) -> Result<([f64; N], ChaCha8Rng), EnvError> {
        self.check_id(id)?;
        let state: [u64; N] = self.state.as_slice().try_into().map_err(|_| {
            self.bad(format!(
                "{} state variables, expected {N}",
                self.state.len()
            ))
        })?;
        let state = state.map(f64::from_bits);
        // Reset and step keep every variable finite; NaN or infinity means a damaged file.
        if let Some((i, v)) = state.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(self.bad(format!("state variable {i} is {v}, not a finite number")));
        }
        Ok((state, self.generator()?))
    }

    /// Refuses an episode said to be running at or past its time limit `limit`: no
    /// environment produces one, and it would run past the limit. Without a limit any count is
    /// possible (it saturates).
    pub(crate) fn check_elapsed(&self, limit: Option<u32>) -> Result<(), EnvError> {
        let Some(limit) = limit else {
            return Ok(());
        };
        if self.active && self.elapsed >= limit {
            return Err(self.bad(format!(
                "an episode still running after {} steps, but the time limit is {limit}",
                self.elapsed
            )));
        }
        Ok(())
    }

    /// Refuses an episode said to be running in a state that ends episodes (`terminal`): the
    /// step that reached it would have ended the episode.
    pub(crate) fn check_running(&self, terminal: bool) -> Result<(), EnvError> {
        if self.active && terminal {
            return Err(self.bad("an episode still running in a state that ends episodes".into()));
        }
        Ok(())
    }

    pub(crate) fn check_id(&self, id: &str) -> Result<(), EnvError> {
        if self.id == id {
            Ok(())
        } else {
            Err(self.bad(format!("it was taken from {}, not {id}", self.id)))
        }
    }

    pub(crate) fn generator(&self) -> Result<ChaCha8Rng, EnvError> {
        self.rng
            .restore()
            .ok_or_else(|| self.bad(format!("malformed random-stream state {:?}", self.rng)))
    }

    pub(crate) fn bad(&self, problem: String) -> EnvError {
        EnvError::Snapshot {
            id: self.id.clone(),
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_restored_generator_continues_the_same_stream() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        rng.set_stream(3);
        for _ in 0..5 {
            rng.random::<u32>();
        }
        let state = RngState::capture(&rng);
        let json = serde_json::to_string(&state).unwrap();
        let mut copy = serde_json::from_str::<RngState>(&json)
            .unwrap()
            .restore()
            .unwrap();
        let a: Vec<u64> = (0..10).map(|_| rng.random()).collect();
        let b: Vec<u64> = (0..10).map(|_| copy.random()).collect();
        assert_eq!(a, b);
        assert_eq!(state.word_pos, "5");
        assert_eq!(state.stream, 3);
    }

    #[test]
    fn malformed_generator_states_are_refused() {
        let good = RngState::capture(&ChaCha8Rng::seed_from_u64(0));
        let short = RngState {
            seed: "ab".into(),
            ..good.clone()
        };
        let not_hex = RngState {
            seed: "zz".repeat(32),
            ..good.clone()
        };
        let bad_pos = RngState {
            word_pos: "-1".into(),
            ..good.clone()
        };
        let past_the_stream = RngState {
            word_pos: (1u128 << 68).to_string(),
            ..good.clone()
        };
        let last_word = RngState {
            word_pos: ((1u128 << 68) - 1).to_string(),
            ..good.clone()
        };
        assert!(good.restore().is_some());
        assert!(short.restore().is_none());
        assert!(not_hex.restore().is_none());
        assert!(bad_pos.restore().is_none());
        assert!(past_the_stream.restore().is_none());
        for (seed, word_pos) in [
            (good.seed.to_uppercase(), good.word_pos.clone()),
            ("+a".repeat(32), good.word_pos.clone()),
            (good.seed.clone(), "+5".into()),
            (good.seed.clone(), "0008".into()),
            (good.seed.clone(), String::new()),
        ] {
            let odd = RngState {
                seed,
                word_pos,
                ..good.clone()
            };
            assert!(odd.restore().is_none(), "{odd:?}");
        }
        let restored = last_word.restore().expect("the last word is a position");
        assert_eq!(RngState::capture(&restored), last_word);
    }
}
