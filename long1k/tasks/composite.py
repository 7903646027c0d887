"""Composite benchmarks: K problems of one prepared benchmark in one prompt, joined the way Long1K's
training rows join theirs (the question linking phrases of long1k/synthesis/options.py, drawn per
row without repeats), with the K gold answers in order.

A composite benchmark is named BASE_xK (`math500_x4`); the registry derives its task from BASE's, so
predict, score and the reports treat it like any other benchmark. Row r holds the problems at
places r, r + s, r + 2s, ... (s = N // K, modulo N) of a seeded permutation of BASE's N problems:
across the N rows every problem stands exactly once at every position, so the accuracy at each
position is measured on BASE's whole problem set and compares directly with BASE's own score.
Everything a row was built from is in the row (the parts' ids, golds, choices, the links drawn).
"""

from __future__ import annotations

import random
import re

from long1k.errors import Long1kError
from long1k.links import ORDINALS, draw_links
from long1k.tasks.spec import TaskSpec

COMPOSITE_KIND = "composite"
MIN_PARTS, MAX_PARTS = 2, len(ORDINALS)
_NAME = re.compile(r"^(?P<base>.+)_x(?P<k>\d+)$")


def composite_name(base: str, parts: int) -> str:
    return f"{base}_x{parts}"


def parse_composite_name(name: str) -> tuple[str, int] | None:
    """(base benchmark, K) of a composite benchmark's name, or None for any other name."""
    match = _NAME.match(name)
    return (match["base"], int(match["k"])) if match else None


def check_parts(parts: int) -> None:
    if not MIN_PARTS <= parts <= MAX_PARTS:
        raise Long1kError(f"a composite benchmark joins {MIN_PARTS} to {MAX_PARTS} problems, not {parts}")


def composite_instruction(base: TaskSpec, parts: int) -> str:
    """Every question answered, in order, each in the base answer kind's own form."""
    return f"There are {parts} questions above. Answer all of them, in the order they are asked. " \
           f"{base.kind.each_instruction}"


def composite_task(base: TaskSpec, parts: int) -> TaskSpec:
    check_parts(parts)
    if base.composite_of:
        raise Long1kError(f"{base.name} is a composite benchmark already; compose {base.composite_of} instead")
    return TaskSpec(
        name=composite_name(base.name, parts), answer_kind=COMPOSITE_KIND,
        description=f"{parts} {base.name} problems per prompt, answered in order", default=False,
        instruction=composite_instruction(base, parts), defined_in=f"composite of {base.defined_in}",
        composite_of=base.name, parts=parts)


def _part(item: dict) -> dict:
    part = {"id": str(item["id"]), "answer": item["answer"], "answer_kind": item["answer_kind"]}
    if item.get("choices"):
        part["choices"] = item["choices"]
    return part


def build_composite(items: list[dict], base: TaskSpec, parts: int, seed: int, rows: int | None = None) -> list[dict]:
    """The composite rows of `base` (its prepared rows `items`): `rows` of them (default N), K parts each."""
    check_parts(parts)
    n = len(items)
    if n < parts:
        raise Long1kError(f"{base.name} has {n} problems, fewer than the {parts} a composite row needs")
    rows = n if rows is None else rows
    if not 1 <= rows <= n:
        raise Long1kError(f"--composite_rows must lie in 1..{n} for {base.name}, not {rows}")
    rng = random.Random(f"composite:{base.name}:{parts}:{seed}")
    order = list(range(n))
    rng.shuffle(order)
    step = n // parts
    name = composite_name(base.name, parts)
    out = []
    for r in range(rows):
        chosen = [items[order[(r + j * step) % n]] for j in range(parts)]
        links = [link["question"] for link in draw_links(rng, parts)]
        problem = chosen[0]["problem"].strip()
        for link, item in zip(links, chosen[1:], strict=True):
            problem += f"\n\n{link}\n\n{item['problem'].strip()}"
        out.append({
            "id": f"{name}-{r}",
            "benchmark": name,
            "problem": problem,
            "answer": [item["answer"] for item in chosen],
            "answer_kind": COMPOSITE_KIND,
            "parts": [_part(item) for item in chosen],
            "composite": {"of": base.name, "parts": parts, "seed": seed, "question_links": links},
        })
    return out
