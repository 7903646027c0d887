"""Every kind of bad input: a clear message naming file, row and field; rows skipped and counted."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from long1k.errors import Long1kError
from long1k.fixtures.writers import openthoughts_math_row
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def math_rows(n: int, seed: int = 3) -> list[dict]:
    import random

    rng = random.Random(seed)
    return [openthoughts_math_row(rng, 2, 6) for _ in range(n)]


def synth(tmp_path: Path, openthoughts: Path, fixtures_dir: Path, **overrides) -> dict:
    options = {"num_samples": 6, "s1_share": 0.0, "decontaminate": False}
    options.update(overrides)
    return synthesize(SynthesisConfig(out=str(tmp_path / "out"), openthoughts=str(openthoughts),
                                      s1=str(fixtures_dir / "s1k11"), **options))


def test_missing_column_names_the_file_and_column(tmp_path, fixtures_dir):
    rows = math_rows(10)
    for row in rows:
        del row["deepseek_solution"]
    source = write_jsonl(tmp_path / "no_solution.jsonl", rows)
    with pytest.raises(Long1kError, match=r"no_solution\.jsonl.*lacks column\(s\) \['deepseek_solution'\]"):
        synth(tmp_path, source, fixtures_dir)


def test_each_bad_row_is_skipped_counted_and_named(tmp_path, fixtures_dir, capsys):
    rows = math_rows(30)
    rows[2]["domain"] = "code"
    rows[4]["deepseek_reasoning"] = ""
    rows[6]["deepseek_solution"] = "The answer is 12."
    rows[8]["problem"] = None
    source = write_jsonl(tmp_path / "mixed.jsonl", rows)
    stats = synth(tmp_path, source, fixtures_dir)
    assert stats["sources"]["openthoughts"]["skipped"] == {
        "domain": 1, "empty_field": 2, "no_boxed_answer": 1}
    printed = capsys.readouterr().out
    assert "mixed.jsonl row 4, field 'deepseek_reasoning': field 'deepseek_reasoning' is missing or empty" in printed
    assert "mixed.jsonl row 6, field 'deepseek_solution': no \\boxed{} answer" in printed
    assert "mixed.jsonl row 8, field 'problem'" in printed
    skipped = [json.loads(line) for line in (tmp_path / "out" / "skipped.jsonl").read_text().splitlines()]
    listed = sorted(s["row"] for s in skipped if s["source"] == "openthoughts")
    assert listed == [2, 4, 6, 8]  # nothing lost: every skipped row is listed
    used = {ref["row"] for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
            for ref in json.loads(line)["sources"]}
    assert used.isdisjoint({2, 4, 6, 8})


def test_unreadable_file_is_a_clean_error(tmp_path, fixtures_dir):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(Long1kError, match=r"broken\.parquet: cannot read as parquet"):
        synth(tmp_path, broken, fixtures_dir)
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text('{"problem": "x", "deepseek_reasoning": \n not json at all\n')
    with pytest.raises(Long1kError, match=r"garbled\.jsonl line 1: invalid JSON \(Expecting value at column 41\)"):
        synth(tmp_path, garbled, fixtures_dir)


def test_missing_path_is_a_clean_error(tmp_path, fixtures_dir):
    with pytest.raises(Long1kError, match="no such file or folder"):
        synth(tmp_path, tmp_path / "nowhere.jsonl", fixtures_dir)


def test_nothing_usable_left_exits_cleanly(tmp_path, fixtures_dir):
    rows = math_rows(5)
    for row in rows:
        row["deepseek_solution"] = "no box here"
    source = write_jsonl(tmp_path / "useless.jsonl", rows)
    s1_rows = [json.loads(line) for line in (fixtures_dir / "s1k11" / "train.jsonl").read_text().splitlines()]
    for row in s1_rows:
        row["deepseek_attempt"] = "  "
    s1 = write_jsonl(tmp_path / "useless_s1.jsonl", s1_rows)
    with pytest.raises(Long1kError, match="nothing usable"):
        synthesize(SynthesisConfig(out=str(tmp_path / "out"), openthoughts=str(source), s1=str(s1),
                                   decontaminate=False))


def test_invalid_options_are_rejected_before_any_work(tmp_path):
    with pytest.raises(Long1kError, match="s1_min_tokens"):
        synthesize(SynthesisConfig(out=str(tmp_path / "o"), s1_min_tokens=10, s1_max_tokens=5))
    assert not (tmp_path / "o").exists()


def test_foreign_output_folder_is_not_overwritten(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(Long1kError, match="not empty"):
        synthesize(SynthesisConfig(out=str(tmp_path / "precious"), num_samples=2))
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


def test_cli_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "data" / "synthesize.py"), "--out", str(tmp_path / "o"),
         "--openthoughts", str(tmp_path / "missing.parquet")],
        capture_output=True, text=True)
    assert result.returncode == 2
    assert "error:" in result.stderr and "missing.parquet" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("rank, shown", [("0", "error: bad row 3"), ("1", "error: [rank 1] bad row 3")])
def test_every_rank_says_its_own_error(monkeypatch, capsys, rank, shown):
    """Rank 0 says the error; any other rank says it too, named, since a rank may fail alone."""
    from long1k.errors import run_main

    def fail(_argv):
        raise Long1kError("bad row 3")

    monkeypatch.setenv("RANK", rank)
    with pytest.raises(SystemExit) as exited:
        run_main(fail, [])
    assert exited.value.code == 2 and capsys.readouterr().err.strip() == shown
