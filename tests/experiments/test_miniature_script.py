"""scripts/miniature.sh end to end at a small size (a few-step base, 2 seeds, a few steps an arm): every
design runs, and the report holds every arm over seeds and a verdict for every claim. (The measured run is
in docs/experiments.md.)"""

from __future__ import annotations

import csv
import json
import os
import subprocess

from conftest import REPO, failure_report

from long1k.experiments import mini_base
from long1k.experiments.verdicts import CONTRADICTED, SUPPORTED, UNRESOLVED


def test_the_miniature_writes_every_arm_and_a_verdict_for_every_claim(tmp_path, private_cache):
    base = mini_base.build_base(tmp_path / "base", mini_base.BaseRecipe(problems=64, steps=8, batch=4, warmup=2,
                                                                         probe=4))
    out = tmp_path / "miniature"
    env = {**os.environ, "MINIATURE_OUT": str(out)}
    done = subprocess.run(["bash", "scripts/miniature.sh", "--base", str(base), "--seeds", "2", "--steps", "3",
                           "--batch", "8", "--rows", "64", "--problems", "12", "--forcing", "1", "2"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, failure_report(done)
    report = (out / "report.md").read_text()
    assert "## Claims" in report and "Verdict rule" in report
    assert (out / "lengths.png").stat().st_size > 0 and (out / "inference.png").stat().st_size > 0
    with (out / "claims.csv").open() as handle:
        claims = list(csv.DictReader(handle))
    assert len(claims) == 9
    assert all(c["verdict"] in (SUPPORTED, CONTRADICTED) or c["verdict"].startswith(UNRESOLVED) for c in claims)
    assert "did not learn their rows" in claims[0]["verdict"], "3 steps from a few-step base learn nothing"
    with (out / "arms.csv").open() as handle:
        arms = list(csv.DictReader(handle))
    names = {row["arm"] for row in arms}
    assert {"style_none", "style_checked", "stitch1_r2", "stitch8_r2", "stitch2_eq", "stitch8_eq", "lvd_easy_pairs",
            "lvd_hard_singles", "style_none@forced_wait2"} <= names
    assert all(row["seeds"] == "2" for row in arms)
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 2 * 13 and {r["seed"] for r in runs} == {0, 1}
    assert json.loads((out / "settings.json").read_text())["seeds"] == 2
