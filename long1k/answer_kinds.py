"""Answer kinds: everything that depends on the form of a gold answer, in one table.

A kind says how a gold answer is read from a source file, how the model is asked to answer (the
prompt instruction), how the final answer is extracted from a response, how it is graded by rule,
and what the LLM judge is told. A benchmark names its kind once (its task spec); prepared and
prediction rows carry it, and prompts, grading, judging and reporting all read this table.
Adding a kind means adding one entry here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from long1k.errors import Long1kError
from long1k.grading.composite import extract_composite, grade_composite
from long1k.grading.extract import (
    DEFAULT_OPTIONS,
    LETTERS,
    Extraction,
    ExtractionOptions,
    extract_integer,
    extract_letter,
    extract_math,
)
from long1k.grading.grade import Verdict, grade_integer, grade_latex, grade_letter

_MATH_JUDGE_PROMPT = (
    "Below are a reference answer and the final part of a student's response to a math problem.\n"
    "1. Extract the student's final answer from the response.\n"
    "2. Compare it with the reference answer. Answers that are equal after simple conversion (fractions and "
    "decimals, equivalent expressions, added or omitted units) count as correct. If no final answer can be "
    "extracted, the response is wrong.\n"
    "3. Explain briefly, then end with the score written as [[1]] (correct) or [[0]] (wrong).\n\n"
    "Reference answer:\n{reference}\n\nStudent response (final part):\n{response}\n"
)
_CHOICE_JUDGE_PROMPT = (
    "Below are a reference answer and the final part of a student's response to a multiple-choice science "
    "question (which may involve calculation).\n"
    "1. Extract the choice the student finally selected.\n"
    "2. Compare it with the reference choice; if no choice can be extracted, the response is wrong.\n"
    "3. Explain briefly, then end with the score written as [[1]] (correct) or [[0]] (wrong).\n\n"
    "Reference answer:\n{reference}\n\nStudent response (final part):\n{response}\n"
)


def gold_text(value: Any, where: str, index: int) -> str:
    """A gold answer as stripped text; floats holding an integer (27.0) are written as integers."""
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise Long1kError(f"{where} row {index}: field 'answer' is missing or empty")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def gold_integer(value: Any, where: str, index: int) -> int:
    """AIME answers are integers 0..999; some copies zero-pad them ("033")."""
    text = gold_text(value, where, index)
    if not re.fullmatch(r"\d{1,3}", text):
        raise Long1kError(f"{where} row {index}: field 'answer' is {value!r}, not an integer 0..999")
    return int(text)


def gold_letter(value: Any, where: str, index: int) -> str:
    text = gold_text(value, where, index).upper()
    if text not in LETTERS:
        raise Long1kError(f"{where} row {index}: field 'answer' is {value!r}, not a letter A-D")
    return text


def gold_parts(value: Any, where: str, index: int) -> list:
    """A composite row's gold: its parts in order, each with its own answer and answer kind."""
    if not isinstance(value, list) or len(value) < 2 or not all(
            isinstance(p, dict) and "answer" in p and "answer_kind" in p for p in value):
        raise Long1kError(f"{where} row {index}: field 'parts' must list the composite row's questions, each with "
                          "'answer' and 'answer_kind'")
    return value


def _grade_composite(parts: list, response: str, options: ExtractionOptions) -> Verdict:
    """A composite row's verdict: each part graded by its own kind's grader, looked up here so that the
    graders need not import this table."""
    return grade_composite(parts, response, options, get_answer_kind)


@dataclass(frozen=True)
class AnswerKind:
    name: str
    instruction: str
    """What the prompt asks for, appended to the problem by the prompt template."""
    parse_gold: Callable[[Any, str, int], Any]
    extract: Callable[[str, ExtractionOptions], Extraction]
    grade: Callable[[Any, str, ExtractionOptions], Verdict]
    judge_prompt: str
    """The judge's user prompt, with {reference} and {response}."""
    each_instruction: str = ""
    """How each question of a composite prompt is to be answered (long1k/tasks/composite.py)."""
    gold_field: str = "answer"
    """The row field the grader compares with."""
    answer_names_question: bool = True
    """A wrong answer equal to another question's gold points at that question (answered out of order);
    not so for a choice letter, which any other question shares by chance."""


ANSWER_KINDS: dict[str, AnswerKind] = {
    kind.name: kind
    for kind in (
        AnswerKind("latex", "Return your final response within \\boxed{}.", gold_text, extract_math, grade_latex,
                   _MATH_JUDGE_PROMPT, "Return the final answer to each question within its own \\boxed{}."),
        AnswerKind("integer", "Return your final response within \\boxed{}. The answer is an integer from 0 to 999.",
                   gold_integer, extract_integer, grade_integer, _MATH_JUDGE_PROMPT,
                   "Return the final answer to each question within its own \\boxed{}; each answer is an integer "
                   "from 0 to 999."),
        AnswerKind("letter", "Answer with the letter of the correct choice (A, B, C or D) within \\boxed{}.",
                   gold_letter, extract_letter, grade_letter, _CHOICE_JUDGE_PROMPT,
                   "Answer each question with the letter of its correct choice (A, B, C or D) within its own "
                   "\\boxed{}.", answer_names_question=False),
        # K questions in one prompt (long1k/tasks/composite.py): graded question by question, by rule only.
        AnswerKind("composite", "Answer all of the questions above, in the order they are asked, each final answer "
                   "within its own \\boxed{}.", gold_parts, extract_composite, _grade_composite, "",
                   gold_field="parts"),
    )
}


def is_composite(row: dict) -> bool:
    """A row of several questions (graded against its `parts`)."""
    return get_answer_kind(row.get("answer_kind") or "latex").gold_field == "parts"


def get_answer_kind(name: str) -> AnswerKind:
    try:
        return ANSWER_KINDS[name]
    except KeyError:
        raise Long1kError(f"unknown answer kind {name!r}; known: {sorted(ANSWER_KINDS)}") from None


def grade(answer_kind: str, gold, response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Verdict:
    """The rule verdict of one response, by the grader of its answer kind."""
    return get_answer_kind(answer_kind).grade(gold, response, options)
