"""The files one stage writes and another reads: their names and their readers, in one place.

A dataset folder (synthesis, builders): `stats.json` (its options, sources and data digest). A trained model
folder: `long1k_training.json` (the reasoning format, data and loss it was trained with). A score folder:
`results.json` (results[grader][model][benchmark] = metrics). Budget-forced predictions are named
`MODEL@budgetN`.
"""

from __future__ import annotations

import json
from pathlib import Path

DATASET_STATS = "stats.json"
TRAINING_RECORD = "long1k_training.json"
SCORE_RESULTS = "results.json"
BUDGET_MARK = "@budget"


def read_json(path: Path) -> dict:
    from long1k.errors import Long1kError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Long1kError(f"{path}: not found") from None
    except json.JSONDecodeError as err:
        raise Long1kError(f"{path}: invalid JSON ({err.msg.removesuffix(' at')} at line {err.lineno})") from None


def dataset_stats(folder: str | Path) -> dict | None:
    """A dataset folder's stats.json, or None when it has none (a folder written by other code)."""
    path = Path(folder) / DATASET_STATS
    return read_json(path) if path.is_file() else None


def score_results(folder: str | Path) -> dict:
    """A score folder's results.json: results[grader][model][benchmark] = metrics."""
    from long1k.errors import Long1kError

    path = Path(folder) / SCORE_RESULTS
    record = read_json(path)
    if "results" not in record:
        raise Long1kError(f"{path}: no 'results' (not written by the score stage)")
    return record["results"]


def budget_model_name(model: str, budget: int) -> str:
    return f"{model}{BUDGET_MARK}{budget}"
