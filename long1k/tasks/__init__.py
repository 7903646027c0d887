"""The benchmark registry: task YAML files found in long1k/tasks/builtin/ and in the folders named
by `$LONG1K_TASKS_DIR` (separated like PATH). Adding a benchmark is adding one such file."""

from __future__ import annotations

import os
from collections import Counter
from functools import lru_cache
from pathlib import Path

from long1k.errors import Long1kError, did_you_mean
from long1k.tasks.layouts import LAYOUTS, gpqa_letter_plan
from long1k.tasks.spec import TaskSpec, task_from_yaml

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
TASKS_DIR_ENV = "LONG1K_TASKS_DIR"

__all__ = ["TaskSpec", "all_tasks", "benchmark_order", "default_benchmarks", "get_task", "gpqa_letter_plan",
           "prepare_rows", "task_dirs"]


def task_dirs() -> list[Path]:
    extra = [Path(p).expanduser() for p in os.environ.get(TASKS_DIR_ENV, "").split(os.pathsep) if p]
    return [BUILTIN_DIR, *extra]


@lru_cache(maxsize=8)
def _load(dirs: tuple[Path, ...]) -> dict[str, TaskSpec]:
    tasks: dict[str, TaskSpec] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise Long1kError(f"{folder}: task folder not found (${TASKS_DIR_ENV})")
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            task = task_from_yaml(path, LAYOUTS)
            if task.name in tasks:
                raise Long1kError(f"task {task.name!r} is defined twice: {tasks[task.name].defined_in} and {path}")
            tasks[task.name] = task
    return tasks


def all_tasks() -> dict[str, TaskSpec]:
    """Every known task: the paper's four first (in the paper's order), then the others by name."""
    tasks = _load(tuple(task_dirs()))
    paper = [n for n in ("math500", "aime24", "aime25", "gpqa_diamond") if n in tasks]
    return {name: tasks[name] for name in paper + sorted(set(tasks) - set(paper))}


def default_benchmarks() -> list[str]:
    return [name for name, task in all_tasks().items() if task.default]


def get_task(name: str) -> TaskSpec:
    """A registered task, or the composite BASE_xK of one (long1k/tasks/composite.py)."""
    tasks = all_tasks()
    if name not in tasks:
        from long1k.tasks.composite import composite_task, parse_composite_name

        composite = parse_composite_name(name)
        if composite and composite[0] in tasks:
            return composite_task(tasks[composite[0]], composite[1])
        raise Long1kError(f"unknown benchmark {name!r}{did_you_mean(name, tasks)} (add one with a YAML file in "
                          f"long1k/tasks/builtin/ or in a folder named by ${TASKS_DIR_ENV})")
    return tasks[name]


def benchmark_order(names) -> list[str]:
    """Benchmarks in the registry's order, each composite right after the benchmark it joins."""
    from long1k.tasks.composite import parse_composite_name

    known = list(all_tasks())

    def key(name: str) -> tuple:
        base, parts = parse_composite_name(name) or (name, 1)
        if base not in known:
            base, parts = name, 1
        return (known.index(base) if base in known else len(known), base, parts)

    return sorted(set(names), key=key)


def prepare_rows(task: TaskSpec, rows: list[dict], where: str, seed: int = 0) -> list[dict]:
    """The prepared rows of one benchmark; no rows or duplicate ids are errors."""
    if not rows:
        raise Long1kError(f"{where}: no rows")
    items = LAYOUTS[task.layout](rows, task, where, seed)
    duplicates = [item_id for item_id, n in Counter(item["id"] for item in items).items() if n > 1]
    if duplicates:
        raise Long1kError(f"{where}: duplicate ids {duplicates[:5]}")
    return items
