//! Ctrl-C during training: the teacher so far is saved, TensorBoard is flushed and readable,
//! and the exit status says the run was interrupted.

mod common;

use common::{root, scratch, tb_check};
use std::process::{Command, Stdio};
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
