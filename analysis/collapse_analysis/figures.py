"""Figures of a run's aggregated metrics (matplotlib, Agg backend, PNG files)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .aggregate import SERIES_INFO  # noqa: E402

DPI = 110
GROUP_COLORS = plt.get_cmap("tab10").colors

# Series drawn as separate figures, each written to <name>.png.
MAIN_SERIES = ("test_accuracy", "class_entropy", "pixel_mean", "frechet_distance")
# Series in the overview panel grid.
OVERVIEW_SERIES = (
    "test_accuracy", "eval_accuracy_offdiag", "eval_accuracy_gen0", "test_loss",
    "class_entropy", "judge_entropy", "judge_top_share", "frechet_distance",
    "pixel_mean", "pixel_std", "pixel_clipped_fraction", "latent_spread",
    "vae_loss_final", "vae_recon_final", "vae_kl_final", "classifier_loss_final",
)


def _seed_label(summary):
    counts = summary.n_seeds
    low, high = int(counts.min()), int(counts.max())
    if high == 1:
        return "1 seed, no interval"
    if low == high:
        return f"{high} seeds, 95% CI"
    return f"{low}-{high} seeds, 95% CI where n > 1"


def _group_color(index):
    return GROUP_COLORS[index % len(GROUP_COLORS)]


def _integer_generation_axis(ax, last_generation):
    """Span generations 0..last_generation on the x axis with integer ticks."""
    if last_generation == 0:  # one generation: widen, or the locator falls back to fractional ticks
        ax.set_xlim(-1, 1)
    else:
        margin = 0.03 * last_generation
        ax.set_xlim(-margin, last_generation + margin)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("generation g")


def _draw_series(ax, summaries, name, with_labels=True):
    """Draw each group's mean with its confidence band. Bands are clipped to the range the
    quantity can take (an accuracy stays in [0, 1]); summary.h5 and the CSV files keep the
    unclipped interval."""
    low_bound, high_bound = SERIES_INFO[name].bounds
    for index, summary in enumerate(summaries):
        statistics = dict(summary.series[name])
        if low_bound is not None or high_bound is not None:
            statistics["ci_low"] = np.clip(statistics["ci_low"], low_bound, high_bound)
            statistics["ci_high"] = np.clip(statistics["ci_high"], low_bound, high_bound)
        color = _group_color(index)
        x = summary.generations
        mean = statistics["mean"]
        if not np.isfinite(mean).any():
            continue
        marker = "o" if len(x) <= 25 else None
        label = f"{summary.group.label} ({_seed_label(summary)})" if with_labels else None
        ax.plot(x, mean, color=color, marker=marker, markersize=3, linewidth=1.5, label=label)
        band = np.isfinite(statistics["ci_low"]) & np.isfinite(statistics["ci_high"])
        if band.any():
            ax.fill_between(x, statistics["ci_low"], statistics["ci_high"], where=band,
                            color=color, alpha=0.2, linewidth=0, interpolate=False)
            single = band & ~np.roll(band, 1) & ~np.roll(band, -1)
            if single.any():  # an interval at one isolated generation: fill_between draws nothing
                ax.errorbar(x[single], mean[single],
                            yerr=[mean[single] - statistics["ci_low"][single],
                                  statistics["ci_high"][single] - mean[single]],
                            fmt="none", ecolor=color, alpha=0.6, capsize=3)
    _integer_generation_axis(ax, max(summary.n_generations for summary in summaries) - 1)
    ax.grid(True, alpha=0.3)


def _reference_lines(ax, summaries, name):
    """Draw the value a healthy run would keep: uniform class entropy, the real pixel mean.

    A line that belongs to one group takes that group's colour; a line shared by several
    groups (the same class count) is grey.
    """
    lines = {}  # (value, text) -> indices of the groups it belongs to
    for index, summary in enumerate(summaries):
        if name in ("class_entropy", "judge_entropy"):
            n_classes = len(summary.group.class_names)
            key = (math.log(n_classes), f"uniform over {n_classes} classes (ln C)")
        elif name == "pixel_mean":
            key = (summary.group.members[0].data_mean, f"{summary.group.label} normalization mean")
        else:
            return
        lines.setdefault(key, []).append(index)
    for (value, text), indices in lines.items():
        color = _group_color(indices[0]) if len(indices) == 1 else "grey"
        ax.axhline(value, color=color, linestyle="--", linewidth=1, alpha=0.8, label=text)


def plot_series(summaries, name, path):
    """Plot one series against the generation, every group on one axes with its CI band."""
    info = SERIES_INFO[name]
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
    _draw_series(ax, summaries, name)
    _reference_lines(ax, summaries, name)
    ax.set_ylabel(info.label)
    ax.set_title(f"{info.label} per generation\n{info.description}", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_overview(summaries, path):
    """Plot every key series in one panel grid, sharing one legend."""
    columns = 4
    rows = math.ceil(len(OVERVIEW_SERIES) / columns)
    legend_rows = math.ceil(len(summaries) / 3)
    height = 2.9 * rows + 0.3 + 0.25 * legend_rows
    fig, axes = plt.subplots(rows, columns, figsize=(4.0 * columns, height), squeeze=False)
    for ax, name in zip(axes.flat, OVERVIEW_SERIES):
        _draw_series(ax, summaries, name, with_labels=False)
        _reference_lines(ax, summaries, name)
        ax.set_title(SERIES_INFO[name].label, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(8)
    for ax in axes.flat[len(OVERVIEW_SERIES):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=_group_color(i), marker="o", markersize=3,
                          label=f"{summary.group.label} ({_seed_label(summary)})")
               for i, summary in enumerate(summaries)]
    # matplotlib 3.6 constrained layout ignores figure legends, so reserve the top by hand.
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.3 + 0.25 * legend_rows) / height))
    fig.legend(handles=handles, loc="upper center", ncol=min(3, len(handles)), fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_matrix(summary, kind, path):
    """Draw the mean accuracy or loss matrix of a group as a heatmap.

    Rows are classifier generations r, columns data generations c (D_{c+1}). The lower
    triangle does not exist, and the diagonal (a classifier on the data it labelled
    itself) is hatched grey and left out of the colour scale.
    """
    statistics = summary.matrices[kind]
    mean = statistics["mean"]
    size = mean.shape[0]
    off_diagonal = np.triu(np.ones((size, size), dtype=bool), k=1) & np.isfinite(mean)
    off_diagonal_mean = np.where(off_diagonal, mean, np.nan)

    side = min(11.0, 3.2 + 0.42 * size)
    fig, ax = plt.subplots(figsize=(side + 1.4, side), layout="constrained")
    if kind == "accuracy":
        cmap, vmin, vmax = plt.get_cmap("viridis").copy(), 0.0, 1.0
    else:
        cmap = plt.get_cmap("magma_r").copy()
        finite = off_diagonal_mean[np.isfinite(off_diagonal_mean)]
        vmin, vmax = 0.0, (float(finite.max()) if finite.size else 1.0)
    cmap.set_bad("white")
    image = ax.imshow(np.ma.masked_invalid(off_diagonal_mean), cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest")

    for c in range(size):
        ax.add_patch(Rectangle((c - 0.5, c - 0.5), 1, 1, facecolor="0.85", edgecolor="0.5",
                               hatch="///", linewidth=0.5))
    if size <= 16:
        for r in range(size):
            for c in range(r + 1, size):
                if np.isfinite(off_diagonal_mean[r, c]):
                    value = off_diagonal_mean[r, c]
                    dark = (value - vmin) / max(vmax - vmin, 1e-12)
                    light_text = dark < 0.55 if kind == "accuracy" else dark > 0.45
                    ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if light_text else "black")

    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label(f"mean {kind} over seeds (off-diagonal)")
    ticks = np.arange(0, size, 1 if size <= 20 else 5)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("data generation c (samples D_{c+1} of the generation-c VAE)")
    ax.set_ylabel("classifier generation r")
    n_low, n_high = int(summary.n_seeds.min()), int(summary.n_seeds.max())
    if n_low != n_high:
        seeds = f"{n_low}-{n_high} seeds"
    elif n_high == 1:
        seeds = "1 seed"
    else:
        seeds = f"{n_high} seeds"
    ax.set_title(f"{kind} of classifier r on data c, mean of {seeds}: {summary.group.label}\n"
                 "hatched diagonal: a classifier on the data it labelled itself (excluded)",
                 fontsize=9)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _class_colors(n_classes):
    if n_classes <= 10:
        return list(plt.get_cmap("tab10").colors[:n_classes])
    if n_classes <= 20:
        return list(plt.get_cmap("tab20").colors[:n_classes])
    cmap = plt.get_cmap("turbo")
    # Interleave the colour map so that neighbouring classes get distant colours.
    order = np.argsort([(i * 7) % n_classes for i in range(n_classes)])
    return [cmap(0.05 + 0.9 * order[i] / (n_classes - 1)) for i in range(n_classes)]


def plot_class_shares(summary, path):
    """Draw the judge's class shares of D_{g+1} (mean over seeds) as a stacked area."""
    shares = np.nan_to_num(summary.judge_share["mean"])  # [G, C]
    names = summary.group.class_names
    colors = _class_colors(len(names))
    x = summary.generations
    fig, ax = plt.subplots(figsize=(8.5 if len(names) <= 20 else 10.5, 4.8), layout="constrained")
    if len(x) > 1:
        ax.stackplot(x, shares.T, colors=colors, labels=names, linewidth=0.3, edgecolor="white")
    else:
        bottom = 0.0
        for share, color, name in zip(shares[0], colors, names):
            ax.bar(x[0], share, bottom=bottom, color=color, label=name, width=0.6)
            bottom += share

    last = shares[-1]
    cumulative = np.cumsum(last) - last / 2
    for share, position, name in zip(last, cumulative, names):
        if share >= 0.05 and len(x) > 1:
            ax.text(x[-1], position, f" {name}", va="center", ha="left", fontsize=8)
    top = summary.top_class(len(x) - 1)
    ax.set_ylim(0, 1)
    _integer_generation_axis(ax, x[-1])
    if len(x) > 1:
        ax.set_xlim(x[0], x[-1])  # areas reach the frame; the class labels stand right of it
    ax.set_ylabel("share of D_{g+1} (judge's labels)")
    ax.set_title(f"class shares by the generation-0 classifier, mean over seeds: {summary.group.label}\n"
                 f"largest at generation {x[-1]}: class {names[top]} with {last[top]:.1%} "
                 f"(uniform: {1 / len(names):.1%})", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    # Reversed, so the legend lists classes in the order the areas are stacked, top first.
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.04, 0.5), fontsize=7,
              ncol=max(1, math.ceil(len(names) / 24)), title="class", title_fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_pixel_histogram(summary, path):
    """Draw the pixel-value distribution of D_{g+1} per generation (mean over seeds)."""
    histogram = summary.pixel_histogram["mean"]  # [G, bins], shares
    n_bins = histogram.shape[1]
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    positive = histogram[np.isfinite(histogram) & (histogram > 0)]
    floor = positive.min() if positive.size else 1e-6
    image = ax.imshow(np.clip(np.nan_to_num(histogram.T, nan=floor), floor, None), origin="lower",
                      aspect="auto", interpolation="nearest", cmap="cividis",
                      extent=(-0.5, len(summary.generations) - 0.5, 0.0, 1.0),
                      norm=LogNorm(vmin=floor, vmax=max(floor * 10, float(positive.max()) if positive.size else 1)))
    fig.colorbar(image, ax=ax).set_label(f"share of pixels per bin ({n_bins} bins, log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("generation g")
    ax.set_ylabel("pixel value (clipped to [0,1])")
    ax.set_title(f"pixel-value distribution of D_{{g+1}}, mean over seeds: {summary.group.label}",
                 fontsize=9)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_sample_overview(member, grids, path, max_panels=6):
    """Show the sample grids of up to `max_panels` generations, first and last included."""
    picks = sorted({int(round(i)) for i in np.linspace(0, len(grids) - 1, min(max_panels, len(grids)))})
    columns = 2 if len(picks) == 4 else min(3, len(picks))
    rows = math.ceil(len(picks) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 3.5 * rows + 0.4), squeeze=False)
    for ax, pick in zip(axes.flat, picks):
        generation, grid = grids[pick]
        ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"generation {generation}: D_{generation + 1}", fontsize=9)
        ax.axis("off")
    for ax in axes.flat[len(picks):]:
        ax.set_visible(False)
    fig.suptitle(f"samples of {member.name} (pixels clipped to [0,1])", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
