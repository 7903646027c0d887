"""The miniature world: a task family a small model learns on 2 CPU cores, with exact answers.

A problem is a chain of operations on digits, applied left to right modulo 10
("Compute 3 plus 7 times 4 minus 2, left to right, modulo 10."). Its difficulty is the number of
operations. The same problem's reasoning can be written at several lengths (STYLES): every
intermediate result, some of them, none, or every one and then a check of the whole chain. Problems
are split for good into training and held-out ones by a hash of their text, so a benchmark of
held-out problems is new combinations, never a training problem.

This module only generates text; the fixtures write it in the OpenThoughts and s1K-1.1 schemas, the
task registry reads it as the `minichain` benchmark, and the mini tokenizer is trained on it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

MODULUS = 10
OPERATIONS = {
    "plus": lambda a, b: (a + b) % MODULUS,
    "minus": lambda a, b: (a - b) % MODULUS,
    "times": lambda a, b: (a * b) % MODULUS,
}
STYLES = ("none", "some", "full", "checked")
"""Reasoning lengths for one problem, shortest first: no intermediate result, every second one, every
one, every one and then the whole chain worked again as a check."""
DEFAULT_STYLE = "full"
HELD_OUT_SHARE = 10
"""One problem in HELD_OUT_SHARE is held out (never written into a training source)."""
SOURCE_NAME = "minichain"


@dataclass(frozen=True)
class Chain:
    start: int
    steps: tuple[tuple[str, int], ...]

    @property
    def operations(self) -> int:
        return len(self.steps)

    @property
    def expression(self) -> str:
        return " ".join([str(self.start), *(f"{op} {value}" for op, value in self.steps)])

    @property
    def problem(self) -> str:
        return f"Compute {self.expression}, left to right, modulo {MODULUS}."

    def results(self) -> list[int]:
        """The value after each operation."""
        values, value = [], self.start
        for op, operand in self.steps:
            value = OPERATIONS[op](value, operand)
            values.append(value)
        return values

    @property
    def answer(self) -> int:
        return self.results()[-1]

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha256(self.problem.encode()).hexdigest(), 16) % HELD_OUT_SHARE == 0

    def reasoning(self, style: str = DEFAULT_STYLE) -> str:
        """The reasoning trace in one of STYLES."""
        if style not in STYLES:
            raise ValueError(f"unknown reasoning style {style!r}; known: {STYLES}")
        if style == "none":
            return "I give the result directly."
        lines = self._step_lines(every=2 if style == "some" else 1)
        if style == "checked":
            lines += ["Let me check by working the chain again.", *self._step_lines(every=1),
                      f"The check agrees: {self.answer}."]
        return "\n".join(lines)

    def _step_lines(self, every: int) -> list[str]:
        """One line per `every` operations: the value before, those operations, the value after."""
        lines, value, results = [], self.start, self.results()
        for first in range(0, self.operations, every):
            last = min(first + every, self.operations)
            ops = " ".join(f"{op} {operand}" for op, operand in self.steps[first:last])
            lines.append(f"{value} {ops} is {results[last - 1]}.")
            value = results[last - 1]
        return lines

    def solution(self) -> str:
        return f"The answer is \\boxed{{{self.answer}}}."


def draw_chain(rng: random.Random, operations: int) -> Chain:
    steps = tuple((rng.choice(tuple(OPERATIONS)), rng.randrange(MODULUS)) for _ in range(operations))
    return Chain(rng.randrange(MODULUS), steps)


def chains(seed: str, operations: tuple[int, ...], held_out: bool) -> Iterator[Chain]:
    """Distinct chains of the given lengths (cycled in turn), training or held-out ones only; an error
    once a length has no new chain left to draw (one operation has 300 problems in all)."""
    rng = random.Random(f"{SOURCE_NAME}:{seed}")
    seen: set[str] = set()
    turn = misses = 0
    while True:
        chain = draw_chain(rng, operations[turn % len(operations)])
        if chain.held_out != held_out or chain.problem in seen:
            misses += 1
            if misses > 100_000:
                raise ValueError(f"no new {'held-out' if held_out else 'training'} chain of "
                                 f"{operations[turn % len(operations)]} operations left to draw")
            continue
        seen.add(chain.problem)
        misses = 0
        turn += 1
        yield chain


def take(iterator: Iterator[Chain], n: int) -> list[Chain]:
    return [next(iterator) for _ in range(n)]
