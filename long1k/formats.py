"""Reasoning formats: everything about one layout of reasoning and answer, in one place.

A format says how a (reasoning, solution) pair becomes an assistant turn (training markers), which
system prompt trains and evaluates it, what the answer is forced to start with at evaluation (the
prefill), and where the answer region of a response starts (so that boxes written while thinking
are not graded). Prompt templates, answer extraction, the training data and the analyses all
derive from this table; adding a format is adding one entry to FORMATS.

`openthoughts` (default) uses the thought/solution markers of OpenThoughts-114k, which the original
Long1K evaluation prompt describes; `s1` is the s1 think/answer layout; `think` is the `<think>` tag
used by DeepSeek-R1-style models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from long1k.artifacts import TRAINING_RECORD, dataset_stats, read_json
from long1k.chat import QWEN_DEFAULT_SYSTEM
from long1k.errors import Long1kError

THOUGHT_SOLUTION_SYSTEM = (
    "You are a careful assistant that solves problems by thinking before answering. "
    "Write your response in two parts. First, between <|begin_of_thought|> and <|end_of_thought|>, "
    "reason through the problem at length: analyse it, try approaches, check each step, notice and "
    "correct mistakes, and revisit earlier steps when needed. Then, between <|begin_of_solution|> and "
    "<|end_of_solution|>, give a clean, self-contained final solution that states the answer."
)

# Strings that structure the chat or a reasoning trace; source text containing one would corrupt it.
CHAT_MARKERS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


@dataclass(frozen=True)
class ReasoningFormat:
    name: str
    system_prompt: str
    reasoning_open: str
    reasoning_close: str
    solution_open: str
    solution_close: str
    markers: tuple[str, ...]
    """Marker strings that must appear exactly once each, in this order, in an assistant turn."""
    answer_start: str
    """The marker after which a response's final answer region begins."""
    template_name: str
    """The name of the evaluation prompt template made from this format."""
    prefill: str = ""
    """Text the evaluated response is forced to start with (after the chat template's generation prompt)."""

    def assistant_turn(self, reasoning: str, solution: str) -> str:
        return (
            f"{self.reasoning_open}{reasoning}{self.reasoning_close}"
            f"{self.solution_open}{solution}{self.solution_close}"
        )

    @property
    def reserved_strings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.markers + CHAT_MARKERS))


FORMATS: dict[str, ReasoningFormat] = {
    "openthoughts": ReasoningFormat(
        name="openthoughts",
        system_prompt=THOUGHT_SOLUTION_SYSTEM,
        reasoning_open="<|begin_of_thought|>\n\n",
        reasoning_close="\n\n<|end_of_thought|>\n\n",
        solution_open="<|begin_of_solution|>\n\n",
        solution_close="\n\n<|end_of_solution|>",
        markers=("<|begin_of_thought|>", "<|end_of_thought|>", "<|begin_of_solution|>", "<|end_of_solution|>"),
        answer_start="<|end_of_thought|>",
        template_name="deepseek-qwen",  # the original Long1K evaluation prompt
    ),
    "s1": ReasoningFormat(
        name="s1",
        system_prompt=QWEN_DEFAULT_SYSTEM,
        reasoning_open="<|im_start|>think\n",
        reasoning_close="\n",
        solution_open="<|im_start|>answer\nAnswer: ",
        solution_close="",
        markers=("<|im_start|>think", "<|im_start|>answer"),
        answer_start="<|im_start|>answer",
        template_name="s1",
        prefill="<|im_start|>think\n",
    ),
    "think": ReasoningFormat(
        name="think",
        system_prompt=QWEN_DEFAULT_SYSTEM,
        reasoning_open="<think>\n",
        reasoning_close="\n</think>\n\n",
        solution_open="",
        solution_close="",
        markers=("<think>", "</think>"),
        answer_start="</think>",
        template_name="think",
    ),
}


def get_format(name: str) -> ReasoningFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise Long1kError(f"unknown reasoning format {name!r}; choose one of {sorted(FORMATS)}") from None


def chat_messages(fmt: ReasoningFormat, user: str, reasoning: str, solution: str) -> list[dict[str, str]]:
    """The system / user / assistant messages of one training example."""
    return [
        {"role": "system", "content": fmt.system_prompt},
        {"role": "user", "content": user},
        {"role": "assistant", "content": fmt.assistant_turn(reasoning, solution)},
    ]


def answer_starts() -> tuple[str, ...]:
    """Every format's answer-region marker: a response of any format is cut at its own."""
    return tuple(fmt.answer_start for fmt in FORMATS.values())


def as_written(row: dict) -> str:
    """A prediction row's response as the model wrote it: after the template's prefill (an s1 prompt ends with
    `<|im_start|>think`, which opens the reasoning). Rows record their prefill; older ones are read off their
    prompt."""
    prefill = row.get("prefill")
    return (prefill_of(row.get("prompt") or "") if prefill is None else prefill) + row["response"]


def prefill_of(prompt: str) -> str:
    """The registered format prefill a prompt ends with (the first words of the response, written by the
    template rather than the model), or ''."""
    return max((f.prefill for f in FORMATS.values() if f.prefill and prompt.endswith(f.prefill)), key=len, default="")


def format_of_response(response: str) -> ReasoningFormat | None:
    """The format whose markers a response uses, or None."""
    return next((fmt for fmt in FORMATS.values() if fmt.markers[0] in response), None)


def dataset_format(dataset: str) -> str | None:
    """The reasoning format a long1k dataset folder was written in: as its stats.json records it, else as
    the markers of its first row's assistant turn show it (a folder written by other code), if known."""
    recorded = (dataset_stats(dataset) or {}).get("reasoning_format")
    if recorded:
        return recorded
    shards = sorted((Path(dataset) / "data").glob("*.jsonl"))
    first = shards[0].open(encoding="utf-8").readline() if shards else ""
    if not first.strip():
        return None
    turns = [m.get("content", "") for m in json.loads(first).get("messages", []) if m.get("role") == "assistant"]
    fmt = format_of_response(turns[0]) if turns else None
    return fmt.name if fmt else None


def trained_format(model: str) -> str | None:
    """The reasoning format a model folder was trained on, when long1k trained it."""
    record = Path(model) / TRAINING_RECORD
    if not record.is_file():
        return None
    return read_json(record).get("reasoning_format")
