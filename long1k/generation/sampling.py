"""One sampling definition, sent whole to every backend, and the per-sample seeds.

Every field is sent explicitly: a vLLM server fills what a request omits from the model's
`generation_config.json` (Qwen2.5-Instruct derivatives carry top_k 20 and repetition_penalty 1.05),
transformers' `generate` does the same, and the offline vLLM engine does not; naming them all makes
the three sample alike.

Seeds: each sample is its own request with its own seed, `run_seed * SEED_STRIDE + sample`. vLLM
gives the i-th of n samples of one request the seed `seed + i`, so n samples per request from seeds
42 and 43 would share n - 1 samples; one request per sample with disjoint seeds never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from long1k.errors import Long1kError

SEED_STRIDE = 1_000_000
"""Samples per run seed that get distinct seeds; `--n_samples` must stay below it."""


def sample_seed(run_seed: int, sample: int) -> int:
    """The seed of one sample: disjoint across run seeds for every sample index below SEED_STRIDE."""
    if run_seed < 0 or not 0 <= sample < SEED_STRIDE:
        raise Long1kError(f"seeds must be >= 0 and samples fewer than {SEED_STRIDE} (got seed {run_seed}, "
                          f"sample {sample})")
    return run_seed * SEED_STRIDE + sample


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float = 1.0
    top_k: int = 0
    """0 turns top-k off (vLLM's convention; transformers' too when given explicitly)."""
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    max_tokens: int = 1024
    stop: tuple[str, ...] = field(default_factory=tuple)
    """Strings that end a sample; the text returned leaves them out."""

    def __post_init__(self) -> None:
        problems = []
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0 (got {self.temperature})")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must lie in (0, 1] (got {self.top_p})")
        if self.top_k < 0:
            problems.append(f"top_k must be >= 0, 0 meaning off (got {self.top_k})")
        if not 0 <= self.min_p <= 1:
            problems.append(f"min_p must lie in [0, 1] (got {self.min_p})")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty must be > 0 (got {self.repetition_penalty})")
        if self.max_tokens < 1:
            problems.append(f"max_tokens must be >= 1 (got {self.max_tokens})")
        if problems:
            raise Long1kError("; ".join(problems))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def as_dict(self) -> dict:
        return {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k, "min_p": self.min_p,
                "repetition_penalty": self.repetition_penalty, "max_tokens": self.max_tokens, "stop": list(self.stop)}


@dataclass(frozen=True)
class Request:
    """One sample to generate: a prompt, its seed and how to sample it."""

    prompt: str
    seed: int
    sampling: Sampling


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # stop | length
    tokens: int
    """Tokens the engine generated for this sample (its own count, else the tokenizer's on the text)."""
