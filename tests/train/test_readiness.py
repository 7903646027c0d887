"""`python -m long1k env`: the training plan and its problems on machines we describe."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

from long1k.train.readiness import Machine, recipe_values, training_plan

CPU = Machine({"python": "3.11", "torch": "2.13.0", "deepspeed": "0.19.8"}, None, [], False)


def test_the_paper_recipe_on_a_cpu_machine_names_the_missing_gpu():
    plan, problems = training_plan(CPU, recipe_values(str(REPO / "train/recipes/long1k_launch.yaml")))
    assert dict(plan)["precision"] == "bf16"
    assert any("bf16" in problem for problem in problems)


def test_liger_asked_for_but_missing_is_a_problem(tmp_path):
    recipe = tmp_path / "liger.yaml"
    recipe.write_text("use_liger_kernel: true\nbf16: false\n")
    plan, problems = training_plan(CPU, recipe_values(str(recipe)))
    assert dict(plan)["Liger layer kernels"] == "on"
    assert problems == ["use_liger_kernel is set, but liger-kernel is not installed"]


def test_deepspeed_missing_and_too_many_ranks(monkeypatch):
    monkeypatch.setenv("NPROC_PER_NODE", "8")
    gpu = Machine({"python": "3.12", "torch": "2.14.0"}, "12.8", ["H100 (80 GiB)"] * 4, True)
    _, problems = training_plan(gpu, recipe_values(None))
    assert "deepspeed 'z3_offload' is set, but deepspeed is not installed" in problems
    assert "NPROC_PER_NODE=8, but only 4 GPU(s) are visible" in problems


def test_the_cpu_recipe_is_ready_here_and_the_default_is_not():
    command = [sys.executable, "-m", "long1k", "env"]
    tiny = subprocess.run([*command, "--recipe", str(REPO / "train/recipes/tiny_cpu.yaml")],
                          capture_output=True, text=True)
    assert tiny.returncode == 0, tiny.stdout + tiny.stderr
    assert "| deepspeed | 0.19.8 |" in tiny.stdout and tiny.stdout.rstrip().endswith("ready to train")
    default = subprocess.run(command, capture_output=True, text=True)
    assert default.returncode == 1 and "not ready" in default.stdout


def test_env_shows_the_per_rank_estimate_of_each_published_recipe_under_70_gib():
    for recipe in ("long1k_launch", "long1k_released"):
        shown = subprocess.run([sys.executable, "-m", "long1k", "env", "--recipe",
                                str(REPO / "train" / "recipes" / f"{recipe}.yaml")], capture_output=True, text=True,
                               env={**os.environ, "NPROC_PER_NODE": "8"})
        line = next(line for line in shown.stdout.splitlines() if "GPU: total per rank" in line)
        assert float(line.split("|")[2].split()[0]) <= 70, line
        assert "| ranks (per node) | 8 (8) |" in shown.stdout and "host: pinned memory per node" in shown.stdout
