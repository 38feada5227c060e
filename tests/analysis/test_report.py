"""Tests of the collapse-report command on small synthetic runs: exit codes, messages,
and the CSV, HDF5, image and Markdown files it writes."""

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np
from PIL import Image

import synthetic

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis", "collapse-report")


def run_report(*arguments, env=None):
    return subprocess.run([sys.executable, SCRIPT, *arguments], capture_output=True, text=True,
                          env=env, timeout=300)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def metric(path, name):
    with h5py.File(path, "r") as handle:
        return np.asarray(handle["metrics"][name][()])


class ReportTestCase(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="collapse-analysis-")
        self.addCleanup(shutil.rmtree, self.out)
        self.report = os.path.join(self.out, "report")

    def assert_image(self, path, image_format):
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        with Image.open(path) as image:
            self.assertEqual(image.format, image_format, path)
            self.assertGreater(image.width, 0)
            self.assertGreater(image.height, 0)
            image.verify()

    def assert_success(self, result):
        self.assertEqual(result.returncode, 0, f"collapse-report failed:\n{result.stderr}")


class FullReportTest(ReportTestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared_out = tempfile.mkdtemp(prefix="collapse-analysis-")
        cls.paths = synthetic.write_run(cls.shared_out, datasets=("mnist", "fashion-mnist"),
                                        seeds=(1, 2, 3), generations=5)
        cls.result = run_report(cls.shared_out)
        cls.report_dir = os.path.join(cls.shared_out, "report")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared_out)

    def test_exit_status(self):
        self.assert_success(self.result)
        self.assertIn("wrote", self.result.stderr)

    def test_figures_are_images(self):
        self.assert_success(self.result)
        for name in ("overview", "test_accuracy", "class_entropy", "pixel_mean", "frechet_distance"):
            self.assert_image(os.path.join(self.report_dir, f"{name}.png"), "PNG")
        for group in ("mnist", "fashion-mnist"):
            for prefix in ("accuracy_matrix", "loss_matrix", "class_shares", "pixel_histogram", "samples"):
                self.assert_image(os.path.join(self.report_dir, f"{prefix}_{group}.png"), "PNG")
            for g in range(5):
                self.assert_image(os.path.join(self.report_dir, "samples", group, f"gen-{g:03d}.png"), "PNG")
            gif = os.path.join(self.report_dir, f"samples_{group}.gif")
            self.assert_image(gif, "GIF")
            with Image.open(gif) as image:
                self.assertEqual(image.n_frames, 5)

    def test_sample_grid_shows_first_images(self):
        # 64 images in an 8x8 grid of 28-pixel tiles with 2-pixel gaps, upscaled twice.
        with Image.open(os.path.join(self.report_dir, "samples", "mnist", "gen-002.png")) as image:
            self.assertEqual(image.width, 2 * (8 * 28 + 7 * 2))
            pixels = np.asarray(image.convert("L"), dtype=float) / 255
        band = pixels.shape[0] - 2 * (8 * 28 + 7 * 2)
        with h5py.File(self.paths["mnist-s1"][2], "r") as handle:
            first = np.clip(handle["generated/images"][0] * synthetic.MNIST_STD + synthetic.MNIST_MEAN, 0, 1)
        np.testing.assert_allclose(pixels[band:band + 56:2, 0:56:2], first, atol=1 / 255 + 1e-6)

    def test_csv_matches_checkpoints(self):
        rows = read_csv(os.path.join(self.report_dir, "series_mnist.csv"))
        self.assertEqual(len(rows), 5)
        members = ("mnist-s1", "mnist-s2", "mnist-s3")
        for g, row in enumerate(rows):
            self.assertEqual(int(row["generation"]), g)
            self.assertEqual(int(row["n_seeds"]), 3)
            for name in ("test_accuracy", "judge_entropy", "pixel_std", "frechet_distance"):
                values = np.array([metric(self.paths[m][g], name) for m in members])
                self.assertAlmostEqual(float(row[f"{name}_mean"]), values.mean(), places=8)
                self.assertAlmostEqual(float(row[f"{name}_std"]), values.std(ddof=1), places=8)
                half = 4.302652729749752 * values.std(ddof=1) / np.sqrt(3)
                self.assertAlmostEqual(float(row[f"{name}_ci95_high"]), values.mean() + half, places=7)
            losses = [metric(self.paths[m][g], "vae_loss")[-1] for m in members]
            self.assertAlmostEqual(float(row["vae_loss_final_mean"]), np.mean(losses), places=8)
            shares = [metric(self.paths[m][g], "judge_histogram") for m in members]
            shares = [h[8] / h.sum() for h in shares]
            self.assertAlmostEqual(float(row["judge_share_8_mean"]), np.mean(shares), places=8)
        self.assertEqual(rows[0]["eval_accuracy_offdiag_mean"], "")

    def test_summary_h5(self):
        with h5py.File(os.path.join(self.report_dir, "summary.h5"), "r") as handle:
            self.assertEqual(handle.attrs["format"], "collapse-analysis-summary")
            self.assertEqual(sorted(handle.attrs["groups"]), ["fashion-mnist", "mnist"])
            group = handle["groups/mnist"]
            self.assertEqual(list(group.attrs["members"]), ["mnist-s1", "mnist-s2", "mnist-s3"])
            np.testing.assert_array_equal(group["n_seeds"][()], [3] * 5)
            accuracy = group["matrices/accuracy/mean"][()]
            expected = np.mean([metric(self.paths[m][4], "eval_accuracy") for m in ("mnist-s1", "mnist-s2", "mnist-s3")],
                               axis=0)
            np.testing.assert_allclose(accuracy[:, 4], expected)
            np.testing.assert_allclose(group["matrices/accuracy/offdiag_column_mean"][4], expected[:4].mean())
            self.assertIn("diagonal", group["matrices/accuracy"].attrs["description"])
            self.assertIn("description", group["series/test_accuracy"].attrs)

    def test_report_links_existing_files(self):
        with open(os.path.join(self.report_dir, "report.md"), encoding="utf-8") as handle:
            text = handle.read()
        links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        self.assertGreaterEqual(len(links), 5 + 2 * 6)
        for link in links:
            self.assertTrue(os.path.isfile(os.path.join(self.report_dir, link)), link)
        self.assertIn("| real-test accuracy |", text)
        self.assertIn("judge share of class", text)


class RobustnessTest(ReportTestCase):
    def test_no_checkpoints_fails(self):
        result = run_report(self.out)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no checkpoints found", result.stderr)
        self.assertFalse(os.path.exists(self.report))

    def test_missing_folder_fails(self):
        result = run_report(os.path.join(self.out, "absent"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not a folder", result.stderr)

    def test_corrupt_checkpoint_warns_and_continues(self):
        paths = synthetic.write_run(self.out, seeds=(1, 2), generations=4)
        broken = paths["mnist-s2"][2]
        with open(broken, "r+b") as handle:
            handle.truncate(1000)
        result = run_report(self.out)
        self.assert_success(result)
        self.assertIn(broken, result.stderr)
        rows = read_csv(os.path.join(self.report, "series_mnist.csv"))
        self.assertEqual([int(row["n_seeds"]) for row in rows], [2, 2, 1, 1])
        with open(os.path.join(self.report, "report.md"), encoding="utf-8") as handle:
            text = handle.read()
        self.assertIn("## Warnings", text)
        self.assertIn(broken, text)

    def test_unwritable_report_folder_fails(self):
        synthetic.write_run(self.out, seeds=(1,), generations=1)
        blocker = os.path.join(self.out, "file")
        open(blocker, "w").close()
        result = run_report(self.out, "--report-dir", os.path.join(blocker, "report"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("failed to write the report", result.stderr)

    def test_single_seed_has_no_interval(self):
        synthetic.write_run(self.out, seeds=(4,), generations=3)
        result = run_report(self.out, "--report-dir", os.path.join(self.out, "elsewhere"))
        self.assert_success(result)
        rows = read_csv(os.path.join(self.out, "elsewhere", "series_mnist.csv"))
        self.assertEqual(rows[1]["test_accuracy_std"], "")
        self.assertEqual(rows[1]["test_accuracy_ci95_low"], "")
        self.assertNotEqual(rows[1]["test_accuracy_mean"], "")
        with open(os.path.join(self.out, "elsewhere", "report.md"), encoding="utf-8") as handle:
            self.assertIn("no interval", handle.read())

    def test_single_generation(self):
        synthetic.write_run(self.out, seeds=(1, 2), generations=1)
        result = run_report(self.out)
        self.assert_success(result)
        self.assert_image(os.path.join(self.report, "class_shares_mnist.png"), "PNG")
        self.assert_image(os.path.join(self.report, "accuracy_matrix_mnist.png"), "PNG")

    def test_many_classes(self):
        for seed in (1, 2):
            for g in range(3):
                synthetic.write_checkpoint(self.out, "emnist", seed, g, n_classes=47)
        result = run_report(self.out, "--samples", "16")
        self.assert_success(result)
        self.assert_image(os.path.join(self.report, "class_shares_emnist.png"), "PNG")
        with Image.open(os.path.join(self.report, "samples", "emnist", "gen-000.png")) as image:
            self.assertEqual(image.width, 2 * (4 * 28 + 3 * 2))
        header = read_csv(os.path.join(self.report, "series_emnist.csv"))[0].keys()
        self.assertIn("judge_share_46_mean", header)

    def test_negative_samples_rejected(self):
        synthetic.write_run(self.out, seeds=(1,), generations=1)
        result = run_report(self.out, "--samples", "-1")
        self.assertEqual(result.returncode, 2)
        self.assertIn("invalid --samples -1", result.stderr)

    def test_no_samples_option(self):
        synthetic.write_run(self.out, seeds=(1,), generations=2)
        result = run_report(self.out, "--samples", "0")
        self.assert_success(result)
        self.assertFalse(os.path.exists(os.path.join(self.report, "samples_mnist.gif")))

    def test_missing_package_named(self):
        fake = os.path.join(self.out, "fake")
        os.makedirs(os.path.join(fake, "h5py"))
        with open(os.path.join(fake, "h5py", "__init__.py"), "w") as handle:
            handle.write("raise ImportError('No module named h5py')\n")
        env = dict(os.environ, PYTHONPATH=fake + os.pathsep + os.environ.get("PYTHONPATH", ""))
        result = run_report(self.out, env=env)
        self.assertEqual(result.returncode, 1)
        self.assertIn("'h5py'", result.stderr)
        self.assertIn("python3-h5py", result.stderr)
        self.assertIn("pip install h5py", result.stderr)


if __name__ == "__main__":
    unittest.main()
