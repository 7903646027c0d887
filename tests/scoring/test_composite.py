"""Composite benchmarks: the builder's gold order and coverage, per-position grading (labels, order,
skips, answers out of order), the score tables; and, on real solutions (../shared), that grading a
question inside a composite response gives the verdict it gets alone."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from long1k.answer_kinds import get_answer_kind, grade
from long1k.formats import get_format
from long1k.grading.composite import grade_alone
from long1k.grading.extract import DEFAULT_OPTIONS
from long1k.jsonl import iter_jsonl
from long1k.links import DEFAULT_SOLUTION_LINKS, render_link
from long1k.tasks import get_task
from long1k.tasks.composite import build_composite
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

SHARED = Path(__file__).resolve().parents[3] / "shared" / "real_sources"
PARTS = [{"answer": "\\frac{12}{49}", "answer_kind": "latex"}, {"answer": "15", "answer_kind": "latex"},
         {"answer": "19", "answer_kind": "latex"}, {"answer": "44", "answer_kind": "latex"}]


def response(solution: str, reasoning: str = "Let me think. Maybe \\boxed{7}?") -> str:
    return get_format("openthoughts").assistant_turn(reasoning, solution)


def verdict(solution: str, parts=PARTS, **kw):
    return grade("composite", parts, response(solution, **kw), DEFAULT_OPTIONS)


def summary(v) -> list[tuple]:
    return [(p.extracted, p.correct, p.answered_at, p.correct_for, p.out_of_order) for p in v.parts]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("composite") / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(out), fixtures=True, composite=[2, 4, 8], composite_seed=3))
    return out


def rows_of(path: Path) -> list[dict]:
    return [row for _, row in iter_jsonl(path)]


def test_composite_rows_keep_the_gold_order_and_use_every_problem_once_per_position(prepared):
    base = {row["id"]: row for row in rows_of(prepared / "math500.jsonl")}
    for parts in (2, 4, 8):
        rows = rows_of(prepared / f"math500_x{parts}.jsonl")
        assert len(rows) == len(base)
        for row in rows:
            assert [p["id"] for p in row["parts"]] and len(set(p["id"] for p in row["parts"])) == parts
            assert row["answer"] == [base[p["id"]]["answer"] for p in row["parts"]]
            # the problems stand in the prompt in the parts' order, joined by the recorded links
            offsets = [row["problem"].index(base[p["id"]]["problem"]) for p in row["parts"]]
            assert offsets == sorted(offsets) and offsets[0] == 0
            for link in row["composite"]["question_links"]:
                assert f"\n\n{link}\n\n" in row["problem"]
        for position in range(parts):
            assert Counter(row["parts"][position]["id"] for row in rows) == Counter(base.keys())
    manifest = json.loads((prepared / "benchmarks_manifest.json").read_text())
    assert manifest["math500_x4"]["composite"] == {"of": "math500", "parts": 4, "seed": 3}


def test_composite_rows_are_seeded(prepared):
    items = rows_of(prepared / "gpqa_diamond.jsonl")
    task = get_task("gpqa_diamond")
    assert build_composite(items, task, 3, seed=5) == build_composite(items, task, 3, seed=5)
    assert build_composite(items, task, 3, seed=5) != build_composite(items, task, 3, seed=6)
    row = build_composite(items, task, 3, seed=5, rows=4)[0]
    assert len(build_composite(items, task, 3, seed=5, rows=4)) == 4
    assert all(part["choices"] and part["answer_kind"] == "letter" for part in row["parts"])


def test_composite_task_asks_for_every_answer_in_order():
    task = get_task("aime24_x4")
    assert task.composite_of == "aime24" and task.parts == 4 and task.answer_kind == "composite"
    assert "There are 4 questions" in task.instruction and "integer from 0 to 999" in task.instruction
    with pytest.raises(Exception, match="2 to 10"):
        get_task("aime24_x11")


def test_answers_in_order_by_box():
    v = verdict("Ratio \\boxed{\\frac{12}{49}}.\n\nDivisors: \\boxed{15}\n\n$p(-1)=\\boxed{19}$\n\nSo \\boxed{44}.")
    assert v.correct and v.rule == "order"
    assert [p.answered_at for p in v.parts] == [1, 2, 3, 4]


def test_answers_under_long1k_solution_links():
    text = "Simplify: \\boxed{\\frac{12}{49}}"
    for position, answer in ((2, "15"), (3, "So $p(-1) = 19$."), (4, "\\boxed{44}")):
        link = render_link(DEFAULT_SOLUTION_LINKS[position % len(DEFAULT_SOLUTION_LINKS)], position, 4)
        text += f"\n\n{link}\n\n" + (answer if answer.startswith(("So", "\\")) else f"\\boxed{{{answer}}}")
    v = verdict(text)
    assert v.rule == "labels" and v.correct, v.reason


def test_an_answer_out_of_order_without_labels_is_wrong_and_names_its_question():
    v = verdict("\\boxed{15}\n\n\\boxed{\\frac{12}{49}}\n\n\\boxed{19}\n\n\\boxed{44}")
    assert not v.correct and v.rule == "order"
    assert summary(v)[:2] == [("15", False, 1, 2, True), ("\\frac{12}{49}", False, 2, 1, True)]
    assert [p.correct for p in v.parts[2:]] == [True, True]
    assert "2/4 correct, 4/4 answered, 2 out of order" in v.reason


def test_labelled_answers_out_of_order_are_right_and_counted_out_of_order():
    v = verdict("**Problem 1:** \\boxed{\\frac{12}{49}}\n\n**Problem 3:** \\boxed{19}\n\n"
                "**Problem 2:** \\boxed{15}\n\n**Problem 4:** \\boxed{44}")
    assert v.correct and v.rule == "labels"
    assert [p.answered_at for p in v.parts] == [1, 3, 2, 4]
    assert [p.out_of_order for p in v.parts] == [False, True, False, False]


def test_a_skipped_question_without_labels_is_found_by_alignment():
    v = verdict("\\boxed{\\frac{12}{49}}\n\n\\boxed{19}\n\n\\boxed{44}")
    assert v.rule == "aligned" and not v.correct
    assert summary(v) == [("\\frac{12}{49}", True, 1, None, False), (None, False, None, None, False),
                          ("19", True, 2, None, False), ("44", True, 3, None, False)]
    wrong = verdict("\\boxed{1}\n\n\\boxed{2}\n\n\\boxed{3}")  # nothing right: the first questions answered
    assert [p.answered_at for p in wrong.parts] == [1, 2, 3, None]


def test_a_skipped_question_under_labels():
    v = verdict("\\boxed{\\frac{12}{49}}\n\nThird question:\n\\boxed{19}\n\nLast question: \\boxed{44}")
    assert v.rule == "labels"
    assert [p.correct for p in v.parts] == [True, False, True, True]
    assert v.parts[1].answered_at is None and "3/4 correct, 3/4 answered" in v.reason


def test_a_restated_summary_does_not_shift_the_answers():
    v = verdict("\\boxed{\\frac{12}{49}}, \\boxed{15}, \\boxed{19}, \\boxed{44}\n\nIn short: \\boxed{\\frac{12}{49}}, "
                "\\boxed{15}, \\boxed{19}, \\boxed{44}")
    assert v.correct and v.rule == "aligned"


def test_no_labels_and_no_boxes_answer_nothing():
    v = verdict("I could not solve these.")
    assert v.rule == "no_answer" and v.extracted is None and "0/4 answered" in v.reason


def test_a_cut_off_response_answers_nothing():
    v = grade("composite", PARTS, "<|begin_of_thought|>\n\nstill thinking \\boxed{15}", DEFAULT_OPTIONS)
    assert not v.correct and v.rule == "answer_section_cut_off" and v.extracted is None
    assert all(p.answered_at is None for p in v.parts)


def test_letter_parts_use_their_own_choices():
    parts = [{"answer": "B", "answer_kind": "letter", "choices": {"A": "1 m", "B": "2 m", "C": "3 m", "D": "4 m"}},
             {"answer": "D", "answer_kind": "letter", "choices": {"A": "red", "B": "blue", "C": "green",
                                                                    "D": "violet light"}}]
    v = verdict("The first answer is (B).\n\nFor the second question:\n\nIt must be violet light.", parts=parts)
    assert v.correct and v.rule == "labels", v.reason


def fixture_composite_predictions(prepared: Path, out: Path) -> None:
    """Each composite row answered in one of the ways above, plus its base benchmark answered right."""
    rows = []
    layouts = ("order", "labels", "swap", "skip", "cut")
    for index, item in enumerate(rows_of(prepared / "math500_x4.jsonl")):
        golds = [str(p["answer"]) for p in item["parts"]]
        layout = layouts[index % len(layouts)]
        if layout == "swap":
            golds[0], golds[1] = golds[1], golds[0]
        boxes = [f"\\boxed{{{g}}}" for g in golds]
        if layout == "skip":
            boxes = boxes[:1] + boxes[2:]
        if layout == "labels":
            boxes = [boxes[0]] + [f"Problem {i}: {box}" for i, box in enumerate(boxes[1:], start=2)]
        text = "<|begin_of_thought|>\n\nthinking" if layout == "cut" else response("\n\n".join(boxes))
        rows.append({"model": "m", "benchmark": "math500_x4", "id": item["id"], "response": text,
                     "answer": item["answer"], "answer_kind": "composite", "parts": item["parts"],
                     "prompt_tokens": 400, "finish_reason": "length" if layout == "cut" else "stop",
                     "response_tokens": 100})
    (out / "m").mkdir(parents=True)
    with (out / "m" / "math500_x4_seed0.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    with (out / "m" / "math500_seed0.jsonl").open("w") as handle:
        for item in rows_of(prepared / "math500.jsonl"):
            handle.write(json.dumps({"model": "m", "benchmark": "math500", "id": item["id"], "answer": item["answer"],
                                     "response": response(f"\\boxed{{{item['answer']}}}"),
                                     "response_tokens": 10}) + "\n")


def test_scores_report_positions_all_correct_answered_and_order_errors(prepared, tmp_path):
    from long1k.scoring.report import ScoreConfig, score

    fixture_composite_predictions(prepared, tmp_path / "pred")
    results = score(ScoreConfig(predictions=[str(tmp_path / "pred")], out=str(tmp_path / "scores"), workers=1))
    composite = results["rule"]["m"]["math500_x4"]["composite"]
    # 40 rows, 8 of each layout: order and labels all right; swap: positions 1-2 wrong; skip: position 2
    # unanswered; cut: nothing
    assert composite["position_pct"] == [60.0, 40.0, 80.0, 80.0]
    assert composite["all_correct_pct"] == 40.0
    assert composite["answered_mean"] == pytest.approx((8 * 4 * 3 + 8 * 3) / 40)
    assert composite["order_errors_mean"] == pytest.approx(8 * 2 / 40)
    assert composite["located_by_pct"] == {"order": 40.0, "labels": 20.0, "aligned": 20.0,
                                           "answer_section_cut_off": 20.0}
    assert results["rule"]["m"]["math500_x4"]["pass@1"] == 40.0
    table = (tmp_path / "scores" / "results.md").read_text()
    assert "math500_x4 (400-token prompts)" in table
    lines = (tmp_path / "scores" / "composite.csv").read_text().splitlines()
    assert lines[1].split(",")[:5] == ["m", "math500_x4", "4", "400", "100.0"]
    assert (tmp_path / "scores" / "composite_positions.png").stat().st_size > 0
    graded = [row for _, row in iter_jsonl(tmp_path / "scores" / "graded.jsonl") if row["benchmark"] == "math500_x4"]
    assert all(len(row["positions"]) == 4 for row in graded)


def test_a_composite_row_without_its_parts_is_refused(prepared, tmp_path):
    from long1k.errors import Long1kError
    from long1k.scoring.report import load_predictions

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"model": "m", "benchmark": "math500_x2", "id": "x", "response": "r",
                                "answer": ["1", "2"], "answer_kind": "composite"}) + "\n")
    with pytest.raises(Long1kError, match=r"bad.jsonl row 1: field 'parts'"):
        load_predictions([path])


# --------------------------------------------------------------------------------- real solutions

def real_parts() -> list[dict]:
    path = SHARED / "openthoughts_metadata_real_traces.jsonl"
    if not path.is_file():
        pytest.skip("../shared/real_sources is absent")
    return [row for _, row in iter_jsonl(path)]


@pytest.mark.parametrize("joined_by", ["long1k_links", "blank_lines"])
def test_real_solutions_graded_inside_a_composite_get_their_verdicts_alone(joined_by):
    """Real model solutions (Sky-T1 on AMC23 / Minerva-Math), K = 2..4 per response: each position's
    verdict must be the one its solution gets graded alone, against a gold that is its own answer or
    another row's. Joined by Long1K's solution links, every solution; joined by blank lines only (no
    labels: the boxes in order), the solutions with exactly one box."""
    from long1k.boxed import boxed_answers

    rows = [r for r in real_parts() if r["deepseek_solution"].strip()]
    if joined_by == "blank_lines":
        rows = [r for r in rows if len(boxed_answers(r["deepseek_solution"])) == 1]
    rng = random.Random(0)
    golds = [answers[-1] if (answers := boxed_answers(r["deepseek_solution"])) else "17" for r in rows]
    checked = disagreements = 0
    for start in range(0, len(rows) - 4, 3):
        k = 2 + start % 3
        chosen = list(range(start, start + k))
        parts = [{"answer": golds[i] if rng.random() < 0.6 else golds[(i + 7) % len(rows)], "answer_kind": "latex"}
                 for i in chosen]
        solutions = [rows[i]["deepseek_solution"].strip() for i in chosen]
        text = solutions[0]
        for position, solution in enumerate(solutions[1:], start=2):
            link = render_link(DEFAULT_SOLUTION_LINKS[rng.randrange(5)], position, k) if joined_by == "long1k_links" \
                else ""
            text += f"\n\n{link}\n\n{solution}" if link else f"\n\n{solution}"
        v = grade("composite", parts, response(text, rows[chosen[0]]["deepseek_reasoning"]), DEFAULT_OPTIONS)
        assert v.rule == ("labels" if joined_by == "long1k_links" else "order"), v.reason
        for part, solution, got in zip(parts, solutions, v.parts, strict=True):
            alone = grade_alone(get_answer_kind("latex"), part["answer"], response(solution), DEFAULT_OPTIONS)
            checked += 1
            disagreements += alone.correct != got.correct
    print(f"{joined_by}: {checked} positions, {disagreements} differ from alone")
    assert checked > 60 and disagreements == 0, f"{disagreements} of {checked} positions differ from alone"
