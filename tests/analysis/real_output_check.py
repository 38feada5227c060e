#!/usr/bin/env python3
"""Check collapse-report on real output of `collapse run`.

The output folder comes from --input DIR or the environment variable
COLLAPSE_ANALYSIS_INPUT, which the end-to-end test fixture that runs the program sets.
The check runs collapse-report on it and compares the report's numbers with values
computed here directly from the checkpoints. It also checks each checkpoint's entropies,
histograms and pixel statistics against its stored images and labels, and opens every
figure as an image.

    real_output_check.py [--input DIR] [--report-dir DIR] [unittest options]
"""

import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

import h5py
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "analysis", "collapse-report")
CHECKPOINT = re.compile(r"^gen-(\d+)\.h5$")

INPUT = None
REPORT_DIR = None


def t_quantile_975(df):
    """0.975 quantile of Student's t, by bisection on the density integrated with Simpson's
    rule: independent of the implementation under test."""
    def density(x):
        return math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)

    def central(t, steps=4000):
        h = t / steps
        total = density(0) + density(t) + sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
        return 2 * total * h / 3

    low, high = 0.0, 100.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if central(middle) < 0.95 else (low, middle)
    return (low + high) / 2


def complete_generations(member_dir):
    """Paths of gen-000.h5, gen-001.h5, ... up to the first gap."""
    found = {int(m.group(1)): os.path.join(member_dir, name)
             for name in os.listdir(member_dir) for m in [CHECKPOINT.match(name)] if m}
    paths = []
    while len(paths) in found:
        paths.append(found[len(paths)])
    return paths


def attribute_text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class RealOutputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.members = {}  # dataset -> {member: [paths]}
        for entry in sorted(os.listdir(INPUT)):
            member_dir = os.path.join(INPUT, entry)
            if not os.path.isdir(member_dir):
                continue
            paths = complete_generations(member_dir)
            if paths:
                with h5py.File(paths[0], "r") as handle:
                    dataset = attribute_text(handle.attrs["dataset"])
                cls.members.setdefault(dataset, {})[entry] = paths

        cls.own_report_dir = REPORT_DIR is None
        cls.report_dir = REPORT_DIR or tempfile.mkdtemp(prefix="collapse-report-")
        cls.result = subprocess.run([sys.executable, SCRIPT, INPUT, "--report-dir", cls.report_dir],
                                    capture_output=True, text=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        if cls.own_report_dir:
            shutil.rmtree(cls.report_dir, ignore_errors=True)

    def setUp(self):
        self.assertTrue(self.members, f"{INPUT} holds no member folder with gen-000.h5")

    def metric(self, path, name):
        with h5py.File(path, "r") as handle:
            return np.asarray(handle["metrics"][name][()])

    def test_report_succeeds(self):
        self.assertEqual(self.result.returncode, 0, f"collapse-report failed:\n{self.result.stderr}")
        self.assertNotIn("warning", self.result.stderr.lower(), self.result.stderr)

    def test_series_match_checkpoints(self):
        for dataset, members in self.members.items():
            rows = read_csv(os.path.join(self.report_dir, f"series_{dataset}.csv"))
            n_generations = max(len(paths) for paths in members.values())
            self.assertEqual(len(rows), n_generations)
            for g, row in enumerate(rows):
                have = [paths[g] for paths in members.values() if len(paths) > g]
                self.assertEqual(int(row["n_seeds"]), len(have))
                for name in ("test_accuracy", "test_loss", "class_entropy", "judge_entropy", "pixel_mean",
                             "pixel_std", "latent_spread", "frechet_distance"):
                    values = np.array([float(self.metric(path, name)) for path in have])
                    with self.subTest(dataset=dataset, generation=g, series=name):
                        self.assertAlmostEqual(float(row[f"{name}_mean"]), values.mean(),
                                               delta=1e-8 * max(1.0, abs(values.mean())))
                        if len(values) > 1:
                            std = values.std(ddof=1)
                            half = t_quantile_975(len(values) - 1) * std / math.sqrt(len(values))
                            tolerance = 1e-6 * max(1.0, abs(values.mean()))
                            self.assertAlmostEqual(float(row[f"{name}_std"]), std, delta=tolerance)
                            self.assertAlmostEqual(float(row[f"{name}_ci95_low"]), values.mean() - half, delta=tolerance)
                            self.assertAlmostEqual(float(row[f"{name}_ci95_high"]), values.mean() + half, delta=tolerance)
                        else:
                            self.assertEqual(row[f"{name}_std"], "")
                losses = [float(self.metric(path, "vae_loss")[-1]) for path in have]
                self.assertAlmostEqual(float(row["vae_loss_final_mean"]), np.mean(losses),
                                       delta=1e-8 * max(1.0, abs(np.mean(losses))))

    def test_judge_shares_match_checkpoints(self):
        for dataset, members in self.members.items():
            rows = read_csv(os.path.join(self.report_dir, f"series_{dataset}.csv"))
            with h5py.File(next(iter(members.values()))[0], "r") as handle:
                class_names = [attribute_text(name) for name in handle.attrs["class_names"]]
            for g, row in enumerate(rows):
                histograms = np.array([self.metric(paths[g], "judge_histogram")
                                       for paths in members.values() if len(paths) > g], dtype=float)
                shares = (histograms / histograms.sum(axis=1, keepdims=True)).mean(axis=0)
                self.assertEqual(row["judge_top_class"], class_names[int(np.argmax(shares))])
                for c, name in enumerate(class_names):
                    column = "judge_share_" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "class") + "_mean"
                    self.assertAlmostEqual(float(row[column]), shares[c], places=10)

    def test_matrices_match_checkpoints(self):
        with h5py.File(os.path.join(self.report_dir, "summary.h5"), "r") as summary:
            for dataset, members in self.members.items():
                group = summary[f"groups/{dataset}"]
                self.assertEqual(sorted(attribute_text(m) for m in group.attrs["members"]), sorted(members))
                n_generations = max(len(paths) for paths in members.values())
                for kind in ("accuracy", "loss"):
                    expected = np.full((len(members), n_generations, n_generations), np.nan)
                    for m, paths in enumerate(members.values()):
                        for c, path in enumerate(paths):
                            column = self.metric(path, f"eval_{kind}")
                            self.assertEqual(column.shape, (c + 1,), path)
                            expected[m, : c + 1, c] = column
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # lower triangle: all NaN
                        expected_mean = np.nanmean(expected, axis=0)
                    np.testing.assert_allclose(group[f"matrices/{kind}/mean"][()], expected_mean, rtol=1e-12,
                                               err_msg=f"{dataset} {kind} matrix")
                    for c in range(1, n_generations):
                        self.assertAlmostEqual(group[f"matrices/{kind}/offdiag_column_mean"][c],
                                               expected_mean[:c, c].mean(), places=10)

    def test_checkpoints_consistent(self):
        for dataset, members in self.members.items():
            for member, paths in members.items():
                for path in paths:
                    with self.subTest(path=path), h5py.File(path, "r") as handle:
                        self.check_checkpoint(handle, path)

    def check_checkpoint(self, handle, path):
        metrics = handle["metrics"]
        labels = handle["generated/labels"][()]
        images = handle["generated/images"][()]
        n_classes = int(handle.attrs["n_classes"])
        self.assertEqual(images.shape, (labels.shape[0], 28, 28))
        np.testing.assert_array_equal(metrics["class_histogram"][()], np.bincount(labels, minlength=n_classes),
                                      err_msg=f"{path}: class_histogram against /generated/labels")
        self.assertEqual(int(metrics["judge_histogram"][()].sum()), labels.shape[0])
        for name in ("class", "judge"):
            histogram = metrics[f"{name}_histogram"][()]
            shares = histogram[histogram > 0] / histogram.sum()
            self.assertAlmostEqual(float(metrics[f"{name}_entropy"][()]), float(-(shares * np.log(shares)).sum()),
                                   places=6, msg=f"{path}: {name}_entropy against its histogram")
        for name in ("test_accuracy", "eval_accuracy"):
            values = np.atleast_1d(metrics[name][()])
            self.assertTrue(((values >= 0) & (values <= 1)).all(), f"{path}: {name} outside [0, 1]")

        pixels = images.astype(np.float64) * float(handle.attrs["data_std"]) + float(handle.attrs["data_mean"])
        self.assertAlmostEqual(float(metrics["pixel_mean"][()]), pixels.mean(), delta=1e-4)
        self.assertAlmostEqual(float(metrics["pixel_std"][()]), pixels.std(), delta=1e-3 * max(1.0, pixels.std()))
        clipped = float(((pixels < 0) | (pixels > 1)).mean())
        self.assertAlmostEqual(float(metrics["pixel_clipped_fraction"][()]), clipped, delta=1e-3)
        histogram = metrics["pixel_histogram"][()]
        expected = np.histogram(np.clip(pixels, 0, 1), bins=histogram.shape[0], range=(0, 1))[0]
        self.assertEqual(int(histogram.sum()), pixels.size)
        # Pixels on a bin edge may land on either side in float32 and float64 arithmetic.
        self.assertLessEqual(int(np.abs(histogram - expected).sum()), max(2, pixels.size // 1000))

    def test_figures_are_images(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        figures = [os.path.join(self.report_dir, f"{name}.png")
                   for name in ("overview", "test_accuracy", "class_entropy", "pixel_mean", "frechet_distance")]
        for dataset, members in self.members.items():
            figures += [os.path.join(self.report_dir, f"{prefix}_{dataset}.png")
                        for prefix in ("accuracy_matrix", "loss_matrix", "class_shares", "pixel_histogram", "samples")]
            first = sorted(members, key=lambda name: (int(name.rsplit("-s", 1)[1]), name))[0]
            figures += [os.path.join(self.report_dir, "samples", dataset, f"gen-{g:03d}.png")
                        for g in range(len(members[first]))]
            gif = os.path.join(self.report_dir, f"samples_{dataset}.gif")
            with Image.open(gif) as image:
                self.assertEqual(image.format, "GIF")
                self.assertEqual(image.n_frames, len(members[first]))
        for path in figures:
            with self.subTest(figure=os.path.basename(path)):
                self.assertTrue(os.path.isfile(path), f"{path} was not written")
                self.assertGreater(os.path.getsize(path), 0)
                with Image.open(path) as image:
                    self.assertEqual(image.format, "PNG")
                    self.assertGreater(image.width * image.height, 0)
                    image.verify()

    def test_report_links_exist(self):
        with open(os.path.join(self.report_dir, "report.md"), encoding="utf-8") as handle:
            text = handle.read()
        for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            self.assertTrue(os.path.isfile(os.path.join(self.report_dir, link)), link)


def main():
    global INPUT, REPORT_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="output folder of 'collapse run' (default: $COLLAPSE_ANALYSIS_INPUT)")
    parser.add_argument("--report-dir", help="keep the report here instead of a temporary folder")
    arguments, rest = parser.parse_known_args()
    INPUT = arguments.input or os.environ.get("COLLAPSE_ANALYSIS_INPUT")
    REPORT_DIR = arguments.report_dir
    if not INPUT:
        print("real_output_check: error: no input; set COLLAPSE_ANALYSIS_INPUT or pass --input to the output "
              "folder of a small 'collapse run' (for example one of config/ensemble-smoke.cfg)", file=sys.stderr)
        return 2
    if not os.path.isdir(INPUT):
        print(f"real_output_check: error: input folder {INPUT} does not exist; run the end-to-end "
              "ensemble test that writes it first", file=sys.stderr)
        return 2
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
