"""Structure of one reasoning trace: how long reasoning fails (looping, losing the question, an answer
that contradicts the reasoning) and how it checks itself.

Words are lowercase runs of letters and digits (LaTeX commands and punctuation left out, so that a
loop that varies only its markup still counts as one), counted in the reasoning section (the whole
response when it has none): a final solution restates its reasoning, which is no loop. Per response:

- `repeated_share`: share of the word n-grams (n = `ngram`, 8) that occurred earlier in the response.
- `longest_repeat`: the longest word span that occurs twice (overlaps allowed), in words.
- `tail_repeated_share` / `loops_at_end`: the share of the last `tail_words` (400) words' n-grams that
  occurred before; a loop when at least `loop_share` (0.6). On 257 real long traces (Sky-T1 and
  s1K-1.1-schema traces in ../shared) the one trace cut off in an "Alternatively, perhaps I should
  consider ..." loop scores 1.00 and every other at most 0.27.
- `truncated` (finish reason `length`, or the reasoning never closed) and `loop_truncated` (both).
- `conclusion`: does the final answer (the grader's extraction) equal the last conclusion inside the
  reasoning (its last box or explicit answer statement)? agrees | contradicts | no_conclusion |
  no_final_answer | no_reasoning_section (a response without a reasoning marker) | not_applicable
  (a composite row of several answers).
- `verification_episodes`: paragraphs of the reasoning that check a result ("let me verify",
  "double-check", "plug back in", "sanity check", ...), and per 1,000 words.
- `question_coverage` / `restates_question`: share of the problem's word 5-grams found in the
  reasoning, and whether it is at least `restate_share` (0.3): the model wrote the question out again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from long1k.boxed import scan_boxes
from long1k.formats import as_written, format_of_response
from long1k.grading.extract import ExtractionOptions, choice_pairs, region_of, stated_answers

if TYPE_CHECKING:
    from long1k.answer_kinds import AnswerKind

_WORD = re.compile(r"[a-z0-9]+")
_VERIFY = re.compile(
    r"\b(?:let(?:\s+me|'s|\s+us)\s+(?:double[- ]?)?(?:check|verify|confirm|make\s+sure)|double[- ]?check|"
    r"sanity\s+check|to\s+(?:verify|confirm|check)|verif(?:y|ying|ies|ied)\s+(?:that|this|the|it|whether|if|my|our)|"
    r"check(?:ing)?\s+(?:that|this|whether|if|again|my|our|the\s+(?:answer|result|calculation|solution))|"
    r"(?:plug(?:ging)?|substitut(?:e|ing))\s+(?:\w+\s+){0,3}?back)\b",
    re.IGNORECASE)
_MOD, _BASE = (1 << 61) - 1, 1_000_003


@dataclass(frozen=True)
class StructureOptions:
    ngram: int = 8
    tail_words: int = 400
    loop_share: float = 0.6
    restate_ngram: int = 5
    restate_share: float = 0.3


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


def repeated_share(ws: list[str], n: int) -> float:
    """Share of the n-grams that occurred earlier in the same text (0 for a text shorter than n)."""
    grams = _grams(ws, n)
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def tail_repeated_share(ws: list[str], n: int, tail: int) -> float:
    """Share of the last `tail` words' n-grams that occurred earlier (anywhere before them)."""
    if len(ws) < tail + n:
        return 0.0
    start = len(ws) - tail
    seen = set(_grams(ws[: start + n - 1], n))
    repeats = total = 0
    for gram in _grams(ws[start:], n):
        repeats += gram in seen
        total += 1
        seen.add(gram)
    return repeats / total


def _repeats_at(ids: list[int], length: int) -> bool:
    """Whether some span of `length` words occurs twice (rolling hash, then checked word by word)."""
    if length == 0:
        return True
    power = pow(_BASE, length, _MOD)
    value, seen = 0, {}
    for i, token in enumerate(ids):
        value = (value * _BASE + token) % _MOD
        if i >= length:
            value = (value - ids[i - length] * power) % _MOD
        if i >= length - 1:
            start = i - length + 1
            for earlier in seen.get(value, ()):
                if ids[earlier : earlier + length] == ids[start : start + length]:
                    return True
            seen.setdefault(value, []).append(start)
    return False


def longest_repeat(ws: list[str]) -> int:
    """The longest word span occurring at least twice (binary search on its length)."""
    vocabulary: dict[str, int] = {}
    ids = [vocabulary.setdefault(w, len(vocabulary) + 1) for w in ws]
    low, high = 0, max(0, len(ids) - 1)
    while low < high:
        middle = (low + high + 1) // 2
        if _repeats_at(ids, middle):
            low = middle
        else:
            high = middle - 1
    return low


def verification_episodes(reasoning: str) -> int:
    """Paragraphs that check a result."""
    return sum(bool(_VERIFY.search(paragraph)) for paragraph in re.split(r"\n\s*\n", reasoning))


def question_coverage(problem: str, reasoning_words: list[str], n: int) -> float | None:
    grams = set(_grams(words(problem), n))
    if not grams:
        return None
    return len(grams & set(_grams(reasoning_words, n))) / len(grams)


def split_reasoning(response: str) -> str | None:
    """The reasoning section (to the end when it never closed), or None without a reasoning marker."""
    fmt = format_of_response(response)
    if fmt is None:
        return None
    return response.split(fmt.markers[0], 1)[1].split(fmt.answer_start, 1)[0]


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MATHY = re.compile(r"[\d\\]")


def last_conclusion(reasoning: str, kind: AnswerKind, options: ExtractionOptions) -> str | None:
    """The last answer the reasoning reached: its last box or explicit answer statement (a statement
    only when it holds a number or LaTeX: "the answer is correct" concludes nothing)."""
    if kind.name == "letter":
        return kind.extract(reasoning, options).answer
    candidates = [(pos, answer) for pos, answer in stated_answers(reasoning) if _MATHY.search(answer)]
    boxes = scan_boxes(reasoning)[0]
    if boxes:
        candidates.append((reasoning.rfind(boxes[-1]), boxes[-1]))
    return max(candidates)[1] if candidates else None


def same_answer(conclusion: str, final: str, kind: AnswerKind, options: ExtractionOptions) -> bool:
    """Equal by the answer kind's grader, or the same numbers in the same order (units and words
    around them aside: "620 arcseconds" and "620")."""
    from long1k.grading.composite import grade_alone

    if re.sub(r"\s+", "", final) == re.sub(r"\s+", "", conclusion):
        return True
    numbers = [float(x) for x in _NUMBER.findall(conclusion)]
    if numbers and numbers == [float(x) for x in _NUMBER.findall(final)]:
        return True
    return grade_alone(kind, conclusion, f"\\boxed{{{final}}}", options).correct


def conclusion_agreement(row: dict, reasoning: str | None) -> tuple[str, str | None]:
    """(agrees | contradicts | no_conclusion | no_final_answer | ..., the reasoning's last conclusion)."""
    from long1k.answer_kinds import get_answer_kind, is_composite

    if is_composite(row):
        return "not_applicable", None
    if reasoning is None:
        return "no_reasoning_section", None
    kind = get_answer_kind(row.get("answer_kind") or "latex")
    options = ExtractionOptions("strict", "anywhere", choice_pairs(row.get("choices")))
    conclusion = last_conclusion(reasoning, kind, options)
    final = row.get("extracted")
    if conclusion is None:
        return "no_conclusion", None
    if final in (None, ""):
        return "no_final_answer", conclusion
    return ("agrees" if same_answer(conclusion, str(final), kind, options) else "contradicts"), conclusion


def trace_structure(row: dict, options: StructureOptions = StructureOptions()) -> dict:
    """The structure metrics of one graded prediction row."""
    response = as_written(row)
    section = split_reasoning(response)
    reasoning = response if section is None else section
    ws = words(reasoning)  # a solution restates its reasoning: repetition is measured in the reasoning
    truncated = row.get("finish_reason") == "length" or region_of(response, ExtractionOptions()) is None
    tail = tail_repeated_share(ws, options.ngram, options.tail_words)
    coverage = question_coverage(str(row.get("problem") or ""), ws, options.restate_ngram)
    conclusion, concluded = conclusion_agreement(row, section)
    episodes = verification_episodes(reasoning)
    return {
        "reasoning_words": len(ws),
        "repeated_share": repeated_share(ws, options.ngram),
        "longest_repeat": longest_repeat(ws),
        "tail_repeated_share": tail,
        "loops_at_end": tail >= options.loop_share,
        "truncated": truncated,
        "loop_truncated": truncated and tail >= options.loop_share,
        "conclusion": conclusion,
        "last_conclusion": concluded,
        "verification_episodes": episodes,
        "verification_per_1k": 1000 * episodes / len(ws) if ws else 0.0,
        "question_coverage": coverage,
        "restates_question": coverage is not None and coverage >= options.restate_share,
    }
