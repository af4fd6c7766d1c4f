//! A small mutation fuzzer for the tests of retort's parsers and loaders: seed inputs are
//! mutated with a fixed-seed random stream, each mutant is handed to a target that checks a
//! property, and every panic or broken property is reported with the input that caused it.
//!
//! # Overview
//!
//! `cargo fuzz` needs a nightly compiler; this runs in plain `cargo test`. It has no coverage
//! feedback. Instead a target says what *kind* of thing an input did — "accepted", or the
//! first words of the error it got — and an input that does something new joins the pool
//! that later mutants are made from. Mutations are byte-level (flips, deletions, duplicated
//! or spliced ranges, truncation), token-level (a word or number swapped for one of the
//! target's dictionary or for an extreme number) and line-level, plus whatever
//! structure-aware mutation the target adds ([`Fuzzer::custom_mutation`]).
//!
//! An input is one or more *parts*, each the bytes of one file: one part for an experiment
//! file or a map, two (`model.json` and `model.safetensors`) for a checkpoint.
//!
//! * `RETORT_FUZZ_ITERS` — mutants per target (default [`DEFAULT_ITERATIONS`], a few
//!   seconds); raise it to fuzz for minutes.
//! * `RETORT_FUZZ_SEED` — the random stream's seed (default [`DEFAULT_SEED`]), so that a
//!   failure found with another seed can be reproduced.
//! * `RETORT_FUZZ_OUT` — where failing inputs are written (default: a `retort-fuzz` folder in
//!   the temporary directory).
//! * `RETORT_FUZZ_KEEP` — a folder to write the final pool into, one case per behaviour, to
//!   choose regression cases from.
//!
//! # Example
//!
//! ```
//! use retort_fuzz::Fuzzer;
//!
//! // Property: parsing a number never panics, and an error says something.
//! let report = Fuzzer::new("number", &["n.txt"])
//!     .iterations(200)
//!     .run(vec![vec![b"42".to_vec()]], |input| {
//!         let text = String::from_utf8_lossy(&input[0]);
//!         match text.trim().parse::<u32>() {
//!             Ok(_) => Ok("ok".into()),
//!             Err(e) if e.to_string().is_empty() => Err("an empty message".into()),
//!             Err(e) => Ok(e.to_string()),
//!         }
//!     });
//! report.assert_clean();
//! assert_eq!(report.executions, 201);
//! ```

#![warn(missing_docs)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Mutants per target when `RETORT_FUZZ_ITERS` is not set: enough to replay the common
/// mutations in a few seconds of `cargo test`.
pub const DEFAULT_ITERATIONS: u64 = 2_000;

/// Seed of the random stream when `RETORT_FUZZ_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x5EED_F022;

/// Most inputs kept in the pool; beyond it new behaviours are counted but not kept.
const MAX_POOL: usize = 4_096;

/// Distinct failures reported in full; further ones are only counted.
const MAX_FAILURES: usize = 20;

/// One input: the bytes of each part (file), in the order of the fuzzer's part names.
pub type Input = Vec<Vec<u8>>;

/// A structure-aware mutation supplied by a target; it edits the input in place.
type CustomMutation<'a> = Box<dyn FnMut(&mut Rng, &mut Input) + 'a>;

/// SplitMix64: a tiny, fast, seedable stream — plenty for choosing mutations.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True once in `n` times on average.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Numbers at the edges of the types the parsers read into (`u32`, `u64`, `usize`, `i64`,
/// `f32`, `f64`), and TOML's non-finite literals.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "255",
    "256",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "100000000000",
    "0.5",
    "1.5",
    "-0.0",
    "1e-45",
    "5e-324",
    "3.5e38",
    "1e308",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "-inf",
    "+inf",
];

/// Bytes that often mean something to a parser, or break UTF-8.
const BYTES: &[u8] = &[
    0x00, 0xff, 0x7f, 0x80, 0xc3, 0xe2, b'\n', b'\r', b'\t', b' ', b'"', b'\'', b'[', b']', b'{',
    b'}', b'=', b',', b':', b'#', b'\\', b'.', b'-', b'0', b'9',
];

/// Runs one campaign: seeds, mutants, a property per input.
pub struct Fuzzer<'a> {
    name: String,
    parts: Vec<String>,
    dictionary: Vec<Vec<u8>>,
    custom: Vec<CustomMutation<'a>>,
    iterations: u64,
    /// Whether `iterations` came from `RETORT_FUZZ_ITERS`, which a default does not override.
    iterations_from_env: bool,
    seed: u64,
    max_len: usize,
}

/// What one input did.
enum Outcome {
    /// The property held; the string names the behaviour.
    Held(String),
    /// The property was broken (or the target panicked): what happened.
    Broken(String),
}

/// What the inputs run so far did.
#[derive(Default)]
struct Tally {
    /// Inputs to mutate: the first to show each behaviour.
    pool: Vec<Input>,
    behaviours: HashSet<String>,
    failures: Vec<Failure>,
    failure_kinds: HashSet<String>,
    more_failures: u64,
}

impl Tally {
    /// Counts one input's outcome: a mutant (`Some`; seeds are pooled already) that did
    /// something new joins the pool; an input that broke the property in a new way is saved
    /// (by `save`, given the failure's number) and listed.
    fn record(
        &mut self,
        mutant: Option<&Input>,
        outcome: Outcome,
        save: impl FnOnce(usize) -> (PathBuf, Input),
    ) {
        match outcome {
            Outcome::Held(behaviour) => {
                let new = self.behaviours.insert(behaviour);
                if let Some(mutant) = mutant.filter(|_| new && self.pool.len() < MAX_POOL) {
                    self.pool.push(mutant.clone());
                }
            }
            Outcome::Broken(message) => {
                let kind = failure_kind(&message);
                if self.failures.len() < MAX_FAILURES && self.failure_kinds.insert(kind) {
                    let (saved, input) = save(self.failures.len());
                    self.failures.push(Failure {
                        message,
                        saved,
                        input,
                    });
                } else {
                    self.more_failures += 1;
                }
            }
        }
    }
}

/// One property violation, with the input that caused it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong: a panic's message or the target's description.
    pub message: String,
    /// Where the input was written (one file per part).
    pub saved: PathBuf,
    /// The input itself.
    pub input: Input,
}

/// What a campaign did.
#[derive(Debug)]
pub struct Report {
    /// The target's name.
    pub name: String,
    /// Inputs run: the seeds and every mutant.
    pub executions: u64,
    /// Distinct behaviours seen (as named by the target).
    pub behaviours: usize,
    /// Inputs in the pool at the end.
    pub pool: usize,
    /// Distinct failures, at most 20 (see [`Report::more_failures`]).
    pub failures: Vec<Failure>,
    /// Failures beyond those kept, and repeats of kept ones.
    pub more_failures: u64,
    /// Wall-clock time of the campaign.
    pub elapsed: Duration,
    /// The random stream's seed.
    pub seed: u64,
}

impl<'a> Fuzzer<'a> {
    /// A campaign called `name` (folders of saved inputs are named after it) over inputs of
    /// one part per file name in `parts`, with the iterations and seed of the environment.
    pub fn new(name: &str, parts: &[&str]) -> Self {
        assert!(!parts.is_empty(), "an input has at least one part");
        let iterations = env_number("RETORT_FUZZ_ITERS");
        Fuzzer {
            name: name.into(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
            dictionary: Vec::new(),
            custom: Vec::new(),
            iterations: iterations.unwrap_or(DEFAULT_ITERATIONS),
            iterations_from_env: iterations.is_some(),
            seed: env_number("RETORT_FUZZ_SEED").unwrap_or(DEFAULT_SEED),
            max_len: 64 * 1024,
        }
    }

    /// Tokens worth inserting: keys, values, punctuation of the format.
    pub fn dictionary(mut self, tokens: &[&str]) -> Self {
        self.dictionary
            .extend(tokens.iter().map(|t| t.as_bytes().to_vec()));
        self
    }

    /// Adds a structure-aware mutation, chosen as often as any built-in one.
    pub fn custom_mutation(mut self, mutation: impl FnMut(&mut Rng, &mut Input) + 'a) -> Self {
        self.custom.push(Box::new(mutation));
        self
    }

    /// Sets the number of mutants when `RETORT_FUZZ_ITERS` does not: for a target fast enough
    /// to run more than [`DEFAULT_ITERATIONS`] in a few seconds, or too slow for that many.
    pub fn default_iterations(mut self, iterations: u64) -> Self {
        if !self.iterations_from_env {
            self.iterations = iterations;
        }
        self
    }

    /// Sets the number of mutants, overriding `RETORT_FUZZ_ITERS`.
    pub fn iterations(mut self, iterations: u64) -> Self {
        self.iterations = iterations;
        self
    }

    /// Caps every part's length (default 64 KiB).
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Runs every seed, then the mutants. `property` returns `Ok(behaviour)` when the
    /// property holds — a short name for what the input did, inputs with a new one being
    /// kept for further mutation — or `Err(what went wrong)`; a panic inside it counts as a
    /// failure too. Never panics itself: call [`Report::assert_clean`] on the result.
    pub fn run(
        mut self,
        seeds: Vec<Input>,
        mut property: impl FnMut(&Input) -> Result<String, String>,
    ) -> Report {
        assert!(!seeds.is_empty(), "{}: no seed inputs", self.name);
        for seed in &seeds {
            assert_eq!(
                seed.len(),
                self.parts.len(),
                "{}: a seed's parts",
                self.name
            );
        }
        let started = Instant::now();
        let mut rng = Rng::new(self.seed);
        // Every seed stays in the pool, whatever it did.
        let mut tally = Tally {
            pool: seeds.clone(),
            ..Tally::default()
        };
        for seed in &seeds {
            let outcome = run_once(&mut property, seed);
            tally.record(None, outcome, |i| self.save_failure(i, seed));
        }
        for _ in 0..self.iterations {
            let parent = rng.pick(&tally.pool).clone();
            let donor = rng.pick(&tally.pool).clone();
            let mutant = self.mutate(&mut rng, parent, &donor);
            let outcome = run_once(&mut property, &mutant);
            tally.record(Some(&mutant), outcome, |i| self.save_failure(i, &mutant));
        }
        let Tally {
            pool,
            behaviours,
            failures,
            more_failures,
            ..
        } = tally;
        if let Some(keep) = std::env::var_os("RETORT_FUZZ_KEEP") {
            let folder = PathBuf::from(keep).join(&self.name);
            for (i, input) in pool.iter().enumerate() {
                write_case(&folder.join(format!("pool-{i:04}")), &self.parts, input);
            }
        }
        let report = Report {
            name: self.name.clone(),
            executions: seeds.len() as u64 + self.iterations,
            behaviours: behaviours.len(),
            pool: pool.len(),
            failures,
            more_failures,
            elapsed: started.elapsed(),
            seed: self.seed,
        };
        eprintln!("{}", report.summary());
        report
    }

    /// One to four stacked mutations of `input`, each part then capped in length.
    fn mutate(&mut self, rng: &mut Rng, mut input: Input, donor: &Input) -> Input {
        let stacked = 1 + rng.below(4).min(rng.below(4));
        for _ in 0..stacked {
            let builtin = 12;
            let choice = rng.below(builtin + self.custom.len());
            if choice >= builtin {
                (self.custom[choice - builtin])(rng, &mut input);
                continue;
            }
            let part = rng.below(input.len());
            mutate_bytes(
                rng,
                choice,
                &mut input[part],
                &self.dictionary,
                &donor[part],
            );
        }
        for part in &mut input {
            part.truncate(self.max_len);
        }
        input
    }

    /// Writes a failing input where `RETORT_FUZZ_OUT` (or the temporary directory) says;
    /// returns the folder and a copy of the input.
    fn save_failure(&self, index: usize, input: &Input) -> (PathBuf, Input) {
        let root = std::env::var_os("RETORT_FUZZ_OUT")
            .map_or_else(|| std::env::temp_dir().join("retort-fuzz"), PathBuf::from);
        let folder = root.join(&self.name).join(format!(
            "failure-{}-{index:02}-{:016x}",
            std::process::id(),
            fingerprint(input)
        ));
        write_case(&folder, &self.parts, input);
        (folder, input.clone())
    }
}

/// Applies built-in mutation number `choice` (0..12) to `bytes`.
fn mutate_bytes(
    rng: &mut Rng,
    choice: usize,
    bytes: &mut Vec<u8>,
    dictionary: &[Vec<u8>],
    donor: &[u8],
) {
    let len = bytes.len();
    let at = rng.below(len + 1);
    match choice {
        // Flip one bit.
        0 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
        // Set a byte to one that means something.
        1 if len > 0 => bytes[at.min(len - 1)] = *rng.pick(BYTES),
        // Delete a short range.
        2 if len > 0 => {
            let end = (at + 1 + rng.below(16)).min(len);
            bytes.drain(at.min(len - 1)..end);
        }
        // Duplicate a range somewhere else.
        3 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            let copy = bytes[start..end].to_vec();
            let to = rng.below(len + 1);
            bytes.splice(to..to, copy);
        }
        // Insert a dictionary token, often at the start of a line.
        4 if !dictionary.is_empty() => {
            let token = rng.pick(dictionary).clone();
            let to = if rng.one_in(2) {
                line_start(bytes, at)
            } else {
                at
            };
            bytes.splice(to..to, token);
        }
        // Replace a word by a dictionary token.
        5 if !dictionary.is_empty() => {
            if let Some(range) = word_at(bytes, at) {
                bytes.splice(range, rng.pick(dictionary).clone());
            }
        }
        // Replace a number by an extreme one.
        6 => {
            let number = rng.pick(NUMBERS).as_bytes().to_vec();
            match number_at(bytes, at) {
                Some(range) => drop(bytes.splice(range, number)),
                None => drop(bytes.splice(at..at, number)),
            }
        }
        // Splice in a range of another kept input.
        7 if !donor.is_empty() => {
            let start = rng.below(donor.len());
            let end = (start + 1 + rng.below(256)).min(donor.len());
            let cut = if rng.one_in(2) {
                at..(at + rng.below(32)).min(len)
            } else {
                at..at
            };
            bytes.splice(cut, donor[start..end].iter().copied());
        }
        // Delete, duplicate or swap whole lines.
        8 => line_mutation(rng, bytes),
        // Cut the tail off.
        9 => bytes.truncate(at),
        // Insert a few random bytes.
        10 => {
            let junk: Vec<u8> = (0..1 + rng.below(4))
                .map(|_| rng.next_u64() as u8)
                .collect();
            bytes.splice(at..at, junk);
        }
        // Overwrite a little-endian integer field with an extreme value (binary headers).
        11 if len >= 8 => {
            let start = rng.below(len - 7) & !7;
            let value = *rng.pick(&[0u64, 1, 8, 0x7f, u32::MAX as u64, u64::MAX, 1 << 62]);
            let value = value.wrapping_add(rng.below(3) as u64).wrapping_sub(1);
            bytes[start..start + 8].copy_from_slice(&value.to_le_bytes());
        }
        _ => {}
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' || b == b'/'
}

/// The word (letters, digits, `_-./`) at or after `at`, if any.
fn word_at(bytes: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let mut start = (at..bytes.len()).find(|&i| is_word_byte(bytes[i]))?;
    while start > 0 && is_word_byte(bytes[start - 1]) {
        start -= 1;
    }
    let end = (start..bytes.len())
        .find(|&i| !is_word_byte(bytes[i]))
        .unwrap_or(bytes.len());
    Some(start..end)
}

/// The number (digits with sign, point and exponent) at or after `at`, if any.
fn number_at(bytes: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let is_number_byte = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'_');
    let mut start = (at..bytes.len()).find(|&i| bytes[i].is_ascii_digit())?;
    while start > 0 && (is_number_byte(bytes[start - 1]) || bytes[start - 1] == b'-') {
        start -= 1;
    }
    let end = (start + 1..bytes.len())
        .find(|&i| !is_number_byte(bytes[i]))
        .unwrap_or(bytes.len());
    Some(start..end)
}

/// The start of the line holding byte `at`.
fn line_start(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// Deletes, duplicates or swaps lines.
fn line_mutation(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let mut lines: Vec<Vec<u8>> = bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    if lines.is_empty() {
        return;
    }
    let i = rng.below(lines.len());
    match rng.below(3) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let copy = lines[i].clone();
            let to = rng.below(lines.len() + 1);
            lines.insert(to, copy);
        }
        _ => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
    }
    *bytes = lines.concat();
}

/// Runs the property on one input, turning a panic into a failure.
fn run_once(property: &mut impl FnMut(&Input) -> Result<String, String>, input: &Input) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| property(input))) {
        Ok(Ok(behaviour)) => Outcome::Held(behaviour),
        Ok(Err(broken)) => Outcome::Broken(broken),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Outcome::Broken(format!("panicked: {message}"))
        }
    }
}

/// A failure's message with its numbers removed, so that one bug met with different values
/// is reported once.
fn failure_kind(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .take(120)
        .collect()
}

/// FNV-1a over every part: names saved inputs.
fn fingerprint(input: &Input) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in input.iter().flatten() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Writes an input as one file per part into `folder`.
fn write_case(folder: &Path, parts: &[String], input: &Input) {
    let written = std::fs::create_dir_all(folder).and_then(|()| {
        parts
            .iter()
            .zip(input)
            .try_for_each(|(name, bytes)| std::fs::write(folder.join(name), bytes))
    });
    if let Err(e) = written {
        eprintln!("could not save a fuzz input to {}: {e}", folder.display());
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.replace('_', "").parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

impl Report {
    /// One line: executions, behaviours, pool, failures, time, seed.
    pub fn summary(&self) -> String {
        format!(
            "fuzz {}: {} executions in {:.1} s, {} behaviours, pool {}, {} failures \
             (seed {:#x})",
            self.name,
            self.executions,
            self.elapsed.as_secs_f64(),
            self.behaviours,
            self.pool,
            self.failures.len() as u64 + self.more_failures,
            self.seed
        )
    }

    /// Panics listing every failure with where its input was saved and a preview of it.
    pub fn assert_clean(&self) {
        if self.failures.is_empty() {
            return;
        }
        let mut text = format!("{}\n", self.summary());
        for failure in &self.failures {
            let _ = writeln!(
                text,
                "\n{}\n  input saved in {}",
                failure.message,
                failure.saved.display()
            );
            for part in &failure.input {
                let preview: String = String::from_utf8_lossy(&part[..part.len().min(400)])
                    .escape_debug()
                    .collect();
                let _ = writeln!(text, "  part ({} bytes): \"{preview}\"", part.len());
            }
        }
        panic!("{text}");
    }
}

/// The inputs of a corpus folder, by name: for a one-part fuzzer every file whose name ends
/// like that part's (`experiment.toml` → `*.toml`), for several parts every sub-folder holding
/// one file per part. Panics if the folder is missing or holds no case, so that a moved
/// corpus cannot silently test nothing.
pub fn corpus(folder: &Path, parts: &[&str]) -> Vec<(String, Input)> {
    let entries = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", folder.display()));
    let mut cases = Vec::new();
    for entry in entries {
        let path = entry.expect("a readable corpus entry").path();
        let name = path
            .file_name()
            .expect("an entry has a name")
            .to_string_lossy()
            .into_owned();
        let read = |file: &Path| {
            std::fs::read(file)
                .unwrap_or_else(|e| panic!("cannot read corpus file {}: {e}", file.display()))
        };
        match parts {
            [single] => {
                let extension = Path::new(single).extension();
                if path.is_file() && path.extension() == extension {
                    cases.push((name, vec![read(&path)]));
                }
            }
            _ if path.is_dir() => {
                let input = parts.iter().map(|part| read(&path.join(part))).collect();
                cases.push((name, input));
            }
            _ => {}
        }
    }
    assert!(
        !cases.is_empty(),
        "the corpus {} holds no case",
        folder.display()
    );
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// Runs `property` on every case of the corpus in `folder` (see [`corpus`]), panicking with
/// every case that breaks it. Returns the number of cases.
pub fn replay(
    folder: &Path,
    parts: &[&str],
    mut property: impl FnMut(&Input) -> Result<String, String>,
) -> usize {
    let cases = corpus(folder, parts);
    let mut broken = String::new();
    for (name, input) in &cases {
        if let Outcome::Broken(message) = run_once(&mut property, input) {
            let _ = writeln!(broken, "{name}: {message}");
        }
    }
    assert!(broken.is_empty(), "corpus {}:\n{broken}", folder.display());
    cases.len()
}

/// A short name for an error message, for the behaviour a property returns: the message's
/// first line with `noise` (e.g. a temporary path) taken out, every digit removed and the
/// length capped, so that one kind of error with different values counts once.
pub fn behaviour_of(message: &str, noise: &[&str]) -> String {
    let mut text = message.lines().next().unwrap_or_default().to_string();
    for n in noise.iter().filter(|n| !n.is_empty()) {
        text = text.replace(n, "");
    }
    text.chars()
        .filter(|c| !c.is_ascii_digit())
        .take(80)
        .collect()
}

/// Tokens of retort's `model.json` (a `ModelCard`): keys, values the loaders must refuse or
/// accept, and environments of every kind, some of which cannot be made.
pub const MODEL_CARD_TOKENS: &[&str] = &[
    "\"format\"",
    "\"retort-mlp/1\"",
    "\"retort-mlp/2\"",
    "\"role\"",
    "\"activation\"",
    "\"relu\"",
    "\"tanh\"",
    "\"mlp\"",
    "\"obs_dim\"",
    "\"n_actions\"",
    "\"hidden\"",
    "\"dueling\": true, ",
    "\"dueling\"",
    "\"params\"",
    "\"env\"",
    "{\"id\": \"CartPole-v1\"}",
    "{\"id\": \"CartPole-v1\", \"max_episode_steps\": 0}",
    "{\"id\": \"FrozenLake-v1\", \"map\": \"8x8\"}",
    "{\"id\": \"GridWorld\", \"map\": \"FourRooms\"}",
    "{\"id\": \"GridWorld\", \"map_file\": \"/nonexistent/x.map\"}",
    "{\"id\": \"GridWorld\", \"map_file\": \".\"}",
    "{\"id\": \"GridWorld\", \"map\": \"FourRooms\", \"step_reward\": 1e999}",
    "{\"id\": \"Acrobot-v1\"}",
    "\"CliffWalking-v1\"",
    "\"observation\": \"coords\", ",
    "null",
    "true",
    "[]",
    "[0]",
    "[1, 1]",
    "{}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "1e999",
    "-1",
    "0.5",
];

/// Tokens of a safetensors header: keys, every dtype name, tensor names of retort's networks
/// and extreme offsets and shapes.
pub const SAFETENSORS_TOKENS: &[&str] = &[
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "\"F32\"",
    "\"F64\"",
    "\"F16\"",
    "\"BF16\"",
    "\"I64\"",
    "\"I32\"",
    "\"U8\"",
    "\"BOOL\"",
    "\"F8_E4M3\"",
    "\"F4\"",
    "\"layers.0.weight\"",
    "\"layers.0.bias\"",
    "\"layers.1.weight\"",
    "\"layers.2.bias\"",
    "\"value.weight\"",
    "\"value.bias\"",
    "\"advantage.weight\"",
    "\"advantage.bias\"",
    "[0, 0]",
    "[0]",
    "[]",
    "[4294967296, 4294967296]",
    "[18446744073709551615]",
    "[3037000500, 3037000500]",
    "{}",
    "null",
];

/// Structure-aware mutation of a safetensors file: its header (an 8-byte little-endian
/// length, then that many bytes of JSON) is mutated as text with `dictionary`, and the length
/// is usually rewritten to fit, so that the mutant gets past the length check to the parts of
/// the reader that look at names, dtypes, shapes and offsets. Returns false (changing nothing)
/// when `bytes` has no readable header.
pub fn mutate_safetensors_header(rng: &mut Rng, bytes: &mut Vec<u8>, dictionary: &[&str]) -> bool {
    let Some(length) = bytes.get(..8) else {
        return false;
    };
    let length = u64::from_le_bytes(length.try_into().expect("eight bytes"));
    let Some(end) = usize::try_from(length)
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&end| end <= bytes.len())
    else {
        return false;
    };
    let mut header = bytes[8..end].to_vec();
    let dictionary: Vec<Vec<u8>> = dictionary.iter().map(|t| t.as_bytes().to_vec()).collect();
    // Word, number and token mutations suit JSON; bit flips are left to the byte level.
    let choice = *rng.pick(&[2, 3, 4, 5, 6, 6, 6, 8, 10]);
    mutate_bytes(rng, choice, &mut header, &dictionary, &[]);
    let new_length = if rng.one_in(8) {
        length
    } else {
        header.len() as u64
    };
    let mut rebuilt = new_length.to_le_bytes().to_vec();
    rebuilt.extend(header);
    rebuilt.extend_from_slice(&bytes[end..]);
    *bytes = rebuilt;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_reproducible_and_spread() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut counts = [0; 4];
        for _ in 0..4_000 {
            counts[a.below(4)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
        assert_eq!(a.below(0), 0);
    }

    #[test]
    fn words_numbers_and_lines_are_found() {
        let text = b"gamma = 0.99\nhidden = [64, -3]\n";
        assert_eq!(word_at(text, 0), Some(0..5));
        assert_eq!(number_at(text, 0), Some(8..12));
        assert_eq!(number_at(text, 24), Some(23..25));
        assert_eq!(number_at(text, 26), Some(27..29));
        assert_eq!(line_start(text, 20), 13);
        assert_eq!(word_at(b" = ", 0), None);
    }

    #[test]
    fn a_panic_and_a_broken_property_are_failures_saved_with_their_input() {
        let out = std::env::temp_dir().join(format!("retort-fuzz-self-{}", std::process::id()));
        std::env::set_var("RETORT_FUZZ_OUT", &out);
        let report = Fuzzer::new("self", &["x.txt"]).iterations(300).run(
            vec![vec![b"abc".to_vec()]],
            |input| match input[0].len() {
                0 => panic!("empty input"),
                n if n > 6 => Err(format!("{n} bytes is too long")),
                _ => Ok("fine".into()),
            },
        );
        assert_eq!(report.executions, 301);
        let messages: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
        assert!(messages.contains(&"panicked: empty input"), "{messages:?}");
        assert!(messages.iter().any(|m| m.ends_with("is too long")));
        // One entry per kind of failure, whatever the numbers in it.
        assert_eq!(report.failures.len(), 2, "{messages:?}");
        for failure in &report.failures {
            assert_eq!(
                std::fs::read(failure.saved.join("x.txt")).unwrap(),
                failure.input[0]
            );
        }
        let caught = catch_unwind(|| report.assert_clean()).expect_err("failures panic");
        let text = caught.downcast_ref::<String>().unwrap();
        assert!(
            text.contains("empty input") && text.contains("input saved in"),
            "{text}"
        );
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn a_header_mutation_keeps_the_length_field_in_step() {
        let mut rng = Rng::new(1);
        let header = br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header);
        file.extend_from_slice(&[0, 0, 128, 63]);
        let mut fitted = 0;
        for _ in 0..200 {
            let mut bytes = file.clone();
            assert!(mutate_safetensors_header(
                &mut rng,
                &mut bytes,
                &["\"F64\"", "7"]
            ));
            let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            fitted += usize::from(bytes.len() == 8 + length + 4);
        }
        assert!(fitted > 150, "{fitted} of 200 fitted");
        assert!(!mutate_safetensors_header(&mut rng, &mut vec![1, 2], &[]));
    }

    #[test]
    fn behaviours_ignore_numbers_and_noise() {
        assert_eq!(
            behaviour_of("/tmp/x/e.toml: gamma = 1.5: bad\nmore", &["/tmp/x/e.toml"]),
            behaviour_of("/tmp/y/e.toml: gamma = 2.5: bad", &["/tmp/y/e.toml"])
        );
    }
}
