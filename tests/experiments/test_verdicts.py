"""The verdict rule of the miniature's report, on differences and slopes whose intervals are known."""

from __future__ import annotations

import pytest

from long1k.experiments.verdicts import (
    CONTRADICTED,
    SUPPORTED,
    UNRESOLVED,
    Estimate,
    difference,
    mean_interval,
    slope,
    summary,
)


def test_the_rule_reads_the_interval_against_zero():
    assert Estimate(3.0, 0.5, 5.5).verdict == SUPPORTED
    assert Estimate(-3.0, -5.5, -0.5).verdict == CONTRADICTED
    assert Estimate(1.0, -0.5, 2.5).verdict == UNRESOLVED


def test_a_difference_is_welchs_interval():
    a, b = [60.0, 62.0, 61.0, 63.0, 59.0], [50.0, 58.0, 54.0, 46.0, 52.0]
    estimate = difference(a, b)
    assert estimate.value == pytest.approx(9.0)
    # Welch: se = sqrt(2.5/5 + 20/5) = 2.1213; df = 4.9846 (Welch-Satterthwaite); t(0.975, df) = 2.5730
    assert estimate.low == pytest.approx(9.0 - 2.5730 * 2.1213, abs=0.02)
    assert estimate.high == pytest.approx(9.0 + 2.5730 * 2.1213, abs=0.02)
    assert estimate.verdict == SUPPORTED
    assert difference(b, a).verdict == CONTRADICTED
    assert difference([50.0, 50.0], [50.0, 50.0]) == Estimate(0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="two seeds"):
        difference([1.0], [2.0, 3.0])


def test_a_slope_is_points_per_tenfold_length():
    lengths, scores = [10, 10, 100, 100, 1000, 1000], [20.0, 22.0, 40.0, 42.0, 60.0, 62.0]
    estimate, r2 = slope(lengths, scores)
    assert estimate.value == pytest.approx(20.0) and estimate.low < 20.0 < estimate.high
    assert estimate.verdict == SUPPORTED and r2 > 0.99
    flat, _ = slope(lengths, [50.0, 40.0, 45.0, 45.0, 40.0, 50.0])
    assert flat.verdict == UNRESOLVED


def test_summary_is_over_seeds():
    assert summary([10.0, 20.0, 30.0]) == {"mean": 20.0, "std": 10.0, "min": 10.0, "max": 30.0}


def test_a_mean_interval_is_students_t_over_seeds():
    estimate = mean_interval([60.0, 62.0, 61.0, 63.0, 59.0])
    # sd 1.5811, se 0.7071, t(0.975, 4) = 2.7764
    assert estimate.value == 61.0 and estimate.high - 61.0 == pytest.approx(2.7764 * 0.7071, abs=0.01)
    assert mean_interval([5.0, 5.0]) == Estimate(5.0, 5.0, 5.0)


def test_replication_compares_each_mean_with_the_other_runs_interval():
    from long1k.experiments.miniature import replication_rows

    def runs(scores):
        return [{"arm": "a", "seed": seed, "scores": {"minichain": value}, "extra": {}}
                for seed, value in enumerate(scores)]

    same = replication_rows(runs([60, 62, 61, 63, 59]), runs([61, 60, 62, 62, 60]))
    moved = replication_rows(runs([60, 62, 61, 63, 59]), runs([70, 71, 72, 70, 71]))
    assert same[0][-1] == "yes" and moved[0][-1] == "NO"


def test_a_claim_resting_on_an_arm_that_did_not_learn_its_rows_is_not_resolved():
    from long1k.experiments.miniature import LEARNED_LOSS, Claim, final_losses

    results = [{"arm": "learned", "final_loss": 0.05}, {"arm": "learned", "final_loss": 0.07},
               {"arm": "stuck", "final_loss": 1.1}, {"arm": "stuck", "final_loss": 1.3}]
    losses = final_losses(results)
    assert losses == pytest.approx({"learned": 0.06, "stuck": 1.2}) and losses["stuck"] > LEARNED_LOSS
    clear = Estimate(-20.0, -25.0, -15.0)
    assert Claim("c", "p", "m", clear, arms=("learned",)).verdict == CONTRADICTED
    resting = Claim("c", "p", "m", clear, arms=("learned", "stuck"), unlearned=["stuck (1.20)"])
    assert resting.verdict.startswith(UNRESOLVED) and "stuck (1.20)" in resting.verdict
