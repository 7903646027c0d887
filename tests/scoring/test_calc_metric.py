"""calc_metric_lc end to end on predictions built from benchmark files: golds score 100%, shuffled golds
score near chance; bad prediction files are clear errors."""

import json
import random
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from conftest import SHARED, real_benchmark_sources

from long1k.errors import Long1kError
from long1k.jsonl import write_jsonl
from long1k.scoring.report import ScoreConfig, score
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

REPO = Path(__file__).resolve().parents[2]
REAL = SHARED / "benchmarks"


def gold_response(item: dict, answer) -> str:
    if item["benchmark"] == "gpqa_diamond":
        return f"<|begin_of_thought|>\n\nA is tempting.\n\n<|end_of_thought|>\n\nThe correct answer is ({answer})."
    return f"<|begin_of_thought|>\n\nthinking\n\n<|end_of_thought|>\n\nThe answer is $\\boxed{{{answer}}}$."


def predictions(folder: Path, benchmark_dir: Path, shuffle: bool) -> Path:
    for path in sorted(benchmark_dir.glob("*.jsonl")):
        items = [json.loads(line) for line in path.read_text().splitlines()]
        answers = [item["answer"] for item in items]
        if shuffle:
            random.Random(0).shuffle(answers)
        rows = [{"model": "gold" if not shuffle else "shuffled", "benchmark": item["benchmark"], "id": item["id"],
                 "sample": 0, "seed": 42, "prompt": item["problem"], "response": gold_response(item, answer),
                 "answer": item["answer"], "finish_reason": "stop", "response_tokens": 20}
                for item, answer in zip(items, answers, strict=True)]
        write_jsonl(folder / ("shuffled" if shuffle else "gold") / f"{path.stem}.jsonl", rows)
    return folder


def check_gold_and_shuffled(tmp_path: Path, benchmark_dir: Path) -> dict:
    folder = tmp_path / "predictions"
    predictions(folder, benchmark_dir, shuffle=False)
    predictions(folder, benchmark_dir, shuffle=True)
    results = score(ScoreConfig(predictions=[str(folder)], out=str(tmp_path / "scores"), workers=2))["rule"]
    for benchmark, metrics in results["gold"].items():
        assert metrics["pass@1"] == 100.0, benchmark
    table = (tmp_path / "scores" / "results.md").read_text()
    assert "(+0.0/-0.0)" not in table  # one seed: no spread to show
    gold_line = next(line for line in table.splitlines() if line.startswith("| gold |"))
    assert gold_line.count("| 100.0 ") == len(results["gold"])
    return results


def test_fixture_benchmarks_gold_scores_100(tmp_path, fixtures_dir):
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True))
    results = check_gold_and_shuffled(tmp_path, tmp_path / "bench")
    assert results["shuffled"]["gpqa_diamond"]["pass@1"] < 60


@pytest.mark.skipif(not REAL.is_dir(), reason="real benchmark files (../shared/benchmarks) not present")
def test_real_benchmarks_gold_scores_100_and_shuffled_near_chance(tmp_path):
    sources = real_benchmark_sources(aime24="aime24_matharena.jsonl")
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), source=sources))
    results = check_gold_and_shuffled(tmp_path, tmp_path / "bench")
    shuffled = results["shuffled"]
    assert shuffled["math500"]["pass@1"] < 15 and shuffled["aime24"]["pass@1"] < 15
    assert 10 < shuffled["gpqa_diamond"]["pass@1"] < 40  # chance is 25%


@pytest.mark.parametrize(("row", "message"), [
    ({"benchmark": "math500", "id": "1", "response": "x"}, r"line 1: missing field\(s\) \['answer'\]"),
    ({"benchmark": "math5000", "id": "1", "response": "x", "answer": "2"},
     "line 1: field 'benchmark': unknown benchmark 'math5000'; did you mean 'math500'"),
    ({"benchmark": "math500", "id": "1", "response": "x", "answer": ""}, "line 1: field 'answer'"),
])
def test_bad_prediction_rows_name_file_and_line(tmp_path, row, message):
    write_jsonl(tmp_path / "p.jsonl", [row])
    with pytest.raises(Long1kError, match=message):
        score(ScoreConfig(predictions=[str(tmp_path / "p.jsonl")], out=str(tmp_path / "o")))


def test_cli_error_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "eval" / "calc_metric_lc.py"), "--predictions",
                             str(tmp_path / "nothing.jsonl")], capture_output=True, text=True)
    assert result.returncode == 2 and "nothing.jsonl" in result.stderr and "Traceback" not in result.stderr


class FakeJudge(BaseHTTPRequestHandler):
    """A judge that accepts a response when it shows the reference as (X) or {X}; it also writes a decoy
    verdict first, so that only the last [[n]] may count."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert body["temperature"] == 0.0
        prompt = body["prompt"]
        reference = prompt.split("Reference answer:\n", 1)[1].split("\n\nStudent response", 1)[0]
        response = prompt.split("Student response (final part):\n", 1)[1]
        verdict = "1" if f"({reference})" in response or f"{{{reference}}}" in response else "0"
        reply = json.dumps({"choices": [{"index": 0, "text": f"Not [[0]] yet... score: [[{verdict}]]",
                                         "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def test_judge_and_both_graders_with_agreement(tmp_path, fixtures_dir):
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True,
                                     benchmarks=["math500", "gpqa_diamond"]))
    folder = tmp_path / "predictions"
    predictions(folder, tmp_path / "bench", shuffle=False)
    predictions(folder, tmp_path / "bench", shuffle=True)
    server = HTTPServer(("127.0.0.1", 0), FakeJudge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        results = score(ScoreConfig(predictions=[str(folder)], out=str(tmp_path / "scores"), grader="both",
                                    judge_backend="openai", judge_model="judge", judge_tokenizer="offline",
                                    judge_base_urls=[f"http://127.0.0.1:{server.server_port}/v1"]))
    finally:
        server.shutdown()
    assert results["judge"]["gold"]["math500"]["pass@1"] == 100.0
    assert results["judge"]["gold"]["gpqa_diamond"]["pass@1"] == 100.0
    record = json.loads((tmp_path / "scores" / "results.json").read_text())
    assert set(record["agreement_pct"]) == {"math500", "gpqa_diamond"}
    disagreements = (tmp_path / "scores" / "disagreements.jsonl").read_text().splitlines()
    assert record["agreement_pct"]["math500"] < 100 or disagreements == []
    graders = [json.loads(line)["grader"] for line in (tmp_path / "scores" / "graded.jsonl").read_text().splitlines()]
    assert graders.count("rule") == graders.count("judge") > 0
    assert "grader: judge" in (tmp_path / "scores" / "results.md").read_text()


def prediction_row(**fields) -> dict:
    return {"model": "m", "benchmark": "math500", "id": "p1", "sample": 0, "seed": 42, "response": "\\boxed{2}",
            "answer": "2", **fields}


def test_duplicates_empty_files_and_bad_timeouts_are_errors(tmp_path):
    write_jsonl(tmp_path / "dup" / "a.jsonl", [prediction_row(), prediction_row(response="\\boxed{3}")])
    with pytest.raises(Long1kError, match=r"a\.jsonl line 2: duplicate prediction .* first at .*a\.jsonl line 1"):
        score(ScoreConfig(predictions=[str(tmp_path / "dup")], out=str(tmp_path / "s1")))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "b.jsonl").write_text("\n")
    with pytest.raises(Long1kError, match=r"b\.jsonl: empty predictions file"):
        score(ScoreConfig(predictions=[str(tmp_path / "empty")], out=str(tmp_path / "s2")))
    write_jsonl(tmp_path / "ok" / "c.jsonl", [prediction_row()])
    with pytest.raises(Long1kError, match="--timeout must be positive"):
        score(ScoreConfig(predictions=[str(tmp_path / "ok")], out=str(tmp_path / "s3"), timeout=0))
    with pytest.raises(Long1kError, match="--extraction .loose. is not one of full, strict"):
        score(ScoreConfig(predictions=[str(tmp_path / "ok")], out=str(tmp_path / "s4"), extraction="loose"))
    # two configurations of one model (files copied together by hand) are not averaged
    write_jsonl(tmp_path / "mixed" / "m" / "math500_seed42.jsonl", [prediction_row(settings="aaaa")])
    write_jsonl(tmp_path / "mixed" / "m" / "math500_seed43.jsonl", [prediction_row(seed=43, settings="bbbb")])
    with pytest.raises(Long1kError, match=r"mixes predictions made with different settings: .*seed42.* \(settings "
                                          r"aaaa\) and .*seed43.*\(settings bbbb\)"):
        score(ScoreConfig(predictions=[str(tmp_path / "mixed")], out=str(tmp_path / "s5")))


def test_rule_shares_are_reported(tmp_path):
    write_jsonl(tmp_path / "p" / "m" / "math500.jsonl",
                [prediction_row(id="a"), prediction_row(id="b", response="Answer: 2"),
                 prediction_row(id="c", response="so it is 2.")])
    score(ScoreConfig(predictions=[str(tmp_path / "p")], out=str(tmp_path / "s")))
    record = json.loads((tmp_path / "s" / "results.json").read_text())
    assert record["extraction_rules_pct"]["math500"] == {"boxed": 33.33, "statement": 33.33, "sentence_end": 33.33}
    assert record["extraction"] == "full" and record["answer_region"] == "after_reasoning"


GENERATIONS = SHARED / "generations"


@pytest.mark.skipif(not GENERATIONS.is_dir(), reason="real generations (../shared/generations) not present")
def test_real_generations_agree_with_their_authors(tmp_path):
    """Published outputs of real models with their authors' verdicts. The GPQA authors' extractor
    returns "E" (no answer) for some clearly stated letters ("The correct answer is D."): those rows,
    read one by one (closing note of issue 9), are where the authors are wrong and are left out of the
    second figure. Rows where a model gives only the option text cannot be read without the question
    (not published) and count as disagreements."""
    score(ScoreConfig(predictions=[str(GENERATIONS)], out=str(tmp_path / "s"), workers=2))
    rows = [json.loads(line) for line in (tmp_path / "s" / "graded.jsonl").read_text().splitlines()]

    def agreement(selected: list[dict]) -> float:
        return 100 * sum(r["correct"] == r["expected"] for r in selected) / len(selected)

    math = [r for r in rows if r["benchmark"] == "math500"]
    gpqa = [r for r in rows if r["benchmark"] == "gpqa_diamond"]
    authors_missed = [r for r in gpqa if r["authors_extracted"] == "E" and r["extracted"] is not None
                      and r["correct"] != r["expected"]]
    assert len(math) == 1442 and len(gpqa) == 2376
    assert agreement(math) >= 99.5
    assert agreement(gpqa) >= 94.0
    assert len(authors_missed) <= 40
    assert agreement([r for r in gpqa if r not in authors_missed]) >= 95.0


def one_benchmark_predictions(tmp_path: Path, benchmark_dir: Path, **changes) -> Path:
    path = benchmark_dir / "math500.jsonl"
    items = [json.loads(line) for line in path.read_text().splitlines()][:3]
    rows = [{"model": "m", "benchmark": "math500", "id": item["id"], "sample": 0, "seed": 42, "prompt": item["problem"],
             "response": gold_response(item, item["answer"]), "answer": item["answer"], "finish_reason": "stop",
             "response_tokens": 20, **changes} for item in items]
    write_jsonl(tmp_path / "predictions" / "m" / "math500.jsonl", rows)
    return tmp_path / "predictions"


def test_a_misspelt_benchmark_is_an_error_that_names_the_one_meant(tmp_path, fixtures_dir):
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True, benchmarks=["math500"]))
    folder = one_benchmark_predictions(tmp_path, tmp_path / "bench", benchmark="math50O")
    with pytest.raises(Long1kError, match=r"math500.jsonl line 1: field 'benchmark': unknown benchmark 'math50O'; "
                                          r"did you mean 'math500'"):
        score(ScoreConfig(predictions=[str(folder)], out=str(tmp_path / "scores")))


def test_a_grader_crash_is_counted_and_reported_not_shown_as_a_wrong_answer(tmp_path, fixtures_dir, monkeypatch,
                                                                           capsys):
    import long1k.scoring.pool as pool

    real = pool.grade

    def crashing(kind, gold, response, options):
        if response.endswith("CRASH"):
            raise ValueError("a bug in the grader")
        return real(kind, gold, response, options)

    monkeypatch.setattr(pool, "grade", crashing)  # the workers are forked: they see it
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True, benchmarks=["math500"]))
    folder = one_benchmark_predictions(tmp_path, tmp_path / "bench")
    path = folder / "m" / "math500.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["response"] += " CRASH"
    write_jsonl(path, rows)
    metrics = score(ScoreConfig(predictions=[str(folder)], out=str(tmp_path / "scores"), workers=1))["rule"]["m"]
    assert metrics["math500"]["grader_errors"] == 1
    assert metrics["math500"]["pass@1"] == pytest.approx(200 / 3)
    printed = capsys.readouterr().out
    assert "warning: 1 answer(s) of m on math500 could not be graded" in printed
    table = (tmp_path / "scores" / "results.md").read_text()
    assert "| grader errors |" in table and "| m | math500 | 3 | 1 | 42 | 0.0% | 0.0% | 1 | 0 |" in table
    graded = [json.loads(line) for line in (tmp_path / "scores" / "graded.jsonl").read_text().splitlines()]
    assert graded[0]["rule"] == "grader_error" and "ValueError: a bug in the grader" in graded[0]["reason"]


def test_a_response_cut_off_while_thinking_is_graded_with_its_prefill(tmp_path, fixtures_dir):
    """An s1-format prompt ends with the prefill <|im_start|>think: a response cut off while thinking holds no
    opening marker of its own, and a box it wrote while thinking is not its answer."""
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True, benchmarks=["math500"]))
    item = json.loads((tmp_path / "bench" / "math500.jsonl").read_text().splitlines()[0])
    thinking = f"Let me try: maybe \\boxed{{{item['answer']}}}, but let me check that again and"
    base = {"model": "m", "benchmark": "math500", "id": item["id"], "sample": 0, "answer": item["answer"],
            "response": thinking, "finish_reason": "length", "response_tokens": 20}
    rows = [{**base, "seed": 1, "prompt": "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
                                          "<|im_start|>think\n", "prefill": "<|im_start|>think\n"},
            {**base, "seed": 2, "prompt": "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<|im_start|>think\n"}]
    write_jsonl(tmp_path / "predictions" / "m" / "math500.jsonl", rows)  # the second: written before rows kept it
    score(ScoreConfig(predictions=[str(tmp_path / "predictions")], out=str(tmp_path / "scores"), workers=1))
    graded = [json.loads(line) for line in (tmp_path / "scores" / "graded.jsonl").read_text().splitlines()]
    assert [(g["correct"], g["rule"]) for g in graded] == [(False, "answer_section_cut_off")] * 2


def test_a_benchmark_of_its_own_is_scored_by_its_answer_kind_and_a_near_name_is_a_typo(tmp_path, fixtures_dir):
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True, benchmarks=["math500"]))
    folder = one_benchmark_predictions(tmp_path, tmp_path / "bench", benchmark="my_own_set", answer_kind="latex")
    metrics = score(ScoreConfig(predictions=[str(folder)], out=str(tmp_path / "scores"), workers=1))["rule"]["m"]
    assert metrics["my_own_set"]["pass@1"] == 100.0
    typo = one_benchmark_predictions(tmp_path / "t", tmp_path / "bench", benchmark="math50o", answer_kind="latex")
    with pytest.raises(Long1kError, match="did you mean 'math500'"):
        score(ScoreConfig(predictions=[str(typo)], out=str(tmp_path / "scores2"), workers=1))
