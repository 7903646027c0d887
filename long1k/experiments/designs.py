"""Length vs difficulty at equal length: easy problems made long by stitching several of them
(composite, or exactly two: double) against difficult single problems of the same length.

Difficulty comes from the source's own level (s1K-1.1's `metadata` records MATH levels 1-5) or from
a file of measured pass rates (`--difficulty_file`: CSV with problem_key and pass_rate, e.g. from
scripts/grade_difficulty.py; difficulty = 1 - pass rate). Both sets get the same number of rows and
a mean response length within the tolerance of the target. The paper's other design, the same
problems at four solution lengths, is scripts/build_length_levels.py --levels 2588 3425 4355 5986.
"""

from __future__ import annotations

import csv
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.builder import (
    BuilderConfig,
    PartPool,
    compose,
    fit_block,
    measurer_for,
    open_pool,
    write_dataset,
)
from long1k.reporting import write_table


@dataclass
class DesignConfig(BuilderConfig):
    source: str = field(default="s1", metadata={"help": "openthoughts or s1 (s1 records difficulty levels)"})
    target_tokens: int = field(default=4000, metadata={"help": "response length of every row"})
    rows: int = field(default=500, metadata={"help": "rows per set"})
    easy_max: float = field(default=2, metadata={"help": "easy: difficulty at most this"})
    hard_min: float = field(default=3, metadata={"help": "hard: difficulty at least this"})
    easy_parts: int = field(default=0, metadata={"help": "problems per easy row: 2 = double, 0 = as many as needed"})
    difficulty_file: str | None = field(default=None, metadata={
        "help": "CSV problem_key,pass_rate; difficulty = 5 x (1 - pass rate), on the level scale"})


def difficulties(config: DesignConfig, pool: PartPool) -> dict[str, float]:
    if config.difficulty_file is None:
        if not pool.levels:
            raise Long1kError(f"{config.source}: the source records no difficulty level; pass --difficulty_file")
        return pool.levels
    path = Path(config.difficulty_file)
    try:
        with path.open(newline="") as handle:
            return {row["problem_key"]: 5.0 * (1.0 - float(row["pass_rate"])) for row in csv.DictReader(handle)}
    except (OSError, KeyError, ValueError) as err:
        raise Long1kError(f"{path}: expected a CSV with problem_key and pass_rate columns ({err})") from None


def build_designs(config: DesignConfig) -> dict[str, dict]:
    rng = random.Random(config.seed)
    measurer = measurer_for(config)
    pool = open_pool(config, measurer, rng)
    level = difficulties(config, pool)
    pool.levels = level  # the manifest records the difficulty each part was chosen by
    rated = [p for p in pool.parts if p.candidate.key in level]
    easy = [p for p in rated if level[p.candidate.key] <= config.easy_max]
    target, tol = config.target_tokens, config.tolerance
    hard = list({p.candidate.key: p for p in rated  # distinct problems only
                 if level[p.candidate.key] >= config.hard_min
                 and abs(pool.estimate([p]) - target) <= tol * target}.values())
    if len(hard) < config.rows:
        raise Long1kError(f"only {len(hard)} hard problems have a trace within {tol:.0%} of {target} tokens; lower "
                          "--rows, change --target_tokens or raise --tolerance")
    hard_examples = [compose([p], pool, config, measurer, rng, kind="hard_single") for p in hard[: config.rows]]
    easy_bases = [p for p in easy if pool.estimate([p]) < target * (1 - tol)]
    easy_examples = []
    for base in easy_bases:
        if len(easy_examples) == config.rows:
            break
        parts = pool.fill([base], easy, rng.randrange(len(easy)), target, tol, max_parts=config.easy_parts or None)
        right_count = len(parts) > 1 and (not config.easy_parts or len(parts) == config.easy_parts)
        if right_count and abs(pool.estimate(parts) - target) <= tol * target:
            easy_examples.append(compose(parts, pool, config, measurer, rng, kind="easy_composite"))
    if len(easy_examples) < config.rows:
        raise Long1kError(f"only {len(easy_examples)} easy composite rows reach {target} tokens; lower --rows")
    results = {}
    for name, examples in (("easy_composite", easy_examples), ("hard_single", hard_examples)):
        examples, dropped = fit_block(examples, measurer, name)
        levels = [statistics.fmean(level[s["problem_key"]] for s in e.sources) for e in examples]
        lengths = [e.response_tokens for e in examples]
        write_dataset(Path(config.out) / name, examples, {
            "target_tokens": target, "tolerance": tol, "difficulty_mean": statistics.fmean(levels),
            "difficulty_source": config.difficulty_file or f"{config.source} metadata level",
            "dropped_over_block_size": dropped}, title=name, config=config)
        results[name] = {"rows": len(examples), "mean_tokens": statistics.fmean(lengths),
                         "median_tokens": statistics.median(lengths), "difficulty_mean": statistics.fmean(levels),
                         "problems_per_row": statistics.fmean(len(e.sources) for e in examples)}
    header = ["set", "rows", "mean tokens", "median", "mean difficulty", "problems per row"]
    rows = [[name, r["rows"], f"{r['mean_tokens']:.0f}", f"{r['median_tokens']:.0f}", f"{r['difficulty_mean']:.2f}",
             f"{r['problems_per_row']:.1f}"] for name, r in results.items()]
    print(write_table(Path(config.out), "designs", header, rows))
    return results


def main(argv: list[str] | None = None) -> None:
    build_designs(parse_config(DesignConfig, argv, description=__doc__))
