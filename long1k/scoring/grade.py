"""Rule grading of one prediction: extract the final answer, then compare it with the gold answer.

Math: math-verify with the gold first (it is asymmetric), the prediction given as a box so that its
own extraction sees exactly the extracted answer. AIME: integers. GPQA: letters.
"""

from __future__ import annotations

from dataclasses import dataclass

from long1k.scoring.extract import extract_integer, extract_letter, extract_math


@dataclass(frozen=True)
class Verdict:
    extracted: str | None
    correct: bool
    reason: str


def grade_latex(gold: str, response: str) -> Verdict:
    from math_verify import parse, verify

    found = extract_math(response)
    if found.answer is None:
        return Verdict(None, False, "no extractable answer")
    gold_parsed = parse(f"${gold}$")
    predicted = parse(f"\\boxed{{{found.answer}}}")
    if not gold_parsed:
        return Verdict(found.answer, found.answer.strip() == gold.strip(), "gold not parseable: string comparison")
    correct = bool(verify(gold_parsed, predicted))
    return Verdict(found.answer, correct, f"{found.method} answer {'equals' if correct else 'differs from'} gold")


def grade_integer(gold, response: str) -> Verdict:
    found = extract_integer(response)
    if found.answer is None:
        return Verdict(None, False, "no extractable integer answer" if found.method == "none" else
                       f"extracted answer is not an integer ({found.method})")
    correct = int(found.answer) == int(gold)
    return Verdict(found.answer, correct, f"integer {found.answer} {'==' if correct else '!='} gold {int(gold)}")


def grade_letter(gold: str, response: str) -> Verdict:
    found = extract_letter(response)
    if found.answer is None:
        return Verdict(None, False, "no choice letter in an answer context")
    correct = found.answer == gold.strip().upper()
    return Verdict(found.answer, correct, f"{found.method} {found.answer} {'==' if correct else '!='} gold {gold}")


def grade(answer_kind: str, gold, response: str) -> Verdict:
    """The rule verdict of one response, by the grader of its answer kind (long1k/answer_kinds.py)."""
    from long1k.answer_kinds import get_answer_kind

    return get_answer_kind(answer_kind).grade(gold, response)
