"""Shared machinery of the controlled datasets: a pool of tokenized source parts, rows stitched from
several parts up to a target length, and writing each dataset in the synthesis output format."""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from pathlib import Path

from long1k.errors import Long1kError
from long1k.formats import get_format
from long1k.links import render_link
from long1k.source_options import OutputOption, SourceOptions, is_fixture_location, open_source
from long1k.source_schemas import SCHEMAS, get_schema
from long1k.sources import SkipLog, Source
from long1k.synthesis import output
from long1k.synthesis.options import DatasetOptions, StitchOptions, domains_field
from long1k.synthesis.sampling import Example, Measurer, Part, source_ref, stitch_parts
from long1k.synthesis.validate import drop_contaminated, screen_source
from long1k.tokenizer import load_tokenizer

EXPERIMENTS, DEMO_EXPERIMENTS = "outputs/experiments", "outputs/demo/experiments"
"""Where builders write their datasets without --out (from real sources, from generated ones)."""


@dataclass
class BuilderConfig(DatasetOptions, StitchOptions, SourceOptions, OutputOption):
    """What every controlled-set builder shares: sources, stitching, screening and writing."""

    source: str = field(default="openthoughts", metadata={"help": f"source of the parts: {', '.join(SCHEMAS)}"})
    domains: list[str] = domains_field()
    tolerance: float = field(default=0.1, metadata={"help": "relative tolerance on target lengths (response tokens)"})
    max_parts: int = field(default=20000, metadata={"help": "at most this many source rows are tokenized"})

    def __post_init__(self) -> None:
        self.out = self.out or (DEMO_EXPERIMENTS if self.generated_sources else EXPERIMENTS)

    @property
    def generated_sources(self) -> list[str]:
        """A builder reads one source: only it decides whether the data is generated."""
        return [self.source] if is_fixture_location(getattr(self, self.source)) else []


@dataclass
class PartPool:
    """Tokenized parts of one source, with their difficulty when known (the source's own level, or a
    builder's measured difficulty on the same scale) and the measured cost of stitching them."""

    source: Source
    parts: list[Part]
    levels: dict[str, float]  # problem key -> difficulty
    join_tokens: float  # a reasoning link and a solution link with their blank lines, on average
    marker_tokens: int  # the reasoning format's markers in one assistant turn

    def estimate(self, parts: list[Part]) -> int:
        """Expected response tokens of a row stitched from `parts`."""
        return round(sum(p.tokens for p in parts) + self.join_tokens * (len(parts) - 1) + self.marker_tokens)

    def fill(self, base: list[Part], fillers: list[Part], start: int, target: int, tolerance: float,
             max_parts: int | None = None) -> list[Part]:
        """`base` plus fillers, taken in order from `start`, that fit under the target's upper bound until
        the estimate reaches the lower bound (or `max_parts` parts are used)."""
        chosen = list(base)
        keys = {p.candidate.key for p in chosen}
        low, high = target * (1 - tolerance), target * (1 + tolerance)
        for step in range(len(fillers)):
            if self.estimate(chosen) >= low or (max_parts and len(chosen) >= max_parts):
                break
            candidate = fillers[(start + step) % len(fillers)]
            if candidate.candidate.key in keys or self.estimate([*chosen, candidate]) > high:
                continue
            chosen.append(candidate)
            keys.add(candidate.candidate.key)
        return chosen


def stitching_cost(config: BuilderConfig, measurer: Measurer) -> tuple[float, int]:
    """Tokens a join adds to the response (the mean of the reasoning and solution links, rendered, with
    their blank lines) and tokens of the format's markers: measured, not assumed."""
    def mean_tokens(phrases: list[str]) -> float:
        counts = measurer.count([f"\n\n{render_link(p, 2, 3)}\n\n" for p in phrases])
        return sum(counts) / len(counts)

    join = mean_tokens(config.reasoning_links) + mean_tokens(config.solution_links)
    (markers,) = measurer.count([measurer.fmt.assistant_turn("", "")])
    return join, markers


def open_pool(config: BuilderConfig, measurer: Measurer, rng: random.Random) -> PartPool:
    schema = get_schema(config.source)
    source = open_source(schema, config)
    skips = SkipLog()
    candidates = screen_source(source, schema, get_format(config.reasoning_format).reserved_strings, skips,
                               tuple(config.domains))
    index = config.benchmark_index(config.uses_fixtures)
    if index is not None:
        candidates = drop_contaminated(source, candidates, index, skips)
    skips.print_overflow()
    rng.shuffle(candidates)
    candidates = candidates[: config.max_parts]
    parts = []
    for start in range(0, len(candidates), 512):
        chunk = candidates[start : start + 512]
        traces, answers, totals = measurer.trace_and_answer(source, chunk, schema.trace, schema.answer)
        parts += [Part(c, t, a, n) for c, t, a, n in zip(chunk, traces, answers, totals, strict=True)]
    return PartPool(source, parts, source_levels(source, candidates), *stitching_cost(config, measurer))


def source_levels(source: Source, candidates) -> dict[str, float]:
    """Difficulty levels recorded by the source itself (s1K-1.1's `metadata` holds MATH levels)."""
    if "metadata" not in source.table.column_names:
        return {}
    levels = {}
    for candidate, text in zip(candidates, source.strings("metadata", [c.index for c in candidates]), strict=True):
        try:
            level = ast.literal_eval(text).get("level") if text else None
        except (ValueError, SyntaxError, AttributeError):
            level = None
        if isinstance(level, int | float):
            levels[candidate.key] = float(level)
    return levels


def compose(parts: list[Part], pool: PartPool, config: BuilderConfig, measurer: Measurer, rng: random.Random,
            kind: str) -> Example:
    links = config.draw_links(rng, len(parts))
    domains = {p.candidate.domain for p in parts}
    return Example(kind=kind, messages=stitch_parts(parts, links, measurer.fmt),
                   sources=[{**source_ref(pool.source, p.candidate), "difficulty": pool.levels.get(p.candidate.key)}
                            for p in parts],
                   part_tokens=[p.tokens for p in parts], domain=domains.pop() if len(domains) == 1 else "mixed",
                   links={"joins": links} if links else None)


def fit_block(examples: list[Example], measurer: Measurer, name: str) -> tuple[list[Example], int]:
    """Measure the rows and drop (counting) those over the block size: training would drop them anyway."""
    measurer.measure(examples)
    kept = [e for e in examples if e.text_tokens <= measurer.block_size]
    if not kept:
        raise Long1kError(f"{name}: no row fits --block_size {measurer.block_size} (the shortest has "
                          f"{min(e.text_tokens for e in examples)} tokens); raise it or lower the target")
    if len(kept) < len(examples):
        print(f"warning: {name}: {len(examples) - len(kept)} rows exceed --block_size {measurer.block_size} "
              "and are left out")
    return kept, len(examples) - len(kept)


def write_dataset(out: Path, examples: list[Example], extra_stats: dict, title: str, config: BuilderConfig) -> dict:
    """A dataset folder in the synthesis output format (data/, manifest.jsonl, stats.json, histogram); its
    stats record the reasoning format and tokenizer, as the synthesis's do, so that training records the
    format and prediction uses its template."""
    recorded = {"rows": len(examples), "reasoning_format": config.reasoning_format, "tokenizer": config.tokenizer,
                "config": {config.source: getattr(config, config.source)}}
    return output.write_dataset(out, examples, {**recorded, **extra_stats}, id_prefix=out.name,
                                shard_size=config.shard_size, title=title)


def measurer_for(config: BuilderConfig) -> Measurer:
    return Measurer(load_tokenizer(config.tokenizer), get_format(config.reasoning_format), config.block_size)
