#!/usr/bin/env python3
"""PyTorch twin of collapse's models, for timing and accuracy comparisons.

The models, loss functions, optimizer and batching mirror collapse's C implementation:

  VAE        encoder 784-128-128 (ReLU), heads 128->20 for mu and logvar, logvar clamped to
             [-30, 20], z = mu + eps * exp(0.5 * logvar), decoder 20-128-128-784 (ReLU,
             linear output); loss per batch = sum of squared errors over batch and pixels
             plus KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).
  MLP        784-256-256-C with ReLU, cross-entropy averaged over the batch.
  CNN        three 3x3 convolutions (32, 64, 128 channels, padding 1), each followed by ReLU
             and 2x2 max pooling (28 -> 14 -> 7 -> 3), then dense 1152-256-128-C with ReLU.

Adam (betas 0.9/0.999, eps 1e-8), batch 128 with the last partial batch kept, a fresh
shuffle every epoch, PyTorch's default initialization. Images are normalized as
x = (byte / 255 - mean) / std, with MNIST's mean 0.1307 and std 0.3081 by default.
The EMNIST variant is --hidden 256,128,64 --latent 50 --lr 5e-4 for the VAE and --model cnn.

The whole data set is held in memory as tensors and batches are gathered by index, so the
epoch time measures the models and the optimizer, not a DataLoader.

Run with an interpreter that has torch, e.g. Debian's /usr/bin/python3 with python3-torch:
    /usr/bin/python3 bench/torch_reference.py --model vae --epochs 3
    /usr/bin/python3 bench/torch_reference.py --collapse-check
"""

import argparse
import ctypes
import gzip
import json
import math
import os
import statistics
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "mnist"

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0
EVAL_BATCH = 1000


class DataError(Exception):
    """An input file that is missing, unreadable or not the expected IDX content."""


# ---------------------------------------------------------------- data

def read_idx(path, expected_magic):
    """Read an IDX file of unsigned bytes (raw or gzip, detected by content) into an array.

    Checks the magic number and that the payload size matches the header's dimensions.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path}: {e}") from e

    if len(raw) < 4:
        raise DataError(f"{path}: file too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expected_magic:
        raise DataError(f"{path}: invalid IDX magic number 0x{magic:08x}, "
                        f"expected 0x{expected_magic:08x}")
    n_dims = magic & 0xFF
    header_bytes = 4 + 4 * n_dims
    if len(raw) < header_bytes:
        raise DataError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims)]
    payload = len(raw) - header_bytes
    if payload != math.prod(dims):
        raise DataError(f"{path}: payload is {payload} bytes but the header's dimensions "
                        f"{dims} need {math.prod(dims)}")
    if dims[0] == 0:
        raise DataError(f"{path}: the file contains no items")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes).reshape(dims)


def find_idx_file(folder, prefix, stem):
    """Return folder/prefix+stem, with or without .gz, whichever exists."""
    for name in (prefix + stem, prefix + stem + ".gz"):
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    raise DataError(f"{Path(folder) / (prefix + stem)}[.gz] not found; pass --data with the "
                    f"folder holding the IDX files, "
                    f"or name the files with --train-images and the like")


def load_split(images_path, labels_path):
    """Load one images/labels pair and check that the counts agree and images are 28x28."""
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
                        f"the models need 28x28")
    if labels.shape[0] != images.shape[0]:
        raise DataError(f"{labels_path}: {labels.shape[0]} labels for "
                        f"{images.shape[0]} images in {images_path}")
    return images, labels


def resolve_data_files(args):
    """Return the four IDX paths: explicit options first, else found in --data."""
    stems = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }
    paths = {}
    for key, stem in stems.items():
        explicit = getattr(args, key)
        if explicit:
            paths[key] = Path(explicit)
        else:
            paths[key] = find_idx_file(args.data, args.prefix, stem)
    return paths


def normalize(images, mean, std):
    """Convert [n, 28, 28] bytes to [n, 784] float32 tensors as (byte / 255 - mean) / std."""
    x = torch.from_numpy(images.reshape(images.shape[0], -1).astype(np.float32))
    return x.div_(255.0).sub_(mean).div_(std)


# ---------------------------------------------------------------- models

def mlp_stack(sizes):
    """Dense layers between consecutive sizes, ReLU after each."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Dense VAE: encoder over `hidden`, mu and logvar heads, decoder over reversed `hidden`."""

    def __init__(self, n_pixels, hidden, latent):
        super().__init__()
        self.encoder = mlp_stack([n_pixels] + hidden)
        self.mu = nn.Linear(hidden[-1], latent)
        self.logvar = nn.Linear(hidden[-1], latent)
        self.decoder = nn.Sequential(mlp_stack([latent] + hidden[::-1]),
                                     nn.Linear(hidden[0], n_pixels))

    def forward(self, x, eps):
        h = self.encoder(x)
        mu = self.mu(h)
        logvar = torch.clamp(self.logvar(h), LOGVAR_MIN, LOGVAR_MAX)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def vae_loss(xhat, x, mu, logvar):
    """Sum of squared errors over batch and pixels plus the Gaussian KL summed over the batch."""
    sse = (xhat - x).pow(2).sum()
    kl = -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp())
    return sse + kl


class MLP(nn.Module):
    """Dense classifier 784-256-256-C."""

    def __init__(self, n_pixels, n_classes):
        super().__init__()
        self.body = nn.Sequential(mlp_stack([n_pixels, 256, 256]), nn.Linear(256, n_classes))

    def forward(self, x):
        return self.body(x)


class CNN(nn.Module):
    """Three conv-ReLU-maxpool blocks (32, 64, 128 channels), then dense 1152-256-128-C."""

    def __init__(self, n_classes):
        super().__init__()
        blocks = []
        for c_in, c_out in ((1, 32), (32, 64), (64, 128)):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(mlp_stack([128 * 3 * 3, 256, 128]), nn.Linear(128, n_classes))

    def forward(self, x):
        h = self.features(x.view(-1, 1, 28, 28))
        return self.head(h.flatten(1))


# ---------------------------------------------------------------- training

def train_epoch(kind, model, optimizer, x, y, batch, generator):
    """Train one epoch over a fresh shuffle and return the mean loss per sample."""
    n = x.shape[0]
    order = torch.randperm(n, generator=generator)
    total = 0.0
    model.train()
    for start in range(0, n, batch):
        index = order[start:start + batch]
        xb = x.index_select(0, index)
        optimizer.zero_grad(set_to_none=True)
        if kind == "vae":
            eps = torch.randn(xb.shape[0], model.mu.out_features, generator=generator)
            xhat, mu, logvar = model(xb, eps)
            loss = vae_loss(xhat, xb, mu, logvar)
            total += loss.item()
        else:
            loss = F.cross_entropy(model(xb), y.index_select(0, index))
            total += loss.item() * xb.shape[0]
        loss.backward()
        optimizer.step()
    return total / n


@torch.no_grad()
def evaluate_accuracy(model, x, y):
    """Fraction of test images whose arg-max class equals the label."""
    model.eval()
    correct = 0
    for start in range(0, x.shape[0], EVAL_BATCH):
        logits = model(x[start:start + EVAL_BATCH])
        correct += (logits.argmax(1) == y[start:start + EVAL_BATCH]).sum().item()
    return correct / x.shape[0]


def build_model(kind, args, n_classes):
    if kind == "vae":
        return VAE(784, args.hidden, args.latent)
    if kind == "mlp":
        return MLP(784, n_classes)
    return CNN(n_classes)


def run_model(kind, args, data, log):
    """Train one model for args.epochs epochs, log one line per epoch and return a summary."""
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = build_model(kind, args, data["n_classes"])
    lr = args.lr if args.lr is not None else 1e-3
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)

    epochs = []
    for epoch in range(1, args.epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = train_epoch(kind, model, optimizer, data["x_train"], data["y_train"],
                           args.batch, generator)
        seconds = time.perf_counter() - start
        # CPU time well below wall time with one thread means other processes took the core.
        cpu_seconds = time.process_time() - cpu_start
        epochs.append({"epoch": epoch, "seconds": seconds, "cpu_seconds": cpu_seconds,
                       "loss": loss})
        log(f"model {kind} epoch {epoch} seconds {seconds:.4f} cpu_seconds {cpu_seconds:.4f} "
            f"loss {loss:.6f}")

    summary = {"model": kind, "lr": lr, "epochs": epochs, "final_loss": epochs[-1]["loss"]}
    # The first epoch pays for allocator growth and lazy initialization, so the median leaves it out.
    timed = [e["seconds"] for e in epochs[1:]] or [epochs[0]["seconds"]]
    summary["median_seconds"] = statistics.median(timed)
    summary["median_excludes_first"] = len(epochs) > 1
    log(f"model {kind} median_seconds {summary['median_seconds']:.4f} "
        f"over {len(timed)} epochs{' after the first' if len(epochs) > 1 else ''}")
    if kind == "vae":
        log(f"model vae final_loss {summary['final_loss']:.4f}")
    else:
        summary["test_accuracy"] = evaluate_accuracy(model, data["x_test"], data["y_test"])
        log(f"model {kind} test_accuracy {summary['test_accuracy']:.4f}")
    return summary


# ---------------------------------------------------------------- threads

def set_openblas_threads(n_threads):
    """Set the thread count of every OpenBLAS library loaded in this process.

    torch.set_num_threads covers OpenMP and MKL but not OpenBLAS, which Debian's PyTorch calls
    for dense products and which otherwise runs one thread per core. Returns the libraries'
    paths with the thread count each reports afterwards.
    """
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and "openblas" in os.path.basename(fields[5]).lower():
                    paths.add(fields[5])
    except OSError:
        return {}
    threads = {}
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
            library.openblas_set_num_threads(ctypes.c_int(n_threads))
            threads[path] = library.openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
    return threads


# ---------------------------------------------------------------- command line

def parse_hidden(text):
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid hidden list {text!r}: expected "
                                         f"comma-separated integers such as 128,128")
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"invalid hidden list {text!r}: sizes must be positive")
    return sizes


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}")
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text} is not a positive finite number")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train collapse's models in PyTorch and report seconds and loss per epoch.")
    p.add_argument("--model", choices=("vae", "mlp", "cnn"), default="vae",
                   help="model to train (default vae)")
    p.add_argument("--epochs", type=positive_int, default=3, help="epochs to train (default 3)")
    p.add_argument("--batch", type=positive_int, default=128, help="batch size (default 128)")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="Adam learning rate (default 1e-3; the EMNIST VAE uses 5e-4)")
    p.add_argument("--hidden", type=parse_hidden, default=[128, 128],
                   help="VAE hidden sizes, encoder order, comma-separated (default 128,128)")
    p.add_argument("--latent", type=positive_int, default=20, help="VAE latent size (default 20)")

    p.add_argument("--classes", type=positive_int, default=None,
                   help="classifier outputs (default: largest label + 1)")
    p.add_argument("--seed", type=int, default=1, help="seed for init, shuffles and noise (default 1)")

    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch.set_num_threads value (default 1)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                   help=f"folder with the four IDX files, raw or .gz (default {DEFAULT_DATA_DIR})")
    p.add_argument("--prefix", default="",
                   help="file name prefix inside --data, e.g. 'emnist-balanced-'")
    p.add_argument("--train-images", help="training images IDX file (overrides --data)")
    p.add_argument("--train-labels", help="training labels IDX file (overrides --data)")
    p.add_argument("--test-images", help="test images IDX file (overrides --data)")
    p.add_argument("--test-labels", help="test labels IDX file (overrides --data)")

    p.add_argument("--mean", type=float, default=0.1307, help="pixel mean in [0,1] units (default 0.1307)")
    p.add_argument("--std", type=positive_float, default=0.3081,
                   help="pixel standard deviation in [0,1] units (default 0.3081)")
    p.add_argument("--transpose", action="store_true",
                   help="transpose each image on load (EMNIST files store images transposed)")
    p.add_argument("--stats-from-data", action="store_true",
                   help="use the training images' own mean and std instead of --mean/--std")

    p.add_argument("--collapse-check", action="store_true",
                   help="train 5 VAE and 5 MLP epochs on the full training set and print the "
                        "real-test accuracy and the final VAE loss per sample (ignores --model "
                        "and --epochs)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document on stdout; per-epoch lines go to stderr")
    return p.parse_args(argv)


def load_data(args):
    paths = resolve_data_files(args)
    train_images, train_labels = load_split(paths["train_images"], paths["train_labels"])
    test_images, test_labels = load_split(paths["test_images"], paths["test_labels"])
    if args.transpose:
        train_images = np.ascontiguousarray(train_images.transpose(0, 2, 1))
        test_images = np.ascontiguousarray(test_images.transpose(0, 2, 1))

    mean, std = args.mean, args.std
    if args.stats_from_data:
        pixels = train_images.astype(np.float64) / 255.0
        mean, std = float(pixels.mean()), float(pixels.std())

    largest_label = int(max(train_labels.max(), test_labels.max()))
    n_classes = args.classes if args.classes is not None else largest_label + 1
    if largest_label >= n_classes:
        raise DataError(f"label {largest_label} found but --classes is {n_classes}: "
                        f"raise --classes or leave it out")

    return {
        "paths": {k: str(v) for k, v in paths.items()},
        "x_train": normalize(train_images, mean, std),
        "y_train": torch.from_numpy(train_labels.astype(np.int64)),
        "x_test": normalize(test_images, mean, std),
        "y_test": torch.from_numpy(test_labels.astype(np.int64)),
        "n_classes": n_classes,
        "mean": mean,
        "std": std,
    }


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    openblas_threads = set_openblas_threads(args.threads)

    try:
        data = load_data(args)
    except DataError as e:
        print(f"torch_reference: error: {e}", file=sys.stderr)
        return 1

    out = sys.stderr if args.json else sys.stdout

    def log(line):
        print(line, file=out, flush=True)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{data['x_train'].shape[0]} training and {data['x_test'].shape[0]} test images, "
          f"{data['n_classes']} classes, mean {data['mean']:.4f} std {data['std']:.4f}, "
          f"batch {args.batch}, seed {args.seed}", file=sys.stderr, flush=True)
    if openblas_threads:
        for path, count in openblas_threads.items():
            print(f"OpenBLAS {path}: {count} thread(s)", file=sys.stderr, flush=True)
    else:
        # NOTE: a BLAS other than OpenBLAS and MKL (which torch.set_num_threads covers) may
        # run more threads than --threads requests.
        print("no OpenBLAS library loaded: its thread count is not set", file=sys.stderr, flush=True)

    result = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblas_threads": openblas_threads,
        "batch": args.batch,
        "seed": args.seed,
        "n_train": data["x_train"].shape[0],
        "n_test": data["x_test"].shape[0],
        "n_classes": data["n_classes"],
        "data": data["paths"],
    }
    if args.collapse_check:
        args.epochs = 5
        vae = run_model("vae", args, data, log)
        mlp = run_model("mlp", args, data, log)
        result.update(check={"vae": vae, "mlp": mlp},
                      real_test_accuracy=mlp["test_accuracy"], vae_loss=vae["final_loss"])
        log(f"collapse-check generation 0 real-test accuracy {100 * mlp['test_accuracy']:.2f}% "
            f"({data['x_test'].shape[0]} test images), final VAE loss per sample "
            f"{vae['final_loss']:.2f}")
    else:
        result.update(run_model(args.model, args, data, log))

    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
