//! The whole pipeline through the binary on a CI-sized experiment: teacher, students,
//! evaluation, run directory, summary and TensorBoard files read back by TensorBoard itself.

mod common;

use common::{retort, scratch, tb_check, tb_values, train_into};
use serde_json::Value;

/// A uniformly random CartPole policy averages about 22 steps per episode.
const RANDOM_CARTPOLE_RETURN: f64 = 22.0;

#[test]
fn ci_experiment_runs_end_to_end_and_the_teacher_beats_random_play() {
    let dir = scratch("pipeline").join("run");
    let out = retort(&["run", "experiments/ci.toml", "--out", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "retort run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("tensorboard --logdir {}", dir.display())),
        "{stdout}"
    );

    // The run directory of the documented layout.
    for file in [
        "config.toml",
        "summary.json",
        "summary.md",
        "teacher/model.safetensors",
        "teacher/model.json",
        "students/h16/model.safetensors",
        "students/h16/model.json",
        "students/h4/model.json",
        "plots/return_vs_params.png",
        "plots/teacher_learning_curve.png",
    ] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }

    // summary.json in the documented schema.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["env"], "CartPole-v1");
    assert_eq!(summary["seed"], 0);
    let teacher = &summary["teacher"];
    assert_eq!(teacher["params"], 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
    assert_eq!(teacher["episodes"], 30);
    for key in ["return_mean", "return_std", "env_steps", "train_seconds"] {
        assert!(teacher[key].is_number(), "teacher.{key} missing");
    }
    // Where the teacher's time went, part by part, adding up to no more than its total.
    let split = teacher["time_split"]
        .as_object()
        .expect("teacher.time_split");
    let parts: f64 = split.values().map(|v| v.as_f64().unwrap()).sum();
    assert!(split["backward"].as_f64().unwrap() > 0.0 && split["env"].as_f64().unwrap() > 0.0);
    assert!(parts <= teacher["train_seconds"].as_f64().unwrap());
    let teacher_return = teacher["return_mean"].as_f64().unwrap();
    assert!(
        teacher_return >= 5.0 * RANDOM_CARTPOLE_RETURN,
        "teacher return {teacher_return} is not far above random play"
    );
    let students = summary["students"].as_array().unwrap();
    let names: Vec<_> = students
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["h16", "h4"]);
    for s in students {
        for key in [
            "params",
            "compression",
            "return_mean",
            "return_std",
            "agreement",
            "train_seconds",
            "action_micros",
        ] {
            assert!(s[key].is_number(), "student.{key} missing in {s}");
        }
        assert_eq!(s["loss"], "kl");
        assert_eq!(s["collection"], "teacher");
        assert_eq!(s["episodes"], 30);
        let compression = s["compression"].as_f64().unwrap();
        let expected = teacher["params"].as_f64().unwrap() / s["params"].as_f64().unwrap();
        assert!((compression - expected).abs() < 1e-9);
    }
    assert_eq!(students[1]["params"], 4 * 4 + 4 + 4 * 2 + 2);

    // Every event file passes TensorBoard's CRC checks, and each run has its tags.
    let tb = tb_check(&dir);
    let runs = &tb["runs"];
    let scalars = |run: &str| -> Vec<String> {
        runs[run]["scalars"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let teacher_tags = scalars("teacher");
    for tag in [
        "charts/episodic_return",
        "losses/td_loss",
        "eval/return_mean",
        "eval/final_return_mean",
    ] {
        assert!(
            teacher_tags.iter().any(|t| t == tag),
            "teacher lacks {tag}: {teacher_tags:?}"
        );
    }
    for student in ["students/h16", "students/h4"] {
        let tags = scalars(student);
        for tag in [
            "distill/loss",
            "distill/kl",
            "distill/agreement",
            "eval/return_mean",
        ] {
            assert!(
                tags.iter().any(|t| t == tag),
                "{student} lacks {tag}: {tags:?}"
            );
        }
        assert_eq!(runs[student]["hparams"]["found"], true);
        assert!(
            runs[student]["text"]["summary"].is_object(),
            "{student} has no text summary"
        );
    }
    assert_eq!(runs["teacher"]["hparams"]["found"], true);

    // A saved student is evaluated again by `retort eval`.
    let student_dir = dir.join("students/h16");
    let eval = retort(&["eval", student_dir.to_str().unwrap(), "--episodes", "5"]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert!(String::from_utf8_lossy(&eval.stdout).contains("5 episodes"));

    // …and exported for the libtorch-free runtime, which acts like the saved student.
    let exported = dir.with_file_name("exported");
    let export = retort(&[
        "export",
        student_dir.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let runtime = retort_runtime::Mlp::load(&exported).unwrap();
    assert_eq!(runtime.params(), 4 * 16 + 16 + 16 * 2 + 2);
}

/// The steps and values of every scalar series of the teacher, except wall-clock throughput.
fn teacher_series(run: &std::path::Path) -> Value {
    let mut tb = tb_values(run);
    let scalars = tb["runs"]["teacher"]["scalars"].as_object_mut().unwrap();
    scalars.remove("time/sps");
    for series in scalars.values_mut() {
        let series = series.as_object_mut().unwrap();
        series.retain(|key, _| key == "steps" || key == "values");
    }
    Value::Object(scalars.clone())
}

#[test]
fn same_seed_same_numbers_and_another_seed_other_numbers() {
    let base = scratch("repro");
    let mut runs = Vec::new();
    for (name, seed) in [("a", "0"), ("b", "0"), ("c", "1")] {
        let dir = base.join(name);
        let mut summary = train_into(&dir, "experiments/ci.toml", seed);
        // Only wall-clock fields and paths may differ.
        summary["teacher"]["train_seconds"] = Value::Null;
        summary["teacher"]["time_split"] = Value::Null;
        summary["total_seconds"] = Value::Null;
        summary["collect_seconds"] = Value::Null;
        summary["tensorboard_logdir"] = Value::Null;
        let weights = std::fs::read(dir.join("teacher/model.safetensors")).unwrap();
        runs.push((summary, weights, teacher_series(&dir)));
    }
    let (a, b, c) = (&runs[0], &runs[1], &runs[2]);
    assert_eq!(a.0, b.0, "summaries differ between identical runs");
    assert!(a.1 == b.1, "teacher weights differ between identical runs");
    // Every logged episode return and loss, step for step.
    assert_eq!(a.2, b.2, "logged series differ between identical runs");
    assert!(a.2["losses/td_loss"]["values"].as_array().unwrap().len() > 10);

    // Another seed: other episodes, other losses, other weights.
    assert!(a.1 != c.1, "seeds 0 and 1 trained identical weights");
    for tag in ["charts/episodic_return", "losses/td_loss"] {
        assert_ne!(a.2[tag], c.2[tag], "{tag} is the same for seeds 0 and 1");
    }
}

/// A small run with a dueling teacher, written beside the run directory.
const DUELING_EXPERIMENT: &str = r#"name = "ci-dueling"
seed = 0

[env]
id = "CartPole-v1"

[teacher]
hidden = [32, 32]
dueling = true
total_steps = 3000
learning_starts = 500
eval_interval = 1500
eval_episodes = 5

[eval]
episodes = 10

[distill]
states = 1000
steps = 100

[[students]]
name = "h8"
hidden = [8]
"#;

#[test]
fn a_dueling_teacher_goes_through_run_eval_export_and_distill() {
    let base = scratch("dueling");
    let experiment = base.join("dueling.toml");
    std::fs::write(&experiment, DUELING_EXPERIMENT).unwrap();
    let experiment = experiment.to_str().unwrap();
    let dir = base.join("run");
    let out = retort(&["run", experiment, "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The teacher's card says dueling and counts the head; the student's card is plain.
    let read = |path: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let teacher_card = read(&dir.join("teacher/model.json"));
    assert_eq!(teacher_card["mlp"]["dueling"], true);
    // Trunk 4·32 + 32 + 32·32 + 32, value 32 + 1, advantage 32·2 + 2.
    let teacher_params = 160 + 1056 + 33 + 66;
    assert_eq!(teacher_card["params"], teacher_params);
    let student_card = read(&dir.join("students/h8/model.json"));
    assert_eq!(student_card["mlp"].get("dueling"), None);
    let summary = read(&dir.join("summary.json"));
    assert_eq!(summary["teacher"]["dueling"], true);
    assert_eq!(summary["teacher"]["params"], teacher_params);
    let student = &summary["students"][0];
    assert_eq!(student["params"], 4 * 8 + 8 + 8 * 2 + 2);
    let compression = student["compression"].as_f64().unwrap();
    assert!((compression - f64::from(teacher_params) / 58.0).abs() < 1e-9);
    let markdown = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        markdown.contains("| teacher | [32, 32] dueling |"),
        "{markdown}"
    );

    // `retort eval` and `retort export` take the dueling teacher.
    let teacher_dir = dir.join("teacher");
    let eval = retort(&["eval", teacher_dir.to_str().unwrap(), "--episodes", "3"]);
    let eval_out = String::from_utf8_lossy(&eval.stdout);
    assert!(
        eval.status.success() && eval_out.contains("[32, 32] dueling"),
        "{eval_out}"
    );
    let exported = base.join("exported");
    let export = retort(&[
        "export",
        teacher_dir.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let runtime = retort_runtime::Mlp::load(&exported).unwrap();
    assert!(runtime.spec().dueling);
    assert_eq!(runtime.params(), teacher_params as usize);

    // `retort distill` loads the dueling teacher back: on the same evaluation seeds it
    // scores exactly what it scored in the run.
    let again = base.join("distilled");
    let distill = retort(&[
        "distill",
        experiment,
        "--teacher",
        teacher_dir.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(
        distill.status.success(),
        "{}",
        String::from_utf8_lossy(&distill.stderr)
    );
    let summary_again = read(&again.join("summary.json"));
    assert_eq!(summary_again["teacher"]["dueling"], true);
    assert_eq!(
        summary_again["teacher"]["return_mean"],
        summary["teacher"]["return_mean"]
    );
    assert_eq!(
        summary_again["students"][0]["return_mean"],
        summary["students"][0]["return_mean"]
    );
}
