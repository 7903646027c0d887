"""The rows of a benchmark as published: from the hub, a local file, or the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from long1k.errors import Long1kError
from long1k.jsonl import iter_jsonl
from long1k.sources import short_error
from long1k.tasks.spec import TaskSpec


def read_local_rows(path: Path) -> list[dict]:
    """Rows of a local benchmark file: jsonl, a json list, csv or parquet."""
    if not path.is_file():
        raise Long1kError(f"{path}: no such benchmark file")
    try:
        if path.suffix == ".jsonl":
            return [row for _, row in iter_jsonl(path)]
        if path.suffix == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise Long1kError(f"{path}: expected a JSON list of rows")
            return rows
        if path.suffix == ".csv":
            import csv

            with path.open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise Long1kError(f"{path}: cannot read: {err}") from None
    raise Long1kError(f"{path}: unsupported benchmark file type (use jsonl, json, csv or parquet)")


def read_hub_rows(task: TaskSpec) -> list[dict]:
    import datasets

    if not task.hub_id:
        raise Long1kError(f"task {task.name} ({task.defined_in}) names no hub id; pass --source {task.name}=PATH")
    from long1k.hub import offline_hint, use_cache_if_unreachable

    unreachable = use_cache_if_unreachable()
    rows = []
    for config in task.hub_configs:
        try:
            rows += datasets.load_dataset(task.hub_id, name=config, split=task.split).to_list()
        except Exception as err:
            raise Long1kError(
                f"cannot load {task.name} from the hub ({task.hub_id}, config {config}, split {task.split}): "
                f"{short_error(err)}.{gated_hint(task, err)}{offline_hint(unreachable)} "
                f"Offline, pass --source {task.name}=PATH or --fixtures"
            ) from None
    return rows


def gated_hint(task: TaskSpec, err: Exception) -> str:
    """What to do about a gated dataset, when the error says or suggests that access was refused."""
    text = str(err).lower()
    refused = any(word in text for word in ("401", "403", "cannot be accessed", "authenticat", "unauthorized"))
    if "gated" not in text and not (task.gated and refused):
        return ""
    return (f" {task.hub_id} is gated on the hub: accept its terms at https://huggingface.co/datasets/{task.hub_id} "
            "while logged in there, and log in here (`hf auth login` or HF_TOKEN).")


def fixture_file(task: TaskSpec) -> Path:
    """The task's embedded-default file, in its hub schema (generated on first use)."""
    from long1k.fixtures import default_fixtures_dir, generated_task_fixture

    spec = task.fixture
    if "builtin" in spec:
        return default_fixtures_dir() / "benchmarks" / spec["builtin"]
    if "path" in spec:
        return Path(task.defined_in).parent / spec["path"]
    if "generate" in spec:
        return generated_task_fixture(task)
    raise Long1kError(f"task {task.name} ({task.defined_in}) has no 'fixture' (builtin, path or generate): "
                      f"it cannot run offline; pass --source {task.name}=PATH")
