"""Drawing the two parts of Long1K: stitched OpenThoughts pairs and length-filtered s1.1 rows.

Candidates are visited in a seeded random order and tokenized in chunks only when visited, so a
100k-row source costs the tokenization of the few thousand rows that are actually looked at.
Every count that matters (token ranges, the block size) is exact: it is measured on the final
chat-templated text with the chosen tokenizer.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from tqdm import tqdm

from long1k.formats import ReasoningFormat, chat_messages
from long1k.source_schemas import SCHEMAS
from long1k.sources import Source
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.validate import Candidate
from long1k.tokenizer import count_tokens

CHUNK = 256


@dataclass
class Part:
    """One source problem with its trace, ready to be stitched."""

    candidate: Candidate
    reasoning: str
    solution: str
    tokens: int  # reasoning + solution


@dataclass
class Example:
    kind: str  # "pair" or "s1"
    messages: list[dict]
    sources: list[dict]
    part_tokens: list[int]
    domain: str
    links: dict | None = None
    id: str = ""
    text: str = ""
    text_tokens: int = 0
    response_tokens: int = 0


@dataclass
class Measurer:
    """Renders examples with the chat template and counts their tokens, in batches."""

    tokenizer: object
    fmt: ReasoningFormat
    block_size: int
    counters: Counter = field(default_factory=Counter)

    def count(self, texts: list[str]) -> list[int]:
        counts = count_tokens(self.tokenizer, texts)
        self.counters["tokens_counted"] += sum(counts)
        return counts

    def trace_and_answer(self, source: Source, chunk: list[Candidate], trace_column: str,
                         answer_column: str) -> tuple[list[str], list[str], list[int]]:
        """Traces, answers and their summed token counts for a chunk of candidates, in one batch."""
        indices = [c.index for c in chunk]
        traces, answers = source.strings(trace_column, indices), source.strings(answer_column, indices)
        counts = self.count(traces + answers)
        return traces, answers, [counts[k] + counts[len(chunk) + k] for k in range(len(chunk))]

    def measure(self, examples: list[Example]) -> None:
        for example in examples:
            example.text = self.tokenizer.apply_chat_template(example.messages, tokenize=False)
        totals = self.count([e.text for e in examples])
        responses = self.count([e.messages[-1]["content"] for e in examples])
        for example, total, response in zip(examples, totals, responses, strict=True):
            example.text_tokens, example.response_tokens = total, response

    def keep(self, examples: list[Example], low: int, high: int, kind: str) -> list[Example]:
        """Examples whose response lies in [low, high] and whose text fits the block; the rest counted."""
        self.measure(examples)
        kept = []
        for example in examples:
            if example.text_tokens > self.block_size:
                self.counters[f"{kind}_dropped_over_block_size"] += 1
            elif not low <= example.response_tokens <= high:
                self.counters[f"{kind}_outside_token_range"] += 1
            else:
                kept.append(example)
        return kept


def source_ref(source: Source, candidate: Candidate) -> dict:
    file, row = source.locate(candidate.index)
    return {"dataset": source.label, "location": source.location, "file": file, "row": row,
            "problem_key": candidate.key}


def stitched_messages(problems: list[str], reasonings: list[str], solutions: list[str],
                      links: list[dict[str, str]], fmt: ReasoningFormat) -> list[dict]:
    """One example asking every question: problems, traces and solutions, each joined in order by the
    linking phrase between consecutive parts (links[i] joins parts i and i + 1)."""

    def join(texts: list[str], key: str) -> str:
        joined = texts[0].strip()
        for text, link in zip(texts[1:], links, strict=True):
            joined += f"\n\n{link[key]}\n\n{text.strip()}"
        return joined

    return chat_messages(fmt, join(problems, "question"), join(reasonings, "reasoning"), join(solutions, "solution"))


def stitch_parts(parts: list[Part], links: list[dict[str, str]], fmt: ReasoningFormat) -> list[dict]:
    """The stitched example of source parts (stitched_messages)."""
    return stitched_messages([p.candidate.problem for p in parts], [p.reasoning for p in parts],
                             [p.solution for p in parts], links, fmt)


def stitch(a: Part, b: Part, links: dict[str, str], fmt: ReasoningFormat) -> list[dict]:
    """One example asking both questions (the Long1K pair)."""
    return stitch_parts([a, b], [links], fmt)


def pair_up(pool: list[Part]) -> tuple[list[tuple[Part, Part]], list[Part]]:
    """Greedy pairing in pool order, of distinct problems."""
    used = [False] * len(pool)
    pairs, leftover = [], []
    for i, a in enumerate(pool):
        if used[i]:
            continue
        for j in range(i + 1, len(pool)):
            b = pool[j]
            if used[j] or a.candidate.key == b.candidate.key:
                continue
            used[i] = used[j] = True
            pairs.append((a, b))
            break
        else:
            leftover.append(a)
    return pairs, leftover


class PairSampler:
    def __init__(self, source: Source, candidates: list[Candidate], config: SynthesisConfig,
                 measurer: Measurer, rng: random.Random):
        self.source, self.candidates, self.config = source, candidates, config
        self.measurer, self.rng = measurer, rng
        self.counters = measurer.counters
        self.seen_pairs: set[tuple[str, str]] = set()

    def _visit_order(self) -> Iterator[Candidate]:
        passes = 0
        while True:
            order = list(self.candidates)
            self.rng.shuffle(order)
            yield from order
            passes += 1
            if not self.config.reuse_problems or passes >= 50 or len(self.candidates) < 2:
                return

    def _parts(self, chunk: list[Candidate]) -> list[Part]:
        reasonings, solutions, totals = self.measurer.trace_and_answer(
            self.source, chunk, SCHEMAS["openthoughts"].trace, SCHEMAS["openthoughts"].answer)
        parts = []
        for k, (candidate, tokens) in enumerate(zip(chunk, totals, strict=True)):
            if self.config.part_min_tokens <= tokens <= self.config.part_max_tokens:
                parts.append(Part(candidate, reasonings[k], solutions[k], tokens))
            else:
                self.counters["pair_part_outside_token_range"] += 1
        return parts

    def _example(self, a: Part, b: Part) -> Example | None:
        key = (a.candidate.key, b.candidate.key)
        if key in self.seen_pairs:  # only possible with --reuse_problems
            return None
        self.seen_pairs.add(key)
        (links,) = self.config.draw_links(self.rng, 2)
        return Example(
            kind="pair",
            messages=stitch(a, b, links, self.measurer.fmt),
            sources=[source_ref(self.source, a.candidate), source_ref(self.source, b.candidate)],
            part_tokens=[a.tokens, b.tokens],
            domain=a.candidate.domain if a.candidate.domain == b.candidate.domain else "mixed",
            links=links,
        )

    def sample(self, wanted: int) -> list[Example]:
        accepted: list[Example] = []
        carry: list[Part] = []
        visit = self._visit_order()
        bar = tqdm(total=wanted, desc="stitch pairs", unit="pair", leave=False)
        while len(accepted) < wanted:
            chunk = [c for _, c in zip(range(CHUNK), visit, strict=False)]
            if not chunk:
                break
            self.counters["pair_parts_tokenized"] += len(chunk)
            pairs, carry = pair_up(carry + self._parts(chunk))
            examples = [e for a, b in pairs if (e := self._example(a, b)) is not None]
            for example in self.measurer.keep(examples, self.config.pair_min_tokens,
                                              self.config.pair_max_tokens, "pair"):
                if len(accepted) < wanted:
                    accepted.append(example)
                    bar.update(1)
        bar.close()
        self.counters["pair_parts_left_unpaired"] += len(carry)
        return accepted


class S1Sampler:
    def __init__(self, source: Source, candidates: list[Candidate], config: SynthesisConfig,
                 measurer: Measurer, rng: random.Random):
        self.source, self.candidates, self.config = source, candidates, config
        self.measurer, self.rng = measurer, rng
        self.counters = measurer.counters

    def _examples(self, chunk: list[Candidate]) -> list[Example]:
        trajectories, attempts, totals = self.measurer.trace_and_answer(
            self.source, chunk, SCHEMAS["s1"].trace, SCHEMAS["s1"].answer)
        examples = []
        for k, (candidate, tokens) in enumerate(zip(chunk, totals, strict=True)):
            if not self.config.s1_min_tokens <= tokens <= self.config.s1_max_tokens:
                self.counters["s1_outside_token_range"] += 1
                continue
            examples.append(Example(
                kind="s1",
                messages=chat_messages(self.measurer.fmt, candidate.problem.strip(), trajectories[k].strip(),
                                       attempts[k].strip()),
                sources=[source_ref(self.source, candidate)],
                part_tokens=[tokens],
                domain=candidate.domain,
            ))
        return examples

    def sample(self, wanted: int) -> list[Example]:
        order = list(self.candidates)
        self.rng.shuffle(order)
        accepted: list[Example] = []
        bar = tqdm(total=wanted, desc="select s1.1", unit="row", leave=False)
        for start in range(0, len(order), CHUNK):
            if len(accepted) >= wanted:
                break
            chunk = order[start : start + CHUNK]
            self.counters["s1_rows_tokenized"] += len(chunk)
            # The range filter runs first, so the block size only drops rows whose prompt pushes them over.
            for example in self.measurer.keep(self._examples(chunk), 0, 10**9, "s1"):
                if len(accepted) < wanted:
                    accepted.append(example)
                    bar.update(1)
        bar.close()
        return accepted
