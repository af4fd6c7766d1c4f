//! [`SummaryWriter`]: appends scalars, text and hyperparameters to one event file.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message;

use crate::proto::{self, Event, EventWhat, Summary, SummaryMetadata, SummaryValue};
use crate::record::encode_record;
use crate::TbError;

/// The version string TensorBoard expects in the first event of a file.
pub const FILE_VERSION: &str = "brain.Event:2";

/// Buffered events are flushed once this much time has passed since the last flush, so a
/// TensorBoard watching a live run stays at most this far behind.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);

/// Pending bytes that trigger a write to the file regardless of the flush interval.
const BUFFER_LIMIT: usize = 64 * 1024;

/// Tag under which the hparams plugin looks for the experiment's columns.
const HPARAMS_EXPERIMENT_TAG: &str = "_hparams_/experiment";
/// Tag under which the hparams plugin looks for a run's hyperparameter values.
const HPARAMS_SESSION_START_TAG: &str = "_hparams_/session_start_info";

/// Numbers the files of this process, so two writers opened within the same second in the same
/// directory get different names (the timestamp, host and pid would be equal).
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many names to try when a file name is already taken (e.g. by another process whose pid
/// coincides inside a container sharing the directory) before giving up.
const NAME_ATTEMPTS: u32 = 64;

/// One hyperparameter value, as shown in TensorBoard's HPARAMS tab.
#[derive(Clone, Debug, PartialEq)]
pub enum HParam {
    /// A number; integers are recorded as 64-bit floats, which is all the plugin knows.
    Number(f64),
    /// A string, e.g. an environment or optimizer name.
    Text(String),
    /// A flag.
    Bool(bool),
}

impl From<f64> for HParam {
    fn from(value: f64) -> Self {
        HParam::Number(value)
    }
}

impl From<f32> for HParam {
    fn from(value: f32) -> Self {
        HParam::Number(f64::from(value))
    }
}

impl From<i64> for HParam {
    fn from(value: i64) -> Self {
        // Exact up to 2^53, which covers any realistic hyperparameter.
        HParam::Number(value as f64)
    }
}

impl From<usize> for HParam {
    fn from(value: usize) -> Self {
        HParam::Number(value as f64)
    }
}

impl From<bool> for HParam {
    fn from(value: bool) -> Self {
        HParam::Bool(value)
    }
}

impl From<&str> for HParam {
    fn from(value: &str) -> Self {
        HParam::Text(value.to_owned())
    }
}

impl From<String> for HParam {
    fn from(value: String) -> Self {
        HParam::Text(value)
    }
}

impl HParam {
    /// The plugin's `DataType` for this kind of value.
    fn data_type(&self) -> i32 {
        match self {
            HParam::Number(_) => proto::DATA_TYPE_FLOAT64,
            HParam::Text(_) => proto::DATA_TYPE_STRING,
            HParam::Bool(_) => proto::DATA_TYPE_BOOL,
        }
    }

    /// The value as a `google.protobuf.Value`.
    fn to_proto(&self) -> proto::Value {
        let kind = match self {
            HParam::Number(x) => proto::ValueKind::NumberValue(*x),
            HParam::Text(s) => proto::ValueKind::StringValue(s.clone()),
            HParam::Bool(b) => proto::ValueKind::BoolValue(*b),
        };
        proto::Value { kind: Some(kind) }
    }
}

/// Writes one TensorBoard event file.
///
/// Events are buffered in memory and reach the file when more than [`FLUSH_INTERVAL`] has
/// passed since the last flush (checked on each `add_*` call and on
/// [`flush_if_due`](Self::flush_if_due), which a loop that goes quiet should call as it
/// works), whenever 64 KiB are pending, on [`flush`](Self::flush), and when the writer is
/// dropped (where errors can only be ignored, so
/// call `flush` first if you care). Only whole records are ever handed to the file. Every
/// method reports I/O errors instead of panicking; after one, the writer refuses further events
/// with [`TbError::Poisoned`], since the file may end in a half-written record.
///
/// Scalars are stored as legacy `simple_value` summaries (32-bit floats): every TensorBoard
/// version and third-party reader understands them, and TensorBoard migrates them to its
/// `scalars` plugin on load. The cost is `f32` precision — about seven significant digits, and
/// finite values beyond `f32::MAX` in magnitude become infinities. NaN and ±∞ are kept.
pub struct SummaryWriter {
    path: PathBuf,
    file: File,
    /// Framed records not yet handed to the file. Our own buffer rather than a `BufWriter`, so
    /// that after a failed write nothing is retried behind our back (a `BufWriter` would write
    /// its leftovers on drop, after a possibly half-written record).
    pending: Vec<u8>,
    last_flush: Instant,
    flush_interval: Duration,
    /// Tags that already carried their plugin metadata; TensorBoard reads it from a tag's first
    /// value only, so later values omit it.
    tags_with_metadata: HashSet<String>,
    poisoned: bool,
}

impl SummaryWriter {
    /// Creates `dir` (and parents) and a new event file in it.
    ///
    /// The file is named `events.out.tfevents.{unix_secs}.{hostname}.{pid}.{counter}` and is
    /// opened with `create_new`, so an existing file is never overwritten or appended to. Its
    /// first record, the file-version event, is written and flushed before this returns, so a
    /// file that exists is always a valid (possibly empty) event file.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, TbError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| TbError::io(dir, e))?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let host = hostname();
        let pid = std::process::id();
        let mut attempts = 0;
        let (path, file) = loop {
            let counter = FILE_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("events.out.tfevents.{secs}.{host}.{pid}.{counter}"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < NAME_ATTEMPTS => {
                    attempts += 1;
                }
                Err(e) => return Err(TbError::io(path, e)),
            }
        };
        let mut writer = SummaryWriter {
            path,
            file,
            pending: Vec::new(),
            last_flush: Instant::now(),
            flush_interval: FLUSH_INTERVAL,
            tags_with_metadata: HashSet::new(),
            poisoned: false,
        };
        writer.write_event(0, EventWhat::FileVersion(FILE_VERSION.to_owned()))?;
        writer.flush()?;
        Ok(writer)
    }

    /// The event file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes how long events may wait in memory before an `add_*` call flushes them
    /// (default [`FLUSH_INTERVAL`]); `Duration::ZERO` flushes on every call.
    pub fn set_flush_interval(&mut self, interval: Duration) {
        self.flush_interval = interval;
    }

    /// Records `value` for the scalar series `tag` at `step`.
    ///
    /// Stored as a 32-bit float (see the type's documentation); NaN and ±∞ are recorded as such.
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<(), TbError> {
        let value = SummaryValue {
            tag: tag.to_owned(),
            metadata: None,
            // Narrowing is the documented behavior: simple_value is a proto `float`.
            value: Some(proto::SummaryValueKind::SimpleValue(value as f32)),
        };
        self.write_summary(step, value)
    }

    /// Records a Markdown text for the series `tag` at `step`, shown in the TEXT tab.
    ///
    /// Stored for the `text` plugin as a rank-0 string tensor.
    pub fn add_text(&mut self, tag: &str, markdown: &str, step: i64) -> Result<(), TbError> {
        let metadata = self.first_metadata(tag, "text", Vec::new());
        let value = SummaryValue {
            tag: tag.to_owned(),
            metadata,
            value: Some(proto::SummaryValueKind::Tensor(proto::TensorProto {
                dtype: proto::DT_STRING,
                tensor_shape: Some(proto::TensorShapeProto { dim: Vec::new() }),
                string_val: vec![markdown.as_bytes().to_vec()],
                ..Default::default()
            })),
        };
        self.write_summary(step, value)
    }

    /// Records this run's hyperparameters for the HPARAMS tab.
    ///
    /// Writes two summaries for the `hparams` plugin at step 0: the experiment configuration
    /// (one column per hyperparameter, typed after its value, and one per tag of
    /// `metric_tags`, which should name scalar series of this run) and the session start info
    /// holding this run's values. Each run of a log directory writing its own is what makes
    /// TensorBoard list the runs side by side. Call it once per run: TensorBoard reads these
    /// tags' metadata from their first occurrence only, so later calls have no effect there.
    ///
    /// TensorBoard takes the column list from whichever run's experiment it finds first, so
    /// runs meant to be compared should log the same hyperparameter names and metrics.
    /// No value domains are declared: a domain from one run would hide the others' values from
    /// the tab's filters.
    pub fn add_hparams(
        &mut self,
        hparams: &[(String, HParam)],
        metric_tags: &[&str],
    ) -> Result<(), TbError> {
        let mut values = BTreeMap::new();
        for (name, value) in hparams {
            if values.insert(name.clone(), value.to_proto()).is_some() {
                return Err(TbError::DuplicateHParam { name: name.clone() });
            }
        }
        let now = unix_time();
        let experiment = proto::Experiment {
            time_created_secs: now,
            hparam_infos: hparams
                .iter()
                .map(|(name, value)| proto::HParamInfo {
                    name: name.clone(),
                    r#type: value.data_type(),
                    ..Default::default()
                })
                .collect(),
            metric_infos: metric_tags
                .iter()
                .map(|tag| proto::MetricInfo {
                    name: Some(proto::MetricName {
                        group: String::new(),
                        tag: (*tag).to_owned(),
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let start = proto::SessionStartInfo {
            hparams: values,
            start_time_secs: now,
            ..Default::default()
        };
        self.write_hparams_value(
            HPARAMS_EXPERIMENT_TAG,
            proto::HParamsData::Experiment(experiment),
        )?;
        self.write_hparams_value(
            HPARAMS_SESSION_START_TAG,
            proto::HParamsData::SessionStartInfo(start),
        )
    }

    /// Marks that a run starts here, afresh. TensorBoard takes the first start marker of a run
    /// for its beginning and only later ones for restarts, so a run that may be resumed must
    /// call this before its first event, or its first [`mark_restart`](Self::mark_restart)
    /// would purge nothing. Written and flushed at once.
    pub fn mark_start(&mut self) -> Result<(), TbError> {
        self.write_session_start(0, "started".into())
    }

    /// Marks that this run restarts at `step`: the first step the resumed session logs again.
    ///
    /// TensorBoard then drops whatever this run's earlier files recorded at `step` or later (a
    /// session that died after its checkpoint logged those, and they are about to be redone),
    /// so the run's steps never go backwards; that needs the run's first session to have
    /// called [`mark_start`](Self::mark_start). Written and flushed at once.
    pub fn mark_restart(&mut self, step: i64) -> Result<(), TbError> {
        self.write_session_start(step, format!("resumed at step {step}"))
    }

    /// Writes and flushes a `SessionLog` START at `step`.
    fn write_session_start(&mut self, step: i64, msg: String) -> Result<(), TbError> {
        let log = proto::SessionLog {
            status: proto::SESSION_START,
            checkpoint_path: String::new(),
            msg,
        };
        self.write_event(step, EventWhat::SessionLog(log))?;
        self.flush()
    }

    /// Pushes buffered events to the file.
    ///
    /// This hands them to the operating system (where TensorBoard can read them); it does not
    /// `fsync`, which would cost milliseconds per call for no benefit to a live viewer.
    pub fn flush(&mut self) -> Result<(), TbError> {
        self.check_poisoned()?;
        self.last_flush = Instant::now();
        self.write_pending()
    }

    /// Flushes if events are pending and the flush interval has passed since the last flush;
    /// otherwise does nothing (and costs one clock read). Lets a loop that logs rarely keep a
    /// live TensorBoard current without flushing on every call.
    pub fn flush_if_due(&mut self) -> Result<(), TbError> {
        if !self.pending.is_empty() && self.last_flush.elapsed() >= self.flush_interval {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes one hparams plugin summary holding `data`.
    fn write_hparams_value(&mut self, tag: &str, data: proto::HParamsData) -> Result<(), TbError> {
        let content = proto::HParamsPluginData {
            version: 0,
            data: Some(data),
        }
        .encode_to_vec();
        let value = SummaryValue {
            tag: tag.to_owned(),
            // The plugin reads everything from the metadata, so every hparams value carries it.
            metadata: Some(plugin_metadata("hparams", content)),
            // TensorBoard's own hparams summaries hold an empty float vector as the (unused)
            // value; the data provider expects some tensor to be present.
            value: Some(proto::SummaryValueKind::Tensor(proto::TensorProto {
                dtype: proto::DT_FLOAT,
                tensor_shape: Some(proto::TensorShapeProto {
                    dim: vec![proto::TensorShapeDim { size: 0 }],
                }),
                ..Default::default()
            })),
        };
        self.write_summary(0, value)
    }

    /// The metadata for `tag` if this is its first value in the file, else `None`.
    fn first_metadata(
        &mut self,
        tag: &str,
        plugin: &str,
        content: Vec<u8>,
    ) -> Option<SummaryMetadata> {
        if self.tags_with_metadata.contains(tag) {
            return None;
        }
        self.tags_with_metadata.insert(tag.to_owned());
        Some(plugin_metadata(plugin, content))
    }

    /// Writes one summary value as an event at `step`, flushing if the interval has passed.
    fn write_summary(&mut self, step: i64, value: SummaryValue) -> Result<(), TbError> {
        self.write_event(step, EventWhat::Summary(Summary { value: vec![value] }))?;
        if self.last_flush.elapsed() >= self.flush_interval {
            self.flush()?;
        }
        Ok(())
    }

    /// Serializes and frames one event and hands it to the buffer.
    fn write_event(&mut self, step: i64, what: EventWhat) -> Result<(), TbError> {
        self.check_poisoned()?;
        let event = Event {
            wall_time: unix_time(),
            step,
            what: Some(what),
        };
        let payload = event.encode_to_vec();
        encode_record(&payload, &mut self.pending);
        // Bound memory when many events arrive within one flush interval.
        if self.pending.len() >= BUFFER_LIMIT {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Hands the pending records to the file, poisoning the writer if that fails.
    fn write_pending(&mut self) -> Result<(), TbError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.pending);
        // Cleared even on failure: the bytes may be partly written, and retrying would
        // duplicate them.
        self.pending.clear();
        self.guard(result)
    }

    /// Refuses work after an earlier I/O failure.
    fn check_poisoned(&self) -> Result<(), TbError> {
        if self.poisoned {
            return Err(TbError::Poisoned {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Converts an I/O result, poisoning the writer on failure.
    fn guard(&mut self, result: io::Result<()>) -> Result<(), TbError> {
        result.map_err(|e| {
            self.poisoned = true;
            TbError::io(&self.path, e)
        })
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        // Nothing useful can be done with an error here; `flush` exists for callers who care.
        if !self.poisoned {
            let _ = self.write_pending();
        }
    }
}

impl std::fmt::Debug for SummaryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryWriter")
            .field("path", &self.path)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

/// Metadata assigning a tensor series to `plugin`.
fn plugin_metadata(plugin: &str, content: Vec<u8>) -> SummaryMetadata {
    SummaryMetadata {
        plugin_data: Some(proto::PluginData {
            plugin_name: plugin.to_owned(),
            content,
        }),
        // Stated explicitly rather than left for TensorBoard's compatibility layer to infer, so
        // readers without that layer (e.g. TensorBoard's Rust data server) agree.
        data_class: proto::DATA_CLASS_TENSOR,
        ..Default::default()
    }
}

/// Seconds since the Unix epoch; 0 if the clock is set before 1970 rather than failing a write.
fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's name, reduced to characters safe in a file name.
///
/// Read from the kernel or the environment rather than through a libc binding, to keep the
/// crate free of `unsafe` and extra dependencies; the name only disambiguates files written by
/// several machines into one shared directory, so a fallback is harmless.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "localhost".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_a_safe_non_empty_file_name_part() {
        let host = hostname();
        assert!(!host.is_empty());
        assert!(
            !host.contains('/') && !host.contains(char::is_whitespace),
            "{host:?}"
        );
    }

    #[test]
    fn a_failed_write_is_reported_then_poisons_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = SummaryWriter::create(dir.path()).expect("create");
        // Swap in a read-only handle so the next write fails the way a full disk would.
        writer.file = File::open(&writer.path).expect("reopen read-only");
        writer
            .add_scalar("x", 1.0, 0)
            .expect("buffered, not yet written");
        match writer.flush() {
            Err(TbError::Io { path, .. }) => assert_eq!(path, writer.path),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        assert!(matches!(
            writer.add_scalar("x", 2.0, 1),
            Err(TbError::Poisoned { .. })
        ));
        assert!(matches!(writer.flush(), Err(TbError::Poisoned { .. })));
        drop(writer); // Must neither panic nor write.
    }

    #[test]
    fn flush_if_due_writes_pending_events_only_once_the_interval_has_passed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = SummaryWriter::create(dir.path()).expect("create");
        let on_disk = |w: &SummaryWriter| std::fs::metadata(&w.path).expect("stat").len();
        let empty = on_disk(&writer);

        writer.set_flush_interval(Duration::from_secs(3600));
        writer.add_scalar("x", 1.0, 0).expect("add");
        writer.flush_if_due().expect("not due");
        assert_eq!(on_disk(&writer), empty, "flushed before the interval");

        writer.set_flush_interval(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(40));
        writer.flush_if_due().expect("due");
        let flushed = on_disk(&writer);
        assert!(flushed > empty, "the pending event was not written");

        // Nothing pending: nothing to write, however long it has been.
        std::thread::sleep(Duration::from_millis(40));
        writer.flush_if_due().expect("nothing pending");
        assert_eq!(on_disk(&writer), flushed);
    }

    #[test]
    fn text_metadata_is_written_once_per_tag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = SummaryWriter::create(dir.path()).expect("create");
        assert!(writer.first_metadata("a", "text", Vec::new()).is_some());
        assert!(writer.first_metadata("a", "text", Vec::new()).is_none());
        assert!(writer.first_metadata("b", "text", Vec::new()).is_some());
    }
}
