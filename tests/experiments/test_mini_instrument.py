"""The miniature's instrument: its arms are the synthesis's rows, its loss mask the SFT stage's, its greedy
batches the hf backend's generations, and budget forcing runs on it unchanged."""

from __future__ import annotations

import copy
import re

import pytest

from long1k.experiments import mini_arms, mini_base
from long1k.experiments.mini_finetune import (
    BatchedGreedy,
    FineTuneRecipe,
    count_answer_tokens,
    finetune,
    tokenize_rows,
)
from long1k.formats import get_format
from long1k.generation.backends import EngineSettings, HFBackend
from long1k.generation.budget import BudgetForcing, force_budget
from long1k.generation.sampling import Request, Sampling
from long1k.links import DEFAULT_LINKS, render_link
from long1k.miniworld import STYLES
from long1k.train.data import IGNORE_INDEX, assistant_markers, render, tokenize_with_labels

PLAN = mini_arms.Plan(pool=400, rows=40, batch=16, fixed_rows=4, steps=4)
TINY_BASE = mini_base.BaseRecipe(problems=64, steps=8, batch=4, warmup=2, probe=4)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return mini_base.build_base(tmp_path_factory.mktemp("base") / "base", TINY_BASE)


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    from long1k.tokenizer import load_tokenizer

    return load_tokenizer(str(tiny_base))


def all_phrases(kind: str, parts: int) -> set[str]:
    return {render_link(p, position, parts) for p in DEFAULT_LINKS[kind] for position in range(2, parts + 1)}


@pytest.fixture(scope="module")
def per_row(tokenizer):
    def mean_answer_tokens(rows):
        return count_answer_tokens(tokenize_rows(tokenizer, rows)) / len(rows)

    return mean_answer_tokens


def test_stitched_rows_are_the_synthesis_rows_with_the_linking_phrases(per_row):
    arms = {arm.name: arm for arm in mini_arms.stitch_arms(PLAN, per_row)}
    assert set(arms) == {"stitch1_r4", "stitch2_r4", "stitch4_r4", "stitch8_r4", "stitch2_eq", "stitch4_eq",
                         "stitch8_eq"}
    style = {arm.name: arm for arm in mini_arms.style_arms(PLAN)}
    assert set(mini_arms.fixed_design(PLAN)) | set(mini_arms.EQUAL_DESIGN) <= set(arms) | set(style)
    assert arms["stitch1_r4"].rows == style["style_full"].rows, "level 1 is the style design's full arm"
    fmt = get_format(mini_arms.FORMAT)
    for parts in (2, 4, 8):
        fixed, equal = arms[f"stitch{parts}_r4"], arms[f"stitch{parts}_eq"]
        assert fixed.rows == equal.rows and len(fixed.rows) == PLAN.rows and fixed.steps == PLAN.steps
        system, user, assistant = fixed.rows[0]
        assert system["content"] == fmt.system_prompt and assistant["content"].count("<think>") == 1
        assert user["content"].count("Compute ") == parts and assistant["content"].count("\\boxed{") == parts
        blocks = user["content"].split("\n\n")
        assert set(blocks[1::2]) <= all_phrases("question", parts)
        solution = assistant["content"].split("</think>\n\n")[1].split("\n\n")
        assert set(solution[1::2]) <= all_phrases("solution", parts)


def test_the_equal_tokens_arms_see_the_answer_tokens_of_single_rows(per_row):
    plan = mini_arms.Plan(pool=400, rows=40, batch=16, fixed_rows=2, steps=300)
    arms = {arm.name: arm for arm in mini_arms.all_arms(plan, per_row)}

    def tokens(name):
        arm = arms[name]
        return arm.steps * arm.batch * per_row(arm.rows), arm.batch * per_row(arm.rows)

    target, _ = tokens("style_full")
    for name in mini_arms.EQUAL_DESIGN[1:] + ("lvd_easy_pairs",):
        seen, a_step = tokens(name)
        assert abs(seen - (target if name != "lvd_easy_pairs" else tokens("lvd_hard_singles")[0])) <= a_step / 2, name
        assert arms[name].steps < plan.steps, "the linking phrases make stitched rows longer than their problems"


def test_the_arms_of_a_design_differ_in_one_thing(per_row):
    style = {arm.name.removeprefix("style_"): arm for arm in mini_arms.style_arms(PLAN)}
    problems = {level: [row[1]["content"] for row in arm.rows] for level, arm in style.items()}
    assert len({tuple(p) for p in problems.values()}) == 1, "every style holds the same problems"
    lengths = [per_row(style[level].rows) for level in STYLES]
    assert lengths == sorted(lengths) and len(set(lengths)) == 4
    easy, hard = mini_arms.lvd_arms(PLAN, per_row)
    assert easy.rows[PLAN.rows // 2:] == hard.rows[PLAN.rows // 2:], "both arms hold the same single problems"
    assert all(row[1]["content"].count("Compute ") == 2 for row in easy.rows[:PLAN.rows // 2])
    assert all(re.search(r"(?:(?:plus|minus|times) \d ?){5},", row[1]["content"]) for row in hard.rows[:PLAN.rows // 2])


def test_benchmark_items_are_the_registered_held_out_problems():
    from long1k.fixtures.writers import task_fixture_rows
    from long1k.tasks import get_task

    items = mini_arms.benchmark_items("minichain")
    registered = task_fixture_rows("minichain", get_task("minichain").fixture)
    assert len(items) == mini_arms.BENCHMARK_ROWS and len(registered) == 100
    assert [i["problem"] for i in items[:100]] == [r["problem"] for r in registered]
    assert len({i["problem"] for i in items}) == len(items) and all(i["operations"] >= 2 for i in items)
    composite = mini_arms.benchmark_items("minichain_x2")
    first = composite[0]
    assert first["answer_kind"] == "composite" and len(first["parts"]) == 2
    assert first["problem"].split("\n\n")[1] in all_phrases("question", 2)


def test_the_loss_mask_is_the_sft_stages(tokenizer):
    rows = mini_arms.style_arms(PLAN)[2].rows[:3]
    markers = assistant_markers(tokenizer)
    expected = [tokenize_with_labels(tokenizer, render(tokenizer, {"messages": m}), markers) for m in rows]
    assert tokenize_rows(tokenizer, rows) == expected
    ids, labels = expected[0]
    answer = tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label != IGNORE_INDEX])
    assert answer.startswith("<think>\n") and answer.endswith("<|im_end|>")


def test_batched_greedy_generates_what_the_hf_backend_does(tiny_base, tokenizer, tmp_path):
    model, losses = finetune(tiny_base, tokenize_rows(tokenizer, mini_arms.style_arms(PLAN)[2].rows),
                             FineTuneRecipe(), seed=0, steps=3, batch=4)
    assert len(losses) == 3
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": item["problem"]}], tokenize=False,
                                             add_generation_prompt=True)
               for item in mini_arms.benchmark_items("minichain")[:6]]
    model.save_pretrained(tmp_path / "tuned")
    tokenizer.save_pretrained(tmp_path / "tuned")
    hf = HFBackend(EngineSettings(str(tmp_path / "tuned")), seed=0)
    alone = [hf.generate_one(Request(p, 0, Sampling(0.0, max_tokens=24))) for p in prompts]
    # stop strings the model does write, early in one row and late in another: rows end on them while the
    # rest of their batch goes on, and a row of few tokens is cut before its stop string would come
    stops = (alone[0].text[6:9], alone[3].text[14:17])
    for stop, lengths in (((), [24] * 6), (stops, [24] * 6), (stops, [3, 24, 7, 1, 16, 24])):
        # requests of several lengths share one batch: each must still get exactly its own generation
        requests = [Request(p, 0, Sampling(0.0, max_tokens=n, stop=stop))
                    for p, n in zip(prompts, lengths, strict=True)]
        expected = [hf.generate_one(r) for r in requests]
        batched = dict(BatchedGreedy(model, tokenizer, batch=4).generate(requests))
        assert [batched[i] for i in range(len(requests))] == expected
    assert {g.finish_reason for g in expected} == {"stop", "length"}, "the cases reach both ends"
    assert any(g.finish_reason == "stop" and g.tokens < r.sampling.max_tokens
               for g, r in zip(expected, requests, strict=True)), "a row ends on a stop string before its length"
    budget = BudgetForcing.for_format(get_format("think"), 8, 2, "Wait")
    forced = dict(force_budget(BatchedGreedy(model, tokenizer, batch=4), requests, budget))
    assert forced == dict(force_budget(hf, requests, budget)), "budget forcing gives the same on both backends"


def test_batched_greedy_refuses_sampling(tiny_base, tokenizer):
    from transformers import AutoModelForCausalLM

    backend = BatchedGreedy(AutoModelForCausalLM.from_pretrained(tiny_base), tokenizer)
    with pytest.raises(ValueError, match="greedily"):
        list(backend.generate([Request("x", 0, Sampling(0.7, max_tokens=4))]))


def test_run_all_gives_each_job_what_it_gives_alone_in_job_order(tiny_base, tokenizer):
    from dataclasses import replace

    from long1k.experiments.mini_runs import run_all, run_arm

    arms = [replace(arm, steps=2) for arm in mini_arms.style_arms(PLAN)[:2]]
    examples = {arm.name: tokenize_rows(tokenizer, arm.rows) for arm in arms}
    jobs = [(arms[0], 0, (1,)), (arms[1], 0, ()), (arms[0], 1, ())]  # longest first reorders these on 2 workers
    recipe = FineTuneRecipe()
    alone = [run_arm(tiny_base, arm, seed, recipe, forcing, problems=6) for arm, seed, forcing in jobs]
    together = run_all(tiny_base, jobs, recipe, examples, workers=2, problems=6)
    expected = [{**vars(r), "train_seconds": None} for r in alone]
    assert [{**vars(r), "train_seconds": None} for r in together] == expected
    assert [(r.arm, r.seed) for r in together] == [("style_none", 0), ("style_some", 0), ("style_none", 1)]


def test_batched_greedy_reads_a_row_up_to_its_end_of_turn(tiny_base, tokenizer):
    from transformers import AutoModelForCausalLM

    backend = BatchedGreedy(AutoModelForCausalLM.from_pretrained(tiny_base), tokenizer)
    end, pad = backend.stop_ids[0], tokenizer.pad_token_id
    assert backend._own_tokens([5, 6, end, pad, pad]) == [5, 6, end], "padding after the end of turn is not the row's"
    assert backend._own_tokens([5, 6, pad, pad]) == [5, 6], "a row ended by a stop string is padded"
    assert backend._own_tokens([5, end, 7, end]) == [5, end]


def test_batched_greedy_refuses_a_pad_token_that_stops(tiny_base, tokenizer):
    from transformers import AutoModelForCausalLM

    padded_with_end = copy.deepcopy(tokenizer)
    padded_with_end.pad_token = "<|im_end|>"
    with pytest.raises(ValueError, match="pad token that is not a stop token"):
        BatchedGreedy(AutoModelForCausalLM.from_pretrained(tiny_base), padded_with_end)
