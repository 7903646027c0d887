"""The miniature's report: it gathers the stages' tables, refuses length levels built on different problems,
and computes pass rates over samples from the graded answers."""

from __future__ import annotations

import json

import pytest

from long1k.errors import Long1kError
from long1k.experiments.miniature import SECTIONS, level_data, sample_rows, write_report
from long1k.miniworld import STYLES


def write_levels(out, keys_of=lambda style: ["k1", "k2"]):
    for length, style in enumerate(STYLES, start=1):
        folder = out / "data" / style
        folder.mkdir(parents=True)
        rows = [{"sources": [{"problem_key": key}]} for key in keys_of(style)]
        (folder / "manifest.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        stats = {"tokens": {"all": {"response_tokens": {"mean": 10.0 * length}}}}
        (folder / "stats.json").write_text(json.dumps(stats))


def write_samples(out, scores: dict[str, dict[str, list[bool]]]):
    graded = out / "samples" / "scores" / "graded.jsonl"
    graded.parent.mkdir(parents=True)
    graded.write_text("".join(json.dumps({"model": model, "id": problem, "correct": verdict}) + "\n"
                              for model, problems in scores.items() for problem, verdicts in problems.items()
                              for verdict in verdicts))


def test_levels_must_hold_the_same_problems(tmp_path):
    write_levels(tmp_path)
    assert [row[0] for row in level_data(tmp_path)] == list(STYLES)
    assert level_data(tmp_path)[-1][2:] == ["40.0", "yes"]
    other = tmp_path / "other"
    write_levels(other, keys_of=lambda style: ["k1", "k3" if style == "checked" else "k2"])
    with pytest.raises(Long1kError, match=r"\['checked'\] hold other problems"):
        level_data(other)


def test_pass_rates_and_their_spread_over_samples(tmp_path):
    write_samples(tmp_path, {"full": {"a": [True, True, False, False], "b": [True] * 4},
                             "none": {"a": [False] * 4, "b": [False] * 4}})
    none, full = sample_rows(tmp_path)  # shortest level first
    assert full == ["full", 2, 4, "75.0", "0.50", "50%"]  # CV of 1,1,0,0 is 1; of 1,1,1,1 is 0
    assert none == ["none", 2, 4, "0.0", "n/a", "0%"]


def test_the_report_gathers_every_section_and_names_a_missing_one(tmp_path):
    write_levels(tmp_path)
    write_samples(tmp_path, {"full": {"a": [True, False]}})
    (tmp_path / "phases.txt").write_text("0 benchmarks\n30 sweep\n95 report\n")
    for _, name, _ in SECTIONS:
        if name != "samples.md":
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(f"table of {name}\n")
    report = write_report(tmp_path)
    assert all(f"table of {name}" in report for _, name, _ in SECTIONS if name != "samples.md")
    assert "| full | 1 | 2 | 50.0 | 1.00 | 100% |" in report
    assert "| benchmarks | 30 |" in report and "| sweep | 65 |" in report and "1 min 35 s in all" in report
    (tmp_path / "traces" / "traces.md").unlink()
    with pytest.raises(Long1kError, match="traces.md: missing"):
        write_report(tmp_path)
