//! Event files damaged in every way a crash or a disk can: [`read_records`] and
//! [`cut_incomplete_tail`] (what a resume runs on the files a killed run left) never panic;
//! a corrupt record is reported at an offset inside the file and left alone, and a cut file
//! reads cleanly afterwards.
//!
//! `RETORT_FUZZ_ITERS=200000 cargo test --release -p retort-tensorboard --test fuzz_events --
//! --nocapture` fuzzes for minutes; see `retort-fuzz` for the other variables.

use retort_fuzz::{behaviour_of, Fuzzer, Input};
use retort_tensorboard::{cut_incomplete_tail, read_records, HParam, Repair, SummaryWriter};
use std::path::Path;

const PARTS: &[&str] = &["events.out.tfevents.fuzz"];

/// A complete file: the version event, scalars (non-finite ones too), a text, hparams and a
/// restart mark.
fn sound_file(dir: &Path) -> Vec<u8> {
    let mut writer = SummaryWriter::create(dir).expect("create");
    for (step, value) in [1.0, f64::NAN, f64::INFINITY, -2.5].into_iter().enumerate() {
        writer
            .add_scalar("loss", value, step as i64)
            .expect("scalar");
    }
    writer.add_text("notes", "*teacher*", 0).expect("text");
    let hparams = [("lr".to_string(), HParam::Number(1e-3))];
    writer.add_hparams(&hparams, &["loss"]).expect("hparams");
    writer.mark_restart(2).expect("restart");
    writer.flush().expect("flush");
    std::fs::read(writer.path()).expect("the file reads back")
}

/// The property, with the input written to `path`.
fn check(path: &Path, input: &Input) -> Result<String, String> {
    std::fs::write(path, &input[0]).map_err(|e| format!("cannot write: {e}"))?;
    let len = input[0].len() as u64;
    let read = read_records(path);
    if let Err(e) = &read {
        let message = e.to_string();
        if !message.contains(&path.display().to_string()) {
            return Err(format!("the error does not name the file: {message}"));
        }
    }
    let repair = cut_incomplete_tail(path);
    let behaviour = match (&read, repair) {
        (Ok(_), Ok(Repair::Intact)) => "intact".to_string(),
        (Ok(_), other) => return Err(format!("a sound file was repaired: {other:?}")),
        (Err(_), Ok(Repair::Cut(n))) => {
            if n >= len {
                return Err(format!("cut to {n} bytes of {len}"));
            }
            read_records(path).map_err(|e| format!("still unreadable after the cut: {e}"))?;
            "cut".into()
        }
        (Err(_), Ok(Repair::Removed)) if !path.exists() => "removed".into(),
        (Err(_), Ok(other)) => return Err(format!("{other:?} for an unreadable file")),
        (Err(_), Err(e)) => {
            let unchanged = std::fs::read(path).is_ok_and(|bytes| bytes == input[0]);
            if !unchanged {
                return Err(format!("a refused file was changed: {e}"));
            }
            behaviour_of(&e.to_string(), &[&path.display().to_string()])
        }
    };
    Ok(behaviour)
}

#[test]
fn fuzzed_event_files_never_panic_the_reader_or_the_repair() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = vec![vec![sound_file(&dir.path().join("seed"))]];
    let path = dir.path().join(PARTS[0]);
    let report = Fuzzer::new("event-files", PARTS)
        .default_iterations(5_000)
        .run(seeds, |input| check(&path, input));
    report.assert_clean();
}

#[test]
fn every_prefix_of_a_file_is_cut_back_to_its_complete_records() {
    // What a `kill -9` can leave: the file up to any byte.
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = sound_file(&dir.path().join("seed"));
    let records = read_records(
        std::fs::read_dir(dir.path().join("seed"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    let path = dir.path().join("prefix");
    for end in 0..=whole.len() {
        std::fs::write(&path, &whole[..end]).unwrap();
        match cut_incomplete_tail(&path).unwrap() {
            Repair::Removed => assert!(!path.exists()),
            Repair::Intact | Repair::Cut(_) => {
                let kept = read_records(&path).unwrap();
                assert_eq!(kept[..], records[..kept.len()], "prefix of {end} bytes");
            }
        }
    }
}
