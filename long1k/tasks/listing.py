"""`python -m long1k tasks`: the registered benchmarks, their answer kinds, hub ids and files."""

from __future__ import annotations

import argparse

from long1k.reporting import markdown_table
from long1k.tasks import all_tasks, task_dirs


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="long1k tasks", description=__doc__).parse_args(argv)
    rows = [[t.name, "yes" if t.default else "", t.answer_kind, t.hub_id or "-", t.defined_in]
            for t in all_tasks().values()]
    print(markdown_table(["benchmark", "default", "answer kind", "hub id", "defined in"], rows))
    print(f"task folders: {', '.join(map(str, task_dirs()))} (add folders with $LONG1K_TASKS_DIR)")
