#!/usr/bin/env python3
"""Compare the checkpoints of runs of the same member.

Usage: compare_checkpoints.py [--params-tolerance T] [--exact] DIR_A DIR_B [DIR_C ...]

Every gen-NNN.h5 in DIR_A must exist in the other folders. With --exact, every data set and
attribute must be identical except wall times (metrics/seconds), the rank count and the
output line of the config attribute; otherwise
model parameters must agree within an absolute tolerance scaled by each tensor's largest
magnitude. Prints the largest differences; exits 1 on any mismatch.
"""
import argparse
import pathlib
import sys

import h5py
import numpy as np

VOLATILE = {"/metrics/seconds"}
VOLATILE_ATTRS = {"n_ranks"}


def without_output(config):
    """The config attribute minus its output line: runs compared here write to different folders."""
    text = config.decode() if isinstance(config, bytes) else str(config)
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("output"))


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__("/" + name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def compare(path_a, path_b, tolerance, exact):
    problems = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        da, db = datasets(a), datasets(b)
        if set(da) != set(db):
            problems.append(f"data sets differ: {sorted(set(da) ^ set(db))}")
        worst = 0.0
        for name in sorted(set(da) & set(db)):
            if name in VOLATILE:
                continue
            x, y = np.asarray(da[name]), np.asarray(db[name])
            if x.shape != y.shape:
                problems.append(f"{name}: shape {x.shape} vs {y.shape}")
                continue
            if exact:
                if not np.array_equal(x, y):
                    problems.append(f"{name}: differs (max |diff| {np.max(np.abs(x.astype(float) - y.astype(float))):.3g})")
            elif "/params/" in name:
                scale = max(float(np.max(np.abs(x))), 1e-12)
                diff = float(np.max(np.abs(x.astype(np.float64) - y))) / scale
                worst = max(worst, diff)
                if diff > tolerance:
                    problems.append(f"{name}: relative difference {diff:.3g} exceeds {tolerance}")
        if exact:
            for key in set(a.attrs) | set(b.attrs):
                if key in VOLATILE_ATTRS:
                    continue
                va, vb = a.attrs.get(key), b.attrs.get(key)
                if key == "config":
                    va, vb = without_output(va), without_output(vb)
                if not np.array_equal(np.asarray(va), np.asarray(vb)):
                    problems.append(f"attribute {key} differs")
        else:
            print(f"{path_a.name}: largest relative parameter difference {worst:.3g} (tolerance {tolerance})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params-tolerance", type=float, default=1e-4)
    parser.add_argument("--exact", action="store_true")
    parser.add_argument("dirs", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    reference = args.dirs[0]
    files = sorted(reference.glob("gen-*.h5"))
    if not files:
        print(f"no checkpoints in {reference}", file=sys.stderr)
        return 1
    failed = False
    for other in args.dirs[1:]:
        for path in files:
            twin = other / path.name
            if not twin.exists():
                print(f"{twin} is missing", file=sys.stderr)
                failed = True
                continue
            problems = compare(path, twin, args.params_tolerance, args.exact)
            for p in problems:
                print(f"{path} vs {twin}: {p}", file=sys.stderr)
            failed |= bool(problems)
    print("checkpoints agree" if not failed else "checkpoints differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
