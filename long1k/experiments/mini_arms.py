"""The miniature's arms: the training rows of each design, built from the miniature world the way the
synthesis builds Long1K rows (the reasoning format's messages, stitched parts joined by long1k/links.py's
phrases through `synthesis.sampling.stitched_messages`), and the held-out problems they are scored on.

The designs (docs/experiments.md says what each tests); arms train `Plan.steps` steps unless said:
- `style`: one problem a row, its reasoning in each style (none < some < full < checked), 16 rows a step;
- `stitch_fixed`: rows of 1, 2, 4 and 8 problems (full style), 2 rows a step at every level: the paper's
  design, where longer rows also mean more tokens seen;
- `stitch_equal`: rows of 2, 4 and 8 problems at 16/k rows a step, for as many steps as give them the
  answer tokens `style_full` (its level 1) sees: the linking phrases make a stitched row longer than its
  problems, so the steps, not the rows, are what is equalised;
- `lvd`: length vs difficulty with Long1K's mix: half the rows are single problems of every difficulty
  (the s1.1 share), the other half easy problems (2 operations) stitched in pairs, or hard single ones
  (5 operations); the easy arm's steps give it the hard arm's answer tokens;
- `composite`: the models trained without and with stitched rows at equal answer tokens (`style_full`,
  `stitch2_eq`), scored on prompts of 2 and 4 problems;
- `forcing`: `style_none`, pushed to think longer at inference (long1k/experiments/mini_runs.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from long1k.fixtures.minichain import TRAINING_OPERATIONS
from long1k.formats import chat_messages, get_format
from long1k.links import draw_links
from long1k.miniworld import STYLES, Chain, chains, take
from long1k.synthesis.sampling import stitched_messages

FORMAT = "think"
STITCH_LEVELS = (1, 2, 4, 8)
COMPOSITES = ("minichain_x2", "minichain_x4")
BENCHMARK_ROWS = 500
"""Held-out problems a single-problem benchmark is scored on: the registered benchmark's generator, drawn
further (its first 100 rows are the registered benchmark's); 100 left the std over seeds up to 4 points
from which problems a model happens to miss."""


@dataclass(frozen=True)
class Arm:
    name: str
    rows: list[list[dict]] = field(repr=False, compare=False)
    batch: int
    """Rows a step."""
    steps: int
    benchmarks: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The sizes of a miniature run."""

    pool: int = 4000
    """Training problems (2-5 operations) the stitched rows are drawn from."""
    rows: int = 2000
    """Rows of each arm."""
    batch: int = 16
    fixed_rows: int = 2
    """Rows a step of the fixed-rows stitching design."""
    steps: int = 300


def single(chain: Chain, style: str = "full") -> list[dict]:
    return chat_messages(get_format(FORMAT), chain.problem, chain.reasoning(style), chain.solution())


def stitched(parts: list[Chain], rng: random.Random) -> list[dict]:
    return stitched_messages([c.problem for c in parts], [c.reasoning("full") for c in parts],
                             [c.solution() for c in parts], draw_links(rng, len(parts)), get_format(FORMAT))


def stitched_rows(pool: list[Chain], parts: int, rows: int, seed: str) -> list[list[dict]]:
    """`rows` rows of `parts` distinct problems drawn from the pool, links drawn per row; rows of one problem
    are the pool's first `rows` problems."""
    if parts == 1:
        return [single(c) for c in pool[:rows]]
    rng = random.Random(f"stitch:{seed}:{parts}")
    return [stitched(rng.sample(pool, parts), rng) for _ in range(rows)]


def training_pool(size: int, operations: tuple[int, ...] = TRAINING_OPERATIONS, seed: str = "miniature") -> list[Chain]:
    return take(chains(f"{seed}:{operations}", operations, held_out=False), size)


def style_arms(plan: Plan) -> list[Arm]:
    """The same problems in each style (the stitching designs' single rows); `style_full` is also level 1 of the
    equal-tokens stitching design."""
    pool = training_pool(plan.pool)[:plan.rows]
    return [Arm(f"style_{style}", [single(c, style) for c in pool], plan.batch, plan.steps,
                ("minichain", *COMPOSITES) if style == "full" else ("minichain",))
            for style in STYLES]


def stitch_name(parts: int, rows_a_step: int) -> str:
    return f"stitch{parts}_r{rows_a_step}"


def equal_name(parts: int) -> str:
    return f"stitch{parts}_eq"


def stitch_arms(plan: Plan, tokens_per_row: Callable[[list], float]) -> list[Arm]:
    """Every level at `fixed_rows` rows a step (level 1: single problems); and levels 2, 4, 8 at `batch / k`
    rows a step, for the steps that give them the answer tokens of `style_full` (`tokens_per_row(rows)`:
    their mean)."""
    pool = training_pool(plan.pool)
    rows_of = {parts: stitched_rows(pool, parts, plan.rows, "levels") for parts in STITCH_LEVELS}
    single_tokens = plan.batch * tokens_per_row(rows_of[1])
    arms = []
    for parts, rows in rows_of.items():
        arms.append(Arm(stitch_name(parts, plan.fixed_rows), rows, plan.fixed_rows, plan.steps, ("minichain",)))
        if parts > 1:
            rows_a_step = plan.batch // parts
            steps = round(plan.steps * single_tokens / (rows_a_step * tokens_per_row(rows)))
            benchmarks = ("minichain", *COMPOSITES) if parts == 2 else ("minichain",)
            arms.append(Arm(equal_name(parts), rows, rows_a_step, steps, benchmarks))
    return arms


def lvd_arms(plan: Plan, tokens_per_row: Callable[[list], float]) -> list[Arm]:
    """Easy pairs or hard singles, each beside the same single problems of every difficulty (half the rows);
    the easy arm's steps give it the hard arm's answer tokens (`tokens_per_row(rows)`: their mean)."""
    half = plan.rows // 2
    mixed = [single(c) for c in training_pool(half, seed="lvd-mixed")]
    easy = stitched_rows(training_pool(plan.pool, (2,), "lvd-easy"), 2, half, "lvd")
    hard = [single(c) for c in training_pool(half, (5,), "lvd-hard")]
    easy_rows, hard_rows = easy + mixed, hard + mixed
    steps = round(plan.steps * tokens_per_row(hard_rows) / tokens_per_row(easy_rows))
    benchmarks = ("minichain", "minichain_hard")
    return [Arm("lvd_easy_pairs", easy_rows, plan.batch, steps, benchmarks),
            Arm("lvd_hard_singles", hard_rows, plan.batch, plan.steps, benchmarks)]


STYLE_DESIGN = tuple(f"style_{style}" for style in STYLES)
EQUAL_DESIGN = ("style_full", *(equal_name(k) for k in STITCH_LEVELS[1:]))
COMPOSITE_ARMS = ("style_full", equal_name(2))
"""(without stitched rows, with them), at equal answer tokens."""


def fixed_design(plan: Plan) -> list[str]:
    return [stitch_name(k, plan.fixed_rows) for k in STITCH_LEVELS]


def all_arms(plan: Plan, tokens_per_row: Callable[[list], float]) -> list[Arm]:
    return [*style_arms(plan), *stitch_arms(plan, tokens_per_row), *lvd_arms(plan, tokens_per_row)]


def benchmark_items(name: str, rows: int = BENCHMARK_ROWS) -> list[dict]:
    """The held-out problems of a registered mini benchmark (its fixture's generator, `rows` of them), or
    composites of the registered rows joined by the linking phrases (at most 100). A composite's prompt is
    its problems alone, without the composite task's instruction: what the training rows' user turns are."""
    from long1k.fixtures.writers import task_fixture_rows
    from long1k.tasks import get_task
    from long1k.tasks.composite import build_composite, parse_composite_name

    composite = parse_composite_name(name)
    if composite is not None:
        base, parts = composite
        task = get_task(base)
        items = [{**row, "answer_kind": task.answer_kind} for row in task_fixture_rows(base, task.fixture)]
        return build_composite(items, task, parts, seed=0, rows=min(rows, len(items)))
    task = get_task(name)
    return [{**row, "answer_kind": task.answer_kind} for row in task_fixture_rows(name, {**task.fixture, "rows": rows})]
