//! Byte-level tests of the event-file format: record framing, checksums, our own reader, and
//! file naming, all without Python.

use std::path::{Path, PathBuf};
use std::time::Duration;

use prost::Message;
use retort_tensorboard::proto::{self, Event, EventWhat, HParamsData, SummaryValueKind};
use retort_tensorboard::record::{encode_record, mask_crc, masked_crc32c};
use retort_tensorboard::{read_records, HParam, SummaryWriter, TbError, FILE_VERSION};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) one bit at a time: slow but obviously
/// correct, and independent of the `crc32c` crate the library uses.
fn bitwise_crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The TFRecord mask written out as in its specification, independent of the library's form.
// Spelled as shifts on purpose: the library uses `rotate_right`, and the test should not.
#[allow(clippy::manual_rotate)]
fn spec_mask(crc: u32) -> u32 {
    ((crc >> 15) | (crc << 17)).wrapping_add(0xa282_ead8)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_events(path: &Path) -> Vec<Event> {
    read_records(path)
        .expect("readable event file")
        .iter()
        .map(|r| Event::decode(r.as_slice()).expect("record is an Event"))
        .collect()
}

fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("tfevents"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn bitwise_crc_matches_the_standard_check_value() {
    // "123456789" is the conventional CRC check input; 0xE3069283 is CRC-32C's check value.
    assert_eq!(bitwise_crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
}

#[test]
fn mask_matches_literal_values() {
    assert_eq!(mask_crc(0), 0xa282_ead8);
    assert_eq!(mask_crc(0xe306_9283), 0xc78a_b0e5);
    assert_eq!(mask_crc(0x1234_5678), 0x4f73_0f40);
    assert_eq!(mask_crc(0xffff_ffff), 0xa282_ead7);
    for crc in [0u32, 1, 0x8000_0000, 0xdead_beef, 0xffff_ffff] {
        assert_eq!(mask_crc(crc), spec_mask(crc));
    }
}

#[test]
fn record_golden_bytes() {
    let payload = b"retort";
    let mut record = Vec::new();
    encode_record(payload, &mut record);

    // Rebuilt from the specification with the independent CRC.
    let len = 6u64.to_le_bytes();
    let mut expected = len.to_vec();
    expected.extend_from_slice(&spec_mask(bitwise_crc32c(&len)).to_le_bytes());
    expected.extend_from_slice(payload);
    expected.extend_from_slice(&spec_mask(bitwise_crc32c(payload)).to_le_bytes());
    assert_eq!(record, expected);

    // And literally, as TensorBoard's Python writer frames the same payload.
    assert_eq!(hex(&record), "06000000000000007369d5377265746f7274301e1c67");
    assert_eq!(masked_crc32c(payload), spec_mask(bitwise_crc32c(payload)));
}

#[test]
fn golden_bytes_of_varied_payloads_agree_with_bitwise_crc() {
    for n in [0usize, 1, 7, 8, 9, 63, 64, 65, 1000, 70_000] {
        let payload: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
        let mut record = Vec::new();
        encode_record(&payload, &mut record);
        assert_eq!(record.len(), 8 + 4 + n + 4);
        assert_eq!(&record[..8], &(n as u64).to_le_bytes());
        assert_eq!(
            &record[8..12],
            &spec_mask(bitwise_crc32c(&record[..8])).to_le_bytes()
        );
        assert_eq!(&record[12..12 + n], payload.as_slice());
        assert_eq!(
            &record[12 + n..],
            &spec_mask(bitwise_crc32c(&payload)).to_le_bytes()
        );
    }
}

#[test]
fn round_trip_through_our_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path().join("a/b")).expect("create nested dir");
    let values = [
        0.5,
        -2.25,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
    ];
    for (step, v) in values.iter().enumerate() {
        writer
            .add_scalar("loss", *v, step as i64 * 10)
            .expect("scalar");
    }
    writer
        .add_text("notes", "# Title\n\nbody ✓", 3)
        .expect("text");
    writer.add_text("notes", "second", 4).expect("text");
    let hparams = vec![
        ("lr".to_string(), HParam::Number(3e-4)),
        ("env".to_string(), HParam::Text("CartPole-v1".into())),
        ("double_dqn".to_string(), HParam::Bool(true)),
    ];
    writer.add_hparams(&hparams, &["loss"]).expect("hparams");
    writer.flush().expect("flush");

    let events = decode_events(writer.path());
    assert_eq!(events.len(), 1 + values.len() + 2 + 2);
    assert_eq!(
        events[0].what,
        Some(EventWhat::FileVersion(FILE_VERSION.to_string()))
    );
    assert_eq!(FILE_VERSION, "brain.Event:2");
    assert!(
        events[0].wall_time > 1.0e9,
        "wall time is seconds since the epoch"
    );

    for (i, v) in values.iter().enumerate() {
        let event = &events[1 + i];
        assert_eq!(event.step, i as i64 * 10);
        let Some(EventWhat::Summary(summary)) = &event.what else {
            panic!("not a summary")
        };
        assert_eq!(summary.value.len(), 1);
        assert_eq!(summary.value[0].tag, "loss");
        let Some(SummaryValueKind::SimpleValue(x)) = summary.value[0].value else {
            panic!("not a simple value")
        };
        let expected = *v as f32;
        assert!(
            x == expected || (x.is_nan() && expected.is_nan()),
            "{x} vs {expected}"
        );
    }
    // 1e300 exceeds f32: documented to become +inf.
    assert!(matches!(
        &events[6].what,
        Some(EventWhat::Summary(s))
            if s.value[0].value == Some(SummaryValueKind::SimpleValue(f32::INFINITY))
    ));

    // Text: first value carries the text plugin metadata, the second does not.
    for (event, text, has_metadata) in [
        (&events[7], "# Title\n\nbody ✓", true),
        (&events[8], "second", false),
    ] {
        let Some(EventWhat::Summary(summary)) = &event.what else {
            panic!("not a summary")
        };
        let value = &summary.value[0];
        assert_eq!(value.metadata.is_some(), has_metadata);
        if let Some(metadata) = &value.metadata {
            let plugin = metadata.plugin_data.as_ref().expect("plugin data");
            assert_eq!(plugin.plugin_name, "text");
            assert_eq!(metadata.data_class, proto::DATA_CLASS_TENSOR);
        }
        let Some(SummaryValueKind::Tensor(tensor)) = &value.value else {
            panic!("not a tensor")
        };
        assert_eq!(tensor.dtype, proto::DT_STRING);
        assert_eq!(tensor.string_val, vec![text.as_bytes().to_vec()]);
    }

    // Hparams: experiment then session start info.
    let plugin_data = |event: &Event| {
        let Some(EventWhat::Summary(summary)) = &event.what else {
            panic!("not a summary")
        };
        let metadata = summary.value[0].metadata.as_ref().expect("metadata");
        let plugin = metadata.plugin_data.as_ref().expect("plugin data");
        assert_eq!(plugin.plugin_name, "hparams");
        let data = proto::HParamsPluginData::decode(plugin.content.as_slice()).expect("decode");
        assert_eq!(data.version, 0);
        (summary.value[0].tag.clone(), data.data.expect("data"))
    };
    let (tag, data) = plugin_data(&events[9]);
    assert_eq!(tag, "_hparams_/experiment");
    let HParamsData::Experiment(experiment) = data else {
        panic!("not an experiment")
    };
    let names: Vec<_> = experiment
        .hparam_infos
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(names, ["lr", "env", "double_dqn"]);
    let types: Vec<_> = experiment.hparam_infos.iter().map(|h| h.r#type).collect();
    assert_eq!(
        types,
        [
            proto::DATA_TYPE_FLOAT64,
            proto::DATA_TYPE_STRING,
            proto::DATA_TYPE_BOOL
        ]
    );
    assert_eq!(experiment.metric_infos.len(), 1);
    assert_eq!(
        experiment.metric_infos[0]
            .name
            .as_ref()
            .expect("metric name")
            .tag,
        "loss"
    );

    let (tag, data) = plugin_data(&events[10]);
    assert_eq!(tag, "_hparams_/session_start_info");
    let HParamsData::SessionStartInfo(start) = data else {
        panic!("not a session start")
    };
    assert_eq!(start.hparams.len(), 3);
    assert_eq!(
        start.hparams["lr"].kind,
        Some(proto::ValueKind::NumberValue(3e-4))
    );
    assert_eq!(
        start.hparams["env"].kind,
        Some(proto::ValueKind::StringValue("CartPole-v1".into()))
    );
    assert_eq!(
        start.hparams["double_dqn"].kind,
        Some(proto::ValueKind::BoolValue(true))
    );
}

#[test]
fn corrupt_byte_is_reported_with_its_record_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path()).expect("create");
    writer.add_scalar("x", 1.0, 1).expect("scalar");
    writer.add_scalar("x", 2.0, 2).expect("scalar");
    writer.add_scalar("x", 3.0, 3).expect("scalar");
    writer.flush().expect("flush");
    let path = writer.path().to_path_buf();
    drop(writer);

    let records = read_records(&path).expect("intact file");
    assert_eq!(records.len(), 4);
    let starts: Vec<u64> = records
        .iter()
        .scan(0u64, |pos, r| {
            let start = *pos;
            *pos += 16 + r.len() as u64;
            Some(start)
        })
        .collect();
    let original = std::fs::read(&path).expect("read");

    // Flip one byte in the payload of the third record, then in the length of the second.
    for (index, within) in [(2usize, 12u64 + 3), (1, 2)] {
        let mut bytes = original.clone();
        let at = (starts[index] + within) as usize;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).expect("write");
        match read_records(&path) {
            Err(TbError::Corrupt {
                path: p,
                offset,
                reason,
            }) => {
                assert_eq!(p, path);
                assert_eq!(offset, starts[index], "{reason}");
                assert!(reason.contains("checksum"), "{reason}");
                let message = TbError::Corrupt {
                    path: p,
                    offset,
                    reason,
                }
                .to_string();
                assert!(
                    message.contains(&format!("offset {}", starts[index])),
                    "{message}"
                );
            }
            other => panic!("expected a corrupt-record error, got {other:?}"),
        }
    }

    // Truncation inside the last record.
    std::fs::write(&path, &original[..original.len() - 2]).expect("write");
    match read_records(&path) {
        Err(TbError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, starts[3]);
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("expected a truncation error, got {other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope");
    match read_records(&path) {
        Err(TbError::Io { path: p, .. }) => assert_eq!(p, path),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn create_under_a_regular_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").expect("write");
    match SummaryWriter::create(file.join("run")) {
        Err(TbError::Io { path, .. }) => assert_eq!(path, file.join("run")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn two_writers_back_to_back_make_two_complete_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = SummaryWriter::create(dir.path()).expect("first");
    let mut second = SummaryWriter::create(dir.path()).expect("second");
    assert_ne!(first.path(), second.path());
    for step in 0..5 {
        first.add_scalar("a", step as f64, step).expect("a");
        second.add_scalar("b", -(step as f64), step).expect("b");
    }
    drop(first);
    drop(second); // Drop flushes.

    let files = event_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let parts: Vec<&str> = name.split('.').collect();
        assert!(name.starts_with("events.out.tfevents."), "{name}");
        assert!(parts[3].parse::<u64>().is_ok(), "seconds in {name}");
        assert_eq!(
            parts[parts.len() - 2],
            std::process::id().to_string(),
            "pid in {name}"
        );
        assert!(
            parts[parts.len() - 1].parse::<u64>().is_ok(),
            "counter in {name}"
        );

        let events = decode_events(file);
        assert_eq!(events.len(), 6, "{name}");
        assert_eq!(
            events[0].what,
            Some(EventWhat::FileVersion(FILE_VERSION.to_string()))
        );
        let tags: Vec<String> = events[1..]
            .iter()
            .map(|e| match &e.what {
                Some(EventWhat::Summary(s)) => s.value[0].tag.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert!(
            tags.iter().all(|t| t == &tags[0]),
            "one writer's tags per file: {tags:?}"
        );
    }
}

#[test]
fn a_new_file_is_valid_before_any_add() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = SummaryWriter::create(dir.path()).expect("create");
    // The version event is flushed by create itself, before any drop.
    let events = decode_events(writer.path());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].step, 0);
}

#[test]
fn writes_are_buffered_until_flush() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path()).expect("create");
    // An interval no test run reaches, so the check cannot flake on a slow machine.
    writer.set_flush_interval(Duration::from_secs(3600));
    writer.add_scalar("x", 1.0, 0).expect("scalar");
    assert_eq!(
        read_records(writer.path()).expect("read").len(),
        1,
        "still in memory"
    );
    writer.flush().expect("flush");
    assert_eq!(read_records(writer.path()).expect("read").len(), 2);

    // Once the interval has passed, the next add flushes by itself.
    writer.set_flush_interval(Duration::ZERO);
    writer.add_scalar("x", 2.0, 1).expect("scalar");
    assert_eq!(
        read_records(writer.path()).expect("read").len(),
        3,
        "flushed by add"
    );
}

#[test]
fn duplicate_hparam_names_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path()).expect("create");
    let hparams = vec![
        ("lr".to_string(), HParam::from(0.1)),
        ("lr".to_string(), 0.2.into()),
    ];
    match writer.add_hparams(&hparams, &[]) {
        Err(TbError::DuplicateHParam { name }) => assert_eq!(name, "lr"),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    writer.flush().expect("flush");
    // Nothing half-written: only the version event is there.
    assert_eq!(read_records(writer.path()).expect("read").len(), 1);
}

#[test]
fn a_full_buffer_is_written_in_whole_records_before_the_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SummaryWriter::create(dir.path()).expect("create");
    writer.set_flush_interval(Duration::from_secs(3600));
    for step in 0..10_000 {
        writer
            .add_scalar("loss", step as f64, step)
            .expect("scalar");
    }
    // Over 64 KiB were produced, so some (not all) reached the file, as complete records.
    let on_disk = read_records(writer.path())
        .expect("only whole records")
        .len();
    assert!(on_disk > 1 && on_disk < 10_001, "{on_disk} records on disk");
    writer.flush().expect("flush");
    assert_eq!(read_records(writer.path()).expect("read").len(), 10_001);
}
