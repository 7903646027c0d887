"""Sweeps: a YAML recipe of datasets x training settings x benchmarks x seeds becomes the train /
predict / score commands of each run, printed with --dry-run or run in order. Each finished step
leaves a marker in its run folder, so a rerun resumes where the last one stopped.

Run folders are OUT/runs/DATASET__TRAINING/ with data/stats.json (the training set's length
statistics), sft/, predictions/ and scores/: what scripts/scaling_law.py --runs collects.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from long1k.configs import load_yaml_recipe, parse_config
from long1k.errors import Long1kError

STAGE = ("python", "-m", "long1k")  # the package's own CLI: no repository paths, any working folder
RECIPE_KEYS = {"name", "out", "datasets", "training", "benchmarks", "seeds", "predict", "score", "env"}


@dataclass(frozen=True)
class Step:
    run: str
    name: str  # data | train | predict | score
    command: str
    env: dict = field(default_factory=dict)

    def marker(self, out: Path) -> Path:
        return out / "runs" / self.run / ".done" / self.name


def _flags(options: dict) -> list[str]:
    flags = []
    for key, value in (options or {}).items():
        values = value if isinstance(value, list) else [value]
        flags += [f"--{key}", *[str(v).lower() if isinstance(v, bool) else str(v) for v in values]]
    return flags


def load_recipe(path: str | Path) -> dict:
    recipe = load_yaml_recipe(path, RECIPE_KEYS)
    for key in ("out", "datasets", "training"):
        if not recipe.get(key):
            raise Long1kError(f"{path}: '{key}' is required")
    return recipe


def expand(recipe: dict) -> list[Step]:
    out = Path(recipe["out"])
    steps = []
    for dataset, data_dir in recipe["datasets"].items():
        for training, settings in recipe["training"].items():
            run = f"{dataset}__{training}"
            folder = out / "runs" / run
            stats_from = shlex.quote(str(Path(data_dir) / "stats.json"))
            stats_to = shlex.quote(str(folder / "data"))
            steps.append(Step(run, "data", f"mkdir -p {stats_to} && cp {stats_from} {stats_to}/"))
            train_env = {**(recipe.get("env") or {}), "DATA": str(data_dir), "OUTPUT_DIR": str(folder / "sft")}
            if settings.get("recipe"):
                train_env["RECIPE"] = settings["recipe"]
            train_flags = _flags(settings.get("flags"))
            steps.append(Step(run, "train", shlex.join([*STAGE, "launch-train", *train_flags]),
                              {k: str(v) for k, v in train_env.items()}))
            predict = [*STAGE, "predict", "--model", str(folder / "sft" / "final"), "--model_name", run,
                       "--out", str(folder / "predictions")]
            if recipe.get("benchmarks"):
                predict += ["--benchmarks", *recipe["benchmarks"]]
            if recipe.get("seeds"):
                predict += ["--seeds", *map(str, recipe["seeds"])]
            steps.append(Step(run, "predict", shlex.join(predict + _flags(recipe.get("predict")))))
            score = [*STAGE, "score", "--predictions", str(folder / "predictions"), "--out",
                     str(folder / "scores")]
            steps.append(Step(run, "score", shlex.join(score + _flags(recipe.get("score")))))
    return steps


def run_steps(steps: list[Step], out: Path, dry_run: bool = False, cwd: Path | None = None) -> int:
    """Run the steps not yet done, in order; stop at the first failure. Returns the number run."""
    done = 0
    for step in steps:
        marker = step.marker(out)
        env_text = " ".join(f"{k}={shlex.quote(v)}" for k, v in step.env.items())
        line = f"[{step.run}] {step.name}: {env_text + ' ' if env_text else ''}{step.command}"
        if marker.exists():
            print(f"{line}   (done)")
            continue
        print(line, flush=True)
        if dry_run:
            continue
        result = subprocess.run(step.command, shell=True, cwd=cwd, env={**os.environ, **step.env})
        if result.returncode:
            raise Long1kError(f"[{step.run}] {step.name} failed (exit {result.returncode}); fix it and rerun: "
                              "finished steps are skipped")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("done\n")
        done += 1
    return done


@dataclass
class SweepConfig:
    recipe: str = field(default="", metadata={"help": "the sweep recipe (YAML); may also come first, unflagged"})
    dry_run: bool = field(default=False, metadata={"help": "print the commands, run nothing"})


def main(argv: list[str] | None = None) -> None:
    """Run a sweep recipe (datasets x training settings x benchmarks x seeds), resuming where it stopped.
    Relative paths in the recipe are relative to the working folder."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        argv = ["--recipe", *argv]
    config = parse_config(SweepConfig, argv, description=main.__doc__)
    if not config.recipe:
        raise Long1kError("give the sweep recipe: python -m long1k sweep RECIPE.yaml [--dry_run true]")
    recipe = load_recipe(config.recipe)
    steps = expand(recipe)
    print(f"sweep {recipe.get('name', Path(config.recipe).stem)}: {len({s.run for s in steps})} runs, "
          f"{len(steps)} steps")
    ran = run_steps(steps, Path(recipe["out"]), dry_run=config.dry_run)
    if not config.dry_run:
        print(f"ran {ran} steps; results in {recipe['out']}/runs/*/scores/results.md")
