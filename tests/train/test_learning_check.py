"""The learning check: the mini model trained through the real stages answers held-out problems.

About 4 minutes on 2 cores, run once per session (the learned_mini fixture). The ablations (each breaks
one link: loss on the prompt, no end-of-turn loss, another prediction template) take as long each; they
run when LONG1K_LEARNING_ABLATIONS=1."""

from __future__ import annotations

import json
import os

import pytest

from long1k.experiments.learning_check import LearningCheckConfig, learning_check


def test_the_mini_model_learns_what_it_was_taught(learned_mini):
    out, problems = learned_mini.out, learned_mini.problems
    result = json.loads((out / "learning_check.json").read_text())
    assert problems == [], problems
    assert result["pass@1"] >= 80.0
    assert result["responses"] == 100 and result["stopped"] == 100 and result["closed"] == 100
    assert result["prompt_loss"] >= 2.0  # answer-only: the prompts were never learned
    # The prediction prompt is the training one: the format recorded at training, its system prompt.
    record = json.loads((out / "sft" / "final" / "long1k_training.json").read_text())
    row = json.loads(next((out / "predictions").rglob("minichain_seed*.jsonl")).read_text().splitlines()[0])
    assert record["reasoning_format"] == "think" and row["prompt"].endswith("<|im_start|>assistant\n")


@pytest.mark.skipif(not os.environ.get("LONG1K_LEARNING_ABLATIONS"), reason="set LONG1K_LEARNING_ABLATIONS=1")
@pytest.mark.parametrize("ablation", ["prompt_loss", "end_of_turn", "template"])
def test_each_broken_link_fails_the_check(tmp_path, ablation):
    assert learning_check(LearningCheckConfig(out=str(tmp_path / ablation), ablation=ablation)) != []


def test_torchrun_on_cpus_without_deepspeed_splits_the_data_between_ranks(tmp_path):
    """Two ranks of 16 rows each make one step of 32 rows (before, each rank trained alone on all the data)."""
    import re
    import subprocess
    import sys

    from conftest import REPO, failure_report, free_port

    benchmarks, data, model = tmp_path / "benchmarks", tmp_path / "data", tmp_path / "sft"
    prepare = ["data/prepare_benchmarks.py", "--benchmarks", "minichain", "--fixtures", "--out", str(benchmarks)]
    for command in (prepare,
                    ["data/synthesize.py", "--config", "data/recipes/mini_world.yaml", "--num_samples", "320",
                     "--benchmarks_dir", str(benchmarks), "--out", str(data)]):
        done = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, failure_report(done)
    env = {**os.environ, "NPROC_PER_NODE": "2", "RECIPE": "train/recipes/mini_cpu.yaml",
           "MASTER_PORT": str(free_port())}
    env.pop("DS_ACCELERATOR", None)
    command = ["bash", "train/sft.sh", "--dataset", str(data), "--output_dir", str(model), "--max_steps", "5",
               "--logging_steps", "5"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, failure_report(done, model / "train-node0.log")
    log = (model / "train-node0.log").read_text()
    assert "parallel_mode != ParallelMode.DISTRIBUTED" not in log
    epochs = {float(value) for value in re.findall(r"'epoch': '([0-9.]+)'", log)}
    assert epochs == {0.5}  # 5 steps x 32 rows / 320 rows
