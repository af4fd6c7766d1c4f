//! Ctrl-C during training: the teacher so far is saved, TensorBoard is flushed and readable,
//! and the exit status says the run was interrupted.

mod common;

use common::{retort, root, scratch, tb_check};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn sigint_saves_the_teacher_and_exits_130() {
    let dir = scratch("interrupt");
    let file = dir.join("long.toml");
    // A budget far beyond what the test waits for, and no early stop.
    let text = "[env]\nid = \"CartPole-v1\"\n[teacher]\nhidden = [32]\ntotal_steps = 10000000\n\
                eval_interval = 0\n";
    std::fs::write(&file, text).unwrap();
    let out_dir = dir.join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_retort"))
        .args([
            "train",
            file.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until training has written its first events, then press Ctrl-C.
    let started = Instant::now();
    while !out_dir.join("teacher").is_dir() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The checkpoint loads, and every TensorBoard record passes TensorBoard's CRC checks.
    let teacher = out_dir.join("teacher");
    let (card, _) = retort_core::load_checkpoint(&teacher, tch::Device::Cpu).unwrap();
    assert_eq!(card.role, "teacher");
    let tb = tb_check(&out_dir);
    assert!(tb["runs"]["teacher"]["scalars"]["charts/episodic_return"].is_object());
}

/// Starts `retort train` on `file` into `out`, presses Ctrl-C once a checkpoint is on disk,
/// and again as soon as retort says it is handling the first. Returns the exit status and
/// stderr.
fn interrupt_twice(file: &Path, out: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_retort"))
        .args(["train", file.to_str().unwrap(), "--out"])
        .arg(out)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (handling, handled) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.contains("Ctrl-C again") {
                let _ = handling.send(());
            }
            text += &line;
            text.push('\n');
        }
        text
    });
    let checkpoint = out.join("teacher/resume.safetensors");
    let started = Instant::now();
    while !checkpoint.is_file() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1000));
    // Two presses sent back to back would merge into one pending signal; the second is sent
    // once the first is being handled (the step finishing, the checkpoint being written).
    let pid = child.id() as libc::pid_t;
    // SAFETY: `kill` only sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    if handled.recv_timeout(Duration::from_secs(60)).is_ok() {
        // SAFETY: as above; the child has not been waited for, so the pid is still its own.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
    let status = child.wait().unwrap();
    (status.code(), reader.join().unwrap())
}

#[test]
fn a_second_ctrl_c_while_the_first_is_handled_exits_at_once_and_keeps_the_last_checkpoint() {
    let dir = scratch("interrupt-twice");
    let file = dir.join("long.toml");
    // Checkpoints every 250 env steps, so that one is on disk long before the budget ends, and
    // networks and a replay buffer large enough that saving the next one takes a while.
    let text = "seed = 2\n[env]\nid = \"CartPole-v1\"\n[teacher]\nhidden = [256, 256]\n\
                num_envs = 8\ntotal_steps = 20000\neval_interval = 0\n\
                checkpoint_interval = 250\n[eval]\nepisodes = 5\n";
    std::fs::write(&file, text).unwrap();

    // The first run to quit at once is kept; the second press can (rarely, on a loaded
    // machine) come after the orderly exit, which is then tried again.
    let mut quick = None;
    for attempt in 0..3 {
        let out = dir.join(format!("out-{attempt}"));
        let (code, stderr) = interrupt_twice(&file, &out);
        assert_eq!(code, Some(130), "{stderr}");
        for crash in ["panicked", "terminate called", "Aborted", "core dumped"] {
            assert!(!stderr.contains(crash), "{crash:?} in stderr:\n{stderr}");
        }
        // The orderly end prints the resume hint; quitting at once prints nothing more.
        if !stderr.contains("--resume") {
            quick = Some(out);
            break;
        }
    }
    let out = quick.expect("the second Ctrl-C never landed while the first was handled");

    // What was saved before is whole: the run resumes from it and finishes, and TensorBoard
    // reads every record.
    let resumed = retort(&["train", "--resume", out.to_str().unwrap()]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let (card, _) = retort_core::load_checkpoint(&out.join("teacher"), tch::Device::Cpu)
        .expect("the finished teacher loads");
    assert_eq!(card.role, "teacher");
    let tb = tb_check(&out);
    assert!(tb["runs"]["teacher"]["scalars"]["charts/episodic_return"].is_object());
}
