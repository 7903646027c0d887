"""The data stage on real text (../shared/real_sources: real models' long reasoning in the OpenThoughts-114k
and s1K-1.1 schemas), against the real benchmarks. Skipped when ../shared is absent."""

import json

import pytest
from conftest import SHARED, real_benchmark_sources

from long1k.experiments.levels import LevelsConfig, build_levels
from long1k.links import ORDINALS
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize
from long1k.tasks.prepare import PrepareConfig, prepare_benchmarks

REAL = SHARED / "real_sources"
OPENTHOUGHTS = REAL / "openthoughts_metadata_real_traces.jsonl"
S1 = REAL / "s1k11_schema_real_traces.jsonl"
pytestmark = pytest.mark.skipif(not REAL.is_dir() or not (SHARED / "benchmarks").is_dir(),
                                reason="real sources (../shared) not present")


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real") / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(folder), source=real_benchmark_sources()))
    return folder


def test_real_synthesis_uses_each_problem_once_and_only_math_s1_rows(benchmarks, tmp_path):
    out = tmp_path / "long1k"
    stats = synthesize(SynthesisConfig(out=str(out), openthoughts=str(OPENTHOUGHTS), s1=str(S1),
                                       benchmarks_dir=str(benchmarks), num_samples=40, s1_share=0.3))
    manifest = read_jsonl(out / "manifest.jsonl")
    keys = [s["problem_key"] for e in manifest for s in e["sources"]]
    assert len(keys) == len(set(keys)) and stats["rows"] == len(manifest) > 0
    s1_rows = read_jsonl(S1)
    chosen = [e["sources"][0]["row"] for e in manifest if e["kind"] == "s1"]
    assert chosen and all(s1_rows[r]["cot_type"] == "math" for r in chosen)
    assert stats["sources"]["s1"]["skipped"]["domain"] == sum(r["cot_type"] != "math" for r in s1_rows)


def test_real_rows_of_many_problems_name_each_position_once(tmp_path):
    build_levels(LevelsConfig(out=str(tmp_path / "levels"), openthoughts=str(OPENTHOUGHTS), levels=[2000, 9000],
                              questions=6, tolerance=0.3, decontaminate=False))
    rows = read_jsonl(tmp_path / "levels" / "level_9000" / "manifest.jsonl")
    long_rows = [r for r in rows if len(r["sources"]) >= 3]
    assert long_rows
    for row in long_rows:
        joins = row["links"]["joins"]
        for kind in ("question", "reasoning", "solution"):
            introduced = [w for position, link in enumerate(joins, start=2) for w in (*ORDINALS, "last")
                          if f" {w} " in f" {link[kind].lower()} " and w != ORDINALS[position - 2]]
            assert len(introduced) == len(set(introduced)), joins
