//! Helpers shared by the whole-program tests: the binary, scratch directories, Python.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

/// Runs the `retort` binary with `args` from the repository root.
pub fn retort(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retort"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the retort binary runs")
}

/// `retort train EXPERIMENT --seed SEED --out DIR`, which must succeed; returns the run's
/// `summary.json`.
pub fn train_into(dir: &Path, experiment: &str, seed: &str) -> serde_json::Value {
    let out = retort(&[
        "train",
        experiment,
        "--seed",
        seed,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Python with `tensorboard` installed: `$RETORT_PYTHON`, else the venv that
/// `scripts/setup-libtorch.sh` prints (installing it if needed).
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("RETORT_PYTHON") {
        return PathBuf::from(python);
    }
    let output = Command::new("bash")
        .arg(root().join("scripts/setup-libtorch.sh"))
        .output()
        .expect("bash runs scripts/setup-libtorch.sh");
    assert!(
        output.status.success(),
        "setup-libtorch.sh failed; set RETORT_PYTHON"
    );
    let venv = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Path::new(&venv).join("bin/python")
}

/// Reads `logdir` with TensorBoard's own reader (`scripts/tb_check.py`), asserting that every
/// record passes its CRC checks, and returns the JSON summary.
pub fn tb_check(logdir: &Path) -> serde_json::Value {
    tb_check_with(logdir, false)
}

/// [`tb_check`] with every step and value of every series in the JSON.
pub fn tb_values(logdir: &Path) -> serde_json::Value {
    tb_check_with(logdir, true)
}

fn tb_check_with(logdir: &Path, values: bool) -> serde_json::Value {
    let json = logdir.with_extension("tb.json");
    let mut command = Command::new(python());
    command
        .arg(root().join("scripts/tb_check.py"))
        .arg(logdir)
        .arg("--json")
        .arg(&json);
    if values {
        command.arg("--values");
    }
    let output = command.output().expect("python runs");
    assert!(
        output.status.success(),
        "tb_check failed on {}:\n{}\n{}",
        logdir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).expect("tb_check wrote its JSON"))
        .expect("tb_check writes valid JSON")
}

/// Every file and folder under `dir`, by path relative to it, with each file's bytes (`None`
/// for a folder); empty when `dir` does not exist. Comparing two snapshots shows whether a
/// command created, removed or changed anything there.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(root).expect("under root").to_path_buf();
            if path.is_dir() {
                into.insert(relative, None);
                walk(root, &path, into);
            } else {
                into.insert(relative, Some(std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// Copies the folder `from` (files and sub-folders) to `to`, which must not exist.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's folder can be created");
    for entry in std::fs::read_dir(from).expect("the source folder is readable") {
        let path = entry.expect("a readable entry").path();
        let target = to.join(path.file_name().expect("an entry has a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("the file copies");
        }
    }
}

/// A tiny CartPole experiment (a few seconds to train): the teacher of [`trained_teacher`].
pub const TINY_CARTPOLE: &str = "[env]\nid = \"CartPole-v1\"\n\
    [teacher]\nhidden = [8]\ntotal_steps = 300\nlearning_starts = 100\neval_interval = 0\n\
    [eval]\nepisodes = 2\n\
    [distill]\nstates = 200\nsteps = 20\n\
    [[students]]\nname = \"s4\"\nhidden = [4]\n";

/// The `teacher/` checkpoint of one real run of `retort train` on [`TINY_CARTPOLE`], trained
/// once per test binary and shared: copy it before changing anything in it.
pub fn trained_teacher() -> &'static Path {
    static TEACHER: OnceLock<PathBuf> = OnceLock::new();
    TEACHER.get_or_init(|| {
        let dir = scratch("shared-teacher");
        let experiment = dir.join("tiny.toml");
        std::fs::write(&experiment, TINY_CARTPOLE).expect("the scratch dir is writable");
        let run = dir.join("run");
        let out = retort(&[
            "train",
            experiment.to_str().expect("a UTF-8 temp dir"),
            "--out",
            run.to_str().expect("a UTF-8 temp dir"),
        ]);
        assert!(
            out.status.success(),
            "training the shared tiny teacher failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let teacher = run.join("teacher");
        assert!(
            teacher.join("model.json").is_file() && teacher.join("model.safetensors").is_file()
        );
        teacher
    })
}
