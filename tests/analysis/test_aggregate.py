"""Tests of grouping and of the across-seed aggregation, against values read directly
from the checkpoint files the tests write."""

import math
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np

import synthetic
from collapse_analysis import aggregate, checkpoints

T_975_DF2 = 4.302652729749752   # 0.975 quantile of Student's t with 2 degrees of freedom
T_975_DF1 = 12.706204736172367


def metric(path, name):
    with h5py.File(path, "r") as handle:
        return np.asarray(handle["metrics"][name][()])


class AggregateTestCase(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="collapse-analysis-")
        self.addCleanup(shutil.rmtree, self.out)

    def summarize_run(self):
        members = checkpoints.read_run(self.out)
        return [aggregate.aggregate_group(group) for group in aggregate.group_members(members)]


class SeriesTest(AggregateTestCase):
    def setUp(self):
        super().setUp()
        self.paths = synthetic.write_run(self.out, seeds=(1, 2, 3), generations=4)
        (self.summary,) = self.summarize_run()

    def test_scalar_series_statistics(self):
        for name in ("test_accuracy", "class_entropy", "pixel_mean", "frechet_distance", "latent_spread"):
            for g in range(4):
                values = np.array([metric(self.paths[m][g], name) for m in ("mnist-s1", "mnist-s2", "mnist-s3")])
                statistics = self.summary.series[name]
                with self.subTest(series=name, generation=g):
                    self.assertAlmostEqual(statistics["mean"][g], values.mean(), places=12)
                    self.assertAlmostEqual(statistics["std"][g], values.std(ddof=1), places=12)
                    half = T_975_DF2 * values.std(ddof=1) / math.sqrt(3)
                    self.assertAlmostEqual(statistics["ci_low"][g], values.mean() - half, places=9)
                    self.assertAlmostEqual(statistics["ci_high"][g], values.mean() + half, places=9)

    def test_final_vae_loss_is_last_epoch(self):
        values = [metric(self.paths[m][2], "vae_loss")[-1] for m in ("mnist-s1", "mnist-s2", "mnist-s3")]
        self.assertAlmostEqual(self.summary.series["vae_loss_final"]["mean"][2], np.mean(values), places=12)

    def test_judge_shares(self):
        for g in range(4):
            histograms = np.array([metric(self.paths[m][g], "judge_histogram")
                                   for m in ("mnist-s1", "mnist-s2", "mnist-s3")], dtype=float)
            shares = histograms / histograms.sum(axis=1, keepdims=True)
            np.testing.assert_allclose(self.summary.judge_share["mean"][g], shares.mean(axis=0))
            np.testing.assert_allclose(self.summary.judge_share["std"][g], shares.std(axis=0, ddof=1))
            self.assertAlmostEqual(self.summary.series["judge_top_share"]["mean"][g], shares.max(axis=1).mean())
            self.assertEqual(self.summary.top_class(g), int(np.argmax(shares.mean(axis=0))))

    def test_n_seeds(self):
        np.testing.assert_array_equal(self.summary.n_seeds, [3, 3, 3, 3])
        np.testing.assert_array_equal(self.summary.series["test_accuracy"]["n"], [3, 3, 3, 3])


class MatrixTest(AggregateTestCase):
    def setUp(self):
        super().setUp()
        self.paths = synthetic.write_run(self.out, seeds=(1, 2), generations=4)
        (self.summary,) = self.summarize_run()

    def expected_matrix(self, member, name):
        matrix = np.full((4, 4), np.nan)
        for c, path in enumerate(self.paths[member]):
            column = metric(path, name)
            matrix[: c + 1, c] = column
        return matrix

    def test_member_matrices_assembled_by_column(self):
        for m, member in enumerate(("mnist-s1", "mnist-s2")):
            for kind in ("accuracy", "loss"):
                np.testing.assert_array_equal(self.summary.matrices[kind]["values"][m],
                                              self.expected_matrix(member, f"eval_{kind}"))

    def test_mean_matrix(self):
        expected = (self.expected_matrix("mnist-s1", "eval_accuracy")
                    + self.expected_matrix("mnist-s2", "eval_accuracy")) / 2
        np.testing.assert_allclose(self.summary.matrices["accuracy"]["mean"], expected)
        lower = np.tril_indices(4, k=-1)
        self.assertTrue(np.isnan(self.summary.matrices["accuracy"]["mean"][lower]).all())

    def test_offdiagonal_series_excludes_diagonal(self):
        accuracy = self.summary.matrices["accuracy"]["mean"]
        offdiagonal = self.summary.series["eval_accuracy_offdiag"]["mean"]
        self.assertTrue(np.isnan(offdiagonal[0]))
        for c in range(1, 4):
            self.assertAlmostEqual(offdiagonal[c], accuracy[:c, c].mean(), places=12)
        first_row = self.summary.series["eval_accuracy_gen0"]["mean"]
        self.assertTrue(np.isnan(first_row[0]))
        np.testing.assert_allclose(first_row[1:], accuracy[0, 1:])


class UnevenMembersTest(AggregateTestCase):
    def test_each_generation_uses_members_that_have_it(self):
        paths = synthetic.write_run(self.out, seeds=(1, 2, 3),
                                    generations={("mnist", 1): 5, ("mnist", 2): 3, ("mnist", 3): 2})
        (summary,) = self.summarize_run()
        np.testing.assert_array_equal(summary.n_seeds, [3, 3, 2, 1, 1])
        self.assertEqual(summary.n_generations, 5)

        at_two = [metric(paths[m][2], "test_accuracy") for m in ("mnist-s1", "mnist-s2")]
        self.assertAlmostEqual(summary.series["test_accuracy"]["mean"][2], np.mean(at_two))
        half = T_975_DF1 * np.std(at_two, ddof=1) / math.sqrt(2)
        self.assertAlmostEqual(summary.series["test_accuracy"]["ci_high"][2], np.mean(at_two) + half, places=9)

        self.assertAlmostEqual(summary.series["test_accuracy"]["mean"][4], metric(paths["mnist-s1"][4], "test_accuracy"))
        self.assertTrue(np.isnan(summary.series["test_accuracy"]["std"][4]))
        self.assertTrue(np.isnan(summary.series["test_accuracy"]["ci_low"][4]))
        np.testing.assert_array_equal(summary.matrices["accuracy"]["n"][:, 4], [1, 1, 1, 1, 1])
        np.testing.assert_array_equal(summary.matrices["accuracy"]["n"][0], [3, 3, 2, 1, 1])

    def test_single_seed(self):
        synthetic.write_run(self.out, seeds=(7,), generations=2)
        (summary,) = self.summarize_run()
        np.testing.assert_array_equal(summary.n_seeds, [1, 1])
        self.assertTrue(np.isnan(summary.series["frechet_distance"]["std"]).all())
        self.assertTrue(np.isfinite(summary.series["frechet_distance"]["mean"]).all())


class GroupingTest(AggregateTestCase):
    def test_groups_by_dataset(self):
        synthetic.write_run(self.out, datasets=("mnist", "fashion-mnist"), seeds=(1, 2), generations=2)
        summaries = self.summarize_run()
        self.assertEqual([s.group.name for s in summaries], ["fashion-mnist", "mnist"])
        self.assertEqual([m.name for m in summaries[1].group.members], ["mnist-s1", "mnist-s2"])
        self.assertEqual(summaries[0].group.settings, {})

    def test_different_seed_lists_stay_together(self):
        for seed, seeds in ((1, (1, 2)), (2, (1, 2)), (5, (5,))):
            for g in range(2):
                synthetic.write_checkpoint(self.out, "mnist", seed, g, config=synthetic.config_text("mnist", seeds, 2))
        (summary,) = self.summarize_run()
        self.assertEqual(len(summary.group.members), 3)

    def test_differing_setting_splits_group(self):
        for seed, reset in ((1, False), (2, False), (3, True)):
            config = synthetic.config_text("mnist", (seed,), 2, reset_vae=reset)
            for g in range(2):
                synthetic.write_checkpoint(self.out, "mnist", seed, g, config=config)
        summaries = self.summarize_run()
        self.assertEqual([s.group.settings for s in summaries], [{"vae.reset": "false"}, {"vae.reset": "true"}])
        self.assertEqual([len(s.group.members) for s in summaries], [2, 1])
        self.assertEqual(summaries[1].group.label, "mnist (vae.reset = true)")
        self.assertEqual(summaries[1].group.name, "mnist_reset-true")

    def test_member_settings_attribute_splits_group(self):
        config = synthetic.config_text("mnist", (1, 2, 3), 2)
        for seed, reset in ((1, False), (2, True), (3, True)):
            for g in range(2):
                synthetic.write_checkpoint(self.out, "mnist", seed, g, config=config,
                                           member_settings=synthetic.member_settings_text("mnist", seed, reset))
        summaries = self.summarize_run()
        self.assertEqual([s.group.settings for s in summaries], [{"vae.reset": "0"}, {"vae.reset": "1"}])
        self.assertEqual([[m.seed for m in s.group.members] for s in summaries], [[1], [2, 3]])

    def test_member_settings_differing_only_in_seed(self):
        for seed in (1, 2):
            synthetic.write_checkpoint(self.out, "mnist", seed, 0,
                                       member_settings=synthetic.member_settings_text("mnist", seed))
        (summary,) = self.summarize_run()
        self.assertEqual(summary.group.settings, {})
        self.assertEqual(summary.group.name, "mnist")

    def test_unparsable_config_compared_whole(self):
        for seed, config in ((1, "not libconfig {"), (2, "not libconfig {"), (3, "other text ;;")):
            synthetic.write_checkpoint(self.out, "mnist", seed, 0, config=config)
        with self.assertLogs("collapse_analysis", level="WARNING"):
            summaries = self.summarize_run()
        self.assertEqual(sorted(len(s.group.members) for s in summaries), [1, 2])


if __name__ == "__main__":
    unittest.main()
