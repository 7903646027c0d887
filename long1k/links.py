"""Linking phrases and ordinals: how the parts of a stitched row or a composite prompt are joined.

Shared by the synthesis (training rows), the composite benchmarks (prompts of several questions), the
composite grader (labels such as "For the second problem:") and the fixtures. A leaf: imports nothing
of long1k."""

from __future__ import annotations

import random

# Linking phrases: {nth} / {Nth} is the problem a phrase introduces (second, third, ..., and "last" for
# the final one of three or more), {prev} / {Prev} the one before it; a phrase without them fits any place.
DEFAULT_QUESTION_LINKS = [
    "Next, answer this {nth} question:",
    "Also solve the following problem:",
    "In addition, consider another problem:",
    "Once that is done, work out this one as well:",
    "Here is a {nth}, separate question:",
    "After that, please solve:",
]
DEFAULT_REASONING_LINKS = [
    "Okay, that settles the {prev} problem. Now let me turn to the {nth} one.",
    "Alright, the {prev} question is done. Moving on to the next problem.",
    "So much for the {prev} part. Next, the {nth} question.",
    "Now that the {prev} answer is found, let me work on the {nth} problem.",
    "Good, the {prev} problem is solved. Let's now tackle the {nth} one.",
]
DEFAULT_SOLUTION_LINKS = [
    "For the {nth} problem:",
    "{Nth} question:",
    "Turning to the {nth} problem:",
    "Next, the {nth} problem:",
    "As for the {nth} question:",
]
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
LINK_KINDS = ("question", "reasoning", "solution")
DEFAULT_LINKS = {"question": DEFAULT_QUESTION_LINKS, "reasoning": DEFAULT_REASONING_LINKS,
                 "solution": DEFAULT_SOLUTION_LINKS}


def ordinal(position: int) -> str:
    return ORDINALS[position - 1] if position <= len(ORDINALS) else f"{position}th"


def render_link(phrase: str, position: int, parts: int) -> str:
    """A phrase introducing part `position` (1-based, >= 2) of a row of `parts` parts."""
    nth = "last" if parts >= 3 and position == parts else ordinal(position)
    prev = ordinal(position - 1)
    for key, value in (("{nth}", nth), ("{Nth}", nth.capitalize()), ("{prev}", prev), ("{Prev}", prev.capitalize())):
        phrase = phrase.replace(key, value)
    return phrase


def draw_links(rng: random.Random, parts: int, phrases: dict[str, list[str]] = DEFAULT_LINKS) -> list[dict[str, str]]:
    """The phrases joining `parts` parts (links[i] introduces part i + 2): drawn per row, without
    repeating a phrase within the row while the list lasts, and rendered for each position."""
    draws = {}
    for kind in LINK_KINDS:
        count = parts - 1
        choices = phrases[kind]
        draws[kind] = rng.sample(choices, count) if count <= len(choices) else rng.choices(choices, k=count)
    return [{kind: render_link(draws[kind][i], i + 2, parts) for kind in LINK_KINDS} for i in range(parts - 1)]
