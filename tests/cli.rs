//! The command line's own output: every subcommand's `--help`, and what is printed to a
//! closed pipe (`retort … | head -1`).

mod common;

use common::{retort, root, scratch, trained_teacher};
use std::process::{Command, Stdio};

const SUBCOMMANDS: [&str; 6] = ["run", "train", "distill", "sweep", "eval", "export"];

#[test]
fn every_subcommand_has_help_with_a_sentence_for_each_argument() {
    for sub in SUBCOMMANDS {
        let out = retort(&["help", sub]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "retort help {sub}");
        assert!(help.contains(&format!("Usage: retort {sub}")), "{help}");
        // The first line is the subcommand's doc sentence, and no line needs a wide terminal.
        let about = help.lines().next().unwrap_or_default();
        assert!(
            about.len() > 20 && about.chars().next().is_some_and(char::is_uppercase),
            "retort help {sub} opens with {about:?}"
        );
        for line in help.lines() {
            assert!(line.chars().count() <= 100, "retort help {sub}: {line:?}");
        }
        // Every argument and option says what it is for, on its line or the next (the long
        // form, used when the subcommand has a long description).
        let lines: Vec<&str> = help.lines().collect();
        let mut in_lists = false;
        for (i, line) in lines.iter().enumerate() {
            if *line == "Arguments:" || *line == "Options:" {
                in_lists = true;
                continue;
            }
            let entry = line.trim_start();
            if in_lists && (entry.starts_with('-') || entry.starts_with('<')) {
                let inline = entry
                    .split_once("  ")
                    .is_some_and(|(_, d)| !d.trim().is_empty());
                let below = lines.get(i + 1).is_some_and(|next| {
                    let text = next.trim_start();
                    next.len() - text.len() > line.len() - entry.len() && !text.is_empty()
                });
                assert!(
                    inline || below,
                    "retort help {sub}: nothing says what {entry:?} is"
                );
            }
        }
        // `--help` is the same text.
        let long = retort(&[sub, "--help"]);
        assert_eq!(String::from_utf8_lossy(&long.stdout), help, "{sub} --help");
    }
}

#[test]
fn the_exit_statuses_in_help_are_those_of_the_readme() {
    let out = retort(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let help = &help[help
        .find("Exit status:")
        .expect("--help lists the exit statuses")..];
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md reads");
    let readme = readme.replace('\n', " ");
    let readme = &readme[readme
        .find("Exit codes:")
        .expect("the README lists exit codes")..];
    let readme = &readme[..readme.find("##").unwrap_or(readme.len())];
    let codes = |text: &str| -> std::collections::BTreeSet<u32> {
        let words = text.split(|c: char| !c.is_ascii_alphanumeric());
        words.filter_map(|w| w.parse().ok()).collect()
    };
    // The same numbers, each with the same meaning.
    let expected = [0, 1, 2, 3, 130].into();
    assert_eq!(codes(help), expected, "{help}");
    assert_eq!(codes(readme), expected, "{readme}");
    for meaning in [
        "0 success",
        "1 bad input",
        "2 command-line misuse",
        "130 interrupted",
    ] {
        assert!(
            help.contains(meaning) && readme.contains(meaning),
            "{meaning}"
        );
    }
    assert!(
        help.contains("3 training or distillation diverged"),
        "{help}"
    );
    assert!(
        readme.contains("3 training or distillation diverged"),
        "{readme}"
    );
}

/// Runs `retort ARGS` with its stdout a pipe nobody reads (closed before it writes).
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_retort"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the retort binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("retort ends");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[test]
fn printing_to_a_closed_pipe_ends_quietly_after_the_work_is_done() {
    let dir = scratch("closed-stdout");
    let checkpoint = trained_teacher().to_str().unwrap().to_string();
    let exported = dir.join("exported");
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "export",
            vec!["export", &checkpoint, "--out", exported.to_str().unwrap()],
        ),
        ("eval", vec!["eval", &checkpoint, "--episodes", "2"]),
        ("help", vec!["--help"]),
    ];
    for (case, args) in cases {
        let (code, stderr) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{case}: {stderr}");
        for noise in ["panicked", "Broken pipe", "error"] {
            assert!(
                !stderr.contains(noise),
                "{case}: {noise:?} in stderr:\n{stderr}"
            );
        }
    }
    // The export was written whole before anything was printed.
    retort_runtime::Mlp::load(&exported).expect("the exported policy loads");
}
