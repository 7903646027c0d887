"""The mini tokenizer: a small byte-level BPE trained offline (with the `tokenizers` library) on the
miniature world's text, saved as a Hugging Face folder with the same layout as Qwen2.5's: the Qwen2
pre-tokenizer (one digit per token), ChatML special tokens, `<|im_end|>` as end of turn, `<|fim_pad|>`
for padding, the Qwen2.5 chat template, and the reasoning formats' markers as single tokens. So the
loss mask, the prompt templates and the stop handling of a model trained with it are the real code
path, at a vocabulary a small model learns on a laptop. Token counts made with it are in its units.

`--tokenizer mini` selects it wherever a tokenizer is taken; it is built on first use and cached, and
the same code always builds the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from long1k.chat import QWEN2_PRETOKENIZE_PATTERN, QWEN_DEFAULT_SYSTEM, write_tokenizer_folder
from long1k.formats import FORMATS
from long1k.links import DEFAULT_LINKS
from long1k.miniworld import STYLES, chains, take
from long1k.paths import cached_folder

MINI_TOKENIZER = "mini"
VOCAB_SIZE = 768
"""Every id of the tokenizer is below this (the mini model shape's vocabulary)."""
VERSION = 2  # bump when the corpus or the recipe changes, so cached copies are rebuilt
CHAT_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_pad|>")


def reasoning_markers() -> list[str]:
    """The formats' markers that are not ChatML tokens, each one token (plain text, not special)."""
    markers = dict.fromkeys(m for fmt in FORMATS.values() for m in fmt.markers if not m.startswith("<|im_start|>"))
    return list(markers)


def corpus(problems: int = 2000) -> Iterator[str]:
    """What the tokenizer is trained on: training chains in every reasoning style and their solutions, and,
    as often as they occur in training rows, the chat roles, the formats' system prompts and the linking
    phrases (held-out problems are not in it)."""
    for number, chain in enumerate(take(chains("tokenizer", (2, 3, 4, 5, 6), held_out=False), problems)):
        yield chain.problem
        yield chain.solution()
        for style in STYLES:
            yield chain.reasoning(style)
        yield "system\nuser\nassistant\n"
        fmt = list(FORMATS.values())[number % len(FORMATS)]
        yield fmt.system_prompt if number % 4 else QWEN_DEFAULT_SYSTEM
        for phrases in DEFAULT_LINKS.values():
            yield phrases[number % len(phrases)]


def build_mini_tokenizer(out_dir: str | Path) -> Path:
    """Train and write the mini tokenizer as a Hugging Face folder."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    markers = reasoning_markers()
    backend = Tokenizer(models.BPE())
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE - len(markers), special_tokens=list(CHAT_SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    backend.train_from_iterator(corpus(), trainer=trainer)
    backend.add_tokens([AddedToken(marker, special=False, normalized=False) for marker in markers])
    if backend.get_vocab_size() > VOCAB_SIZE:
        raise RuntimeError(f"mini tokenizer has {backend.get_vocab_size()} tokens, more than {VOCAB_SIZE}")
    return write_tokenizer_folder(
        out_dir, backend, pad_token="<|fim_pad|>", model_max_length=32768,
        readme=f"The long1k mini tokenizer (version {VERSION}): byte-level BPE of at most {VOCAB_SIZE} tokens trained "
               "on the miniature world (long1k/miniworld.py). Built on first use of `--tokenizer mini`; delete this "
               "folder to build it again.\n")


def mini_tokenizer_dir() -> Path:
    """The cached mini tokenizer folder, built on first use."""
    return cached_folder(f"tokenizers/mini-v{VERSION}", "tokenizer_config.json", build_mini_tokenizer)
