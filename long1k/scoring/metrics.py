"""Benchmark metrics from graded rows: pass@1 over samples and seeds (Table 4 style with the spread
over seeds), a bootstrap interval over questions, unbiased pass@k, maj@k, truncation, no-answer
rates and response lengths of correct and wrong answers."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence

from long1k.grading.grade import GRADER_ERROR


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator 1 - C(n-c, k) / C(n, k) for n samples of which c are correct."""
    if k > n:
        raise ValueError(f"k={k} exceeds the {n} samples")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _by_question(rows: Sequence[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[str(row["id"])].append(row)
    return groups


def question_accuracy(rows: Sequence[dict]) -> dict[str, float]:
    return {qid: statistics.fmean(bool(r["correct"]) for r in group) for qid, group in _by_question(rows).items()}


def bootstrap_interval(values: Sequence[float], resamples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean, resampling questions with replacement."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(statistics.fmean(values[rng.randrange(n)] for _ in range(n)) for _ in range(resamples))
    low = means[int((1 - level) / 2 * resamples)]
    high = means[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return low, high


def majority_correct(group: Sequence[dict]) -> bool:
    """Majority vote over extracted answers (ties: the answer seen first); no answer never wins."""
    answers = [str(r["extracted"]).strip() for r in group if r.get("extracted") not in (None, "")]
    if not answers:
        return False
    counts = Counter(answers)
    best = max(counts.values())
    winner = next(a for a in answers if counts[a] == best)
    return any(bool(r["correct"]) for r in group if str(r.get("extracted") or "").strip() == winner)


def benchmark_metrics(rows: Sequence[dict]) -> dict:
    """All metrics of one (model, benchmark), in percent where they are rates."""
    per_question = question_accuracy(rows)
    seeds = sorted({r.get("seed", 0) for r in rows})
    per_seed = [statistics.fmean(question_accuracy([r for r in rows if r.get("seed", 0) == s]).values())
                for s in seeds]
    pass1 = statistics.fmean(per_question.values())
    low, high = bootstrap_interval(list(per_question.values()))
    groups = _by_question(rows)
    n = min(len(g) for g in groups.values())
    correct_tokens = [r["response_tokens"] for r in rows if r["correct"] and r.get("response_tokens") is not None]
    wrong_tokens = [r["response_tokens"] for r in rows if not r["correct"] and r.get("response_tokens") is not None]
    thinking = [r["thinking_tokens"] for r in rows if r.get("thinking_tokens") is not None]
    metrics = {
        "questions": len(per_question),
        "samples_per_question": n,
        "seeds": seeds,
        "pass@1": 100 * pass1,
        "seed_min": 100 * min(per_seed),
        "seed_max": 100 * max(per_seed),
        "per_seed": {str(s): 100 * a for s, a in zip(seeds, per_seed, strict=True)},
        "bootstrap95": [100 * low, 100 * high],
        "truncated_pct": 100 * statistics.fmean(r.get("finish_reason") == "length" for r in rows),
        "no_answer_pct": 100 * statistics.fmean(r.get("extracted") in (None, "") and r.get("rule") != GRADER_ERROR
                                                for r in rows),
        "timeouts": sum(str(r.get("reason", "")).startswith("timeout") for r in rows),
        "grader_errors": sum(grader_errors(r) for r in rows),
        "tokens_correct_mean": statistics.fmean(correct_tokens) if correct_tokens else None,
        "tokens_correct_median": statistics.median(correct_tokens) if correct_tokens else None,
        "tokens_wrong_mean": statistics.fmean(wrong_tokens) if wrong_tokens else None,
        "tokens_wrong_median": statistics.median(wrong_tokens) if wrong_tokens else None,
        "tokens_mean": statistics.fmean(correct_tokens + wrong_tokens) if correct_tokens + wrong_tokens else None,
    }
    if thinking:  # budget-forced predictions: the inference-scaling axis
        metrics["thinking_tokens_mean"] = statistics.fmean(thinking)
        metrics["extensions_mean"] = statistics.fmean(r.get("extensions", 0) for r in rows)
    prompt_tokens = [r["prompt_tokens"] for r in rows if r.get("prompt_tokens") is not None]
    if prompt_tokens:
        metrics["prompt_tokens_mean"] = statistics.fmean(prompt_tokens)
    if any(r.get("positions") for r in rows):
        metrics["composite"] = composite_metrics(rows)
    if n > 1:
        ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= n]
        metrics["pass@k"] = {str(k): 100 * statistics.fmean(
            pass_at_k(len(g), sum(bool(r["correct"]) for r in g), k) for g in groups.values()) for k in ks}
        metrics[f"maj@{n}"] = 100 * statistics.fmean(majority_correct(g[:n]) for g in groups.values())
    return metrics


def grader_errors(row: dict) -> int:
    """Answers in a graded row whose grader raised (a composite row counts each question)."""
    if row.get("rule") == GRADER_ERROR:
        return 1
    return sum(str(q.get("reason", "")).startswith("grader error") for q in row.get("positions") or ())


def composite_metrics(rows: Sequence[dict]) -> dict:
    """Composite rows (K questions per prompt): accuracy at each position, over all positions, every
    question right, questions answered, answers out of order, and how the answers were located."""
    parts = len(rows[0]["positions"])
    positions = [[bool(r["positions"][p]["correct"]) for r in rows] for p in range(parts)]
    answered = [sum(q["answered_at"] is not None for q in r["positions"]) for r in rows]
    disorder = [sum(bool(q["out_of_order"]) for q in r["positions"]) for r in rows]
    return {
        "parts": parts,
        "position_pct": [100 * statistics.fmean(p) for p in positions],
        "questions_pct": 100 * statistics.fmean(c for p in positions for c in p),
        "all_correct_pct": 100 * statistics.fmean(bool(r["correct"]) for r in rows),
        "answered_mean": statistics.fmean(answered),
        "all_answered_pct": 100 * statistics.fmean(a == parts for a in answered),
        "order_errors_mean": statistics.fmean(disorder),
        "rows_with_order_errors_pct": 100 * statistics.fmean(d > 0 for d in disorder),
        "located_by_pct": {how: 100 * n / len(rows) for how, n in Counter(r.get("rule") or "none"
                                                                          for r in rows).most_common()},
    }


def table4_cell(metrics: dict) -> str:
    """'95.6 (+1.0/-1.6)': mean pass@1, and how far the best and the worst seed's score lie above and below it
    (Table 4's layout); with one seed, the mean alone."""
    mean = metrics["pass@1"]
    if len(metrics["seeds"]) < 2:
        return f"{mean:.1f}"
    return f"{mean:.1f} (+{metrics['seed_max'] - mean:.1f}/-{mean - metrics['seed_min']:.1f})"
