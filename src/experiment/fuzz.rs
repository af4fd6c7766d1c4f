//! Fuzzing of experiment files: [`Experiment::load`] on mutants of `experiments/*.toml` and of
//! the corpus in `tests/fuzz-corpus/experiment/` never panics. A refusal names the file; an
//! accepted experiment saves as a `config.toml` that loads back equal (what `--resume`
//! relies on), and its `[sweep]` table expands or is refused without a panic.
//!
//! `RETORT_FUZZ_ITERS=100000 cargo test --release --bin retort fuzz -- --nocapture` fuzzes for
//! minutes; see `retort-fuzz` for the other variables.

use super::Experiment;
use retort_fuzz::{behaviour_of, corpus, replay, Fuzzer, Input, Rng};
use std::path::{Path, PathBuf};

const PARTS: &[&str] = &["experiment.toml"];

/// A valid GridWorld map beside the fuzzed file, for `map_file = "x.map"`.
const MAP: &str = "S..#\n.#.G\n....\n";

/// Tables, keys, values and TOML syntax worth inserting.
const DICTIONARY: &[&str] = &[
    "\n[env]\n",
    "\n[teacher]\n",
    "\n[eval]\n",
    "\n[distill]\n",
    "\n[sweep]\n",
    "\n[[students]]\nname = \"a\"\nhidden = [4]\n",
    "[[students]]",
    "[students]",
    "[env.x]",
    "id = ",
    "\"CartPole-v1\"",
    "\"MountainCar-v0\"",
    "\"Acrobot-v1\"",
    "\"FrozenLake-v1\"",
    "\"CliffWalking-v1\"",
    "\"GridWorld\"",
    "\"FourRooms\"",
    "\"8x8\"",
    "\"x.map\"",
    "\"bad.map\"",
    "\"missing.map\"",
    "\".\"",
    "\"kl\"",
    "\"nll\"",
    "\"mse\"",
    "\"hinton\"",
    "\"student\"",
    "\"teacher\"",
    "\"coords\"",
    "\"onehot\"",
    "\"cpu\"",
    "\"cuda\"",
    "\"cuda:7\"",
    "\"tpu\"",
    "\"semi-implicit euler\"",
    "\"..\"",
    "\"a/b\"",
    "\"\"",
    "true",
    "false",
    "[]",
    "[0]",
    "[1, 2]",
    "[[1]]",
    "[\"kl\", \"l2\"]",
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "'''",
    "\"\"\"",
    "\\u0000",
    "\\",
    "#",
    "=",
    ".",
    ",",
];

/// Every key of every table, for the "insert `key = value`" mutation.
const KEYS: &[&str] = &[
    "name",
    "seed",
    "device",
    "threads",
    "id",
    "map",
    "map_file",
    "is_slippery",
    "observation",
    "max_episode_steps",
    "step_reward",
    "sutton_barto_reward",
    "kinematics_integrator",
    "hidden",
    "total_steps",
    "learning_rate",
    "batch_size",
    "buffer_size",
    "gamma",
    "learning_starts",
    "train_freq",
    "gradient_steps",
    "target_update_interval",
    "target_tau",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "max_grad_norm",
    "double_dqn",
    "dueling",
    "n_step",
    "prioritized_replay",
    "priority_alpha",
    "priority_beta_start",
    "priority_epsilon",
    "num_envs",
    "eval_interval",
    "eval_episodes",
    "target_return",
    "checkpoint_interval",
    "checkpoint_replay",
    "episodes",
    "states",
    "steps",
    "loss",
    "temperature",
    "collection",
    "collect_epsilon",
    "collect_envs",
    "rounds",
    "beta",
    "hard_label_weight",
    "holdout_fraction",
    "agreement_points",
    "sweep",
    "learning_rat",
    "staets",
];

/// Values for the "insert `key = value`" mutation.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "0.5",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "18446744073709551615",
    "100000000000",
    "true",
    "\"x\"",
    "[]",
    "[0]",
    "[8, 8]",
    "[0.1, 1.0]",
    "[\"kl\", \"nll\"]",
    "\"GridWorld\"",
    "\"x.map\"",
    "{}",
];

/// A scratch folder for the fuzzed file, holding `x.map` (valid) and `bad.map` (refused).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    std::fs::write(dir.join("x.map"), MAP).expect("the temp dir is writable");
    std::fs::write(dir.join("bad.map"), "S.x\n").expect("the temp dir is writable");
    dir
}

/// The property, with the input written to `dir/experiment.toml`.
fn check(dir: &Path, input: &Input) -> Result<String, String> {
    let file = dir.join("experiment.toml");
    std::fs::write(&file, &input[0]).map_err(|e| format!("cannot write the input: {e}"))?;
    let shown = file.display().to_string();
    let experiment = match Experiment::load(&file) {
        Ok(experiment) => experiment,
        Err(e) => {
            let message = format!("{e:#}");
            if !message.contains(&shown) {
                return Err(format!("the refusal does not name the file: {message}"));
            }
            let message = message.replace(&shown, "");
            if message
                .trim_matches(|c: char| c == ':' || c.is_whitespace())
                .is_empty()
            {
                return Err("a refusal that says nothing but the file".into());
            }
            // A TOML syntax error's reason is on its last line, below the quoted text.
            let last = message.lines().last().unwrap_or_default();
            return Ok(behaviour_of(
                &format!("{} {last}", first_line(&message)),
                &[],
            ));
        }
    };

    // What a run saves as config.toml loads back as the same experiment.
    let saved = dir.join("config.toml");
    std::fs::write(&saved, experiment.to_toml()).map_err(|e| format!("cannot save: {e}"))?;
    match Experiment::load(&saved) {
        // NaN is never equal to itself, so an experiment holding one (a `[sweep]` value, which
        // only `retort sweep` refuses) compares by its saved text instead.
        Ok(again) if again == experiment || again.to_toml() == experiment.to_toml() => {}
        Ok(again) => {
            return Err(format!(
                "config.toml loads back different:\n{}\nversus\n{}",
                experiment.to_toml(),
                again.to_toml()
            ))
        }
        Err(e) => {
            return Err(format!(
                "config.toml is refused: {e:#}\n{}",
                experiment.to_toml()
            ))
        }
    }

    let sweep = match crate::sweep::configurations(&experiment) {
        Ok(configurations) => format!("{} configurations", configurations.len().min(3)),
        Err(e) => {
            let message = format!("{e:#}");
            if message.trim().is_empty() {
                return Err("an empty sweep refusal".into());
            }
            behaviour_of(&message, &[])
        }
    };
    Ok(format!(
        "ok {} {} students, sweep: {sweep}",
        experiment.env.id,
        experiment.students.len().min(3)
    ))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Inserts `key = value` at the start of a random line.
fn insert_setting(rng: &mut Rng, input: &mut Input) {
    let line = format!("{} = {}\n", rng.pick(KEYS), rng.pick(VALUES));
    let text = &mut input[0];
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let at = *rng.pick(&starts);
    text.splice(at..at, line.into_bytes());
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    root().join("tests/fuzz-corpus/experiment")
}

fn seeds() -> Vec<Input> {
    let mut seeds = corpus(&root().join("experiments"), PARTS);
    seeds.extend(corpus(&corpus_dir(), PARTS));
    seeds.into_iter().map(|(_, input)| input).collect()
}

#[test]
fn experiment_files_never_panic_and_every_refusal_names_the_file() {
    let dir = scratch("experiment");
    let report = Fuzzer::new("experiment", PARTS)
        .dictionary(DICTIONARY)
        .custom_mutation(insert_setting)
        .max_len(16 * 1024)
        .default_iterations(3_000)
        .run(seeds(), |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    report.assert_clean();
}

#[test]
fn the_experiment_corpus_replays() {
    let dir = scratch("experiment-replay");
    let cases = replay(&corpus_dir(), PARTS, |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    assert!(cases >= 5, "{cases} cases");
}
