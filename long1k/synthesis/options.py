"""Option groups shared by the synthesis and the experiments' builders: how parts are stitched
(reasoning format, linking phrases) and how a dataset is screened and written (block size, seed,
decontamination, shard size). A stage's config composes the groups it uses, so every option it
shows has an effect."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from long1k.decontam import THRESHOLD, BenchmarkIndex, load_benchmark_index
from long1k.errors import Long1kError
from long1k.formats import FORMATS

DEFAULT_BENCHMARKS_DIR = "outputs/benchmarks"
# Linking phrases: {nth} / {Nth} is the problem a phrase introduces (second, third, ..., and "last" for
# the final one of three or more), {prev} / {Prev} the one before it; a phrase without them fits any place.
DEFAULT_QUESTION_LINKS = [
    "Next, answer this {nth} question:",
    "Also solve the following problem:",
    "In addition, consider another problem:",
    "Once that is done, work out this one as well:",
    "Here is a {nth}, separate question:",
    "After that, please solve:",
]
DEFAULT_REASONING_LINKS = [
    "Okay, that settles the {prev} problem. Now let me turn to the {nth} one.",
    "Alright, the {prev} question is done. Moving on to the next problem.",
    "So much for the {prev} part. Next, the {nth} question.",
    "Now that the {prev} answer is found, let me work on the {nth} problem.",
    "Good, the {prev} problem is solved. Let's now tackle the {nth} one.",
]
DEFAULT_SOLUTION_LINKS = [
    "For the {nth} problem:",
    "{Nth} question:",
    "Turning to the {nth} problem:",
    "Next, the {nth} problem:",
    "As for the {nth} question:",
]
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
LINK_KINDS = ("question", "reasoning", "solution")


def ordinal(position: int) -> str:
    return ORDINALS[position - 1] if position <= len(ORDINALS) else f"{position}th"


def render_link(phrase: str, position: int, parts: int) -> str:
    """A phrase introducing part `position` (1-based, >= 2) of a row of `parts` parts."""
    nth = "last" if parts >= 3 and position == parts else ordinal(position)
    prev = ordinal(position - 1)
    for key, value in (("{nth}", nth), ("{Nth}", nth.capitalize()), ("{prev}", prev), ("{Prev}", prev.capitalize())):
        phrase = phrase.replace(key, value)
    return phrase


def _help(text: str) -> dict:
    return {"help": text}


def domains_field() -> list[str]:
    return field(default_factory=lambda: ["math"], metadata=_help(
        "OpenThoughts domains to stitch; the paper uses math only"))


@dataclass
class StitchOptions:
    reasoning_format: str = field(default="openthoughts", metadata=_help(
        f"assistant turn layout: {', '.join(FORMATS)}"))
    question_links: list[str] = field(default_factory=lambda: list(DEFAULT_QUESTION_LINKS),
                                      metadata=_help("phrases introducing each further problem in the user turn "
                                                     "({nth}, {Nth}, {prev}, {Prev} name the positions)"))
    reasoning_links: list[str] = field(default_factory=lambda: list(DEFAULT_REASONING_LINKS),
                                       metadata=_help("phrases joining consecutive reasoning traces"))
    solution_links: list[str] = field(default_factory=lambda: list(DEFAULT_SOLUTION_LINKS),
                                      metadata=_help("phrases joining consecutive solutions"))

    def draw_links(self, rng, parts: int) -> list[dict[str, str]]:
        """The phrases joining `parts` parts (links[i] introduces part i + 2): drawn per row, without
        repeating a phrase within the row while the list lasts, and rendered for each position."""
        draws = {}
        for kind in LINK_KINDS:
            phrases = getattr(self, f"{kind}_links")
            count = parts - 1
            draws[kind] = rng.sample(phrases, count) if count <= len(phrases) else rng.choices(phrases, k=count)
        return [{kind: render_link(draws[kind][i], i + 2, parts) for kind in LINK_KINDS} for i in range(parts - 1)]

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
    block_size: int = field(default=32768, metadata=_help(
        "rows whose chat-templated text has more tokens are dropped and counted, never truncated"))
    seed: int = field(default=42, metadata=_help("random seed: same inputs + seed = same bytes"))
    decontaminate: bool = field(default=True, metadata=_help("drop source rows that overlap a benchmark problem"))
    benchmarks_dir: str | None = field(default=None, metadata=_help(
        "prepared benchmark files for decontamination (default: the fixture benchmarks when the sources are "
        "fixtures, else outputs/benchmarks)"))
    ngram: int = field(default=8, metadata=_help("word n-gram size of the decontamination check"))
    contamination_threshold: float = field(default=THRESHOLD, metadata=_help(
        "a source problem holding this share of a benchmark item's n-grams is a copy of it and dropped"))
    shard_size: int = field(default=500, metadata=_help("rows per JSON shard under OUT/data/"))

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
            from long1k.prepare import prepared_fixture_benchmarks

            return load_benchmark_index(prepared_fixture_benchmarks(), self.ngram, self.contamination_threshold)
        if Path(DEFAULT_BENCHMARKS_DIR).is_dir():
            return load_benchmark_index(DEFAULT_BENCHMARKS_DIR, self.ngram, self.contamination_threshold)
        raise Long1kError(
            f"no benchmark files to decontaminate against: run `python -m long1k prepare-benchmarks --out "
            f"{DEFAULT_BENCHMARKS_DIR}` (or pass --benchmarks_dir DIR), or pass --decontaminate false"
        )
