"""scripts/miniature.sh end to end at a small budget: every phase runs through the real stages and the
report gathers every table and figure. (The measured run, 2,000 steps per training, is in
docs/experiments.md; here 200 steps, enough for the answer format, not for the skill.)"""

from __future__ import annotations

import json
import os
import subprocess

import yaml
from conftest import REPO, failure_report

STEPS = 200


def quick_recipe(tmp_path):
    recipe = yaml.safe_load((REPO / "scripts" / "recipes" / "miniature.yaml").read_text())
    out = tmp_path / "miniature"
    recipe.update(root=str(REPO), out=str(out / "sweep"))
    recipe["datasets"] = {name: folder.replace("outputs/miniature", str(out))
                          for name, folder in recipe["datasets"].items()}
    recipe["predict"].update(benchmarks_dir=str(out / "benchmarks"), limit=10, max_tokens=120)
    for training in recipe["training"].values():
        training["flags"]["max_steps"] = STEPS
    path = tmp_path / "quick.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path, out


def test_the_miniature_writes_every_table_and_figure(tmp_path, private_cache):
    recipe, out = quick_recipe(tmp_path)
    env = {**os.environ, "MINIATURE_OUT": str(out), "MINIATURE_RECIPE": str(recipe), "MINIATURE_LIMIT": "8"}
    done = subprocess.run(["bash", "scripts/miniature.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, failure_report(done)
    report = (out / "report.md").read_text()
    for title in ("Held-out accuracy per length level", "Scaling law", "Length vs difficulty: held-out scores",
                  "Inference-only scaling", "Composite prompts", "Pass rate over 4 samples", "Trace structure"):
        assert f"## {title}" in report
    assert report.count("| yes |") == 4  # every level holds the same problems
    runs = sorted(p.name for p in (out / "sweep" / "runs").iterdir())
    assert len(runs) == 14 and "hard_single__steps2000" in runs
    for figure in ("scaling/scaling_law.png", "inference_scaling/inference_scaling.png",
                   "composites/scores/composite_positions.png", "traces/structure.png",
                   "difficulty/pass_rate_histogram.png"):
        assert (out / figure).stat().st_size > 5_000, figure
    # The budget-forced model is a line of its own (at 200 steps its answers may all run to the cap: no fit then).
    points = json.loads((out / "inference_scaling" / "inference_scaling.json").read_text())["points"]
    forced = sorted(p["model"] for p in points if p["line"] == "none__seed0 (budget forcing)")
    assert forced == [f"none__seed0@budget96_wait{waits}" for waits in (1, 2, 4, 8)]
