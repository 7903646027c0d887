"""Prompt templates for the benchmarks: the model's own chat template, one template per reasoning
format (its system prompt and prefill, long1k/formats.py), or a YAML file. The answer instruction
comes from the task (long1k/tasks), else from its answer kind (long1k/answer_kinds.py); a template
may replace it per kind, so a user sees (and can replace) every word the model is shown.

`auto` follows the format the model was trained on, recorded by training in the model folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from long1k.chat import QWEN_DEFAULT_SYSTEM
from long1k.errors import Long1kError
from long1k.formats import FORMATS, ReasoningFormat, get_format, trained_format

AUTO = "auto"
FALLBACK_TEMPLATE = "deepseek-qwen"  # the original evaluation's, for models trained elsewhere


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str | None  # None: the model's chat template decides
    user: str = "{problem}\n\n{instruction}"
    assistant_prefix: str = ""  # text the answer is forced to start with
    instructions: dict = field(default_factory=dict)  # answer kind -> instruction replacing the default
    reasoning_format: str | None = None
    """The reasoning format the prompt asks for (budget forcing closes its thinking); None: no reasoning section."""

    def instruction_for(self, answer_kind: str, task_instruction: str | None = None) -> str:
        """The template's own instruction for the kind, else the task's, else the kind's."""
        if answer_kind in self.instructions:
            return self.instructions[answer_kind]
        if task_instruction is not None:
            return task_instruction
        from long1k.answer_kinds import get_answer_kind

        return get_answer_kind(answer_kind).instruction

    def messages(self, problem: str, answer_kind: str, task_instruction: str | None = None) -> list[dict[str, str]]:
        instruction = self.instruction_for(answer_kind, task_instruction)
        user = self.user.format(problem=problem, instruction=instruction).strip()
        head = [{"role": "system", "content": self.system}] if self.system is not None else []
        return head + [{"role": "user", "content": user}]

    def render(self, tokenizer, problem: str, answer_kind: str, task_instruction: str | None = None) -> str:
        text = tokenizer.apply_chat_template(self.messages(problem, answer_kind, task_instruction), tokenize=False,
                                             add_generation_prompt=True)
        return text + self.assistant_prefix


def format_template(fmt: ReasoningFormat) -> PromptTemplate:
    return PromptTemplate(fmt.template_name, system=fmt.system_prompt, assistant_prefix=fmt.prefill,
                          reasoning_format=fmt.name)


TEMPLATES: dict[str, PromptTemplate] = {
    "chat": PromptTemplate("chat", system=None),
    "qwen": PromptTemplate("qwen", system=QWEN_DEFAULT_SYSTEM),
    **{fmt.template_name: format_template(fmt) for fmt in FORMATS.values()},
}


def resolve_template_name(name: str, model: str) -> str:
    if name != AUTO:
        return name
    fmt = trained_format(model)
    return get_format(fmt).template_name if fmt else FALLBACK_TEMPLATE


def load_template(name_or_path: str) -> PromptTemplate:
    """A named template, or a YAML file with `system`, `user` ({problem}, {instruction}),
    `assistant_prefix`, `instructions` (per answer kind) and `reasoning_format` (a long1k format name)."""
    if name_or_path in TEMPLATES:
        return TEMPLATES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise Long1kError(f"unknown template {name_or_path!r}: use one of {sorted(TEMPLATES)}, {AUTO} or a YAML file")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise Long1kError(f"{path}: not valid YAML: {err}") from None
    unknown = set(spec) - {"system", "user", "assistant_prefix", "instructions", "reasoning_format"}
    if unknown:
        raise Long1kError(f"{path}: unknown template keys {sorted(unknown)}")
    user = spec.get("user", "{problem}\n\n{instruction}")
    if "{problem}" not in user:
        raise Long1kError(f"{path}: 'user' must contain {{problem}}")
    fmt = spec.get("reasoning_format")
    if fmt is not None:
        get_format(fmt)
    return PromptTemplate(path.stem, spec.get("system"), user, spec.get("assistant_prefix", ""),
                          dict(spec.get("instructions") or {}), fmt)
