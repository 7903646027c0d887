"""Differences over seeds, their 95% intervals, and the verdict rule the miniature's report states.

A claim predicts a sign: arm A scores higher than arm B (or a slope is positive). Over the training seeds:
- **supported**: the 95% interval lies above zero;
- **contradicted**: it lies below zero;
- **not resolved at this size**: it holds zero.
A difference of means uses Welch's t interval (unequal variances); a slope, Student's t at n - 2 degrees of
freedom over the points it is given (long1k/experiments/scaling.py; the miniature gives it the levels' means).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

SUPPORTED, CONTRADICTED, UNRESOLVED = "supported", "contradicted", "not resolved at this size"
RULE = ("supported when the 95% interval of the predicted difference (or slope) lies above 0, contradicted when "
        "it lies below 0, not resolved at this size when it holds 0; a difference's interval is Welch's t over "
        "the training seeds, a slope's Student's t at n - 2 over the levels' mean scores")


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return SUPPORTED
        if self.high < 0:
            return CONTRADICTED
        return UNRESOLVED


def difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """mean(a) - mean(b) with Welch's 95% interval (exact when neither varies)."""
    from scipy import stats

    if len(a) < 2 or len(b) < 2:
        raise ValueError("a difference over seeds needs at least two seeds an arm")
    value = statistics.fmean(a) - statistics.fmean(b)
    if statistics.pvariance(a) == 0 and statistics.pvariance(b) == 0:
        return Estimate(value, value, value)
    low, high = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    return Estimate(value, float(low), float(high))


def slope(lengths: Sequence[float], scores: Sequence[float], name: str = "fit") -> tuple[Estimate, float | None]:
    """Points per tenfold length with its 95% interval, and R^2."""
    from long1k.experiments.scaling import fit_log_linear

    fit = fit_log_linear(name, list(lengths), list(scores))
    if fit.b_low is None:
        raise ValueError("a slope's interval needs at least three runs")
    return Estimate(fit.b, fit.b_low, fit.b_high), fit.r2


def mean_interval(values: Sequence[float]) -> Estimate:
    """The mean over seeds with its 95% t interval (exact when the values do not vary)."""
    from scipy import stats

    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    if spread == 0:
        return Estimate(mean, mean, mean)
    half = float(stats.t.ppf(0.975, len(values) - 1)) * spread / len(values) ** 0.5
    return Estimate(mean, mean - half, mean + half)


def summary(values: Sequence[float]) -> dict[str, float]:
    """mean, std (sample, over seeds), min and max."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}
