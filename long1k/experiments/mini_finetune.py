"""The miniature's instrument: fine-tune the mini base model on a set of chat rows and score it, in one
process, in seconds.

The rows are the synthesis's own (system / user / assistant messages in a reasoning format, stitched rows
joined by long1k/links.py's phrases); they are tokenized with the SFT stage's own loss mask
(`long1k.train.data.tokenize_with_labels`: the loss on the assistant turns only). Answers are generated
greedily in batches by `BatchedGreedy`, a backend of the prediction protocol (`generate(requests)`), so the
budget forcing of long1k/generation/budget.py runs on it unchanged, and graded by long1k/grading.

Why not the sweep (train/sft.sh, eval/predict.sh) for every arm: 5 seeds of a dozen arms is 60 and more
fine-tunes, and each stage started as a process of its own costs more than the fine-tune itself on 2
cores. The learning check and the demo run the real stages end to end; this runs the same loss mask,
prompt templates, generation protocol and graders in process.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from long1k.generation.sampling import Generation, Request

STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


@dataclass(frozen=True)
class FineTuneRecipe:
    """How every arm is fine-tuned; its steps and rows a step are the arm's (long1k/experiments/mini_arms.py)."""

    learning_rate: float = 3e-4
    warmup: int = 10
    threads: int = 1


Example = tuple[list[int], list[int]]
"""Token ids and labels (IGNORE_INDEX where no loss is taken) of one row."""


def tokenize_rows(tokenizer, rows: Sequence[list[dict]]) -> list[Example]:
    """The rows (message lists) through the chat template, with the SFT stage's loss mask."""
    from long1k.train.data import assistant_markers, render, tokenize_with_labels

    markers = assistant_markers(tokenizer)
    return [tokenize_with_labels(tokenizer, render(tokenizer, {"messages": messages}), markers) for messages in rows]


def answer_tokens(examples: Sequence[Example]) -> int:
    """Tokens that carry loss (the assistant turns)."""
    from long1k.train.data import IGNORE_INDEX

    return sum(label != IGNORE_INDEX for _, labels in examples for label in labels)


def learning_rate(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up, then a cosine to zero (the SFT stage's schedule)."""
    import math

    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return 0.5 * (1 + math.cos(math.pi * progress))


def finetune(base: str | Path, examples: Sequence[Example], recipe: FineTuneRecipe, seed: int, steps: int,
             batch: int):
    """The base model fine-tuned on `examples` for `steps` steps of `batch` rows (AdamW, rows drawn by `seed`);
    returns (model, losses)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as transformers_logging

    from long1k.train.data import IGNORE_INDEX

    torch.set_num_threads(recipe.threads)
    torch.manual_seed(seed)
    transformers_logging.disable_progress_bar()  # a bar per load, dozens of times, would drown the run's own
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, betas=(0.9, 0.95), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: learning_rate(step, steps, recipe.warmup))
    rng, losses = random.Random(seed), []
    model.train()
    examples = list(examples)
    for _ in range(steps):
        rows = rng.sample(examples, min(batch, len(examples)))
        width = max(len(ids) for ids, _ in rows)
        ids = torch.tensor([row + [0] * (width - len(row)) for row, _ in rows])
        labels = torch.tensor([row + [IGNORE_INDEX] * (width - len(row)) for _, row in rows])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row, _ in rows])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return model.eval(), losses


class BatchedGreedy:
    """Greedy generation of an in-memory model, in batches (left-padded): the prediction protocol's
    `generate(requests)`, for greedy requests only."""

    streams = False

    def __init__(self, model, tokenizer, batch: int = 100):
        self.model, self.tokenizer, self.batch = model, tokenizer, batch
        self.stop_ids = sorted({tokenizer.convert_tokens_to_ids(t) for t in STOP_TOKENS})

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        if any(not r.sampling.greedy for r in requests):
            raise ValueError("BatchedGreedy generates greedily only (temperature 0)")
        # Requests of one batch share max_tokens and stop strings: group them so.
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.sampling.max_tokens, request.sampling.stop), []).append(index)
        for (max_tokens, stop), indices in groups.items():
            for start in range(0, len(indices), self.batch):
                chunk = indices[start:start + self.batch]
                texts = self._generate([requests[i].prompt for i in chunk], max_tokens, stop)
                yield from zip(chunk, texts, strict=True)

    def _generate(self, prompts: list[str], max_tokens: int, stop: tuple[str, ...]) -> list[Generation]:
        import torch
        from transformers import GenerationConfig


        self.tokenizer.padding_side = "left"
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        config = GenerationConfig(do_sample=False, max_new_tokens=max_tokens, eos_token_id=self.stop_ids,
                                  pad_token_id=self.tokenizer.pad_token_id, stop_strings=list(stop) or None)
        with torch.no_grad():
            output = self.model.generate(**encoded, generation_config=config, tokenizer=self.tokenizer)
        generations = []
        for row in output[:, encoded["input_ids"].shape[1]:].tolist():
            generations.append(self._one(row, max_tokens, stop))
        return generations

    def _one(self, new: list[int], max_tokens: int, stop: tuple[str, ...]) -> Generation:
        from long1k.generation.backends import cut_at_stop

        ended = next((k for k, token in enumerate(new) if token in self.stop_ids), None)
        if ended is not None:
            new = new[:ended + 1]
        else:
            while new and new[-1] == self.tokenizer.pad_token_id:
                new = new[:-1]
        text, stopped = cut_at_stop(self.tokenizer.decode(new[:-1] if ended is not None else new,
                                                          skip_special_tokens=False), stop)
        finish = "stop" if ended is not None or stopped or len(new) < max_tokens else "length"
        return Generation(text, finish, len(new))
