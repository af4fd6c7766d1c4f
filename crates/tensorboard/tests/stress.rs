//! The writer under stress, read back with our own reader: non-finite and out-of-range
//! scalars, many writers opening files in one directory at once (threads and processes, in
//! the same second), file names already taken, and events reaching the file through the
//! periodic flush while the writer is still open.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use prost::Message;
use retort_tensorboard::proto::{Event, EventWhat, SummaryValueKind};
use retort_tensorboard::{read_records, SummaryWriter, FILE_VERSION, FLUSH_INTERVAL};

/// Every event of a file, checking each record's checksums.
fn events(path: &Path) -> Vec<Event> {
    read_records(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(|r| Event::decode(r.as_slice()).expect("a record is an Event"))
        .collect()
}

/// `(tag, step, value)` of every scalar of a file, in order.
fn scalars(path: &Path) -> Vec<(String, i64, f32)> {
    events(path)
        .into_iter()
        .filter_map(|event| match event.what {
            Some(EventWhat::Summary(summary)) => {
                let value = summary.value.into_iter().next()?;
                match value.value {
                    Some(SummaryValueKind::SimpleValue(x)) => Some((value.tag, event.step, x)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the log folder is readable")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.to_string_lossy().contains("tfevents"))
        .collect();
    files.sort();
    files
}

/// Asserts that `file` is one writer's complete file: the version event, then `n` scalars of
/// one tag at steps `0..n`.
fn assert_complete(file: &Path, n: usize) -> String {
    let all = events(file);
    assert_eq!(
        all[0].what,
        Some(EventWhat::FileVersion(FILE_VERSION.into()))
    );
    let points = scalars(file);
    assert_eq!(points.len(), n, "{}", file.display());
    let tag = points[0].0.clone();
    for (i, (t, step, value)) in points.iter().enumerate() {
        assert_eq!(
            (t, *step, *value),
            (&tag, i as i64, i as f32),
            "{}",
            file.display()
        );
    }
    tag
}

#[test]
fn non_finite_and_out_of_range_scalars_are_recorded_as_such_not_as_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = [
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e39,
        -1e39,
        f64::MAX,
        -0.0,
        1e-50,
        f64::from(f32::MAX),
    ];
    let path = {
        let mut writer = SummaryWriter::create(dir.path()).expect("create");
        for (step, value) in written.iter().enumerate() {
            writer.add_scalar("x", *value, step as i64).expect("scalar");
        }
        writer.flush().expect("flush");
        writer.path().to_path_buf()
    };
    let read: Vec<f32> = scalars(&path).into_iter().map(|(_, _, x)| x).collect();
    assert_eq!(read.len(), written.len());
    assert!(read[0].is_nan() && read[1].is_nan(), "{read:?}");
    // Beyond f32's range a finite value becomes an infinity of its sign (the documented cost
    // of `simple_value`), never 0 or a NaN.
    let expected = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    assert_eq!(read[2..6], expected);
    assert_eq!(read[6], f32::INFINITY);
    assert!(read[7] == 0.0 && read[7].is_sign_negative(), "{}", read[7]);
    // Below f32's smallest subnormal a value rounds to zero, which is what it is.
    assert_eq!(read[8], 0.0);
    assert_eq!(read[9], f32::MAX);
}

#[test]
fn writers_opened_at_once_on_many_threads_make_one_complete_file_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (dir, barrier) = (dir.path().to_path_buf(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut writer = SummaryWriter::create(&dir).expect("create");
                // Half the writers flush on every event, so writes interleave in time.
                if t % 2 == 0 {
                    writer.set_flush_interval(Duration::ZERO);
                }
                for step in 0..300 {
                    writer
                        .add_scalar(&format!("thread-{t}"), step as f64, step)
                        .expect("scalar");
                }
                writer.path().to_path_buf()
            })
        })
        .collect();
    let paths: BTreeSet<PathBuf> = handles
        .into_iter()
        .map(|h| h.join().expect("no writer thread panics"))
        .collect();
    assert_eq!(paths.len(), threads, "every writer has its own file");
    assert_eq!(event_files(dir.path()).len(), threads);
    let tags: BTreeSet<String> = paths.iter().map(|p| assert_complete(p, 300)).collect();
    assert_eq!(tags.len(), threads, "{tags:?}");
}

/// The folder a child process of
/// [`writers_of_two_processes_started_together_make_two_complete_files`] writes its run into.
const CHILD_DIR: &str = "RETORT_TB_CHILD_DIR";

#[test]
#[ignore = "a child process of writers_of_two_processes_started_together_make_two_complete_files"]
fn child_process_writes_one_file() {
    let dir = std::env::var_os(CHILD_DIR).expect("run by the parent test");
    let mut writer = SummaryWriter::create(dir).expect("create");
    for step in 0..200 {
        let tag = format!("pid-{}", std::process::id());
        writer.add_scalar(&tag, step as f64, step).expect("scalar");
    }
    writer.flush().expect("flush");
}

#[test]
fn writers_of_two_processes_started_together_make_two_complete_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("the test binary's path");
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "child_process_writes_one_file"])
                .env(CHILD_DIR, dir.path())
                .output()
        })
        .collect();
    for child in children {
        let output = child.expect("the test binary runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let files = event_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let tags: BTreeSet<String> = files.iter().map(|f| assert_complete(f, 200)).collect();
    assert_eq!(tags.len(), 2, "{tags:?}");
}

#[test]
fn a_file_name_already_taken_is_skipped_and_left_untouched() {
    // Another machine's process with our pid (two containers sharing a folder) may have taken
    // the names this process would pick next; they must be skipped, never overwritten.
    let dir = tempfile::tempdir().expect("tempdir");
    let first = SummaryWriter::create(dir.path()).expect("create");
    let name = first
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (prefix, counter) = name.rsplit_once('.').expect("a counter ends the name");
    let counter: u64 = counter.parse().expect("a numeric counter");
    let parts: Vec<&str> = prefix.splitn(5, '.').collect();
    let secs: u64 = parts[3].parse().expect("seconds in the name");
    let rest = parts[4];
    let mut taken = Vec::new();
    for s in [secs, secs + 1] {
        for c in counter + 1..counter + 6 {
            let path = dir
                .path()
                .join(format!("events.out.tfevents.{s}.{rest}.{c}"));
            std::fs::write(&path, b"someone else's file").expect("write");
            taken.push(path);
        }
    }
    let mut second = SummaryWriter::create(dir.path()).expect("a free name is found");
    assert!(
        !taken.contains(&second.path().to_path_buf()),
        "{:?}",
        second.path()
    );
    second.add_scalar("y", 0.0, 0).expect("scalar");
    drop(second);
    for path in &taken {
        assert_eq!(std::fs::read(path).unwrap(), b"someone else's file");
    }
    drop(first);
}

#[test]
fn events_reach_the_file_once_the_flush_interval_has_passed_while_the_writer_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path()).expect("create");
    writer.add_scalar("loss", 0.0, 0).expect("scalar");
    assert_eq!(
        scalars(writer.path()).len(),
        0,
        "buffered within the interval"
    );

    // With the default interval: wait past it, and the next event takes both to the file.
    std::thread::sleep(FLUSH_INTERVAL + Duration::from_millis(100));
    writer.add_scalar("loss", 1.0, 1).expect("scalar");
    assert_eq!(scalars(writer.path()).len(), 2, "flushed by the interval");

    // With a short interval, while events keep coming, a reader is never far behind.
    writer.set_flush_interval(Duration::from_millis(20));
    for step in 2..40 {
        std::thread::sleep(Duration::from_millis(5));
        writer
            .add_scalar("loss", step as f64, step)
            .expect("scalar");
        let on_disk = scalars(writer.path()).len() as i64;
        assert!(
            on_disk >= step + 1 - 5,
            "{on_disk} on disk after step {step}"
        );
    }
    let points = scalars(writer.path());
    assert!(
        points.windows(2).all(|w| w[0].1 + 1 == w[1].1),
        "{points:?}"
    );
    drop(writer);
}
