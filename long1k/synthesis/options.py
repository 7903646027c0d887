"""Option groups shared by the synthesis and the experiments' builders: how parts are stitched
(reasoning format, linking phrases) and how a dataset is screened and written (block size, seed,
decontamination, shard size). A stage's config composes the groups it uses, so every option it
shows has an effect."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import help_text
from long1k.decontamination.index import THRESHOLD, BenchmarkIndex, load_benchmark_index
from long1k.errors import Long1kError
from long1k.formats import FORMATS
from long1k.links import (
    DEFAULT_QUESTION_LINKS,
    DEFAULT_REASONING_LINKS,
    DEFAULT_SOLUTION_LINKS,
    LINK_KINDS,
    draw_links,
)

DEFAULT_BENCHMARKS_DIR = "outputs/benchmarks"

def domains_field() -> list[str]:
    return field(default_factory=lambda: ["math"], metadata=help_text(
        "OpenThoughts domains to stitch; the paper uses math only"))


@dataclass
class StitchOptions:
    reasoning_format: str = field(default="openthoughts", metadata=help_text(
        f"assistant turn layout: {', '.join(FORMATS)}"))
    question_links: list[str] = field(default_factory=lambda: list(DEFAULT_QUESTION_LINKS),
                                      metadata=help_text("phrases introducing each further problem in the user turn "
                                                     "({nth}, {Nth}, {prev}, {Prev} name the positions)"))
    reasoning_links: list[str] = field(default_factory=lambda: list(DEFAULT_REASONING_LINKS),
                                       metadata=help_text("phrases joining consecutive reasoning traces"))
    solution_links: list[str] = field(default_factory=lambda: list(DEFAULT_SOLUTION_LINKS),
                                      metadata=help_text("phrases joining consecutive solutions"))

    def draw_links(self, rng, parts: int) -> list[dict[str, str]]:
        """This row's linking phrases (long1k/links.py)."""
        return draw_links(rng, parts, {kind: getattr(self, f"{kind}_links") for kind in LINK_KINDS})

    def stitch_problems(self) -> list[str]:
        problems = []
        if self.reasoning_format not in FORMATS:
            problems.append(f"--reasoning_format must be one of {sorted(FORMATS)}")
        for name in ("question_links", "reasoning_links", "solution_links"):
            if not getattr(self, name) or not all(p.strip() for p in getattr(self, name)):
                problems.append(f"--{name} needs at least one non-empty phrase")
        return problems


@dataclass
class DatasetOptions:
    block_size: int = field(default=32768, metadata=help_text(
        "rows whose chat-templated text has more tokens are dropped and counted, never truncated"))
    seed: int = field(default=42, metadata=help_text("random seed: same inputs + seed = same bytes"))
    decontaminate: bool = field(default=True, metadata=help_text("drop source rows that overlap a benchmark problem"))
    benchmarks_dir: str | None = field(default=None, metadata=help_text(
        "prepared benchmark files for decontamination (default: the fixture benchmarks when the sources are "
        "fixtures, else outputs/benchmarks)"))
    ngram: int = field(default=8, metadata=help_text("word n-gram size of the decontamination check"))
    contamination_threshold: float = field(default=THRESHOLD, metadata=help_text(
        "a source problem holding this share of a benchmark item's n-grams is a copy of it and dropped"))
    shard_size: int = field(default=500, metadata=help_text("rows per JSON shard under OUT/data/"))

    def dataset_problems(self) -> list[str]:
        if self.block_size < 1 or self.shard_size < 1 or self.ngram < 1:
            return ["--block_size, --shard_size and --ngram must be positive"]
        if not 0 < self.contamination_threshold <= 1:
            return ["--contamination_threshold must lie in (0, 1]"]
        return []

    def benchmark_index(self, uses_fixtures: bool) -> BenchmarkIndex | None:
        """The benchmark problems to decontaminate against, or None when decontamination is off."""
        if not self.decontaminate:
            print("warning: decontamination is off (--decontaminate false)")
            return None
        if self.benchmarks_dir:
            return load_benchmark_index(self.benchmarks_dir, self.ngram, self.contamination_threshold)
        if uses_fixtures:
            from long1k.tasks.prepare import prepared_fixture_benchmarks

            return load_benchmark_index(prepared_fixture_benchmarks(), self.ngram, self.contamination_threshold)
        if Path(DEFAULT_BENCHMARKS_DIR).is_dir():
            return load_benchmark_index(DEFAULT_BENCHMARKS_DIR, self.ngram, self.contamination_threshold)
        raise Long1kError(
            f"no benchmark files to decontaminate against: run `python -m long1k prepare-benchmarks --out "
            f"{DEFAULT_BENCHMARKS_DIR}` (or pass --benchmarks_dir DIR), or pass --decontaminate false"
        )
