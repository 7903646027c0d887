"""Final-answer extraction from long reasoning outputs.

The answer is looked for only after the reasoning section (after any reasoning format's
`answer_start` marker: `<|end_of_thought|>`, `</think>`, `<|im_start|>answer`), so that boxes and
letters written while thinking do not count; then the last complete `\\boxed{}` / `\\fbox{}`, then
answer-line patterns. GPQA letters are matched only in an answer context (a box, "answer is (C)",
"Answer: C", a final line holding just the letter), with case kept, so the article "a" never reads
as a choice, and nothing defaults to a letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from long1k.boxed import boxed_answers
from long1k.formats import answer_starts

REASONING_ENDS = answer_starts()

_ANSWER_LINES = (
    re.compile(r"final answer\s*(?:is|:)\s*[:\s]*\$*\s*(?P<a>[^\n$]+?)\s*\$*\s*\.?\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\W*answer\W*\s*[:：]\s*\$*\s*(?P<a>[^\n$]+?)\s*\$*\s*\.?\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"answer is\s*[:\s]*\$+\s*(?P<a>[^\n$]+?)\s*\$+", re.IGNORECASE),
    re.compile(r"answer is\s*[:\s]*\*\*(?P<a>[^*\n]+?)\*\*", re.IGNORECASE),
    re.compile(r"answer is\s*[:\s]*(?P<a>-?\d[\d,]*(?:\.\d+)?)\b", re.IGNORECASE),
)
_LETTER = r"\(?\**(?P<l>[ABCD])\**\)?"
_LETTER_PATTERNS = (
    # Case-insensitive words, case-sensitive letter: "the answer is a prime" names no choice.
    re.compile(r"(?i:(?:correct\s+)?(?:answer|option|choice))\s*(?i:is|:)?\s*[:\s]*\**\s*" + _LETTER
               + r"(?![A-Za-z])"),
    re.compile(r"^\W*" + _LETTER + r"\W*$", re.MULTILINE),
    re.compile(r"^\W*" + r"(?P<l>[ABCD])\)\s", re.MULTILINE),
)
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{(.*)\}$")


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # boxed, answer_line, letter_box, letter_pattern, none


def answer_region(response: str) -> str:
    """The text after the last end-of-reasoning marker, or the whole response if there is none."""
    cut = max((response.rfind(marker) + len(marker) for marker in REASONING_ENDS if marker in response), default=0)
    return response[cut:]


def extract_math(response: str) -> Extraction:
    region = answer_region(response)
    boxes = boxed_answers(region)
    if boxes:
        return Extraction(boxes[-1], "boxed")
    for pattern in _ANSWER_LINES:
        matches = list(pattern.finditer(region))
        if matches:
            return Extraction(matches[-1].group("a").strip().strip("*").strip().rstrip("."), "answer_line")
    return Extraction(None, "none")


def unwrap(answer: str) -> str:
    answer = answer.strip().strip("$*").strip()
    while match := _TEXT_WRAPPER.match(answer):
        answer = match.group(1).strip()
    return answer


def extract_integer(response: str) -> Extraction:
    found = extract_math(response)
    if found.answer is None:
        return found
    text = unwrap(found.answer).replace(",", "").replace("\\!", "").replace(" ", "")
    text = text.split("=")[-1].removesuffix("^\\circ").removesuffix("^{\\circ}")
    if re.fullmatch(r"-?\d+", text):
        return Extraction(str(int(text)), found.method)
    return Extraction(None, f"{found.method}_not_integer")


def extract_letter(response: str) -> Extraction:
    region = answer_region(response)
    for box in reversed(boxed_answers(region)):
        letter = unwrap(box).strip("()* .")
        if letter in ("A", "B", "C", "D"):
            return Extraction(letter, "letter_box")
    for pattern in _LETTER_PATTERNS:
        matches = list(pattern.finditer(region))
        if matches:
            return Extraction(matches[-1].group("l"), "letter_pattern")
    return Extraction(None, "none")
