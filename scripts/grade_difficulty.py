#!/usr/bin/env python
"""Difficulty grading from graded predictions with several samples per question.

    python scripts/grade_difficulty.py --graded outputs/scores --out outputs/difficulty \
        --cv_threshold 0.5 [--top_k 500]

Per question: pass rate and coefficient of variation (population std / mean of the 0/1 scores).
Stage 1 keeps questions with pass rate > --min_pass_rate and, when CV >= --cv_threshold, only their
passing answers; stage 2 (--top_k) keeps the highest-CV questions with one passing answer each.
Writes questions.csv, pass_rate_histogram.png and the selection as a training set in the synthesis
output format (data/, manifest.jsonl, stats.json).
"""

import argparse
import csv
import json
from pathlib import Path

from long1k.errors import Long1kError, run_main
from long1k.experiments.difficulty import plot_pass_rates, score_questions, select
from long1k.experiments.trace_analysis import read_graded
from long1k.formats import THOUGHT_SOLUTION_SYSTEM
from long1k.synthesis import output
from long1k.synthesis.sampling import Example, Measurer
from long1k.tokenizer import QWEN_DEFAULT_SYSTEM, load_tokenizer


def as_example(question, answer: dict) -> Example:
    if "problem" not in answer:
        raise Long1kError(f"{answer['benchmark']} {answer['id']}: graded row without 'problem' (predictions from "
                          "eval/predict.py carry it)")
    response = answer["response"]
    system = THOUGHT_SOLUTION_SYSTEM if "<|begin_of_thought|>" in response else QWEN_DEFAULT_SYSTEM
    messages = [{"role": "system", "content": system}, {"role": "user", "content": answer["problem"]},
                {"role": "assistant", "content": response}]
    source = {"dataset": answer["benchmark"], "id": answer["id"], "model": answer["model"], "seed": answer["seed"],
              "sample": answer["sample"], "pass_rate": question.pass_rate, "cv": question.cv}
    return Example("graded", messages, [source], [answer.get("response_tokens") or 0], answer["benchmark"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graded", nargs="+", required=True, help="graded.jsonl files or folders holding them")
    parser.add_argument("--grader", default="rule")
    parser.add_argument("--out", default="outputs/difficulty")
    parser.add_argument("--min_pass_rate", type=float, default=0.0)
    parser.add_argument("--cv_threshold", type=float, default=0.5)
    parser.add_argument("--top_k", type=int, default=None)
    parser.add_argument("--tokenizer", default="offline")
    args = parser.parse_args(argv)
    questions = score_questions(read_graded([Path(p) for p in args.graded], args.grader))
    if all(len(q.answers) < 2 for q in questions):
        raise Long1kError("difficulty grading needs several answers per question (--n_samples or --seeds)")
    out = Path(args.out)
    output.check_out_dir(out)
    selection = select(questions, args.min_pass_rate, args.cv_threshold, args.top_k)
    if not selection:
        raise Long1kError("no answer passes the thresholds; lower --min_pass_rate or --cv_threshold")
    examples = [as_example(q, a) for q, a in selection]
    Measurer(load_tokenizer(args.tokenizer), None, block_size=10**9).measure(examples)
    for number, example in enumerate(examples):
        example.id = f"graded-{number:05d}"
    output.prepare_out_dir(out)
    shards = output.write_shards(out, examples, shard_size=500)
    output.write_manifest(out / "manifest.jsonl", examples)
    output.write_histogram(out / "length_histogram.png", examples, block_size=10**9, title="Difficulty selection")
    plot_pass_rates(questions, out / "pass_rate_histogram.png")
    with (out / "questions.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["benchmark", "id", "answers", "pass_rate", "cv"])
        for q in questions:
            writer.writerow([*q.key, len(q.answers), f"{q.pass_rate:.4f}", "" if q.cv is None else f"{q.cv:.4f}"])
    stats = {"config": vars(args), "cv": "population standard deviation / mean of 0/1 scores",
             "questions": len(questions), "selected_answers": len(examples),
             "selected_questions": len({q.key for q, _ in selection}), "rows": len(examples),
             "tokens": output.token_summary(examples), "data_sha256": output.digest(shards)}
    (out / output.STATS_FILE).write_text(json.dumps(stats, indent=2) + "\n")
    print(f"{len(questions)} questions graded; selected {stats['selected_answers']} answers of "
          f"{stats['selected_questions']} questions -> {out}/data/, questions.csv, pass_rate_histogram.png")


if __name__ == "__main__":
    run_main(main)
