"""One fine-tune of one arm at one seed, scored on its benchmarks; the budget-forced runs of inference-only
scaling; and many of them on worker processes (one torch thread each: the result does not depend on how
many run side by side)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from long1k.experiments.mini_arms import BENCHMARK_ROWS, FORMAT, Arm, benchmark_items
from long1k.experiments.mini_finetune import BatchedGreedy, Example, FineTuneRecipe, finetune, tokenize_rows

MAX_TOKENS = {"minichain": 200, "minichain_hard": 200, "minichain_x2": 300, "minichain_x4": 400}
"""Each well above what a right answer takes (the checked style: at most 120 tokens a problem of 5 operations;
the full style about 60, plus the linking phrases in a composite); a model that rambles costs no more."""
BUDGET = {"thinking_budget": 96, "max_tokens": 136, "extend_word": "Wait"}
"""Budget forcing as the earlier miniature ran it: thinking cut at 96 tokens, 40 tokens left for the answer."""


@dataclass
class Result:
    arm: str
    seed: int
    scores: dict[str, float]
    """Benchmark -> percent correct."""
    response_tokens: dict[str, float]
    """Benchmark -> mean response tokens."""
    extra_answers: dict[str, float]
    """Benchmark -> percent of responses that box more answers than the prompt asks questions (a model trained
    on stitched rows that goes on to invent a next problem)."""
    train_seconds: float
    final_loss: float
    forced: dict = field(default_factory=dict)
    """"forced_waitK" -> (percent correct, mean thinking tokens) under budget forcing with K extensions."""


def greedy_requests(tokenizer, items: list[dict], max_tokens: int) -> list:
    """Each item's prompt as predict renders it with the format's template (the task instruction empty, as the
    mini benchmarks' is), greedy."""
    from long1k.formats import get_format
    from long1k.generation.prompts import load_template
    from long1k.generation.sampling import Request, Sampling

    template = load_template(get_format(FORMAT).template_name)
    sampling = Sampling(0.0, max_tokens=max_tokens)
    return [Request(template.render(tokenizer, item["problem"], item["answer_kind"], ""), 0, sampling)
            for item in items]


def score(items: list[dict], responses: list[str]) -> float:
    from long1k.answer_kinds import get_answer_kind, grade

    correct = sum(grade(item["answer_kind"], item[get_answer_kind(item["answer_kind"]).gold_field], response).correct
                  for item, response in zip(items, responses, strict=True))
    return 100.0 * correct / len(items)


def extra_answers(items: list[dict], responses: list[str]) -> float:
    from long1k.boxed import boxed_answers
    from long1k.grading.extract import answer_region

    extra = sum(len(boxed_answers(answer_region(response))) > len(item.get("parts") or [item])
                for item, response in zip(items, responses, strict=True))
    return 100.0 * extra / len(items)


def evaluate(backend, tokenizer, benchmark: str, problems: int) -> tuple[float, float, float]:
    """(percent correct, mean response tokens, percent with extra answers) on one benchmark, greedily."""
    items = benchmark_items(benchmark, problems)
    generated = dict(backend.generate(greedy_requests(tokenizer, items, MAX_TOKENS[benchmark])))
    responses = [generated[i].text for i in range(len(items))]
    return (score(items, responses), statistics.fmean(generated[i].tokens for i in range(len(items))),
            extra_answers(items, responses))


def forced(backend, tokenizer, extend: int, problems: int) -> tuple[float, float]:
    """(percent correct, mean thinking tokens) on minichain, thinking forced on `extend` times with "Wait"."""
    from long1k.formats import get_format
    from long1k.generation.budget import BudgetForcing, force_budget

    items = benchmark_items("minichain", problems)
    budget = BudgetForcing.for_format(get_format(FORMAT), BUDGET["thinking_budget"], extend, BUDGET["extend_word"])
    out = dict(force_budget(backend, greedy_requests(tokenizer, items, BUDGET["max_tokens"]), budget))
    return (score(items, [out[i].generation.text for i in range(len(items))]),
            statistics.fmean(out[i].thinking_tokens for i in range(len(items))))


def run_arm(base: str | Path, arm: Arm, seed: int, recipe: FineTuneRecipe, forcing: tuple[int, ...] = (),
            problems: int = BENCHMARK_ROWS, examples: list[Example] | None = None) -> Result:
    """Fine-tune the base on the arm's rows (`examples`: them tokenized, when the caller has) with `seed` and
    score it on `problems` held-out problems of each of the arm's benchmarks (and, given `forcing`, under
    budget forcing with each number of extensions)."""
    from long1k.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(str(base))
    start = time.perf_counter()
    model, losses = finetune(base, tokenize_rows(tokenizer, arm.rows) if examples is None else examples, recipe,
                             seed, arm.steps, arm.batch)
    seconds = time.perf_counter() - start
    backend = BatchedGreedy(model, tokenizer)
    scores, tokens, extra_boxes = {}, {}, {}
    for benchmark in arm.benchmarks:
        scores[benchmark], tokens[benchmark], extra_boxes[benchmark] = evaluate(backend, tokenizer, benchmark,
                                                                                problems)
    budget_forced = {f"forced_wait{k}": forced(backend, tokenizer, k, problems) for k in forcing}
    tail = losses[-max(1, len(losses) // 10):]
    return Result(arm.name, seed, scores, tokens, extra_boxes, round(seconds, 1), statistics.fmean(tail), budget_forced)


def training_tokens(arm: Arm, examples: list[Example]) -> float:
    """Tokens a fine-tune of the arm runs through (steps x rows a step x mean row length): its cost."""
    return arm.steps * arm.batch * statistics.fmean(len(ids) for ids, _ in examples)


def run_all(base: str | Path, jobs: Iterable[tuple[Arm, int, tuple[int, ...]]], recipe: FineTuneRecipe,
            examples: dict[str, list[Example]], workers: int = 2, problems: int = BENCHMARK_ROWS) -> list[Result]:
    """Every (arm, seed, forcing) job, `workers` at a time, with a progress bar; results in job order.
    `examples`: each arm's rows tokenized (arm name -> examples), so that no job tokenizes them again. The
    longest fine-tunes go first, so that the workers finish together (a job's result does not depend on when
    it runs)."""
    from tqdm import tqdm

    jobs = list(jobs)
    longest_first = sorted(range(len(jobs)), key=lambda j: -training_tokens(jobs[j][0], examples[jobs[j][0].name]))
    futures = {}
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for j in longest_first:
            arm, seed, forcing = jobs[j]
            futures[j] = pool.submit(run_arm, str(base), replace(arm, rows=[]), seed, recipe, forcing, problems,
                                     examples[arm.name])
        for future in tqdm([futures[j] for j in longest_first], desc="fine-tunes", unit="run"):
            future.result()
    return [futures[j].result() for j in range(len(jobs))]
