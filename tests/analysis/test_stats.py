"""Tests of the Student-t quantile and the across-seed summary statistics."""

import math
import unittest

import numpy as np

from collapse_analysis.stats import student_t_central_probability, student_t_quantile, summarize

# Two-sided 95% critical values of Student's t (0.975 quantiles), from published tables.
T_975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 9: 2.2622,
         10: 2.2281, 29: 2.0452, 30: 2.0423, 100: 1.9840}


class StudentTTest(unittest.TestCase):
    def test_quantile_matches_tables(self):
        for df, expected in T_975.items():
            with self.subTest(df=df):
                self.assertAlmostEqual(student_t_quantile(0.975, df), expected, places=3)

    def test_quantile_approaches_normal(self):
        self.assertAlmostEqual(student_t_quantile(0.975, 100000), 1.959964, places=4)

    def test_cauchy_distribution_function(self):
        # df = 1 is the Cauchy distribution: P(|T| <= t) = 2 atan(t) / pi.
        for t in (0.1, 1.0, 7.5):
            self.assertAlmostEqual(student_t_central_probability(t, 1), 2 * math.atan(t) / math.pi)

    def test_two_degrees_closed_form(self):
        for t in (0.3, 2.0, 10.0):
            self.assertAlmostEqual(student_t_central_probability(t, 2), t / math.sqrt(2 + t * t))

    def test_quantile_inverts_distribution(self):
        for df in (1, 2, 3, 6, 7, 40):
            for probability in (0.6, 0.9, 0.975, 0.995):
                t = student_t_quantile(probability, df)
                self.assertAlmostEqual(student_t_central_probability(t, df), 2 * probability - 1, places=9)

    def test_rejects_invalid_arguments(self):
        with self.assertRaises(ValueError):
            student_t_quantile(1.0, 3)
        with self.assertRaises(ValueError):
            student_t_quantile(0.975, 0)
        with self.assertRaises(ValueError):
            student_t_central_probability(1.0, 2.5)


class SummarizeTest(unittest.TestCase):
    def test_three_values(self):
        result = summarize(np.array([[1.0], [2.0], [6.0]]))
        self.assertEqual(result["n"][0], 3)
        self.assertAlmostEqual(result["mean"][0], 3.0)
        self.assertAlmostEqual(result["std"][0], math.sqrt(7.0))
        half = T_975[2] * math.sqrt(7.0) / math.sqrt(3.0)
        self.assertAlmostEqual(result["ci_low"][0], 3.0 - half, places=3)
        self.assertAlmostEqual(result["ci_high"][0], 3.0 + half, places=3)

    def test_one_value_has_no_interval(self):
        result = summarize(np.array([[5.0, 2.0]]))
        np.testing.assert_array_equal(result["n"], [1, 1])
        np.testing.assert_array_equal(result["mean"], [5.0, 2.0])
        self.assertTrue(np.isnan(result["std"]).all())
        self.assertTrue(np.isnan(result["ci_low"]).all())
        self.assertTrue(np.isnan(result["ci_high"]).all())

    def test_missing_values_reduce_n(self):
        values = np.array([[1.0, 4.0, np.nan], [3.0, np.nan, np.nan], [5.0, np.nan, np.nan]])
        result = summarize(values)
        np.testing.assert_array_equal(result["n"], [3, 1, 0])
        np.testing.assert_allclose(result["mean"][:2], [3.0, 4.0])
        self.assertTrue(np.isnan(result["mean"][2]))
        self.assertAlmostEqual(result["std"][0], 2.0)
        self.assertTrue(np.isnan(result["std"][1]))

    def test_matches_numpy_on_random_data(self):
        rng = np.random.default_rng(7)
        values = rng.normal(size=(5, 4, 3))
        result = summarize(values)
        np.testing.assert_allclose(result["mean"], values.mean(axis=0))
        np.testing.assert_allclose(result["std"], values.std(axis=0, ddof=1))
        half = T_975[4] * values.std(axis=0, ddof=1) / math.sqrt(5)
        np.testing.assert_allclose(result["ci_high"] - result["mean"], half, rtol=1e-4)

    def test_constant_values_have_zero_width(self):
        result = summarize(np.full((4, 2), 0.25))
        np.testing.assert_array_equal(result["std"], [0.0, 0.0])
        np.testing.assert_array_equal(result["ci_low"], result["ci_high"])


if __name__ == "__main__":
    unittest.main()
