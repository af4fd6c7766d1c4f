//! Helpers shared by the whole-program tests: the binary, scratch directories, Python.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let json = logdir.with_extension("tb.json");
    let output = Command::new(python())
        .arg(root().join("scripts/tb_check.py"))
        .arg(logdir)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("python runs");
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
