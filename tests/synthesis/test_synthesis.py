import json
from pathlib import Path

import pytest

from long1k.boxed import boxed_answers
from long1k.formats import FORMATS
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize
from long1k.tokenizer import count_tokens


def run(out: Path, **overrides) -> dict:
    options = {"num_samples": 60, "s1_share": 0.25, "s1_min_tokens": 0}
    options.update(overrides)
    return synthesize(SynthesisConfig(out=str(out), **options))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rows_of(out: Path) -> list[dict]:
    return [row for shard in sorted((out / "data").glob("*.jsonl")) for row in read_jsonl(shard)]


def source_row(ref: dict) -> dict:
    with open(ref["file"], encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number == ref["row"]:
                return json.loads(line)
    raise AssertionError(f"row {ref['row']} not in {ref['file']}")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, fixtures_dir):
    out = tmp_path_factory.mktemp("synth") / "long1k"
    stats = run(out)
    return out, stats


def test_writes_every_output(default_run):
    out, stats = default_run
    for name in ("manifest.jsonl", "stats.json", "length_histogram.png", "skipped.jsonl",
                 "llamafactory/dataset_info.json", "llamafactory/long1k_sharegpt.json"):
        assert (out / name).is_file(), name
    assert stats["rows"] == 60 and stats["rows_by_kind"] == {"pair": 45, "s1": 15}
    assert len(read_jsonl(out / "manifest.jsonl")) == 60


def test_shards_load_with_datasets(default_run):
    import datasets

    out, _ = default_run
    files = sorted(str(p) for p in (out / "data").glob("*.jsonl"))
    dataset = datasets.load_dataset("json", data_files=files, split="train")
    assert dataset.num_rows == 60
    assert {"id", "kind", "messages", "text"} <= set(dataset.column_names)
    assert [m["role"] for m in dataset[0]["messages"]] == ["system", "user", "assistant"]


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(default_run, tmp_path):
    out, _ = default_run
    again, other = tmp_path / "again", tmp_path / "other"
    run(again)
    run(other, seed=7)
    for name in ("data/train-00000-of-00001.jsonl", "manifest.jsonl", "llamafactory/long1k_sharegpt.json",
                 "length_histogram.png", "skipped.jsonl"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    assert (out / "manifest.jsonl").read_bytes() != (other / "manifest.jsonl").read_bytes()


def test_pairs_are_well_formed(default_run, tokenizer):
    out, _ = default_run
    manifest = {m["id"]: m for m in read_jsonl(out / "manifest.jsonl")}
    markers = FORMATS["openthoughts"].markers
    pairs = [r for r in rows_of(out) if r["kind"] == "pair"]
    assert pairs
    for row in pairs:
        entry = manifest[row["id"]]
        first, second = (source_row(ref) for ref in entry["sources"])
        assert entry["sources"][0]["problem_key"] != entry["sources"][1]["problem_key"]
        system, user, assistant = row["messages"]
        # Both questions, in order, joined by the recorded linking phrase.
        assert user["content"] == (f"{first['problem'].strip()}\n\n{entry['links']['question']}\n\n"
                                   f"{second['problem'].strip()}")
        content = assistant["content"]
        positions = [content.index(m) for m in markers]
        assert positions == sorted(positions) and all(content.count(m) == 1 for m in markers)
        reasoning = content[positions[0]:positions[1]]
        assert reasoning.index(first["deepseek_reasoning"].strip()) < reasoning.index(entry["links"]["reasoning"])
        assert reasoning.index(entry["links"]["reasoning"]) < reasoning.index(second["deepseek_reasoning"].strip())
        solution = content[positions[2]:]
        assert boxed_answers(solution) == (boxed_answers(first["deepseek_solution"])
                                           + boxed_answers(second["deepseek_solution"]))
        assert row["text"] == tokenizer.apply_chat_template(row["messages"], tokenize=False)
        assert entry["tokens"]["text"] == count_tokens(tokenizer, [row["text"]])[0] == row["num_tokens"]


def test_s1_rows_respect_the_token_range(tmp_path, tokenizer):
    out = tmp_path / "range"
    stats = run(out, num_samples=40, s1_share=0.5, s1_min_tokens=2000, s1_max_tokens=5000,
                pair_min_tokens=1500, pair_max_tokens=4000)
    assert stats["sampling"]["s1_outside_token_range"] > 0
    assert stats["sampling"]["pair_outside_token_range"] > 0
    manifest = {m["id"]: m for m in read_jsonl(out / "manifest.jsonl")}
    for row in rows_of(out):
        entry = manifest[row["id"]]
        if row["kind"] == "s1":
            source = source_row(entry["sources"][0])
            counted = sum(count_tokens(tokenizer, [source["deepseek_thinking_trajectory"],
                                                   source["deepseek_attempt"]]))
            assert 2000 <= counted <= 5000
        else:
            response = count_tokens(tokenizer, [row["messages"][-1]["content"]])[0]
            assert 1500 <= response <= 4000


def test_rows_over_the_block_size_are_dropped_and_counted_never_truncated(tmp_path, tokenizer):
    out = tmp_path / "block"
    stats = run(out, num_samples=30, block_size=3000)
    dropped = stats["sampling"].get("pair_dropped_over_block_size", 0) + stats["sampling"].get(
        "s1_dropped_over_block_size", 0)
    assert dropped > 0
    for row in rows_of(out):
        assert count_tokens(tokenizer, [row["text"]])[0] <= 3000
        assert row["text"].endswith("<|end_of_solution|><|im_end|>\n")


def test_planted_benchmark_problem_is_excluded(default_run, fixtures_dir):
    out, stats = default_run
    assert stats["decontamination"]["contaminated_rows"]["openthoughts"] == 1
    skipped = [s for s in read_jsonl(out / "skipped.jsonl") if s["reason"] == "contaminated"]
    planted = source_row({"file": skipped[0]["file"], "row": skipped[0]["row"]})
    assert planted["source"] == "planted_contamination"
    used = {(ref["file"], ref["row"]) for m in read_jsonl(out / "manifest.jsonl") for ref in m["sources"]}
    assert (skipped[0]["file"], skipped[0]["row"]) not in used


def test_decontamination_checks_s1_questions_too(tmp_path, fixtures_dir):
    benchmark = json.loads((fixtures_dir / "benchmarks" / "aime24.jsonl").read_text().splitlines()[0])
    rows = read_jsonl(fixtures_dir / "s1k11" / "train.jsonl")
    rows[5]["question"] = "Here is a known one. " + benchmark["problem"]
    s1 = tmp_path / "s1.jsonl"
    s1.write_text("".join(json.dumps(r) + "\n" for r in rows))
    stats = run(tmp_path / "out", s1=str(s1), openthoughts=str(fixtures_dir / "openthoughts"),
                benchmarks_dir=str(_prepared(tmp_path)))
    assert stats["decontamination"]["contaminated_rows"]["s1"] == 1
    skipped = [s for s in read_jsonl(tmp_path / "out" / "skipped.jsonl") if s["reason"] == "contaminated"]
    assert {(s["file"], s["row"]) for s in skipped} >= {(str(s1), 5)}


def _prepared(tmp_path: Path) -> Path:
    from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

    prepare_benchmarks(PrepareConfig(out=str(tmp_path / "bench"), fixtures=True))
    return tmp_path / "bench"


@pytest.mark.parametrize("name", ["s1", "think"])
def test_other_reasoning_formats(tmp_path, name):
    out = tmp_path / name
    run(out, num_samples=8, reasoning_format=name)
    fmt = FORMATS[name]
    for row in rows_of(out):
        content = row["messages"][-1]["content"]
        assert [content.count(m) for m in fmt.markers] == [1] * len(fmt.markers)
        assert content.startswith(fmt.reasoning_open)
        assert "<|begin_of_thought|>" not in content


def test_llamafactory_export_matches_the_rows(default_run):
    out, _ = default_run
    info = json.loads((out / "llamafactory" / "dataset_info.json").read_text())
    entry = info["long1k"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations",
                                                                      "system": "system"}
    exported = json.loads((out / "llamafactory" / entry["file_name"]).read_text())
    rows = rows_of(out)
    assert len(exported) == len(rows)
    assert exported[0]["conversations"][1]["value"] == rows[0]["messages"][2]["content"]
    assert [c["from"] for c in exported[0]["conversations"]] == ["human", "gpt"]


def test_reusing_an_output_folder_replaces_the_earlier_synthesis(tmp_path):
    out = tmp_path / "reuse"
    run(out, num_samples=12, shard_size=5)
    assert len(list((out / "data").glob("*.jsonl"))) == 3
    run(out, num_samples=12, shard_size=50)
    assert len(list((out / "data").glob("*.jsonl"))) == 1


def test_links_name_each_position_once():
    """A row of k parts introduces the second, third, ... and last problem, each once."""
    import random

    from long1k.links import ORDINALS
    from long1k.synthesis.options import StitchOptions

    options = StitchOptions()
    for seed in range(30):
        for parts in range(2, 9):
            links = options.draw_links(random.Random(seed), parts)
            for kind in ("question", "reasoning", "solution"):
                phrases = [link[kind].lower() for link in links]
                introduced = []
                for position, phrase in enumerate(phrases, start=2):
                    nth = "last" if parts >= 3 and position == parts else ORDINALS[position - 1]
                    named = [w for w in (*ORDINALS, "last") if f" {w} " in f" {phrase} ".replace(",", " ")]
                    assert set(named) <= {nth, ORDINALS[position - 2]}, (parts, phrase)
                    introduced += [w for w in named if w == nth]
                assert len(introduced) == len(set(introduced)), phrases
                if parts - 1 <= len(getattr(options, f"{kind}_links")):
                    assert len(set(phrases)) == len(phrases)  # no phrase twice in a row


def _rewrite(path: Path, out: Path, change) -> Path:
    rows = read_jsonl(path)
    for number, row in enumerate(rows):
        change(number, row)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def test_s1_rows_are_math_by_default_and_counted(tmp_path, fixtures_dir):
    kinds = ("science", "crossword")
    s1 = _rewrite(fixtures_dir / "s1k11" / "train.jsonl", tmp_path / "s1.jsonl",
                  lambda n, row: row.update(cot_type=kinds[n % 2]) if n % 3 == 0 else None)
    bench = str(_prepared(tmp_path))
    stats = run(tmp_path / "out", s1=str(s1), num_samples=20, s1_share=1.0, benchmarks_dir=bench)
    rows = read_jsonl(s1)
    chosen = [entry["sources"][0]["row"] for entry in read_jsonl(tmp_path / "out" / "manifest.jsonl")]
    assert chosen and all(rows[r]["cot_type"] == "math" for r in chosen)
    assert stats["sources"]["s1"]["skipped"]["domain"] == sum(1 for n in range(len(rows)) if n % 3 == 0)
    science = run(tmp_path / "sci", s1=str(s1), num_samples=6, s1_share=1.0, s1_domains=["science"],
                  benchmarks_dir=bench)
    chosen = [entry["sources"][0]["row"] for entry in read_jsonl(tmp_path / "sci" / "manifest.jsonl")]
    assert science["rows"] and all(rows[r]["cot_type"] == "science" for r in chosen)


def test_a_problem_appears_once_across_both_sources(tmp_path, fixtures_dir):
    """s1.1 rows that restate OpenThoughts problems (other spacing, case, math delimiters): one problem
    is never both an s1.1 row and half of a pair, nor in two rows."""
    problems = [row["problem"] for row in read_jsonl(fixtures_dir / "openthoughts" / "metadata.jsonl")]
    s1 = _rewrite(fixtures_dir / "s1k11" / "train.jsonl", tmp_path / "s1.jsonl",
                  lambda n, row: row.update(question="  " + problems[n].replace("$", "").upper().replace(" ", "  ")))
    stats = run(tmp_path / "out", s1=str(s1), num_samples=40, s1_share=0.5, benchmarks_dir=str(_prepared(tmp_path)))
    keys = [s["problem_key"] for e in read_jsonl(tmp_path / "out" / "manifest.jsonl") for s in e["sources"]]
    assert len(keys) == len(set(keys))
    assert stats["sampling"]["pair_problems_already_s1_rows"] > 0 and stats["rows_by_kind"]["s1"] == 20
