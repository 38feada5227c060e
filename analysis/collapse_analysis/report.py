"""Write the whole report folder: summary.h5, CSV files, figures and the report.md index."""

import datetime
import logging
import os

import numpy as np

from . import figures, outputs, samples
from .aggregate import SERIES_INFO

log = logging.getLogger("collapse_analysis")

# Rows of the key-number table: series name, how to format a value.
KEY_SERIES = (
    ("test_accuracy", "{:.4f}"),
    ("eval_accuracy_offdiag", "{:.4f}"),
    ("eval_accuracy_gen0", "{:.4f}"),
    ("class_entropy", "{:.4f}"),
    ("judge_entropy", "{:.4f}"),
    ("judge_top_share", "{:.4f}"),
    ("pixel_mean", "{:.4f}"),
    ("pixel_std", "{:.4f}"),
    ("latent_spread", "{:.4f}"),
    ("frechet_distance", "{:.3f}"),
    ("vae_loss_final", "{:.3f}"),
)

SERIES_FIGURE_TEXT = {
    "test_accuracy": "Accuracy of each generation's classifier on the real test set: how much of the "
                     "real task survives training on synthetic data.",
    "class_entropy": "Entropy of the labels each generation's classifier gives its VAE's samples; the "
                     "dashed line is a uniform class mix, and a fall means classes disappear.",
    "pixel_mean": "Mean pixel value of the generated images (before clipping), against the data set's "
                  "normalization mean: drift of the basic image statistics.",
    "frechet_distance": "Frechet distance between the real test set and the generated images in the "
                        "generation-0 classifier's feature space: distance from the real distribution.",
}


def _estimate(statistics, g, pattern):
    """Format mean +- CI half-width at generation g, or the reason there is none."""
    n = int(statistics["n"][g])
    mean = statistics["mean"][g]
    if n == 0 or not np.isfinite(mean):
        return "undefined"
    if n == 1:
        return f"{pattern.format(mean)} (n = 1, no interval)"
    half = (statistics["ci_high"][g] - statistics["ci_low"][g]) / 2
    return f"{pattern.format(mean)} ± {pattern.format(half)} (n = {n})"


def _key_table(summary):
    last = summary.n_generations - 1
    names = summary.group.class_names
    lines = [f"| metric | generation 0 | generation {last} |", "|---|---|---|"]
    for name, pattern in KEY_SERIES:
        statistics = summary.series[name]
        first = _estimate(statistics, 0, pattern)
        if name.startswith("eval_") and last > 0:
            first = "undefined (diagonal only)"
        lines.append(f"| {SERIES_INFO[name].label} | {first} | {_estimate(statistics, last, pattern)} |")

    top = summary.top_class(last)
    share = {key: value[:, top] for key, value in summary.judge_share.items() if key != "values"}
    lines.append(f"| judge share of class {names[top]} (largest at generation {last}) | "
                 f"{_estimate(share, 0, '{:.4f}')} | {_estimate(share, last, '{:.4f}')} |")
    lines.append(f"| judge's largest class | {names[summary.top_class(0)]} | {names[top]} |")
    return lines


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _relative(path, report_dir):
    return os.path.relpath(path, report_dir).replace(os.sep, "/")


def write_report(members, summaries, source_dir, report_dir, warnings, sample_count=64):
    """Write every output into report_dir and return the path of report.md."""
    os.makedirs(report_dir, exist_ok=True)
    figure_lines = []

    outputs.write_summary_h5(os.path.join(report_dir, "summary.h5"), summaries, source_dir, warnings)
    for summary in summaries:
        outputs.write_csv(outputs.csv_path(report_dir, summary), summary)

    path = os.path.join(report_dir, "overview.png")
    figures.plot_overview(summaries, path)
    figure_lines += ["### All groups", "",
                     f"![overview]({_relative(path, report_dir)})", "",
                     "Every aggregated series against the generation, one colour per group; "
                     "bands are 95% confidence intervals of the mean across seeds.", ""]
    for name in figures.MAIN_SERIES:
        path = os.path.join(report_dir, f"{name}.png")
        figures.plot_series(summaries, name, path)
        figure_lines += [f"![{name}]({_relative(path, report_dir)})", "", SERIES_FIGURE_TEXT[name], ""]

    for summary in summaries:
        figure_lines += _write_group_figures(summary, report_dir, sample_count)

    report_path = os.path.join(report_dir, "report.md")
    with open(report_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(_report_text(members, summaries, source_dir, warnings, figure_lines)) + "\n")
    return report_path


def _write_group_figures(summary, report_dir, sample_count):
    name = summary.group.name
    lines = [f"### {summary.group.label}", ""]

    for kind in ("accuracy", "loss"):
        path = os.path.join(report_dir, f"{kind}_matrix_{name}.png")
        figures.plot_matrix(summary, kind, path)
        lines += [f"![{kind} matrix]({_relative(path, report_dir)})", "",
                  f"Mean {kind} of the classifier of generation r (rows) on the samples of generation c "
                  "(columns); the hatched diagonal is each classifier on its own labels and is excluded.", ""]

    path = os.path.join(report_dir, f"class_shares_{name}.png")
    figures.plot_class_shares(summary, path)
    lines += [f"![class shares]({_relative(path, report_dir)})", "",
              "Share of each class among the generated images as labelled by the fixed generation-0 "
              "classifier: classes that shrink away and the class that takes over.", ""]

    if summary.pixel_histogram is not None:
        path = os.path.join(report_dir, f"pixel_histogram_{name}.png")
        figures.plot_pixel_histogram(summary, path)
        lines += [f"![pixel histogram]({_relative(path, report_dir)})", "",
                  "Distribution of generated pixel values per generation (log colour scale): "
                  "blurring moves mass from 0 and 1 to grey levels.", ""]

    if sample_count > 0:
        lines += _write_sample_figures(summary, report_dir, sample_count)
    return lines


def _write_sample_figures(summary, report_dir, sample_count):
    member = summary.group.members[0]
    grids = samples.load_grids(member, sample_count)
    if not grids:
        return [f"No sample images of {member.name} could be read.", ""]
    name = summary.group.name
    sample_dir = os.path.join(report_dir, "samples", name)
    os.makedirs(sample_dir, exist_ok=True)
    gif_path = os.path.join(report_dir, f"samples_{name}.gif")
    samples.write_samples(member, grids, os.path.join(sample_dir, "gen-{generation:03d}.png"), gif_path)
    overview = os.path.join(report_dir, f"samples_{name}.png")
    figures.plot_sample_overview(member, grids, overview)
    return [f"![samples]({_relative(overview, report_dir)})", "",
            f"Generated images of {member.name} (the group's first member) at selected generations, "
            f"{grids[0][1].shape[0] // 28}-row grids of the first images of /generated/images; "
            f"every generation is in [{_relative(sample_dir, report_dir)}/]({_relative(sample_dir, report_dir)}/).",
            "",
            f"![animation]({_relative(gif_path, report_dir)})", "",
            "The same grids as an animation through all generations.", ""]


def _report_text(members, summaries, source_dir, warnings, figure_lines):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Model collapse report", "",
             f"Source: `{os.path.abspath(source_dir)}`, read {now}: {_count(len(members), 'member')} in "
             f"{_count(len(summaries), 'group')}. Each generation is aggregated over the members that "
             "completed it.",
             "", "## Groups", "",
             "| group | distinguishing settings | members | complete generations |", "|---|---|---|---|"]
    for summary in summaries:
        group = summary.group
        settings = ", ".join(f"`{k} = {v}`" for k, v in group.settings.items()) or "data set only"
        member_text = ", ".join(m.name for m in group.members)
        counts = ", ".join(str(m.n_generations) for m in group.members)
        lines.append(f"| {group.label} | {settings} | {member_text} | {counts} |")
    lines.append("")
    if any(int(s.n_seeds.max()) == 1 for s in summaries):
        lines += ["Groups with one seed have no standard deviation and no confidence interval.", ""]
    if warnings:
        lines += ["## Warnings", ""] + [f"- {warning}" for warning in warnings] + [""]

    lines += ["## Key numbers", "",
              "Mean ± half-width of the 95% Student-t confidence interval across seeds (n - 1 degrees "
              "of freedom); n is the number of members that completed the generation.", ""]
    for summary in summaries:
        lines += [f"### {summary.group.label}", ""] + _key_table(summary) + [""]

    lines += ["## Figures", ""] + figure_lines
    lines += ["## Files", "",
              "- `summary.h5`: per group, every series (mean, std, ci95_low, ci95_high, n, and the "
              "per-member values), class shares, pixel histograms and the mean accuracy and loss "
              "matrices; each item has a `description` attribute.",
              "- `series_<group>.csv`: one row per generation; `n_seeds`, then `<series>_mean`, `_std`, "
              "`_ci95_low`, `_ci95_high` for each series, `judge_top_class`, and `judge_share_<class>_*`. "
              "Empty cells are undefined values (one seed, or off-diagonal series at generation 0).",
              "- `samples/<group>/gen-NNN.png`: the sample grid of every generation.", ""]
    return lines
