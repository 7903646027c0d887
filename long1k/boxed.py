"""Boxed-answer extraction shared by the synthesis (validation) and the graders."""

from __future__ import annotations

import re

# `\boxed{`, `\boxed {` and `\fbox{` all occur in model outputs and in source solutions.
_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")


def boxed_answers(text: str) -> list[str]:
    """Contents of every balanced `\\boxed{...}` / `\\fbox{...}` in `text`, in order of appearance."""
    return scan_boxes(text)[0]


def scan_boxes(text: str) -> tuple[list[str], bool]:
    """(the balanced boxes' contents, whether a box after them never closes: output cut off mid-answer)."""
    answers = []
    position = 0
    while match := _BOX_OPEN.search(text, position):
        depth, start = 1, match.end()
        index = start
        while index < len(text) and depth:
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                index += 2  # an escaped brace (\{ or \}) does not open or close a group
                continue
            depth += char == "{"
            depth -= char == "}"
            index += 1
        if depth:  # unbalanced: truncated output, nothing after this can be a complete box
            return answers, True
        answers.append(text[start : index - 1].strip())
        position = index
    return answers, False


def last_boxed(text: str) -> str | None:
    """The last complete boxed answer, or None."""
    answers = boxed_answers(text)
    return answers[-1] if answers else None
