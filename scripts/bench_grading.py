#!/usr/bin/env python
"""Grading benchmark: a few thousand long generated answers with hard cases (several and nested boxes,
truncated outputs, power towers), graded in killable worker processes.

Prints items per second per core, the count of timeouts, and whether the verdicts equal those of a
single-worker run. Target: at least 200 items/s per core, no hang.

    python scripts/bench_grading.py [--items 3000] [--workers 2] [--timeout 3]
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.fixtures.model_answers import generated_answers
from long1k.jsonl import iter_jsonl
from long1k.reporting import markdown_table
from long1k.scoring.pool import Task, grade_many
from long1k.tasks import get_task


def run(rows: list[dict], workers: int, timeout: float) -> tuple[float, list]:
    tasks = [Task(r.get("answer_kind") or get_task(r["benchmark"]).answer_kind, r["answer"], r["response"])
             for r in rows]
    started = time.perf_counter()
    verdicts = grade_many(tasks, workers=workers, timeout=timeout, progress=False)
    return time.perf_counter() - started, verdicts


def report(title: str, rows: list[dict], worker_counts: list[int], timeout: float) -> float:
    """Grade with each worker count; print the table; return items/s per core of the largest count."""
    print(f"\n## {title}\n")
    results, lines = {}, []
    for workers in worker_counts:
        seconds, verdicts = run(rows, workers, timeout)
        results[workers] = verdicts
        timeouts = sum(v.reason.startswith("timeout") for v in verdicts)
        lines.append([workers, f"{seconds:.1f}", f"{len(rows) / seconds:,.0f}", f"{len(rows) / seconds / workers:,.0f}",
                      timeouts, sum(v.correct for v in verdicts)])
    print(markdown_table(["workers", "wall s", "items/s", "items/s per core", "timeouts", "correct"], lines))
    print(f"same verdicts as the single-worker run: {len({tuple(v) for v in results.values()}) == 1}")
    return len(rows) / seconds / workers


@dataclass
class BenchGradingOptions:
    items: int = field(default=3000, metadata={"help": "generated answers to grade"})
    workers: int = field(default=os.cpu_count() or 2, metadata={"help": "grading processes (also 1, for reference)"})
    timeout: float = field(default=3.0, metadata={"help": "seconds per item before its worker is killed"})
    towers_every: int = field(default=1000, metadata={"help": "one power tower per N items (0: none)"})
    real: str | None = field(default=None, metadata={
        "help": "also grade real models' outputs: a folder of prediction JSONL files (e.g. ../shared/generations)"})


def main() -> None:
    args = parse_config(BenchGradingOptions, description=__doc__)
    counts = sorted({1, args.workers})

    rows = generated_answers(args.items, seed=0)
    mean_chars = sum(len(r["response"]) for r in rows) / len(rows)
    print(f"{len(rows)} answers, mean {mean_chars:,.0f} characters; cases {dict(Counter(r['case'] for r in rows))}")
    per_core = report("throughput (no hanging items)", rows, counts, args.timeout)
    if args.towers_every:
        towers = generated_answers(args.items, seed=0, towers_every=args.towers_every)
        report(f"with a power tower every {args.towers_every} items (each costs one {args.timeout:g} s timeout)",
               towers, counts, args.timeout)
    print(f"\ntarget >= 200 items/s per core: {'met' if per_core >= 200 else 'MISSED'} ({per_core:,.0f})")
    if args.real:
        real = [row for path in sorted(Path(args.real).rglob("*.jsonl")) for _, row in iter_jsonl(path)]
        mean_chars = sum(len(r["response"]) for r in real) / len(real)
        report(f"real outputs: {len(real)} rows from {args.real}, mean {mean_chars:,.0f} characters", real, counts,
               args.timeout)


if __name__ == "__main__":
    main()
