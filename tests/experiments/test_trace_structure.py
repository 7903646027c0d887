"""Trace structure metrics: on hand-made traces with known loops, repeats, contradictions,
self-checks and restatements; on the real long traces of ../shared (one real loop among 257);
and the analyze-traces stage end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from long1k.experiments.trace_structure import (
    StructureOptions,
    longest_repeat,
    repeated_share,
    tail_repeated_share,
    trace_structure,
    verification_episodes,
    words,
)
from long1k.formats import get_format

REAL = Path(__file__).resolve().parents[3] / "shared" / "real_sources"
FMT = get_format("openthoughts")
PROBLEM = "A train leaves the station at noon travelling at sixty miles per hour. How far has it gone by three?"


def row(reasoning: str, solution: str | None, extracted: str | None, **extra) -> dict:
    response = FMT.assistant_turn(reasoning, solution) if solution is not None else \
        f"<|begin_of_thought|>\n\n{reasoning}"
    return {"response": response, "problem": PROBLEM, "answer_kind": "latex", "extracted": extracted,
            "finish_reason": "stop" if solution is not None else "length", **extra}


def distinct_text(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_repeated_share_and_longest_repeat_on_known_words():
    assert repeated_share(["a", "b", "c", "a", "b", "c"], 3) == pytest.approx(1 - 3 / 4)
    assert repeated_share(["a", "b", "c", "d"], 8) == 0.0
    assert longest_repeat(["x", "y", "z", "w", "x", "y", "z"]) == 3
    assert longest_repeat(distinct_text(50).split()) == 0
    assert longest_repeat(["a", "a", "a", "a", "a"]) == 4  # overlapping occurrences count


def test_a_loop_that_runs_into_the_token_limit():
    stuck = "Hmm wait let me recompute the last step because I may have dropped a factor of two there"
    reasoning = distinct_text(300) + "\n\n" + "\n\n".join([stuck] * 40)
    measured = trace_structure(row(reasoning, None, None))
    assert measured["loops_at_end"] and measured["truncated"] and measured["loop_truncated"]
    assert measured["longest_repeat"] == 39 * len(stuck.split())
    assert measured["tail_repeated_share"] > 0.95
    # the same loop in the middle of a trace that then moves on and finishes is no loop at the end
    finished = trace_structure(row(reasoning + "\n\n" + distinct_text(600).replace("w", "v"), "So $\\boxed{180}$.",
                                   "180"))
    assert not finished["loops_at_end"] and not finished["truncated"]
    assert tail_repeated_share(words(distinct_text(1000)), 8, 400) == 0.0


def test_the_final_answer_against_the_reasonings_last_conclusion():
    reasoning = "First try: the answer is $120$.\n\nNo wait, three hours at sixty: the answer is $180$."
    assert trace_structure(row(reasoning, "\\boxed{180}", "180"))["conclusion"] == "agrees"
    contradicting = trace_structure(row(reasoning, "\\boxed{120}", "120"))
    assert contradicting["conclusion"] == "contradicts" and contradicting["last_conclusion"] == "180"
    units = row("So the distance is 180. The answer is 180 miles.", "\\boxed{180 \\text{ miles}}", "180 \\text{ miles}")
    assert trace_structure(units)["conclusion"] == "agrees"
    no_number = row("I think the answer is correct.", "\\boxed{180}", "180")
    assert trace_structure(no_number)["conclusion"] == "no_conclusion"
    assert trace_structure(row(reasoning, "I am not sure.", None))["conclusion"] == "no_final_answer"
    boxed = row("Maybe \\boxed{\\frac{1}{2}} works.", "\\boxed{0.5}", "0.5")
    assert trace_structure(boxed)["conclusion"] == "agrees"
    plain = {"response": "The answer is 180.", "problem": PROBLEM, "extracted": "180"}
    assert trace_structure(plain)["conclusion"] == "no_reasoning_section"
    composite = row(reasoning, "\\boxed{180}", "180", answer_kind="composite")
    assert trace_structure(composite)["conclusion"] == "not_applicable"


def test_self_verification_episodes_count_paragraphs_that_check():
    reasoning = ("Let me verify this by plugging the value back in.\n\nNow the next step is easy.\n\n"
                 "Double-check: 3 * 60 = 180.\n\nSanity check on units, and let me check the sign again.")
    assert verification_episodes(reasoning) == 3
    assert trace_structure(row(reasoning, "\\boxed{180}", "180"))["verification_episodes"] == 3


def test_question_restatement():
    restated = trace_structure(row(f"So the problem says: {PROBLEM} Three hours at sixty.", "\\boxed{180}", "180"))
    assert restated["question_coverage"] == 1.0 and restated["restates_question"]
    lost = trace_structure(row("Speed times time gives the distance.", "\\boxed{180}", "180"))
    assert lost["question_coverage"] == 0.0 and not lost["restates_question"]
    assert trace_structure(row("x", "\\boxed{1}", "1", problem="Hi"))["question_coverage"] is None


def real_rows() -> list[dict]:
    from long1k.grading.extract import extract_math

    files = [REAL / "openthoughts_metadata_real_traces.jsonl", REAL / "s1k11_schema_real_traces.jsonl"]
    if not all(path.is_file() for path in files):
        pytest.skip("../shared/real_sources is absent")
    items = [(r["problem"], r["deepseek_reasoning"], r["deepseek_solution"])
             for r in map(json.loads, files[0].read_text().splitlines())]
    items += [(r["question"], r["deepseek_thinking_trajectory"], r["deepseek_attempt"])
              for r in map(json.loads, files[1].read_text().splitlines())]
    rows = []
    for problem, reasoning, solution in items:
        response = FMT.assistant_turn(reasoning, solution)
        rows.append({"response": response, "problem": problem, "answer_kind": "latex",
                     "extracted": extract_math(response).answer, "finish_reason": "stop"})
    return rows


def test_real_traces_one_loop_few_contradictions():
    """257 real long traces: exactly one is cut off in a loop ("Alternatively, perhaps I should consider
    that the star is a ..."), and it stands far from the rest; contradictions are rare and include the
    real one whose solution changes the reasoning's demand curve."""
    rows = real_rows()
    measured = [trace_structure(r) for r in rows]
    loops = [i for i, m in enumerate(measured) if m["loops_at_end"]]
    assert len(rows) == 257 and len(loops) == 1
    assert "Alternatively, perhaps I should consider" in rows[loops[0]]["response"][-3000:]
    others = sorted(m["tail_repeated_share"] for i, m in enumerate(measured) if i not in loops)
    assert others[-1] < StructureOptions().loop_share / 2
    contradicts = [i for i, m in enumerate(measured) if m["conclusion"] == "contradicts"]
    assert len(contradicts) <= 0.05 * len(rows)
    assert any(measured[i]["last_conclusion"] == "X_{d} = 125 - 1.25P" for i in contradicts)
    assert sum(m["conclusion"] == "agrees" for m in measured) > 3 * len(contradicts)


def test_analyze_traces_stage_writes_structure_and_leaves_composites_out(tmp_path):
    from long1k.experiments.trace_analysis import main
    from long1k.fixtures.model_answers import fixture_model_predictions
    from long1k.jsonl import iter_jsonl, write_jsonl
    from long1k.scoring.report import ScoreConfig, score
    from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

    bench = tmp_path / "bench"
    prepare_benchmarks(PrepareConfig(out=str(bench), fixtures=True, benchmarks=["math500"], composite=[2]))
    for name in ("math500", "math500_x2"):
        items = [r for _, r in iter_jsonl(bench / f"{name}.jsonl")]
        write_jsonl(tmp_path / "pred" / "fixture-model" / f"{name}_seed0.jsonl", fixture_model_predictions(items, 4))
    score(ScoreConfig(predictions=[str(tmp_path / "pred")], out=str(tmp_path / "scores"), workers=1))
    main(["--graded", str(tmp_path / "scores"), "--out", str(tmp_path / "traces")])
    out = tmp_path / "traces"
    for name in ("traces.md", "structure.md", "structure.csv", "structure.png", "reflection_words.png"):
        assert (out / name).stat().st_size > 0
    structure = json.loads((out / "traces.json").read_text())["structure"]["fixture-model"]
    measured = [r for _, r in iter_jsonl(out / "trace_structure.jsonl")]
    assert {r["benchmark"] for r in measured} == {"math500"} and len(measured) == 40 * 4
    # the pretend model's wrong answers loop and contradict themselves; its right ones never do
    assert structure["correct"]["loops_at_end_pct"] == 0 and structure["wrong"]["loops_at_end_pct"] > 10
    assert structure["correct"]["contradicts_pct"] == 0 and structure["wrong"]["contradicts_pct"] > 10
