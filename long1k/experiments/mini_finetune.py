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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from long1k.generation.sampling import Generation, Request, Sampling


@dataclass(frozen=True)
class FineTuneRecipe:
    """How every arm is fine-tuned; its steps and rows a step are the arm's (long1k/experiments/mini_arms.py)."""

    learning_rate: float = 3e-4
    warmup: int = 50
    """Chosen for seeds that agree: with 10 warm-up steps `style_checked` lands near 64 or near 46 by seed (std
    8.2 over 5 seeds); with 50 every arm's std is at most 2.8 on the seeds it was chosen on, and two arms have a
    seed in a higher mode on fresh seeds (docs/experiments.md)."""
    threads: int = 1


Example = tuple[list[int], list[int]]
"""Token ids and labels (IGNORE_INDEX where no loss is taken) of one row."""


def tokenize_rows(tokenizer, rows: Sequence[list[dict]]) -> list[Example]:
    """The rows (message lists) through the chat template, with the SFT stage's loss mask."""
    from long1k.train.data import assistant_markers, render, tokenize_with_labels

    markers = assistant_markers(tokenizer)
    return [tokenize_with_labels(tokenizer, render(tokenizer, {"messages": messages}), markers) for messages in rows]


def count_answer_tokens(examples: Sequence[Example]) -> int:
    """Tokens that carry loss (the assistant turns)."""
    from long1k.train.data import IGNORE_INDEX

    return sum(label != IGNORE_INDEX for _, labels in examples for label in labels)


def learning_rate(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up, then a cosine to zero over the remaining steps."""
    import math

    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return 0.5 * (1 + math.cos(math.pi * progress))


def finetune(base: str | Path, examples: Sequence[Example], recipe: FineTuneRecipe, seed: int, steps: int,
             batch: int) -> tuple[object, list[float]]:
    """The base model fine-tuned on `examples` for `steps` steps of `batch` rows (rows drawn by `seed`);
    returns (model, losses)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(recipe.threads)
    torch.manual_seed(seed)
    transformers_logging.disable_progress_bar()  # a bar per load, dozens of times, would drown the run's own
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    rng, examples = random.Random(seed), list(examples)
    losses = optimize(model, lambda _: rng.sample(examples, min(batch, len(examples))), steps, recipe.learning_rate,
                      lambda step: learning_rate(step, steps, recipe.warmup))
    return model.eval(), losses


def optimize(model, batch_of: Callable[[int], list[Example]], steps: int, peak: float,
             schedule: Callable[[int], float], progress: str | None = None) -> list[float]:
    """`steps` AdamW steps (betas 0.9/0.95, no weight decay, gradients clipped at 1) on the rows `batch_of(step)`
    gives, right-padded, the learning rate `peak * schedule(step)`; returns each step's loss. The mini base
    model's pretraining and every fine-tune of the miniature train through it."""
    import torch
    from tqdm import tqdm

    from long1k.train.data import IGNORE_INDEX

    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    losses = []
    model.train()
    for step in tqdm(range(steps), desc=progress, unit="step", mininterval=5, disable=progress is None):
        rows = batch_of(step)
        width = max(len(ids) for ids, _ in rows)
        padding = [width - len(ids) for ids, _ in rows]  # padded positions are masked: their id is immaterial
        ids = torch.tensor([row + [0] * pad for (row, _), pad in zip(rows, padding, strict=True)])
        labels = torch.tensor([row + [IGNORE_INDEX] * pad for (_, row), pad in zip(rows, padding, strict=True)])
        mask = torch.tensor([[1] * (width - pad) + [0] * pad for pad in padding])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


class BatchedGreedy:
    """Greedy generation of an in-memory model, in batches (left-padded): the prediction protocol's
    `generate(requests)`, for greedy requests only, with the hf backend's generation settings and reading of
    the generated tokens (long1k/generation/backends.py)."""

    streams = False

    def __init__(self, model, tokenizer, batch: int = 100):
        from transformers import GenerationConfig

        from long1k.generation.backends import stop_token_ids

        self.model, self.tokenizer, self.batch = model, tokenizer, batch
        self.model.generation_config = GenerationConfig()  # sample by the request alone
        self.stop_ids = stop_token_ids(tokenizer)
        if tokenizer.pad_token_id in self.stop_ids:
            # a row that ends on a stop string while its batch goes on is padded: were the pad a stop token,
            # its first pad would read as the row's own end of turn, one token more than the row alone
            raise ValueError(f"BatchedGreedy needs a pad token that is not a stop token; this tokenizer pads with "
                             f"{tokenizer.pad_token!r}, a stop token (the mini tokenizer pads with <|fim_pad|>)")

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Generation]]:
        if any(not r.sampling.greedy for r in requests):
            raise ValueError("BatchedGreedy generates greedily only (temperature 0)")
        groups: dict[Sampling, list[int]] = {}  # a batch shares one generation config but its length:
        for index, request in enumerate(requests):  # budget forcing asks for as many lengths as there are rows
            groups.setdefault(replace(request.sampling, max_tokens=1), []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch):
                chunk = indices[start:start + self.batch]
                yield from zip(chunk, self._generate([requests[i] for i in chunk]), strict=True)

    def _generate(self, requests: list[Request]) -> list[Generation]:
        import torch

        from long1k.generation.backends import generation_of, hf_generation_config

        self.tokenizer.padding_side = "left"
        encoded = self.tokenizer([r.prompt for r in requests], return_tensors="pt", padding=True,
                                 add_special_tokens=False)
        longest = max(requests, key=lambda r: r.sampling.max_tokens)
        config = hf_generation_config(longest, self.stop_ids, self.tokenizer.pad_token_id)
        with torch.no_grad():
            output = self.model.generate(**encoded, generation_config=config, tokenizer=self.tokenizer)
        # greedy tokens do not depend on how many follow them: a row's first max_tokens are what it generates
        # alone (as far as a left-padded batch computes what the row alone would: tested against the hf backend)
        return [generation_of(self.tokenizer, self._own_tokens(row[:request.sampling.max_tokens]), self.stop_ids,
                              request.sampling)
                for row, request in zip(output[:, encoded["input_ids"].shape[1]:].tolist(), requests, strict=True)]

    def _own_tokens(self, new: list[int]) -> list[int]:
        """A row's tokens up to its stop token, without the padding that follows once a row has finished."""
        ended = next((k for k, token in enumerate(new) if token in self.stop_ids), None)
        if ended is not None:
            return new[:ended + 1]
        while new and new[-1] == self.tokenizer.pad_token_id:
            new = new[:-1]
        return new
