"""Grading a composite row (long1k/tasks/composite.py): K questions in one prompt, answered in order.

Each question's answer is found in the answer region (after the reasoning, as for one question) in
one of two ways, and the row records which:

- `labels`: the region names the questions it answers ("For the second problem:", "**Problem 3**",
  "(2)", "Question 4:" at the start of a line, as Long1K's solution links and common answer layouts
  do). Each labelled segment answers the question it names (the text before the first label answers
  the first question unless another segment names it), graded by that question's own answer kind
  with the full extraction rules. Used when the labels name at least two questions.
- `order`: otherwise the boxes, in the order written, answer the questions in the order asked. With
  as many boxes as questions, box i answers question i. With fewer (a question skipped) or more
  (a restated or intermediate result), the boxes are aligned to the questions keeping their order
  (`aligned`): the alignment with the most correct answers, then the least displacement; it is the
  only way to tell which question was skipped without labels, and the row says it was aligned.
  Without labels or boxes nothing is answered (`no_answer`).

Per question: the answer, right or wrong, where in the response it was written, and, for a wrong
one, the question whose gold it equals (an answer out of order; not for choice letters, which any
two questions share by chance). A row is `correct` when every
question is. Order errors: answers that stand at another question's place (their gold is another
question's), and labelled answers written after a later question's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from long1k.boxed import scan_boxes
from long1k.grading.extract import ExtractionOptions, choice_pairs, region_of
from long1k.links import ORDINALS

_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINAL = "|".join(ORDINALS) + r"|last|final|\d{1,2}(?:st|nd|rd|th)"
_NOUN = r"(?:problem|question|part|sub-?question|exercise)"
_LEAD = (r"(?:(?:for|as\s+for|turning\s+to|next|now|then|and|finally|moving\s+on\s+to|regarding|on|to|"
         r"answer\s+to|solution\s+(?:to|for|of))[\s,:]+)*(?:the\s+)?")
LABEL = re.compile(
    r"^[ \t>#*_\-]*" + _LEAD
    + r"(?:(?P<ord>" + _ORDINAL + r")[ \t]+(?:" + _NOUN + r"|one)\b"
    + r"|" + _NOUN + r"[ \t]*(?:#|no\.?)?[ \t]*(?P<num>\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\b"
    + r"|\((?P<paren>\d{1,2})\))",
    re.IGNORECASE | re.MULTILINE)
MAX_BOXES_PER_PART = 3  # boxes beyond 3 K (the last ones kept) are not aligned: bounded grading work


@dataclass(frozen=True)
class PartVerdict:
    position: int
    """The question's place in the prompt (1-based)."""
    extracted: str | None
    correct: bool
    answered_at: int | None
    """Where its answer stands among the response's answers (1-based), None when unanswered."""
    correct_for: int | None
    """For a wrong answer: the question whose gold it equals (answered at the wrong place)."""
    out_of_order: bool
    reason: str


def label_position(match: re.Match, parts: int) -> int | None:
    """The question a label names, or None when it names none of the row's."""
    if word := match["ord"]:
        word = word.lower()
        if word in ("last", "final"):
            return parts
        position = ORDINALS.index(word) + 1 if word in ORDINALS else int(re.sub(r"\D", "", word))
    elif word := match["num"]:
        word = word.lower()
        position = _NUMBER_WORDS.index(word) + 1 if word in _NUMBER_WORDS else int(word)
    else:
        position = int(match["paren"])
    return position if 1 <= position <= parts else None


def labelled_segments(region: str, parts: int) -> list[tuple[int | None, str]]:
    """(question named, text) for the text before the first label and after each label; a label naming
    the same question as the one before it continues that segment."""
    marks = []
    for match in LABEL.finditer(region):
        position = label_position(match, parts)
        if position is not None and (not marks or marks[-1][1] != position):
            marks.append((match.start(), position))
    if not marks:
        return []
    ends = [start for start, _ in marks[1:]] + [len(region)]
    return [(None, region[: marks[0][0]])] + [(position, region[start:end])
                                              for (start, position), end in zip(marks, ends, strict=True)]


def _options(part: dict, mode: str) -> ExtractionOptions:
    return ExtractionOptions(mode, "anywhere", choice_pairs(part.get("choices")))


class _Grader:
    """The parts' golds; grading of one text against one question, cached."""

    def __init__(self, parts: list[dict], options: ExtractionOptions, kind_of: Callable):
        self.parts = parts
        self.kinds = [kind_of(part["answer_kind"]) for part in parts]
        self.options = [_options(part, options.mode) for part in parts]
        self.cache: dict[tuple[str, int], object] = {}

    def grade(self, text: str, index: int):
        key = (text, index)
        if key not in self.cache:
            self.cache[key] = grade_alone(self.kinds[index], self.parts[index]["answer"], text, self.options[index])
        return self.cache[key]

    def grade_answer(self, answer: str, index: int):
        return self.grade(f"\\boxed{{{answer}}}", index)

    def answer_of(self, text: str, index: int) -> str | None:
        return self.kinds[index].extract(text, self.options[index]).answer

    def matches_other(self, answer: str, index: int) -> int | None:
        """The first other question (1-based) whose gold `answer` equals, where answers name their question."""
        return next((j + 1 for j in range(len(self.parts)) if j != index and self.kinds[j].answer_names_question
                     and self.grade_answer(answer, j).correct), None)


def grade_alone(kind, gold, text: str, options: ExtractionOptions):
    """One question's verdict; a grader error (math-verify raising on a pathological answer) makes that
    question wrong, not the whole row."""
    from math_verify.errors import TimeoutException

    from long1k.grading.grade import grader_error

    try:
        return kind.grade(gold, text, options)
    except (Exception, TimeoutException) as err:  # math-verify's TimeoutException is a BaseException
        return grader_error(err)


def _by_labels(grader: _Grader, segments: list[tuple[int | None, str]]) -> list[PartVerdict] | None:
    parts = len(grader.parts)
    named = {position for position, _ in segments if position is not None}
    answers: dict[int, tuple[int, str]] = {}  # position -> (segment index, text)
    for index, (position, text) in enumerate(segments):
        if position is None:
            if 1 in named:
                continue  # a preamble: the first question is answered under its own label
            position = 1
        if grader.answer_of(text, position - 1) is not None:
            answers[position] = (index, text)  # the last segment answering a question counts
    if len(answers) < 2 and len(named) < 2:
        return None
    written = sorted(answers, key=lambda p: answers[p][0])
    verdicts = []
    for position in range(1, parts + 1):
        if position not in answers:
            verdicts.append(PartVerdict(position, None, False, None, None, False, "no answer under a label"))
            continue
        verdict = grader.grade(answers[position][1], position - 1)
        at = written.index(position)
        late = any(other > position for other in written[:at])
        other = None if verdict.correct or verdict.extracted is None else \
            grader.matches_other(verdict.extracted, position - 1)
        verdicts.append(PartVerdict(position, verdict.extracted, verdict.correct, at + 1, other,
                                    late or other is not None, verdict.reason))
    return verdicts


def align(matches: list[list[bool]], boxes: int, parts: int) -> list[int | None]:
    """For each question, the box (0-based) answering it: an order-keeping alignment with the most
    correct answers, then the least displacement; every box is used when there are at most as many
    boxes as questions, every question gets one otherwise."""
    worst = (-1, float("-inf"))
    best = [[worst] * (parts + 1) for _ in range(boxes + 1)]
    back: dict[tuple[int, int], tuple[int, int, bool]] = {}
    best[0][0] = (0, 0)
    for i in range(boxes + 1):
        for j in range(parts + 1):
            if best[i][j] == worst:
                continue
            score = best[i][j]
            steps = []
            if i < boxes and j < parts:
                steps.append((i + 1, j + 1, True, (score[0] + matches[i][j], score[1] - abs(i - j))))
            if i < boxes and boxes > parts:
                steps.append((i + 1, j, False, score))
            if j < parts and boxes < parts:
                steps.append((i, j + 1, False, score))
            for ni, nj, matched, candidate in steps:
                if candidate > best[ni][nj]:
                    best[ni][nj] = candidate
                    back[(ni, nj)] = (i, j, matched)
    assignment: list[int | None] = [None] * parts
    i, j = boxes, parts
    while (i, j) != (0, 0):
        pi, pj, matched = back[(i, j)]
        if matched:
            assignment[pj] = pi
        i, j = pi, pj
    return assignment


def _by_order(grader: _Grader, boxes: list[str]) -> tuple[list[PartVerdict], str]:
    parts = len(grader.parts)
    boxes = boxes[-MAX_BOXES_PER_PART * parts:]
    if not boxes:
        assignment: list[int | None] = [None] * parts
        how = "no_answer"
    elif len(boxes) == parts:
        assignment = list(range(parts))
        how = "order"
    else:
        matches = [[grader.grade_answer(box, j).correct for j in range(parts)] for box in boxes]
        assignment = align(matches, len(boxes), parts)
        how = "aligned"
    answered = sorted(i for i in assignment if i is not None)
    verdicts = []
    for position, box in enumerate(assignment, start=1):
        if box is None:
            verdicts.append(PartVerdict(position, None, False, None, None, False, "no box for this question"))
            continue
        verdict = grader.grade_answer(boxes[box], position - 1)
        other = None if verdict.correct else grader.matches_other(boxes[box], position - 1)
        verdicts.append(PartVerdict(position, verdict.extracted, verdict.correct, answered.index(box) + 1, other,
                                    other is not None, verdict.reason))
    return verdicts, how


def grade_composite(parts: list[dict], response: str, options: ExtractionOptions, kind_of: Callable):
    """The verdict of a composite row: correct when every question is; per-question verdicts in `parts`.
    `kind_of` gives a part's answer kind by name (long1k/answer_kinds.py), whose grader grades it."""
    from long1k.grading.grade import Verdict

    if not isinstance(parts, list) or not parts:
        raise ValueError("a composite row's gold is its list of parts")
    region = region_of(response, options)
    if region is None:
        verdicts = [PartVerdict(p, None, False, None, None, False, "answer section cut off")
                    for p in range(1, len(parts) + 1)]
        how = "answer_section_cut_off"
    else:
        grader = _Grader(parts, options, kind_of)
        verdicts = _by_labels(grader, labelled_segments(region, len(parts)))
        how = "labels"
        if verdicts is None:
            verdicts, how = _by_order(grader, scan_boxes(region)[0])
    correct = sum(v.correct for v in verdicts)
    answered = sum(v.answered_at is not None for v in verdicts)
    disorder = sum(v.out_of_order for v in verdicts)
    extracted = " | ".join(v.extracted if v.extracted is not None else "-" for v in verdicts)
    reason = (f"{correct}/{len(parts)} correct, {answered}/{len(parts)} answered, {disorder} out of order "
              f"({how})")
    return Verdict(extracted if answered else None, correct == len(parts), reason, how, tuple(verdicts))


def extract_composite(response: str, options: ExtractionOptions):
    """Every box of the answer region, joined (the composite kind's extraction without its golds)."""
    from long1k.grading.extract import Extraction

    region = region_of(response, options)
    if region is None:
        return Extraction(None, "answer_section_cut_off")
    boxes = scan_boxes(region)[0]
    return Extraction(" | ".join(boxes), "boxed") if boxes else Extraction(None, "none")
