"""Summary statistics across ensemble members: mean, sample standard deviation and the
Student-t confidence interval of the mean.

numpy has no t distribution and SciPy is not a dependency, so the quantile is computed
here from the classical finite series of the t distribution function for integer degrees
of freedom, in theta = atan(t / sqrt(df)). tests/analysis/test_stats.py checks it against
the closed forms for df = 1 and 2 and against published quantile tables.
"""

import math

import numpy as np


def student_t_central_probability(t, df):
    """Return P(|T| <= t) for Student's t with `df` (a positive integer) degrees of freedom."""
    if df < 1 or int(df) != df:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df!r}")
    df = int(df)
    t = abs(float(t))
    if math.isinf(t):
        return 1.0
    theta = math.atan(t / math.sqrt(df))
    sin_theta = math.sin(theta)
    cos_sq = math.cos(theta) ** 2

    if df % 2 == 1:
        if df == 1:
            return 2.0 * theta / math.pi
        # 2/pi * (theta + sin(theta) * (cos + 2/3 cos^3 + (2*4)/(3*5) cos^5 + ... up to cos^(df-2)))
        term = math.cos(theta)
        total = term
        for k in range(1, (df - 3) // 2 + 1):
            term *= cos_sq * (2 * k) / (2 * k + 1)
            total += term
        return 2.0 / math.pi * (theta + sin_theta * total)

    # sin(theta) * (1 + 1/2 cos^2 + (1*3)/(2*4) cos^4 + ... up to cos^(df-2))
    term = 1.0
    total = term
    for k in range(1, (df - 2) // 2 + 1):
        term *= cos_sq * (2 * k - 1) / (2 * k)
        total += term
    return sin_theta * total


def student_t_quantile(probability, df):
    """Return t with P(T <= t) = probability, for 0.5 <= probability < 1 and integer df >= 1.

    Solved by bisection on the distribution function, to about 1e-12 relative accuracy.
    """
    if not 0.5 <= probability < 1.0:
        raise ValueError(f"probability must be in [0.5, 1), got {probability!r}")
    target = 2.0 * probability - 1.0
    if target == 0.0:
        return 0.0
    low, high = 0.0, 1.0
    while student_t_central_probability(high, df) < target:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if student_t_central_probability(middle, df) < target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return 0.5 * (low + high)


def summarize(values, axis=0, confidence=0.95):
    """Summarize `values` along `axis`, ignoring NaN entries (members that lack a value).

    Returns a dict of arrays with the axis removed: `n` (finite values), `mean`, `std`
    (sample standard deviation, divisor n - 1), `ci_low` and `ci_high` (the two-sided
    Student-t interval of the mean with n - 1 degrees of freedom). `mean` is NaN where
    n = 0; `std` and the interval are NaN where n < 2, because one value gives no spread.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    n = finite.sum(axis=axis)
    zeroed = np.where(finite, values, 0.0)

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = zeroed.sum(axis=axis) / n
        deviation = np.where(finite, values - np.expand_dims(mean, axis), 0.0)
        variance = (deviation ** 2).sum(axis=axis) / (n - 1)
    mean = np.where(n > 0, mean, np.nan)
    std = np.where(n > 1, np.sqrt(np.maximum(variance, 0.0)), np.nan)

    quantile = np.full(np.shape(n), np.nan)
    for count in np.unique(n):
        if count > 1:
            quantile[n == count] = student_t_quantile(0.5 + confidence / 2.0, int(count) - 1)
    with np.errstate(invalid="ignore"):
        half_width = quantile * std / np.sqrt(n)
    return {
        "n": n.astype(np.int64),
        "mean": mean,
        "std": std,
        "ci_low": mean - half_width,
        "ci_high": mean + half_width,
    }
