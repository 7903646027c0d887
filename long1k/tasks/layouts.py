"""Layouts: how the rows of a published benchmark become prepared rows.

A layout is a function (rows, task, where, seed) -> prepared rows, configured by the `fields`
mapping of the task's YAML. `fields` covers benchmarks with a problem and an answer column
(whatever they are called); `multiple_choice` builds an A-D prompt from one correct and three
incorrect answer columns with a seeded, recorded permutation. Prepared rows always hold `id`,
`benchmark`, `problem`, `answer` and `answer_kind`, plus the columns the task keeps. Bad rows are
errors naming the file and row: a benchmark with a silently missing item scores wrongly.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from long1k.errors import Long1kError
from long1k.grading.extract import LETTERS

if TYPE_CHECKING:
    from long1k.tasks.spec import TaskSpec

# Instruction lines some copies append to the problem (e.g. "Please reason step by step, and put
# your final answer within \boxed{}."): they belong to the prompt template, not to the problem.
_INSTRUCTION_LINE = re.compile(r"\n[^\n]*(\\boxed\{\}|reason step by step)[^\n]*\s*$", re.IGNORECASE)


def _text(row: dict, field: str, where: str, index: int) -> str:
    value = row.get(field)
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise Long1kError(f"{where} row {index}: field '{field}' is missing or empty")
    return str(value).strip()


def _first_field(row: dict, fields: list[str], where: str, index: int) -> tuple[str, str]:
    for field in fields:
        if field in row and row[field] not in (None, ""):
            return field, str(row[field])
    raise Long1kError(f"{where} row {index}: none of the fields {list(fields)} is present")


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def by_fields(rows: list[dict], task: TaskSpec, where: str, seed: int) -> list[dict]:
    """Problem and answer columns named in the task (the first present of several names)."""
    fields = task.fields
    problem_fields = _as_list(fields.get("problem", ["problem"]))
    strip = set(_as_list(fields.get("strip_instruction", [])))
    answer_field, id_field = fields.get("answer", "answer"), fields.get("id", "id")
    id_start, keep = int(fields.get("id_start", 1)), _as_list(fields.get("keep", []))
    kind = task.kind
    out = []
    for index, row in enumerate(rows):
        field, problem = _first_field(row, problem_fields, where, index)
        if field in strip:
            problem = _INSTRUCTION_LINE.sub("", problem)
        _text(row, answer_field, where, index)  # present and not empty, or an error naming the field
        item = {
            "id": str(row[id_field]) if row.get(id_field) is not None else f"{task.name}-{index + id_start}",
            "benchmark": task.name,
            "problem": problem.strip(),
            "answer": kind.parse_gold(row[answer_field], where, index),
            "answer_kind": kind.name,
        }
        item.update({k: row[k] for k in keep if row.get(k) is not None})
        out.append(item)
    return out


def gpqa_letter_plan(record_ids: list[str], seed: int) -> list[list[int]]:
    """Per question, the source option shown under A-D (0 = correct, 1-3 = incorrect answers 1-3).

    The correct letter cycles A, B, C, D over the questions ordered by a seeded hash of their record
    id, so the letters are uniform (counts differ by at most one) and do not depend on file order;
    the distractors are shuffled by a generator seeded with the question's own id.
    """
    rank = sorted(range(len(record_ids)),
                  key=lambda i: hashlib.sha256(f"{seed}:{record_ids[i]}".encode()).hexdigest())
    plans: list[list[int]] = [[] for _ in record_ids]
    for position, i in enumerate(rank):
        distractors = [1, 2, 3]
        random.Random(f"{seed}:{record_ids[i]}").shuffle(distractors)
        distractors.insert(position % 4, 0)
        plans[i] = distractors
    return plans


def multiple_choice(rows: list[dict], task: TaskSpec, where: str, seed: int) -> list[dict]:
    """A-D choices from a correct and three incorrect answer columns (GPQA's layout by default)."""
    fields = task.fields
    id_field, question_field = fields.get("id", "Record ID"), fields.get("question", "Question")
    option_fields = [fields.get("correct", "Correct Answer"),
                     *_as_list(fields.get("incorrect", [f"Incorrect Answer {i}" for i in (1, 2, 3)]))]
    if len(option_fields) != len(LETTERS):
        raise Long1kError(f"task {task.name}: multiple_choice needs one correct and three incorrect answer fields")
    keep = dict(fields.get("keep", {}))
    record_ids = [str(row.get(id_field) or f"{task.name}-{i}") for i, row in enumerate(rows)]
    if len(set(record_ids)) != len(record_ids):
        duplicate = Counter(record_ids).most_common(1)[0][0]
        raise Long1kError(f"{where}: '{id_field}' {duplicate!r} occurs more than once")
    out = []
    for index, (row, plan) in enumerate(zip(rows, gpqa_letter_plan(record_ids, seed), strict=True)):
        question = _text(row, question_field, where, index)
        options = [_text(row, f, where, index) for f in option_fields]
        choices = {letter: options[source] for letter, source in zip(LETTERS, plan, strict=True)}
        listing = "\n".join(f"{letter}) {text}" for letter, text in choices.items())
        out.append({
            "id": record_ids[index],
            "benchmark": task.name,
            "problem": f"{question}\n\n{listing}",
            "question": question,
            "answer": LETTERS[plan.index(0)],
            "answer_kind": task.kind.name,
            "choices": choices,
            "permutation": plan,
            "correct_answer": options[0],
            **{name: row.get(column) for name, column in keep.items()},
        })
    return out


LAYOUTS: dict[str, Callable[[list[dict], TaskSpec, str, int], list[dict]]] = {
    "fields": by_fields,
    "multiple_choice": multiple_choice,
}
