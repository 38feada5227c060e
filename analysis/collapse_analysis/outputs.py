"""Machine-readable outputs: summary.h5 and one CSV file of aggregated series per group."""

import csv
import datetime
import json
import os
import re

import h5py
import numpy as np

from . import __version__
from .aggregate import CONFIDENCE, SERIES

STATISTICS = (("mean", "mean"), ("std", "std"), ("ci_low", "ci95_low"), ("ci_high", "ci95_high"))
INTERVAL_NOTE = ("two-sided 95% Student-t interval of the mean with n - 1 degrees of freedom; "
                 "std and interval are NaN where n < 2")


def csv_path(report_dir, summary):
    return os.path.join(report_dir, f"series_{summary.group.name}.csv")


def class_column(name):
    """Return a class name made safe for a CSV column or HDF5 name ("8", "A", "T-shirt-top")."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "class"


def _format(value):
    return "" if not np.isfinite(value) else f"{value:.10g}"


def write_csv(path, summary):
    """Write one row per generation: n_seeds, then <series>_mean/_std/_ci95_low/_ci95_high.

    Undefined values (std and interval with one seed, off-diagonal series at g = 0) are
    empty cells. After the series come judge_top_class and judge_share_<class>_* columns.
    """
    names = [info.name for info, _ in SERIES]
    classes = [class_column(name) for name in summary.group.class_names]
    header = ["generation", "n_seeds"]
    for name in names:
        header += [f"{name}_{suffix}" for _, suffix in STATISTICS]
    header.append("judge_top_class")
    for name in classes:
        header += [f"judge_share_{name}_{suffix}" for _, suffix in STATISTICS]

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for g in summary.generations:
            row = [int(g), int(summary.n_seeds[g])]
            for name in names:
                row += [_format(summary.series[name][key][g]) for key, _ in STATISTICS]
            row.append(summary.group.class_names[summary.top_class(g)])
            for c in range(len(classes)):
                row += [_format(summary.judge_share[key][g, c]) for key, _ in STATISTICS]
            writer.writerow(row)


def _write_statistics(parent, name, statistics, description, values_note):
    group = parent.create_group(name)
    group.attrs["description"] = description
    for key, dataset_name in STATISTICS:
        group.create_dataset(dataset_name, data=statistics[key])
    group.create_dataset("n", data=statistics["n"])
    values = group.create_dataset("values", data=statistics["values"], compression="gzip")
    values.attrs["description"] = values_note
    return group


def write_summary_h5(path, summaries, source_dir, warnings):
    """Write the aggregated series and matrices of every group, with describing attributes.

    The file is written under a temporary name and renamed, so a reader never sees a
    partial file.
    """
    temporary = path + ".tmp"
    string = h5py.string_dtype()
    with h5py.File(temporary, "w") as handle:
        handle.attrs["format"] = "collapse-analysis-summary"
        handle.attrs["format_version"] = 1
        handle.attrs["software_version"] = __version__
        handle.attrs["source"] = os.path.abspath(source_dir)
        handle.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        handle.attrs["confidence"] = CONFIDENCE
        handle.attrs["interval"] = INTERVAL_NOTE
        handle.attrs["groups"] = np.array([s.group.name for s in summaries], dtype=string)
        handle.attrs["warnings"] = np.array(warnings, dtype=string)

        for summary in summaries:
            _write_group(handle.create_group(f"groups/{summary.group.name}"), summary)
    os.replace(temporary, path)


def _write_group(node, summary):
    group = summary.group
    string = h5py.string_dtype()
    node.attrs["label"] = group.label
    node.attrs["dataset"] = group.dataset
    node.attrs["settings"] = json.dumps(group.settings, sort_keys=True)
    node.attrs["members"] = np.array([m.name for m in group.members], dtype=string)
    node.attrs["seeds"] = np.array([m.seed for m in group.members], dtype=np.int64)
    node.attrs["member_generations"] = np.array([m.n_generations for m in group.members], dtype=np.int64)
    node.attrs["class_names"] = np.array(group.class_names, dtype=string)
    node.attrs["data_mean"] = group.members[0].data_mean
    node.attrs["data_std"] = group.members[0].data_std
    node.create_dataset("generation", data=summary.generations)
    node["generation"].attrs["description"] = "generation g; every array's first axis after members"
    node.create_dataset("n_seeds", data=summary.n_seeds)
    node["n_seeds"].attrs["description"] = "members that completed generation g (the n of the statistics)"

    member_rows = "rows: the members in the order of this group's 'members' attribute; NaN where a member lacks the value"
    series = node.create_group("series")
    series.attrs["description"] = f"per-generation statistics across members; {INTERVAL_NOTE}"
    for info, _ in SERIES:
        item = _write_statistics(series, info.name, summary.series[info.name], info.description, member_rows)
        item.attrs["label"] = info.label

    _write_statistics(node, "judge_share", summary.judge_share,
                      "share of D_{g+1} per class by the generation-0 classifier; arrays [generation, class]",
                      member_rows + "; [member, generation, class]")
    _write_statistics(node, "class_share", summary.class_share,
                      "share of D_{g+1} per class by the generation-g classifier; arrays [generation, class]",
                      member_rows + "; [member, generation, class]")
    node.create_dataset("judge_top_class", data=np.array(
        [summary.top_class(g) for g in summary.generations], dtype=np.int64))
    node["judge_top_class"].attrs["description"] = "class index with the largest mean judge share per generation"
    if summary.pixel_histogram is not None:
        _write_statistics(node, "pixel_histogram", summary.pixel_histogram,
                          "share of D_{g+1} pixels per bin of [0,1] (clipped); arrays [generation, bin]",
                          member_rows + "; [member, generation, bin]")

    matrices = node.create_group("matrices")
    for kind in ("accuracy", "loss"):
        item = _write_statistics(
            matrices, kind, summary.matrices[kind],
            f"{kind}[r, c] = gen-c.h5:/metrics/eval_{kind}[r]: classifier of generation r on D_(c+1); "
            "upper triangle (r <= c), NaN below; the diagonal r = c is a classifier on the data it "
            "labelled itself (close to perfect by construction) and is excluded from offdiag_column_mean",
            member_rows + "; [member, r, c]")
        mean = summary.matrices[kind]["mean"]
        column_means = np.array([np.mean(mean[:c, c]) if c > 0 else np.nan for c in range(mean.shape[0])])
        item.create_dataset("offdiag_column_mean", data=column_means)
        item["offdiag_column_mean"].attrs["description"] = (
            "per column c: mean over rows r < c of the mean matrix; NaN for c = 0")
