//! Stopping and resuming through the binary: a run split into several processes — stopped
//! with `--stop-at`, interrupted with Ctrl-C, or killed with `kill -9` while it writes its
//! checkpoints — ends with the same weights, summary and TensorBoard series as one
//! uninterrupted run.

mod common;

use common::{retort, root, scratch, tb_values};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A CartPole run of a few seconds with students, evaluations during training and frequent
/// checkpoints.
const SHORT_RUN: &str = "name = \"resume\"\nseed = 3\n[env]\nid = \"CartPole-v1\"\n\
    [teacher]\nhidden = [32]\ntotal_steps = 6000\nlearning_starts = 500\n\
    eval_interval = 1500\neval_episodes = 5\ncheckpoint_interval = 1000\n\
    [eval]\nepisodes = 10\n[distill]\nstates = 1000\nsteps = 100\n\
    [[students]]\nname = \"s8\"\nhidden = [8]\n";

/// A teacher-only run long enough to be interrupted or killed several times, with a
/// checkpoint every 250 env steps so that kills often land while one is being written.
const LONG_TEACHER: &str = "seed = 5\n[env]\nid = \"CartPole-v1\"\n\
    [teacher]\nhidden = [32]\ntotal_steps = 40000\neval_interval = 0\n\
    checkpoint_interval = 250\n[eval]\nepisodes = 5\n";

fn write_experiment(dir: &Path, text: &str) -> String {
    let path = dir.join("experiment.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn succeed(args: &[&str]) -> String {
    let out = retort(args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "retort {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// summary.json without what legitimately differs between two runs of the same seed: wall
/// clock times and the run directory.
fn comparable_summary(run: &Path) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in [
                    "train_seconds",
                    "time_split",
                    "total_seconds",
                    "collect_seconds",
                    "action_micros",
                    "tensorboard_logdir",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(run.join("summary.json")).unwrap();
    let mut summary: Value = serde_json::from_str(&text).unwrap();
    strip(&mut summary);
    summary
}

/// The steps and values of every scalar series of `run`'s teacher, as TensorBoard reads them
/// (after checking every record of every file).
fn teacher_series(run: &Path) -> Vec<(String, Value, Value)> {
    let tb = tb_values(run);
    let scalars = tb["runs"]["teacher"]["scalars"]
        .as_object()
        .unwrap()
        .clone();
    scalars
        .into_iter()
        .filter(|(tag, _)| tag != "time/sps") // wall-clock throughput
        .map(|(tag, s)| (tag, s["steps"].clone(), s["values"].clone()))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
fn a_run_stopped_twice_and_resumed_equals_the_straight_run() {
    let dir = scratch("resume-stop");
    let experiment = write_experiment(&dir, SHORT_RUN);
    let straight = dir.join("straight");
    succeed(&["run", &experiment, "--out", straight.to_str().unwrap()]);

    let pieces = dir.join("pieces");
    let p = pieces.to_str().unwrap();
    let stdout = succeed(&["run", &experiment, "--out", p, "--stop-at", "2500"]);
    assert!(
        stdout.contains(&format!(
            "teacher stopped at env step 2500, as --stop-at asked; continue with `retort run \
             --resume {p}`"
        )),
        "{stdout}"
    );
    assert!(!pieces.join("summary.json").exists());
    assert!(pieces.join("teacher/resume.safetensors").is_file());
    // The experiment may be given again, as long as it is the run's own.
    succeed(&["run", &experiment, "--resume", p, "--stop-at", "4100"]);
    // A stop on a step where an episode ends: its points were logged before the checkpoint
    // and must survive the restart, which is not redone.
    let ends = &teacher_series(&straight)
        .into_iter()
        .find(|(tag, _, _)| tag == "charts/episodic_return")
        .expect("episode returns")
        .1;
    let end = ends
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .find(|&s| s > 4100 && s < 5900)
        .expect("an episode ends between 4100 and 5900");
    let end = end.to_string();
    succeed(&["run", "--resume", p, "--stop-at", &end]);
    succeed(&["run", "--resume", p]);

    assert_eq!(comparable_summary(&pieces), comparable_summary(&straight));
    for file in ["teacher/model.safetensors", "students/s8/model.safetensors"] {
        assert!(
            same_file(&straight.join(file), &pieces.join(file)),
            "{file} differs"
        );
    }
    assert_eq!(teacher_series(&pieces), teacher_series(&straight));
    // What only served to resume is gone once the teacher is final.
    assert!(!pieces.join("teacher/resume.safetensors").exists());
    assert!(pieces.join("plots/teacher_learning_curve.png").is_file());

    // Resuming a finished run reuses its teacher and fits the students again, identically.
    succeed(&["run", "--resume", p]);
    assert_eq!(comparable_summary(&pieces), comparable_summary(&straight));
    // The whole run's seconds include the teacher's training in the earlier processes.
    let text = std::fs::read_to_string(pieces.join("summary.json")).unwrap();
    let summary: Value = serde_json::from_str(&text).unwrap();
    let total = summary["total_seconds"].as_f64().unwrap();
    let training = summary["teacher"]["train_seconds"].as_f64().unwrap();
    assert!(
        total > training,
        "whole run {total} s, teacher training {training} s"
    );
}

fn spawn(command: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_retort"))
        .arg(command)
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `file` exists (or a minute passed), then `extra` more.
fn wait_for(file: &Path, extra: Duration) {
    let started = Instant::now();
    while !file.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(extra);
}

#[test]
fn a_run_interrupted_by_ctrl_c_and_resumed_equals_the_straight_run() {
    let dir = scratch("resume-sigint");
    let experiment = write_experiment(&dir, LONG_TEACHER);
    let straight = dir.join("straight");
    succeed(&["run", &experiment, "--out", straight.to_str().unwrap()]);

    let pieces = dir.join("pieces");
    let p = pieces.to_str().unwrap();
    let child = spawn("run", &[&experiment, "--out", p]);
    wait_for(
        &pieces.join("teacher/resume.safetensors"),
        Duration::from_millis(700),
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("continue with `retort run --resume {p}`")),
        "{stderr}"
    );

    succeed(&["run", "--resume", p]);
    assert_eq!(comparable_summary(&pieces), comparable_summary(&straight));
    assert!(same_file(
        &straight.join("teacher/model.safetensors"),
        &pieces.join("teacher/model.safetensors")
    ));
    assert_eq!(teacher_series(&pieces), teacher_series(&straight));
}

#[test]
fn a_teacher_killed_repeatedly_while_checkpointing_resumes_to_the_straight_run() {
    let dir = scratch("resume-kill");
    let experiment = write_experiment(&dir, LONG_TEACHER);
    let straight = dir.join("straight");
    succeed(&["train", &experiment, "--out", straight.to_str().unwrap()]);

    let pieces = dir.join("pieces");
    let p = pieces.to_str().unwrap();
    let checkpoint = pieces.join("teacher/resume.safetensors");
    // Kills at different moments; with a checkpoint every 250 steps (a few milliseconds),
    // several land during a write.
    for (attempt, delay_ms) in [400u64, 650, 300, 900, 500].into_iter().enumerate() {
        let mut child = if attempt == 0 {
            spawn("train", &[&experiment, "--out", p])
        } else {
            spawn("train", &["--resume", p])
        };
        wait_for(&checkpoint, Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever moment the kill hit, a whole checkpoint is in place.
        assert!(checkpoint.is_file(), "attempt {attempt}: no checkpoint");
    }
    // And twice exactly in the middle of writing a checkpoint: the previous one stays whole
    // (the half-written file has a temporary name) and the run goes on from it.
    for k in ["3", "1"] {
        let before = std::fs::read(&checkpoint).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_retort"))
            .args(["train", "--resume", p])
            .env("RETORT_CRASH_IN_CHECKPOINT", k)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let partial = pieces.join("teacher/.partial.resume.safetensors");
        assert!(partial.is_file(), "the crash left no half-written file");
        if k == "1" {
            assert_eq!(std::fs::read(&checkpoint).unwrap(), before);
        }
    }
    succeed(&["train", "--resume", p]);
    assert_eq!(comparable_summary(&pieces), comparable_summary(&straight));
    assert!(same_file(
        &straight.join("teacher/model.safetensors"),
        &pieces.join("teacher/model.safetensors")
    ));
    let leftovers: Vec<_> = std::fs::read_dir(pieces.join("teacher"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("partial") || n.contains("resume"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Every record of every event file passes TensorBoard's checks (an incomplete last record
    // left by a kill is cut on resume), and no series has points twice.
    assert_eq!(teacher_series(&pieces), teacher_series(&straight));
}

#[test]
fn diverged_training_exits_3_naming_the_step_and_keeps_the_last_good_checkpoint() {
    let dir = scratch("resume-diverge");
    // Adam's steps are about the learning rate in size: 1e30 overflows float32 at once.
    let text = "[env]\nid = \"CartPole-v1\"\n[teacher]\nhidden = [8]\ntotal_steps = 5000\n\
                learning_starts = 300\nlearning_rate = 1e30\neval_interval = 0\n\
                checkpoint_interval = 200\n";
    let experiment = write_experiment(&dir, text);
    let run = dir.join("run");
    let out = retort(&["train", &experiment, "--out", run.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let checkpoint = run.join("teacher/resume.safetensors");
    assert!(
        stderr.contains("training diverged at env step 320 (gradient step 2): TD loss is inf"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "the last good checkpoint (env step 200) is kept in {}",
            checkpoint.display()
        )),
        "{stderr}"
    );
    // It is whole and describes the run before the divergence.
    let experiment = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let table: toml::Table = toml::from_str(&experiment).unwrap();
    let config: retort_dqn::DqnConfig = table["teacher"].clone().try_into().unwrap();
    let spec = retort_envs::EnvSpec::new("CartPole-v1");
    let step = retort_dqn::check_resumable(&checkpoint, &config, &spec, 0).unwrap();
    assert_eq!(step, 200);
}
