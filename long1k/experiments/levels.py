"""Length levels: the same questions at several target reasoning lengths (the paper's 1k ... 12k).

Every row of every level starts with the same base question (its own trace and solution); the
length is reached by stitching further problems, choosing among the pool's traces the ones whose
lengths fit the remaining budget. Base questions are those whose own part lies within the tolerance
of the shortest level, so that level holds them alone. Lengths are response tokens (the assistant
turn: reasoning and solution), measured exactly after rendering.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.experiments.builder import (
    BuilderConfig,
    compose,
    fit_block,
    measurer_for,
    open_pool,
    write_dataset,
)
from long1k.reporting import write_table


@dataclass
class LevelsConfig(BuilderConfig):
    levels: list[int] = field(default_factory=lambda: [1000, 1500, 2000, 3000, 6000, 12000],
                              metadata={"help": "target response lengths in tokens"})
    questions: int = field(default=500, metadata={"help": "questions per level (the same at every level)"})


def build_levels(config: LevelsConfig) -> list[dict]:
    if sorted(config.levels) != config.levels or len(set(config.levels)) != len(config.levels):
        raise Long1kError("--levels must be increasing")
    rng = random.Random(config.seed)
    measurer = measurer_for(config)
    pool = open_pool(config, measurer, rng)
    shortest = config.levels[0]
    bases = list({p.candidate.key: p for p in pool.parts  # distinct problems only
                  if abs(pool.estimate([p]) - shortest) <= config.tolerance * shortest}.values())
    if len(bases) < config.questions:
        raise Long1kError(f"only {len(bases)} source problems have a trace within {config.tolerance:.0%} of "
                          f"{shortest} tokens; lower --questions, raise --tolerance or add --max_parts")
    bases = bases[: config.questions]
    base_keys = {p.candidate.key for p in bases}
    fillers = [p for p in pool.parts if p.candidate.key not in base_keys]
    summary = []
    for level in config.levels:
        examples = [compose(pool.fill([base], fillers, rng.randrange(len(fillers)), level, config.tolerance), pool,
                            config, measurer, rng, kind=f"level_{level}") for base in bases]
        examples, dropped = fit_block(examples, measurer, f"level_{level}")
        lengths = [e.response_tokens for e in examples]
        within = sum(abs(n - level) <= config.tolerance * level for n in lengths)
        stats = write_dataset(Path(config.out) / f"level_{level}", examples, {
            "target_tokens": level, "tolerance": config.tolerance, "within_tolerance": within,
            "dropped_over_block_size": dropped, "base_question_keys_sha": _keys_digest(examples),
            "parts_mean": statistics.fmean(len(e.part_tokens) for e in examples)},
            title=f"Length level {level}", config=config)
        summary.append({"level": level, "rows": len(examples), "mean": statistics.fmean(lengths),
                        "median": statistics.median(lengths), "within_tolerance_pct": 100 * within / len(lengths),
                        "parts_mean": stats["parts_mean"], "base_keys": stats["base_question_keys_sha"]})
    write_summary(Path(config.out), summary)
    return summary


def _keys_digest(examples) -> str:
    import hashlib

    return hashlib.sha256("\n".join(e.sources[0]["problem_key"] for e in examples).encode()).hexdigest()[:16]


def write_summary(out: Path, summary: list[dict]) -> None:
    header = ["level", "rows", "mean tokens", "median", "within tolerance", "problems per row", "base questions"]
    rows = [[s["level"], s["rows"], f"{s['mean']:.0f}", f"{s['median']:.0f}", f"{s['within_tolerance_pct']:.0f}%",
             f"{s['parts_mean']:.1f}", s["base_keys"]] for s in summary]
    table = write_table(out, "levels", header, rows, csv_rows=[list(s.values()) for s in summary],
                        csv_header=list(summary[0]))
    print(table)
    print(f"wrote {out}/level_*/ (synthesis format), levels.md, levels.csv")


def main(argv: list[str] | None = None) -> None:
    build_levels(parse_config(LevelsConfig, argv, description=__doc__))
