#!/usr/bin/env python3
"""Checks TensorBoard event files with TensorBoard's own reader and summarizes what it sees.

Usage: tb_check.py LOGDIR [--json OUT] [--values]

Two passes, both through TensorBoard's code rather than ours:

1. Every file under LOGDIR whose name contains "tfevents" is read record by record with
   TensorBoard's TFRecord reader (which verifies both CRCs of each record), and each record is
   parsed as a tensorboard Event. The first event must carry a "brain.Event:" file version.
2. Every directory holding such files is loaded as one run with the plugin event accumulator,
   the loader behind TensorBoard's dashboards, and its scalar, text and hparams series are
   summarized.

Non-finite floats are written to the JSON as the strings "NaN", "Infinity" and "-Infinity",
because JSON has no literal for them and strict parsers reject Python's extensions.

Exit status: 0 if every file passed and at least one scalar was found; 2 if any record failed
its CRC or could not be parsed; 1 for anything else (no event files, no scalars, bad usage).
"""

import argparse
import json
import math
import os
import sys

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.util import tensor_util


def json_float(x):
    """A float as JSON can carry it: finite ones as numbers, the rest as named strings."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def find_event_files(logdir):
    """All event files below logdir, in a stable order."""
    found = []
    for root, _dirs, files in os.walk(logdir):
        for name in files:
            if "tfevents" in name:
                found.append(os.path.join(root, name))
    return sorted(found)


def check_file(path):
    """Reads one file record by record; returns a report dict with ok/error/records."""
    report = {"path": path, "records": 0, "ok": True, "error": None, "file_version": None}
    try:
        reader = pywrap_tensorflow.PyRecordReader_New(path)
    except errors.OpError as e:
        report.update(ok=False, error="cannot open: %s" % e.message)
        return report
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            break
        except errors.DataLossError as e:
            report.update(ok=False, error="record %d: %s" % (report["records"], e.message))
            break
        event = event_pb2.Event()
        try:
            event.ParseFromString(reader.record())
        except Exception as e:  # the protobuf runtime's DecodeError type varies by backend
            report.update(ok=False, error="record %d: not an Event: %s" % (report["records"], e))
            break
        if report["records"] == 0:
            report["file_version"] = event.file_version
            if not event.file_version.startswith("brain.Event:"):
                report.update(ok=False, error="first event has no brain.Event file version")
                break
        report["records"] += 1
    if report["ok"] and report["records"] == 0:
        report.update(ok=False, error="empty file")
    return report


def value_to_python(value):
    """A google.protobuf.Value holding a hyperparameter, as a JSON-ready Python value."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return json_float(value.number_value)
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


def summarize_hparams(accumulator):
    """What the hparams plugin would find in one run."""
    try:
        contents = accumulator.PluginTagToContent("hparams")
    except KeyError:  # the run logged no hyperparameters (e.g. it was interrupted early)
        contents = {}
    result = {
        "found": bool(contents),
        "tags": sorted(contents),
        "hparam_names": [],
        "metric_tags": [],
        "values": {},
    }
    for tag, content in sorted(contents.items()):
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        which = data.WhichOneof("data")
        if which == "experiment":
            result["hparam_names"] = [info.name for info in data.experiment.hparam_infos]
            result["metric_tags"] = [info.name.tag for info in data.experiment.metric_infos]
        elif which == "session_start_info":
            result["values"] = {
                name: value_to_python(v) for name, v in data.session_start_info.hparams.items()
            }
    return result


def summarize_run(run_dir, with_values):
    """Scalar, text and hparams series of one run as the dashboards would load them."""
    accumulator = plugin_event_accumulator.EventAccumulator(
        run_dir, size_guidance=plugin_event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    )
    accumulator.Reload()
    scalars, texts = {}, {}
    for tag in sorted(accumulator.Tags()[plugin_event_accumulator.TENSORS]):
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = accumulator.Tensors(tag)
        if plugin == "scalars":
            values = [tensor_util.make_ndarray(e.tensor_proto).item() for e in events]
            entry = {
                "n": len(events),
                "first_step": events[0].step if events else None,
                "last_step": events[-1].step if events else None,
                "last_value": json_float(values[-1]) if values else None,
            }
            if with_values:
                entry["steps"] = [e.step for e in events]
                entry["values"] = [json_float(v) for v in values]
            scalars[tag] = entry
        elif plugin == "text":
            strings = []
            for e in events:
                array = tensor_util.make_ndarray(e.tensor_proto)
                strings.append(
                    "\n".join(
                        s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)
                        for s in array.flatten()
                    )
                )
            entry = {
                "n": len(events),
                "first_step": events[0].step if events else None,
                "last_step": events[-1].step if events else None,
                "last": strings[-1] if strings else None,
            }
            if with_values:
                entry["steps"] = [e.step for e in events]
                entry["values"] = strings
            texts[tag] = entry
    return {"scalars": scalars, "text": texts, "hparams": summarize_hparams(accumulator)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--json", metavar="OUT", help="also write the summary to this file")
    parser.add_argument(
        "--values", action="store_true", help="include every step and value of each series"
    )
    args = parser.parse_args(argv)
    if not os.path.isdir(args.logdir):
        print("%s is not a directory" % args.logdir, file=sys.stderr)
        return 1

    files = [check_file(path) for path in find_event_files(args.logdir)]
    corrupt = [f for f in files if not f["ok"]]
    runs = {}
    if not corrupt:
        # Only load runs once every file is known to be intact: the accumulator tolerates
        # damaged files silently, which would hide exactly what this script is for.
        for run_dir in sorted({os.path.dirname(f["path"]) for f in files}):
            name = os.path.relpath(run_dir, args.logdir)
            runs[name] = summarize_run(run_dir, args.values)
    n_scalars = sum(len(r["scalars"]) for r in runs.values())
    summary = {"logdir": args.logdir, "files": files, "runs": runs, "scalar_tags": n_scalars}

    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=2, allow_nan=False)

    for f in files:
        status = "ok" if f["ok"] else "FAILED: " + f["error"]
        print("%s: %d records, %s" % (f["path"], f["records"], status))
    for name, run in runs.items():
        print("run %s:" % name)
        for tag, s in run["scalars"].items():
            print(
                "  scalar %s: n=%d steps %s..%s last=%s"
                % (tag, s["n"], s["first_step"], s["last_step"], s["last_value"])
            )
        for tag, t in run["text"].items():
            print("  text %s: n=%d last=%r" % (tag, t["n"], t["last"]))
        h = run["hparams"]
        if h["found"]:
            print("  hparams: %s metrics: %s" % (", ".join(h["hparam_names"]), h["metric_tags"]))

    if corrupt:
        return 2
    if not files:
        print("no event files under %s" % args.logdir, file=sys.stderr)
        return 1
    if n_scalars == 0:
        print("no scalar series found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
