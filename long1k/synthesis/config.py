"""Options of `python data/synthesize.py`, with the defaults the README explains.

The paper publishes neither the share of s1.1 rows nor the token budgets ("dynamically adjusted"),
so every such number is an option; the defaults aim at the released set's name, `open_s11_32k_1k`:
1,000 rows, at most 32k tokens each, mostly stitched OpenThoughts pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from long1k.errors import Long1kError
from long1k.formats import FORMATS
from long1k.tokenizer import OFFLINE_TOKENIZER

FIXTURES = "fixtures"

DEFAULT_QUESTION_LINKS = [
    "Next, answer this second question:",
    "Also solve the following problem:",
    "In addition, consider another problem:",
    "Once that is done, work out this one as well:",
    "Here is a second, separate question:",
    "After that, please solve:",
]
DEFAULT_REASONING_LINKS = [
    "Okay, that settles the first problem. Now let me turn to the second one.",
    "Alright, the first question is done. Moving on to the next problem.",
    "So much for the first part. Next, the second question.",
    "Now that the first answer is found, let me work on the second problem.",
    "Good, the first problem is solved. Let's now tackle the other one.",
]
DEFAULT_SOLUTION_LINKS = [
    "For the second problem:",
    "Second question:",
    "Turning to the second problem:",
    "Next, the second problem:",
    "As for the other question:",
]


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class SynthesisConfig:
    out: str = field(default="outputs/long1k", metadata=_help("output folder"))
    openthoughts: str = field(default=FIXTURES, metadata=_help(
        "OpenThoughts-114k: a hub id (open-thoughts/OpenThoughts-114k), a local json/jsonl/parquet/csv file or "
        "folder, or 'fixtures' for the generated offline source"))
    openthoughts_config: str = field(default="metadata", metadata=_help("hub config of --openthoughts"))
    openthoughts_split: str = field(default="train", metadata=_help("hub split of --openthoughts"))
    s1: str = field(default=FIXTURES, metadata=_help(
        "s1K-1.1: a hub id (simplescaling/s1K-1.1), a local file or folder, or 'fixtures'"))
    s1_split: str = field(default="train", metadata=_help("hub split of --s1"))
    tokenizer: str = field(default=OFFLINE_TOKENIZER, metadata=_help(
        "tokenizer that counts tokens and applies the chat template: 'offline' (Qwen2.5 ids, no download), "
        "a hub id or a local folder"))
    num_samples: int = field(default=1000, metadata=_help("rows to write"))
    s1_share: float = field(default=0.3, metadata=_help("share of rows taken from s1.1 (0..1)"))
    s1_min_tokens: int = field(default=1024, metadata=_help(
        "s1.1 rows need at least this many tokens in deepseek trajectory + attempt"))
    s1_max_tokens: int = field(default=32768, metadata=_help("... and at most this many"))
    s1_require_correct: bool = field(default=False, metadata=_help(
        "keep only s1.1 rows whose deepseek_grade is 'Yes' (s1.1 itself trains on all rows)"))
    pair_min_tokens: int = field(default=0, metadata=_help("stitched rows need at least this many response tokens"))
    pair_max_tokens: int = field(default=32768, metadata=_help("... and at most this many"))
    part_min_tokens: int = field(default=0, metadata=_help(
        "each half of a pair needs at least this many tokens (reasoning + solution): a length band"))
    part_max_tokens: int = field(default=32768, metadata=_help("... and at most this many"))
    pair_source: str = field(default="any", metadata=_help(
        "pair problems from the same OpenThoughts 'source' (same), from different ones (different), or any"))
    domains: list[str] = field(default_factory=lambda: ["math"], metadata=_help(
        "OpenThoughts domains to stitch; the paper uses math only"))
    reuse_problems: bool = field(default=False, metadata=_help(
        "allow one problem in several pairs (default: each problem at most once)"))
    reasoning_format: str = field(default="openthoughts", metadata=_help(
        f"assistant turn layout: {', '.join(FORMATS)}"))
    question_links: list[str] = field(default_factory=lambda: list(DEFAULT_QUESTION_LINKS),
                                      metadata=_help("phrases joining the two problems in the user turn"))
    reasoning_links: list[str] = field(default_factory=lambda: list(DEFAULT_REASONING_LINKS),
                                       metadata=_help("phrases joining the two reasoning traces"))
    solution_links: list[str] = field(default_factory=lambda: list(DEFAULT_SOLUTION_LINKS),
                                      metadata=_help("phrases joining the two solutions"))
    block_size: int = field(default=32768, metadata=_help(
        "rows whose chat-templated text has more tokens are dropped and counted, never truncated"))
    seed: int = field(default=42, metadata=_help("random seed: same inputs + seed = same bytes"))
    decontaminate: bool = field(default=True, metadata=_help("drop source rows that overlap a benchmark problem"))
    benchmarks_dir: str | None = field(default=None, metadata=_help(
        "prepared benchmark files for decontamination (default: the fixture benchmarks when the sources are "
        "fixtures, else outputs/benchmarks)"))
    ngram: int = field(default=8, metadata=_help("word n-gram size of the decontamination check"))
    shard_size: int = field(default=500, metadata=_help("rows per JSON shard under OUT/data/"))

    @property
    def uses_fixtures(self) -> bool:
        return self.openthoughts == FIXTURES and self.s1 == FIXTURES

    def validate(self) -> None:
        problems = []
        if self.num_samples < 1:
            problems.append("--num_samples must be at least 1")
        if not 0.0 <= self.s1_share <= 1.0:
            problems.append("--s1_share must lie in [0, 1]")
        for low, high in (("s1_min_tokens", "s1_max_tokens"), ("pair_min_tokens", "pair_max_tokens"),
                          ("part_min_tokens", "part_max_tokens")):
            if getattr(self, low) > getattr(self, high):
                problems.append(f"--{low} ({getattr(self, low)}) exceeds --{high} ({getattr(self, high)})")
        if self.pair_source not in ("any", "same", "different"):
            problems.append(f"--pair_source must be any, same or different, not {self.pair_source!r}")
        if self.reasoning_format not in FORMATS:
            problems.append(f"--reasoning_format must be one of {sorted(FORMATS)}")
        for name in ("question_links", "reasoning_links", "solution_links"):
            if not getattr(self, name) or not all(p.strip() for p in getattr(self, name)):
                problems.append(f"--{name} needs at least one non-empty phrase")
        if self.block_size < 1 or self.shard_size < 1 or self.ngram < 1:
            problems.append("--block_size, --shard_size and --ngram must be positive")
        if not self.domains:
            problems.append("--domains needs at least one domain")
        if problems:
            raise Long1kError("; ".join(problems))
