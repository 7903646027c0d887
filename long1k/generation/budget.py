"""Budget forcing (s1, "s1: Simple test-time scaling"): control how long a model thinks.

Thinking runs with the reasoning format's end-of-thinking marker as a stop string and at most
`--thinking_budget` tokens. When the model ends its thinking early and extensions remain
(`--extend K`), the marker is suppressed and `--extend_word` ("Wait") appended, and thinking goes
on from there; when the budget is spent, or no extension remains, the thinking is closed with the
format's own closing text (e.g. `</think>`) and the model writes its answer with what is left of
`--max_tokens`. Each phase is a plain completion of the prompt plus the text so far, so the same code
runs on every backend (vLLM, transformers, and servers through the completions API), in rounds:
every sample of a chunk takes its next phase together.

Counts are of tokens the model generated; the words inserted (the extension word, the closing
text) are in the response but in neither count, so `thinking_tokens <= thinking_budget` always.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from long1k.errors import Long1kError
from long1k.formats import ReasoningFormat
from long1k.generation.sampling import Generation, Request


@dataclass(frozen=True)
class BudgetForcing:
    thinking_budget: int
    extend: int
    extend_word: str
    end_of_thinking: str
    """Stop string of the thinking phases: the format's answer marker."""
    close: str
    """Appended to close the thinking: the format's reasoning close and solution opening."""

    @classmethod
    def for_format(cls, fmt: ReasoningFormat, thinking_budget: int, extend: int,
                   extend_word: str) -> BudgetForcing:
        if thinking_budget < 1 or extend < 0 or not extend_word.strip():
            raise Long1kError("--thinking_budget must be >= 1, --extend >= 0 and --extend_word not empty")
        return cls(thinking_budget, extend, extend_word, fmt.answer_start, fmt.reasoning_close + fmt.solution_open)

    def as_dict(self) -> dict:
        return {"thinking_budget": self.thinking_budget, "extend": self.extend, "extend_word": self.extend_word,
                "end_of_thinking": self.end_of_thinking, "close": self.close}


@dataclass
class Trace:
    thinking: str = ""
    thinking_tokens: int = 0
    extensions: int = 0


@dataclass(frozen=True)
class Forced:
    generation: Generation
    thinking_tokens: int
    answer_tokens: int
    extensions: int

    def fields(self) -> dict:
        return {"thinking_tokens": self.thinking_tokens, "answer_tokens": self.answer_tokens,
                "extensions": self.extensions}


def joined(text: str, word: str) -> str:
    """The extension word after the thinking so far, on its own word."""
    return text + word if not text or text[-1].isspace() else f"{text} {word}"


def think(backend, requests: Sequence[Request], budget: BudgetForcing) -> list[Trace]:
    """The thinking phases of every request, in rounds, until each is out of budget or of extensions."""
    traces = [Trace() for _ in requests]
    active = list(range(len(requests)))
    while active:
        phase = []
        for i in active:
            sampling = requests[i].sampling
            left = min(budget.thinking_budget, sampling.max_tokens) - traces[i].thinking_tokens
            phase.append(Request(requests[i].prompt + traces[i].thinking, requests[i].seed,
                                 replace(sampling, max_tokens=left, stop=(budget.end_of_thinking, *sampling.stop))))
        still = []
        for position, generation in backend.generate(phase):
            i = active[position]
            trace = traces[i]
            trace.thinking += generation.text
            trace.thinking_tokens += generation.tokens
            ended_early = generation.finish_reason == "stop" and trace.thinking_tokens < budget.thinking_budget
            if ended_early and trace.extensions < budget.extend:
                trace.thinking = joined(trace.thinking, budget.extend_word)
                trace.extensions += 1
                still.append(i)
        active = sorted(still)
    return traces


def force_budget(backend, requests: Sequence[Request], budget: BudgetForcing) -> Iterator[tuple[int, Forced]]:
    """Think under the budget, close the thinking, then answer with what is left of max_tokens."""
    traces = think(backend, requests, budget)
    answers = []
    for request, trace in zip(requests, traces, strict=True):
        trace.thinking = trace.thinking.rstrip() + budget.close
        left = max(1, request.sampling.max_tokens - trace.thinking_tokens)
        answers.append(Request(request.prompt + trace.thinking, request.seed,
                               replace(request.sampling, max_tokens=left)))
    for i, answer in backend.generate(answers):
        trace = traces[i]
        generation = Generation(trace.thinking + answer.text, answer.finish_reason,
                                trace.thinking_tokens + answer.tokens)
        yield i, Forced(generation, trace.thinking_tokens, answer.tokens, trace.extensions)
