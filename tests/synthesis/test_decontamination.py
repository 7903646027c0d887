"""Decontamination that separates copies from boilerplate: scored n-gram overlap, near misses reported,
the standalone command; checked on the real s1K questions against the real benchmarks (../shared)."""

import json

import pytest
from conftest import SHARED, real_benchmark_sources

from long1k.decontamination.index import THRESHOLD, BenchmarkIndex
from long1k.decontamination.stage import DecontaminateConfig, decontaminate
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

BOILERPLATE = ("The probability can be written as m/n, where m and n are relatively prime positive integers. "
               "Find m+n.")
BENCH = ("Alice rolls three fair dice and records the largest value shown on any of them. "
         "What is the probability that the largest value is exactly four? " + BOILERPLATE)
UNRELATED = ("A bag holds five red and seven blue marbles; two are drawn without replacement. "
             "What is the chance both are red? " + BOILERPLATE)
REWORDED = BENCH.replace("three fair dice", "3 fair dice").replace("Find m+n.", "Report the sum of m and n.")


def index() -> BenchmarkIndex:
    built = BenchmarkIndex()
    built.add("aime", "1", BENCH)
    built.add("math", "short", "Compute $\\dbinom{8}{4}$.")  # shorter than 8 words: one shorter n-gram
    return built


def test_boilerplate_is_a_near_miss_and_copies_are_caught():
    idx = index()
    shared = idx.overlap(UNRELATED)
    assert shared.item == "aime:1" and 0 < shared.share < 0.5 and idx.match(UNRELATED) is None
    assert idx.match(BENCH).share == 1.0
    assert idx.match(REWORDED).share >= THRESHOLD  # a copy with another closing sentence is still a copy
    assert idx.match("First, compute $\\dbinom{8}{4}$ and then add one.").item == "math:short"
    assert idx.overlap("Nothing in common at all here, only words that no benchmark item holds today.") is None


def test_standalone_command_reports_copies_and_near_misses(tmp_path, fixtures_dir):
    bench = tmp_path / "bench"
    prepare_benchmarks(PrepareConfig(out=str(bench), fixtures=True, benchmarks=["math500"]))
    copy = json.loads((bench / "math500.jsonl").read_text().splitlines()[0])["problem"]
    data = tmp_path / "data.jsonl"
    questions = [copy, "An unrelated question entirely.", copy[:40]]
    data.write_text("\n".join(json.dumps({"question": q}) for q in questions))
    summary = decontaminate(DecontaminateConfig(input=str(data), field="question", benchmarks_dir=str(bench),
                                                out=str(tmp_path / "report"), write_clean=True))
    assert summary["flagged"] == 1 and summary["rows"] == 3
    report = [json.loads(line) for line in (tmp_path / "report" / "report.jsonl").read_text().splitlines()]
    assert report[0]["flagged"] and report[0]["share"] == 1.0 and report[0]["row"] == 0
    clean = [json.loads(line) for line in (tmp_path / "report" / "clean.jsonl").read_text().splitlines()]
    assert [row["question"] for row in clean] == ["An unrelated question entirely.", copy[:40]]
    assert "| math500 | 1 |" in (tmp_path / "report" / "summary.md").read_text()


REAL = SHARED / "real_sources"
MATH500_COPIES = {"math500:test/intermediate_algebra/1411.json", "math500:test/intermediate_algebra/558.json",
                  "math500:test/intermediate_algebra/1849.json", "math500:test/intermediate_algebra/1063.json"}


@pytest.fixture(scope="module")
def real_benchmarks(tmp_path_factory):
    if not (SHARED / "benchmarks").is_dir():
        pytest.skip("real benchmarks (../shared/benchmarks) not present")
    folder = tmp_path_factory.mktemp("real") / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(folder), source=real_benchmark_sources()))
    return folder


@pytest.mark.skipif(not REAL.is_dir(), reason="real sources (../shared/real_sources) not present")
def test_real_s1k_questions_flag_the_math500_copies_and_not_the_boilerplate(real_benchmarks, tmp_path):
    """One shared 8-gram flags 159 of the 1,000 real s1K questions (53 against AIME 2025, written after
    s1K); scored, 5 are flagged: the four MATH500 copies and one GPQA sibling question (0.67)."""
    summary = decontaminate(DecontaminateConfig(input=str(REAL / "s1k_questions.jsonl"), field="question",
                                                benchmarks_dir=str(real_benchmarks), out=str(tmp_path / "r")))
    assert summary["rows"] == 1000 and summary["flagged"] <= 20
    assert set(summary["flagged_items"]) >= MATH500_COPIES
    report = [json.loads(line) for line in (tmp_path / "r" / "report.jsonl").read_text().splitlines()]
    assert max(r["share"] for r in report if r["item"].startswith("aime25:")) < THRESHOLD / 2  # the noise floor
