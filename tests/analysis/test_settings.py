"""Tests of the libconfig parsing that decides how members are grouped."""

import unittest

from collapse_analysis.settings import (SettingsError, distinguishing_settings, member_settings,
                                        parse_member_settings, parse_settings)


class ParseSettingsTest(unittest.TestCase):
    def test_groups_become_dotted_keys(self):
        settings = parse_settings('vae = { epochs = 200; hidden = [128, 128]; lr = 1e-3; };')
        self.assertEqual(settings["vae.epochs"], "200")
        self.assertEqual(settings["vae.hidden"], "[128, 128]")
        self.assertEqual(settings["vae.lr"], "0.001")

    def test_comments_strings_and_booleans(self):
        text = """
            # a comment
            name = "mni" "st";   // adjacent strings concatenate
            /* block
               comment */
            reset : TRUE
            count = 0x10; big = 5L;
        """
        settings = parse_settings(text)
        self.assertEqual(settings["name"], '"mnist"')
        self.assertEqual(settings["reset"], "true")
        self.assertEqual(settings["count"], "16")
        self.assertEqual(settings["big"], "5")

    def test_equal_numbers_compare_equal(self):
        self.assertEqual(parse_settings("lr = 0.0010;")["lr"], parse_settings("lr = 1e-3;")["lr"])

    def test_list_of_groups_is_one_value(self):
        settings = parse_settings('datasets = ( { name = "mnist"; dir = "d"; }, { name = "emnist"; } );')
        self.assertEqual(settings["datasets"], '[{dir = "d", name = "mnist"}, {name = "emnist"}]')

    def test_invalid_text_raises(self):
        for text in ("a = ;", "a = { b = 1;", "a = 1; = 2;", "a = $;", "@include \"x.cfg\""):
            with self.subTest(text=text):
                with self.assertRaises(SettingsError):
                    parse_settings(text)


class MemberSettingsTest(unittest.TestCase):
    TEXT = """
        generations = 10;
        seeds = [ 1, 2 ];
        vae : { epochs = 200; reset = false; };
        classifier : { epochs = 100; };
        datasets = (
          { name = "mnist"; kind = "mnist"; dir = "data/mnist"; },
          { name = "emnist"; kind = "emnist"; split = "balanced";
            vae = { epochs = 50; }; classifier = { type = "cnn"; }; generations = 5; }
        );
    """

    def test_root_settings_for_plain_entry(self):
        settings = member_settings(self.TEXT, "mnist")
        self.assertEqual(settings["vae.epochs"], "200")
        self.assertEqual(settings["dataset.kind"], '"mnist"')
        self.assertNotIn("datasets", settings)
        self.assertNotIn("dataset.split", settings)

    def test_entry_overrides_root(self):
        settings = member_settings(self.TEXT, "emnist")
        self.assertEqual(settings["vae.epochs"], "50")
        self.assertEqual(settings["vae.reset"], "false")
        self.assertEqual(settings["classifier.type"], '"cnn"')
        self.assertEqual(settings["generations"], "5")
        self.assertEqual(settings["dataset.split"], '"balanced"')

    def test_unknown_dataset_keeps_root(self):
        settings = member_settings(self.TEXT, "fashion")
        self.assertEqual(settings["vae.epochs"], "200")
        self.assertNotIn("dataset.kind", settings)

    def test_data_location_does_not_distinguish(self):
        moved = self.TEXT.replace('dir = "data/mnist"', 'dir = "/scratch/mnist"')
        members = {"mnist-s1": member_settings(self.TEXT, "mnist"), "mnist-s3": member_settings(moved, "mnist")}
        self.assertEqual(distinguishing_settings(members), [])


class MemberSettingsAttributeTest(unittest.TestCase):
    def test_key_value_lines(self):
        settings = parse_member_settings("dataset = mnist\nseed = 3\nclassifier.channels =\nvae.hidden = 128 128\n")
        self.assertEqual(settings, {"dataset": "mnist", "seed": "3", "classifier.channels": "",
                                    "vae.hidden": "128 128"})

    def test_line_without_separator_raises(self):
        with self.assertRaises(SettingsError):
            parse_member_settings("dataset = mnist\ngarbage\n")


class DistinguishingSettingsTest(unittest.TestCase):
    def test_seed_and_paths_are_ignored(self):
        members = {
            "mnist-s1": parse_settings('seeds = [1, 2]; output = "a"; data_dir = "x"; vae = { reset = false; };'),
            "mnist-s3": parse_settings('seeds = [3]; output = "b"; data_dir = "y"; vae = { reset = false; };'),
        }
        self.assertEqual(distinguishing_settings(members), [])

    def test_differing_setting_is_found(self):
        members = {
            "mnist-s1": parse_settings("vae = { reset = false; epochs = 2; };"),
            "mnist-s2": parse_settings("vae = { reset = true; epochs = 2; };"),
        }
        self.assertEqual(distinguishing_settings(members), ["vae.reset"])

    def test_missing_key_counts_as_difference(self):
        members = {"a": parse_settings("x = 1; y = 2;"), "b": parse_settings("x = 1;")}
        self.assertEqual(distinguishing_settings(members), ["y"])

    def test_extra_ignore_pattern(self):
        members = {"a": parse_settings("run = { note = \"a\"; };"), "b": parse_settings("run = { note = \"b\"; };")}
        self.assertEqual(distinguishing_settings(members, ("run.note",)), [])


if __name__ == "__main__":
    unittest.main()
