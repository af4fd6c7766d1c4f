//! Reads our event files with TensorBoard's own Python code (through `scripts/tb_check.py`) and
//! checks that it sees the scalars, texts and hyperparameters we wrote.
//!
//! Needs a Python with `tensorboard` installed: `$RETORT_PYTHON`, or else the venv printed by
//! `scripts/setup-libtorch.sh`. Without one the test fails with a message saying so; it never
//! passes without having run the official reader.

use std::path::{Path, PathBuf};
use std::process::Command;

use retort_tensorboard::{HParam, SummaryWriter};
use serde_json::Value;

/// The repository root: the nearest ancestor of this crate holding `scripts/tb_check.py`.
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("scripts/tb_check.py").is_file())
        .unwrap_or_else(|| panic!("no scripts/tb_check.py above {}", manifest.display()))
        .to_path_buf()
}

/// The Python to run the checker with, or a panic explaining how to provide one.
fn python(root: &Path) -> PathBuf {
    if let Some(python) = std::env::var_os("RETORT_PYTHON") {
        return PathBuf::from(python);
    }
    let script = root.join("scripts/setup-libtorch.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; set RETORT_PYTHON to a Python with tensorboard",
                script.display()
            )
        });
    assert!(
        output.status.success(),
        "{} failed ({}); set RETORT_PYTHON to a Python with tensorboard.\nstderr:\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let venv = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let python = Path::new(&venv).join("bin/python");
    assert!(
        python.is_file(),
        "{} printed {venv:?}, which has no bin/python; set RETORT_PYTHON to a Python with \
         tensorboard",
        script.display()
    );
    python
}

/// Runs the checker on `logdir`; returns its exit code and parsed JSON summary.
fn tb_check(logdir: &Path) -> (i32, Value) {
    let root = repo_root();
    let python = python(&root);
    // Outside the logdir, so the checker sees only event files; removed when `out` drops.
    let out = tempfile::tempdir().expect("tempdir for the JSON summary");
    let json_path = out.path().join("summary.json");
    let output = Command::new(&python)
        .arg(root.join("scripts/tb_check.py"))
        .arg(logdir)
        .arg("--json")
        .arg(&json_path)
        .arg("--values")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (from RETORT_PYTHON or scripts/setup-libtorch.sh): {e}",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&json_path).unwrap_or_else(|e| {
        panic!("tb_check.py wrote no JSON ({e}); exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"));
    eprintln!("tb_check.py exit {code}\n{stdout}{stderr}");
    (code, json)
}

/// A JSON number, or one of the strings the checker uses for non-finite floats.
fn as_f64(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("not a float: {other}"),
    }
}

#[test]
fn tensorboard_reads_scalars_text_and_hparams() {
    let logdir = tempfile::tempdir().expect("tempdir");
    let run_a = logdir.path().join("run-a");
    let run_b = logdir.path().join("run-b");

    let values = [
        1.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.25,
        1.0e-3,
    ];
    {
        let mut writer = SummaryWriter::create(&run_a).expect("create run-a");
        for (i, v) in values.iter().enumerate() {
            writer
                .add_scalar("train/loss", *v, 100 * i as i64)
                .expect("scalar");
            writer
                .add_scalar("eval/return", 10.0 * i as f64, 100 * i as i64)
                .expect("scalar");
        }
        writer
            .add_text("notes", "**teacher**: DQN\n\n- lr 3e-4 ✓", 0)
            .expect("text");
        writer.add_text("notes", "done", 500).expect("text");
        let hparams = vec![
            ("lr".to_string(), HParam::Number(3e-4)),
            ("env".to_string(), HParam::Text("CartPole-v1".into())),
            ("double_dqn".to_string(), HParam::Bool(true)),
            ("hidden".to_string(), HParam::from(64usize)),
        ];
        writer
            .add_hparams(&hparams, &["eval/return", "train/loss"])
            .expect("hparams");
        writer.flush().expect("flush");
    }
    {
        // A second run in the same logdir, as a comparison in the HPARAMS tab would have.
        let mut writer = SummaryWriter::create(&run_b).expect("create run-b");
        writer.add_scalar("eval/return", 7.0, 0).expect("scalar");
        let hparams = vec![
            ("lr".to_string(), HParam::Number(1e-3)),
            ("env".to_string(), HParam::Text("CartPole-v1".into())),
            ("double_dqn".to_string(), HParam::Bool(false)),
            ("hidden".to_string(), HParam::from(32usize)),
        ];
        writer
            .add_hparams(&hparams, &["eval/return", "train/loss"])
            .expect("hparams");
    }

    let (code, json) = tb_check(logdir.path());
    assert_eq!(code, 0, "tb_check.py failed: {json:#}");

    let files = json["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    for file in files {
        assert_eq!(file["ok"], Value::Bool(true), "{file}");
        assert_eq!(file["file_version"], "brain.Event:2");
    }

    let a = &json["runs"]["run-a"];
    let loss = &a["scalars"]["train/loss"];
    assert_eq!(loss["n"], 6);
    assert_eq!(loss["first_step"], 0);
    assert_eq!(loss["last_step"], 500);
    let steps: Vec<i64> = loss["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s.as_i64().expect("i64"))
        .collect();
    assert_eq!(steps, [0, 100, 200, 300, 400, 500]);
    let read: Vec<f64> = loss["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(as_f64)
        .collect();
    assert_eq!(read.len(), values.len());
    for (got, wrote) in read.iter().zip(values) {
        // Stored as f32: compare after the same narrowing.
        let wrote = f64::from(wrote as f32);
        assert!(
            got == &wrote || (got.is_nan() && wrote.is_nan()),
            "{got} vs {wrote}"
        );
    }
    assert!(read[1].is_nan());
    assert_eq!(read[2], f64::INFINITY);
    assert_eq!(read[3], f64::NEG_INFINITY);
    assert_eq!(as_f64(&loss["last_value"]), f64::from(1.0e-3f32));
    assert_eq!(as_f64(&a["scalars"]["eval/return"]["last_value"]), 50.0);

    let notes = &a["text"]["notes"];
    assert_eq!(notes["n"], 2);
    assert_eq!(notes["values"][0], "**teacher**: DQN\n\n- lr 3e-4 ✓");
    assert_eq!(notes["last"], "done");
    assert_eq!(notes["last_step"], 500);

    for (run, lr, double_dqn, hidden) in [("run-a", 3e-4, true, 64.0), ("run-b", 1e-3, false, 32.0)]
    {
        let h = &json["runs"][run]["hparams"];
        assert_eq!(h["found"], Value::Bool(true), "{run}: {h}");
        assert_eq!(
            h["hparam_names"],
            serde_json::json!(["lr", "env", "double_dqn", "hidden"])
        );
        assert_eq!(
            h["metric_tags"],
            serde_json::json!(["eval/return", "train/loss"])
        );
        assert_eq!(as_f64(&h["values"]["lr"]), lr);
        assert_eq!(h["values"]["env"], "CartPole-v1");
        assert_eq!(h["values"]["double_dqn"], Value::Bool(double_dqn));
        assert_eq!(as_f64(&h["values"]["hidden"]), hidden);
    }
    assert_eq!(
        as_f64(&json["runs"]["run-b"]["scalars"]["eval/return"]["last_value"]),
        7.0
    );
}

#[test]
fn tensorboard_reader_rejects_a_corrupt_file() {
    let logdir = tempfile::tempdir().expect("tempdir");
    let path = {
        let mut writer = SummaryWriter::create(logdir.path()).expect("create");
        writer.add_scalar("x", 1.0, 0).expect("scalar");
        writer.add_scalar("x", 2.0, 1).expect("scalar");
        writer.flush().expect("flush");
        writer.path().to_path_buf()
    };
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 6; // inside the last record's payload
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");

    let (code, json) = tb_check(logdir.path());
    assert_eq!(code, 2, "{json:#}");
    assert_eq!(json["files"][0]["ok"], Value::Bool(false));
    let error = json["files"][0]["error"].as_str().expect("error text");
    assert!(error.contains("crc"), "{error}");
}

#[test]
fn tensorboard_reads_a_file_while_its_writer_is_still_open() {
    let logdir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(logdir.path().join("live")).expect("create");
    writer.set_flush_interval(std::time::Duration::from_millis(50));
    let values = [1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2.0];
    for (step, value) in values.iter().enumerate() {
        writer
            .add_scalar("live/x", *value, step as i64)
            .expect("scalar");
    }
    // Past the interval, the next event takes everything pending to the file; the writer
    // stays open while TensorBoard reads.
    std::thread::sleep(std::time::Duration::from_millis(100));
    writer.add_scalar("live/x", 3.0, 5).expect("scalar");

    let (code, json) = tb_check(logdir.path());
    assert_eq!(code, 0, "{json:#}");
    let series = &json["runs"]["live"]["scalars"]["live/x"];
    assert_eq!(series["n"], 6, "{json:#}");
    let read: Vec<f64> = series["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(as_f64)
        .collect();
    assert_eq!(read[0], 1.0);
    assert!(read[1].is_nan(), "NaN was read as {}", read[1]);
    assert_eq!(read[2..], [f64::INFINITY, f64::NEG_INFINITY, 2.0, 3.0]);
    drop(writer);
}

#[test]
fn tensorboard_reads_every_file_of_writers_opened_at_once_in_one_folder() {
    let logdir = tempfile::tempdir().expect("tempdir");
    let run = logdir.path().join("run");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (run, barrier) = (run.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut writer = SummaryWriter::create(&run).expect("create");
                for step in 0..50 {
                    writer
                        .add_scalar(&format!("w{t}"), f64::from(step), i64::from(step))
                        .expect("scalar");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("no writer panics");
    }
    let (code, json) = tb_check(logdir.path());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["files"].as_array().expect("files").len(), 4);
    for t in 0..4 {
        let series = &json["runs"]["run"]["scalars"][format!("w{t}")];
        assert_eq!(series["n"], 50, "w{t}: {json:#}");
        assert_eq!(as_f64(&series["last_value"]), 49.0);
    }
}

/// Two sessions of one run in one folder: the first logs `x` at steps 0..=10, the second
/// resumes at step 5 and logs steps 5..=12 again with other values. Returns the steps and
/// values TensorBoard shows.
fn resumed_run(mark_start: bool) -> (Vec<f64>, Vec<f64>) {
    let logdir = tempfile::tempdir().expect("tempdir");
    let run = logdir.path().join("run");
    let mut first = SummaryWriter::create(&run).expect("create");
    if mark_start {
        first.mark_start().expect("start");
    }
    for step in 0..=10 {
        first
            .add_scalar("x", f64::from(step), i64::from(step))
            .expect("scalar");
    }
    first.flush().expect("flush");
    drop(first);
    let mut second = SummaryWriter::create(&run).expect("create");
    second.mark_restart(5).expect("restart");
    for step in 5..=12 {
        second
            .add_scalar("x", 100.0 + f64::from(step), i64::from(step))
            .expect("scalar");
    }
    drop(second);
    let (code, json) = tb_check(logdir.path());
    assert_eq!(code, 0, "{json:#}");
    let series = &json["runs"]["run"]["scalars"]["x"];
    let list = |key: &str| -> Vec<f64> {
        series[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {json:#}"))
            .iter()
            .map(as_f64)
            .collect()
    };
    (list("steps"), list("values"))
}

#[test]
fn tensorboard_drops_what_a_resumed_session_redoes_once_the_run_marked_its_start() {
    let (steps, values) = resumed_run(true);
    assert_eq!(steps, (0..=12).map(f64::from).collect::<Vec<_>>());
    let expected: Vec<f64> = (0..=12)
        .map(|s| {
            if s < 5 {
                f64::from(s)
            } else {
                100.0 + f64::from(s)
            }
        })
        .collect();
    assert_eq!(values, expected);
    // Without the start marker TensorBoard takes the restart for the run's beginning and
    // keeps both sessions' points from step 5 on: why runs must call `mark_start`.
    let (steps, _) = resumed_run(false);
    assert_eq!(steps.len(), 11 + 8);
}
