"""Tests of finding and reading checkpoints, including incomplete and broken runs."""

import logging
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np

import synthetic
from collapse_analysis import checkpoints


class ReadingTestCase(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="collapse-analysis-")
        self.addCleanup(shutil.rmtree, self.out)

    def member_dir(self, name="mnist-s1"):
        return os.path.join(self.out, name)

    def read_member_logged(self, name="mnist-s1"):
        with self.assertLogs("collapse_analysis", level="WARNING") as logs:
            member = checkpoints.read_member(self.member_dir(name))
        return member, "\n".join(logs.output)


class CompleteRunTest(ReadingTestCase):
    def test_reads_all_generations(self):
        synthetic.write_run(self.out, seeds=(1, 2), generations=3)
        members = checkpoints.read_run(self.out)
        self.assertEqual([m.name for m in members], ["mnist-s1", "mnist-s2"])
        self.assertEqual([m.n_generations for m in members], [3, 3])
        self.assertEqual(members[1].seed, 2)
        self.assertEqual(members[0].class_names, [str(c) for c in range(10)])

    def test_metrics_match_file(self):
        paths = synthetic.write_run(self.out, seeds=(4,), generations=3)["mnist-s4"]
        member = checkpoints.read_run(self.out)[0]
        for g, path in enumerate(paths):
            with h5py.File(path, "r") as handle:
                metrics = handle["metrics"]
                generation = member.generations[g]
                self.assertEqual(generation.scalars["test_accuracy"], metrics["test_accuracy"][()])
                self.assertEqual(generation.scalars["frechet_distance"], metrics["frechet_distance"][()])
                self.assertEqual(generation.final_epoch["vae_loss"], metrics["vae_loss"][-1])
                np.testing.assert_array_equal(generation.eval_accuracy, metrics["eval_accuracy"][()])
                np.testing.assert_array_equal(generation.judge_histogram, metrics["judge_histogram"][()])

    def test_temporary_and_progress_files_ignored(self):
        synthetic.write_run(self.out, seeds=(1,), generations=2)
        member_dir = self.member_dir()
        shutil.copy(os.path.join(member_dir, "gen-001.h5"), os.path.join(member_dir, "gen-002.h5.tmp"))
        shutil.copy(os.path.join(member_dir, "gen-001.h5"), os.path.join(member_dir, "progress.h5"))
        member = checkpoints.read_member(member_dir)
        self.assertEqual(member.n_generations, 2)

    def test_output_folder_may_be_a_member_folder(self):
        synthetic.write_run(self.out, seeds=(1,), generations=2)
        members = checkpoints.read_run(self.member_dir())
        self.assertEqual([m.name for m in members], ["mnist-s1"])

    def test_config_file_used_when_attribute_empty(self):
        synthetic.write_checkpoint(self.out, "mnist", 1, 0, config="")
        with open(os.path.join(self.member_dir(), "config.cfg"), "w") as handle:
            handle.write("vae = { reset = true; };\n")
        member = checkpoints.read_member(self.member_dir())
        self.assertIn("reset = true", member.config_text)


class IncompleteRunTest(ReadingTestCase):
    def test_gap_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=5)
        os.remove(os.path.join(self.member_dir(), "gen-002.h5"))
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 2)
        self.assertIn("gen-002.h5 is missing", messages)
        self.assertIn("3, 4", messages)

    def test_truncated_file_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=4)
        path = os.path.join(self.member_dir(), "gen-001.h5")
        size = os.path.getsize(path)
        with open(path, "r+b") as handle:
            handle.truncate(size // 2)
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 1)
        self.assertIn(path, messages)
        self.assertIn("ignoring this and the later generations", messages)

    def test_garbage_file_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=3)
        path = os.path.join(self.member_dir(), "gen-002.h5")
        with open(path, "wb") as handle:
            handle.write(b"not an HDF5 file")
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 2)
        self.assertIn(path, messages)

    def test_missing_metric_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=3)
        path = os.path.join(self.member_dir(), "gen-001.h5")
        with h5py.File(path, "a") as handle:
            del handle["metrics/frechet_distance"]
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 1)
        self.assertIn("/metrics/frechet_distance is missing", messages)

    def test_wrong_column_length_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=3)
        path = os.path.join(self.member_dir(), "gen-002.h5")
        with h5py.File(path, "a") as handle:
            del handle["metrics/eval_accuracy"]
            handle["metrics/eval_accuracy"] = np.ones(2)
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 2)
        self.assertIn("eval_accuracy has 2 entries, expected 3", messages)

    def test_generation_attribute_must_match_name(self):
        synthetic.write_run(self.out, seeds=(1,), generations=2)
        with h5py.File(os.path.join(self.member_dir(), "gen-001.h5"), "a") as handle:
            handle.attrs["generation"] = 5
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 1)
        self.assertIn("attribute 'generation' is 5", messages)

    def test_other_format_version_rejected(self):
        synthetic.write_run(self.out, seeds=(1,), generations=1)
        with h5py.File(os.path.join(self.member_dir(), "gen-000.h5"), "a") as handle:
            handle.attrs["format_version"] = 2
        member, messages = self.read_member_logged()
        self.assertIsNone(member)
        self.assertIn("format_version 2 is not supported", messages)

    def test_changed_seed_ends_member(self):
        synthetic.write_run(self.out, seeds=(1,), generations=3)
        with h5py.File(os.path.join(self.member_dir(), "gen-001.h5"), "a") as handle:
            handle.attrs["seed"] = 9
        member, messages = self.read_member_logged()
        self.assertEqual(member.n_generations, 1)
        self.assertIn("seed", messages)

    def test_member_without_generation_zero_skipped(self):
        synthetic.write_run(self.out, seeds=(1, 2), generations=2)
        os.remove(os.path.join(self.member_dir("mnist-s2"), "gen-000.h5"))
        with self.assertLogs("collapse_analysis", level="WARNING") as logs:
            members = checkpoints.read_run(self.out)
        self.assertEqual([m.name for m in members], ["mnist-s1"])
        self.assertIn("gen-000.h5 is missing", "\n".join(logs.output))


class NoCheckpointsTest(ReadingTestCase):
    def test_empty_folder(self):
        with self.assertRaisesRegex(checkpoints.NoCheckpointsError, "no checkpoints found"):
            checkpoints.read_run(self.out)

    def test_only_temporary_files(self):
        os.makedirs(self.member_dir())
        for name in ("gen-000.h5.tmp", "progress.h5", "config.cfg"):
            open(os.path.join(self.member_dir(), name), "w").close()
        with self.assertRaisesRegex(checkpoints.NoCheckpointsError, "no checkpoints found"):
            checkpoints.read_run(self.out)

    def test_missing_folder(self):
        with self.assertRaisesRegex(checkpoints.NoCheckpointsError, "not a folder"):
            checkpoints.read_run(os.path.join(self.out, "absent"))

    def test_all_members_broken(self):
        os.makedirs(self.member_dir())
        with open(os.path.join(self.member_dir(), "gen-000.h5"), "wb") as handle:
            handle.write(b"\0" * 100)
        with self.assertLogs("collapse_analysis", level="WARNING"):
            with self.assertRaisesRegex(checkpoints.NoCheckpointsError, "no member has a readable gen-000.h5"):
                checkpoints.read_run(self.out)


class SampleImagesTest(ReadingTestCase):
    def test_reads_first_images(self):
        path = synthetic.write_checkpoint(self.out, "mnist", 1, 0, n_images=20)
        images = checkpoints.read_sample_images(path, 8)
        with h5py.File(path, "r") as handle:
            np.testing.assert_array_equal(images, handle["generated/images"][:8])

    def test_fewer_images_than_requested(self):
        path = synthetic.write_checkpoint(self.out, "mnist", 1, 0, n_images=5)
        self.assertEqual(checkpoints.read_sample_images(path, 64).shape, (5, 28, 28))

    def test_missing_images_raise(self):
        path = synthetic.write_checkpoint(self.out, "mnist", 1, 0)
        with h5py.File(path, "a") as handle:
            del handle["generated/images"]
        with self.assertRaises(checkpoints.CheckpointError):
            checkpoints.read_sample_images(path, 4)


if __name__ == "__main__":
    logging.basicConfig()
    unittest.main()
