"""Models: the hub / local checkpoints users train, and named tiny presets that need no download."""

from __future__ import annotations

from dataclasses import dataclass

from long1k.mini_tokenizer import MINI_TOKENIZER
from long1k.mini_tokenizer import VOCAB_SIZE as MINI_VOCAB_SIZE
from long1k.tokenizer import OFFLINE_TOKENIZER


@dataclass(frozen=True)
class ModelShape:
    """What the FLOP, memory and parameter arithmetic needs to know about a Qwen2-architecture model."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    tie_word_embeddings: bool = False
    tokenizer: str = OFFLINE_TOKENIZER
    """The tokenizer a randomly initialised model of this shape is trained with."""
    rope_theta: float = 1_000_000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def num_parameters(self) -> int:
        h, kv = self.hidden_size, self.num_key_value_heads * self.head_dim
        attention = h * h + 2 * h * kv + h * h + h + 2 * kv  # q, k, v (with biases), o
        mlp = 3 * h * self.intermediate_size
        layer = attention + mlp + 2 * h  # two RMSNorm weights
        embeddings = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        return self.num_hidden_layers * layer + embeddings + h

    def qwen2_config(self, **extra):
        from transformers import Qwen2Config

        return Qwen2Config(
            hidden_size=self.hidden_size, intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers, num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads, vocab_size=self.vocab_size,
            tie_word_embeddings=self.tie_word_embeddings, max_position_embeddings=32768,
            rope_theta=self.rope_theta, rms_norm_eps=1e-6, **extra,
        )


# Published Qwen2.5 shapes (config.json of each model) and tiny ones for CPU runs.
SHAPES: dict[str, ModelShape] = {
    "qwen2.5-32b": ModelShape(5120, 27648, 64, 40, 8, 152064),
    "qwen2.5-7b": ModelShape(3584, 18944, 28, 28, 4, 152064),
    "qwen2.5-1.5b": ModelShape(1536, 8960, 28, 12, 2, 151936, tie_word_embeddings=True),
    "qwen2.5-0.5b": ModelShape(896, 4864, 24, 14, 2, 151936, tie_word_embeddings=True),
    "tiny-qwen2": ModelShape(64, 128, 2, 4, 2, 151936, tie_word_embeddings=True),
    # The miniature world's learner (long1k/miniworld.py, the mini tokenizer): 2 layers of width 96, about
    # 300k parameters, sized by measurement on 2 CPU cores (docs/miniature.md). Heads of 32: vLLM's CPU
    # attention takes no smaller ones, and with two heads the learning check failed.
    "mini-qwen2": ModelShape(96, 256, 2, 3, 3, MINI_VOCAB_SIZE, tie_word_embeddings=True, tokenizer=MINI_TOKENIZER,
                              rope_theta=10_000.0),
}


PUBLISHED_SHAPES = {"Qwen/Qwen2.5-32B-Instruct": "qwen2.5-32b", "Qwen/Qwen2.5-32B": "qwen2.5-32b",
                    "Qwen/Qwen2.5-7B-Instruct": "qwen2.5-7b", "Qwen/Qwen2.5-1.5B-Instruct": "qwen2.5-1.5b",
                    "Qwen/Qwen2.5-0.5B-Instruct": "qwen2.5-0.5b"}
"""Hub ids whose shape is known without reading their config (the preflight of a recipe on a machine
without the hub or the model)."""


def shape_of(name_or_config) -> ModelShape:
    """The shape of a named preset or of a transformers config."""
    if isinstance(name_or_config, str):
        return SHAPES[name_or_config]
    c = name_or_config
    return ModelShape(c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads,
                      getattr(c, "num_key_value_heads", c.num_attention_heads), c.vocab_size,
                      bool(getattr(c, "tie_word_embeddings", False)))


def shape_for(model_name_or_path: str) -> ModelShape:
    """A named preset's shape, a published model's (by hub id: no hub call), else the model's own config."""
    if model_name_or_path in SHAPES:
        return SHAPES[model_name_or_path]
    if model_name_or_path in PUBLISHED_SHAPES:
        return SHAPES[PUBLISHED_SHAPES[model_name_or_path]]
    from transformers import AutoConfig

    from long1k.errors import Long1kError

    try:
        return shape_of(AutoConfig.from_pretrained(model_name_or_path))
    except (OSError, ValueError) as err:
        raise Long1kError(f"cannot read the config of {model_name_or_path!r}: {err}") from None


def resolve_attention(requested: str, flash_installed: bool, cuda: bool) -> str:
    """What --attn_implementation auto means: flash-attention 2 when installed on GPUs, else SDPA."""
    if requested != "auto":
        return requested
    return "flash_attention_2" if flash_installed and cuda else "sdpa"


def default_tokenizer_for(model_name: str) -> str:
    return SHAPES[model_name].tokenizer if model_name in SHAPES else model_name


def build_random_model(name: str, seed: int = 0, attn_implementation: str = "sdpa", dtype=None):
    """A randomly initialised Qwen2 model of a named shape (no download)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    config = SHAPES[name].qwen2_config()
    model = AutoModelForCausalLM.from_config(config, attn_implementation=attn_implementation, dtype=dtype)
    return model
