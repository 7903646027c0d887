#!/usr/bin/env python
"""Run a sweep recipe (datasets x training settings x benchmarks x seeds), resuming where it stopped.

    python scripts/sweep.py scripts/recipes/length_levels_tiny.yaml --dry-run
    python scripts/sweep.py scripts/recipes/length_levels_tiny.yaml
    python scripts/scaling_law.py --runs outputs/sweeps/length_levels_tiny/runs/*
"""

import argparse
from pathlib import Path

from long1k.errors import run_main
from long1k.experiments.sweep import expand, load_recipe, run_steps

REPO = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe)
    steps = expand(recipe)
    runs = len({s.run for s in steps})
    print(f"sweep {recipe.get('name', Path(args.recipe).stem)}: {runs} runs, {len(steps)} steps")
    ran = run_steps(steps, Path(recipe["out"]), dry_run=args.dry_run, cwd=REPO)
    if not args.dry_run:
        print(f"ran {ran} steps; results in {recipe['out']}/runs/*/scores/results.md")


if __name__ == "__main__":
    run_main(main)
