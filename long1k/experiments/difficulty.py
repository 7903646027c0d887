"""Difficulty grading by pass rate and coefficient of variation (the AM / DeepDistill recipe).

Per question with several graded answers: pass rate = share of passing answers; CV = std / mean of
the answers' 0/1 scores, with the *population* standard deviation (for n answers and c passes:
sqrt(p (1 - p)) / p with p = c / n); undefined (None) when nothing passes. Selection, with the
thresholds as parameters since the paper publishes none:
  stage 1: keep questions with pass rate > min_pass_rate; of those with CV >= cv_threshold keep only
           the passing answers, of the others all answers;
  stage 2 (optional, top_k): keep the top_k highest-CV questions, one passing answer each.
The selection is written in the synthesis output format, with a pass-rate histogram.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass


@dataclass
class QuestionScore:
    key: tuple[str, str]  # (benchmark, id)
    answers: list[dict]
    pass_rate: float
    cv: float | None


def coefficient_of_variation(scores: list[int]) -> float | None:
    mean = statistics.fmean(scores)
    if mean == 0:
        return None
    return statistics.pstdev(scores) / mean


def score_questions(rows: list[dict]) -> list[QuestionScore]:
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["benchmark"], str(row["id"]))].append(row)
    questions = []
    for key, answers in sorted(grouped.items()):
        scores = [1 if a["correct"] else 0 for a in answers]
        questions.append(QuestionScore(key, answers, statistics.fmean(scores), coefficient_of_variation(scores)))
    return questions


def select(questions: list[QuestionScore], min_pass_rate: float = 0.0, cv_threshold: float = 0.5,
           top_k: int | None = None) -> list[tuple[QuestionScore, dict]]:
    """(question, answer) pairs kept by stage 1, then stage 2 when top_k is given."""
    stage1 = []
    for q in questions:
        if q.pass_rate <= min_pass_rate:
            continue
        keep_only_passing = q.cv is not None and q.cv >= cv_threshold
        stage1 += [(q, a) for a in q.answers if a["correct"] or not keep_only_passing]
    if top_k is None:
        return stage1
    ranked = sorted({id(q): q for q, _ in stage1}.values(), key=lambda q: (-(q.cv or 0.0), q.key))[:top_k]
    chosen = {id(q) for q in ranked}
    first_passing = {}
    for q, a in stage1:
        if id(q) in chosen and a["correct"] and id(q) not in first_passing:
            first_passing[id(q)] = (q, a)
    return [first_passing[id(q)] for q in ranked if id(q) in first_passing]


def cv_for(n: int, passes: int) -> float | None:
    """The closed form of the population CV for n 0/1 scores with `passes` ones."""
    if passes == 0:
        return None
    p = passes / n
    return math.sqrt(p * (1 - p)) / p


def plot_pass_rates(questions: list[QuestionScore], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=110)
    ax.hist([q.pass_rate for q in questions], bins=[i / 10 for i in range(11)], color="#1f77b4", edgecolor="white")
    ax.set_xlabel("pass rate")
    ax.set_ylabel("questions")
    ax.set_title(f"Pass rates of {len(questions)} questions")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
