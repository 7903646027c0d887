"""Fault injection: stages killed with SIGKILL at named points (LONG1K_KILL_AT, long1k/faults.py), rerun,
and checked for nothing lost, duplicated, stale or inconsistent; bad bytes and unreachable services.
Training and sweeps killed mid-step and mid-save are in tests/train/test_train_distributed.py, where
they share the reference run."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from long1k.errors import Long1kError
from long1k.synthesis.config import SynthesisConfig
from long1k.synthesis.run import synthesize
from long1k.tasks.prepare import MANIFEST, PrepareConfig, prepare_benchmarks, prepared_files
from long1k.train.data import load_rows

SMALL = {"num_samples": 6, "s1_share": 0.34}


def stage(*args: str, kill_at: str | None = None, env: dict | None = None, timeout: int = 600):
    environment = {**os.environ, **(env or {})}
    if kill_at:
        environment["LONG1K_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "long1k", *args], env=environment, capture_output=True, text=True,
                          timeout=timeout)


def consistent(folder: Path) -> dict:
    """The dataset folder's stats, after checking that they describe its data (the trainer's own check)."""
    stats = json.loads((folder / "stats.json").read_text())
    load_rows(str(folder))  # raises when stats.json's sha256 does not match the shards
    manifest_ids = [json.loads(line)["id"] for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert len(manifest_ids) == stats["rows"] and (folder / "llamafactory" / "dataset_info.json").is_file()
    return stats


def no_leftovers(folder: Path) -> bool:
    return not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


def test_synthesis_killed_while_writing_keeps_the_previous_dataset_or_none(tmp_path, fixtures_dir):
    """Killed while overwriting a seed-42 dataset with seed 7, at two points: the seed-42 dataset stays
    whole; killed while writing a new folder: no folder, and the rerun is not refused."""
    out = tmp_path / "long1k"
    synthesize(SynthesisConfig(out=str(out), seed=42, **SMALL))
    before = consistent(out)
    seven = ("synthesize", "--out", str(out), "--seed", "7", "--num_samples", "6", "--s1_share", "0.34")
    for point in ("dataset-shards-written", "dataset-complete-unswapped"):
        assert stage(*seven, kill_at=point).returncode == -signal.SIGKILL
        assert consistent(out) == before
    synthesize(SynthesisConfig(out=str(out), seed=7, **SMALL))  # the rerun (in process: quicker)
    after = consistent(out)
    assert after["config"]["seed"] == 7 and after["data_sha256"] != before["data_sha256"] and no_leftovers(out)

    fresh = tmp_path / "fresh"
    killed = stage("synthesize", "--out", str(fresh), "--num_samples", "6", "--s1_share", "0.34",
                   kill_at="dataset-shards-written")
    assert killed.returncode == -signal.SIGKILL and not fresh.exists()
    synthesize(SynthesisConfig(out=str(fresh), **SMALL))  # not refused as "not empty, no earlier synthesis"
    consistent(fresh)
    assert no_leftovers(fresh)


def test_a_dataset_changed_behind_its_stats_is_refused(tmp_path, fixtures_dir):
    out = tmp_path / "long1k"
    synthesize(SynthesisConfig(out=str(out), **SMALL))
    shard = next((out / "data").glob("*.jsonl"))
    shard.write_text(shard.read_text().splitlines()[0] + "\n")
    with pytest.raises(Long1kError, match=r"stats.json: does not describe .*sha256"):
        load_rows(str(out))


def test_benchmark_preparation_is_all_or_none(tmp_path, fixtures_dir):
    out = tmp_path / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(out), fixtures=True, benchmarks=["math500", "aime24"]))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = stage("prepare-benchmarks", "--out", str(out), "--fixtures", "true", kill_at="benchmark-written@3")
    assert killed.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old files and their manifest, unchanged
    with pytest.raises(Long1kError, match="no such benchmark file"):  # failing on the fourth: nothing changes
        prepare_benchmarks(PrepareConfig(out=str(out), fixtures=True, source=[f"gpqa_diamond={tmp_path}/none.csv"]))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and no_leftovers(out)
    assert stage("prepare-benchmarks", "--out", str(out), "--fixtures", "true").returncode == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest) == ["aime24", "aime25", "gpqa_diamond", "math500"] and no_leftovers(out)
    assert all(hashlib.sha256((out / f"{n}.jsonl").read_bytes()).hexdigest() == i["sha256"]
               for n, i in manifest.items())


def test_decontamination_checks_the_benchmark_set(tmp_path, fixtures_dir, capsys):
    out = tmp_path / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(out), fixtures=True, benchmarks=["math500", "aime24"]))
    assert len(prepared_files(out)) == 2
    assert "not the paper's ['aime25', 'gpqa_diamond']" in capsys.readouterr().out  # a partial set is said
    (out / "aime24.jsonl").write_text((out / "aime24.jsonl").read_text().splitlines()[0] + "\n")
    with pytest.raises(Long1kError, match=r"aime24.jsonl: changed since"):
        synthesize(SynthesisConfig(out=str(tmp_path / "d"), benchmarks_dir=str(out), **SMALL))


def test_prediction_killed_mid_chunk_loses_and_duplicates_nothing(tmp_path, tiny_model, fixtures_dir):
    benchmarks = tmp_path / "benchmarks"
    prepare_benchmarks(PrepareConfig(out=str(benchmarks), fixtures=True))
    args = ("predict", "--model", str(tiny_model), "--backend", "hf", "--benchmarks_dir", str(benchmarks),
            "--out", str(tmp_path / "p"), "--benchmarks", "math500", "--limit", "3", "--n_samples", "2",
            "--max_tokens", "4", "--chunk", "6")
    killed = stage(*args, kill_at="prediction-row-written@4")
    assert killed.returncode == -signal.SIGKILL
    path = tmp_path / "p" / "tiny-model" / "math500_seed42.jsonl"
    assert len(path.read_text().splitlines()) == 4  # flushed row by row, inside the chunk of 6
    assert stage(*args).returncode == 0
    keys = Counter((json.loads(line)["id"], json.loads(line)["sample"]) for line in path.read_text().splitlines())
    assert len(keys) == 6 and set(keys.values()) == {1}


def test_bad_bytes_and_bad_json_name_file_and_line(tmp_path, fixtures_dir):
    source = next((fixtures_dir / "openthoughts").glob("*.jsonl"))
    lines = source.read_bytes().split(b"\n")
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_bytes(b"\n".join([*lines[:4], lines[4][:30] + b"\xff" + lines[4][30:], *lines[5:]]))
    with pytest.raises(Long1kError, match=r"garbled.jsonl line 5: not UTF-8 \(byte 0xff at column 31\)"):
        synthesize(SynthesisConfig(out=str(tmp_path / "a"), openthoughts=str(garbled), **SMALL))
    broken = tmp_path / "data" / "train.jsonl"
    broken.parent.mkdir()
    broken.write_text('{"messages": []}\n{"messages": [}\n')
    with pytest.raises(Long1kError, match=r"train.jsonl line 2: invalid JSON"):
        load_rows(str(tmp_path / "data"))


def test_an_unreachable_hub_fails_in_seconds_with_the_offline_hint(tmp_path):
    env = {name: "" for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens there
    started = time.monotonic()
    done = stage("prepare-benchmarks", "--out", str(tmp_path / "b"), "--benchmarks", "math500", env=env,
                 timeout=120)
    seconds = time.monotonic() - started
    assert done.returncode == 2 and "hub is unreachable" in done.stderr and "HF_HUB_OFFLINE=1" in done.stderr
    assert "--fixtures" in done.stderr  # the embedded default, named as the way on
    assert seconds < 30, f"took {seconds:.0f} s"
    assert not (tmp_path / "b").exists()
    offline = stage("prepare-benchmarks", "--out", str(tmp_path / "c"), "--benchmarks", "math500", timeout=120)
    assert offline.returncode == 2 and "--fixtures" in offline.stderr


def test_json_errors_say_at_once(tmp_path):
    from long1k.jsonl import iter_jsonl

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": "b\tc"}\n')  # a raw tab inside a string: json's message ends with "at"
    with pytest.raises(Long1kError) as raised:
        list(iter_jsonl(bad))
    assert "at at" not in str(raised.value) and "Invalid control character at column 9" in str(raised.value)


def test_generated_data_never_lands_where_real_data_is_expected(tmp_path, fixtures_dir, capsys):
    from long1k.source_options import DEMO_OUT, REAL_OUT
    from long1k.train.run import built_from

    assert SynthesisConfig().out == DEMO_OUT  # the fixtures: demo data has a folder of its own
    real_file = str(tmp_path / "ot.parquet")
    assert SynthesisConfig(openthoughts=real_file, s1=real_file).out == REAL_OUT
    assert SynthesisConfig(openthoughts=real_file).out == DEMO_OUT  # one generated source is enough
    demo = tmp_path / "demo"
    synthesize(SynthesisConfig(out=str(demo), **SMALL))
    assert built_from(str(demo)).startswith("built from the GENERATED openthoughts, s1")
    # a folder holding a build from real sources is never replaced by a demo build
    stats = json.loads((demo / "stats.json").read_text())
    stats["config"].update(openthoughts="open-thoughts/OpenThoughts-114k", s1="simplescaling/s1K-1.1")
    (demo / "stats.json").write_text(json.dumps(stats))
    with pytest.raises(Long1kError, match="holds a build from real sources, which this build from the generated "
                                          "openthoughts, s1 .demo data. would replace"):
        synthesize(SynthesisConfig(out=str(demo), **SMALL))
    assert built_from(str(demo)) == ("built from openthoughts open-thoughts/OpenThoughts-114k, "
                                     "s1 simplescaling/s1K-1.1")
