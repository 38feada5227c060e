"""Find and read the checkpoints of a collapse run: OUT/<member>/gen-NNN.h5.

A member contributes its complete generations 0..k: the longest run of readable files
from gen-000.h5 on without a gap. Temporary files (*.tmp) and progress.h5 belong to
generations still being written and are never read.
"""

import dataclasses
import logging
import os
import re

import h5py
import numpy as np

log = logging.getLogger("collapse_analysis")

FORMAT_NAME = "collapse-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_NAME = re.compile(r"^gen-(\d+)\.h5$")

# /metrics entries every checkpoint must have: the analysis is built on them.
REQUIRED_SCALARS = (
    "test_accuracy", "test_loss", "class_entropy", "judge_entropy", "pixel_mean",
    "pixel_std", "latent_spread", "frechet_distance",
)
# Entries read when present; a missing one becomes NaN in the series.
OPTIONAL_SCALARS = ("pixel_clipped_fraction", "seconds")
REQUIRED_EPOCH_SERIES = ("vae_loss",)
OPTIONAL_EPOCH_SERIES = ("vae_recon", "vae_kl", "classifier_loss", "classifier_train_accuracy")


class CheckpointError(Exception):
    """A checkpoint that is unreadable or does not follow the documented format."""


class NoCheckpointsError(Exception):
    """An output folder without any complete generation."""


@dataclasses.dataclass
class Generation:
    """The metrics of one member's generation g (read from gen-NNN.h5)."""

    index: int
    path: str
    scalars: dict            # name -> float
    final_epoch: dict        # name -> float, last entry of a per-epoch series
    eval_accuracy: np.ndarray  # [g + 1]
    eval_loss: np.ndarray      # [g + 1]
    class_histogram: np.ndarray  # int64 [C]
    judge_histogram: np.ndarray  # int64 [C]
    pixel_histogram: np.ndarray  # int64 [bins], or empty when absent


@dataclasses.dataclass
class Member:
    """One ensemble member (one data set and seed) and its complete generations."""

    name: str
    path: str
    dataset: str
    seed: int
    n_classes: int
    class_names: list
    data_mean: float
    data_std: float
    config_text: str
    member_settings: str  # "key = value" lines the program resolved for this member, or ""
    software_version: str
    generations: list  # Generation, indices 0..k in order

    @property
    def n_generations(self):
        return len(self.generations)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _attribute(handle, name, path):
    if name not in handle.attrs:
        raise CheckpointError(f"{path}: attribute '{name}' is missing")
    return handle.attrs[name]


def _dataset(metrics, name, path, ndim):
    if name not in metrics:
        raise CheckpointError(f"{path}: data set /metrics/{name} is missing")
    value = np.asarray(metrics[name][()])
    if value.ndim != ndim:
        raise CheckpointError(
            f"{path}: /metrics/{name} has {value.ndim} dimensions, expected {ndim}")
    return value


def read_header(path):
    """Read the root attributes of a checkpoint into a dict; raise CheckpointError if invalid."""
    try:
        with h5py.File(path, "r") as handle:
            return _read_header(handle, path)
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: cannot read HDF5 file ({error})") from error


def _read_header(handle, path):
    format_name = _text(_attribute(handle, "format", path))
    if format_name != FORMAT_NAME:
        raise CheckpointError(f"{path}: attribute 'format' is {format_name!r}, expected {FORMAT_NAME!r}")
    version = int(_attribute(handle, "format_version", path))
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format_version {version} is not supported (this analysis reads {FORMAT_VERSION})")
    n_classes = int(_attribute(handle, "n_classes", path))
    class_names = [_text(name) for name in np.atleast_1d(_attribute(handle, "class_names", path))]
    if len(class_names) != n_classes:
        raise CheckpointError(
            f"{path}: class_names has {len(class_names)} entries but n_classes is {n_classes}")
    return {
        "member": _text(_attribute(handle, "member", path)),
        "dataset": _text(_attribute(handle, "dataset", path)),
        "seed": int(_attribute(handle, "seed", path)),
        "generation": int(_attribute(handle, "generation", path)),
        "n_classes": n_classes,
        "class_names": class_names,
        "data_mean": float(_attribute(handle, "data_mean", path)),
        "data_std": float(_attribute(handle, "data_std", path)),
        "config": _text(handle.attrs.get("config", "")),
        "member_settings": _text(handle.attrs.get("member_settings", "")),
        "software_version": _text(handle.attrs.get("software_version", "")),
    }


def read_generation(path, expected_index):
    """Read one checkpoint's header and metrics; raise CheckpointError if it is invalid."""
    try:
        with h5py.File(path, "r") as handle:
            header = _read_header(handle, path)
            if header["generation"] != expected_index:
                raise CheckpointError(
                    f"{path}: attribute 'generation' is {header['generation']}, "
                    f"but the file name says {expected_index}")
            if "metrics" not in handle:
                raise CheckpointError(f"{path}: group /metrics is missing")
            generation = _read_metrics(handle["metrics"], path, expected_index, header["n_classes"])
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: cannot read HDF5 file ({error})") from error
    return header, generation


def _read_metrics(metrics, path, index, n_classes):
    scalars = {name: float(_dataset(metrics, name, path, 0)) for name in REQUIRED_SCALARS}
    for name in OPTIONAL_SCALARS:
        scalars[name] = float(metrics[name][()]) if name in metrics else np.nan

    final_epoch = {}
    for name in REQUIRED_EPOCH_SERIES + OPTIONAL_EPOCH_SERIES:
        if name in metrics or name in REQUIRED_EPOCH_SERIES:
            series = _dataset(metrics, name, path, 1)
            final_epoch[name] = float(series[-1]) if series.size else np.nan
        else:
            final_epoch[name] = np.nan

    eval_accuracy = _dataset(metrics, "eval_accuracy", path, 1).astype(np.float64)
    eval_loss = _dataset(metrics, "eval_loss", path, 1).astype(np.float64)
    for name, column in (("eval_accuracy", eval_accuracy), ("eval_loss", eval_loss)):
        if column.shape != (index + 1,):
            raise CheckpointError(
                f"{path}: /metrics/{name} has {column.shape[0]} entries, expected {index + 1} "
                f"(one per classifier of generations 0..{index})")

    histograms = {}
    for name in ("class_histogram", "judge_histogram"):
        histogram = _dataset(metrics, name, path, 1).astype(np.int64)
        if histogram.shape != (n_classes,):
            raise CheckpointError(
                f"{path}: /metrics/{name} has {histogram.shape[0]} entries, expected n_classes = {n_classes}")
        histograms[name] = histogram
    pixel_histogram = (np.asarray(metrics["pixel_histogram"][()], dtype=np.int64)
                       if "pixel_histogram" in metrics else np.zeros(0, dtype=np.int64))

    return Generation(
        index=index, path=path, scalars=scalars, final_epoch=final_epoch,
        eval_accuracy=eval_accuracy, eval_loss=eval_loss,
        class_histogram=histograms["class_histogram"], judge_histogram=histograms["judge_histogram"],
        pixel_histogram=pixel_histogram)


def list_checkpoints(member_dir):
    """Return {generation: path} of the files named gen-NNN.h5 in a member folder."""
    found = {}
    for entry in os.listdir(member_dir):
        match = CHECKPOINT_NAME.match(entry)
        if match and os.path.isfile(os.path.join(member_dir, entry)):
            found[int(match.group(1))] = os.path.join(member_dir, entry)
    return found


def read_member(member_dir):
    """Read a member folder's complete generations, or return None if it has none.

    Logs a warning naming the file for a gap, an unreadable or inconsistent checkpoint;
    the generations after it are ignored.
    """
    name = os.path.basename(os.path.normpath(member_dir))
    paths = list_checkpoints(member_dir)
    header = None
    generations = []
    warned = False
    index = 0
    while index in paths:
        try:
            file_header, generation = read_generation(paths[index], index)
        except CheckpointError as error:
            log.warning("%s; ignoring this and the later generations of member %s", error, name)
            warned = True
            break
        if header is None:
            header = file_header
        else:
            mismatch = [key for key in ("member", "dataset", "seed", "n_classes", "class_names")
                        if file_header[key] != header[key]]
            if mismatch:
                log.warning("%s: attributes %s differ from gen-000.h5 of the same member; "
                            "ignoring this and the later generations of member %s",
                            paths[index], ", ".join(mismatch), name)
                warned = True
                break
        generations.append(generation)
        index += 1
    else:
        later = sorted(g for g in paths if g > index)
        if later:
            log.warning("%s: gen-%03d.h5 is missing, so generations %s are ignored",
                        member_dir, index, ", ".join(str(g) for g in later))
            warned = True

    if header is None:
        if not warned:
            log.warning("%s: no complete generation starting at gen-000.h5; member skipped", member_dir)
        return None
    if header["member"] != name:
        log.warning("%s: checkpoints name the member %r; using the folder name %r",
                    member_dir, header["member"], name)

    config_text = header["config"]
    config_file = os.path.join(member_dir, "config.cfg")
    if not config_text and os.path.isfile(config_file):
        with open(config_file, encoding="utf-8", errors="replace") as handle:
            config_text = handle.read()

    return Member(
        name=name, path=member_dir, dataset=header["dataset"], seed=header["seed"],
        n_classes=header["n_classes"], class_names=header["class_names"],
        data_mean=header["data_mean"], data_std=header["data_std"],
        config_text=config_text, member_settings=header["member_settings"],
        software_version=header["software_version"],
        generations=generations)


def find_member_dirs(out_dir):
    """Return the folders that hold gen-NNN.h5 files: OUT itself or its direct subfolders."""
    if not os.path.isdir(out_dir):
        raise NoCheckpointsError(f"{out_dir}: not a folder")
    if list_checkpoints(out_dir):
        return [out_dir]
    member_dirs = []
    for entry in sorted(os.listdir(out_dir)):
        candidate = os.path.join(out_dir, entry)
        if os.path.isdir(candidate) and list_checkpoints(candidate):
            member_dirs.append(candidate)
    return member_dirs


def read_run(out_dir):
    """Read every member of an output folder; raise NoCheckpointsError if none is usable."""
    member_dirs = find_member_dirs(out_dir)
    if not member_dirs:
        raise NoCheckpointsError(
            f"{out_dir}: no checkpoints found; expected files OUT/<member>/gen-NNN.h5 "
            "written by 'collapse run --output OUT'")
    members = [member for member in map(read_member, member_dirs) if member is not None]
    if not members:
        raise NoCheckpointsError(
            f"{out_dir}: no member has a readable gen-000.h5, so there is no complete generation to analyse")
    return members


def read_sample_images(path, count):
    """Read the first `count` generated images of a checkpoint as [n, 28, 28] float32,
    still in the normalized space (see Member.data_mean and data_std)."""
    try:
        with h5py.File(path, "r") as handle:
            images = handle["generated/images"]
            if images.ndim != 3:
                raise CheckpointError(f"{path}: /generated/images has {images.ndim} dimensions, expected 3")
            return np.asarray(images[: min(count, images.shape[0])], dtype=np.float32)
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: cannot read /generated/images ({error})") from error
