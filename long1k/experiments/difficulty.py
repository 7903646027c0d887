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
import shutil
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.artifacts import DATASET_STATS
from long1k.chat import QWEN_DEFAULT_SYSTEM
from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.trace_analysis import GradedInputs
from long1k.formats import as_written, format_of_response
from long1k.reporting import figure, write_csv
from long1k.synthesis import output
from long1k.synthesis.sampling import Example, Measurer
from long1k.tokenizer import load_tokenizer


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
    with figure(path, figsize=(6, 3.8)) as (_, ax):
        ax.hist([q.pass_rate for q in questions], bins=[i / 10 for i in range(11)], color="#1f77b4",
                edgecolor="white")
        ax.set_xlabel("pass rate")
        ax.set_ylabel("questions")
        ax.set_title(f"Pass rates of {len(questions)} questions")


def as_example(question: QuestionScore, answer: dict) -> Example:
    """A selected answer as a training row, with the system prompt of the format it was written in."""
    if "problem" not in answer:
        raise Long1kError(f"{answer['benchmark']} {answer['id']}: graded row without 'problem' (predictions from "
                          "the predict stage carry it)")
    response = as_written(answer)
    fmt = format_of_response(response)
    system = fmt.system_prompt if fmt else QWEN_DEFAULT_SYSTEM
    messages = [{"role": "system", "content": system}, {"role": "user", "content": answer["problem"]},
                {"role": "assistant", "content": response}]
    source = {"dataset": answer["benchmark"], "id": answer["id"], "model": answer["model"], "seed": answer["seed"],
              "sample": answer["sample"], "pass_rate": question.pass_rate, "cv": question.cv}
    return Example("graded", messages, [source], [answer.get("response_tokens") or 0], answer["benchmark"])


def write_pass_rates(questions, out: Path) -> None:
    plot_pass_rates(questions, out / "pass_rate_histogram.png")
    write_csv(out / "questions.csv", ["benchmark", "id", "answers", "pass_rate", "cv"],
              [[*q.key, len(q.answers), f"{q.pass_rate:.4f}", "" if q.cv is None else f"{q.cv:.4f}"]
               for q in questions])


@dataclass
class DifficultyConfig(GradedInputs):
    out: str = field(default="outputs/difficulty", metadata={"help": "output folder"})
    min_pass_rate: float = field(default=0.0, metadata={"help": "stage 1: keep questions with a pass rate above"})
    cv_threshold: float = field(default=0.5, metadata={"help": "stage 1: at or above, keep only passing answers"})
    top_k: int | None = field(default=None, metadata={"help": "stage 2: the top_k highest-CV questions"})
    tokenizer: str = field(default="offline", metadata={"help": "tokenizer that counts the selection's tokens"})


def grade_difficulty(config: DifficultyConfig) -> dict:
    """Score every question, select answers, write the selection as a dataset plus questions.csv."""
    questions = score_questions(config.graded_rows())
    if all(len(q.answers) < 2 for q in questions):
        raise Long1kError("difficulty grading needs several answers per question (--n_samples or --seeds)")
    out = Path(config.out)
    output.check_out_dir(out)
    selection = select(questions, config.min_pass_rate, config.cv_threshold, config.top_k)
    if not selection:  # the pass rates are still a measurement: write them, select nothing
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out / "data", ignore_errors=True)  # an earlier selection would read as this one's
        for stale in ("manifest.jsonl", DATASET_STATS):
            (out / stale).unlink(missing_ok=True)
        write_pass_rates(questions, out)
        print(f"warning: {len(questions)} questions graded; no answer passes the thresholds (lower --min_pass_rate "
              f"or --cv_threshold): no training set written; {out}/questions.csv, pass_rate_histogram.png")
        return {"questions": len(questions), "selected_answers": 0, "selected_questions": 0, "rows": 0}
    examples = [as_example(q, a) for q, a in selection]
    Measurer(load_tokenizer(config.tokenizer), None, block_size=10**9).measure(examples)
    stats = output.write_dataset(out, examples, {
        "config": asdict(config), "cv": "population standard deviation / mean of 0/1 scores",
        "questions": len(questions), "selected_answers": len(examples),
        "selected_questions": len({q.key for q, _ in selection}), "rows": len(examples)},
        id_prefix="graded", title="Difficulty selection")
    write_pass_rates(questions, out)
    print(f"{len(questions)} questions graded; selected {stats['selected_answers']} answers of "
          f"{stats['selected_questions']} questions -> {out}/data/, questions.csv, pass_rate_histogram.png")
    return stats


def main(argv: list[str] | None = None) -> None:
    grade_difficulty(parse_config(DifficultyConfig, argv, description=__doc__))
