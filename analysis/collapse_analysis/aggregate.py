"""Group ensemble members and aggregate their per-generation metrics across seeds."""

import dataclasses
import hashlib
import logging
import re

import numpy as np

from . import settings as settings_module
from .stats import summarize

log = logging.getLogger("collapse_analysis")

CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """One scalar per member and generation, aggregated across seeds."""

    name: str
    label: str        # axis label, with unit
    description: str  # one sentence for CSV/HDF5 readers
    bounds: tuple = (None, None)  # range the quantity can take, for drawing intervals


UNIT = (0.0, 1.0)
NONNEGATIVE = (0.0, None)


def _scalar(name):
    return lambda generation: generation.scalars[name]


def _final(name):
    return lambda generation: generation.final_epoch[name]


def _top_share(generation):
    total = generation.judge_histogram.sum()
    return generation.judge_histogram.max() / total if total > 0 else np.nan


def _offdiagonal_mean(values):
    # values[r] is classifier r on D_{g+1}, so the last entry (r = g) is the diagonal.
    return float(np.mean(values[:-1])) if values.size > 1 else np.nan


def _first_row(values):
    return float(values[0]) if values.size > 1 else np.nan


SERIES = (
    (SeriesInfo("test_accuracy", "real-test accuracy",
                "accuracy of the generation-g classifier on the real test set", UNIT), _scalar("test_accuracy")),
    (SeriesInfo("test_loss", "real-test loss (cross-entropy)",
                "mean cross-entropy of the generation-g classifier on the real test set", NONNEGATIVE),
     _scalar("test_loss")),
    (SeriesInfo("class_entropy", "class entropy (nats)",
                "entropy of the labels the generation-g classifier gives D_{g+1}", NONNEGATIVE),
     _scalar("class_entropy")),
    (SeriesInfo("judge_entropy", "judge entropy (nats)",
                "entropy of the labels the generation-0 classifier (the judge) gives D_{g+1}", NONNEGATIVE),
     _scalar("judge_entropy")),
    (SeriesInfo("judge_top_share", "largest judge class share",
                "share of D_{g+1} in the judge's most frequent class (any class, per member)", UNIT), _top_share),
    (SeriesInfo("pixel_mean", "pixel mean (pixel units)",
                "mean pixel value of D_{g+1} in [0,1] pixel units, before clipping"), _scalar("pixel_mean")),
    (SeriesInfo("pixel_std", "pixel std (pixel units)",
                "pixel standard deviation of D_{g+1} in [0,1] pixel units, before clipping", NONNEGATIVE),
     _scalar("pixel_std")),
    (SeriesInfo("pixel_clipped_fraction", "clipped pixel share",
                "share of D_{g+1} pixels outside [0,1]", UNIT), _scalar("pixel_clipped_fraction")),
    (SeriesInfo("latent_spread", "latent spread",
                "per-dimension std of the generation-0 encoder means of D_{g+1}, averaged over dimensions", NONNEGATIVE),
     _scalar("latent_spread")),
    (SeriesInfo("frechet_distance", "Frechet distance",
                "Frechet distance between the real test set and D_{g+1} in the judge's last hidden layer", NONNEGATIVE),
     _scalar("frechet_distance")),
    (SeriesInfo("vae_loss_final", "VAE loss per sample (last epoch)",
                "VAE loss (reconstruction + KL) per sample in the last epoch of generation g", NONNEGATIVE),
     _final("vae_loss")),
    (SeriesInfo("vae_recon_final", "VAE reconstruction loss (last epoch)",
                "reconstruction term of the VAE loss per sample, last epoch", NONNEGATIVE), _final("vae_recon")),
    (SeriesInfo("vae_kl_final", "VAE KL term (last epoch)",
                "KL term of the VAE loss per sample, last epoch", NONNEGATIVE), _final("vae_kl")),
    (SeriesInfo("classifier_loss_final", "classifier training loss (last epoch)",
                "classifier cross-entropy per sample on D_g in the last epoch", NONNEGATIVE), _final("classifier_loss")),
    (SeriesInfo("classifier_train_accuracy_final", "classifier training accuracy (last epoch)",
                "classifier accuracy on D_g during the last epoch", UNIT), _final("classifier_train_accuracy")),
    (SeriesInfo("eval_accuracy_offdiag", "mean off-diagonal accuracy",
                "mean accuracy of the classifiers of generations 0..g-1 on D_{g+1} (column g of the "
                "accuracy matrix without its diagonal); undefined at g = 0", UNIT),
     lambda generation: _offdiagonal_mean(generation.eval_accuracy)),
    (SeriesInfo("eval_loss_offdiag", "mean off-diagonal loss",
                "mean loss of the classifiers of generations 0..g-1 on D_{g+1}; undefined at g = 0", NONNEGATIVE),
     lambda generation: _offdiagonal_mean(generation.eval_loss)),
    (SeriesInfo("eval_accuracy_gen0", "generation-0 classifier accuracy",
                "accuracy of the generation-0 classifier on D_{g+1}; undefined at g = 0 (the diagonal)", UNIT),
     lambda generation: _first_row(generation.eval_accuracy)),
    (SeriesInfo("seconds", "wall time (s)", "wall time of generation g", NONNEGATIVE), _scalar("seconds")),
)
SERIES_INFO = {info.name: info for info, _ in SERIES}


@dataclasses.dataclass
class Group:
    """Members that share a data set and every distinguishing configuration setting."""

    name: str          # file-name-safe identifier
    label: str         # for people: data set and distinguishing settings
    dataset: str
    settings: dict     # distinguishing setting -> value, the same for all members
    members: list

    @property
    def class_names(self):
        return self.members[0].class_names


@dataclasses.dataclass
class GroupSummary:
    """A group's metrics per generation, per member and aggregated across members."""

    group: Group
    generations: np.ndarray   # [G]
    n_seeds: np.ndarray       # [G], members that completed each generation
    series: dict              # name -> summarize() dict plus "values" [M, G]
    judge_share: dict         # summarize() dict over [G, C] plus "values" [M, G, C]
    class_share: dict         # the same for the labels of the generation-g classifier
    pixel_histogram: dict     # summarize() dict over [G, bins] of normalized histograms, or None
    matrices: dict            # "accuracy"/"loss" -> summarize() dict over [G, G] plus "values" [M, G, G]

    @property
    def n_generations(self):
        return len(self.generations)

    def top_class(self, generation):
        """Return the index of the class with the largest mean judge share at a generation."""
        shares = self.judge_share["mean"][generation]
        return int(np.argmax(np.nan_to_num(shares, nan=-1.0)))


def _member_settings(member, from_attribute):
    """Return a member's flat settings: the member_settings attribute if `from_attribute`,
    else its entry of the configuration text."""
    try:
        if from_attribute:
            return settings_module.parse_member_settings(member.member_settings)
        return settings_module.member_settings(member.config_text, member.dataset)
    except settings_module.SettingsError as error:
        log.warning("%s: cannot parse the settings of member %s (%s); comparing the text as a whole",
                    member.path, member.name, error)
        text = member.member_settings if from_attribute else member.config_text
        return {"settings-sha1": hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]}


def _slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "group"


def group_members(members, ignored_settings=settings_module.DEFAULT_IGNORED_SETTINGS):
    """Split members into groups by data set, then by every setting that differs between
    members of the same data set. Settings that differ only between data sets, such as
    the classifier type of EMNIST, are implied by the data set."""
    by_dataset = {}
    for member in members:
        by_dataset.setdefault(member.dataset, []).append(member)

    groups = []
    for dataset in sorted(by_dataset):
        dataset_members = by_dataset[dataset]
        # The program's own resolved settings when every member has them (checkpoints of
        # older versions lack the attribute), else each member's entry of the config text.
        from_attribute = all(member.member_settings for member in dataset_members)
        parsed = {member.name: _member_settings(member, from_attribute) for member in dataset_members}
        keys = settings_module.distinguishing_settings(parsed, ignored_settings)
        by_key = {}
        for member in dataset_members:
            values = tuple((key, parsed[member.name].get(key, "(unset)")) for key in keys)
            by_key.setdefault((tuple(member.class_names), values), []).append(member)
        for index, ((_, values), group_members_) in enumerate(sorted(by_key.items())):
            groups.append(_make_group(dataset, values, group_members_, index + 1 if len(by_key) > 1 else 0))

    used = set()
    for number, group in enumerate(groups, start=1):
        if group.name in used:  # two labels that differ only in characters a file name cannot hold
            group.name += f"_{number}"
        used.add(group.name)
    return groups


def _make_group(dataset, values, members, index):
    settings = dict(values)
    label = dataset
    name = _slug(dataset)
    if settings:
        label += " (" + ", ".join(f"{key} = {value}" for key, value in values) + ")"
        name += "_" + "_".join(_slug(f"{key.rsplit('.', 1)[-1]}-{value}") for key, value in values)
        if len(name) > 80:
            name = f"{_slug(dataset)}_{index}"
    elif index:
        # Same settings but different class names: number the groups.
        label += f" (class names {index})"
        name += f"_{index}"
    members.sort(key=lambda member: (member.seed, member.name))
    return Group(name=name, label=label, dataset=dataset, settings=settings, members=members)


def _shares(histogram):
    total = histogram.sum()
    return histogram / total if total > 0 else np.full(histogram.shape, np.nan)


def _with_values(values):
    summary = summarize(values, axis=0, confidence=CONFIDENCE)
    summary["values"] = values
    return summary


def aggregate_group(group):
    """Aggregate a group's members per generation, each over the members that completed it."""
    n_members = len(group.members)
    n_generations = max(member.n_generations for member in group.members)
    n_classes = len(group.class_names)

    series_values = {info.name: np.full((n_members, n_generations), np.nan) for info, _ in SERIES}
    judge_values = np.full((n_members, n_generations, n_classes), np.nan)
    class_values = np.full((n_members, n_generations, n_classes), np.nan)
    accuracy = np.full((n_members, n_generations, n_generations), np.nan)
    loss = np.full((n_members, n_generations, n_generations), np.nan)
    bin_counts = {generation.pixel_histogram.size
                  for member in group.members for generation in member.generations}
    n_bins = bin_counts.pop() if len(bin_counts) == 1 else 0
    pixel_values = np.full((n_members, n_generations, n_bins), np.nan)

    for m, member in enumerate(group.members):
        for generation in member.generations:
            g = generation.index
            for info, extract in SERIES:
                series_values[info.name][m, g] = extract(generation)
            judge_values[m, g] = _shares(generation.judge_histogram)
            class_values[m, g] = _shares(generation.class_histogram)
            accuracy[m, : g + 1, g] = generation.eval_accuracy
            loss[m, : g + 1, g] = generation.eval_loss
            if n_bins:
                pixel_values[m, g] = _shares(generation.pixel_histogram)

    n_seeds = np.array([sum(member.n_generations > g for member in group.members)
                        for g in range(n_generations)], dtype=np.int64)
    return GroupSummary(
        group=group,
        generations=np.arange(n_generations),
        n_seeds=n_seeds,
        series={name: _with_values(values) for name, values in series_values.items()},
        judge_share=_with_values(judge_values),
        class_share=_with_values(class_values),
        pixel_histogram=_with_values(pixel_values) if n_bins else None,
        matrices={"accuracy": _with_values(accuracy), "loss": _with_values(loss)},
    )
