"""Write small checkpoints that follow docs/checkpoint.md, for testing the analysis
without running the C program. Values are random but drift with the generation the way
a collapsing run does, so figures made from them are meaningful to look at."""

import os
import zlib

import h5py
import numpy as np

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def config_text(dataset="mnist", seeds=(1, 2, 3), generations=4, reset_vae=False):
    """Return configuration text in the layout `collapse` writes (libconfig, ensemble-wide)."""
    seed_list = ", ".join(str(seed) for seed in seeds)
    return (
        "# synthetic configuration for analysis tests\n"
        f"generations = {generations};\n"
        f"seeds = [ {seed_list} ];\n"
        "output = \"out\";\n"
        f"datasets = ( {{ name = \"{dataset}\"; kind = \"{dataset}\"; dir = \"data/{dataset}\"; }} );\n"
        f"vae : {{ epochs = 2; latent = 20; reset = {str(reset_vae).lower()}; learning_rate = 1e-3; }};\n"
        "classifier : { epochs = 2; };\n"
    )


def member_settings_text(dataset="mnist", seed=1, reset_vae=False):
    """Return a member_settings attribute in the layout `collapse` writes ("key = value" lines)."""
    return (f"dataset = {dataset}\nkind = {dataset}\nsplit = \nseed = {seed}\nn_classes = 0\n"
            "max_train = 2000\nmean = nan\nstd = nan\nsamples = 80\nbatch_size = 128\n"
            f"vae.hidden = 128 128\nvae.latent = 20\nvae.epochs = 2\nvae.reset = {int(reset_vae)}\n"
            "classifier.type = mlp\nclassifier.channels =\nclassifier.hidden = 256 256\n")


def write_checkpoint(out_dir, dataset, seed, generation, n_classes=10, n_images=80,
                     config=None, member_settings=None, rng=None, vae_epochs=3, classifier_epochs=2):
    """Write OUT/<dataset>-s<seed>/gen-NNN.h5 and return its path.

    The member_settings attribute is written only when given, as in checkpoints of
    program versions before it existed; grouping then falls back to `config`.
    """
    if rng is None:
        rng = np.random.default_rng([zlib.crc32(dataset.encode()), seed, generation])
    member = f"{dataset}-s{seed}"
    member_dir = os.path.join(out_dir, member)
    os.makedirs(member_dir, exist_ok=True)
    path = os.path.join(member_dir, f"gen-{generation:03d}.h5")
    g = generation
    decay = np.exp(-0.15 * g)

    with h5py.File(path, "w") as handle:
        handle.attrs["format"] = "collapse-checkpoint"
        handle.attrs["format_version"] = np.int32(1)
        handle.attrs["software_version"] = "0.1.0-test"
        handle.attrs["member"] = member
        handle.attrs["dataset"] = dataset
        handle.attrs["seed"] = np.int64(seed)
        handle.attrs["generation"] = np.int32(g)
        handle.attrs["n_ranks"] = np.int32(1)
        handle.attrs["config"] = config if config is not None else config_text(dataset)
        if member_settings is not None:
            handle.attrs["member_settings"] = member_settings
        handle.attrs["rng_key"] = np.array([seed, 12345], dtype=np.uint32)
        handle.attrs["data_mean"] = MNIST_MEAN
        handle.attrs["data_std"] = MNIST_STD
        handle.attrs["n_classes"] = np.int32(n_classes)
        handle.attrs["class_names"] = np.array([str(c) for c in range(n_classes)], dtype=h5py.string_dtype())
        handle.attrs["data_fingerprint"] = "synthetic"

        handle.create_dataset("vae/params/out.weight", data=rng.normal(size=(4, 3)).astype(np.float32))

        pixels = _blob_images(rng, n_images, blur=1.0 + 0.4 * g)
        images = ((pixels - MNIST_MEAN) / MNIST_STD).astype(np.float32)
        handle.create_dataset("generated/images", data=images, chunks=(min(16, n_images), 28, 28),
                              compression="gzip")

        metrics = handle.create_group("metrics")
        metrics["vae_loss"] = 40.0 - np.arange(vae_epochs) + rng.normal(size=vae_epochs) + 2.0 * g
        metrics["vae_recon"] = np.asarray(metrics["vae_loss"]) * 0.8
        metrics["vae_kl"] = np.asarray(metrics["vae_loss"]) * 0.2
        metrics["classifier_loss"] = 0.5 - 0.1 * np.arange(classifier_epochs) + 0.01 * rng.random(classifier_epochs)
        metrics["classifier_train_accuracy"] = 0.9 + 0.01 * rng.random(classifier_epochs)
        metrics["eval_accuracy"] = np.concatenate(
            [0.9 - 0.05 * (g - np.arange(g)) + 0.02 * rng.random(g), [0.99 + 0.005 * rng.random()]])
        metrics["eval_loss"] = np.concatenate(
            [0.3 + 0.2 * (g - np.arange(g)) + 0.05 * rng.random(g), [0.02 + 0.01 * rng.random()]])
        metrics["test_loss"] = 0.1 + 0.1 * g + 0.05 * rng.random()
        metrics["test_accuracy"] = 0.97 * decay + 0.02 * rng.random()

        weights = np.ones(n_classes)
        weights[8 % n_classes] += 0.6 * g
        shares = rng.dirichlet(weights * 20.0)
        labels = rng.choice(n_classes, size=n_images, p=shares).astype(np.int32)
        handle.create_dataset("generated/labels", data=labels)
        histogram = np.bincount(labels, minlength=n_classes)
        metrics["class_histogram"] = histogram.astype(np.int64)
        judge = np.bincount(rng.choice(n_classes, size=n_images, p=shares), minlength=n_classes)
        metrics["judge_histogram"] = judge.astype(np.int64)
        metrics["class_entropy"] = _entropy(histogram)
        metrics["judge_entropy"] = _entropy(judge)
        stored = images.astype(np.float64) * MNIST_STD + MNIST_MEAN
        metrics["pixel_mean"] = float(stored.mean())
        metrics["pixel_std"] = float(stored.std())
        metrics["pixel_clipped_fraction"] = float(((stored < 0) | (stored > 1)).mean())
        metrics["pixel_histogram"] = np.histogram(np.clip(stored, 0, 1), bins=50, range=(0, 1))[0].astype(np.int64)
        metrics["latent_spread"] = 1.0 * decay + 0.05 * rng.random()
        metrics["frechet_distance"] = 5.0 + 10.0 * g + rng.random()
        metrics["seconds"] = 1.0 + rng.random()
    return path


def _entropy(histogram):
    shares = histogram[histogram > 0] / histogram.sum()
    return float(-(shares * np.log(shares)).sum())


def _blob_images(rng, count, blur):
    """Return [count, 28, 28] pixel images in [0,1]: one soft stroke each, softer with blur."""
    y, x = np.mgrid[0:28, 0:28]
    images = np.empty((count, 28, 28))
    for i in range(count):
        cx, cy = rng.uniform(9, 19, size=2)
        radius = rng.uniform(4, 8)
        ring = np.abs(np.hypot(x - cx, y - cy) - radius)
        images[i] = np.exp(-(ring / blur) ** 2)
    return images


def write_run(out_dir, datasets=("mnist",), seeds=(1, 2, 3), generations=4, **kwargs):
    """Write a whole ensemble: every (data set, seed) pair with generations 0..generations-1.

    `generations` may be a dict {(dataset, seed): count} to give members different lengths.
    Returns {member name: [paths]}.
    """
    written = {}
    for dataset in datasets:
        for seed in seeds:
            count = generations.get((dataset, seed), 0) if isinstance(generations, dict) else generations
            config = config_text(dataset, seeds, count)
            written[f"{dataset}-s{seed}"] = [
                write_checkpoint(out_dir, dataset, seed, g, config=config, **kwargs) for g in range(count)]
    return written
