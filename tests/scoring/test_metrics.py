import math

import pytest

from long1k.scoring.metrics import benchmark_metrics, majority_correct, pass_at_k, table4_cell


def test_pass_at_k_matches_hand_computed_values():
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))  # 0.5
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(4, 3, 2) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def row(qid, seed, correct, extracted=None, tokens=10, finish="stop"):
    return {"id": qid, "seed": seed, "correct": correct, "extracted": extracted, "response_tokens": tokens,
            "finish_reason": finish}


def test_pass1_is_the_mean_over_questions_and_seeds_with_the_seed_spread():
    rows = [row("q1", 1, True, "1"), row("q2", 1, False, "2"),   # seed 1: 50%
            row("q1", 2, True, "1"), row("q2", 2, True, "3"),    # seed 2: 100%
            row("q1", 3, False, None, finish="length"), row("q2", 3, False, "2")]  # seed 3: 0%
    metrics = benchmark_metrics(rows)
    assert metrics["pass@1"] == pytest.approx(50.0)
    assert (metrics["seed_min"], metrics["seed_max"]) == (0.0, 100.0)
    assert table4_cell(metrics) == "50.0 (+50.0/-50.0)"
    assert metrics["truncated_pct"] == pytest.approx(100 / 6)
    assert metrics["no_answer_pct"] == pytest.approx(100 / 6)
    assert metrics["pass@k"] == {"1": pytest.approx(50.0), "2": pytest.approx(100 * (1 + 2 / 3) / 2)}
    low, high = metrics["bootstrap95"]
    assert 0 <= low <= 50 <= high <= 100


def test_majority_vote():
    group = [row("q", 0, False, "2"), row("q", 0, True, "3"), row("q", 0, True, "3"), row("q", 0, False, None)]
    assert majority_correct(group) is True
    assert majority_correct([row("q", 0, False, None)]) is False
    assert majority_correct([row("q", 0, False, "2"), row("q", 0, True, "3")]) is False  # tie: first seen


def test_the_score_table_says_what_it_measured():
    """One seed has no spread to show (not '+0.0/-0.0'); the measured table names questions, samples, seeds,
    the truncated and no-answer shares and the grader errors."""
    from long1k.scoring.report import measured_table

    one_seed = benchmark_metrics([row("q1", 1, True, "1"), row("q2", 1, False, None, finish="length")])
    assert table4_cell(one_seed) == "50.0"
    table = measured_table({"m": {"math500": one_seed}})
    assert table.splitlines()[0] == ("| model | benchmark | questions | samples per question | seeds | truncated | "
                                     "no answer | grader errors | timeouts |")
    assert table.splitlines()[2] == "| m | math500 | 2 | 1 | 1 | 50.0% | 50.0% | 0 | 0 |"
