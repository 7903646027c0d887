"""Options of `python data/synthesize.py`, with the defaults docs/data.md explains.

The paper publishes neither the share of s1.1 rows nor the token budgets ("dynamically adjusted"),
so every such number is an option; the defaults aim at the released set's name, `open_s11_32k_1k`:
1,000 rows, at most 32k tokens each, mostly stitched OpenThoughts pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from long1k.configs import help_text, raise_problems
from long1k.source_options import OutputOption, SourceOptions, default_out
from long1k.synthesis.options import DatasetOptions, StitchOptions, domains_field


@dataclass
class SamplingOptions:
    """The synthesis' own options: how many rows of each part, and which lengths."""

    num_samples: int = field(default=1000, metadata=help_text("rows to write"))
    s1_share: float = field(default=0.3, metadata=help_text("share of rows taken from s1.1 (0..1)"))
    s1_min_tokens: int = field(default=1024, metadata=help_text(
        "s1.1 rows need at least this many tokens in deepseek trajectory + attempt"))
    s1_max_tokens: int = field(default=32768, metadata=help_text("... and at most this many"))
    s1_require_correct: bool = field(default=False, metadata=help_text(
        "keep only s1.1 rows whose deepseek_grade is 'Yes' (s1.1 itself trains on all rows)"))
    pair_min_tokens: int = field(default=0, metadata=help_text("stitched rows need at least this many response tokens"))
    pair_max_tokens: int = field(default=32768, metadata=help_text("... and at most this many"))
    part_min_tokens: int = field(default=0, metadata=help_text(
        "each half of a pair needs at least this many tokens (reasoning + solution): a length band"))
    part_max_tokens: int = field(default=32768, metadata=help_text("... and at most this many"))
    domains: list[str] = domains_field()
    s1_domains: list[str] = field(default_factory=lambda: ["math"], metadata=help_text(
        "s1.1 rows kept by cot_type (math, science, crossword); the paper adds math problems"))
    reuse_problems: bool = field(default=False, metadata=help_text(
        "allow one problem in several rows (default: each problem at most once in the dataset, both sources "
        "together, by its normalised text)"))

    def sampling_problems(self) -> list[str]:
        problems = []
        if self.num_samples < 1:
            problems.append("--num_samples must be at least 1")
        if not 0.0 <= self.s1_share <= 1.0:
            problems.append("--s1_share must lie in [0, 1]")
        for low, high in (("s1_min_tokens", "s1_max_tokens"), ("pair_min_tokens", "pair_max_tokens"),
                          ("part_min_tokens", "part_max_tokens")):
            if getattr(self, low) > getattr(self, high):
                problems.append(f"--{low} ({getattr(self, low)}) exceeds --{high} ({getattr(self, high)})")
        if not self.domains or not self.s1_domains:
            problems.append("--domains and --s1_domains need at least one domain each")
        return problems


# Field order (output, sources, sampling, stitching, dataset) is the order stats.json records.
@dataclass
class SynthesisConfig(DatasetOptions, StitchOptions, SamplingOptions, SourceOptions, OutputOption):
    def __post_init__(self) -> None:
        self.out = self.out or default_out(self)

    def validate(self) -> None:
        problems = self.sampling_problems() + self.stitch_problems() + self.dataset_problems()
        raise_problems(problems)
