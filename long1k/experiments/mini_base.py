"""`python -m long1k mini-base`: the mini base model, the starting point of the miniature's fine-tunes.

The paper fine-tunes an instruct model that can already copy and compute; a model trained from scratch
on the miniature world first has to cross its copy transition (the sharp step in loss when it learns to
copy the operands from the problem), at a seed-dependent point, and that lottery decided the
miniature's earlier results. The base model is the mini shape (mini-qwen2) pretrained once, as a
language model (loss on every token), on the world's text:

- every training problem as an instruct model's exchange: the tokenizer's chat template with its default
  system prompt, the problem as the user turn and `REASONING\\nSOLUTION` as the assistant's, one
  document per row (documents are not packed together: a neighbour's problem in the context made the
  copy harder to learn). The paper starts from an instruct model, which answers in chat turns; a base
  that had only seen plain text copied operands in plain text but miscopied them inside chat turns
  after 100 fine-tuning steps (docs/miniature.md);
- every reasoning style (none, some, full, checked) equally often, each style a step of its own in
  turn, so that no style of the length experiments is favoured by the starting point;
- no reasoning-format marker (`<think>`), no linking phrase and no stitched row: the format, the style of
  an arm and answering several questions are what fine-tuning teaches;
- no held-out problem (long1k/miniworld.py holds one problem in ten out for good).

The build is deterministic (fixed data, seed and schedule, one process) and cached in
`$LONG1K_CACHE/models/mini-base-vN`, like the mini tokenizer; the folder holds the loss history and the
copy probe (`base.json`): held-out problems continued greedily from the problem and the start of its
first full-style line. docs/miniature.md gives the measured build.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from long1k.configs import help_text, parse_config
from long1k.fixtures.minichain import TRAINING_OPERATIONS
from long1k.miniworld import STYLES, Chain, chains, take
from long1k.paths import cached_folder

VERSION = 2  # bump when the corpus or the recipe changes, so cached copies are rebuilt
SHAPE = "mini-qwen2"
RECORD = "base.json"


@dataclass
class BaseRecipe:
    problems: int = field(default=16000, metadata=help_text("training problems, each written in every style"))
    steps: int = field(default=1600, metadata=help_text("optimizer steps (each one style's documents)"))
    batch: int = field(default=64, metadata=help_text("documents per step"))
    learning_rate: float = field(default=3e-3, metadata=help_text("peak learning rate (warm-up, constant, cosine)"))
    warmup: int = field(default=50, metadata=help_text("warm-up steps"))
    decay_share: float = field(default=0.2, metadata=help_text("share of the steps in the final cosine decay"))
    seed: int = field(default=0, metadata=help_text("initialisation and batch order"))
    threads: int = field(default=2, metadata=help_text("torch threads (the result depends on it)"))
    probe: int = field(default=100, metadata=help_text("held-out problems in the copy probe"))


@dataclass
class MiniBaseConfig(BaseRecipe):
    out: str | None = field(default=None, metadata=help_text(
        "write the model here instead of the cache (a build with other settings than the default)"))


def exchange(tokenizer, problem: str, answer: str | None = None) -> str:
    """An instruct exchange in the tokenizer's chat template; without `answer`, the prompt up to the
    assistant's turn."""
    user = [{"role": "user", "content": problem}]
    if answer is None:
        return tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    return tokenizer.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=False)


def corpus(recipe: BaseRecipe, tokenizer) -> dict[str, list[str]]:
    """The world's text per style: the same training problems in each."""
    problems = take(chains("pretrain", TRAINING_OPERATIONS, held_out=False), recipe.problems)
    return {style: [exchange(tokenizer, c.problem, f"{c.reasoning(style)}\n{c.solution()}") for c in problems]
            for style in STYLES}


def learning_rate(step: int, recipe: BaseRecipe) -> float:
    """Warm-up, constant, then a cosine to zero over the last `decay_share` of the steps."""
    warm = min(1.0, (step + 1) / recipe.warmup)
    decay_start = (1 - recipe.decay_share) * recipe.steps
    if step < decay_start:
        return warm
    return warm * 0.5 * (1 + math.cos(math.pi * (step - decay_start) / (recipe.steps - decay_start)))


def pretrain(recipe: BaseRecipe, tokenizer):
    """The mini shape trained on the corpus; returns (model, per-step (style, loss), seconds)."""
    import torch

    from long1k.experiments.mini_finetune import optimize
    from long1k.train.model import build_random_model

    torch.set_num_threads(recipe.threads)
    documents = {style: [(ids, ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
                 for style, texts in corpus(recipe, tokenizer).items()}
    model = build_random_model(SHAPE, seed=recipe.seed)
    rng = random.Random(recipe.seed)

    def batch_of(step: int) -> list:
        return rng.sample(documents[style_of(step)], recipe.batch)

    start = time.perf_counter()
    losses = optimize(model, batch_of, recipe.steps, recipe.learning_rate, lambda step: learning_rate(step, recipe),
                      progress="mini base")
    history = [(style_of(step), loss) for step, loss in enumerate(losses)]
    return model.eval(), history, time.perf_counter() - start


def style_of(step: int) -> str:
    """Each step trains on one style's documents, the styles in turn."""
    return STYLES[step % len(STYLES)]


def style_means(rows: list[tuple[str, float]]) -> dict[str, float]:
    """The mean loss of each style among `rows` (styles without a row left out)."""
    means = {}
    for style in STYLES:
        losses = [loss for s, loss in rows if s == style]
        if losses:
            means[style] = sum(losses) / len(losses)
    return means


def last_tenth(history: list[tuple[str, float]]) -> tuple[list, list]:
    """The two halves of the last tenth of training (at least two steps of each style in all)."""
    tail = history[-max(len(history) // 10, 2 * len(STYLES)):]
    return tail[: len(tail) // 2], tail[len(tail) // 2:]


def last_tenth_drift(history: list[tuple[str, float]]) -> dict[str, float]:
    """Per style, the relative change of the mean loss between the two halves of the last tenth of
    training: near 0 when training has converged."""
    first, second = (style_means(half) for half in last_tenth(history))
    return {style: second[style] / first[style] - 1 for style in STYLES if style in first and style in second}


def probe_chains(problems: int) -> list[Chain]:
    """The copy probe's problems: held-out ones, never in the corpus."""
    return take(chains("base-probe", TRAINING_OPERATIONS, held_out=True), problems)


def copy_probe(model, tokenizer, problems: int) -> float:
    """Percent of held-out problems whose every full-style line the base writes right, greedily, given the
    problem's exchange and the first line up to its first " is " (which picks the full or checked style
    among the four it has seen): copy and compute, with no format taught."""
    import torch

    held_out = probe_chains(problems)
    prompts = [exchange(tokenizer, c.problem) + c.reasoning("full").split(" is ", 1)[0] + " is" for c in held_out]
    tokenizer.padding_side = "left"
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        output = model.generate(**encoded, max_new_tokens=120, do_sample=False,
                                eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
                                pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    correct = sum((prompt + text).startswith(exchange(tokenizer, c.problem) + f"{c.reasoning('full')}\n")
                  for prompt, text, c in zip(prompts, texts, held_out, strict=True))
    return 100.0 * correct / len(held_out)


def build_base(out: str | Path, recipe: BaseRecipe | None = None) -> Path:
    """Pretrain and write the base model (a Hugging Face folder with the mini tokenizer and base.json)."""
    from long1k.tokenizer import load_tokenizer

    recipe = recipe or BaseRecipe()
    out = Path(out)
    tokenizer = load_tokenizer("mini")
    model, history, seconds = pretrain(recipe, tokenizer)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {"version": VERSION, "shape": SHAPE, "recipe": asdict(recipe), "seconds": round(seconds, 1),
              "last_tenth_drift": last_tenth_drift(history),
              "final_loss": style_means(last_tenth(history)[1]),
              "copy_probe_full_style": copy_probe(model, tokenizer, recipe.probe),
              "loss_history": [[step, style, round(loss, 5)] for step, (style, loss) in enumerate(history)]}
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n")  # written last: the cache's completeness mark
    return out


def mini_base_dir(recipe: BaseRecipe | None = None) -> Path:
    """The cached base model folder, built on first use (a few minutes on 2 cores). `recipe` is for tests
    with a cache of their own: the shared cache holds the default recipe's build."""
    return cached_folder(f"models/mini-base-v{VERSION}", RECORD, lambda out: build_base(out, recipe))


def main(argv: list[str] | None = None) -> None:
    config = parse_config(MiniBaseConfig, argv)
    recipe = BaseRecipe(**{k: v for k, v in asdict(config).items() if k != "out"})
    if config.out is None and recipe != BaseRecipe():
        from long1k.errors import Long1kError

        raise Long1kError("the cached base model is built with the default recipe; pass --out for other settings")
    folder = build_base(config.out, recipe) if config.out else mini_base_dir()
    record = json.loads((folder / RECORD).read_text())
    print(f"{folder}: built in {record['seconds']} s; copy probe {record['copy_probe_full_style']:.0f}% of held-out "
          f"problems; loss drift over the last tenth {record['last_tenth_drift']}")
