//! Bad input through the binary: a clear message naming the file, key or value, a non-zero
//! exit (1 for bad input, 2 for command-line misuse), no panic, and nothing written.
//!
//! Every case runs in its own scratch folder, where its `--out` points; [`refused`] compares
//! that folder before and after, so a run directory left behind, a half-written file or a
//! changed input all fail the case.

mod common;

use common::{copy_dir, retort, root, scratch, snapshot, trained_teacher, TINY_CARTPOLE};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Exit status for bad input.
const BAD_INPUT: i32 = 1;
/// Exit status for command-line misuse.
const USAGE: i32 = 2;

const CARTPOLE: &str = "[env]\nid = \"CartPole-v1\"\n";

/// Runs `retort ARGS`, asserts that it exits with `code`, that stderr holds every one of
/// `needles` and no panic or backtrace, and that nothing under `watched` (the case's scratch
/// folder) changed, nor the names in the repository's `runs/`. Returns stderr.
fn refused(case: &str, args: &[&str], code: i32, watched: &Path, needles: &[&str]) -> String {
    let before = snapshot(watched);
    let runs_before = run_names();
    let out = retort(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{case}: `retort {}` should exit {code}; stderr:\n{stderr}",
        args.join(" ")
    );
    let lower = stderr.to_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("backtrace"),
        "{case}: a panic in stderr:\n{stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{case}: stderr does not name {needle:?}:\n{stderr}"
        );
    }
    let after = snapshot(watched);
    let changed: BTreeSet<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .collect();
    assert!(
        changed.is_empty(),
        "{case}: created, removed or changed under {}: {changed:?}\nstderr:\n{stderr}",
        watched.display()
    );
    assert_eq!(
        run_names(),
        runs_before,
        "{case}: something was written to the default runs/ folder"
    );
    stderr
}

/// The names in the repository's `runs/` folder (the default output directory).
fn run_names() -> BTreeSet<String> {
    std::fs::read_dir(root().join("runs")).map_or_else(
        |_| BTreeSet::new(),
        |entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        },
    )
}

fn s(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}

/// A case's scratch folder holding `experiment.toml` with `text`: (folder, file, out).
fn experiment_case(case: &str, text: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = scratch(case);
    let file = dir.join("experiment.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    (dir, file, out)
}

/// `retort run` on an experiment with `text`: exit 1, the file and every needle named,
/// nothing written. Returns stderr.
fn bad_experiment(case: &str, text: &str, needles: &[&str]) -> String {
    let (dir, file, out) = experiment_case(case, text);
    let mut needles = needles.to_vec();
    needles.push(s(&file));
    refused(
        case,
        &["run", s(&file), "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &needles,
    )
}

/// The former name of [`bad_experiment`] without needles.
fn run_bad(case: &str, text: &str) -> String {
    bad_experiment(case, text, &[])
}

// ---------------------------------------------------------------------------------------------
// Experiment files

#[test]
fn missing_and_non_toml_files_are_refused() {
    let dir = scratch("missing");
    let missing = dir.join("nope.toml");
    refused(
        "missing",
        &["run", s(&missing), "--out", s(&dir.join("o"))],
        BAD_INPUT,
        &dir,
        &["cannot read experiment file", s(&missing)],
    );
    // A folder where the file should be.
    let folder = dir.join("folder.toml");
    std::fs::create_dir(&folder).unwrap();
    refused(
        "folder",
        &["run", s(&folder), "--out", s(&dir.join("o"))],
        BAD_INPUT,
        &dir,
        &["cannot read experiment file", s(&folder)],
    );
    bad_experiment("nottoml", "this is not toml ][", &["line 1"]);
    bad_experiment("empty", "", &["missing field `env`"]);
    bad_experiment(
        "blank",
        "\n   \n# only a comment\n",
        &["missing field `env`"],
    );
    bad_experiment(
        "noid",
        "[env]\nis_slippery = true\n",
        &["missing field `id`"],
    );
}

#[test]
fn misspelt_key_is_named() {
    let stderr = run_bad(
        "misspelt",
        &format!("{CARTPOLE}[teacher]\nlearning_rat = 0.1\n"),
    );
    assert!(stderr.contains("learning_rat"), "{stderr}");
}

#[test]
fn unknown_and_misspelt_keys_are_named_with_the_nearest_valid_key() {
    let cases = [
        (
            "typo-teacher",
            format!("{CARTPOLE}[teacher]\nlearning_rat = 0.1\n"),
            ["learning_rat", "did you mean `learning_rate`?"],
        ),
        (
            "typo-distill",
            format!("{CARTPOLE}[distill]\nstaets = 5\n"),
            ["staets", "did you mean `states`?"],
        ),
        (
            "typo-table",
            format!("{CARTPOLE}[teachr]\ntotal_steps = 5\n"),
            ["teachr", "did you mean `teacher`?"],
        ),
        (
            "typo-env",
            "[env]\nid = \"GridWorld\"\nmapfile = \"x.map\"\n".into(),
            ["mapfile", "did you mean `map_file`?"],
        ),
        (
            "typo-student",
            format!("{CARTPOLE}[[students]]\nname = \"a\"\nhiden = [4]\n"),
            ["hiden", "did you mean `hidden`?"],
        ),
        (
            "typo-eval",
            format!("{CARTPOLE}[eval]\nepisode = 5\n"),
            ["episode", "did you mean `episodes`?"],
        ),
    ];
    for (case, text, needles) in cases {
        bad_experiment(case, &text, &needles);
    }
    // Nothing close: the key is named, and no guess is offered.
    let stderr = bad_experiment(
        "unknown-key",
        &format!("{CARTPOLE}[teacher]\nzzzzzz = 1\n"),
        &["zzzzzz"],
    );
    assert!(!stderr.contains("did you mean"), "{stderr}");
}

#[test]
fn wrong_type_is_named() {
    let stderr = run_bad(
        "wrongtype",
        &format!("{CARTPOLE}[teacher]\ntotal_steps = \"many\"\n"),
    );
    assert!(stderr.contains("total_steps"), "{stderr}");
}

#[test]
fn values_of_the_wrong_type_are_named() {
    let cases = [
        (
            "negative-count",
            format!("{CARTPOLE}[teacher]\ntotal_steps = -5\n"),
            ["total_steps = -5", "u64"],
        ),
        (
            "hidden-not-a-list",
            format!("{CARTPOLE}[teacher]\nhidden = 16\n"),
            ["hidden = 16", "sequence"],
        ),
        (
            "negative-width",
            format!("{CARTPOLE}[[students]]\nname = \"a\"\nhidden = [-4]\n"),
            ["hidden = [-4]", "-4"],
        ),
        (
            "negative-seed",
            format!("seed = -1\n{CARTPOLE}"),
            ["seed = -1", "u64"],
        ),
        (
            "bool-as-string",
            format!("{CARTPOLE}[teacher]\ndouble_dqn = \"yes\"\n"),
            ["double_dqn = \"yes\"", "bool"],
        ),
        (
            "dueling-as-number",
            format!("{CARTPOLE}[teacher]\ndueling = 1\n"),
            ["dueling = 1", "bool"],
        ),
    ];
    for (case, text, needles) in cases {
        bad_experiment(case, &text, &needles);
    }
}

#[test]
fn zero_sizes_and_budgets_are_refused_with_their_key() {
    let cases = [
        (
            "teacher-batch",
            "[teacher]\nbatch_size = 0\n",
            "teacher.batch_size = 0: must be at least 1",
        ),
        (
            "teacher-buffer",
            "[teacher]\nbuffer_size = 0\n",
            "teacher.buffer_size = 0: must be at least 1",
        ),
        (
            "teacher-hidden",
            "[teacher]\nhidden = [64, 0]\n",
            "teacher.hidden = [64, 0]: every width must be at least 1",
        ),
        (
            "distill-steps",
            "[distill]\nsteps = 0\n",
            "distill.steps = 0: must be at least 1",
        ),
        (
            "distill-states",
            "[distill]\nstates = 0\n",
            "distill.states = 0: must be at least 1",
        ),
        (
            "student-hidden",
            "[[students]]\nname = \"zero\"\nhidden = [0]\n",
            "students[0].hidden = [0]: every width must be at least 1",
        ),
        (
            "second-student-hidden",
            concat!(
                "[[students]]\nname = \"a\"\nhidden = [4]\n",
                "[[students]]\nname = \"b\"\nhidden = [8, 0]\n"
            ),
            "students[1].hidden = [8, 0]",
        ),
    ];
    for (case, table, expected) in cases {
        bad_experiment(case, &format!("{CARTPOLE}{table}"), &[expected]);
    }
    bad_experiment(
        "threads",
        &format!("threads = 0\n{CARTPOLE}"),
        &["threads = 0: must be at least 1"],
    );
}

#[test]
fn out_of_range_values_are_named_with_their_range() {
    let cases = [
        (
            "gamma",
            "[teacher]\ngamma = 1.5\n",
            "teacher.gamma = 1.5: must be in (0, 1]",
        ),
        (
            "eps",
            "[teacher]\nexploration_final_eps = 2.0\n",
            "teacher.exploration_final_eps = 2",
        ),
        (
            "tau",
            "[distill]\ntemperature = -1.0\n",
            "distill.temperature = -1: must be positive",
        ),
        (
            "budget",
            "[teacher]\ntotal_steps = 0\n",
            "teacher.total_steps = 0: must be at least 1",
        ),
        ("episodes", "[eval]\nepisodes = 0\n", "eval.episodes = 0"),
        (
            "n-step",
            "[teacher]\nn_step = 0\n",
            "teacher.n_step = 0: must be in [1, 1000]",
        ),
        (
            "priority-beta",
            "[teacher]\nprioritized_replay = true\npriority_beta_start = 1.5\n",
            "teacher.priority_beta_start = 1.5: must be in [0, 1]",
        ),
    ];
    for (name, table, expected) in cases {
        let stderr = run_bad(name, &format!("{CARTPOLE}{table}"));
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn temperatures_rates_and_probabilities_out_of_range_are_named() {
    let cases = [
        (
            "tau-zero",
            "[distill]\ntemperature = 0.0\n",
            "distill.temperature = 0: must be positive",
        ),
        (
            "tau-inf",
            "[distill]\ntemperature = inf\n",
            "distill.temperature = inf: must be positive",
        ),
        (
            "eps-initial-negative",
            "[teacher]\nexploration_initial_eps = -0.1\n",
            "teacher.exploration_initial_eps = -0.1: must be in [0, 1]",
        ),
        (
            "eps-final-above-one",
            "[teacher]\nexploration_final_eps = 1.01\n",
            "teacher.exploration_final_eps = 1.01: must be in [0, 1]",
        ),
        (
            "collect-eps",
            "[distill]\ncollect_epsilon = 1.5\n",
            "distill.collect_epsilon = 1.5: must be in [0, 1]",
        ),
        (
            "gamma-zero",
            "[teacher]\ngamma = 0.0\n",
            "teacher.gamma = 0: must be in (0, 1]",
        ),
        (
            "gamma-negative",
            "[teacher]\ngamma = -0.5\n",
            "teacher.gamma = -0.5: must be in (0, 1]",
        ),
        (
            "gamma-nan",
            "[teacher]\ngamma = nan\n",
            "teacher.gamma = NaN: must be in (0, 1]",
        ),
        (
            "lr-zero",
            "[teacher]\nlearning_rate = 0.0\n",
            "teacher.learning_rate = 0: must be positive",
        ),
        (
            "holdout",
            "[distill]\nholdout_fraction = 0.5\n",
            "distill.holdout_fraction = 0.5: must be in [0, 0.5)",
        ),
    ];
    for (case, table, expected) in cases {
        bad_experiment(case, &format!("{CARTPOLE}{table}"), &[expected]);
    }
}

#[test]
fn unknown_env_and_unknown_loss_are_named() {
    let stderr = run_bad("env", "[env]\nid = \"CartPole-v9\"\n");
    assert!(
        stderr.contains("CartPole-v9") && stderr.contains("CartPole-v1"),
        "{stderr}"
    );
    let stderr = run_bad("loss", &format!("{CARTPOLE}[distill]\nloss = \"l2\"\n"));
    assert!(stderr.contains("l2") && stderr.contains("kl"), "{stderr}");
    bad_experiment(
        "collection",
        &format!("{CARTPOLE}[distill]\ncollection = \"dagger\"\n"),
        &["dagger", "`teacher`", "`student`"],
    );
    // An option that the environment does not take.
    bad_experiment(
        "env-option",
        &format!("{CARTPOLE}is_slippery = true\n"),
        &["is_slippery", "CartPole-v1"],
    );
    // An exact evaluation, which only grid maps have.
    bad_experiment(
        "exact-eval",
        &format!("{CARTPOLE}[teacher]\nexact_eval = true\n"),
        &[
            "teacher.exact_eval = true",
            "grid maps",
            "remove exact_eval",
        ],
    );
}

#[test]
fn students_with_duplicate_or_unsafe_names_are_refused() {
    let student = |name: &str| format!("[[students]]\nname = {name:?}\nhidden = [4]\n");
    bad_experiment(
        "duplicate",
        &format!("{CARTPOLE}{}{}", student("h4"), student("h4")),
        &["students[1].name = \"h4\": used twice"],
    );
    bad_experiment(
        "slash",
        &format!("{CARTPOLE}{}", student("a/b")),
        &["students[0].name = \"a/b\"", "letters, digits"],
    );
    bad_experiment(
        "dotdot",
        &format!("{CARTPOLE}{}{}", student("ok"), student("..")),
        &["students[1].name = \"..\"", "letters, digits"],
    );
    bad_experiment(
        "empty-name",
        &format!("{CARTPOLE}{}", student("")),
        &["students[0].name = \"\"", "non-empty"],
    );
}

#[test]
fn a_device_in_the_file_that_is_not_there_is_refused() {
    // Named as written in the file, with the file and what to write instead.
    bad_experiment(
        "device-name",
        &format!("device = \"tpu\"\n{CARTPOLE}"),
        &[
            "device = \"tpu\": expected `cpu`, `cuda` or `cuda:N`",
            "device = \"cpu\"",
        ],
    );
    bad_experiment(
        "device-empty",
        &format!("device = \"\"\n{CARTPOLE}"),
        &["device = \"\": expected `cpu`, `cuda` or `cuda:N`"],
    );
    // Well spelt but absent (no GPU here): the file and key, and the way out.
    bad_experiment(
        "device-index",
        &format!("device = \"cuda:99\"\n{CARTPOLE}"),
        &["device = \"cuda:99\"", "--device cpu"],
    );
    // A bad device in the file is refused even when --device would replace it.
    let (dir, file, out) = experiment_case(
        "device-overridden",
        &format!("device = \"tpu\"\n{CARTPOLE}"),
    );
    refused(
        "device-overridden",
        &["run", s(&file), "--device", "cpu", "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &[s(&file), "device = \"tpu\""],
    );
}

#[test]
fn endless_or_huge_input_files_are_refused_without_reading_them_whole() {
    let dir = scratch("endless");
    refused(
        "experiment-dev-zero",
        &["run", "/dev/zero", "--out", s(&dir.join("o"))],
        BAD_INPUT,
        &dir,
        &["cannot read experiment file /dev/zero", "larger than 1 MiB"],
    );
    bad_experiment(
        "map-dev-zero",
        "[env]\nid = \"GridWorld\"\nmap_file = \"/dev/zero\"\n",
        &["/dev/zero", "larger than 1 MiB"],
    );
}

#[test]
fn sizes_beyond_this_machine_s_memory_are_refused_before_anything_runs() {
    // Each passed validation once and then made libtorch's allocator panic mid-run (the
    // networks) or ran out of memory slowly (the copies, states and batches).
    let huge = "100000000000";
    let cases = [
        (
            "huge-teacher",
            format!("[teacher]\nhidden = [{huge}]\n"),
            "teacher.hidden",
        ),
        (
            "huge-student",
            format!("[[students]]\nname = \"s\"\nhidden = [{huge}]\n"),
            "students[0].hidden",
        ),
        (
            "huge-envs",
            format!("[teacher]\nnum_envs = {huge}\n"),
            "teacher.num_envs",
        ),
        (
            "huge-episodes",
            format!("[eval]\nepisodes = {huge}\n"),
            "eval.episodes",
        ),
        (
            "huge-states",
            format!("[distill]\nstates = {huge}0\n"),
            "distill.states",
        ),
        (
            "huge-batch",
            format!("[teacher]\nbatch_size = {huge}\n"),
            "teacher.batch_size",
        ),
        (
            "huge-collect-envs",
            format!("[distill]\ncollect_envs = {huge}\n"),
            "distill.collect_envs",
        ),
    ];
    for (case, table, key) in cases {
        bad_experiment(
            case,
            &format!("{CARTPOLE}{table}"),
            &[&format!("{key} = "), huge, "more than this machine's"],
        );
    }
}

#[test]
fn a_replay_buffer_larger_than_memory_is_refused_and_leaves_nothing() {
    let stderr = run_bad(
        "hugebuffer",
        &format!("{CARTPOLE}[teacher]\nbuffer_size = 100000000000\n"),
    );
    assert!(
        stderr.contains("teacher.buffer_size = 100000000000"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Sweeps

/// `retort sweep` on an experiment with a `[sweep]` table: exit 1, every needle named,
/// nothing written.
fn bad_sweep(case: &str, sweep: &str, needles: &[&str]) -> String {
    let (dir, file, out) = experiment_case(case, &format!("{TINY_CARTPOLE}[sweep]\n{sweep}"));
    let mut needles = needles.to_vec();
    needles.push(s(&file));
    refused(
        case,
        &["sweep", s(&file), "--seeds", "2", "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &needles,
    )
}

#[test]
fn bad_sweep_tables_are_refused_before_anything_runs() {
    bad_sweep(
        "sweep-unknown-key",
        "temprature = [0.1, 1.0]\n",
        &[
            "invalid [sweep] table",
            "unknown key `temprature`; did you mean `temperature`?",
        ],
    );
    bad_sweep(
        "sweep-key-of-another-table",
        "gamma = [0.9, 0.99]\n",
        &[
            "unknown key `gamma`",
            "sweep keys are [distill] keys",
            "`temperature`",
        ],
    );
    bad_sweep(
        "sweep-bad-value",
        "temperature = [0.01, -1.0]\n",
        &["[sweep]", "distill.temperature = -1: must be positive"],
    );
    bad_sweep(
        "sweep-zero-steps",
        "steps = [10, 0]\n",
        &["[sweep]", "distill.steps = 0: must be at least 1"],
    );
    bad_sweep(
        "sweep-unknown-loss",
        "loss = [\"kl\", \"l2\"]\n",
        &["[sweep]", "l2", "`kl`"],
    );
    bad_sweep(
        "sweep-wrong-type",
        "steps = [\"many\"]\n",
        &["[sweep]", "many"],
    );
    bad_sweep(
        "sweep-empty-list",
        "loss = []\n",
        &["sweep.loss is an empty list"],
    );
    // Not a list at all: refused while the file is read, so the file is named.
    let (dir, file, out) = experiment_case(
        "sweep-not-a-list",
        &format!("{TINY_CARTPOLE}[sweep]\nloss = \"kl\"\n"),
    );
    refused(
        "sweep-not-a-list",
        &["sweep", s(&file), "--seeds", "2", "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &[s(&file), "loss", "sequence"],
    );
}

// ---------------------------------------------------------------------------------------------
// GridWorld maps

/// `retort run` on a GridWorld experiment whose `map_file = "x.map"` holds `map` (no file when
/// `None`): exit 1, the map file and every needle named, nothing written.
fn bad_map(case: &str, map: Option<&str>, needles: &[&str]) {
    let (dir, file, out) = experiment_case(
        case,
        "[env]\nid = \"GridWorld\"\nmap_file = \"x.map\"\n[teacher]\ntotal_steps = 100\n",
    );
    let map_path = dir.join("x.map");
    if let Some(text) = map {
        std::fs::write(&map_path, text).unwrap();
    }
    let mut needles = needles.to_vec();
    needles.push(s(&map_path));
    refused(
        case,
        &["run", s(&file), "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &needles,
    );
}

#[test]
fn bad_maps_are_refused_at_their_line_and_column() {
    bad_map(
        "map-no-start",
        Some("...\n..G\n"),
        &["line 1, column 1", "no start", "`S`"],
    );
    bad_map(
        "map-two-starts",
        Some("S..\n.SG\n"),
        &["line 2, column 2", "second start", "line 1, column 1"],
    );
    bad_map(
        "map-no-goal",
        Some("S..\n...\n"),
        &["line 1, column 1", "no goal", "`G`"],
    );
    bad_map(
        "map-short-row",
        Some("S..\n.G\n"),
        &["line 2, column 3", "has 2 cells but the first row has 3"],
    );
    bad_map(
        "map-long-row",
        Some("S..\n..G.\n"),
        &["line 2, column 4", "longer than the first row"],
    );
    bad_map(
        "map-blank-line-inside",
        Some("S..\n\n..G\n"),
        &["line 2, column 1", "has 0 cells"],
    );
    bad_map(
        "map-unknown-char",
        Some("S.x\n..G\n"),
        &["line 1, column 3", "unknown character 'x'", "`#` wall"],
    );
    bad_map(
        "map-unreachable-goal",
        Some("S#.\n##G\n"),
        &["line 2, column 3", "cannot be reached"],
    );
    bad_map(
        "map-goal-behind-hole",
        Some("#S#\n#H#\n#G#\n"),
        &["line 3, column 2", "cannot be reached"],
    );
    bad_map(
        "map-empty",
        Some(""),
        &["line 1, column 1", "the map is empty"],
    );
    bad_map(
        "map-blank",
        Some("\n  \n\n"),
        &["line 1, column 1", "the map is empty"],
    );
    bad_map("map-missing", None, &["cannot read"]);
}

#[test]
fn a_map_file_for_an_env_without_maps_or_beside_a_builtin_map_is_refused() {
    bad_experiment(
        "map-file-on-cartpole",
        &format!("{CARTPOLE}map_file = \"x.map\"\n"),
        &["map_file", "CartPole-v1"],
    );
    bad_experiment(
        "map-and-map-file",
        "[env]\nid = \"GridWorld\"\nmap = \"4x4\"\nmap_file = \"x.map\"\n",
        &["map_file", "not both"],
    );
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/// A way of breaking a copy of the shared trained checkpoint.
type Breakage = fn(&Path);

fn edit_card(checkpoint: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = checkpoint.join("model.json");
    let mut card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut card);
    std::fs::write(&path, serde_json::to_string_pretty(&card).unwrap()).unwrap();
}

type Broken = (&'static str, Breakage, &'static [&'static str]);

fn breakage(case: &'static str, f: Breakage, needles: &'static [&'static str]) -> Broken {
    (case, f, needles)
}

/// Broken checkpoints: (case, how it is broken, what the message must name beside the
/// checkpoint's path).
fn broken_checkpoints() -> Vec<Broken> {
    vec![
        breakage(
            "ckpt-missing",
            |c| std::fs::remove_dir_all(c).unwrap(),
            &["no such directory", "model.json"],
        ),
        breakage(
            "ckpt-regular-file",
            |c| {
                std::fs::remove_dir_all(c).unwrap();
                std::fs::write(c, "not a folder").unwrap();
            },
            &["not a directory", "model.json"],
        ),
        breakage(
            "ckpt-no-card",
            |c| std::fs::remove_file(c.join("model.json")).unwrap(),
            &["no model.json here"],
        ),
        breakage(
            "ckpt-card-not-json",
            |c| std::fs::write(c.join("model.json"), "{ this is not json").unwrap(),
            &["model.json", "not a retort model card"],
        ),
        breakage(
            "ckpt-other-format",
            |c| edit_card(c, |card| card["format"] = "retort-mlp/999".into()),
            &["model.json", "format `retort-mlp/999`", "retort-mlp/1"],
        ),
        breakage(
            "ckpt-zero-width",
            |c| edit_card(c, |card| card["mlp"]["hidden"] = serde_json::json!([0])),
            &["model.json", "widths must all be positive"],
        ),
        breakage(
            "ckpt-wrong-shape",
            |c| {
                edit_card(c, |card| {
                    card["mlp"]["hidden"] = serde_json::json!([16]);
                    card["params"] = 114.into();
                })
            },
            &[
                "model.safetensors",
                "[8",
                "but model.json's architecture needs F32 [16",
            ],
        ),
        breakage(
            "ckpt-extra-layer",
            |c| {
                edit_card(c, |card| {
                    card["mlp"]["hidden"] = serde_json::json!([8, 8]);
                    card["params"] = 130.into();
                })
            },
            &["model.safetensors", "but model.json's architecture needs"],
        ),
        breakage(
            "ckpt-dueling-card-plain-weights",
            |c| {
                edit_card(c, |card| {
                    card["mlp"]["dueling"] = true.into();
                    // 4·8 + 8, value 8 + 1, advantage 8·2 + 2.
                    card["params"] = 67.into();
                })
            },
            &["model.safetensors", "model.json says", "dueling head"],
        ),
        breakage(
            "ckpt-no-weights",
            |c| std::fs::remove_file(c.join("model.safetensors")).unwrap(),
            &["model.safetensors"],
        ),
        breakage(
            "ckpt-truncated",
            |c| {
                let path = c.join("model.safetensors");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            },
            &["model.safetensors", "not a readable safetensors file"],
        ),
        breakage(
            "ckpt-junk",
            |c| {
                let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
                std::fs::write(c.join("model.safetensors"), junk).unwrap();
            },
            &["model.safetensors", "not a readable safetensors file"],
        ),
        breakage(
            "ckpt-empty-weights",
            |c| std::fs::write(c.join("model.safetensors"), b"").unwrap(),
            &["model.safetensors", "not a readable safetensors file"],
        ),
    ]
}

/// A case's scratch folder with a copy of the trained checkpoint broken by `breakage`, and
/// the tiny experiment beside it: (folder, checkpoint, experiment).
fn broken_checkpoint(case: &str, breakage: Breakage) -> (PathBuf, PathBuf, PathBuf) {
    let (dir, file, _) = experiment_case(case, TINY_CARTPOLE);
    let checkpoint = dir.join("teacher");
    copy_dir(trained_teacher(), &checkpoint);
    breakage(&checkpoint);
    (dir, checkpoint, file)
}

#[test]
fn eval_of_a_missing_checkpoint_says_what_to_pass() {
    let out = retort(&["eval", "/nonexistent/teacher"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("model.json") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(!Path::new("/nonexistent").exists());
}

#[test]
fn eval_of_more_episodes_than_memory_holds_is_refused() {
    // One environment copy per episode: four billion of them once ran the allocator dry.
    let dir = scratch("eval-huge");
    refused(
        "eval-huge",
        &["eval", s(trained_teacher()), "--episodes", "4000000000"],
        BAD_INPUT,
        &dir,
        &["--episodes 4000000000", "more than this machine's"],
    );
}

#[test]
fn eval_of_a_broken_checkpoint_names_the_file_and_the_fault() {
    for (case, breakage, needles) in broken_checkpoints() {
        let case = format!("eval-{case}");
        let (dir, checkpoint, _) = broken_checkpoint(&case, breakage);
        let mut needles = needles.to_vec();
        needles.push(s(&checkpoint));
        refused(
            &case,
            &["eval", s(&checkpoint), "--episodes", "2"],
            BAD_INPUT,
            &dir,
            &needles,
        );
    }
}

#[test]
fn distilling_from_a_broken_teacher_leaves_nothing() {
    for (case, breakage, needles) in broken_checkpoints() {
        let case = format!("distill-{case}");
        let (dir, checkpoint, experiment) = broken_checkpoint(&case, breakage);
        let mut needles = needles.to_vec();
        needles.push(s(&checkpoint));
        let out = dir.join("out");
        refused(
            &case,
            &[
                "distill",
                s(&experiment),
                "--teacher",
                s(&checkpoint),
                "--out",
                s(&out),
            ],
            BAD_INPUT,
            &dir,
            &needles,
        );
    }
}

#[test]
fn exporting_a_broken_checkpoint_leaves_nothing() {
    for (case, breakage, needles) in broken_checkpoints() {
        let case = format!("export-{case}");
        let (dir, checkpoint, _) = broken_checkpoint(&case, breakage);
        let mut needles = needles.to_vec();
        needles.push(s(&checkpoint));
        let out = dir.join("exported");
        refused(
            &case,
            &["export", s(&checkpoint), "--out", s(&out)],
            BAD_INPUT,
            &dir,
            &needles,
        );
    }
}

#[test]
fn distilling_from_a_teacher_of_another_env_leaves_nothing() {
    // A real, briefly trained FrozenLake teacher…
    let dir = scratch("wrongteacher");
    let experiment = dir.join("lake.toml");
    let lake = "[env]\nid = \"FrozenLake-v1\"\n[teacher]\nhidden = [8]\ntotal_steps = 300\n\
                learning_starts = 100\neval_interval = 0\n[eval]\nepisodes = 2\n";
    std::fs::write(&experiment, lake).unwrap();
    let teacher_run = dir.join("lake");
    let out = retort(&[
        "train",
        experiment.to_str().unwrap(),
        "--out",
        teacher_run.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // …offered to a CartPole experiment.
    let out_dir = dir.join("out");
    let teacher = teacher_run.join("teacher");
    let out = retort(&[
        "distill",
        "experiments/ci.toml",
        "--teacher",
        teacher.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(r#"{"id":"FrozenLake-v1"}"#), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out_dir.exists(), "the run directory was left behind");
}

// ---------------------------------------------------------------------------------------------
// The command line

#[test]
fn cli_misuse_is_a_usage_error() {
    for args in [
        &["fly"][..],
        &["run", "experiments/ci.toml", "--bogus"],
        &["run", "experiments/ci.toml", "--device", "tpu"],
        &["run", "experiments/ci.toml", "--threads", "0"],
        &["eval", "x", "--episodes", "0"],
    ] {
        let out = retort(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn cli_misuse_names_the_argument_and_writes_nothing() {
    let (dir, file, out) = experiment_case("usage", TINY_CARTPOLE);
    let (file, out) = (s(&file), s(&out));
    let checkpoint = s(trained_teacher());
    let cases: [(&str, Vec<&str>, &[&str]); 16] = [
        ("subcommand", vec!["fly"], &["fly"]),
        ("no-subcommand", vec![], &["Usage"]),
        (
            "flag",
            vec!["run", file, "--bogus", "--out", out],
            &["--bogus"],
        ),
        (
            "device",
            vec!["run", file, "--device", "tpu", "--out", out],
            &["tpu", "`cpu`, `cuda` or `cuda:N`"],
        ),
        (
            "device-index",
            vec!["run", file, "--device", "cuda:x", "--out", out],
            &["cuda:x"],
        ),
        (
            "eval-device",
            vec!["eval", checkpoint, "--device", "gpu"],
            &["gpu", "--device"],
        ),
        (
            "threads",
            vec!["run", file, "--threads", "0", "--out", out],
            &["--threads", "'0'"],
        ),
        (
            "seeds",
            vec!["sweep", file, "--seeds", "0", "--out", out],
            &["--seeds", "'0'"],
        ),
        (
            "jobs",
            vec!["sweep", file, "--jobs", "0", "--out", out],
            &["--jobs", "'0'"],
        ),
        (
            "seed-not-a-number",
            vec!["run", file, "--seed", "one", "--out", out],
            &["--seed", "one"],
        ),
        (
            "episodes",
            vec!["eval", checkpoint, "--episodes", "0"],
            &["--episodes", "'0'"],
        ),
        ("no-experiment", vec!["run"], &["<EXPERIMENT>"]),
        ("no-checkpoint", vec!["eval"], &["<CHECKPOINT>"]),
        (
            "no-teacher",
            vec!["distill", file, "--out", out],
            &["--teacher"],
        ),
        ("no-export-out", vec!["export", checkpoint], &["--out"]),
        ("out-without-value", vec!["run", file, "--out"], &["--out"]),
    ];
    for (case, args, needles) in cases {
        refused(case, &args, USAGE, &dir, needles);
    }
}

#[test]
fn a_device_that_is_not_there_is_refused_before_anything_is_written() {
    let (dir, file, out) = experiment_case("nodevice", TINY_CARTPOLE);
    refused(
        "cuda-99",
        &["run", s(&file), "--device", "cuda:99", "--out", s(&out)],
        BAD_INPUT,
        &dir,
        &["cuda:99", "--device cpu"],
    );
}

#[test]
fn a_non_empty_output_directory_is_refused_and_left_alone() {
    let dir = scratch("nonempty");
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let out = retort(&["run", "experiments/ci.toml", "--out", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn unusable_output_directories_are_refused_for_every_command() {
    let (dir, file, _) = experiment_case("badout", TINY_CARTPOLE);
    let file = s(&file);
    let full = dir.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("precious.txt"), "keep me").unwrap();
    let regular = dir.join("regular.txt");
    std::fs::write(&regular, "a file, not a folder").unwrap();
    let under_file = regular.join("run");
    let checkpoint = dir.join("teacher");
    copy_dir(trained_teacher(), &checkpoint);
    let checkpoint = s(&checkpoint);
    let (full, regular, under_file) = (s(&full), s(&regular), s(&under_file));

    let non_empty: [&[&str]; 5] = [
        &["run", file],
        &["train", file],
        &["sweep", file, "--seeds", "2"],
        &["distill", file, "--teacher", checkpoint],
        &["export", checkpoint],
    ];
    for args in non_empty {
        let case = format!("non-empty-{}", args[0]);
        let args = [args, &["--out", full]].concat();
        refused(
            &case,
            &args,
            BAD_INPUT,
            &dir,
            &[full, "already exists and is not empty", "--out"],
        );
    }
    for args in [&["run", file][..], &["export", checkpoint]] {
        let case = format!("under-a-file-{}", args[0]);
        let args = [args, &["--out", under_file]].concat();
        refused(
            &case,
            &args,
            BAD_INPUT,
            &dir,
            &["cannot create output directory", under_file],
        );
        let case = format!("a-file-{}", args[0]);
        let args = [&args[..args.len() - 1], &[regular]].concat();
        refused(
            &case,
            &args,
            BAD_INPUT,
            &dir,
            &[regular, "not a readable directory"],
        );
    }
}

#[test]
fn a_failed_run_removes_every_folder_it_created_for_out() {
    // `--out` several levels below the scratch folder: a run refused after the run directory
    // was made must not leave its parents behind either.
    let (dir, file, _) = experiment_case("deepout", TINY_CARTPOLE);
    let checkpoint = dir.join("teacher");
    copy_dir(trained_teacher(), &checkpoint);
    std::fs::write(checkpoint.join("model.safetensors"), b"junk").unwrap();
    let out = dir.join("a").join("b").join("run");
    refused(
        "deep-out",
        &[
            "distill",
            s(&file),
            "--teacher",
            s(&checkpoint),
            "--out",
            s(&out),
        ],
        BAD_INPUT,
        &dir,
        &["not a readable safetensors file"],
    );
}

#[test]
fn a_checkpoint_claiming_huge_layers_is_refused_without_allocating_them() {
    // model.json claims a hidden layer of 10^11 units (1.6 TB of weights) beside the file's
    // 8-unit tensors: the file's shapes must be compared before the network is built.
    let huge = |c: &Path| {
        edit_card(c, |card| {
            card["mlp"]["hidden"] = serde_json::json!([100_000_000_000u64]);
        })
    };
    let (dir, checkpoint, experiment) = broken_checkpoint("ckpt-huge", huge);
    let (out, exported) = (dir.join("out"), dir.join("exported"));
    let commands: [&[&str]; 3] = [
        &["eval", s(&checkpoint), "--episodes", "2"],
        &[
            "distill",
            s(&experiment),
            "--teacher",
            s(&checkpoint),
            "--out",
            s(&out),
        ],
        &["export", s(&checkpoint), "--out", s(&exported)],
    ];
    for args in commands {
        let case = format!("huge-{}", args[0]);
        refused(
            &case,
            args,
            BAD_INPUT,
            &dir,
            &[s(&checkpoint), "model.json"],
        );
    }
}

#[test]
fn a_checkpoint_whose_network_does_not_fit_its_env_is_refused() {
    // A CartPole network (4 observations, 2 actions) whose model.json says Acrobot-v1
    // (6 observations, 3 actions).
    let acrobot = |c: &Path| {
        edit_card(c, |card| {
            card["env"] = serde_json::json!({"id": "Acrobot-v1"})
        })
    };
    let (dir, checkpoint, _) = broken_checkpoint("ckpt-other-env", acrobot);
    let experiment = dir.join("acrobot.toml");
    std::fs::write(
        &experiment,
        TINY_CARTPOLE.replace("CartPole-v1", "Acrobot-v1"),
    )
    .unwrap();
    let out = dir.join("out");
    let commands: [&[&str]; 2] = [
        &["eval", s(&checkpoint), "--episodes", "2"],
        &[
            "distill",
            s(&experiment),
            "--teacher",
            s(&checkpoint),
            "--out",
            s(&out),
        ],
    ];
    for args in commands {
        let case = format!("other-env-{}", args[0]);
        refused(
            &case,
            args,
            BAD_INPUT,
            &dir,
            &[s(&checkpoint), "model.json", "Acrobot-v1"],
        );
    }
}

/// A run of [`TINY_CARTPOLE`] stopped by `--stop-at`, so that it holds a resumable checkpoint,
/// copied into the scratch folder `case` as `run`. Returns (folder, run, experiment file).
fn stopped_run(case: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = scratch(case);
    let file = dir.join("tiny.toml");
    std::fs::write(&file, TINY_CARTPOLE).unwrap();
    let run = dir.join("run");
    let out = retort(&["train", s(&file), "--out", s(&run), "--stop-at", "150"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(run.join("teacher/resume.safetensors").is_file());
    (dir, run, file)
}

#[test]
fn bad_resumes_are_refused_and_change_nothing() {
    let (dir, run, file) = stopped_run("resume-bad");
    let (run_s, file_s) = (s(&run), s(&file));
    let missing = dir.join("nothing");
    refused(
        "resume-missing",
        &["train", "--resume", s(&missing)],
        BAD_INPUT,
        &dir,
        &["no such directory", s(&missing)],
    );
    // A directory, but not a run's.
    let teacher_only = run.join("teacher");
    refused(
        "resume-not-a-run",
        &["train", "--resume", s(&teacher_only)],
        BAD_INPUT,
        &dir,
        &["no config.toml", s(&teacher_only)],
    );
    refused(
        "resume-and-out",
        &["train", "--resume", run_s, "--out", s(&missing)],
        USAGE,
        &dir,
        &["--out", "--resume"],
    );
    refused(
        "resume-and-seed",
        &["run", "--resume", run_s, "--seed", "4"],
        USAGE,
        &dir,
        &["--seed", "--resume"],
    );
    refused(
        "stop-at-zero",
        &["train", file_s, "--stop-at", "0", "--out", s(&missing)],
        USAGE,
        &dir,
        &["--stop-at", "'0'"],
    );

    let other = dir.join("other.toml");
    let text = TINY_CARTPOLE.replace("[teacher]\n", "[teacher]\ngamma = 0.9\n");
    std::fs::write(&other, text).unwrap();
    refused(
        "resume-with-another-experiment",
        &["train", s(&other), "--resume", run_s],
        BAD_INPUT,
        &dir,
        &["other.toml", "config.toml", "teacher.gamma"],
    );

    // The run's config.toml edited after the checkpoint was written.
    let config = run.join("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, original.replace("gamma = 0.99", "gamma = 0.5")).unwrap();
    refused(
        "resume-edited-config",
        &["train", "--resume", run_s],
        BAD_INPUT,
        &dir,
        &["resume.safetensors", "teacher.gamma", "differ"],
    );
    std::fs::write(&config, original).unwrap();

    let checkpoint = run.join("teacher/resume.safetensors");
    let bytes = std::fs::read(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    refused(
        "resume-truncated",
        &["train", "--resume", run_s],
        BAD_INPUT,
        &dir,
        &["resume.safetensors", "not a readable safetensors file"],
    );
    std::fs::copy(run.join("teacher/model.safetensors"), &checkpoint).unwrap();
    refused(
        "resume-from-model-weights",
        &["train", "--resume", run_s],
        BAD_INPUT,
        &dir,
        &["resume.safetensors", "holds no training state"],
    );
    std::fs::write(&checkpoint, &bytes).unwrap();
    // A stop the teacher has already passed (its checkpoint is at env step 150).
    for stop in ["100", "150"] {
        refused(
            &format!("resume-stop-at-{stop}"),
            &["train", "--resume", run_s, "--stop-at", stop],
            BAD_INPUT,
            &dir,
            &[&format!("--stop-at {stop}"), "already at env step 150"],
        );
    }
    // A sweep's directory, which holds runs rather than being one.
    let sweep = dir.join("sweep");
    std::fs::create_dir_all(sweep.join("base/seed-0")).unwrap();
    std::fs::copy(&config, sweep.join("config.toml")).unwrap();
    std::fs::copy(&config, sweep.join("base/seed-0/config.toml")).unwrap();
    refused(
        "resume-a-sweep",
        &["run", "--resume", s(&sweep)],
        BAD_INPUT,
        &dir,
        &["retort sweep", s(&sweep)],
    );
    std::fs::remove_dir_all(&sweep).unwrap();
    // Put back whole, the same run resumes.
    let out = retort(&["train", "--resume", run_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Finished, it has no step left to stop at, however late.
    refused(
        "resume-finished-stop-at",
        &["train", "--resume", run_s, "--stop-at", "1000000"],
        BAD_INPUT,
        &dir,
        &[
            "--stop-at 1000000",
            "already finished",
            "leave --stop-at out",
        ],
    );
}
