"""Prompt templates for the benchmarks: the model's own chat template plus named ones equivalent to
the original evaluation's. The answer instruction is part of the template, per answer kind, so a
user sees (and can replace) every word the model is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from long1k.errors import Long1kError
from long1k.formats import THOUGHT_SOLUTION_SYSTEM
from long1k.tokenizer import QWEN_DEFAULT_SYSTEM

DEFAULT_INSTRUCTIONS = {
    "latex": "Return your final response within \\boxed{}.",
    "integer": "Return your final response within \\boxed{}. The answer is an integer from 0 to 999.",
    "letter": "Answer with the letter of the correct choice (A, B, C or D) within \\boxed{}.",
}


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str | None  # None: the model's chat template decides
    user: str = "{problem}\n\n{instruction}"
    assistant_prefix: str = ""  # text the answer is forced to start with
    instructions: dict = field(default_factory=lambda: dict(DEFAULT_INSTRUCTIONS))

    def messages(self, problem: str, answer_kind: str) -> list[dict[str, str]]:
        user = self.user.format(problem=problem, instruction=self.instructions[answer_kind]).strip()
        head = [{"role": "system", "content": self.system}] if self.system is not None else []
        return head + [{"role": "user", "content": user}]

    def render(self, tokenizer, problem: str, answer_kind: str) -> str:
        text = tokenizer.apply_chat_template(self.messages(problem, answer_kind), tokenize=False,
                                             add_generation_prompt=True)
        return text + self.assistant_prefix


TEMPLATES: dict[str, PromptTemplate] = {
    "chat": PromptTemplate("chat", system=None),
    "deepseek-qwen": PromptTemplate("deepseek-qwen", system=THOUGHT_SOLUTION_SYSTEM),
    "s1": PromptTemplate("s1", system=QWEN_DEFAULT_SYSTEM, assistant_prefix="<|im_start|>think\n"),
    "qwen": PromptTemplate("qwen", system=QWEN_DEFAULT_SYSTEM),
}


def load_template(name_or_path: str) -> PromptTemplate:
    """A named template, or a YAML file with `system`, `user` ({problem}, {instruction}),
    `assistant_prefix` and `instructions` (latex / integer / letter)."""
    if name_or_path in TEMPLATES:
        return TEMPLATES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise Long1kError(f"unknown template {name_or_path!r}: use one of {sorted(TEMPLATES)} or a YAML file")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise Long1kError(f"{path}: not valid YAML: {err}") from None
    unknown = set(spec) - {"system", "user", "assistant_prefix", "instructions"}
    if unknown:
        raise Long1kError(f"{path}: unknown template keys {sorted(unknown)}")
    instructions = {**DEFAULT_INSTRUCTIONS, **(spec.get("instructions") or {})}
    user = spec.get("user", "{problem}\n\n{instruction}")
    if "{problem}" not in user:
        raise Long1kError(f"{path}: 'user' must contain {{problem}}")
    return PromptTemplate(path.stem, spec.get("system"), user, spec.get("assistant_prefix", ""), instructions)
