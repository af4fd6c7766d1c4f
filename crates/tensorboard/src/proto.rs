//! The subset of TensorBoard's protocol buffer messages this crate writes, declared by hand.
//!
//! Each struct mirrors one message of TensorBoard's `.proto` files (`event.proto`,
//! `summary.proto`, `tensor.proto`, `tensor_shape.proto`, the hparams plugin's `api.proto` and
//! `plugin_data.proto`, and `google/protobuf/struct.proto`), with the same field numbers and
//! wire types, but only the fields we use. Declaring them with `prost`'s derive macros keeps the
//! build free of `protoc` and build scripts; fields we leave out are simply absent on the wire,
//! which protobuf readers treat as their default values.
//!
//! Enumerations are kept as plain `i32` fields with named constants beside them: that is their
//! wire form, and it keeps unknown values representable when reading files written by others.

use std::collections::BTreeMap;

/// `tensorboard.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch when the event was written.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// The payload (`oneof what`).
    #[prost(oneof = "EventWhat", tags = "3, 5, 7")]
    pub what: Option<EventWhat>,
}

/// The payloads of [`Event`] this crate knows (`Event.what`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum EventWhat {
    /// Format version of the file, e.g. `brain.Event:2`; carried by the first event only.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// A batch of summary values.
    #[prost(message, tag = "5")]
    Summary(Summary),
    /// A change in the writing session's life: a (re)start, a stop or a checkpoint. Field 7
    /// (field 6 is the deprecated `log_message`, which TensorBoard reads but ignores).
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorboard.SessionLog`: marks where a training session (re)started, stopped or
/// checkpointed. On a `START` at step `s`, TensorBoard discards the events of this run it has
/// read at steps `>= s`: they belong to a session that died after its last checkpoint and are
/// about to be redone.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// One of the `SESSION_*` constants.
    #[prost(int32, tag = "1")]
    pub status: i32,
    /// Where the checkpoint is, for `SESSION_CHECKPOINT`.
    #[prost(string, tag = "2")]
    pub checkpoint_path: String,
    /// Free text.
    #[prost(string, tag = "3")]
    pub msg: String,
}

/// `SessionLog.SessionStatus.START`.
pub const SESSION_START: i32 = 1;

/// `tensorboard.Summary`: the values recorded at one step.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values, each under its own tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorboard.Summary.Value`: one tagged value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The name of the time series, e.g. `train/loss`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// Which plugin owns the series and how to read it; needed on a tag's first value only.
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    /// The value itself (`oneof value`).
    #[prost(oneof = "SummaryValueKind", tags = "2, 8")]
    pub value: Option<SummaryValueKind>,
}

/// The kinds of [`SummaryValue`] payload this crate knows (`Summary.Value.value`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum SummaryValueKind {
    /// A legacy scalar (32-bit float), read by TensorBoard's scalars dashboard.
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// A tensor, interpreted by the plugin named in the metadata.
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorboard.SummaryMetadata`: how a plugin should interpret a time series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The owning plugin and its private configuration.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    /// A human-readable name for the series.
    #[prost(string, tag = "2")]
    pub display_name: String,
    /// A longer description of the series.
    #[prost(string, tag = "3")]
    pub summary_description: String,
    /// One of the `DATA_CLASS_*` constants.
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// `SummaryMetadata.data_class`: unknown, left for TensorBoard to infer from the plugin.
pub const DATA_CLASS_UNKNOWN: i32 = 0;
/// `SummaryMetadata.data_class`: each point is a rank-0 numeric tensor.
pub const DATA_CLASS_SCALAR: i32 = 1;
/// `SummaryMetadata.data_class`: each point is a tensor of any shape.
pub const DATA_CLASS_TENSOR: i32 = 2;

/// `tensorboard.SummaryMetadata.PluginData`: the plugin a series belongs to.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// The plugin's name, e.g. `text` or `hparams`.
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// A plugin-specific serialized message.
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorboard.TensorProto`, restricted to the value encodings this crate writes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// One of the `DT_*` constants.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape; absent or without dimensions for a scalar.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Elements of a `DT_FLOAT` tensor.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// Elements of a `DT_DOUBLE` tensor.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// Elements of a `DT_STRING` tensor (arbitrary bytes; UTF-8 for text).
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `TensorProto.dtype`: 32-bit float.
pub const DT_FLOAT: i32 = 1;
/// `TensorProto.dtype`: 64-bit float.
pub const DT_DOUBLE: i32 = 2;
/// `TensorProto.dtype`: byte string.
pub const DT_STRING: i32 = 7;

/// `tensorboard.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first; empty for a scalar.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<TensorShapeDim>,
}

/// `tensorboard.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeDim {
    /// The extent of this dimension.
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// `tensorboard.hparams.HParamsPluginData`: the content of an hparams summary's metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamsPluginData {
    /// Format version; TensorBoard accepts only 0.
    #[prost(int32, tag = "1")]
    pub version: i32,
    /// The payload (`oneof data`).
    #[prost(oneof = "HParamsData", tags = "2, 3, 4")]
    pub data: Option<HParamsData>,
}

/// The payloads of [`HParamsPluginData`] (`HParamsPluginData.data`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HParamsData {
    /// Which hyperparameters and metrics the experiment has.
    #[prost(message, tag = "2")]
    Experiment(Experiment),
    /// The hyperparameter values of one run (a "session").
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    /// How a session ended.
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// `tensorboard.hparams.Experiment`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Experiment {
    /// Free-form description.
    #[prost(string, tag = "1")]
    pub description: String,
    /// Who ran it.
    #[prost(string, tag = "2")]
    pub user: String,
    /// Seconds since the Unix epoch at creation.
    #[prost(double, tag = "3")]
    pub time_created_secs: f64,
    /// The hyperparameters, one per column of the HPARAMS table.
    #[prost(message, repeated, tag = "4")]
    pub hparam_infos: Vec<HParamInfo>,
    /// The metrics, one per column of the HPARAMS table.
    #[prost(message, repeated, tag = "5")]
    pub metric_infos: Vec<MetricInfo>,
    /// The experiment's name.
    #[prost(string, tag = "6")]
    pub name: String,
}

/// `tensorboard.hparams.HParamInfo` (without the optional domain).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamInfo {
    /// The hyperparameter's key in [`SessionStartInfo::hparams`].
    #[prost(string, tag = "1")]
    pub name: String,
    /// A human-readable name.
    #[prost(string, tag = "2")]
    pub display_name: String,
    /// A longer description.
    #[prost(string, tag = "3")]
    pub description: String,
    /// One of the `DATA_TYPE_*` constants.
    #[prost(int32, tag = "4")]
    pub r#type: i32,
}

/// `tensorboard.hparams.DataType`: not set.
pub const DATA_TYPE_UNSET: i32 = 0;
/// `tensorboard.hparams.DataType`: string.
pub const DATA_TYPE_STRING: i32 = 1;
/// `tensorboard.hparams.DataType`: boolean.
pub const DATA_TYPE_BOOL: i32 = 2;
/// `tensorboard.hparams.DataType`: 64-bit float.
pub const DATA_TYPE_FLOAT64: i32 = 3;

/// `tensorboard.hparams.MetricInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricInfo {
    /// Which scalar series the metric is.
    #[prost(message, optional, tag = "1")]
    pub name: Option<MetricName>,
    /// A human-readable name.
    #[prost(string, tag = "3")]
    pub display_name: String,
    /// A longer description.
    #[prost(string, tag = "4")]
    pub description: String,
    /// `tensorboard.hparams.DatasetType`; 0 for unknown.
    #[prost(int32, tag = "5")]
    pub dataset_type: i32,
}

/// `tensorboard.hparams.MetricName`: a scalar tag, relative to the session's run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricName {
    /// Sub-directory of the session's run holding the scalar; empty for the run itself.
    #[prost(string, tag = "1")]
    pub group: String,
    /// The scalar's tag.
    #[prost(string, tag = "2")]
    pub tag: String,
}

/// `tensorboard.hparams.SessionStartInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionStartInfo {
    /// Hyperparameter values by name. A `BTreeMap` so the bytes written are deterministic.
    #[prost(btree_map = "string, message", tag = "1")]
    pub hparams: BTreeMap<String, Value>,
    /// Where the model is stored.
    #[prost(string, tag = "2")]
    pub model_uri: String,
    /// Where the run can be monitored.
    #[prost(string, tag = "3")]
    pub monitor_url: String,
    /// Sessions sharing a group name are aggregated; empty puts the session in its own group.
    #[prost(string, tag = "4")]
    pub group_name: String,
    /// Seconds since the Unix epoch when the session started.
    #[prost(double, tag = "5")]
    pub start_time_secs: f64,
}

/// `tensorboard.hparams.SessionEndInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionEndInfo {
    /// `tensorboard.hparams.Status`: 1 success, 2 failure, 3 running, 0 unknown.
    #[prost(int32, tag = "1")]
    pub status: i32,
    /// Seconds since the Unix epoch when the session ended.
    #[prost(double, tag = "2")]
    pub end_time_secs: f64,
}

/// `google.protobuf.Value`, restricted to the scalar kinds hyperparameters use.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// The value (`oneof kind`).
    #[prost(oneof = "ValueKind", tags = "2, 3, 4")]
    pub kind: Option<ValueKind>,
}

/// The kinds of [`Value`] this crate knows (`Value.kind`).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    /// A 64-bit float.
    #[prost(double, tag = "2")]
    NumberValue(f64),
    /// A string.
    #[prost(string, tag = "3")]
    StringValue(String),
    /// A boolean.
    #[prost(bool, tag = "4")]
    BoolValue(bool),
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn payloads_carry_tensorboards_field_numbers() {
        // The first byte of each encoded `what` is its key, (field << 3) | 2 for a
        // length-delimited field. A session log under any other number is read as something
        // else (6 is the deprecated `log_message`), and restarts then purge nothing.
        let key = |what: EventWhat| {
            let event = Event {
                wall_time: 0.0,
                step: 0,
                what: Some(what),
            };
            event.encode_to_vec()[0]
        };
        assert_eq!(key(EventWhat::FileVersion("v".into())), (3 << 3) | 2);
        assert_eq!(
            key(EventWhat::Summary(Summary { value: vec![] })),
            (5 << 3) | 2
        );
        let log = SessionLog {
            status: SESSION_START,
            checkpoint_path: String::new(),
            msg: String::new(),
        };
        assert_eq!(key(EventWhat::SessionLog(log)), (7 << 3) | 2);
    }
}
