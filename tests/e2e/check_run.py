#!/usr/bin/env python3
"""Check the output of a finished run of one member: files, shapes, finite values, accuracy.

Usage: check_run.py MEMBER_DIR GENERATIONS SAMPLES MIN_TEST_ACCURACY
"""
import pathlib
import sys

import h5py
import numpy as np


def fail(message):
    print(f"check_run: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    member = pathlib.Path(sys.argv[1])
    generations, samples = int(sys.argv[2]), int(sys.argv[3])
    min_accuracy = float(sys.argv[4])
    leftovers = list(member.glob("*.tmp")) + list(member.glob("progress.h5"))
    if leftovers:
        fail(f"temporary or in-progress files left behind: {leftovers}")
    files = sorted(member.glob("gen-*.h5"))
    if [p.name for p in files] != [f"gen-{g:03d}.h5" for g in range(generations)]:
        fail(f"expected gen-000 .. gen-{generations - 1:03d}, found {[p.name for p in files]}")
    for g, path in enumerate(files):
        with h5py.File(path, "r") as f:
            if f.attrs["format"] != "collapse-checkpoint" or int(f.attrs["generation"]) != g:
                fail(f"{path}: wrong format or generation attribute")
            n_classes = int(f.attrs["n_classes"])
            images, labels = f["generated/images"], f["generated/labels"][()]
            if images.shape != (samples, 28, 28) or labels.shape != (samples,):
                fail(f"{path}: generated shapes {images.shape}, {labels.shape}")
            if not np.isfinite(images[()]).all():
                fail(f"{path}: non-finite generated images")
            if labels.min() < 0 or labels.max() >= n_classes:
                fail(f"{path}: labels outside [0, {n_classes})")
            m = f["metrics"]
            for name in ("eval_accuracy", "eval_loss"):
                if m[name].shape != (g + 1,):
                    fail(f"{path}: {name} has shape {m[name].shape}, expected ({g + 1},)")
            for name, obj in m.items():
                if not np.isfinite(obj[()]).all():
                    fail(f"{path}: metrics/{name} is not finite")
            if int(m["class_histogram"][()].sum()) != samples or int(m["judge_histogram"][()].sum()) != samples:
                fail(f"{path}: histograms do not count {samples} samples")
            if not np.array_equal(np.bincount(labels, minlength=n_classes), m["class_histogram"][()]):
                fail(f"{path}: class_histogram does not match the stored labels")
            if g == 0 and float(m["test_accuracy"][()]) < min_accuracy:
                fail(f"{path}: generation-0 real-test accuracy {float(m['test_accuracy'][()]):.4f} < {min_accuracy}")
            for group in ("vae/params", "classifier/params"):
                for name, tensor in f[group].items():
                    if not np.isfinite(tensor[()]).all():
                        fail(f"{path}: {group}/{name} is not finite")
            print(f"{path.name}: test accuracy {float(m['test_accuracy'][()]):.4f}, "
                  f"eval accuracy {np.round(m['eval_accuracy'][()], 4).tolist()}")
    print("run output is complete and consistent")


if __name__ == "__main__":
    main()
