//! Deriving independent seeds from one experiment seed.
//!
//! Every random stream in a run (environment resets, exploration, replay sampling, network
//! initialisation, evaluation episodes) gets its own seed derived from the experiment seed and
//! a fixed stream number, so that changing how often one stream is drawn from never shifts
//! another — evaluation, for example, cannot change what training sees.

/// Named random streams of a run.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    /// Resets of the environments the teacher trains on.
    TrainEnv = 1,
    /// ε-greedy exploration draws.
    Explore = 2,
    /// Replay-buffer sampling.
    Replay = 3,
    /// Network initialisation (libtorch's generator).
    Init = 4,
    /// Periodic evaluation during training.
    TrainEval = 5,
    /// The final evaluation reported in the summary.
    FinalEval = 6,
    /// Collection of distillation data.
    Collect = 7,
    /// Minibatch sampling while distilling.
    Distill = 8,
}

/// SplitMix64 finaliser: a bijective mix whose outputs for consecutive inputs are
/// statistically independent.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of item `index` (an environment copy, an episode, a student) of `stream` in the run
/// seeded with `seed`.
pub fn derive(seed: u64, stream: Stream, index: u64) -> u64 {
    mix(mix(mix(seed) ^ stream as u64) ^ index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_are_stable_and_distinct() {
        // Pinned so that a change to the derivation (which would change every result) is seen.
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        let a = derive(0, Stream::TrainEnv, 0);
        assert_eq!(a, derive(0, Stream::TrainEnv, 0));
        assert_ne!(a, derive(0, Stream::TrainEnv, 1));
        assert_ne!(a, derive(0, Stream::Explore, 0));
        assert_ne!(a, derive(1, Stream::TrainEnv, 0));
    }
}
