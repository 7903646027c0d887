import json
from collections import Counter

import pytest
from conftest import SHARED, real_benchmark_sources

from long1k.errors import Long1kError
from long1k.tasks import get_task, gpqa_letter_plan, prepare_rows
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

REAL = SHARED / "benchmarks"


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_fixture_benchmarks_prepare_into_the_common_schema(tmp_path, fixtures_dir):
    manifest = prepare_benchmarks(PrepareConfig(out=str(tmp_path), fixtures=True))
    assert {name: info["rows"] for name, info in manifest.items()} == {
        "math500": 40, "aime24": 15, "aime25": 15, "gpqa_diamond": 24}
    for name in manifest:
        for row in read(tmp_path / f"{name}.jsonl"):
            assert {"id", "benchmark", "problem", "answer"} <= set(row) and row["benchmark"] == name
    assert all(isinstance(r["answer"], int) and 0 <= r["answer"] <= 999 for r in read(tmp_path / "aime25.jsonl"))


def test_gpqa_choices_are_permuted_consistently_and_uniformly(tmp_path, fixtures_dir):
    prepare_benchmarks(PrepareConfig(out=str(tmp_path), fixtures=True, benchmarks=["gpqa_diamond"]))
    rows = read(tmp_path / "gpqa_diamond.jsonl")
    for row in rows:
        assert row["choices"][row["answer"]] == row["correct_answer"]
        assert sorted(row["permutation"]) == [0, 1, 2, 3]
        assert f"{row['answer']}) {row['correct_answer']}" in row["problem"]
    counts = Counter(r["answer"] for r in rows)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_gpqa_plan_does_not_depend_on_row_order():
    ids = [f"rec{i}" for i in range(41)]
    plan = dict(zip(ids, gpqa_letter_plan(ids, seed=0), strict=True))
    reordered = list(reversed(ids))
    assert dict(zip(reordered, gpqa_letter_plan(reordered, seed=0), strict=True)) == plan
    assert gpqa_letter_plan(ids, seed=1) != gpqa_letter_plan(ids, seed=0)


def test_aime_answers_are_integers_and_prompt_suffix_is_removed():
    spec = get_task("aime25")
    rows = [{"prompt": "Find $x$.\nPlease reason step by step, and put your final answer within \\boxed{}.",
             "answer": "033"}]
    (item,) = prepare_rows(spec, rows, "aime.jsonl")
    assert item["problem"] == "Find $x$." and item["answer"] == 33


@pytest.mark.parametrize(("row", "message"), [
    ({"problem": "p", "answer": "12.5"}, r"aime\.jsonl row 0: field 'answer' is '12\.5', not an integer"),
    ({"problem": "p"}, r"aime\.jsonl row 0: field 'answer' is missing or empty"),
    ({"answer": "3"}, r"aime\.jsonl row 0: none of the fields \['problem', 'question', 'prompt'\]"),
])
def test_bad_benchmark_rows_name_file_row_and_field(row, message):
    with pytest.raises(Long1kError, match=message):
        prepare_rows(get_task("aime24"), [row], "aime.jsonl")


def test_unknown_benchmark_is_an_error(tmp_path):
    with pytest.raises(Long1kError, match="unknown benchmark 'math5000'"):
        prepare_benchmarks(PrepareConfig(out=str(tmp_path), fixtures=True, benchmarks=["math5000"]))


@pytest.mark.skipif(not REAL.is_dir(), reason="real benchmark files (../shared/benchmarks) not present")
def test_real_benchmark_files_in_their_original_schemas(tmp_path):
    manifest = prepare_benchmarks(PrepareConfig(out=str(tmp_path / "a"), source=real_benchmark_sources()))
    assert {n: i["rows"] for n, i in manifest.items()} == {"math500": 500, "aime24": 30, "aime25": 30,
                                                           "gpqa_diamond": 198}
    letters = manifest["gpqa_diamond"]["answer_letters"]
    assert max(letters.values()) - min(letters.values()) <= 1
    arena = [f"aime24={REAL / 'aime24' / 'aime24_matharena.jsonl'}",
             f"aime25={REAL / 'aime25' / 'aime25_matharena.jsonl'}"]
    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "b"), source=arena, benchmarks=["aime24", "aime25"]))
    for name in ("aime24", "aime25"):
        first, second = read(tmp_path / "a" / f"{name}.jsonl"), read(tmp_path / "b" / f"{name}.jsonl")
        assert sorted(r["answer"] for r in first) == sorted(r["answer"] for r in second)
        assert not any("boxed" in r["problem"] for r in first)


def test_gated_gpqa_says_to_log_in_and_accept_its_terms(monkeypatch):
    """The hub's refusal, as datasets 4 words it, becomes instructions (and GPQA is marked gated)."""
    import datasets
    from datasets.exceptions import DatasetNotFoundError

    from long1k.tasks.reading import read_hub_rows

    def refuse(path, **kwargs):
        raise DatasetNotFoundError(f"Dataset '{path}' doesn't exist on the Hub or cannot be accessed.")

    monkeypatch.setattr(datasets, "load_dataset", refuse)
    task = get_task("gpqa_diamond")
    assert task.gated
    with pytest.raises(Long1kError, match=r"Idavidrein/gpqa is gated on the hub: accept its terms at "
                                          r"https://huggingface.co/datasets/Idavidrein/gpqa .*hf auth login"):
        read_hub_rows(task)
    with pytest.raises(Long1kError) as err:  # an ungated dataset that cannot be reached gets no such advice
        read_hub_rows(get_task("math500"))
    assert "gated" not in str(err.value)
