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
        return [{"arm": "a", "seed": seed, "scores": {"minichain": value}, "forced": {}}
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


def test_claims_read_the_arms_losses_and_leave_unlearned_arms_unresolved():
    from long1k.experiments import mini_arms
    from long1k.experiments.miniature import claims

    plan = mini_arms.Plan()
    names = [*mini_arms.STYLE_DESIGN, *mini_arms.fixed_design(plan), *mini_arms.EQUAL_DESIGN[1:], "lvd_easy_pairs",
             "lvd_hard_singles"]
    level = {"style_none": 20.0, "style_some": 30.0, "style_full": 60.0, "style_checked": 70.0}
    results = [{"arm": name, "seed": seed, "final_loss": 1.0 if name.startswith(("stitch2", "lvd_easy")) else 0.05,
                "scores": dict.fromkeys(("minichain", "minichain_hard", "minichain_x2", "minichain_x4"),
                                        level.get(name, 40.0) + seed),
                "forced": {"forced_wait1": (15.0 + seed, 30.0)} if name == "style_none" else {}}
               for name in names for seed in range(5)]
    tokens = {name: 10.0 * (index + 1) for index, name in enumerate(names)}
    found = {c.name: c for c in claims(plan, results, tokens, [1])}
    assert found["longer reasoning, same problems"].verdict == SUPPORTED
    assert found["longer reasoning, same problems"].estimate.value == pytest.approx(50.0)
    assert found["training length beats inference-only scaling"].verdict == SUPPORTED
    for name in ("scaling law by stitching (fixed rows)", "length beats difficulty (minichain)",
                 "multi-question following (minichain_x2)"):
        assert found[name].verdict.startswith(UNRESOLVED) and "(1.00)" in found[name].verdict, name
    assert found["scaling law over reasoning length"].estimate.value > 0


def test_settings_a_run_cannot_give_verdicts_from_are_refused_before_any_work(tmp_path):
    import json

    from long1k.errors import Long1kError
    from long1k.experiments.miniature import MiniatureConfig, check_settings

    with pytest.raises(Long1kError, match="at least 2 seeds"):
        check_settings(MiniatureConfig(seeds=1))
    with pytest.raises(Long1kError, match="not a finished miniature run"):
        check_settings(MiniatureConfig(compare_with=str(tmp_path)))
    (tmp_path / "runs.jsonl").write_text("")
    (tmp_path / "settings.json").write_text(json.dumps({**vars(MiniatureConfig()), "steps": 100}))
    with pytest.raises(Long1kError, match="steps"):
        check_settings(MiniatureConfig(compare_with=str(tmp_path)))
    check_settings(MiniatureConfig(compare_with=str(tmp_path), steps=100, seeds=3, first_seed=5))
    older = {k: v for k, v in vars(MiniatureConfig()).items() if k != "warmup"}  # before --warmup existed: 10
    (tmp_path / "settings.json").write_text(json.dumps(older))
    with pytest.raises(Long1kError, match="warmup \\(10 there, 50 here\\)"):
        check_settings(MiniatureConfig(compare_with=str(tmp_path)))
    check_settings(MiniatureConfig(compare_with=str(tmp_path), warmup=10))
