"""Rule grading of one prediction: extract the final answer, then compare it with the gold answer.

Math: text around an answer (units, ordinals such as `12^{th}`, "grade", `\\text{...}` words next to
a number) is removed from both sides; then math-verify with the gold first (it is asymmetric), the
prediction given as a box so that its own extraction sees exactly the extracted answer. math-verify
compares numbers with a tolerance meant for rounding, which also accepts two different tiny exact
numbers (1/2006! for 1/2004!): where both sides are exact numbers, they must be equal exactly, and a
tolerance applies only when one side is a decimal approximation. math-verify's own timeouts are
verdicts of their own ("timeout"), not "differs". AIME: integers. GPQA: letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from long1k.grading.extract import DEFAULT_OPTIONS, ExtractionOptions, extract_integer, extract_letter, extract_math

VERIFY_SECONDS = 5
_UNIT_WORDS = (r"(?:grade|grades|cm|mm|km|m|meters?|inches|inch|feet|ft|units?|degrees?|dollars?|cents?|hours?|"
               r"minutes?|seconds?|days?|years?|people|students|ways|points?|square\s+units|sq\s+units)")
_ORDINAL = re.compile(r"\^\s*\{?\s*(?:\\(?:mathrm|text)\s*\{\s*)?(?:st|nd|rd|th)\s*\}?\s*\}?")
_TEXT_UNIT = re.compile(r"\\(?:text|mathrm|textbf)\s*\{\s*" + _UNIT_WORDS + r"\.?\s*\}", re.IGNORECASE)
_BARE_UNIT = re.compile(r"(?<=\d)\s*(?:\\[,;!:]|\\ )*\s*" + _UNIT_WORDS + r"\b\.?$", re.IGNORECASE)
_DECIMAL = re.compile(r"\d\.\d")


GRADER_ERROR = "grader_error"
"""The rule of a verdict whose grader raised: wrong, counted and reported apart from answers that differ."""


@dataclass(frozen=True)
class Verdict:
    extracted: str | None
    correct: bool
    reason: str
    rule: str = ""  # the extraction rule (boxed, statement, ...), or why there is no answer
    parts: tuple = ()  # a composite row's per-question verdicts (long1k/grading/composite.py)


def grader_error(err: BaseException) -> Verdict:
    return Verdict(None, False, f"grader error: {type(err).__name__}: {str(err)[:200]}", GRADER_ERROR)


def strip_answer_text(answer: str) -> str:
    """An answer without the words around it: ordinals, units, `\\text{grade}`; a bare word stays."""
    stripped = _TEXT_UNIT.sub("", _ORDINAL.sub("", answer))
    stripped = _BARE_UNIT.sub("", stripped.strip()).strip().rstrip("\\,; ").strip()
    return stripped if re.search(r"\d", stripped) else answer


def _exact_number(parsed: list):
    """The parsed sympy number when it is exact (no decimals in it), else None."""
    import sympy

    value = next((x for x in parsed if isinstance(x, sympy.Basic)), None)
    if value is None or not getattr(value, "is_number", False) or value.atoms(sympy.Float):
        return None
    return value


def _to_float(value) -> float | None:
    import sympy

    try:
        return float(sympy.N(value, 30))
    except (TypeError, ValueError):  # not a plain number after all
        return None


def _exact_numbers_differ(gold_parsed: list, predicted: list) -> bool:
    """True when both sides are exact numbers that differ by less than the rounding tolerance hides;
    an equality that math-verify found by a rule of its own (10% and 10) stays."""
    import sympy

    a, b = _exact_number(gold_parsed), _exact_number(predicted)
    if a is None or b is None:
        return False
    difference = sympy.simplify(a - b)
    if not difference.is_number or difference == 0:
        return False
    values = [_to_float(abs(x)) for x in (a, b, difference)]
    if None in values:
        return False
    return values[2] <= 1e-4 * max(1.0, values[0], values[1])


_PLAIN_DECIMAL = re.compile(r"^\s*-?\d+\.(\d+)\s*$")


def _rounds_to(decimal_text: str, exact_parsed: list) -> bool:
    """A decimal approximation (0.333) against an exact number (1/3): equal to its stated precision."""
    match = _PLAIN_DECIMAL.match(decimal_text)
    exact = _exact_number(exact_parsed)
    value = _to_float(exact) if match and exact is not None else None
    if value is None:
        return False
    return abs(value - float(decimal_text)) <= 0.5 * 10 ** -len(match.group(1)) + 1e-12


def _verify(gold_parsed: list, predicted: list) -> tuple[bool | None, str]:
    """(equal, how); equal is None when math-verify itself timed out."""
    from math_verify import verify
    from math_verify.errors import TimeoutException

    try:
        equal = bool(verify(gold_parsed, predicted, timeout_seconds=VERIFY_SECONDS, raise_on_error=True))
    except (Exception, TimeoutException) as err:  # its TimeoutException is a BaseException
        if "timeout" in type(err).__name__.lower() or "timed out" in str(err).lower():
            return None, f"timeout in math-verify after {VERIFY_SECONDS} s"
        return False, f"comparison error ({type(err).__name__})"
    return equal, "equals" if equal else "differs from"


def grade_latex(gold: str, response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Verdict:
    from math_verify import parse

    found = extract_math(response, options)
    if found.answer is None:
        return Verdict(None, False, f"no extractable answer ({found.method})", found.method)
    gold_text, answer = strip_answer_text(str(gold)), strip_answer_text(found.answer)
    gold_parsed = parse(f"${gold_text}$")
    predicted = parse(f"\\boxed{{{answer}}}")
    if not gold_parsed:
        correct = answer.strip() == gold_text.strip()
        return Verdict(found.answer, correct, "gold not parseable: string comparison", found.method)
    equal, how = _verify(gold_parsed, predicted)
    if equal is None:
        return Verdict(found.answer, False, how, found.method)
    if not equal and (_rounds_to(gold_text, predicted) or _rounds_to(answer, gold_parsed)):
        return Verdict(found.answer, True, f"{found.method} answer equals gold to the stated decimal places",
                       found.method)
    if equal and not (_DECIMAL.search(gold_text) or _DECIMAL.search(answer)) and \
            _exact_numbers_differ(gold_parsed, predicted):
        return Verdict(found.answer, False, f"{found.method} answer differs exactly from gold (within the rounding "
                                            "tolerance only)", found.method)
    return Verdict(found.answer, equal, f"{found.method} answer {how} gold", found.method)


def grade_integer(gold, response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Verdict:
    found = extract_integer(response, options)
    if found.answer is None:
        return Verdict(None, False, "no extractable integer answer" if found.method == "none" else
                       f"extracted answer is not an integer ({found.method})", found.method)
    correct = int(found.answer) == int(gold)
    return Verdict(found.answer, correct, f"integer {found.answer} {'==' if correct else '!='} gold {int(gold)}",
                   found.method)


def grade_letter(gold: str, response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Verdict:
    found = extract_letter(response, options)
    if found.answer is None:
        reason = found.detail or "no choice letter in an answer context"
        return Verdict(None, False, reason, found.method)
    correct = found.answer == gold.strip().upper()
    return Verdict(found.answer, correct, f"{found.method} {found.answer} {'==' if correct else '!='} gold {gold}",
                   found.method)

